/**
 * SSE scalar floating-point arithmetic on binary32 and binary64 bit patterns, bit-for-bit as
 * the SDM defines it under MXCSR: all four rounding modes, FTZ, DAZ, the six exception flags,
 * and the SSE NaN rules (first source's NaN wins, SNaNs quieted, default NaN for invalid).
 *
 * Values travel as bits (binary32: one uint32; binary64: lo/hi uint32 halves), never as JS
 * numbers loaded from a Float32Array, because such a load quiets signaling NaNs. Each lane
 * operation leaves its result in `st.lo`/`st.hi` and ORs its exceptions into `st.pre`
 * (invalid, denormal, divide-by-zero: detected before computing) or `st.post` (overflow,
 * underflow, inexact); the instruction decides from both whether it faults (float-arith.ts).
 *
 * Fast path: round-to-nearest with normal operands and a normal result is plain JS
 * arithmetic (binary64 rounds binary32 operations correctly: 53 >= 2*24+2), with an exact
 * inexactness check (TwoSum error, Dekker product, remainder). Everything else (directed
 * rounding, denormals, overflow, tiny results) takes the exact slow path: BigInt
 * significands rounded once by float80.ts's roundAt. Tininess is detected after rounding,
 * FTZ flushes results that are tiny after rounding (both checked against the host CPU).
 */
import { bitLength, isqrt, rBits, rE, rInexact, rM, roundAt } from '../float80.js';

export const EX_IE = 0x01;
export const EX_DE = 0x02;
export const EX_ZE = 0x04;
export const EX_OE = 0x08;
export const EX_UE = 0x10;
export const EX_PE = 0x20;

export const RC_NEAREST = 0;
export const RC_DOWN = 1;
export const RC_UP = 2;
export const RC_ZERO = 3;

export const OP_ADD = 0;
export const OP_SUB = 1;
export const OP_MUL = 2;
export const OP_DIV = 3;
export const OP_MIN = 4;
export const OP_MAX = 5;
export const OP_SQRT = 6;

// Operand kinds.
const ZERO = 0;
const DEN = 1;
const NORM = 2;
const INF = 3;
const QNAN = 4;
const SNAN = 5;

/** A binary format: precision, normal exponent range. */
interface Fmt {
  p: number;
  emin: number;
  emax: number;
}
const F32: Fmt = { p: 24, emin: -126, emax: 127 };
const F64: Fmt = { p: 53, emin: -1022, emax: 1023 };

export const DEFAULT_NAN32 = 0xffc00000;
export const DEFAULT_NAN64_HI = 0xfff80000;

/** Per-instruction rounding context (from MXCSR), exception accumulators and lane result. */
export class SseStatus {
  rc = RC_NEAREST;
  daz = false;
  ftz = false;
  /** Exception mask bits (MXCSR 12:7 shifted down: 1 = masked). */
  masks = 0x3f;
  /** Pre-computation exceptions of the instruction so far (IE, DE, ZE). */
  pre = 0;
  /** Post-computation exceptions (OE, UE, PE). */
  post = 0;
  /** Lane result: binary32 bits in lo; binary64 as lo/hi halves. */
  lo = 0;
  hi = 0;
  begin(mxcsr: number): void {
    this.rc = (mxcsr >> 13) & 3;
    this.daz = (mxcsr & 0x40) !== 0;
    this.ftz = (mxcsr & 0x8000) !== 0;
    this.masks = (mxcsr >> 7) & 0x3f;
    this.pre = 0;
    this.post = 0;
  }
}

// Scratch for reinterpreting bits as numbers (no allocation per operation).
const sBuf = new ArrayBuffer(8);
const sF32 = new Float32Array(sBuf);
const sF64 = new Float64Array(sBuf);
const sU32 = new Uint32Array(sBuf);

/** Value of binary32 bits `b` (not a NaN). */
export function f32val(b: number): number {
  sU32[0] = b;
  return sF32[0]!;
}
/** Bits of the binary32 number `v` (exactly representable, not a NaN). */
export function f32bits(v: number): number {
  sF32[0] = v;
  return sU32[0]!;
}
/** Value of binary64 halves (not a NaN). */
export function f64val(lo: number, hi: number): number {
  sU32[0] = lo;
  sU32[1] = hi;
  return sF64[0]!;
}
function setF64(st: SseStatus, v: number): void {
  sF64[0] = v;
  st.lo = sU32[0]!;
  st.hi = sU32[1]!;
}

