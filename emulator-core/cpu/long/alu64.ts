/**
 * 64-bit integer arithmetic on hi:lo int32 pairs with eagerly computed flags (the lazy
 * flag state of the 32-bit model is 32 bits wide). Results: low half returned, high half
 * in the CPU's LongState (`resHi`); multiply/divide also use `res2Lo`/`res2Hi` and
 * `quotLo`/`quotHi` there. Allocation-free.
 */
import { AF, ARITH_FLAGS, CF, OF, PF, SF, ZF } from '../constants.js';
import type { Cpu } from '../cpu.js';
import type { LongState } from './state.js';

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  PARITY[i] = (b & 1) === 0 ? PF : 0;
}

/** Replace the six arithmetic flags. */
export function setArith(c: Cpu, f: number): void {
  c.flags = (c.flags & ~ARITH_FLAGS) | f;
  c.lazyMask = 0;
}

/** ZF, SF, PF of a 64-bit result. */
export function szp(lo: number, hi: number): number {
  return ((lo | hi) === 0 ? ZF : 0) | (hi < 0 ? SF : 0) | PARITY[lo & 0xff];
}

export function add64(c: Cpu, al: number, ah: number, bl: number, bh: number, carry: number): number {
  const s = (al >>> 0) + (bl >>> 0) + carry;
  const lo = s | 0;
  const c0 = s > 0xffffffff ? 1 : 0;
  const sh = (ah >>> 0) + (bh >>> 0) + c0;
  const hi = sh | 0;
  let f = szp(lo, hi);
  if (sh > 0xffffffff) f |= CF;
  if (((ah ^ hi) & (bh ^ hi)) < 0) f |= OF;
  if (((al ^ bl ^ lo) & 0x10) !== 0) f |= AF;
  setArith(c, f);
  c.lm.resHi = hi;
  return lo;
}

export function sub64(c: Cpu, al: number, ah: number, bl: number, bh: number, borrow: number): number {
  const s = (al >>> 0) - (bl >>> 0) - borrow;
  const lo = s | 0;
  const b0 = s < 0 ? 1 : 0;
  const sh = (ah >>> 0) - (bh >>> 0) - b0;
  const hi = sh | 0;
  let f = szp(lo, hi);
  if (sh < 0) f |= CF;
  if (((ah ^ bh) & (ah ^ hi)) < 0) f |= OF;
  if (((al ^ bl ^ lo) & 0x10) !== 0) f |= AF;
  setArith(c, f);
  c.lm.resHi = hi;
  return lo;
}

export function logic64(c: Cpu, lo: number, hi: number): number {
  setArith(c, szp(lo, hi));
  c.lm.resHi = hi;
  return lo;
}

/** ALU group op 0-7 (ADD OR ADC SBB AND SUB XOR CMP) on 64-bit operands. */
export function alu64(c: Cpu, op: number, al: number, ah: number, bl: number, bh: number): number {
  switch (op) {
    case 0:
      return add64(c, al, ah, bl, bh, 0);
    case 1:
      return logic64(c, al | bl, ah | bh);
    case 2:
      return add64(c, al, ah, bl, bh, c.getCF());
    case 3:
      return sub64(c, al, ah, bl, bh, c.getCF());
    case 4:
      return logic64(c, al & bl, ah & bh);
    case 5:
      return sub64(c, al, ah, bl, bh, 0);
    case 6:
      return logic64(c, al ^ bl, ah ^ bh);
    default:
      sub64(c, al, ah, bl, bh, 0);
      c.lm.resHi = ah;
      return al;
  }
}

/** INC/DEC (CF preserved). */
export function incDec64(c: Cpu, lo: number, hi: number, dec: boolean): number {
  const cf = c.getCF();
  const r = dec ? sub64(c, lo, hi, 1, 0, 0) : add64(c, lo, hi, 1, 0, 0);
  c.flags = (c.flags & ~CF) | cf;
  return r;
}

// ------------------------------------------------------------------ shifts and rotates

/** Shift hi:lo left by n (0-63); result low, lm.resHi high. */
export function shl(lm: LongState, lo: number, hi: number, n: number): number {
  if (n === 0) {
    lm.resHi = hi;
    return lo;
  }
  if (n >= 32) {
    lm.resHi = n === 32 ? lo : lo << (n - 32);
    return 0;
  }
  lm.resHi = (hi << n) | (lo >>> (32 - n));
  return lo << n;
}

export function shr(lm: LongState, lo: number, hi: number, n: number): number {
  if (n === 0) {
    lm.resHi = hi;
    return lo;
  }
  if (n >= 32) {
    lm.resHi = 0;
    return n === 32 ? hi : hi >>> (n - 32);
  }
  lm.resHi = hi >>> n;
  return (lo >>> n) | (hi << (32 - n));
}

export function sar(lm: LongState, lo: number, hi: number, n: number): number {
  if (n === 0) {
    lm.resHi = hi;
    return lo;
  }
  if (n >= 32) {
    lm.resHi = hi >> 31;
    return n === 32 ? hi : hi >> (n - 32);
  }
  lm.resHi = hi >> n;
  return (lo >>> n) | (hi << (32 - n));
}

