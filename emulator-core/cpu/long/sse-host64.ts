/**
 * The SSE unit's view of the CPU in 64-bit mode: 64-bit linear operand addresses (RIP-
 * relative included, FS/GS bases added), sixteen general registers with REX.
 */
import { AF, CF, OF, PF, SF, ZF } from '../constants.js';
import type { Cpu } from '../cpu.js';
import type { DecodedInsn } from '../decoder/decoded-insn.js';
import type { SseHost } from '../sse/sse-host.js';
import { computeEa, segAddr, setReg } from './decode.js';
import { checkCanonical, checkWritable64, readSized, writeSized } from './memory.js';

const ARITH = OF | SF | ZF | AF | PF | CF;

/** An operand whose last byte leaves the canonical half faults with #GP(0)/#SS(0) before any page walk, as the CPU does. */
function lastCanonical(c: Cpu, hi: number, lo: number, n: number): void {
  const s = (lo >>> 0) + n - 1;
  checkCanonical(c, s > 0xffffffff ? (hi + 1) | 0 : hi);
}

export class LongSseHost implements SseHost {
  readonly long = true;

  constructor(private readonly c: Cpu) {}

  get cr0(): number {
    return this.c.cr0;
  }

  get cr4(): number {
    return this.c.cr4;
  }

  begin(d: DecodedInsn): void {
    if (d.mod !== 3) computeEa(this.c);
  }

  beginDi(d: DecodedInsn): void {
    const c = this.c;
    segAddr(c, d.seg, c.r32[7]!, d.addrSize === 8 ? c.rh[7]! : 0);
  }

  memRead(u8: Uint8Array, at: number, n: number, disp = 0): void {
    const c = this.c;
    const x = c.lm.insn;
    let lo = x.eaLo;
    let hi = x.eaHi;
    if (disp !== 0) {
      const s = (lo >>> 0) + disp;
      if (s > 0xffffffff) hi = (hi + 1) | 0;
      lo = s | 0;
    }
    lastCanonical(c, hi, lo, n); // 2-byte operands too (PMOVSXBQ, CRC32 r/m16, MOVBE m16)
    if (n < 4) {
      const v = readSized(c, hi, lo, n);
      u8[at] = v;
      if (n === 2) u8[at + 1] = v >>> 8;
      return;
    }
    for (let k = 0; k < n; k += 4) {
      const s = (lo >>> 0) + k;
      const v = readSized(c, s > 0xffffffff ? (hi + 1) | 0 : hi, s | 0, 4);
      u8[at + k] = v;
      u8[at + k + 1] = v >>> 8;
      u8[at + k + 2] = v >>> 16;
      u8[at + k + 3] = v >>> 24;
    }
  }

  memCheckWrite(n: number, disp = 0): void {
    const x = this.c.lm.insn;
    const s = (x.eaLo >>> 0) + disp;
    checkWritable64(this.c, s > 0xffffffff ? (x.eaHi + 1) | 0 : x.eaHi, s | 0, n, this.c.cpl === 3);
  }

  memWrite(u8: Uint8Array, at: number, n: number, disp = 0): void {
    const c = this.c;
    const x = c.lm.insn;
    const t = (x.eaLo >>> 0) + disp;
    const lo = t | 0;
    const hi = t > 0xffffffff ? (x.eaHi + 1) | 0 : x.eaHi;
    lastCanonical(c, hi, lo, n);
    if (n < 4) {
      writeSized(c, hi, lo, n, n === 1 ? u8[at]! : u8[at]! | (u8[at + 1]! << 8), 0);
      return;
    }
    checkWritable64(c, hi, lo, n, c.cpl === 3);
    for (let k = 0; k < n; k += 4) {
      const s = (lo >>> 0) + k;
      const v = u8[at + k]! | (u8[at + k + 1]! << 8) | (u8[at + k + 2]! << 16) | (u8[at + k + 3]! << 24);
      writeSized(c, s > 0xffffffff ? (hi + 1) | 0 : hi, s | 0, 4, v, 0);
    }
  }

  memLow(): number {
    return this.c.lm.insn.eaLo;
  }

  gpr(r: number): number {
    return this.c.r32[r]!;
  }

  gprHi(r: number): number {
    return this.c.rh[r]!;
  }

  setGpr(r: number, size: 4 | 8, lo: number, hi: number): void {
    setReg(this.c, r, size, lo, hi);
  }

  setArithFlags(flags: number): void {
    this.c.setEflags(flags, ARITH);
  }

  raise(vector: number, code = -1): never {
    return this.c.raise(vector, code);
  }

  undefinedOpcode(): never {
    return this.c.undefinedOpcode();
  }
}
