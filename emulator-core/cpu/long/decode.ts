/**
 * Decoder state and operand access for 64-bit mode: prefixes (legacy, REX), ModRM/SIB with
 * RIP-relative addressing, 16 registers of 64 bits (low halves in cpu.r32, high halves in
 * cpu.rh), operand sizes 1/2/4/8. One instruction is decoded at a time into the
 * module-level fields below, so nothing is allocated per instruction.
 */
import { FS, GS } from '../constants.js';
import type { Cpu } from '../cpu.js';
import { checkWritable64, fetchByte, H, readSized, setStackRef, writeSized } from './memory.js';

/** REX prefix byte of the current instruction, or 0. */
export let rex = 0;
/** Operand size in bytes (2, 4 or 8). */
export let osz = 4;
/** 0x66 was present. */
export let p66 = false;
/** Address size 64 (false: 0x67, 32-bit). */
export let a64 = true;
/** FS or GS override, or -1 (other segment overrides do nothing in 64-bit mode). */
export let segOv = -1;
/** 0, 0xf2 or 0xf3. */
export let rep = 0;
/** A LOCK prefix was present. */
export let lock = false;
export let modrm = 0;
/** Linear address of the decoded memory operand. */
export let eaLo = 0;
export let eaHi = 0;
/** High half of the last value read by getReg/readE. */
export let VH = 0;

/** Read the prefixes; returns the opcode byte. */
export function decodePrefixes(c: Cpu): number {
  rex = 0;
  p66 = false;
  a64 = true;
  segOv = -1;
  rep = 0;
  lock = false;
  setStackRef(false);
  let op = fetchByte(c);
  for (let n = 0; ; n++) {
    if (n >= 14) c.gp(0); // longer than 15 bytes
    if ((op & 0xf0) === 0x40) {
      rex = op;
      op = fetchByte(c);
      continue;
    }
    switch (op) {
      case 0x66:
        p66 = true;
        break;
      case 0x67:
        a64 = false;
        break;
      case 0x26:
      case 0x2e:
      case 0x36:
      case 0x3e:
        break;
      case 0x64:
        segOv = FS;
        break;
      case 0x65:
        segOv = GS;
        break;
      case 0xf0:
        lock = true;
        break;
      case 0xf2:
      case 0xf3:
        rep = op;
        break;
      default:
        osz = (rex & 8) !== 0 ? 8 : p66 ? 2 : 4;
        return op;
    }
    // A REX prefix followed by a legacy prefix is ignored.
    rex = 0;
    op = fetchByte(c);
  }
}

/** A ModRM value for instructions without one (EMMS): register form. */
export function setModrm(v: number): void {
  modrm = v;
}

export function setOsz(size: number): void {
  osz = size;
}

export function fetch8(c: Cpu): number {
  return fetchByte(c);
}

export function fetchS8(c: Cpu): number {
  return (fetchByte(c) << 24) >> 24;
}

export function fetch16(c: Cpu): number {
  const a = fetchByte(c);
  return a | (fetchByte(c) << 8);
}

export function fetch32(c: Cpu): number {
  const a = fetchByte(c);
  const b = fetchByte(c);
  const d = fetchByte(c);
  return a | (b << 8) | (d << 16) | (fetchByte(c) << 24);
}

/** Immediate of the operand size: imm16, or imm32 sign-extended to 64 (high half in VH). */
export function fetchImmZ(c: Cpu, size: number): number {
  if (size === 2) {
    VH = 0;
    return fetch16(c);
  }
  const v = fetch32(c);
  VH = size === 8 ? v >> 31 : 0;
  return v;
}

/** Byte register index in cpu.r8: SPL..DIL with a REX prefix, AH..BH without. */
export function byteIndex(r: number): number {
  return rex !== 0 || r < 4 ? r << 2 : ((r - 4) << 2) + 1;
}

export function getReg(c: Cpu, r: number, size: number): number {
  switch (size) {
    case 8:
      VH = c.rh[r];
      return c.r32[r];
    case 4:
      VH = 0;
      return c.r32[r];
    case 2:
      VH = 0;
      return c.r16[r << 1];
    default:
      VH = 0;
      return c.r8[byteIndex(r)];
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
      c.r8[byteIndex(r)] = lo;
  }
}