function bit(lo: number, hi: number, i: number): number {
  return i >= 32 ? (hi >>> (i - 32)) & 1 : (lo >>> i) & 1;
}

function setCfOf(c: Cpu, cf: number, of: number): void {
  c.materializeFlags();
  c.flags = (c.flags & ~(CF | OF)) | (cf !== 0 ? CF : 0) | (of !== 0 ? OF : 0);
}

/** Group-2 op (ROL ROR RCL RCR SHL SHR SAL SAR) on a 64-bit operand; count masked to 6 bits. */
export function shift64(c: Cpu, op: number, lo: number, hi: number, count: number): number {
  const n = count & 0x3f;
  if (n === 0) {
    c.lm.resHi = hi;
    return lo;
  }
  let rl: number;
  let rh: number;
  let cf: number;
  switch (op) {
    case 0: {
      rl = shl(c.lm, lo, hi, n);
      rh = c.lm.resHi;
      const l2 = shr(c.lm, lo, hi, 64 - n);
      rl |= l2;
      rh |= c.lm.resHi;
      cf = rl & 1;
      setCfOf(c, cf, (rh >>> 31) ^ cf);
      break;
    }
    case 1: {
      rl = shr(c.lm, lo, hi, n);
      rh = c.lm.resHi;
      const l2 = shl(c.lm, lo, hi, 64 - n);
      rl |= l2;
      rh |= c.lm.resHi;
      cf = rh >>> 31;
      setCfOf(c, cf, cf ^ ((rh >>> 30) & 1));
      break;
    }
    case 2: {
      cf = c.getCF();
      rl = lo;
      rh = hi;
      for (let i = 0; i < n; i++) {
        const out = rh >>> 31;
        rh = (rh << 1) | (rl >>> 31);
        rl = (rl << 1) | cf;
        cf = out;
      }
      setCfOf(c, cf, (rh >>> 31) ^ cf);
      break;
    }
    case 3: {
      cf = c.getCF();
      const of = (hi >>> 31) ^ cf;
      rl = lo;
      rh = hi;
      for (let i = 0; i < n; i++) {
        const out = rl & 1;
        rl = (rl >>> 1) | (rh << 31);
        rh = (rh >>> 1) | (cf << 31);
        cf = out;
      }
      setCfOf(c, cf, of);
      break;
    }
    case 4:
    case 6:
      cf = bit(lo, hi, 64 - n);
      rl = shl(c.lm, lo, hi, n);
      rh = c.lm.resHi;
      setArith(c, szp(rl, rh) | (cf !== 0 ? CF : 0) | ((rh >>> 31) ^ cf ? OF : 0) | AF);
      break;
    case 5:
      cf = bit(lo, hi, n - 1);
      rl = shr(c.lm, lo, hi, n);
      rh = c.lm.resHi;
      setArith(c, szp(rl, rh) | (cf !== 0 ? CF : 0) | (hi < 0 ? OF : 0) | AF);
      break;
    default:
      cf = bit(lo, hi, n - 1);
      rl = sar(c.lm, lo, hi, n);
      rh = c.lm.resHi;
      setArith(c, szp(rl, rh) | (cf !== 0 ? CF : 0) | AF);
  }
  c.lm.resHi = rh;
  return rl;
}

/** SHLD/SHRD on 64-bit operands. */
export function doubleShift64(c: Cpu, dl: number, dh: number, sl: number, sh: number, count: number, left: boolean): number {
  const n = count & 0x3f;
  if (n === 0) {
    c.lm.resHi = dh;
    return dl;
  }
  let rl: number;
  let rh: number;
  let cf: number;
  if (left) {
    rl = shl(c.lm, dl, dh, n);
    rh = c.lm.resHi;
    rl |= shr(c.lm, sl, sh, 64 - n);
    rh |= c.lm.resHi;
    cf = bit(dl, dh, 64 - n);
  } else {
    rl = shr(c.lm, dl, dh, n);
    rh = c.lm.resHi;
    rl |= shl(c.lm, sl, sh, 64 - n);
    rh |= c.lm.resHi;
    cf = bit(dl, dh, n - 1);
  }
  const of = ((rh ^ dh) >>> 31) & 1;
  setArith(c, szp(rl, rh) | (cf !== 0 ? CF : 0) | (of !== 0 ? OF : 0) | AF);
  c.lm.resHi = rh;
  return rl;
}

// ------------------------------------------------------------------ multiply and divide

/** Unsigned 32x32 → 64 into (lo, lm.resHi). */
function mul32(lm: LongState, a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  lm.resHi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
  return (p00 & 0xffff) | (mid << 16);
}

