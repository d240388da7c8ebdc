/**
 * Segmentation and privilege: descriptor loads, far control transfers, interrupt and
 * exception delivery (with double/triple fault rules), task switches, SYSENTER/SYSEXIT.
 * These are the CPU's slow paths; they favour clarity over speed.
 */
import {
  AC,
  AR_DB,
  AR_P,
  AR_S,
  AR_UNUSABLE,
  CR0_PG,
  CR0_TS,
  CS,
  DS,
  ES,
  EXC_BP,
  EXC_DE,
  EXC_DF,
  EFER_LMA,
  EXC_GP,
  EXC_HAS_ERROR_CODE,
  EXC_NP,
  EXC_OF,
  EXC_PF,
  EXC_SS,
  EXC_TS,
  FS,
  GS,
  IF,
  IOPL,
  LDTR,
  NT,
  RF,
  SS,
  TF,
  TR,
  VIF,
  VIP,
  VM,
} from './constants.js';
import { FAULT, type Cpu } from './cpu.js';
import { deliverInterrupt64 } from './long/system64.js';
import { readN, writeN } from './long/memory.js';
import { EV_INT, EV_INT_DONE, EV_IRET, EV_IRET_DONE } from './debug-trace.js';

// Scratch for the descriptor just read (avoids allocating on every segment load):
// its two dwords and its linear address.
let dLo = 0;
let dHi = 0;
let dAddr = 0;
/** High half of dAddr in IA-32e mode (the table's 64-bit base); 0 otherwise. */
let dAddrHi = 0;

function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) | 0;
}

function descLimit(lo: number, hi: number): number {
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  return (hi & 0x800000) !== 0 ? (raw << 12) | 0xfff : raw;
}

/** Descriptor high dword to VMX-layout access rights. */
function descAccess(hi: number): number {
  return (hi >>> 8) & 0xf0ff;
}

function dpl(access: number): number {
  return (access >> 5) & 3;
}

/**
 * Read the descriptor for `sel` into dLo/dHi and its linear address into dAddr. Returns
 * false if the selector is outside its table (the caller raises the right exception).
 */
function fetchDescriptor(c: Cpu, sel: number): boolean {
  let base: number;
  let limit: number;
  let hi = 0;
  const long = (c.efer & EFER_LMA) !== 0;
  if ((sel & 4) !== 0) {
    if ((c.segAccess[LDTR] & AR_P) === 0 || (c.segAccess[LDTR] & AR_UNUSABLE) !== 0) return false;
    base = c.segBase[LDTR];
    limit = c.segLimit[LDTR] >>> 0;
    if (long) hi = c.lm.ldtHi;
  } else {
    base = c.gdtBase;
    limit = c.gdtLimit;
    if (long) hi = c.lm.gdtHi;
  }
  const off = sel & ~7;
  if (off + 7 > limit) return false;
  const addr = (base + off) | 0;
  // Compatibility mode: the tables have 64-bit bases (Linux keeps its GDT at 0xfffffe00_00001000).
  if (long && (base >>> 0) + off > 0xffffffff) hi = (hi + 1) | 0;
  dAddrHi = hi;
  if (hi === 0) {
    dLo = c.readSys32(addr);
    dHi = c.readSys32((addr + 4) | 0);
  } else {
    dLo = readN(c, hi, addr, 4, false);
    dHi = readN(c, hi, (addr + 4) | 0, 4, false);
  }
  dAddr = addr;
  return true;
}

function setAccessed(c: Cpu, addr: number): void {
  if ((dHi & 0x100) === 0) {
    dHi |= 0x100;
    if (dAddrHi === 0) c.writeSys8((addr + 5) | 0, (dHi >>> 8) & 0xff);
    else writeN(c, dAddrHi, (addr + 5) | 0, 1, (dHi >>> 8) & 0xff, false);
  }
}

function setSegment(c: Cpu, seg: number, sel: number, base: number, limit: number, access: number): void {
  c.segSel[seg] = sel;
  c.segBase[seg] = base;
  c.segLimit[seg] = limit;
  c.segAccess[seg] = access;
  c.updateSegCheck(seg);
}

function nullSegment(c: Cpu, seg: number, sel: number): void {
  setSegment(c, seg, sel, 0, 0, AR_UNUSABLE);
}