/** ModRM reg field with REX.R. */
export function regField(): number {
  return ((modrm >> 3) & 7) | ((rex & 4) << 1);
}

/** ModRM rm field with REX.B (register operands). */
export function rmField(): number {
  return (modrm & 7) | ((rex & 1) << 3);
}

let tLo = 0;
let tHi = 0;

function addT(lo: number, hi: number): void {
  const s = (tLo >>> 0) + (lo >>> 0);
  tHi = (tHi + hi + (s > 0xffffffff ? 1 : 0)) | 0;
  tLo = s | 0;
}

/**
 * Fetch ModRM; for memory forms decode the address into eaLo/eaHi. `imm` is the number of
 * immediate bytes after the displacement (RIP-relative addresses count from the end of the
 * instruction). `lea` skips the FS/GS base.
 */
export function decodeModrm(c: Cpu, imm: number, lea = false): void {
  modrm = fetchByte(c);
  if (modrm < 0xc0) decodeEa(c, imm, lea);
}

export function decodeEa(c: Cpu, imm: number, lea: boolean): void {
  const mod = modrm >> 6;
  const rm = modrm & 7;
  const r32 = c.r32;
  const rh = c.rh;
  tLo = 0;
  tHi = 0;
  let stack = false;
  if (rm === 4) {
    const sib = fetchByte(c);
    const b = sib & 7;
    const base = b | ((rex & 1) << 3);
    const index = ((sib >> 3) & 7) | ((rex & 2) << 2);
    const scale = sib >> 6;
    if (b === 5 && mod === 0) {
      const d = fetch32(c);
      tLo = d;
      tHi = d >> 31;
    } else {
      tLo = r32[base];
      tHi = rh[base];
      stack = base === 4 || base === 5;
    }
    if (index !== 4) {
      const il = r32[index];
      const ih = rh[index];
      if (scale === 0) addT(il, ih);
      else addT(il << scale, (ih << scale) | (il >>> (32 - scale)));
    }
  } else if (rm === 5 && mod === 0) {
    const d = fetch32(c);
    // RIP-relative: from the end of the instruction.
    tLo = c.ip;
    tHi = c.lm.ripHi;
    addT(imm, 0);
    addT(d, d >> 31);
  } else {
    const base = rm | ((rex & 1) << 3);
    tLo = r32[base];
    tHi = rh[base];
    stack = base === 5;
  }
  if (mod === 1) {
    const d = fetchS8(c);
    addT(d, d >> 31);
  } else if (mod === 2) {
    const d = fetch32(c);
    addT(d, d >> 31);
  }
  if (!a64) tHi = 0;
  if (segOv >= 0 && !lea) {
    const b = c.segBase[segOv];
    addT(b, segOv === FS ? c.lm.fsHi : c.lm.gsHi);
  }
  eaLo = tLo;
  eaHi = tHi;
  setStackRef(stack && segOv < 0);
}

/** Linear address of seg:offset for string/moffs operands (FS/GS base added). */
export function segAddr(c: Cpu, seg: number, lo: number, hi: number): void {
  tLo = lo;
  tHi = hi;
  if (seg === FS || seg === GS) addT(c.segBase[seg], seg === FS ? c.lm.fsHi : c.lm.gsHi);
  eaLo = tLo;
  eaHi = tHi;
}

export function setEa(lo: number, hi: number): void {
  eaLo = lo;
  eaHi = hi;
}

/** Read the r/m operand. */
export function readE(c: Cpu, size: number): number {
  if (modrm >= 0xc0) return getReg(c, rmField(), size);
  const v = readSized(c, eaHi, eaLo, size);
  VH = H;
  return v;
}

/** Read the r/m operand of a read-modify-write instruction (memory checked for writing first). */
export function readEForWrite(c: Cpu, size: number): number {
  if (modrm >= 0xc0) return getReg(c, rmField(), size);
  checkWritable64(c, eaHi, eaLo, size, c.cpl === 3);
  const v = readSized(c, eaHi, eaLo, size);
  VH = H;
  return v;
}

export function writeE(c: Cpu, size: number, lo: number, hi: number): void {
  if (modrm >= 0xc0) setReg(c, rmField(), size, lo, hi);
  else writeSized(c, eaHi, eaLo, size, lo, hi);
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
