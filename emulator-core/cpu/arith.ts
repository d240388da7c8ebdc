/**
 * Multi-word arithmetic helpers (exact 32x32->64 multiply, 64/32 divide) and the flag
 * semantics of shifts, rotates and BCD adjustments. Pure functions over numbers; results
 * come back through module-level scratch fields so the hot paths allocate nothing.
 */
import { AF, CF, OF } from './constants.js';
import type { Cpu } from './cpu.js';

/** Results of mul/div helpers. */
export let resLo = 0;
export let resHi = 0;

/** Unsigned 32x32 -> 64: resLo, resHi (both int32 bit patterns). */
export function mulU32(a: number, b: number): void {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  resLo = (p00 & 0xffff) | (mid << 16);
  resHi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

/** Signed 32x32 -> 64. */
export function mulS32(a: number, b: number): void {
  mulU32(a, b);
  let hi = resHi;
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  resHi = hi;
}

/**
 * Unsigned (hi:lo) / d for 32-bit d. Returns false when the quotient does not fit in
 * 32 bits or d is zero (#DE). Quotient in resLo, remainder in resHi.
 */
export function divU64(hi: number, lo: number, d: number): boolean {
  const uh = hi >>> 0;
  const ud = d >>> 0;
  if (ud === 0 || uh >= ud) return false;
  if (uh === 0) {
    const ul = lo >>> 0;
    const q = Math.floor(ul / ud);
    resLo = q | 0;
    resHi = (ul - q * ud) | 0;
    return true;
  }
  // Long division in 16-bit digits keeps every intermediate below 2^48 (exact in doubles).
  let rem = uh * 65536 + (lo >>> 16);
  const q1 = Math.floor(rem / ud);
  rem -= q1 * ud;
  rem = rem * 65536 + (lo & 0xffff);
  const q0 = Math.floor(rem / ud);
  rem -= q0 * ud;
  resLo = (q1 * 65536 + q0) | 0;
  resHi = rem | 0;
  return true;
}

/** Signed (hi:lo) / d. Returns false on #DE (zero divisor or quotient overflow). */
export function divS64(hi: number, lo: number, d: number): boolean {
  if (d === 0) return false;
  const negN = hi < 0;
  const negD = d < 0;
  let nh = hi;
  let nl = lo;
  if (negN) {
    nl = -lo | 0;
    nh = (~hi + (lo === 0 ? 1 : 0)) | 0;
  }
  const ad = negD ? -d | 0 : d;
  if (!divU64(nh, nl, ad)) return false;
  const q = resLo >>> 0;
  const r = resHi >>> 0;
  const negQ = negN !== negD;
  if (negQ ? q > 0x80000000 : q > 0x7fffffff) return false;
  resLo = negQ ? -q | 0 : q | 0;
  resHi = negN ? -r | 0 : r | 0;
  return true;
}

/**
 * Group-2 shift/rotate: op 0 ROL, 1 ROR, 2 RCL, 3 RCR, 4 SHL, 5 SHR, 6 SAL(=SHL), 7 SAR.
 * `v` is the operand (only the low `bits` matter), `count` the raw count. Returns the new
 * value; flags are updated on the CPU unless the masked count is zero.
 */
export function shiftRotate(c: Cpu, op: number, v: number, count: number, bits: number): number {
  count &= 0x1f;
  if (count === 0) return v;
  const mask = bits === 32 ? -1 : (1 << bits) - 1;
  const sh = 32 - bits;
  v &= mask;
  const top = bits - 1;
  let r: number;
  let cf: number;
  let of: number;
  switch (op) {
    case 0: {
      const n = count & (bits - 1);
      r = n === 0 ? v : ((v << n) | (v >>> (bits - n))) & mask;
      cf = r & 1;
      of = ((r >>> top) & 1) ^ cf;
      setCfOf(c, cf, of);
      return r;
    }
    case 1: {
      const n = count & (bits - 1);
      r = n === 0 ? v : ((v >>> n) | (v << (bits - n))) & mask;
      cf = ((r >>> top) & 1);
      of = ((r >>> top) & 1) ^ ((r >>> (bits - 2)) & 1);
      setCfOf(c, cf, of);
      return r;
    }
    case 2: {
      // RCL rotates through CF: a (bits+1)-bit rotation.
      const n = bits === 32 ? count : count % (bits + 1);
      cf = c.getCF();
      r = v;
      for (let i = 0; i < n; i++) {
        const out = ((r >>> top) & 1);
        r = ((r << 1) | cf) & mask;
        cf = out;
      }
      of = ((r >>> top) & 1) ^ cf;
      setCfOf(c, cf, of);
      return r;
    }
    case 3: {
      const n = bits === 32 ? count : count % (bits + 1);
      cf = c.getCF();
      r = v;
      // OF for RCR is computed from the operand before rotation (for count 1).
      of = ((r >>> top) & 1) ^ cf;
      for (let i = 0; i < n; i++) {
        const out = r & 1;
        r = ((r >>> 1) | (cf << (bits - 1))) & mask;
        cf = out;
      }
      setCfOf(c, cf, of);
      return r;
    }
    case 4:
    case 6: {
      if (count <= bits) {
        cf = count === bits ? v & 1 : (v >>> (bits - count)) & 1;
        r = count === 32 ? 0 : (v << count) & mask;
      } else {
        cf = 0;
        r = 0;
      }
      of = ((r >>> top) & 1) ^ cf;
      c.setResultFlags(r, sh, (cf ? CF : 0) | (of ? OF : 0) | AF);
      return r;
    }
    case 5: {
      if (count <= bits) {
        cf = (v >>> (count - 1)) & 1;
        r = count === 32 ? 0 : v >>> count;
      } else {
        cf = 0;
        r = 0;
      }
      of = ((v >>> top) & 1);
      c.setResultFlags(r, sh, (cf ? CF : 0) | (of ? OF : 0) | AF);
      return r;
    }
    default: {
      const sv = (v << sh) >> sh;
      if (count < bits) {
        cf = (sv >> (count - 1)) & 1;
        r = (sv >> count) & mask;
      } else {
        cf = sv < 0 ? 1 : 0;
        r = sv < 0 ? mask : 0;
      }
      c.setResultFlags(r, sh, (cf ? CF : 0) | AF);
      return r;
    }
  }
}

function setCfOf(c: Cpu, cf: number, of: number): void {
  c.materializeFlags();
  c.flags = (c.flags & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
}

/** SHLD/SHRD on 16/32-bit operands. `left` selects SHLD. */
export function doubleShift(c: Cpu, dst: number, src: number, count: number, bits: number, left: boolean): number {
  count &= 0x1f;
  if (count === 0) return dst;
  const mask = bits === 32 ? -1 : (1 << bits) - 1;
  const sh = 32 - bits;
  dst &= mask;
  src &= mask;
  let r: number;
  let cf: number;
  if (bits === 16 && count > 16) {
    // The SDM leaves this undefined; model it as a shift of the 32-bit value dst:src
    // (SHLD) or src:dst (SHRD), which is what Intel cores produce.
    const wide = left ? ((dst << 16) | src) >>> 0 : ((src << 16) | dst) >>> 0;
    if (left) {
      r = (wide << (count - 16)) >>> 16 & 0xffff;
      cf = (wide >>> (32 - (count - 16))) & 1;
    } else {
      r = (wide >>> (count - 16)) & 0xffff;
      cf = (wide >>> (count - 17)) & 1;
    }
  } else if (left) {
    r = ((dst << count) | (src >>> (bits - count))) & mask;
    cf = (dst >>> (bits - count)) & 1;
  } else {
    r = ((dst >>> count) | (src << (bits - count))) & mask;
    cf = (dst >>> (count - 1)) & 1;
  }
  const of = ((r ^ dst) >>> (bits - 1)) & 1;
  c.setResultFlags(r, sh, (cf ? CF : 0) | (of ? OF : 0) | AF);
  return r;
}

/** Flags after a multiply: CF=OF=overflow; SF/ZF/PF from the low result (undefined by the SDM). */
export function mulFlags(c: Cpu, lowResult: number, sh: number, overflow: boolean): void {
  c.setResultFlags(lowResult, sh, overflow ? CF | OF : 0);
}

