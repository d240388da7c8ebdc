/**
 * Long-mode system operations (SDM vol. 3 §5.8.8, §6.14, vol. 2 IRET/SYSCALL/SYSRET):
 * 64-bit stack, IDT gates of 16 bytes with IST and the 64-bit TSS stacks, IRETQ, far
 * transfers to 64-bit and compatibility code segments, segment loads, SYSCALL/SYSRET,
 * SWAPGS, and 10-byte descriptor-table registers with 16-byte LDT/TSS descriptors.
 */
import {
  AC,
  AF,
  AR_DB,
  AR_G,
  AR_L,
  AR_P,
  AR_S,
  AR_UNUSABLE,
  CF,
  CS,
  DF,
  DS,
  EFER_LMA,
  EFER_SCE,
  ES,
  EXC_NP,
  EXC_SS,
  EXC_TS,
  FS,
  GS,
  ID,
  IF,
  IOPL,
  LDTR,
  NT,
  OF,
  PF,
  RF,
  SF,
  SS,
  TF,
  TR,
  VIF,
  VIP,
  VM,
  ZF,
} from '../constants.js';
import type { Cpu } from '../cpu.js';
import { checkWritable64, read64, readN, readSized, write64, writeN, writeSized } from './memory.js';
import { larOf, lslOf, verrOf, verwOf } from '../protected.js';

// ------------------------------------------------------------------ stack (64-bit mode)

/** Push `size` (2 or 8, or 4 for frames of 32-bit operands) bytes at RSP. */
export function push(c: Cpu, size: number, lo: number, hi: number): void {
  const s = (c.r32[4] >>> 0) - size;
  const nl = s | 0;
  const nh = s < 0 ? (c.rh[4] - 1) | 0 : c.rh[4];
  c.lm.stackRef = true;
  writeSized(c, nh, nl, size, lo, hi);
  c.r32[4] = nl;
  c.rh[4] = nh;
}

/** Read `size` bytes at RSP + delta (no RSP change); high half in c.lm.readHi. */
export function stackRead(c: Cpu, size: number, delta: number): number {
  const s = (c.r32[4] >>> 0) + delta;
  const nh = s > 0xffffffff ? (c.rh[4] + 1) | 0 : c.rh[4];
  c.lm.stackRef = true;
  return readSized(c, nh, s | 0, size);
}

/** RSP += n. */
export function addRsp(c: Cpu, n: number): void {
  const s = (c.r32[4] >>> 0) + n;
  if (s > 0xffffffff) c.rh[4] = (c.rh[4] + 1) | 0;
  else if (s < 0) c.rh[4] = (c.rh[4] - 1) | 0;
  c.r32[4] = s | 0;
}

export function pop(c: Cpu, size: number): number {
  const v = stackRead(c, size, 0);
  const h = c.lm.readHi;
  addRsp(c, size);
  c.lm.popHi = h;
  return v;
}

// ------------------------------------------------------------------ descriptors

let dLo = 0;
let dHi = 0;
let dAddrLo = 0;
let dAddrHi = 0;

function fetchDescriptor(c: Cpu, sel: number): boolean {
  let baseLo: number;
  let baseHi: number;
  let limit: number;
  if ((sel & 4) !== 0) {
    if ((c.segAccess[LDTR] & AR_P) === 0 || (c.segAccess[LDTR] & AR_UNUSABLE) !== 0) return false;
    baseLo = c.segBase[LDTR];
    baseHi = c.lm.ldtHi;
    limit = c.segLimit[LDTR] >>> 0;
  } else {
    baseLo = c.gdtBase;
    baseHi = c.lm.gdtHi;
    limit = c.gdtLimit;
  }
  const off = sel & ~7;
  if (off + 7 > limit) return false;
  const s = (baseLo >>> 0) + off;
  dAddrLo = s | 0;
  dAddrHi = s > 0xffffffff ? (baseHi + 1) | 0 : baseHi;
  dLo = readN(c, dAddrHi, dAddrLo, 4, false);
  dHi = readN(c, dAddrHi, (dAddrLo + 4) | 0, 4, false);
  return true;
}

/**
 * LAR, LSL, VERR, VERW with the IA-32e descriptor tables (64-bit bases). Linux's MDS
 * mitigation runs VERW on every return to user mode, with the GDT above 4 GiB.
 */
