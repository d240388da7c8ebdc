/**
 * Building blocks for case generators: a draft case with random registers and flags, a
 * register allocator, and memory operands with varied addressing modes placed in a patch
 * window of the data region.
 */
import type { KnownBugId } from '../known-bugs.js';
import type { Rng } from '../prng.js';
import { EFLAGS_INPUT, ESP, REG16, REG32, REG8, type DiffCase, type FaultMasks, type FpuCheck } from '../case.js';
import { DATA_BASE, PATCH_MAX, STACK_TOP } from '../layout.js';

export type Size = 8 | 16 | 32;
export const SIZES: readonly Size[] = [8, 16, 32];
export const PTR: Record<Size, string> = { 8: 'byte', 16: 'word', 32: 'dword' };

export function regName(size: Size, index: number): string {
  return size === 8 ? REG8[index] : size === 16 ? REG16[index] : REG32[index];
}

export function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/** Sign-extend the low `bits` of v. */
export function signed(v: number, bits: Size): number {
  return bits === 32 ? v | 0 : (v << (32 - bits)) >> (32 - bits);
}

export function maskOf(bits: Size): number {
  return bits === 32 ? 0xffffffff : (1 << bits) - 1;
}

export class Draft {
  readonly regs: number[];
  eflags: number;
  readonly memSeed: number;
  /** Offset (in the data region) of the patch window memory operands are placed in. */
  readonly window: number;
  private readonly bytes = new Map<number, number>();
  private readonly used = new Set<number>();
  undefinedFlags = 0;
  undefinedRegBits: Partial<Record<number, number>> = {};
  undefinedMem: [number, number][] = [];
  expect: number | null | 'any' = null;
  fpu: FpuCheck | undefined = undefined;
  onFault: FaultMasks | undefined = undefined;
  knownBugs: KnownBugId[] | undefined = undefined;
  /** Initial XMM0-7 (128 bytes); undefined: the default fill (case.ts initialSse). */
  xmm: Uint8Array | undefined = undefined;
  /** Initial MXCSR; undefined: 0x1F80. */
  mxcsr: number | undefined = undefined;
  xmmUndefined: Partial<Record<number, bigint>> | undefined = undefined;
  mxcsrUndefined: number | undefined = undefined;
  fxsaveImages: number[] | undefined = undefined;

  constructor(readonly rng: Rng) {
    this.regs = [0, 1, 2, 3, 4, 5, 6, 7].map(() => rng.u32());
    this.regs[ESP] = STACK_TOP;
    this.eflags = 0x202 | (rng.u32() & EFLAGS_INPUT);
    this.memSeed = rng.u32() | 1;
    this.window = rng.int(0x1000 - PATCH_MAX);
  }

  /** Claim a specific register (so the allocator will not hand it out). */
  claim(index: number): number {
    this.used.add(index);
    return index;
  }

  /**
   * A free register for a `size`-bit operand. ESP is excluded unless allowed: as an operand
   * it is fine, but most cases want a valid stack. 8-bit registers map AH..BH onto 0-3.
   */
  reg(size: Size, allowEsp = false): number {
    for (let tries = 0; tries < 100; tries++) {
      const r = this.rng.int(8);
      const owner = size === 8 ? r & 3 : r;
      if (this.used.has(owner) || (owner === ESP && !allowEsp)) continue;
      if (size === 8) {
        // AL and AH share EAX: claim the whole register.
        this.used.add(owner);
      } else this.used.add(r);
      return r;
    }
    throw new Error('generator ran out of registers');
  }

  isFree(index: number): boolean {
    return !this.used.has(index);
  }

  /** Set the low `size` bits of register `index` (8-bit index: AL..BH) to v. */
  setReg(size: Size, index: number, v: number): void {
    if (size === 32) this.regs[index] = v >>> 0;
    else if (size === 16) this.regs[index] = ((this.regs[index] & 0xffff0000) | (v & 0xffff)) >>> 0;
    else if (index < 4) this.regs[index] = ((this.regs[index] & ~0xff) | (v & 0xff)) >>> 0;
    else this.regs[index - 4] = ((this.regs[index - 4] & ~0xff00) | ((v & 0xff) << 8)) >>> 0;
  }