function kind32(b: number): number {
  const e = (b >>> 23) & 0xff;
  const f = b & 0x7fffff;
  if (e === 0) return f === 0 ? ZERO : DEN;
  if (e !== 0xff) return NORM;
  if (f === 0) return INF;
  return (f & 0x400000) !== 0 ? QNAN : SNAN;
}

function kind64(lo: number, hi: number): number {
  const e = (hi >>> 20) & 0x7ff;
  const f = (hi & 0xfffff) | lo;
  if (e === 0) return f === 0 ? ZERO : DEN;
  if (e !== 0x7ff) return NORM;
  if (f === 0) return INF;
  return (hi & 0x80000) !== 0 ? QNAN : SNAN;
}

// ---------------------------------------------------------------------------------------
// Exact slow path

// Exact value of the last decoded operand or result: (-1)^xS * xM * 2^xE.
let xS = 0;
let xM = 0n;
let xE = 0;

function exact32(b: number): void {
  const e = (b >>> 23) & 0xff;
  const f = b & 0x7fffff;
  xS = b >>> 31;
  xM = BigInt(e === 0 ? f : f | 0x800000);
  xE = (e === 0 ? 1 : e) - 127 - 23;
}

function exact64(lo: number, hi: number): void {
  const e = (hi >>> 20) & 0x7ff;
  const fh = hi & 0xfffff;
  xS = hi >>> 31;
  xM = (BigInt(e === 0 ? fh : fh | 0x100000) << 32n) | BigInt(lo >>> 0);
  xE = (e === 0 ? 1 : e) - 1023 - 52;
}

/** Exact value of the integer hi:lo (two's complement when `signed`). */
function exactInt(lo: number, hi: number, signed: boolean): void {
  let v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  if (signed && hi < 0) v -= 1n << 64n;
  xS = v < 0n ? 1 : 0;
  xM = v < 0n ? -v : v;
  xE = 0;
}

/**
 * Round the exact nonzero value (-1)^s * m * 2^e to `fmt` under st's RC/FTZ/masks: result
 * bits into st.lo (binary32) or st.lo/st.hi (binary64), OE/UE/PE into st.post. Tininess
 * after rounding. An unmasked overflow or underflow raises OE or UE, with PE when the
 * result rounded with an unbounded exponent is inexact (what the handler would get), as
 * the host does; the caller then writes nothing.
 */
function roundPack(st: SseStatus, fmt: Fmt, s: number, m: bigint, e: number): void {
  const { p, emin, emax } = fmt;
  const nb = bitLength(m);
  const top = nb - 1 + e;
  const rc = st.rc;
  roundAt(s, m, e, top - (p - 1), rc, nb);
  const rtop = rBits - 1 + rE;
  if (rtop > emax) {
    if ((st.masks & EX_OE) === 0) {
      st.post |= rInexact ? EX_OE | EX_PE : EX_OE;
      packInf(st, fmt, s);
      return;
    }
    st.post |= EX_OE | EX_PE;
    const toInf = rc === RC_NEAREST || (rc === RC_DOWN && s === 1) || (rc === RC_UP && s === 0);
    if (toInf) packInf(st, fmt, s);
    else packFinite(st, fmt, s, (1n << BigInt(p)) - 1n, emax - (p - 1), p);
    return;
  }
  if (rtop < emin) {
    if ((st.masks & EX_UE) === 0) {
      st.post |= rInexact ? EX_UE | EX_PE : EX_UE;
      packZero(st, fmt, s);
      return;
    }
    if (st.ftz) {
      st.post |= EX_UE | EX_PE;
      packZero(st, fmt, s);
      return;
    }
    roundAt(s, m, e, emin - (p - 1), rc, nb);
    if (rInexact) st.post |= EX_UE | EX_PE;
    packFinite(st, fmt, s, rM, rE, rBits);
    return;
  }
  if (rInexact) st.post |= EX_PE;
  packFinite(st, fmt, s, rM, rE, rBits);
}

function packZero(st: SseStatus, fmt: Fmt, s: number): void {
  if (fmt === F32) st.lo = (s << 31) >>> 0;
  else {
    st.lo = 0;
    st.hi = (s << 31) >>> 0;
  }
}

function packInf(st: SseStatus, fmt: Fmt, s: number): void {
  if (fmt === F32) st.lo = ((s << 31) | 0x7f800000) >>> 0;
  else {
    st.lo = 0;
    st.hi = ((s << 31) | 0x7ff00000) >>> 0;
  }
}