export function lar64(c: Cpu, sel: number): number | null {
  return (sel & ~3) !== 0 && fetchDescriptor(c, sel) ? larOf(c, sel, dHi, true) : null;
}

export function lsl64(c: Cpu, sel: number): number | null {
  return (sel & ~3) !== 0 && fetchDescriptor(c, sel) ? lslOf(c, sel, dLo, dHi, true) : null;
}

export function verr64(c: Cpu, sel: number): boolean {
  return (sel & ~3) !== 0 && fetchDescriptor(c, sel) && verrOf(c, sel, dHi);
}

export function verw64(c: Cpu, sel: number): boolean {
  return (sel & ~3) !== 0 && fetchDescriptor(c, sel) && verwOf(c, sel, dHi);
}

/** Upper 8 bytes of a 16-byte system descriptor (base 63:32). */
function fetchDescriptorHigh(c: Cpu): number {
  return readN(c, dAddrHi, (dAddrLo + 8) | 0, 4, false);
}

function setAccessed(c: Cpu): void {
  if ((dHi & 0x100) === 0) {
    dHi |= 0x100;
    // A system access: user code loading a segment still sets the bit in a supervisor page.
    writeN(c, dAddrHi, (dAddrLo + 5) | 0, 1, (dHi >>> 8) & 0xff, false);
  }
}

function descBase(): number {
  return (dLo >>> 16) | ((dHi & 0xff) << 16) | (dHi & 0xff000000);
}

function descLimit(): number {
  const raw = (dLo & 0xffff) | (dHi & 0xf0000);
  return (dHi & 0x800000) !== 0 ? (raw << 12) | 0xfff : raw;
}

function descAccess(): number {
  return (dHi >>> 8) & 0xf0ff;
}

function dpl(access: number): number {
  return (access >> 5) & 3;
}

function setSeg(c: Cpu, seg: number, sel: number, base: number, limit: number, access: number): void {
  c.segSel[seg] = sel;
  c.segBase[seg] = base;
  c.segLimit[seg] = limit;
  c.segAccess[seg] = access;
  if (seg === FS) c.lm.fsHi = 0;
  else if (seg === GS) c.lm.gsHi = 0;
  c.updateSegCheck(seg);
}

/** A null SS in 64-bit mode (allowed at CPL < 3): selector RPL, DPL = cpl. */
function nullStack(c: Cpu, sel: number, cpl: number): void {
  c.segSel[SS] = sel;
  c.segBase[SS] = 0;
  c.segLimit[SS] = -1;
  c.segAccess[SS] = AR_UNUSABLE | (cpl << 5) | AR_DB;
  c.updateSegCheck(SS);
}

/** Load CS from the descriptor in dLo/dHi at privilege `cpl`. */
function setCodeSegment(c: Cpu, sel: number, cpl: number): void {
  setSeg(c, CS, (sel & ~3) | cpl, descBase(), descLimit(), descAccess());
  c.cpl = cpl;
  c.updateMode();
}