  /** Write little-endian bytes at a data-region offset (must lie in the patch window). */
  poke(offset: number, value: number | bigint, size: number): void {
    let v = BigInt.asUintN(size * 8, BigInt(value));
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      if (o < this.window || o >= this.window + PATCH_MAX) throw new Error(`poke outside the patch window: ${o}`);
      this.bytes.set(o, Number(v & 0xffn));
      v >>= 8n;
    }
  }

  pokeBytes(offset: number, bytes: Uint8Array): void {
    bytes.forEach((b, i) => this.poke(offset + i, b, 1));
  }

  /** A data-region offset inside the patch window with room for `size` bytes. */
  slot(size: number, align = 1): number {
    const room = PATCH_MAX - size;
    let off = this.window + this.rng.int(room + 1);
    if (align > 1) off = Math.min(this.window + room, off + ((align - (off % align)) % align));
    if (off + size > this.window + PATCH_MAX) off -= align;
    return off;
  }

  /**
   * A memory operand for the data-region offset `offset`, addressed in one of several ways
   * (absolute, base+disp, base+index*scale+disp, EBP/ESP bases) using free registers.
   */
  memRef(offset: number): string {
    const addr = DATA_BASE + offset;
    const mode = this.rng.int(6);
    const disp = this.rng.pick([0, 0, 1, -1, 0x7f, -0x80, 0x1234, -0x4321]);
    const dispText = disp === 0 ? '' : disp > 0 ? `+${hex(disp)}` : `-${hex(-disp)}`;
    if (mode === 0) return `[${hex(addr)}]`;
    const candidates = [0, 1, 2, 3, 5, 6, 7].filter((r) => this.isFree(r));
    if (candidates.length === 0) return `[${hex(addr)}]`;
    const base = mode === 5 && this.isFree(ESP) ? ESP : this.rng.pick(candidates);
    this.claim(base);
    const rest = candidates.filter((r) => r !== base);
    if (mode >= 3 && rest.length > 0) {
      const index = this.rng.pick(rest);
      this.claim(index);
      const scale = this.rng.pick([1, 2, 4, 8]);
      const idx = this.rng.int(0x200) - 0x100;
      this.regs[index] = idx >>> 0;
      this.regs[base] = (addr - disp - idx * scale) >>> 0;
      return `[${REG32[base]}+${REG32[index]}*${scale}${dispText}]`;
    }
    this.regs[base] = (addr - disp) >>> 0;
    return `[${REG32[base]}${dispText}]`;
  }

  /** Random initial arithmetic flags and DF. */
  randomFlags(): void {
    this.eflags = 0x202 | (this.rng.u32() & EFLAGS_INPUT);
  }

  finish(family: string, asm: string): DiffCase {
    const offsets = [...this.bytes.keys()];
    let patch: DiffCase['patch'];
    if (offsets.length > 0) {
      const lo = Math.min(...offsets);
      const hi = Math.max(...offsets);
      const bytes = new Uint8Array(hi - lo + 1);
      for (let i = 0; i < bytes.length; i++) bytes[i] = this.bytes.get(lo + i) ?? this.rng.int(256);
      patch = { offset: lo, bytes };
    }
    return {
      family,
      asm,
      regs: this.regs.slice(),
      eflags: this.eflags,
      memSeed: this.memSeed,
      patch,
      undefinedFlags: this.undefinedFlags,
      undefinedRegBits: this.undefinedRegBits,
      undefinedMem: this.undefinedMem,
      expect: this.expect,
      fpu: this.fpu,
      onFault: this.onFault,
      knownBugs: this.knownBugs,
      xmm: this.xmm,
      mxcsr: this.mxcsr,
      xmmUndefined: this.xmmUndefined,
      mxcsrUndefined: this.mxcsrUndefined,
      fxsaveImages: this.fxsaveImages,
    };
  }
}
