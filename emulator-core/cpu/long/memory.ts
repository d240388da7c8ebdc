/**
 * Memory access by 64-bit linear address (hi:lo int32 halves) for the 64-bit executor.
 * Addresses below 4 GiB go through the CPU's 32-bit TLB fast paths; others through the
 * long-mode TLB. Non-canonical addresses raise #GP(0), or #SS(0) for stack references
 * (`c.lm.stackRef`). 64-bit values come back as the low half with the high half in
 * `c.lm.readHi`.
 */
import { EXC_GP, EXC_SS } from '../constants.js';
import type { Cpu } from '../cpu.js';
import { PHYS_NONE, walkLong } from './paging.js';

const ACCESS_READ = 0;
const ACCESS_WRITE = 1;
const ACCESS_EXEC = 2;

export function isCanonical(hi: number): boolean {
  return (hi << 16) >> 16 === hi;
}

export function checkCanonical(c: Cpu, hi: number): void {
  if ((hi << 16) >> 16 !== hi) c.raise(c.lm.stackRef ? EXC_SS : EXC_GP, 0);
}

function needFlag(c: Cpu, access: number, user: boolean): number {
  if (access === ACCESS_WRITE) return user ? 0x10 : 0x08;
  if (access === ACCESS_EXEC) return user ? 0x40 : 0x20;
  return user ? 0x04 : 0x02;
}

/** The cached TLB entry of linear page hi:lo (the 32-bit TLB below 4 GiB, the long-mode TLB above), 0 if none. */
export function tlbEntry64(c: Cpu, hi: number, lo: number): number {
  return hi === 0 ? c.tlb[lo >>> 12] : c.lm.tlb.lookup(hi, lo);
}

/** Physical address of hi:lo for an access (translating and filling the TLB on a miss). */
export function physFor64(c: Cpu, hi: number, lo: number, access: number, user: boolean): number {
  if (hi === 0) return c.physFor(lo, access, user);
  checkCanonical(c, hi);
  const e = c.lm.tlb.lookup(hi, lo);
  if ((e & needFlag(c, access, user)) !== 0) {
    const p = c.lm.tlb.physPage(hi, lo);
    return p === PHYS_NONE ? PHYS_NONE : (p | (lo & 0xfff)) >>> 0;
  }
  return walkLong(c, hi, lo, access, user);
}

function byteRead(c: Cpu, hi: number, lo: number, user: boolean): number {
  const p = physFor64(c, hi, lo, ACCESS_READ, user);
  return p === PHYS_NONE ? 0xff : c.mem.read8(p);
}

function byteWrite(c: Cpu, hi: number, lo: number, v: number, user: boolean): void {
  const p = physFor64(c, hi, lo, ACCESS_WRITE, user);
  if (p !== PHYS_NONE) c.mem.write8(p, v);
}

/** hi:lo + n as the high half (carry out of the low half). */
function hiAfter(hi: number, lo: number, n: number): number {
  return (lo >>> 0) + n > 0xffffffff ? (hi + 1) | 0 : hi;
}

/** Read `n` (1, 2, 4) bytes at hi:lo. */
export function readN(c: Cpu, hi: number, lo: number, n: number, user: boolean): number {
  if (hi === 0 && user === (c.cpl === 3)) {
    if (n === 4) return c.readLin32(lo);
    if (n === 2) return c.readLin16(lo);
    return c.readLin8(lo);
  }
  checkCanonical(c, hi);
  if ((lo & 0xfff) <= 0x1000 - n) {
    const p = physFor64(c, hi, lo, ACCESS_READ, user);
    if (p === PHYS_NONE) return n === 4 ? -1 : (1 << (n * 8)) - 1;
    return n === 4 ? c.mem.read32(p) : n === 2 ? c.mem.read16(p) : c.mem.read8(p);
  }
  // Page-crossing: the last byte must be canonical too (#GP, not #PF, across 2^47), then translate both pages before reading.
  checkCanonical(c, hiAfter(hi, lo, n - 1));
  physFor64(c, hi, lo, ACCESS_READ, user);
  physFor64(c, hiAfter(hi, lo, n - 1), (lo + n - 1) | 0, ACCESS_READ, user);
  let v = 0;
  for (let i = 0; i < n; i++) v |= byteRead(c, hiAfter(hi, lo, i), (lo + i) | 0, user) << (i * 8);
  return v;
}

