/**
 * The x87 transcendental instructions (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X,
 * FYL2XP1) on 80-bit values.
 *
 * Precision: results are computed in software binary floating point with a 200-bit
 * significand (series after argument reduction) and rounded once to 64 bits under RC, so
 * they are the correctly rounded values of the functions below except in astronomically
 * rare near-halfway cases. Like the hardware, FSIN/FCOS/FSINCOS/FPTAN reduce their
 * argument with the 66-bit approximation of pi Intel documents, so near multiples of pi/2
 * and for large arguments they return what an Intel CPU returns (e.g. FSIN of the 64-bit
 * pi is -2^-64), not the true sine. Intel's microcode is not always correctly rounded, so
 * some results differ from the host by one unit in the last place (measured by
 * fpu-oracle.test.ts on random in-domain operands, specials included: FSIN/FCOS/FSINCOS/
 * FPTAN ~97%, FPATAN ~98%, FYL2X ~95%, FYL2XP1 ~93%, F2XM1 ~89% bit-exact; never more
 * than 1 ulp apart). C1 (rounded up) follows our rounding, so it can differ too. Every non-special result raises PE, as on the CPU
 * (even FYL2X(8, 3) = 9). F2XM1 outside [-1, 1] returns the true 2^x - 1 (the CPU's value
 * there is undefined).
 *
 * Special operands (zeros, infinities, NaNs, unsupported formats, denormals) follow the
 * SDM tables exactly; the out-of-range test (|x| >= 2^63, C2) is the caller's (fpu.ts).
 */

import {
  EX_DE,
  EX_IE,
  EX_PE,
  EX_ZE,
  type F80,
  FloatStatus,
  INDEFINITE,
  Kind,
  bitLength,
  exactOf,
  isNaNKind,
  kindOf,
  makeInfinity,
  makeZero,
  roundExactToExt,
} from './float80.js';

/** Working precision in bits. */
const P = 200;

/** A working value m * 2^e (m signed, |m| < 2^P after normalization). */
export interface BF {
  m: bigint;
  e: number;
}

function abs(m: bigint): bigint {
  return m < 0n ? -m : m;
}

function norm(m: bigint, e: number): BF {
  const a = abs(m);
  const nb = bitLength(a);
  if (nb <= P) return { m, e };
  const sh = BigInt(nb - P);
  return { m: m < 0n ? -(a >> sh) : a >> sh, e: e + nb - P };
}

function topOf(x: BF): number {
  return x.m === 0n ? -Infinity : bitLength(abs(x.m)) - 1 + x.e;
}

function bfAdd(a: BF, b: BF): BF {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const ta = topOf(a);
  const tb = topOf(b);
  if (ta - tb > P + 8) return a;
  if (tb - ta > P + 8) return b;
  if (a.e >= b.e) return norm((a.m << BigInt(a.e - b.e)) + b.m, b.e);
  return norm(a.m + (b.m << BigInt(b.e - a.e)), a.e);
}

function bfNeg(a: BF): BF {
  return { m: -a.m, e: a.e };
}

function bfSub(a: BF, b: BF): BF {
  return bfAdd(a, bfNeg(b));
}

function bfMul(a: BF, b: BF): BF {
  return norm(a.m * b.m, a.e + b.e);
}

function bfDiv(a: BF, b: BF): BF {
  const sh = P + 4 + bitLength(abs(b.m)) - bitLength(abs(a.m));
  const s = Math.max(sh, 0);
  return norm((a.m << BigInt(s)) / b.m, a.e - s - b.e);
}

function bfDivInt(a: BF, k: number): BF {
  return norm((a.m << 40n) / BigInt(k), a.e - 40);
}

function bfInt(n: number | bigint): BF {
  return { m: BigInt(n), e: 0 };
}

function bfSqrt(a: BF): BF {
  // a > 0: scale to an even exponent with 2P bits, take the integer root.
  let m = a.m;
  let e = a.e;
  const sh = 2 * P - bitLength(m);
  if (sh > 0) {
    m <<= BigInt(sh);
    e -= sh;
  }
  if ((e & 1) !== 0) {
    m <<= 1n;
    e -= 1;
  }
  return norm(isqrtBig(m), e / 2);
}