/** Pack (-1)^s * m * 2^e, exactly representable in fmt (m has `nb` bits, nb <= p). */
function packFinite(st: SseStatus, fmt: Fmt, s: number, m: bigint, e: number, nb: number): void {
  if (m === 0n) {
    packZero(st, fmt, s);
    return;
  }
  const { p, emin } = fmt;
  const top = nb - 1 + e;
  let biased: number;
  let sig: number; // significand without the hidden bit, as a Number (< 2^52)
  if (top >= emin) {
    biased = top - emin + 1;
    sig = Number(m << BigInt(p - nb)) - 2 ** (p - 1);
  } else {
    biased = 0;
    sig = Number(m) * 2 ** (e - (emin - (p - 1)));
  }
  if (fmt === F32) st.lo = ((s << 31) | (biased << 23) | sig) >>> 0;
  else {
    st.lo = sig % 4294967296 >>> 0;
    st.hi = ((s << 31) | (biased << 20) | Math.floor(sig / 4294967296)) >>> 0;
  }
}

/** Exact (a op b) for finite nonzero operands (xS/xM/xE hold b on entry; a passed in). */
function exactOp(op: number, aS: number, aM: bigint, aE: number, p: number): void {
  const bS = op === OP_SUB ? xS ^ 1 : xS;
  const bM = xM;
  const bE = xE;
  switch (op) {
    case OP_ADD:
    case OP_SUB: {
      const e = Math.min(aE, bE);
      const am = aM << BigInt(aE - e);
      const bm = bM << BigInt(bE - e);
      let v = (aS ? -am : am) + (bS ? -bm : bm);
      xS = v < 0n ? 1 : 0;
      if (v < 0n) v = -v;
      xM = v;
      xE = e;
      return;
    }
    case OP_MUL:
      xS = aS ^ bS;
      xM = aM * bM;
      xE = aE + bE;
      return;
    case OP_DIV: {
      // Quotient with at least p + 2 bits, then a sticky bit for the remainder.
      const k = Math.max(0, p + 3 + bitLength(bM) - bitLength(aM));
      const n = aM << BigInt(k);
      const q = n / bM;
      xS = aS ^ bS;
      xM = (q << 1n) | (q * bM === n ? 0n : 1n);
      xE = aE - bE - k - 1;
      return;
    }
    default: {
      // OP_SQRT of b (a unused): an even exponent and at least 2p + 4 bits under the root.
      let m = bM;
      let e = bE;
      const need = 2 * p + 4 - bitLength(m);
      let sh = need > 0 ? need : 0;
      if (((e - sh) & 1) !== 0) sh++;
      m <<= BigInt(sh);
      e -= sh;
      const r = isqrt(m);
      xS = 0;
      xM = (r << 1n) | (r * r === m ? 0n : 1n);
      xE = e / 2 - 1;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Fast-path helpers

const SPLIT = 134217729; // 2^27 + 1 (Veltkamp)
/** The rounding error of a*b in binary64 (Dekker): exact when no partial product under/overflows. */
function productError(a: number, b: number, p: number): number {
  let c = SPLIT * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

const MIN_FAST32 = 2 ** -125;
const MIN_FAST64 = 2 ** -960;
const MAX_FAST64 = 2 ** 990;

// ---------------------------------------------------------------------------------------
// Arithmetic lanes

/** The quiet form of a binary32 NaN. */
function quiet32(b: number): number {
  return (b | 0x400000) >>> 0;
}

/**
 * Lane `op` (OP_*) on binary32 bits: dst `a`, source `b` (SQRT: b only). Result in st.lo.
 */
export function arith32(st: SseStatus, op: number, a: number, b: number): void {
  let ka = op === OP_SQRT ? ZERO : kind32(a);
  let kb = kind32(b);
  if (ka >= QNAN || kb >= QNAN) {
    if (op === OP_MIN || op === OP_MAX) {
      st.pre |= EX_IE; // MIN/MAX signal on QNaNs too and return the source operand
      st.lo = kb === DEN && st.daz ? (b & 0x80000000) >>> 0 : b;
      return;
    }
    if (ka === SNAN || kb === SNAN) st.pre |= EX_IE;
    st.lo = ka >= QNAN ? quiet32(a) : quiet32(b);
    return;
  }
  let den = false;
  if (ka === DEN) {
    if (st.daz) {
      a = (a & 0x80000000) >>> 0;
      ka = ZERO;
    } else den = true;
  }
  if (kb === DEN) {
    if (st.daz) {
      b = (b & 0x80000000) >>> 0;
      kb = ZERO;
    } else den = true;
  }
  const sa = a >>> 31;
  let sb = b >>> 31;
  switch (op) {
    case OP_MIN:
    case OP_MAX: {
      if (den) st.pre |= EX_DE;
      const va = f32val(a);
      const vb = f32val(b);
      st.lo = (op === OP_MIN ? va < vb : va > vb) ? a : b;
      return;
    }
    case OP_ADD:
    case OP_SUB:
      if (op === OP_SUB) sb ^= 1;
      if (ka === INF || kb === INF) {
        if (ka === INF && kb === INF && sa !== sb) return invalid32(st);
        if (den) st.pre |= EX_DE;
        st.lo = ka === INF ? a : ((sb << 31) | 0x7f800000) >>> 0;
        return;
      }
      if (ka === ZERO && kb === ZERO) {
        st.lo = (sa === sb ? sa << 31 : st.rc === RC_DOWN ? 0x80000000 : 0) >>> 0;
        return;
      }
      break;
    case OP_MUL:
      if (ka === INF || kb === INF) {
        if (ka === ZERO || kb === ZERO) return invalid32(st);
        if (den) st.pre |= EX_DE;
        st.lo = (((sa ^ sb) << 31) | 0x7f800000) >>> 0;
        return;
      }
      if (ka === ZERO || kb === ZERO) {
        if (den) st.pre |= EX_DE;
        st.lo = ((sa ^ sb) << 31) >>> 0;
        return;
      }
      break;
    case OP_DIV:
      if (ka === INF) {
        if (kb === INF) return invalid32(st);
        if (den) st.pre |= EX_DE;
        st.lo = (((sa ^ sb) << 31) | 0x7f800000) >>> 0;
        return;
      }
      if (kb === ZERO) {
        if (ka === ZERO) return invalid32(st);
        st.pre |= EX_ZE; // divide by zero outranks a denormal dividend: no DE
        st.lo = (((sa ^ sb) << 31) | 0x7f800000) >>> 0;
        return;
      }
      if (kb === INF || ka === ZERO) {
        if (den) st.pre |= EX_DE;
        st.lo = ((sa ^ sb) << 31) >>> 0;
        return;
      }
      break;
    default: // OP_SQRT
      if (kb === ZERO) {
        st.lo = b;
        return;
      }
      if (sb === 1) return invalid32(st);
      if (kb === INF) {
        st.lo = b;
        return;
      }
      break;
  }
  if (den) st.pre |= EX_DE;
  // Both operands finite and nonzero.
  if (st.rc === RC_NEAREST && !den) {
    const va = f32val(a);
    const vb = f32val(b);
    let f: number;
    let inexact: boolean;
    switch (op) {
      case OP_ADD:
      case OP_SUB: {
        const vb2 = op === OP_SUB ? -vb : vb;
        const d = va + vb2;
        const z = d - va;
        const err = va - (d - z) + (vb2 - z);
        f = Math.fround(d);
        inexact = err !== 0 || f !== d;
        if (d === 0 && err === 0) {
          st.lo = 0; // x + (-x) is +0 when rounding to nearest
          return;
        }
        break;
      }
      case OP_MUL: {
        const d = va * vb;
        f = Math.fround(d);
        inexact = f !== d;
        break;
      }
      case OP_DIV:
        f = Math.fround(va / vb);
        inexact = f * vb !== va;
        break;
      default:
        f = Math.fround(Math.sqrt(vb));
        inexact = f * f !== vb;
    }
    const af = Math.abs(f);
    if (af >= MIN_FAST32 && af !== Infinity) {
      st.lo = f32bits(f);
      if (inexact) st.post |= EX_PE;
      return;
    }
  }
  if (op === OP_SQRT) {
    exact32(b);
    exactOp(op, 0, 0n, 0, 24);
  } else {
    exact32(a);
    const aS = xS;
    const aM = xM;
    const aE = xE;
    exact32(b);
    exactOp(op, aS, aM, aE, 24);
  }
  if (xM === 0n) {
    st.lo = st.rc === RC_DOWN ? 0x80000000 : 0; // exact cancellation
    return;
  }
  roundPack(st, F32, xS, xM, xE);
}

function invalid32(st: SseStatus): void {
  st.pre |= EX_IE;
  st.lo = DEFAULT_NAN32;
}

function invalid64(st: SseStatus): void {
  st.pre |= EX_IE;
  st.lo = 0;
  st.hi = DEFAULT_NAN64_HI;
}

/** Lane `op` on binary64 halves: dst a, source b (SQRT: b only). Result in st.lo/st.hi. */
export function arith64(st: SseStatus, op: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  let ka = op === OP_SQRT ? ZERO : kind64(aLo, aHi);
  let kb = kind64(bLo, bHi);
  if (ka >= QNAN || kb >= QNAN) {
    if (op === OP_MIN || op === OP_MAX) {
      st.pre |= EX_IE;
      const zap = kb === DEN && st.daz;
      st.lo = zap ? 0 : bLo;
      st.hi = zap ? (bHi & 0x80000000) >>> 0 : bHi;
      return;
    }
    if (ka === SNAN || kb === SNAN) st.pre |= EX_IE;
    if (ka >= QNAN) {
      st.lo = aLo;
      st.hi = (aHi | 0x80000) >>> 0;
    } else {
      st.lo = bLo;
      st.hi = (bHi | 0x80000) >>> 0;
    }
    return;
  }
  let den = false;
  if (ka === DEN) {
    if (st.daz) {
      aLo = 0;
      aHi = (aHi & 0x80000000) >>> 0;
      ka = ZERO;
    } else den = true;
  }
  if (kb === DEN) {
    if (st.daz) {
      bLo = 0;
      bHi = (bHi & 0x80000000) >>> 0;
      kb = ZERO;
    } else den = true;
  }
  const sa = aHi >>> 31;
  let sb = bHi >>> 31;
  switch (op) {
    case OP_MIN:
    case OP_MAX: {
      if (den) st.pre |= EX_DE;
      const va = f64val(aLo, aHi);
      const vb = f64val(bLo, bHi);
      const takeA = op === OP_MIN ? va < vb : va > vb;
      st.lo = takeA ? aLo : bLo;
      st.hi = takeA ? aHi : bHi;
      return;
    }
    case OP_ADD:
    case OP_SUB:
      if (op === OP_SUB) sb ^= 1;
      if (ka === INF || kb === INF) {
        if (ka === INF && kb === INF && sa !== sb) return invalid64(st);
        if (den) st.pre |= EX_DE;
        st.lo = 0;
        st.hi = (((ka === INF ? sa : sb) << 31) | 0x7ff00000) >>> 0;
        return;
      }
      if (ka === ZERO && kb === ZERO) {
        st.lo = 0;
        st.hi = (sa === sb ? sa << 31 : st.rc === RC_DOWN ? 0x80000000 : 0) >>> 0;
        return;
      }
      break;
    case OP_MUL:
      if (ka === INF || kb === INF) {
        if (ka === ZERO || kb === ZERO) return invalid64(st);
        if (den) st.pre |= EX_DE;
        st.lo = 0;
        st.hi = (((sa ^ sb) << 31) | 0x7ff00000) >>> 0;
        return;
      }
      if (ka === ZERO || kb === ZERO) {
        if (den) st.pre |= EX_DE;
        st.lo = 0;
        st.hi = ((sa ^ sb) << 31) >>> 0;
        return;
      }
      break;
    case OP_DIV:
      if (ka === INF) {
        if (kb === INF) return invalid64(st);
        if (den) st.pre |= EX_DE;
        st.lo = 0;
        st.hi = (((sa ^ sb) << 31) | 0x7ff00000) >>> 0;
        return;
      }
      if (kb === ZERO) {
        if (ka === ZERO) return invalid64(st);
        st.pre |= EX_ZE;
        st.lo = 0;
        st.hi = (((sa ^ sb) << 31) | 0x7ff00000) >>> 0;
        return;
      }
      if (kb === INF || ka === ZERO) {
        if (den) st.pre |= EX_DE;
        st.lo = 0;
        st.hi = ((sa ^ sb) << 31) >>> 0;
        return;
      }
      break;
    default: // OP_SQRT
      if (kb === ZERO || (kb === INF && sb === 0)) {
        st.lo = bLo;
        st.hi = bHi;
        return;
      }
      if (sb === 1) return invalid64(st);
      break;
  }
  if (den) st.pre |= EX_DE;
  if (st.rc === RC_NEAREST && !den) {
    const va = f64val(aLo, aHi);
    const vb = f64val(bLo, bHi);
    let r: number;
    let inexact: boolean;
    let fast: boolean;
    switch (op) {
      case OP_ADD:
      case OP_SUB: {
        const vb2 = op === OP_SUB ? -vb : vb;
        r = va + vb2;
        const z = r - va;
        inexact = va - (r - z) + (vb2 - z) !== 0;
        const ar = Math.abs(r);
        fast = ar === 0 || (ar >= 2 ** -1021 && ar !== Infinity);
        break;
      }
      case OP_MUL: {
        r = va * vb;
        inexact = productError(va, vb, r) !== 0;
        fast = inRange(va) && inRange(vb) && inRange(r);
        break;
      }
      case OP_DIV: {
        r = va / vb;
        const p = r * vb;
        inexact = p !== va || productError(r, vb, p) !== 0;
        fast = inRange(va) && inRange(vb) && inRange(r);
        break;
      }
      default: {
        r = Math.sqrt(vb);
        const p = r * r;
        inexact = p !== vb || productError(r, r, p) !== 0;
        fast = inRange(vb);
      }
    }
    if (fast) {
      setF64(st, r);
      if (inexact) st.post |= EX_PE;
      return;
    }
  }
  if (op === OP_SQRT) {
    exact64(bLo, bHi);
    exactOp(op, 0, 0n, 0, 53);
  } else {
    exact64(aLo, aHi);
    const aS = xS;
    const aM = xM;
    const aE = xE;
    exact64(bLo, bHi);
    exactOp(op, aS, aM, aE, 53);
  }
  if (xM === 0n) {
    st.lo = 0;
    st.hi = st.rc === RC_DOWN ? 0x80000000 : 0;
    return;
  }
  roundPack(st, F64, xS, xM, xE);
}

function inRange(v: number): boolean {
  const a = Math.abs(v);
  return a >= MIN_FAST64 && a < MAX_FAST64;
}

// ---------------------------------------------------------------------------------------
// Comparisons

/**
 * CMPxx predicate (0-7: EQ LT LE UNORD NEQ NLT NLE ORD) on binary32 bits; true/false.
 * The ordered-relation predicates (LT LE NLT NLE) signal invalid on QNaNs too.
 */
export function cmp32(st: SseStatus, pred: number, a: number, b: number): boolean {
  const ka = kind32(a);
  const kb = kind32(b);
  if (ka >= QNAN || kb >= QNAN) return cmpNaN(st, pred, ka, kb);
  if (ka === DEN || kb === DEN) {
    if (st.daz) {
      if (ka === DEN) a &= 0x80000000;
      if (kb === DEN) b &= 0x80000000;
    } else st.pre |= EX_DE;
  }
  return cmpValues(pred, f32val(a), f32val(b));
}

export function cmp64(st: SseStatus, pred: number, aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  const ka = kind64(aLo, aHi);
  const kb = kind64(bLo, bHi);
  if (ka >= QNAN || kb >= QNAN) return cmpNaN(st, pred, ka, kb);
  let va = f64val(aLo, aHi);
  let vb = f64val(bLo, bHi);
  if (ka === DEN || kb === DEN) {
    if (st.daz) {
      if (ka === DEN) va = 0;
      if (kb === DEN) vb = 0;
    } else st.pre |= EX_DE;
  }
  return cmpValues(pred, va, vb);
}

function cmpNaN(st: SseStatus, pred: number, ka: number, kb: number): boolean {
  const signaling = (pred & 3) === 1 || (pred & 3) === 2;
  if (signaling || ka === SNAN || kb === SNAN) st.pre |= EX_IE;
  // Unordered: EQ LT LE ORD false; UNORD NEQ NLT NLE true.
  return pred >= 3 && pred <= 6;
}

function cmpValues(pred: number, a: number, b: number): boolean {
  switch (pred & 7) {
    case 0:
      return a === b;
    case 1:
      return a < b;
    case 2:
      return a <= b;
    case 3:
      return false;
    case 4:
      return a !== b;
    case 5:
      return !(a < b);
    case 6:
      return !(a <= b);
    default:
      return true;
  }
}

/**
 * (U)COMISS/(U)COMISD: EFLAGS image with ZF PF CF (unordered 111, less 001, equal 100,
 * greater 000). `signalQNaN`: COMIS* (invalid on any NaN) rather than UCOMIS* (SNaN only).
 */
export function comi(st: SseStatus, wide: boolean, aLo: number, aHi: number, bLo: number, bHi: number, signalQNaN: boolean): number {
  const ka = wide ? kind64(aLo, aHi) : kind32(aLo);
  const kb = wide ? kind64(bLo, bHi) : kind32(bLo);
  if (ka >= QNAN || kb >= QNAN) {
    if (signalQNaN || ka === SNAN || kb === SNAN) st.pre |= EX_IE;
    return 0x45;
  }
  let va = wide ? f64val(aLo, aHi) : f32val(aLo);
  let vb = wide ? f64val(bLo, bHi) : f32val(bLo);
  if (ka === DEN || kb === DEN) {
    if (st.daz) {
      if (ka === DEN) va = 0;
      if (kb === DEN) vb = 0;
    } else st.pre |= EX_DE;
  }
  return va < vb ? 0x01 : va === vb ? 0x40 : 0;
}

// ---------------------------------------------------------------------------------------
// Conversions

/** CVTSS2SD lane: binary32 bits → binary64 halves (exact). */
export function cvt32to64(st: SseStatus, b: number): void {
  const k = kind32(b);
  const s = (b & 0x80000000) >>> 0;
  if (k >= QNAN) {
    if (k === SNAN) st.pre |= EX_IE;
    const f = (b & 0x7fffff) | 0x400000;
    st.hi = (s | 0x7ff00000 | (f >>> 3)) >>> 0;
    st.lo = (f << 29) >>> 0;
    return;
  }
  if (k === DEN) {
    if (st.daz) {
      st.lo = 0;
      st.hi = s;
      return;
    }
    st.pre |= EX_DE;
  }
  setF64(st, f32val(b));
}

/** CVTSD2SS lane: binary64 halves → binary32 bits in st.lo, rounded under RC. */
export function cvt64to32(st: SseStatus, lo: number, hi: number): void {
  const k = kind64(lo, hi);
  const s = (hi & 0x80000000) >>> 0;
  if (k >= QNAN) {
    if (k === SNAN) st.pre |= EX_IE;
    st.lo = (s | 0x7fc00000 | ((hi & 0xfffff) << 3) | (lo >>> 29)) >>> 0;
    return;
  }
  if (k === ZERO || (k === DEN && st.daz)) {
    st.lo = s;
    return;
  }
  if (k === INF) {
    st.lo = (s | 0x7f800000) >>> 0;
    return;
  }
  if (k === DEN) st.pre |= EX_DE;
  const v = f64val(lo, hi);
  if (st.rc === RC_NEAREST) {
    const f = Math.fround(v);
    const af = Math.abs(f);
    if (af >= MIN_FAST32 && af !== Infinity) {
      st.lo = f32bits(f);
      if (f !== v) st.post |= EX_PE;
      return;
    }
  }
  exact64(lo, hi);
  roundPack(st, F32, xS, xM, xE);
}

/**
 * Integer → float lane (CVTSI2SS/SD, CVTDQ2PS/PD, CVTPI2PS/PD): the integer hi:lo (signed
 * 64-bit; pass hi = lo >> 31 for 32-bit sources), rounded under RC into st.lo (`wide`
 * false: binary32) or st.lo/st.hi.
 */
export function cvtInt(st: SseStatus, wide: boolean, lo: number, hi: number): void {
  const v = (hi | 0) * 4294967296 + (lo >>> 0);
  if (Math.abs(v) < 2 ** 53) {
    // Exact as a double: a rounded sum is never below 2^53 when the integer is not.
    if (wide) {
      setF64(st, v);
      return;
    }
    const f = Math.fround(v);
    if (f === v) {
      st.lo = f32bits(f);
      return;
    }
    if (st.rc === RC_NEAREST) {
      st.lo = f32bits(f);
      st.post |= EX_PE;
      return;
    }
  }
  exactInt(lo, hi, true);
  roundPack(st, wide ? F64 : F32, xS, xM, xE);
}

/**
 * Float → signed integer lane (CVT(T)SS2SI, CVT(T)SD2SI, CVT(T)PS2DQ, CVT(T)PD2DQ/PI):
 * `wide` source binary64, `bits64` 64-bit destination, `trunc` round toward zero instead
 * of MXCSR.RC. Result in st.lo/st.hi; the integer indefinite (0x80000000[00000000]) for
 * NaNs and out-of-range values, with IE.
 */
export function cvtToInt(st: SseStatus, wide: boolean, lo: number, hi: number, bits64: boolean, trunc: boolean): void {
  const k = wide ? kind64(lo, hi) : kind32(lo);
  if (k >= INF) {
    intIndefinite(st, bits64);
    return;
  }
  let v = wide ? f64val(lo, hi) : f32val(lo);
  if (k === DEN && st.daz) v = 0;
  const r = roundInt(v, trunc ? RC_ZERO : st.rc);
  if (bits64 ? r < -(2 ** 63) || r >= 2 ** 63 : r < -(2 ** 31) || r >= 2 ** 31) {
    intIndefinite(st, bits64);
    return;
  }
  if (r !== v) st.post |= EX_PE;
  if (bits64) {
    const h = Math.floor(r / 4294967296);
    st.lo = (r - h * 4294967296) >>> 0;
    st.hi = h >>> 0;
  } else {
    st.lo = r >>> 0;
    st.hi = 0;
  }
}

function intIndefinite(st: SseStatus, bits64: boolean): void {
  st.pre |= EX_IE;
  if (bits64) {
    st.lo = 0;
    st.hi = 0x80000000;
  } else {
    st.lo = 0x80000000;
    st.hi = 0;
  }
}

/** v (finite) rounded to an integral value under rc; keeps the sign of a zero result. */
export function roundInt(v: number, rc: number): number {
  switch (rc) {
    case RC_NEAREST: {
      let r = Math.round(v); // ties toward +infinity
      if (r - v === 0.5 && r % 2 !== 0) r -= 1;
      return r === 0 ? (v < 0 || Object.is(v, -0) ? -0 : 0) : r;
    }
    case RC_DOWN:
      return Math.floor(v);
    case RC_UP:
      return Math.ceil(v);
    default:
      return Math.trunc(v);
  }
}

/**
 * ROUNDSS/ROUNDPS lane: binary32 bits rounded to an integral value. `imm` bits 1:0 RC,
 * bit 2 use MXCSR.RC, bit 3 suppress the precision exception.
 */
export function round32(st: SseStatus, b: number, imm: number): void {
  const k = kind32(b);
  if (k >= QNAN) {
    if (k === SNAN) st.pre |= EX_IE;
    st.lo = quiet32(b);
    return;
  }
  if (k === ZERO || k === INF) {
    st.lo = b;
    return;
  }
  if (k === DEN && st.daz) {
    st.lo = (b & 0x80000000) >>> 0; // ROUND* never reports DE
    return;
  }
  const v = f32val(b);
  const r = roundInt(v, (imm & 4) !== 0 ? st.rc : imm & 3);
  if (r !== v && (imm & 8) === 0) st.post |= EX_PE;
  st.lo = f32bits(r);
}

export function round64(st: SseStatus, lo: number, hi: number, imm: number): void {
  const k = kind64(lo, hi);
  if (k >= QNAN) {
    if (k === SNAN) st.pre |= EX_IE;
    st.lo = lo;
    st.hi = (hi | 0x80000) >>> 0;
    return;
  }
  if (k === ZERO || k === INF) {
    st.lo = lo;
    st.hi = hi;
    return;
  }
  if (k === DEN && st.daz) {
    st.lo = 0;
    st.hi = (hi & 0x80000000) >>> 0;
    return;
  }
  const v = f64val(lo, hi);
  const r = roundInt(v, (imm & 4) !== 0 ? st.rc : imm & 3);
  if (r !== v && (imm & 8) === 0) st.post |= EX_PE;
  setF64(st, r);
}

// ---------------------------------------------------------------------------------------
// Approximations (RCPSS/RCPPS, RSQRTSS/RSQRTPS)

/**
 * 1/x (`rsqrt` false) or 1/sqrt(x) on binary32 bits, to 12 fraction bits (relative error
 * at most 2^-13, inside the SDM's 1.5*2^-12). No exceptions, denormal operands count as
 * zeros and tiny results are flushed to zero, as the SDM specifies.
 */
export function approx32(b: number, rsqrt: boolean): number {
  const k = kind32(b);
  const s = (b & 0x80000000) >>> 0;
  if (k >= QNAN) return quiet32(b);
  if (rsqrt && s !== 0 && k !== ZERO && k !== DEN) return DEFAULT_NAN32;
  if (k === ZERO || k === DEN) return (s | 0x7f800000) >>> 0;
  if (k === INF) return s;
  const v = f32val(b);
  const r = rsqrt ? 1 / Math.sqrt(v) : 1 / v;
  const ar = Math.abs(r);
  if (ar < 2 ** -126) return s;
  // Round the significand to 12 fraction bits (nearest, ties up).
  const e = Math.floor(Math.log2(ar));
  let scale = 2 ** (e - 12);
  if (ar / scale >= 8192) scale *= 2; // log2 misjudged at a binade edge, either way
  else if (ar / scale < 4096) scale /= 2;
  const q = Math.round(ar / scale) * scale;
  if (q >= 2 ** 128) return (s | 0x7f7ff800) >>> 0;
  return (s | f32bits(q)) >>> 0;
}