/** Fault now unless hi:lo .. +n-1 is writable. */
export function checkWritable64(c: Cpu, hi: number, lo: number, n: number, user: boolean): void {
  checkCanonical(c, hi);
  checkCanonical(c, hiAfter(hi, lo, n - 1));
  physFor64(c, hi, lo, ACCESS_WRITE, user);
  const last = (lo + n - 1) | 0;
  if (last >>> 12 !== lo >>> 12) physFor64(c, hiAfter(hi, lo, n - 1), last & ~0xfff, ACCESS_WRITE, user);
}

export function writeN(c: Cpu, hi: number, lo: number, n: number, v: number, user: boolean): void {
  if (hi === 0 && user === (c.cpl === 3)) {
    if (n === 4) c.writeLin32(lo, v);
    else if (n === 2) c.writeLin16(lo, v);
    else c.writeLin8(lo, v);
    return;
  }
  checkCanonical(c, hi);
  if ((lo & 0xfff) <= 0x1000 - n) {
    const p = physFor64(c, hi, lo, ACCESS_WRITE, user);
    if (p === PHYS_NONE) return;
    if (n === 4) c.mem.write32(p, v);
    else if (n === 2) c.mem.write16(p, v);
    else c.mem.write8(p, v);
    return;
  }
  checkWritable64(c, hi, lo, n, user);
  for (let i = 0; i < n; i++) byteWrite(c, hiAfter(hi, lo, i), (lo + i) | 0, (v >> (i * 8)) & 0xff, user);
}

/** Read 8 bytes: returns the low half, high half in c.lm.readHi. */
export function read64(c: Cpu, hi: number, lo: number, user: boolean): number {
  checkCanonical(c, hi);
  if ((lo & 0xfff) > 0xff8) {
    physFor64(c, hiAfter(hi, lo, 7), (lo + 7) | 0, ACCESS_READ, user);
  }
  const l = readN(c, hi, lo, 4, user);
  c.lm.readHi = readN(c, hiAfter(hi, lo, 4), (lo + 4) | 0, 4, user);
  return l;
}

export function write64(c: Cpu, hi: number, lo: number, vLo: number, vHi: number, user: boolean): void {
  checkCanonical(c, hi);
  if ((lo & 0xfff) > 0xff8) checkWritable64(c, hi, lo, 8, user);
  writeN(c, hi, lo, 4, vLo, user);
  writeN(c, hiAfter(hi, lo, 4), (lo + 4) | 0, 4, vHi, user);
}

/** Operand of `size` bytes (1, 2, 4, 8) at the current privilege; 8 → low half, c.lm.readHi high. */
export function readSized(c: Cpu, hi: number, lo: number, size: number): number {
  if (size === 8) return read64(c, hi, lo, c.cpl === 3);
  c.lm.readHi = 0;
  return readN(c, hi, lo, size, c.cpl === 3);
}

export function writeSized(c: Cpu, hi: number, lo: number, size: number, vLo: number, vHi: number): void {
  if (size === 8) write64(c, hi, lo, vLo, vHi, c.cpl === 3);
  else writeN(c, hi, lo, size, vLo, c.cpl === 3);
}

/** Instruction fetch at RIP = lm.ripHi:ip, through the CPU's fetch window. */
export function fetchByte(c: Cpu): number {
  const ip = c.ip;
  if ((ip - c.fetchBase) >>> 0 <= c.fetchSpan) {
    c.ip = (ip + 1) | 0;
    return c.u8[ip + c.fetchDelta];
  }
  return fetchSlow(c);
}

function fetchSlow(c: Cpu): number {
  const ip = c.ip;
  const hi = c.lm.ripHi;
  if ((hi << 16) >> 16 !== hi) c.gp(0);
  const user = c.cpl === 3;
  const phys = physFor64(c, hi, ip, ACCESS_EXEC, user);
  const e = tlbEntry64(c, hi, ip);
  c.ip = (ip + 1) | 0;
  if ((ip + 1) >>> 12 !== ip >>> 12 || ip === -1) {
    // The next byte is on another page (or RIP crosses 4 GiB): carry into the high half.
    if (ip === -1) c.lm.ripHi = (hi + 1) | 0;
  }
  if ((e & c.execMask) !== 0 && ip !== -1) {
    const pageStart = ip & ~0xfff;
    c.fetchBase = pageStart;
    c.fetchDelta = ((e & ~0xfff) >>> 0) - pageStart;
    // The window stops short of the top of the 4 GiB block so RIP's high half never carries inside it.
    c.fetchSpan = pageStart === (0xfffff000 | 0) ? 0xffe : 0xfff;
    return c.u8[ip + c.fetchDelta];
  }
  return phys === PHYS_NONE ? 0xff : c.mem.read8(phys);
}