/** MOV Sreg / POP Sreg in 64-bit mode (DS, ES, SS, FS, GS). */
export function loadSegment64(c: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if ((sel & ~3) === 0) {
    if (seg === SS) {
      if (c.cpl === 3 || (sel & 3) !== c.cpl) c.gp(0);
      nullStack(c, sel, c.cpl);
      c.updateMode();
      return;
    }
    // A null selector in FS/GS also clears the base (as current Intel CPUs do).
    setSeg(c, seg, sel, 0, 0, AR_UNUSABLE);
    return;
  }
  if (!fetchDescriptor(c, sel)) c.gp(sel & 0xfffc);
  const access = descAccess();
  const type = access & 0xf;
  if (seg === SS) {
    if ((sel & 3) !== c.cpl || (access & AR_S) === 0 || (type & 0xa) !== 0x2 || dpl(access) !== c.cpl) c.gp(sel & 0xfffc);
    if ((access & AR_P) === 0) c.raise(EXC_SS, sel & 0xfffc);
  } else {
    if ((access & AR_S) === 0 || (type & 0xa) === 0x8) c.gp(sel & 0xfffc);
    if ((type & 0xc) !== 0xc && (dpl(access) < c.cpl || dpl(access) < (sel & 3))) c.gp(sel & 0xfffc);
    if ((access & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
  }
  setAccessed(c);
  setSeg(c, seg, sel, descBase(), descLimit(), descAccess());
  if (seg === SS) c.updateMode();
}

// ------------------------------------------------------------------ interrupts

/** Current RIP as (lo, return hi in ripOutHi): in compatibility mode EIP zero-extended. */
let ripOutHi = 0;
function currentRip(c: Cpu): number {
  if (c.mode64) {
    ripOutHi = c.lm.ripHi;
    return c.ip;
  }
  ripOutHi = 0;
  return c.eip;
}

/**
 * Deliver interrupt/exception `vector` through a 64-bit IDT gate (used whenever
 * EFER.LMA = 1, from 64-bit and compatibility mode).
 */
export function deliverInterrupt64(c: Cpu, vector: number, software: boolean, errorCode: number, ext: boolean): void {
  c.halted = false;
  const extBit = ext ? 1 : 0;
  const off = vector << 4;
  if (off + 15 > c.idtLimit) c.gp(off + 2 + extBit);
  const s = (c.idtBase >>> 0) + off;
  const gHi = s > 0xffffffff ? (c.lm.idtHi + 1) | 0 : c.lm.idtHi;
  const gLo = s | 0;
  const g0 = readN(c, gHi, gLo, 4, false);
  const g1 = readN(c, gHi, (gLo + 4) | 0, 4, false);
  const g2 = readN(c, gHi, (gLo + 8) | 0, 4, false);
  const type = (g1 >>> 8) & 0x1f;
  if (type !== 0xe && type !== 0xf) c.gp(off + 2 + extBit);
  if (software && ((g1 >>> 13) & 3) < c.cpl) c.gp(off + 2);
  if ((g1 & 0x8000) === 0) c.raise(EXC_NP, off + 2 + extBit);
  const target = g0 >>> 16;
  const ripLo = (g0 & 0xffff) | (g1 & 0xffff0000);
  const ripHi = g2;
  const ist = g1 & 7;
  if ((target & ~3) === 0) c.gp(extBit);
  if (!fetchDescriptor(c, target)) c.gp((target & 0xfffc) + extBit);
  const tacc = descAccess();
  if ((tacc & AR_S) === 0 || (tacc & 0x8) === 0 || (tacc & AR_L) === 0 || (tacc & AR_DB) !== 0 || dpl(tacc) > c.cpl) c.gp((target & 0xfffc) + extBit);
  if ((tacc & AR_P) === 0) c.raise(EXC_NP, (target & 0xfffc) + extBit);
  if ((ripHi << 16) >> 16 !== ripHi) c.gp(extBit);
  const conforming = (tacc & 0x4) !== 0;
  const newCpl = conforming ? c.cpl : dpl(tacc);
  const oldRipLo = currentRip(c);
  const oldRipHi = ripOutHi;
  const oldFlags = c.getEflags();
  const oldCs = c.segSel[CS];
  const oldSs = c.segSel[SS];
  const oldRspLo = c.r32[4];
  const oldRspHi = c.mode64 ? c.rh[4] : 0;
  let rspLo = oldRspLo;
  let rspHi = oldRspHi;
  if (newCpl < c.cpl || ist !== 0) {
    const tssOff = ist !== 0 ? 0x24 + (ist - 1) * 8 : 4 + newCpl * 8;
    if (tssOff + 7 > c.segLimit[TR] >>> 0) c.raise(EXC_TS, (c.segSel[TR] & 0xfffc) + extBit);
    const t = (c.segBase[TR] >>> 0) + tssOff;
    rspLo = read64(c, t > 0xffffffff ? (c.lm.trHi + 1) | 0 : c.lm.trHi, t | 0, false);
    rspHi = c.lm.readHi;
    if ((rspHi << 16) >> 16 !== rspHi) c.raise(EXC_SS, extBit);
  }
  rspLo &= ~0xf;
  const frame = errorCode >= 0 ? 48 : 40;
  const s2 = (rspLo >>> 0) - frame;
  const fLo = s2 | 0;
  const fHi = s2 < 0 ? (rspHi - 1) | 0 : rspHi;
  const user = newCpl === 3;
  c.lm.stackRef = true;
  checkWritable64(c, fHi, fLo, frame, user);
  const p = errorCode >= 0 ? fLo + 8 : fLo;
  // Frame (low to high): [error code], RIP, CS, RFLAGS, RSP, SS (16-byte aligned, so no
  // part of it crosses 4 GiB boundaries of the low half).
  if (errorCode >= 0) write64(c, fHi, fLo, errorCode, 0, user);
  write64(c, fHi, p, oldRipLo, oldRipHi, user);
  write64(c, fHi, (p + 8) | 0, oldCs, 0, user);
  write64(c, fHi, (p + 16) | 0, oldFlags, 0, user);
  write64(c, fHi, (p + 24) | 0, oldRspLo, oldRspHi, user);
  write64(c, fHi, (p + 32) | 0, oldSs, 0, user);
  if (newCpl < c.cpl) nullStack(c, newCpl, newCpl);
  setCodeSegment(c, target, newCpl);
  c.r32[4] = fLo;
  c.rh[4] = fHi;
  c.fetchSpan = -1;
  c.lm.ripHi = ripHi;
  c.ip = ripLo;
  c.branched = true;
  let clear = TF | NT | RF | VM;
  if (type === 0xe) clear |= IF;
  c.setEflags(0, clear);
}

/** IRET with operand size 2, 4 or 8 in 64-bit mode. */
export function iret64(c: Cpu, size: number): void {
  if ((c.flags & NT) !== 0) c.gp(0);
  const ripLo = stackRead(c, size, 0);
  const ripHi = size === 8 ? c.lm.readHi : 0;
  const cs = stackRead(c, size, size) & 0xffff;
  const fl = stackRead(c, size, size * 2);
  const rspLo = stackRead(c, size, size * 3);
  const rspHi = size === 8 ? c.lm.readHi : 0;
  const ss = stackRead(c, size, size * 4) & 0xffff;
  if ((cs & ~3) === 0) c.gp(0);
  const rpl = cs & 3;
  if (rpl < c.cpl) c.gp(cs & 0xfffc);
  if (!fetchDescriptor(c, cs)) c.gp(cs & 0xfffc);
  const acc = descAccess();
  if ((acc & AR_S) === 0 || (acc & 0x8) === 0) c.gp(cs & 0xfffc);
  const conforming = (acc & 0x4) !== 0;
  if (conforming ? dpl(acc) > rpl : dpl(acc) !== rpl) c.gp(cs & 0xfffc);
  if ((acc & AR_P) === 0) c.raise(EXC_NP, cs & 0xfffc);
  const to64 = (acc & AR_L) !== 0 && (acc & AR_DB) === 0;
  if (to64 && (ripHi << 16) >> 16 !== ripHi) c.gp(0);
  if (!to64 && ripLo >>> 0 > descLimit() >>> 0) c.gp(0);
  const csLo = dLo;
  const csHi = dHi;
  // The stack segment.
  let ssDesc = false;
  let sLo = 0;
  let sHi = 0;
  if ((ss & ~3) === 0) {
    if (!to64 || rpl === 3 || (ss & 3) !== rpl) c.gp(0);
  } else {
    if ((ss & 3) !== rpl || !fetchDescriptor(c, ss)) c.gp(ss & 0xfffc);
    const sa = descAccess();
    if ((sa & AR_S) === 0 || (sa & 0xa) !== 0x2 || dpl(sa) !== rpl) c.gp(ss & 0xfffc);
    if ((sa & AR_P) === 0) c.raise(EXC_SS, ss & 0xfffc);
    ssDesc = true;
    sLo = dLo;
    sHi = dHi;
  }
  let mask = CF | PF | AF | ZF | SF | TF | DF | OF | NT | RF | AC | ID;
  const iopl = (c.flags & IOPL) >>> 12;
  if (c.cpl === 0) mask |= IOPL | VIF | VIP;
  if (c.cpl <= iopl) mask |= IF;
  if (size === 2) mask &= 0xffff;
  const oldCpl = c.cpl;
  // Commit.
  if (ssDesc) {
    dLo = sLo;
    dHi = sHi;
    setSeg(c, SS, ss, descBase(), descLimit(), descAccess());
  } else nullStack(c, ss, rpl);
  dLo = csLo;
  dHi = csHi;
  setCodeSegment(c, cs, rpl);
  c.setEflags(fl, mask);
  c.r32[4] = size === 2 ? (c.r32[4] & ~0xffff) | (rspLo & 0xffff) : rspLo;
  if (size !== 2) c.rh[4] = rspHi;
  if (rpl > oldCpl) nullifyDataSegments(c);
  setRipAfterTransfer(c, ripLo, to64 ? ripHi : 0);
}

/** After CS changed: RIP in 64-bit mode, or EIP within the new CS in compatibility mode. */
function setRipAfterTransfer(c: Cpu, lo: number, hi: number): void {
  c.fetchSpan = -1;
  if (c.mode64) {
    c.lm.ripHi = hi;
    c.ip = lo;
  } else {
    c.lm.ripHi = 0;
    c.ip = (c.segBase[CS] + lo) | 0;
  }
  c.branched = true;
}

function nullifyDataSegments(c: Cpu): void {
  for (let seg = 0; seg < 6; seg++) {
    if (seg !== ES && seg !== DS && seg !== FS && seg !== GS) continue;
    const a = c.segAccess[seg];
    if ((a & AR_UNUSABLE) !== 0) continue;
    if (((a & 0x8) === 0 || (a & 0x4) === 0) && dpl(a) < c.cpl) setSeg(c, seg, 0, 0, 0, AR_UNUSABLE);
  }
}

// ------------------------------------------------------------------ far transfers

/** Load CS for a far JMP/CALL/RET to a code segment at the current privilege. */
function loadCodeDirect(c: Cpu, sel: number, ripLo: number, ripHi: number): void {
  if ((sel & ~3) === 0) c.gp(0);
  if (!fetchDescriptor(c, sel)) c.gp(sel & 0xfffc);
  const acc = descAccess();
  // Call gates (16 bytes in long mode) and task gates are not modelled here.
  if ((acc & AR_S) === 0 || (acc & 0x8) === 0) c.gp(sel & 0xfffc);
  const conforming = (acc & 0x4) !== 0;
  if (conforming ? dpl(acc) > c.cpl : (sel & 3) > c.cpl || dpl(acc) !== c.cpl) c.gp(sel & 0xfffc);
  if ((acc & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
  const to64 = (acc & AR_L) !== 0 && (acc & AR_DB) === 0;
  if (to64 && (ripHi << 16) >> 16 !== ripHi) c.gp(0);
  if (!to64 && ripLo >>> 0 > descLimit() >>> 0) c.gp(0);
  setAccessed(c);
  setCodeSegment(c, sel, c.cpl);
  setRipAfterTransfer(c, ripLo, to64 ? ripHi : 0);
}

export function farJump64(c: Cpu, sel: number, ripLo: number, ripHi: number): void {
  loadCodeDirect(c, sel, ripLo, ripHi);
}

export function farCall64(c: Cpu, sel: number, ripLo: number, ripHi: number, size: number): void {
  const retLo = c.ip;
  const retHi = c.lm.ripHi;
  const oldCs = c.segSel[CS];
  // Check both pushes before anything changes.
  const s = (c.r32[4] >>> 0) - size * 2;
  c.lm.stackRef = true;
  checkWritable64(c, s < 0 ? (c.rh[4] - 1) | 0 : c.rh[4], s | 0, size * 2, c.cpl === 3);
  const rsp0 = c.r32[4];
  const rsp0h = c.rh[4];
  push(c, size, oldCs, 0);
  push(c, size, retLo, retHi);
  try {
    loadCodeDirect(c, sel, ripLo, ripHi);
  } catch (e) {
    c.r32[4] = rsp0;
    c.rh[4] = rsp0h;
    throw e;
  }
}

/** RETF [imm16] with operand size 2, 4 or 8. */
export function farRet64(c: Cpu, size: number, imm: number): void {
  const ripLo = stackRead(c, size, 0);
  const ripHi = size === 8 ? c.lm.readHi : 0;
  const cs = stackRead(c, size, size) & 0xffff;
  const rpl = cs & 3;
  if (rpl === c.cpl) {
    if ((cs & ~3) === 0) c.gp(0);
    if (!fetchDescriptor(c, cs)) c.gp(cs & 0xfffc);
    const acc = descAccess();
    if ((acc & AR_S) === 0 || (acc & 0x8) === 0) c.gp(cs & 0xfffc);
    if ((acc & 0x4) !== 0 ? dpl(acc) > rpl : dpl(acc) !== rpl) c.gp(cs & 0xfffc);
    if ((acc & AR_P) === 0) c.raise(EXC_NP, cs & 0xfffc);
    const to64 = (acc & AR_L) !== 0 && (acc & AR_DB) === 0;
    if (to64 && (ripHi << 16) >> 16 !== ripHi) c.gp(0);
    setAccessed(c);
    setCodeSegment(c, cs, rpl);
    addRsp(c, size * 2 + imm);
    setRipAfterTransfer(c, ripLo, to64 ? ripHi : 0);
    return;
  }
  if (rpl < c.cpl) c.gp(cs & 0xfffc);
  // Return to an outer privilege level: also pops RSP and SS.
  const rspLo = stackRead(c, size, size * 2 + imm);
  const rspHi = size === 8 ? c.lm.readHi : 0;
  const ss = stackRead(c, size, size * 3 + imm) & 0xffff;
  if (!fetchDescriptor(c, cs)) c.gp(cs & 0xfffc);
  const acc = descAccess();
  if ((acc & AR_S) === 0 || (acc & 0x8) === 0) c.gp(cs & 0xfffc);
  if ((acc & 0x4) !== 0 ? dpl(acc) > rpl : dpl(acc) !== rpl) c.gp(cs & 0xfffc);
  if ((acc & AR_P) === 0) c.raise(EXC_NP, cs & 0xfffc);
  const to64 = (acc & AR_L) !== 0 && (acc & AR_DB) === 0;
  const csLo = dLo;
  const csHi = dHi;
  if ((ss & ~3) === 0) {
    if (!to64 || rpl === 3) c.gp(0);
    nullStack(c, ss, rpl);
  } else {
    if ((ss & 3) !== rpl || !fetchDescriptor(c, ss)) c.gp(ss & 0xfffc);
    const sa = descAccess();
    if ((sa & AR_S) === 0 || (sa & 0xa) !== 0x2 || dpl(sa) !== rpl) c.gp(ss & 0xfffc);
    if ((sa & AR_P) === 0) c.raise(EXC_SS, ss & 0xfffc);
    setSeg(c, SS, ss, descBase(), descLimit(), descAccess());
  }
  dLo = csLo;
  dHi = csHi;
  setCodeSegment(c, cs, rpl);
  c.r32[4] = rspLo;
  c.rh[4] = rspHi;
  addRsp(c, imm);
  nullifyDataSegments(c);
  setRipAfterTransfer(c, ripLo, to64 ? ripHi : 0);
}

// ------------------------------------------------------------------ SYSCALL / SYSRET / SWAPGS

const CODE64 = AR_P | AR_S | 0xb | AR_L | AR_G;
const CODE32 = AR_P | AR_S | 0xb | AR_DB | AR_G;
const DATA = AR_P | AR_S | 0x3 | AR_DB | AR_G;

/** SYSCALL from 64-bit mode (to LSTAR) or compatibility mode (to CSTAR). */
export function syscall(c: Cpu): void {
  if ((c.efer & EFER_SCE) === 0 || (c.efer & EFER_LMA) === 0) c.undefinedOpcode();
  const from64 = c.mode64;
  c.r32[1] = from64 ? c.ip : c.eip;
  c.rh[1] = from64 ? c.lm.ripHi : 0;
  const fl = c.getEflags() & ~RF;
  c.r32[11] = fl;
  c.rh[11] = 0;
  const sel = c.lm.starHi & 0xfffc;
  c.segSel[SS] = (sel + 8) & 0xffff;
  c.segBase[SS] = 0;
  c.segLimit[SS] = -1;
  c.segAccess[SS] = DATA;
  c.updateSegCheck(SS);
  c.segSel[CS] = sel;
  c.segBase[CS] = 0;
  c.segLimit[CS] = -1;
  c.segAccess[CS] = CODE64;
  c.updateSegCheck(CS);
  c.cpl = 0;
  c.setEflags(0, c.lm.sfmask | RF);
  c.updateMode();
  c.fetchSpan = -1;
  c.lm.ripHi = from64 ? c.lm.lstarHi : c.lm.cstarHi;
  c.ip = from64 ? c.lm.lstarLo : c.lm.cstarLo;
  c.branched = true;
}

export function sysret(c: Cpu, rexW: boolean): void {
  if ((c.efer & EFER_SCE) === 0) c.undefinedOpcode();
  if (c.cpl !== 0) c.gp(0);
  if (rexW && (c.rh[1] << 16) >> 16 !== c.rh[1]) c.gp(0);
  const base = c.lm.starHi >>> 16;
  const csSel = ((rexW ? base + 16 : base) | 3) & 0xffff;
  c.segSel[CS] = csSel;
  c.segBase[CS] = 0;
  c.segLimit[CS] = -1;
  c.segAccess[CS] = (rexW ? CODE64 : CODE32) | (3 << 5);
  c.updateSegCheck(CS);
  c.segSel[SS] = ((base + 8) | 3) & 0xffff;
  c.segBase[SS] = 0;
  c.segLimit[SS] = -1;
  c.segAccess[SS] = DATA | (3 << 5);
  c.updateSegCheck(SS);
  c.cpl = 3;
  c.setEflags(c.r32[11], 0x3c7fd7 & ~VM);
  const ripLo = c.r32[1];
  const ripHi = rexW ? c.rh[1] : 0;
  c.updateMode();
  setRipAfterTransfer(c, ripLo, ripHi);
}

export function swapgs(c: Cpu): void {
  if (c.cpl !== 0) c.gp(0);
  const lo = c.segBase[GS];
  const hi = c.lm.gsHi;
  c.segBase[GS] = c.lm.kgsLo;
  c.lm.gsHi = c.lm.kgsHi;
  c.lm.kgsLo = lo;
  c.lm.kgsHi = hi;
}

// ------------------------------------------------------------------ descriptor tables

/** LLDT in 64-bit mode (16-byte LDT descriptor). */
export function lldt64(c: Cpu, sel: number): void {
  if (c.cpl !== 0) c.gp(0);
  if ((sel & ~3) === 0) {
    c.segSel[LDTR] = sel;
    c.segAccess[LDTR] = AR_UNUSABLE;
    c.lm.ldtHi = 0;
    return;
  }
  if ((sel & 4) !== 0 || !fetchDescriptor(c, sel)) c.gp(sel & 0xfffc);
  const acc = descAccess();
  if ((acc & AR_S) !== 0 || (acc & 0xf) !== 2) c.gp(sel & 0xfffc);
  if ((acc & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
  const hi = fetchDescriptorHigh(c);
  if ((hi << 16) >> 16 !== hi) c.gp(sel & 0xfffc);
  c.segSel[LDTR] = sel;
  c.segBase[LDTR] = descBase();
  c.segLimit[LDTR] = descLimit();
  c.segAccess[LDTR] = acc;
  c.lm.ldtHi = hi;
}

/** LTR in 64-bit mode (16-byte TSS descriptor, available 64-bit TSS). */
export function ltr64(c: Cpu, sel: number): void {
  if (c.cpl !== 0) c.gp(0);
  if ((sel & ~3) === 0) c.gp(0);
  if ((sel & 4) !== 0 || !fetchDescriptor(c, sel)) c.gp(sel & 0xfffc);
  const acc = descAccess();
  if ((acc & AR_S) !== 0 || (acc & 0xf) !== 9) c.gp(sel & 0xfffc);
  if ((acc & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
  const hi = fetchDescriptorHigh(c);
  if ((hi << 16) >> 16 !== hi) c.gp(sel & 0xfffc);
  // Mark busy.
  dHi |= 0x200;
  writeSized(c, dAddrHi, (dAddrLo + 4) | 0, 4, dHi, 0);
  c.segSel[TR] = sel;
  c.segBase[TR] = descBase();
  c.segLimit[TR] = descLimit();
  c.segAccess[TR] = descAccess();
  c.lm.trHi = hi;
}
