/**
 * Operand access for 64-bit mode: 16 registers of 64 bits (low halves in cpu.r32, high
 * halves in cpu.rh), operand sizes 1/2/4/8, and the memory operand of the instruction the
 * shared decoder put in cpu.lm.insn (ModRM/SIB, RIP-relative, FS/GS bases). Values of 8
 * bytes come back as the low half with the high half in insn.vh.
 */
import { FS, GS } from '../constants.js';
import type { Cpu } from '../cpu.js';
import type { DecodedInsn } from '../decoder/decoded-insn.js';
import type { Insn64 } from './insn64.js';
import { checkWritable64, readSized, writeSized } from './memory.js';

const SS = 2;

/** Decode the instruction at RIP into cpu.lm.insn (RIP left after it); #GP or #UD as the decoder finds. */
export function decode64(c: Cpu): DecodedInsn {
  const x = c.lm.insn;
  c.lm.stackRef = false;
  x.d = c.fetcher.next();
  return x.d;
}

/** An immediate of the operand size: imm16, or imm32 sign-extended to 64 (high half in vh). */
export function immZ(c: Cpu, size: number): number {
  const x = c.lm.insn;
  const v = x.d.imm;
  x.vh = size === 8 ? v >> 31 : 0;
  return v;
}

/** The 8-bit immediate sign-extended. */
export function immS8(d: DecodedInsn): number {
  return (d.imm << 24) >> 24;
}

/** Byte register index in cpu.r8: SPL..DIL with a REX prefix, AH..BH without. */
function byteIndex(d: DecodedInsn, r: number): number {
  return d.rex !== 0 || r < 4 ? r << 2 : ((r - 4) << 2) + 1;
}

export function getReg(c: Cpu, r: number, size: number): number {
  const x = c.lm.insn;
  switch (size) {
    case 8:
      x.vh = c.rh[r];
      return c.r32[r];
    case 4:
      x.vh = 0;
      return c.r32[r];
    case 2:
      x.vh = 0;
      return c.r16[r << 1];
    default:
      x.vh = 0;
      return c.r8[byteIndex(x.d, r)];
  }
}

/** Write a register: 32-bit writes zero the high half, 8/16-bit writes keep the rest. */
export function setReg(c: Cpu, r: number, size: number, lo: number, hi: number): void {
  switch (size) {
    case 8:
      c.r32[r] = lo;
      c.rh[r] = hi;
      return;
    case 4:
      c.r32[r] = lo;
      c.rh[r] = 0;
      return;
    case 2:
      c.r16[r << 1] = lo;
      return;
    default:
      c.r8[byteIndex(c.lm.insn.d, r)] = lo;
  }
}

/** ea += hi:lo (64-bit add of int32 halves). */
function addEa(x: Insn64, lo: number, hi: number): void {
  const s = (x.eaLo >>> 0) + (lo >>> 0);
  x.eaHi = (x.eaHi + hi + (s > 0xffffffff ? 1 : 0)) | 0;
  x.eaLo = s | 0;
}

/**
 * The linear address of the decoded memory operand into insn.eaLo/eaHi (nothing for a
 * register operand). Called where the instruction computes it, which matters for POP r/m
 * (after RSP moves). `lea` skips the FS/GS base.
 */
export function computeEa(c: Cpu, lea = false): void {
  const x = c.lm.insn;
  const d = x.d;
  if (d.mod === 3) return;
  if (d.ripRel) {
    // From the end of the instruction, which is where RIP is now.
    x.eaLo = c.ip;
    x.eaHi = c.lm.ripHi;
  } else if (d.base >= 0) {
    x.eaLo = c.r32[d.base];
    x.eaHi = c.rh[d.base];
  } else {
    x.eaLo = 0;
    x.eaHi = 0;
  }
  if (d.index >= 0) {
    const il = c.r32[d.index];
    const ih = c.rh[d.index];
    const s = d.scale;
    if (s === 0) addEa(x, il, ih);
    else addEa(x, il << s, (ih << s) | (il >>> (32 - s)));
  }
  addEa(x, d.disp, d.disp >> 31);
  if (d.addrSize !== 8) x.eaHi = 0;
  const seg = d.seg;
  if (seg >= 0 && !lea) addEa(x, c.segBase[seg], seg === FS ? c.lm.fsHi : c.lm.gsHi);
  // Only RSP/RBP-based references (not R12/R13) are stack references (#SS, not #GP).
  c.lm.stackRef = d.defSeg === SS && seg < 0;
}

/** Linear address of seg:offset for string/moffs operands (FS/GS base added). */
export function segAddr(c: Cpu, seg: number, lo: number, hi: number): void {
  const x = c.lm.insn;
  x.eaLo = lo;
  x.eaHi = hi;
  if (seg === FS || seg === GS) addEa(x, c.segBase[seg], seg === FS ? c.lm.fsHi : c.lm.gsHi);
}

export function setEa(c: Cpu, lo: number, hi: number): void {
  const x = c.lm.insn;
  x.eaLo = lo;
  x.eaHi = hi;
}

/** Read the r/m operand. */
export function readE(c: Cpu, size: number): number {
  const x = c.lm.insn;
  if (x.d.mod === 3) return getReg(c, x.d.rm, size);
  const v = readSized(c, x.eaHi, x.eaLo, size);
  x.vh = c.lm.readHi;
  return v;
}

/** Read the r/m operand of a read-modify-write instruction (memory checked for writing first). */
export function readEForWrite(c: Cpu, size: number): number {
  const x = c.lm.insn;
  if (x.d.mod === 3) return getReg(c, x.d.rm, size);
  checkWritable64(c, x.eaHi, x.eaLo, size, c.cpl === 3);
  const v = readSized(c, x.eaHi, x.eaLo, size);
  x.vh = c.lm.readHi;
  return v;
}

export function writeE(c: Cpu, size: number, lo: number, hi: number): void {
  const x = c.lm.insn;
  if (x.d.mod === 3) setReg(c, x.d.rm, size, lo, hi);
  else writeSized(c, x.eaHi, x.eaLo, size, lo, hi);
}

/** Set RIP (a near branch target, canonical-checked). */
export function setRip(c: Cpu, lo: number, hi: number): void {
  if ((hi << 16) >> 16 !== hi) c.gp(0);
  if (hi !== c.lm.ripHi) c.fetchSpan = -1;
  c.lm.ripHi = hi;
  c.ip = lo;
  c.branched = true;
}

/** RIP += signed 32-bit displacement. */
export function jumpRel(c: Cpu, d: number): void {
  const s = (c.ip >>> 0) + d;
  let hi = c.lm.ripHi;
  if (s > 0xffffffff) hi = (hi + 1) | 0;
  else if (s < 0) hi = (hi - 1) | 0;
  setRip(c, s | 0, hi);
}