function isqrtBig(n: bigint): bigint {
  if (n < 2n) return n;
  // Newton from a power of two above the root.
  let x = 1n << BigInt((bitLength(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** Below this relative size a series term no longer matters. */
function negligible(term: BF, sum: BF): boolean {
  return term.m === 0n || topOf(term) < topOf(sum) - P - 4;
}

function fromF80(x: F80): BF {
  const { s, m, e } = exactOf(x);
  return { m: s === 1 ? -m : m, e };
}

/** atan(1/n) for integer n > 1 (Machin terms). */
function atanInv(n: number): BF {
  const nn = bfInt(n * n);
  let term = bfDiv(bfInt(1), bfInt(n));
  let sum = term;
  for (let k = 1; ; k++) {
    term = bfDiv(term, nn);
    const t = bfDivInt(term, 2 * k + 1);
    if (negligible(t, sum)) break;
    sum = k % 2 === 1 ? bfSub(sum, t) : bfAdd(sum, t);
  }
  return sum;
}

/** atanh(t) = t + t^3/3 + t^5/5 + ... for |t| < 1/2. */
function atanhSeries(t: BF): BF {
  if (t.m === 0n) return t;
  const t2 = bfMul(t, t);
  let pow = t;
  let sum = t;
  for (let k = 1; ; k++) {
    pow = bfMul(pow, t2);
    const term = bfDivInt(pow, 2 * k + 1);
    if (negligible(term, sum)) break;
    sum = bfAdd(sum, term);
  }
  return sum;
}

const PI: BF = bfMul(bfSub(bfMul(bfInt(16), atanInv(5)), bfMul(bfInt(4), atanInv(239))), bfInt(1));
const HALF_PI: BF = { m: PI.m, e: PI.e - 1 };
const LN2: BF = bfMul(bfInt(2), atanhSeries(bfDiv(bfInt(1), bfInt(3))));

/** The 66-bit pi of the x87's argument reduction, as an integer times 2^-64. */
const PI66 = (0xc90fdaa22168c234n << 2n) | 3n;

/** sin(r) and cos(r) by Taylor series for |r| <= ~0.8. */
function sinSeries(r: BF): BF {
  if (r.m === 0n) return r;
  const r2 = bfMul(r, r);
  let term = r;
  let sum = r;
  for (let n = 1; ; n++) {
    term = bfDivInt(bfMul(term, r2), 2 * n * (2 * n + 1));
    if (negligible(term, sum)) break;
    sum = n % 2 === 1 ? bfSub(sum, term) : bfAdd(sum, term);
  }
  return sum;
}

function cosSeries(r: BF): BF {
  const one = bfInt(1);
  if (r.m === 0n) return one;
  const r2 = bfMul(r, r);
  let term: BF = one;
  let sum: BF = one;
  for (let n = 1; ; n++) {
    term = bfDivInt(bfMul(term, r2), (2 * n - 1) * (2 * n));
    if (negligible(term, sum)) break;
    sum = n % 2 === 1 ? bfSub(sum, term) : bfAdd(sum, term);
  }
  return sum;
}

/** Reduce |x| (finite, nonzero, < 2^63) by multiples of pi66/2: r in about [-pi/4, pi/4]. */
function reduce(x: F80): { r: BF; k: number } {
  const { m, e } = exactOf(x);
  // k = round(m * 2^e / (PI66 * 2^-65))
  const shift = e + 65;
  const num = shift >= 0 ? m << BigInt(shift) : m;
  const den = shift >= 0 ? PI66 : PI66 << BigInt(-shift);
  const k = (2n * num + den) / (2n * den);
  if (k === 0n) return { r: { m, e }, k: 0 };
  // r = m*2^e - k*PI66*2^-65, exactly.
  const emin = Math.min(e, -65);
  const r = (m << BigInt(e - emin)) - ((k * PI66) << BigInt(-65 - emin));
  return { r: norm(r, emin), k: Number(k & 3n) };
}

/** Round a working value to the register format; always inexact (as the CPU reports). */
function toF80(x: BF, st: FloatStatus): F80 {
  let m = abs(x.m);
  let e = x.e;
  const sh = P + 8 - bitLength(m);
  if (sh > 0) {
    m <<= BigInt(sh);
    e -= sh;
  }
  // A sticky bit far below the rounding position: the true value is not representable.
  const r = roundExactToExt(x.m < 0n ? 1 : 0, (m << 1n) | 1n, e - 1, st);
  st.flags |= EX_PE;
  return r;
}

/** Round pi * num / den (a special-case result) correctly under RC. */
function piMultiple(sign: number, num: number, den: number, st: FloatStatus): F80 {
  let v = bfDivInt(bfMul(PI, bfInt(num)), den);
  if (sign === 1) v = bfNeg(v);
  return toF80(v, st);
}

function signOf(x: F80): number {
  return x.se >>> 15;
}

/** Unsupported, NaN (SNaN raises IE) handling for one operand; undefined = go on. */
function screen1(a: F80, k: Kind, st: FloatStatus): F80 | null | undefined {
  if (k === Kind.Unsupported) return st.raise(EX_IE) ? null : INDEFINITE;
  if (isNaNKind(k)) {
    if (k === Kind.SNaN && st.raise(EX_IE)) return null;
    return { se: a.se, sig: a.sig | (1n << 62n) };
  }
  return undefined;
}

function screen2(a: F80, ka: Kind, b: F80, kb: Kind, st: FloatStatus): F80 | null | undefined {
  if (ka === Kind.Unsupported || kb === Kind.Unsupported) return st.raise(EX_IE) ? null : INDEFINITE;
  const an = isNaNKind(ka);
  const bn = isNaNKind(kb);
  if (!an && !bn) return undefined;
  if ((ka === Kind.SNaN || kb === Kind.SNaN) && st.raise(EX_IE)) return null;
  const q = (x: F80): F80 => ({ se: x.se, sig: x.sig | (1n << 62n) });
  if (!bn) return q(a);
  if (!an) return q(b);
  if (ka === Kind.QNaN && kb === Kind.SNaN) return a;
  if (kb === Kind.QNaN && ka === Kind.SNaN) return b;
  if (a.sig !== b.sig) return q(a.sig > b.sig ? a : b);
  return q(a.se < b.se ? a : b);
}

function invalid(st: FloatStatus): F80 | null {
  return st.raise(EX_IE) ? null : INDEFINITE;
}

/** Operand checks shared by FSIN/FCOS/FSINCOS/FPTAN: result for specials, or undefined. */
function trigScreen(a: F80, st: FloatStatus): F80 | null | undefined {
  const k = kindOf(a);
  const early = screen1(a, k, st);
  if (early !== undefined) return early;
  if (k === Kind.Infinity) return invalid(st);
  if (k === Kind.Denormal && st.raise(EX_DE)) return null;
  return undefined;
}

export function fsin(a: F80, st: FloatStatus): F80 | null {
  const early = trigScreen(a, st);
  if (early !== undefined) return early;
  if (kindOf(a) === Kind.Zero) return a;
  const { r, k } = reduce(a);
  let v = k & 1 ? cosSeries(r) : sinSeries(r);
  if ((k & 2) !== 0) v = bfNeg(v);
  if (signOf(a) === 1) v = bfNeg(v);
  return toF80(v, st);
}

export function fcos(a: F80, st: FloatStatus): F80 | null {
  const early = trigScreen(a, st);
  if (early !== undefined) return early;
  if (kindOf(a) === Kind.Zero) return { se: 0x3fff, sig: 1n << 63n };
  const { r, k } = reduce(a);
  let v = k & 1 ? sinSeries(r) : cosSeries(r);
  if (((k + 1) & 2) !== 0) v = bfNeg(v);
  return toF80(v, st);
}

/** FSINCOS: [sin, cos]; null when an unmasked exception stops it. */
export function fsincos(a: F80, st: FloatStatus): [F80, F80] | null {
  const early = trigScreen(a, st);
  if (early === null) return null;
  if (early !== undefined) return [early, early];
  if (kindOf(a) === Kind.Zero) return [a, { se: 0x3fff, sig: 1n << 63n }];
  const { r, k } = reduce(a);
  const sr = sinSeries(r);
  const cr = cosSeries(r);
  let sv = k & 1 ? cr : sr;
  let cv = k & 1 ? sr : cr;
  if ((k & 2) !== 0) sv = bfNeg(sv);
  if (((k + 1) & 2) !== 0) cv = bfNeg(cv);
  if (signOf(a) === 1) sv = bfNeg(sv);
  const s = toF80(sv, st);
  const c1 = st.c1;
  const c = toF80(cv, st);
  st.c1 = st.c1 || c1;
  return [s, c];
}

/** FPTAN's tangent (the caller pushes 1.0). */
export function ftan(a: F80, st: FloatStatus): F80 | null {
  const early = trigScreen(a, st);
  if (early !== undefined) return early;
  if (kindOf(a) === Kind.Zero) return a;
  const { r, k } = reduce(a);
  const sr = sinSeries(r);
  const cr = cosSeries(r);
  let v = k & 1 ? bfNeg(bfDiv(cr, sr)) : bfDiv(sr, cr);
  if (signOf(a) === 1) v = bfNeg(v);
  return toF80(v, st);
}

/** atan(z) for 0 <= z <= 1. */
function atanSmall(z: BF): BF {
  if (z.m === 0n) return z;
  // Three argument halvings: atan(z) = 2 atan(z / (1 + sqrt(1 + z^2))).
  const one = bfInt(1);
  let t = z;
  for (let i = 0; i < 3; i++) t = bfDiv(t, bfAdd(one, bfSqrt(bfAdd(one, bfMul(t, t)))));
  const t2 = bfMul(t, t);
  let pow = t;
  let sum = t;
  for (let k = 1; ; k++) {
    pow = bfMul(pow, t2);
    const term = bfDivInt(pow, 2 * k + 1);
    if (negligible(term, sum)) break;
    sum = k % 2 === 1 ? bfSub(sum, term) : bfAdd(sum, term);
  }
  return { m: sum.m, e: sum.e + 3 };
}

/** FPATAN: atan(y / x) in the quadrant of (x, y). */
export function fpatan(y: F80, x: F80, st: FloatStatus): F80 | null {
  const ky = kindOf(y);
  const kx = kindOf(x);
  const early = screen2(y, ky, x, kx, st);
  if (early !== undefined) return early;
  if ((ky === Kind.Denormal || kx === Kind.Denormal) && st.raise(EX_DE)) return null;
  const sy = signOf(y);
  const sx = signOf(x);
  if (ky === Kind.Zero) return sx === 0 ? makeZero(sy) : piMultiple(sy, 1, 1, st);
  if (ky === Kind.Infinity) {
    if (kx === Kind.Infinity) return piMultiple(sy, sx === 1 ? 3 : 1, 4, st);
    return piMultiple(sy, 1, 2, st);
  }
  if (kx === Kind.Infinity) return sx === 0 ? makeZero(sy) : piMultiple(sy, 1, 1, st);
  if (kx === Kind.Zero) return piMultiple(sy, 1, 2, st);
  const ay = fromF80({ se: y.se & 0x7fff, sig: y.sig });
  const ax = fromF80({ se: x.se & 0x7fff, sig: x.sig });
  let t: BF;
  if (compareAbs(ay, ax) <= 0) t = atanSmall(bfDiv(ay, ax));
  else t = bfSub(HALF_PI, atanSmall(bfDiv(ax, ay)));
  if (sx === 1) t = bfSub(PI, t);
  if (sy === 1) t = bfNeg(t);
  return toF80(t, st);
}

function compareAbs(a: BF, b: BF): number {
  const d = bfSub(a, b);
  return d.m === 0n ? 0 : d.m < 0n ? -1 : 1;
}

/** expm1(y) = y + y^2/2! + ... for |y| < 1 (no cancellation for small y). */
function expm1Series(y: BF): BF {
  let term = y;
  let sum = y;
  for (let n = 2; ; n++) {
    term = bfDivInt(bfMul(term, y), n);
    if (negligible(term, sum)) break;
    sum = bfAdd(sum, term);
  }
  return sum;
}

/** F2XM1: 2^x - 1 (the instruction is defined for |x| <= 1; beyond that the true value). */
export function f2xm1(a: F80, st: FloatStatus): F80 | null {
  const k = kindOf(a);
  const early = screen1(a, k, st);
  if (early !== undefined) return early;
  if (k === Kind.Zero) return a;
  if (k === Kind.Infinity) return signOf(a) === 1 ? { se: 0xbfff, sig: 1n << 63n } : a;
  if (k === Kind.Denormal && st.raise(EX_DE)) return null;
  const x = fromF80(a);
  const t = topOfF80(a);
  if (t < 0) return toF80(expm1Series(bfMul(x, LN2)), st);
  if (t >= 15) {
    // Overflows, or is -1 plus far less than an ulp.
    if (signOf(a) === 0) return toF80({ m: 1n, e: 1 << 16 }, st);
    return toF80({ m: -(1n << BigInt(P)) + 1n, e: -P }, st);
  }
  // |x| >= 1: 2^x - 1 = 2^n * 2^f - 1 with n = floor(x), 0 <= f < 1.
  const n = Number(x.e >= 0 ? x.m << BigInt(x.e) : x.m >> BigInt(-x.e));
  const f = bfSub(x, bfInt(n));
  const pow = bfAdd(expm1Series(bfMul(f, LN2)), bfInt(1));
  return toF80(bfSub({ m: pow.m, e: pow.e + n }, bfInt(1)), st);
}

/** log2(v) for v > 0. */
function log2Bf(v: BF): BF {
  const nb = bitLength(v.m);
  let k = nb - 1 + v.e;
  // f = v / 2^k in [1, 2); move it to [sqrt(1/2), sqrt(2)) for a fast atanh series.
  let f: BF = { m: v.m, e: v.e - k };
  const SQRT2_TOP = 0xb504f333f9de6484n;
  const top64 = nb >= 64 ? v.m >> BigInt(nb - 64) : v.m << BigInt(64 - nb);
  if (top64 > SQRT2_TOP) {
    f = { m: v.m, e: v.e - k - 1 };
    k += 1;
  }
  const one = bfInt(1);
  const lnf = bfMul(bfInt(2), atanhSeries(bfDiv(bfSub(f, one), bfAdd(f, one))));
  return bfAdd(bfInt(k), bfDiv(lnf, LN2));
}

function log2Of(x: F80): BF {
  return log2Bf(fromF80(x));
}

/** FYL2X: y * log2(x), x = ST(0), y = ST(1). */
export function fyl2x(x: F80, y: F80, st: FloatStatus): F80 | null {
  const kx = kindOf(x);
  const ky = kindOf(y);
  const early = screen2(x, kx, y, ky, st);
  if (early !== undefined) return early;
  const sx = signOf(x);
  const sy = signOf(y);
  // Invalid: log of a negative number, 0 * inf forms, inf * 0 forms.
  if (sx === 1 && kx !== Kind.Zero) return invalid(st);
  const xIsOne = kx === Kind.Normal && x.se === 0x3fff && x.sig === 1n << 63n;
  if (kx === Kind.Zero) {
    if (ky === Kind.Zero) return invalid(st);
    if (ky === Kind.Infinity) return makeInfinity(sy ^ 1);
    if (st.raise(EX_ZE)) return null;
    return makeInfinity(sy ^ 1);
  }
  if (kx === Kind.Infinity) {
    if (ky === Kind.Zero) return invalid(st);
    if (ky === Kind.Denormal && st.raise(EX_DE)) return null;
    return makeInfinity(sy);
  }
  if (ky === Kind.Infinity) {
    if (xIsOne) return invalid(st);
    if (kx === Kind.Denormal && st.raise(EX_DE)) return null;
    const below = topOfF80(x) < 0;
    return makeInfinity(below ? sy ^ 1 : sy);
  }
  if ((kx === Kind.Denormal || ky === Kind.Denormal) && st.raise(EX_DE)) return null;
  if (xIsOne) return makeZero(sy);
  if (ky === Kind.Zero) return makeZero(topOfF80(x) < 0 ? sy ^ 1 : sy);
  return toF80(bfMul(fromF80(y), log2Of(x)), st);
}

function topOfF80(x: F80): number {
  const { m, e } = exactOf(x);
  return bitLength(m) - 1 + e;
}

/** FYL2XP1: y * log2(x + 1), x = ST(0), y = ST(1). */
export function fyl2xp1(x: F80, y: F80, st: FloatStatus): F80 | null {
  const kx = kindOf(x);
  const ky = kindOf(y);
  const early = screen2(x, kx, y, ky, st);
  if (early !== undefined) return early;
  const sx = signOf(x);
  const sy = signOf(y);
  if (kx === Kind.Zero) {
    if (ky === Kind.Infinity) return invalid(st);
    if (ky === Kind.Denormal && st.raise(EX_DE)) return null;
    return makeZero(sx ^ sy);
  }
  if (kx === Kind.Infinity) {
    // Outside the instruction's domain; treat like log2(x+1) of the limit.
    if (sx === 1 || ky === Kind.Zero) return invalid(st);
    return makeInfinity(sy);
  }
  const xv = fromF80(x);
  const one = bfInt(1);
  if (sx === 1 && compareAbs(xv, one) >= 0) return invalid(st);
  if (ky === Kind.Infinity) {
    if (kx === Kind.Denormal && st.raise(EX_DE)) return null;
    return makeInfinity(sy ^ sx);
  }
  if ((kx === Kind.Denormal || ky === Kind.Denormal) && st.raise(EX_DE)) return null;
  if (ky === Kind.Zero) return makeZero(sy ^ sx);
  let l2: BF;
  if (topOfF80(x) < -2) {
    // ln(1 + x) = 2 atanh(x / (2 + x)): no cancellation for small x.
    const t = bfDiv(xv, bfAdd(bfInt(2), xv));
    l2 = bfDiv(bfMul(bfInt(2), atanhSeries(t)), LN2);
  } else {
    // 1 + x is exact at the working precision here.
    l2 = log2Bf(bfAdd(one, xv));
  }
  return toF80(bfMul(fromF80(y), l2), st);
}

/** The working-precision pi and ln 2 as m * 2^e (exposed for tests). */
export const WORKING_CONSTANTS: Readonly<Record<'pi' | 'ln2', Readonly<BF>>> = { pi: PI, ln2: LN2 };
