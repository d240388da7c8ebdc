/**
 * Randomness for the differential tests. Case generation uses a seeded PRNG so that a
 * failing run reproduces from its printed seed; the data region is filled by xorshift32,
 * which native/harness.c implements identically (fill_data), so only a 4-byte seed per case
 * crosses to the native side instead of the whole region.
 */
import { DATA_SIZE } from './layout.js';

/** sfc32: small, fast, good enough for test inputs, and exactly reproducible. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed | 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }

  bool(p = 0.5): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /**
   * An operand of `bits` bits, biased toward the values where flags and carries change:
   * 0, 1, all ones, the sign boundary, and their neighbours. Returned as an unsigned number.
   */
  operand(bits: 8 | 16 | 32): number {
    const mask = bits === 32 ? 0xffffffff : (1 << bits) - 1;
    const sign = 2 ** (bits - 1);
    const r = this.int(16);
    let v: number;
    if (r < 5) v = this.u32();
    else if (r < 11) v = this.pick([0, 1, 2, mask, mask - 1, sign, sign - 1, sign + 1, 0x0f, 0x10, 0x99, 0x9a, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff]);
    else if (r < 13) v = 2 ** this.int(bits); // one bit set
    else if (r < 15) v = this.int(16); // small
    else v = mask - this.int(16); // small negative
    return (v & mask) >>> 0;
  }

  /** A full 32-bit register value whose low `bits` are an edge-biased operand. */
  reg(bits: 8 | 16 | 32): number {
    if (bits === 32) return this.operand(32);
    const mask = (1 << bits) - 1;
    return ((this.u32() & ~mask) | this.operand(bits)) >>> 0;
  }
}

/** The initial contents of the data region for a case seed (see harness.c fill_data). */
export function fillData(seed: number, size = DATA_SIZE): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let x = seed >>> 0 !== 0 ? seed >>> 0 : 0x9e3779b9;
  for (let i = 0; i < size; i += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    view.setUint32(i, x, true);
  }
  return out;
}