/** MOV Sreg / POP Sreg / LDS-family: load a data or stack segment register. */
export function loadSegment(c: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!c.protectedMode) {
    // Real mode keeps the cached limit and attributes (so "unreal mode" works); VM86 resets them.
    c.segSel[seg] = sel;
    c.segBase[seg] = sel << 4;
    if ((c.flags & VM) !== 0) {
      c.segLimit[seg] = 0xffff;
      c.segAccess[seg] = AR_P | AR_S | (3 << 5) | (seg === CS ? 0xb : 0x3);
    } else if ((c.segAccess[seg] & AR_P) === 0) {
      c.segAccess[seg] = AR_P | AR_S | 0x3;
    }
    c.updateSegCheck(seg);
    if (seg === SS) c.updateMode();
    return;
  }
  if (seg === SS) {
    loadStackSegment(c, sel, c.cpl, EXC_GP);
    return;
  }
  if ((sel & ~3) === 0) {
    nullSegment(c, seg, sel);
    return;
  }
  const addrFound = fetchDescriptor(c, sel);
  const addr = dAddr;
  if (!addrFound) c.gp(sel & 0xfffc);
  const access = descAccess(dHi);
  const type = access & 0xf;
  // Data, or readable code.
  if ((access & AR_S) === 0 || (type & 0xa) === 0x8) c.gp(sel & 0xfffc);
  // Data and non-conforming code need DPL >= max(CPL, RPL).
  if ((type & 0xc) !== 0xc && (dpl(access) < c.cpl || dpl(access) < (sel & 3))) c.gp(sel & 0xfffc);
  if ((access & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
  setAccessed(c, addr);
  setSegment(c, seg, sel, descBase(dLo, dHi), descLimit(dLo, dHi), descAccess(dHi));
}

function loadStackSegment(c: Cpu, sel: number, cpl: number, exc: number): void {
  if ((sel & ~3) === 0) c.raise(exc, 0);
  const addrFound = fetchDescriptor(c, sel);
  const addr = dAddr;
  if (!addrFound) c.raise(exc, sel & 0xfffc);
  const access = descAccess(dHi);
  if ((sel & 3) !== cpl || (access & AR_S) === 0 || (access & 0xa) !== 0x2 || dpl(access) !== cpl) c.raise(exc, sel & 0xfffc);
  if ((access & AR_P) === 0) c.raise(exc === EXC_TS ? EXC_TS : EXC_SS, sel & 0xfffc);
  setAccessed(c, addr);
  setSegment(c, SS, sel, descBase(dLo, dHi), descLimit(dLo, dHi), descAccess(dHi));
  c.updateMode();
}

/** Load CS with a code descriptor already read into dLo/dHi; sets CPL. */
function setCodeSegment(c: Cpu, sel: number, cpl: number): void {
  setSegment(c, CS, (sel & ~3) | cpl, descBase(dLo, dHi), descLimit(dLo, dHi), descAccess(dHi));
  c.cpl = cpl;
  c.updateMode();
}

/** Segments whose DPL is below the new CPL become null after a return to outer privilege. */
function nullifyDataSegments(c: Cpu): void {
  for (const seg of [ES, DS, FS, GS]) {
    const a = c.segAccess[seg];
    if ((a & AR_UNUSABLE) !== 0) continue;
    const dataOrNonConforming = (a & 0x8) === 0 || (a & 0x4) === 0;
    if (dataOrNonConforming && dpl(a) < c.cpl) nullSegment(c, seg, 0);
  }
}

function realFarJump(c: Cpu, sel: number, eip: number): void {
  c.segSel[CS] = sel;
  c.segBase[CS] = sel << 4;
  c.updateSegCheck(CS);
  c.setEip(eip);
}

/** Check a code-segment descriptor for a direct far JMP/CALL; returns nothing, raises on failure. */
function checkDirectCode(c: Cpu, sel: number): void {
  const access = descAccess(dHi);
  const conforming = (access & 0x4) !== 0;
  if (conforming) {
    if (dpl(access) > c.cpl) c.gp(sel & 0xfffc);
  } else if ((sel & 3) > c.cpl || dpl(access) !== c.cpl) {
    c.gp(sel & 0xfffc);
  }
  if ((access & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
}

function checkEipInLimit(c: Cpu, eip: number): void {
  if (eip >>> 0 > descLimit(dLo, dHi) >>> 0) c.gp(0);
}

/** JMP ptr16:16/32 and JMP m16:16/32. */
export function farJump(c: Cpu, sel: number, eip: number, operand32: boolean): void {
  if (!operand32) eip &= 0xffff;
  if (!c.protectedMode) {
    realFarJump(c, sel, eip);
    return;
  }
  if ((sel & ~3) === 0) c.gp(0);
  const addrFound = fetchDescriptor(c, sel);
  const addr = dAddr;
  if (!addrFound) c.gp(sel & 0xfffc);
  const access = descAccess(dHi);
  if ((access & AR_S) !== 0) {
    if ((access & 0x8) === 0) c.gp(sel & 0xfffc);
    checkDirectCode(c, sel);
    checkEipInLimit(c, eip);
    setAccessed(c, addr);
    setCodeSegment(c, sel, c.cpl);
    c.setEip(eip);
    return;
  }
  const type = access & 0xf;
  const gateDpl = dpl(access);
  if (gateDpl < c.cpl || gateDpl < (sel & 3)) c.gp(sel & 0xfffc);
  if ((access & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
  switch (type) {
    case 0x1:
    case 0x9:
      taskSwitch(c, sel, addr, TASK_JMP, c.eip, -1);
      return;
    case 0x5: {
      const tssSel = (dLo >>> 16) & 0xffff;
      const tssAddrFound = fetchDescriptor(c, tssSel);
      const tssAddr = dAddr;
      if (!tssAddrFound || (tssSel & 4) !== 0) c.gp(tssSel & 0xfffc);
      taskSwitch(c, tssSel, tssAddr, TASK_JMP, c.eip, -1);
      return;
    }
    case 0x4:
    case 0xc: {
      // Call gate used by JMP: no privilege change.
      const target = (dLo >>> 16) & 0xffff;
      const gateEip = type === 0xc ? (dHi & 0xffff0000) | (dLo & 0xffff) : dLo & 0xffff;
      if ((target & ~3) === 0) c.gp(0);
      const taddrFound = fetchDescriptor(c, target);
      const taddr = dAddr;
      if (!taddrFound) c.gp(target & 0xfffc);
      const tacc = descAccess(dHi);
      if ((tacc & AR_S) === 0 || (tacc & 0x8) === 0) c.gp(target & 0xfffc);
      const conforming = (tacc & 0x4) !== 0;
      if ((conforming && dpl(tacc) > c.cpl) || (!conforming && dpl(tacc) !== c.cpl)) c.gp(target & 0xfffc);
      if ((tacc & AR_P) === 0) c.raise(EXC_NP, target & 0xfffc);
      checkEipInLimit(c, gateEip);
      setAccessed(c, taddr);
      setCodeSegment(c, target, c.cpl);
      c.setEip(gateEip);
      return;
    }
    default:
      c.gp(sel & 0xfffc);
  }
}

/** CALL ptr16:16/32 and CALL m16:16/32. `retEip` is the offset of the next instruction. */
export function farCall(c: Cpu, sel: number, eip: number, operand32: boolean): void {
  if (!operand32) eip &= 0xffff;
  const retEip = c.eip;
  const retCs = c.segSel[CS];
  if (!c.protectedMode) {
    pushPair(c, retCs, retEip, operand32);
    realFarJump(c, sel, eip);
    return;
  }
  if ((sel & ~3) === 0) c.gp(0);
  const addrFound = fetchDescriptor(c, sel);
  const addr = dAddr;
  if (!addrFound) c.gp(sel & 0xfffc);
  const access = descAccess(dHi);
  if ((access & AR_S) !== 0) {
    if ((access & 0x8) === 0) c.gp(sel & 0xfffc);
    checkDirectCode(c, sel);
    checkEipInLimit(c, eip);
    pushPair(c, retCs, retEip, operand32);
    setAccessed(c, addr);
    setCodeSegment(c, sel, c.cpl);
    c.setEip(eip);
    return;
  }
  const type = access & 0xf;
  const gateDpl = dpl(access);
  if (gateDpl < c.cpl || gateDpl < (sel & 3)) c.gp(sel & 0xfffc);
  if ((access & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
  switch (type) {
    case 0x1:
    case 0x9:
      taskSwitch(c, sel, addr, TASK_CALL, retEip, -1);
      return;
    case 0x5: {
      const tssSel = (dLo >>> 16) & 0xffff;
      const tssAddrFound = fetchDescriptor(c, tssSel);
      const tssAddr = dAddr;
      if (!tssAddrFound || (tssSel & 4) !== 0) c.gp(tssSel & 0xfffc);
      taskSwitch(c, tssSel, tssAddr, TASK_CALL, retEip, -1);
      return;
    }
    case 0x4:
    case 0xc:
      callGate(c, type === 0xc, retCs, retEip);
      return;
    default:
      c.gp(sel & 0xfffc);
  }
}

function callGate(c: Cpu, gate32: boolean, retCs: number, retEip: number): void {
  const target = (dLo >>> 16) & 0xffff;
  const gateEip = gate32 ? (dHi & 0xffff0000) | (dLo & 0xffff) : dLo & 0xffff;
  const paramCount = dHi & 0x1f;
  if ((target & ~3) === 0) c.gp(0);
  const taddrFound = fetchDescriptor(c, target);
  const taddr = dAddr;
  if (!taddrFound) c.gp(target & 0xfffc);
  const tacc = descAccess(dHi);
  if ((tacc & AR_S) === 0 || (tacc & 0x8) === 0 || dpl(tacc) > c.cpl) c.gp(target & 0xfffc);
  if ((tacc & AR_P) === 0) c.raise(EXC_NP, target & 0xfffc);
  const tLo = dLo;
  const tHi = dHi;
  const conforming = (tacc & 0x4) !== 0;
  const newCpl = dpl(tacc);
  if (!conforming && newCpl < c.cpl) {
    // Inner privilege: switch to the stack for newCpl from the TSS, copy parameters.
    const { ss: newSs, esp: newEsp } = tssStack(c, newCpl);
    const oldSs = c.segSel[SS];
    const oldEsp = c.r32[4];
    const oldSs32 = c.ss32;
    const oldSsBase = c.segBase[SS];
    const params: number[] = [];
    for (let i = paramCount - 1; i >= 0; i--) {
      const off = oldSs32 ? (oldEsp + i * (gate32 ? 4 : 2)) | 0 : (oldEsp + i * (gate32 ? 4 : 2)) & 0xffff;
      params.push(gate32 ? c.readLin32((oldSsBase + off) | 0) : c.readLin16((oldSsBase + off) | 0));
    }
    loadStackSegment(c, newSs, newCpl, EXC_TS);
    c.r32[4] = newEsp;
    if (!c.ss32) c.r32[4] = newEsp & 0xffff;
    dLo = tLo;
    dHi = tHi;
    pushSized(c, oldSs, gate32);
    pushSized(c, oldEsp, gate32);
    for (const p of params) pushSized(c, p, gate32);
    pushSized(c, retCs, gate32);
    pushSized(c, retEip, gate32);
    dLo = tLo;
    dHi = tHi;
    setAccessed(c, taddr);
    setCodeSegment(c, target, newCpl);
  } else {
    pushPair(c, retCs, retEip, gate32);
    dLo = tLo;
    dHi = tHi;
    setAccessed(c, taddr);
    setCodeSegment(c, target, c.cpl);
  }
  c.setEip(gateEip);
}

/** Push a value of a gate's size (not the current instruction's operand size). */
function pushSized(c: Cpu, v: number, size32: boolean): void {
  if (size32) c.push32(v);
  else c.push16(v);
}

function pushPair(c: Cpu, cs: number, eip: number, operand32: boolean): void {
  if (operand32) {
    // Both pushes must succeed before anything commits: check the 8 bytes first.
    const sp = c.ss32 ? (c.r32[4] - 8) | 0 : (c.r16[8] - 8) & 0xffff;
    c.checkWritable(c.segAddr(SS, sp), 8);
    c.push32(cs);
    c.push32(eip);
  } else {
    const sp = c.ss32 ? (c.r32[4] - 4) | 0 : (c.r16[8] - 4) & 0xffff;
    c.checkWritable(c.segAddr(SS, sp), 4);
    c.push16(cs);
    c.push16(eip);
  }
}

/** The SS:ESP for privilege level `pl` from the current TSS. */
function tssStack(c: Cpu, pl: number): { ss: number; esp: number } {
  const type = c.segAccess[TR] & 0xf;
  const base = c.segBase[TR];
  if (type === 0x9 || type === 0xb) {
    const off = 4 + pl * 8;
    if (off + 5 > c.segLimit[TR] >>> 0) c.raise(EXC_TS, c.segSel[TR] & 0xfffc);
    return { esp: c.readSys32((base + off) | 0), ss: c.readSys16((base + off + 4) | 0) };
  }
  const off = 2 + pl * 4;
  if (off + 3 > c.segLimit[TR] >>> 0) c.raise(EXC_TS, c.segSel[TR] & 0xfffc);
  return { esp: c.readSys16((base + off) | 0), ss: c.readSys16((base + off + 2) | 0) };
}

/** RETF [imm16]. */
export function farReturn(c: Cpu, operand32: boolean, imm: number): void {
  const size = operand32 ? 4 : 2;
  const eip = operand32 ? c.stackRead32(0) : c.stackRead16(0);
  const sel = c.stackRead16(size);
  if (!c.protectedMode) {
    c.sp = c.ss32 ? (c.r32[4] + 2 * size + imm) | 0 : (c.r16[8] + 2 * size + imm) & 0xffff;
    realFarJump(c, sel, eip);
    return;
  }
  if ((sel & ~3) === 0) c.gp(0);
  const addrFound = fetchDescriptor(c, sel);
  const addr = dAddr;
  if (!addrFound) c.gp(sel & 0xfffc);
  const access = descAccess(dHi);
  const rpl = sel & 3;
  if ((access & AR_S) === 0 || (access & 0x8) === 0 || rpl < c.cpl) c.gp(sel & 0xfffc);
  const conforming = (access & 0x4) !== 0;
  if ((conforming && dpl(access) > rpl) || (!conforming && dpl(access) !== rpl)) c.gp(sel & 0xfffc);
  if ((access & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
  if (rpl === c.cpl) {
    checkEipInLimit(c, eip);
    c.sp = c.ss32 ? (c.r32[4] + 2 * size + imm) | 0 : (c.r16[8] + 2 * size + imm) & 0xffff;
    setAccessed(c, addr);
    setCodeSegment(c, sel, c.cpl);
    c.setEip(eip);
    return;
  }
  // Return to outer privilege: the caller's SS:ESP sit above the parameters.
  const newEsp = operand32 ? c.stackRead32(2 * size + imm) : c.stackRead16(2 * size + imm);
  const newSs = c.stackRead16(3 * size + imm);
  const cLo = dLo;
  const cHi = dHi;
  checkEipInLimit(c, eip);
  loadStackSegment(c, newSs, rpl, EXC_GP);
  dLo = cLo;
  dHi = cHi;
  setAccessed(c, addr);
  setCodeSegment(c, sel, rpl);
  c.sp = c.ss32 ? (newEsp + imm) | 0 : (newEsp + imm) & 0xffff;
  if (!c.ss32) c.r32[4] = (c.r32[4] & ~0xffff) | ((newEsp + imm) & 0xffff);
  nullifyDataSegments(c);
  c.setEip(eip);
}

/** IRET / IRETD. */
export function iret(c: Cpu, operand32: boolean): void {
  const trace = c.eipTrace;
  if (trace !== null) trace.event(c, EV_IRET, c.readSys32(c.r32[4]), c.readSys32((c.r32[4] + 4) | 0), c.readSys32((c.r32[4] + 8) | 0));
  iretFrame(c, operand32);
  if (trace !== null) trace.event(c, EV_IRET_DONE);
}

function iretFrame(c: Cpu, operand32: boolean): void {
  if (!c.protectedMode && (c.flags & VM) === 0) {
    // Real mode.
    const size = operand32 ? 4 : 2;
    const eip = operand32 ? c.stackRead32(0) : c.stackRead16(0);
    const cs = c.stackRead16(size);
    const fl = operand32 ? c.stackRead32(2 * size) : c.stackRead16(2 * size);
    c.sp = c.ss32 ? (c.r32[4] + 3 * size) | 0 : (c.r16[8] + 3 * size) & 0xffff;
    realFarJump(c, cs, eip);
    const mask = operand32 ? 0x257fd5 : 0x7fd5; // keep VM, VIF, VIP
    c.setEflags(fl, mask & ~(VM | VIF | VIP));
    return;
  }
  if ((c.flags & VM) !== 0) {
    // Virtual-8086 mode: allowed only with IOPL 3 (no VME support).
    if ((c.flags & IOPL) !== IOPL) c.gp(0);
    const size = operand32 ? 4 : 2;
    const eip = operand32 ? c.stackRead32(0) : c.stackRead16(0);
    const cs = c.stackRead16(size);
    const fl = operand32 ? c.stackRead32(2 * size) : c.stackRead16(2 * size);
    c.sp = c.ss32 ? (c.r32[4] + 3 * size) | 0 : (c.r16[8] + 3 * size) & 0xffff;
    c.segSel[CS] = cs;
    c.segBase[CS] = cs << 4;
    c.updateSegCheck(CS);
    c.setEip(operand32 ? eip : eip & 0xffff);
    c.setEflags(fl, (operand32 ? 0x3f7fd5 : 0x7fd5) & ~(IOPL | VM | VIF | VIP));
    return;
  }
  if ((c.flags & NT) !== 0) {
    const backLink = c.readSys16(c.segBase[TR]);
    const addrFound = fetchDescriptor(c, backLink);
    const addr = dAddr;
    if (!addrFound || (backLink & 4) !== 0) c.raise(EXC_TS, backLink & 0xfffc);
    const type = descAccess(dHi) & 0xf;
    if (type !== 0xb && type !== 0x3) c.raise(EXC_TS, backLink & 0xfffc);
    taskSwitch(c, backLink, addr, TASK_IRET, c.eip, -1);
    return;
  }
  const size = operand32 ? 4 : 2;
  const eip = operand32 ? c.stackRead32(0) : c.stackRead16(0);
  const sel = c.stackRead16(size);
  const fl = operand32 ? c.stackRead32(2 * size) : c.stackRead16(2 * size);
  if (operand32 && (fl & VM) !== 0 && c.cpl === 0) {
    iretToVm86(c, eip, sel, fl);
    return;
  }
  if ((sel & ~3) === 0) c.gp(0);
  const addrFound = fetchDescriptor(c, sel);
  const addr = dAddr;
  if (!addrFound) c.gp(sel & 0xfffc);
  const access = descAccess(dHi);
  const rpl = sel & 3;
  if ((access & AR_S) === 0 || (access & 0x8) === 0 || rpl < c.cpl) c.gp(sel & 0xfffc);
  const conforming = (access & 0x4) !== 0;
  if ((conforming && dpl(access) > rpl) || (!conforming && dpl(access) !== rpl)) c.gp(sel & 0xfffc);
  if ((access & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
  const oldCpl = c.cpl;
  const flagMask = iretFlagMask(c, operand32, oldCpl);
  if (rpl === c.cpl) {
    checkEipInLimit(c, eip);
    c.sp = c.ss32 ? (c.r32[4] + 3 * size) | 0 : (c.r16[8] + 3 * size) & 0xffff;
    setAccessed(c, addr);
    setCodeSegment(c, sel, c.cpl);
    c.setEip(eip);
    c.setEflags(fl, flagMask);
    return;
  }
  const newEsp = operand32 ? c.stackRead32(3 * size) : c.stackRead16(3 * size);
  const newSs = c.stackRead16(4 * size);
  const cLo = dLo;
  const cHi = dHi;
  checkEipInLimit(c, eip);
  loadStackSegment(c, newSs, rpl, EXC_GP);
  dLo = cLo;
  dHi = cHi;
  setAccessed(c, addr);
  setCodeSegment(c, sel, rpl);
  if (c.ss32) c.r32[4] = newEsp;
  else c.r16[8] = newEsp;
  c.setEip(eip);
  c.setEflags(fl, flagMask);
  nullifyDataSegments(c);
}

function iretFlagMask(c: Cpu, operand32: boolean, cpl: number): number {
  let mask = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | TF | 0x400 | 0x800 | NT | RF | AC | (1 << 21);
  if (cpl <= (c.flags & IOPL) >>> 12) mask |= IF;
  if (cpl === 0) mask |= IOPL | VIF | VIP;
  if (!operand32) mask &= 0xffff;
  return mask;
}

function iretToVm86(c: Cpu, eip: number, cs: number, fl: number): void {
  const esp = c.stackRead32(12);
  const ss = c.stackRead32(16);
  const es = c.stackRead32(20);
  const ds = c.stackRead32(24);
  const fs = c.stackRead32(28);
  const gs = c.stackRead32(32);
  c.setEflags(fl, 0x3f7fd5 | VM);
  c.cpl = 3;
  const vmSeg = (seg: number, sel: number): void => {
    setSegment(c, seg, sel & 0xffff, (sel & 0xffff) << 4, 0xffff, AR_P | AR_S | (3 << 5) | (seg === CS ? 0xb : 0x3));
  };
  vmSeg(CS, cs);
  vmSeg(SS, ss);
  vmSeg(ES, es);
  vmSeg(DS, ds);
  vmSeg(FS, fs);
  vmSeg(GS, gs);
  c.r32[4] = esp;
  c.updateMode();
  c.setEip(eip & 0xffff);
}

// ------------------------------------------------------------------ interrupts

/** Deliver interrupt/exception `vector`. `software` for INT n/INT3/INTO (DPL checked, EIP = next). */
export function deliverInterrupt(c: Cpu, vector: number, software: boolean, errorCode: number, ext: boolean): void {
  const trace = c.eipTrace;
  if (trace !== null) trace.event(c, EV_INT, vector, errorCode, software ? 1 : 0);
  deliverGate(c, vector, software, errorCode, ext);
  if (trace !== null) trace.event(c, EV_INT_DONE, vector);
}

function deliverGate(c: Cpu, vector: number, software: boolean, errorCode: number, ext: boolean): void {
  if ((c.efer & EFER_LMA) !== 0) {
    // IA-32e mode (64-bit or compatibility code): 16-byte gates, 64-bit frames.
    deliverInterrupt64(c, vector, software, errorCode, ext);
    return;
  }
  c.halted = false;
  if (!c.protectedMode && (c.flags & VM) === 0) {
    realModeInterrupt(c, vector);
    return;
  }
  const extBit = ext ? 1 : 0;
  const off = vector << 3;
  if (off + 7 > c.idtLimit) c.gp(off + 2 + extBit);
  const gLo = c.readSys32((c.idtBase + off) | 0);
  const gHi = c.readSys32((c.idtBase + off + 4) | 0);
  const access = descAccess(gHi);
  const type = access & 0x1f; // includes S bit
  if (type !== 0x5 && type !== 0x6 && type !== 0x7 && type !== 0xe && type !== 0xf) c.gp(off + 2 + extBit);
  if (software && dpl(access) < c.cpl) c.gp(off + 2);
  if ((access & AR_P) === 0) c.raise(EXC_NP, off + 2 + extBit);
  if (type === 0x5) {
    const tssSel = (gLo >>> 16) & 0xffff;
    const tssAddrFound = fetchDescriptor(c, tssSel);
    const tssAddr = dAddr;
    if (!tssAddrFound || (tssSel & 4) !== 0) c.raise(EXC_TS, (tssSel & 0xfffc) + extBit);
    taskSwitch(c, tssSel, tssAddr, TASK_INT, c.eip, errorCode);
    return;
  }
  const gate32 = (type & 0x8) !== 0;
  const trap = (type & 1) !== 0;
  const target = (gLo >>> 16) & 0xffff;
  const gateEip = gate32 ? (gHi & 0xffff0000) | (gLo & 0xffff) : gLo & 0xffff;
  if ((target & ~3) === 0) c.gp(extBit);
  const taddrFound = fetchDescriptor(c, target);
  if (!taddrFound) c.gp((target & 0xfffc) + extBit);
  const tacc = descAccess(dHi);
  if ((tacc & AR_S) === 0 || (tacc & 0x8) === 0 || dpl(tacc) > c.cpl) c.gp((target & 0xfffc) + extBit);
  if ((tacc & AR_P) === 0) c.raise(EXC_NP, (target & 0xfffc) + extBit);
  const tLo = dLo;
  const tHi = dHi;
  const conforming = (tacc & 0x4) !== 0;
  const fromVm86 = (c.flags & VM) !== 0;
  const oldFlags = c.getEflags();
  const oldCs = c.segSel[CS];
  const oldEip = c.eip;
  if (!conforming && dpl(tacc) < c.cpl) {
    const newCpl = dpl(tacc);
    if (fromVm86 && newCpl !== 0) c.gp((target & 0xfffc) + extBit);
    const { ss: newSs, esp: newEsp } = tssStack(c, newCpl);
    const oldSs = c.segSel[SS];
    const oldEsp = c.r32[4];
    const saved = fromVm86 ? [c.segSel[GS], c.segSel[FS], c.segSel[DS], c.segSel[ES]] : null;
    // Validate and load the new stack (faults here are #TS in the old context).
    const oldSsState = [c.segSel[SS], c.segBase[SS], c.segLimit[SS], c.segAccess[SS]] as const;
    const oldCpl = c.cpl;
    try {
      c.cpl = newCpl;
      loadStackSegmentForInterrupt(c, newSs, newCpl, extBit);
      c.r32[4] = c.ss32 ? newEsp : newEsp & 0xffff;
      if (saved !== null) {
        c.flags &= ~VM;
        for (const s of saved) pushSized(c, s, gate32);
      }
      pushSized(c, oldSs, gate32);
      pushSized(c, oldEsp, gate32);
      pushSized(c, oldFlags, gate32);
      pushSized(c, oldCs, gate32);
      pushSized(c, oldEip, gate32);
      if (errorCode >= 0) pushSized(c, errorCode, gate32);
    } catch (e) {
      // Undo the partial switch so the fault is reported in the interrupted context.
      c.cpl = oldCpl;
      if (fromVm86) c.flags |= VM;
      setSegment(c, SS, oldSsState[0], oldSsState[1], oldSsState[2], oldSsState[3]);
      c.r32[4] = oldEsp;
      c.updateMode();
      throw e;
    }
    if (saved !== null) {
      for (const seg of [ES, DS, FS, GS]) nullSegment(c, seg, 0);
    }
    dLo = tLo;
    dHi = tHi;
    setCodeSegment(c, target, newCpl);
  } else {
    if (fromVm86) c.gp((target & 0xfffc) + extBit);
    const need = (errorCode >= 0 ? 4 : 3) * (gate32 ? 4 : 2);
    const sp = c.ss32 ? (c.r32[4] - need) | 0 : (c.r16[8] - need) & 0xffff;
    c.checkWritable(c.segAddr(SS, sp), need);
    pushSized(c, oldFlags, gate32);
    pushSized(c, oldCs, gate32);
    pushSized(c, oldEip, gate32);
    if (errorCode >= 0) pushSized(c, errorCode, gate32);
    dLo = tLo;
    dHi = tHi;
    setCodeSegment(c, target, c.cpl);
  }
  c.setEip(gateEip);
  let clear = TF | NT | RF | VM;
  if (!trap) clear |= IF;
  c.setEflags(0, clear);
}

function loadStackSegmentForInterrupt(c: Cpu, sel: number, cpl: number, extBit: number): void {
  if ((sel & ~3) === 0) c.raise(EXC_TS, extBit);
  const addrFound = fetchDescriptor(c, sel);
  const addr = dAddr;
  if (!addrFound) c.raise(EXC_TS, (sel & 0xfffc) + extBit);
  const access = descAccess(dHi);
  if ((sel & 3) !== cpl || (access & AR_S) === 0 || (access & 0xa) !== 0x2 || dpl(access) !== cpl) c.raise(EXC_TS, (sel & 0xfffc) + extBit);
  if ((access & AR_P) === 0) c.raise(EXC_SS, (sel & 0xfffc) + extBit);
  setAccessed(c, addr);
  setSegment(c, SS, sel, descBase(dLo, dHi), descLimit(dLo, dHi), descAccess(dHi));
  c.updateMode();
}

function realModeInterrupt(c: Cpu, vector: number): void {
  const off = vector << 2;
  if (off + 3 > c.idtLimit) c.gp(0);
  const ip = c.readSys16((c.idtBase + off) | 0);
  const cs = c.readSys16((c.idtBase + off + 2) | 0);
  const sp = (c.r16[8] - 6) & 0xffff;
  c.checkWritable(c.segAddr(SS, sp), 6);
  c.push16(c.getEflags());
  c.push16(c.segSel[CS]);
  c.push16(c.eip);
  c.setEflags(0, IF | TF | AC | RF);
  realFarJump(c, cs, ip);
}

function isContributory(v: number): boolean {
  return v === EXC_DE || v === EXC_TS || v === EXC_NP || v === EXC_SS || v === EXC_GP;
}

/**
 * Deliver the exception recorded in c.excVector/excCode after an instruction faulted,
 * applying the double-fault rules; a fault while delivering #DF shuts the CPU down.
 * Returns false on shutdown (triple fault).
 */
export function deliverException(c: Cpu): boolean {
  if (c.eipTrace !== null) c.eipTrace.fault(c, c.excVector, c.excCode);
  let vector = c.excVector;
  let code = c.excCode;
  let first = -1;
  for (;;) {
    if ((EXC_HAS_ERROR_CODE & (1 << vector)) === 0 || !(c.protectedMode || (c.flags & VM) !== 0)) code = -1;
    else if (code < 0) code = 0;
    try {
      c.delivering = vector;
      deliverInterrupt(c, vector, false, code, first >= 0);
      c.delivering = -1;
      return true;
    } catch (e) {
      if (e !== FAULT) throw e;
      const next = c.excVector;
      if (vector === EXC_DF) {
        c.delivering = -1;
        c.shutdown = true;
        return false;
      }
      const prev = vector;
      first = prev;
      if ((isContributory(prev) && isContributory(next)) || (prev === EXC_PF && (next === EXC_PF || isContributory(next)))) {
        vector = EXC_DF;
        code = 0;
      } else {
        vector = next;
        code = c.excCode;
      }
    }
  }
}

/** INT n, INT3, INTO: software interrupts push the address of the next instruction. */
export function softwareInterrupt(c: Cpu, vector: number): void {
  if ((c.flags & VM) !== 0 && (c.flags & IOPL) !== IOPL && vector !== EXC_BP && vector !== EXC_OF) {
    // INT n in VM86 without IOPL 3 (and no VME) faults to the monitor.
    c.gp(0);
  }
  deliverInterrupt(c, vector, vector !== -1, -1, false);
}

// ------------------------------------------------------------------ task switching

export const TASK_JMP = 0;
export const TASK_CALL = 1;
export const TASK_IRET = 2;
export const TASK_INT = 3;

/**
 * Switch to the task whose TSS descriptor (selector `sel`, read into dLo/dHi, at linear
 * `descAddr`) per the SDM's task-switch steps. `eip` is what the old task resumes at.
 */
function taskSwitch(c: Cpu, sel: number, descAddr: number, source: number, eip: number, errorCode: number): void {
  const nLo = dLo;
  const nHi = dHi;
  const access = descAccess(nHi);
  const type = access & 0xf;
  const is32 = (type & 0x8) !== 0;
  const busy = (type & 0x2) !== 0;
  if (source === TASK_IRET ? !busy : busy) c.raise(EXC_GP, sel & 0xfffc);
  if ((access & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
  const newBase = descBase(nLo, nHi);
  const newLimit = descLimit(nLo, nHi) >>> 0;
  if (newLimit < (is32 ? 0x67 : 0x2b)) c.raise(EXC_TS, sel & 0xfffc);

  // Read the new task's state first (page faults here leave the old task intact).
  const rd32 = (o: number): number => c.readSys32((newBase + o) | 0);
  const rd16 = (o: number): number => c.readSys16((newBase + o) | 0);
  let nEip: number, nFlags: number, nCr3 = 0, nLdt: number;
  const nRegs = new Int32Array(8);
  const nSegs = new Array<number>(6);
  if (is32) {
    nCr3 = rd32(0x1c);
    nEip = rd32(0x20);
    nFlags = rd32(0x24);
    for (let i = 0; i < 8; i++) nRegs[i] = rd32(0x28 + i * 4);
    for (let i = 0; i < 6; i++) nSegs[i] = rd16(0x48 + i * 4);
    nLdt = rd16(0x60);
  } else {
    nEip = rd16(0x0e);
    nFlags = rd16(0x10);
    for (let i = 0; i < 8; i++) nRegs[i] = rd16(0x12 + i * 2);
    for (let i = 0; i < 4; i++) nSegs[[ES, CS, SS, DS][i]] = rd16(0x22 + i * 2);
    nSegs[FS] = 0;
    nSegs[GS] = 0;
    nLdt = rd16(0x2a);
  }

  // Save the old task's state.
  const oldBase = c.segBase[TR];
  const oldType = c.segAccess[TR] & 0xf;
  const old32 = (oldType & 0x8) !== 0;
  let oldFlags = c.getEflags();
  if (source === TASK_JMP || source === TASK_IRET) {
    // Clear the old TSS descriptor's busy bit.
    if (fetchDescriptor(c, c.segSel[TR])) c.writeSys8((dAddr + 5) | 0, ((dHi >>> 8) & 0xff) & ~0x2);
  }
  if (source === TASK_IRET) oldFlags &= ~NT;
  if (old32) {
    c.writeSys32((oldBase + 0x20) | 0, eip);
    c.writeSys32((oldBase + 0x24) | 0, oldFlags);
    for (let i = 0; i < 8; i++) c.writeSys32((oldBase + 0x28 + i * 4) | 0, c.r32[i]);
    for (let i = 0; i < 6; i++) c.writeSys16((oldBase + 0x48 + i * 4) | 0, c.segSel[i]);
  } else {
    c.writeSys16((oldBase + 0x0e) | 0, eip);
    c.writeSys16((oldBase + 0x10) | 0, oldFlags);
    for (let i = 0; i < 8; i++) c.writeSys16((oldBase + 0x12 + i * 2) | 0, c.r32[i]);
    for (let i = 0; i < 4; i++) c.writeSys16((oldBase + 0x22 + i * 2) | 0, c.segSel[[ES, CS, SS, DS][i]]);
  }
  if (source === TASK_CALL || source === TASK_INT) {
    c.writeSys16(newBase, c.segSel[TR]);
    nFlags |= NT;
  }
  if (source !== TASK_IRET) {
    // Mark the new TSS busy.
    c.writeSys8((descAddr + 5) | 0, ((nHi >>> 8) & 0xff) | 0x2);
  }

  // Load the new task. From here on, faults belong to the new task.
  setSegment(c, TR, sel, newBase, descLimit(nLo, nHi), descAccess(nHi) | 0x2);
  c.cr0 |= CR0_TS;
  if (is32 && (c.cr0 & CR0_PG) !== 0 && nCr3 !== c.cr3) {
    c.cr3 = nCr3;
    c.flushTlb(false);
  }
  c.flags = (nFlags & 0x3f7fd7) | 2;
  c.lazyMask = 0;
  for (let i = 0; i < 8; i++) c.r32[i] = is32 ? nRegs[i] : (c.r32[i] & ~0xffff) | (nRegs[i] & 0xffff);
  // Mark segments null until loaded so a fault here doesn't run with stale descriptors.
  if ((nFlags & VM) !== 0) {
    c.cpl = 3;
    for (let s = 0; s < 6; s++) {
      setSegment(c, s, nSegs[s], nSegs[s] << 4, 0xffff, AR_P | AR_S | (3 << 5) | (s === CS ? 0xb : 0x3));
    }
    c.updateMode();
    c.setEip(nEip & 0xffff);
  } else {
    c.cpl = nSegs[CS] & 3;
    // LDT first, since the other selectors may refer to it.
    loadLdtForTask(c, nLdt);
    const csSel = nSegs[CS];
    const csAddrFound = fetchDescriptor(c, csSel);
    if (!csAddrFound || (csSel & ~3) === 0) c.raise(EXC_TS, csSel & 0xfffc);
    const csAcc = descAccess(dHi);
    if ((csAcc & AR_S) === 0 || (csAcc & 0x8) === 0) c.raise(EXC_TS, csSel & 0xfffc);
    if ((csAcc & AR_P) === 0) c.raise(EXC_NP, csSel & 0xfffc);
    setSegment(c, CS, csSel, descBase(dLo, dHi), descLimit(dLo, dHi), csAcc);
    c.updateMode();
    loadStackSegment(c, nSegs[SS], c.cpl, EXC_TS);
    for (const s of [ES, DS, FS, GS]) {
      try {
        loadSegment(c, s, nSegs[s]);
      } catch (e) {
        if (e === FAULT && c.excVector === EXC_GP) c.excVector = EXC_TS;
        throw e;
      }
    }
    c.setEip(nEip);
  }
  if (errorCode >= 0) {
    if (is32) c.push32(errorCode);
    else c.push16(errorCode);
  }
}

function loadLdtForTask(c: Cpu, sel: number): void {
  if ((sel & ~3) === 0) {
    setSegment(c, LDTR, 0, 0, 0, AR_UNUSABLE);
    return;
  }
  if ((sel & 4) !== 0) c.raise(EXC_TS, sel & 0xfffc);
  const addrFound = fetchDescriptor(c, sel);
  if (!addrFound || (descAccess(dHi) & 0x1f) !== 0x2) c.raise(EXC_TS, sel & 0xfffc);
  if ((descAccess(dHi) & AR_P) === 0) c.raise(EXC_TS, sel & 0xfffc);
  setSegment(c, LDTR, sel, descBase(dLo, dHi), descLimit(dLo, dHi), descAccess(dHi));
}

// ------------------------------------------------------------------ system instructions

export function lldt(c: Cpu, sel: number): void {
  if ((sel & ~3) === 0) {
    setSegment(c, LDTR, sel, 0, 0, AR_UNUSABLE);
    return;
  }
  if ((sel & 4) !== 0) c.gp(sel & 0xfffc);
  const addrFound = fetchDescriptor(c, sel);
  if (!addrFound) c.gp(sel & 0xfffc);
  if ((descAccess(dHi) & 0x1f) !== 0x2) c.gp(sel & 0xfffc);
  if ((descAccess(dHi) & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
  setSegment(c, LDTR, sel, descBase(dLo, dHi), descLimit(dLo, dHi), descAccess(dHi));
}

export function ltr(c: Cpu, sel: number): void {
  if ((sel & ~3) === 0) c.gp(0);
  if ((sel & 4) !== 0) c.gp(sel & 0xfffc);
  const addrFound = fetchDescriptor(c, sel);
  const addr = dAddr;
  if (!addrFound) c.gp(sel & 0xfffc);
  const type = descAccess(dHi) & 0x1f;
  if (type !== 0x1 && type !== 0x9) c.gp(sel & 0xfffc);
  if ((descAccess(dHi) & AR_P) === 0) c.raise(EXC_NP, sel & 0xfffc);
  c.writeSys8((addr + 5) | 0, ((dHi >>> 8) & 0xff) | 0x2);
  setSegment(c, TR, sel, descBase(dLo, dHi), descLimit(dLo, dHi), descAccess(dHi) | 0x2);
}

/** LAR/LSL/VERR/VERW: look at a descriptor without faulting. Returns false if not visible. */
function peekDescriptor(c: Cpu, sel: number): boolean {
  if ((sel & ~3) === 0) return false;
  return fetchDescriptor(c, sel);
}

function visibleAtCpl(c: Cpu, sel: number, access: number): boolean {
  const conformingCode = (access & AR_S) !== 0 && (access & 0xc) === 0xc;
  return conformingCode || (dpl(access) >= c.cpl && dpl(access) >= (sel & 3));
}

/** System descriptor types LAR accepts: legacy (16-/32-bit TSS, LDT, gates) and in IA-32e mode (LDT, 64-bit TSS, call gate). */
const LAR_TYPES = 0b0001_1010_0011_1110; // 1 2 3 4 5 9 B C
const LAR_TYPES_LONG = 0b0001_1010_0000_0100; // 2 9 B C
const LSL_TYPES = 0b0000_1010_0000_1110; // 1 2 3 9 B
const LSL_TYPES_LONG = 0b0000_1010_0000_0100; // 2 9 B

/**
 * LAR, LSL, VERR and VERW on a descriptor already read (words lo, hi): one semantic for
 * legacy and IA-32e mode, which differ only in where the table is and which system types count.
 * Null (ZF=0) when the selector's descriptor is not visible or of the wrong type.
 */
export function larOf(c: Cpu, sel: number, hi: number, long: boolean): number | null {
  const access = descAccess(hi);
  if ((access & AR_S) === 0 && ((long ? LAR_TYPES_LONG : LAR_TYPES) & (1 << (access & 0xf))) === 0) return null;
  if (!visibleAtCpl(c, sel, access)) return null;
  return hi & 0x00f0ff00;
}

export function lslOf(c: Cpu, sel: number, lo: number, hi: number, long: boolean): number | null {
  const access = descAccess(hi);
  if ((access & AR_S) === 0 && ((long ? LSL_TYPES_LONG : LSL_TYPES) & (1 << (access & 0xf))) === 0) return null;
  if (!visibleAtCpl(c, sel, access)) return null;
  return descLimit(lo, hi);
}

export function verrOf(c: Cpu, sel: number, hi: number): boolean {
  const access = descAccess(hi);
  if ((access & AR_S) === 0) return false;
  if ((access & 0xa) === 0x8) return false; // execute-only code
  return visibleAtCpl(c, sel, access);
}

export function verwOf(c: Cpu, sel: number, hi: number): boolean {
  const access = descAccess(hi);
  if ((access & AR_S) === 0 || (access & 0xa) !== 0x2) return false;
  return dpl(access) >= c.cpl && dpl(access) >= (sel & 3);
}

/** LAR: returns the access-rights dword, or null when not visible (ZF=0). */
export function lar(c: Cpu, sel: number): number | null {
  return peekDescriptor(c, sel) ? larOf(c, sel, dHi, false) : null;
}

/** LSL: returns the byte limit, or null when not visible (ZF=0). */
export function lsl(c: Cpu, sel: number): number | null {
  return peekDescriptor(c, sel) ? lslOf(c, sel, dLo, dHi, false) : null;
}

export function verr(c: Cpu, sel: number): boolean {
  return peekDescriptor(c, sel) && verrOf(c, sel, dHi);
}

export function verw(c: Cpu, sel: number): boolean {
  return peekDescriptor(c, sel) && verwOf(c, sel, dHi);
}

export function sysenter(c: Cpu): void {
  if (!c.protectedMode || (c.sysenterCs & 0xfffc) === 0) c.gp(0);
  c.setEflags(0, VM | IF | RF);
  const cs = c.sysenterCs & 0xfffc;
  setSegment(c, CS, cs, 0, -1, AR_P | AR_S | 0xb | AR_DB | (1 << 15));
  setSegment(c, SS, (cs + 8) & 0xfffc, 0, -1, AR_P | AR_S | 0x3 | AR_DB | (1 << 15));
  c.cpl = 0;
  c.updateMode();
  c.r32[4] = c.sysenterEsp;
  c.setEip(c.sysenterEip);
}

export function sysexit(c: Cpu): void {
  if (!c.protectedMode || c.cpl !== 0 || (c.sysenterCs & 0xfffc) === 0) c.gp(0);
  const cs = ((c.sysenterCs + 16) & 0xfffc) | 3;
  setSegment(c, CS, cs, 0, -1, AR_P | AR_S | 0xb | (3 << 5) | AR_DB | (1 << 15));
  setSegment(c, SS, ((c.sysenterCs + 24) & 0xfffc) | 3, 0, -1, AR_P | AR_S | 0x3 | (3 << 5) | AR_DB | (1 << 15));
  c.cpl = 3;
  c.updateMode();
  c.r32[4] = c.r32[1];
  c.setEip(c.r32[2]);
}

export { EXC_PF };