/** Unsigned 64x64 → 128: low 64 in (return, lm.resHi), high 64 in (lm.res2Lo, lm.res2Hi). */
export function mulU64(lm: LongState, al: number, ah: number, bl: number, bh: number): number {
  const w0 = mul32(lm, al, bl);
  let w1 = lm.resHi >>> 0;
  let w2 = 0;
  let w3 = 0;
  let t = mul32(lm, al, bh);
  w1 += t >>> 0;
  w2 += lm.resHi >>> 0;
  t = mul32(lm, ah, bl);
  w1 += t >>> 0;
  w2 += lm.resHi >>> 0;
  t = mul32(lm, ah, bh);
  w2 += t >>> 0;
  w3 += lm.resHi >>> 0;
  // Propagate carries (each sum stays far below 2^53).
  w2 += Math.floor(w1 / 4294967296);
  w3 += Math.floor(w2 / 4294967296);
  lm.res2Lo = w2 | 0;
  lm.res2Hi = w3 | 0;
  lm.resHi = w1 | 0;
  return w0;
}

/** Signed 64x64 → 128 (same outputs as mulU64). */
export function mulS64(lm: LongState, al: number, ah: number, bl: number, bh: number): number {
  const lo = mulU64(lm, al, ah, bl, bh);
  const rh = lm.resHi;
  let hl = lm.res2Lo;
  let hh = lm.res2Hi;
  if (ah < 0) {
    const s = (hl >>> 0) - (bl >>> 0);
    hh = (hh - bh - (s < 0 ? 1 : 0)) | 0;
    hl = s | 0;
  }
  if (bh < 0) {
    const s = (hl >>> 0) - (al >>> 0);
    hh = (hh - ah - (s < 0 ? 1 : 0)) | 0;
    hl = s | 0;
  }
  lm.res2Lo = hl;
  lm.res2Hi = hh;
  lm.resHi = rh;
  return lo;
}

function lessU64(ah: number, al: number, bh: number, bl: number): boolean {
  return ah >>> 0 < bh >>> 0 || (ah === bh && al >>> 0 < bl >>> 0);
}

/**
 * Unsigned 128/64: (n3:n2:n1:n0) / (dh:dl). Returns false on #DE (zero divisor or a
 * quotient wider than 64 bits). Quotient in (lm.quotLo, lm.quotHi), remainder in
 * (lm.res2Lo, lm.res2Hi).
 */
export function divU128(lm: LongState, n3: number, n2: number, n1: number, n0: number, dh: number, dl: number): boolean {
  if ((dh | dl) === 0) return false;
  if (!lessU64(n3, n2, dh, dl)) return false;
  // Restoring division, one quotient bit per step; the remainder r (< d) lives in rh:rl
  // with a 65th bit in `top` after each shift.
  let rh = n3;
  let rl = n2;
  let qh = 0;
  let ql = 0;
  let sh = n1;
  let sl = n0;
  for (let i = 0; i < 64; i++) {
    const top = rh >>> 31;
    rh = (rh << 1) | (rl >>> 31);
    rl = (rl << 1) | (sh >>> 31);
    sh = (sh << 1) | (sl >>> 31);
    sl <<= 1;
    qh = (qh << 1) | (ql >>> 31);
    ql <<= 1;
    if (top !== 0 || !lessU64(rh, rl, dh, dl)) {
      const s = (rl >>> 0) - (dl >>> 0);
      rh = (rh - dh - (s < 0 ? 1 : 0)) | 0;
      rl = s | 0;
      ql |= 1;
    }
  }
  lm.quotLo = ql;
  lm.quotHi = qh;
  lm.res2Lo = rl;
  lm.res2Hi = rh;
  return true;
}

function neg64(lm: LongState, lo: number, hi: number): number {
  lm.resHi = (~hi + (lo === 0 ? 1 : 0)) | 0;
  return -lo | 0;
}

/** Signed 128/64 (same outputs as divU128). */
export function divS128(lm: LongState, n3: number, n2: number, n1: number, n0: number, dh: number, dl: number): boolean {
  if ((dh | dl) === 0) return false;
  const negN = n3 < 0;
  const negD = dh < 0;
  if (negN) {
    // Negate the 128-bit dividend.
    let x0 = ~n0;
    let x1 = ~n1;
    let x2 = ~n2;
    let x3 = ~n3;
    let s = (x0 >>> 0) + 1;
    x0 = s | 0;
    let carry = s > 0xffffffff ? 1 : 0;
    s = (x1 >>> 0) + carry;
    x1 = s | 0;
    carry = s > 0xffffffff ? 1 : 0;
    s = (x2 >>> 0) + carry;
    x2 = s | 0;
    carry = s > 0xffffffff ? 1 : 0;
    x3 = (x3 + carry) | 0;
    n0 = x0;
    n1 = x1;
    n2 = x2;
    n3 = x3;
  }
  if (negD) {
    dl = neg64(lm, dl, dh);
    dh = lm.resHi;
  }
  if (!divU128(lm, n3, n2, n1, n0, dh, dl)) return false;
  const negQ = negN !== negD;
  // |q| must fit: q <= 2^63 - 1, or 2^63 when negative.
  if (lm.quotHi < 0 && !(negQ && lm.quotHi === (0x80000000 | 0) && lm.quotLo === 0)) return false;
  if (negQ) {
    lm.quotLo = neg64(lm, lm.quotLo, lm.quotHi);
    lm.quotHi = lm.resHi;
  }
  if (negN) {
    lm.res2Lo = neg64(lm, lm.res2Lo, lm.res2Hi);
    lm.res2Hi = lm.resHi;
  }
  return true;
}
