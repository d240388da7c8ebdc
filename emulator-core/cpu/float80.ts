/**
 * Exact software arithmetic on the x87 80-bit extended format, bit-for-bit as an Intel CPU
 * computes it (verified against the host x87 by fpu-oracle.test.ts).
 *
 * Values are passed as {@link F80}: `se` holds the sign (bit 15) and the biased exponent
 * (bits 0-14), `sig` the 64-bit significand with its explicit integer bit. Inside the
 * routines a finite value is the exact triple (-1)^s * m * 2^e with a BigInt `m`; results
 * are rounded once, so they are correctly rounded as IEEE 754 and the x87 require.
 *
 * Every operation takes a {@link FloatStatus}: the rounding control, precision control and
 * exception masks of the control word in, the exception flags and the C1 "rounded up" bit
 * out. An operation returns `null` when an unmasked pre-computation exception (invalid
 * operand, denormal operand, divide by zero) stops it: the x87 then leaves its destination
 * unchanged. Post-computation exceptions (overflow, underflow) with the exception unmasked
 * deliver the exponent-wrapped result the SDM specifies for register destinations
 * (`wrap`), or tell a memory store not to write.
 *
 * Behaviours taken from the host CPU rather than the SDM's prose: tininess is detected
 * after rounding; a QNaN operand wins over an SNaN operand; between two NaNs of one kind
 * the larger significand wins, and on a tie the positive one; unnormals, pseudo-infinities
 * and pseudo-NaNs are invalid operands; pseudo-denormals are accepted as denormals.
 */

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

/** An 80-bit extended value: sign and biased exponent in `se`, 64-bit significand in `sig`. */
export interface F80 {
  se: number;
  sig: bigint;
}

export const enum Kind {
  Zero = 0,
  /** Exponent field 0 with a nonzero significand (denormal or pseudo-denormal). */
  Denormal = 1,
  Normal = 2,
  Infinity = 3,
  QNaN = 4,
  SNaN = 5,
  /** Unnormal, pseudo-infinity or pseudo-NaN: the x87 rejects these as invalid operands. */
  Unsupported = 6,
}

const BIAS = 16383;
export const EXT_EMIN = -16382;
export const EXT_EMAX = 16383;
/** Exponent adjustment for unmasked overflow/underflow results delivered to a register. */
const WRAP = 24576;
const J_BIT = 1n << 63n;
const QUIET_BIT = 1n << 62n;
const MASK64 = (1n << 64n) - 1n;
const FRAC_MASK = (1n << 63n) - 1n;

export const INDEFINITE: Readonly<F80> = { se: 0xffff, sig: 0xc000000000000000n };

/** Per-instruction rounding context and exception accumulator. */
export class FloatStatus {
  /** Rounding control (RC_*). */
  rc = RC_NEAREST;
  /** Precision control in bits of significand: 24, 53 or 64. */
  precision = 64;
  /** Exception mask bits of the control word (1 = masked). */
  masks = 0x3f;
  /** Exceptions raised by the current operation (EX_*). */
  flags = 0;
  /** The last rounding incremented the magnitude (the x87's C1 after an inexact result). */
  c1 = false;

  /** Reset for a new instruction under control word `cw`. */
  begin(cw: number): void {
    this.rc = (cw >> 10) & 3;
    const pc = (cw >> 8) & 3;
    // PC=01 is reserved; the CPU rounds as for 64 bits there.
    this.precision = pc === 0 ? 24 : pc === 2 ? 53 : 64;
    this.masks = cw & 0x3f;
    this.flags = 0;
    this.c1 = false;
  }

  /** Raise `ex`; true when it is unmasked (the caller must then stop). */
  raise(ex: number): boolean {
    this.flags |= ex;
    return (this.masks & ex) !== ex;
  }
}

export function f80(se: number, sig: bigint): F80 {
  return { se, sig };
}

export function kindOf(x: F80): Kind {
  const exp = x.se & 0x7fff;
  if (exp === 0) return x.sig === 0n ? Kind.Zero : Kind.Denormal;
  if ((x.sig & J_BIT) === 0n) return Kind.Unsupported;
  if (exp !== 0x7fff) return Kind.Normal;
  if ((x.sig & FRAC_MASK) === 0n) return Kind.Infinity;
  return (x.sig & QUIET_BIT) !== 0n ? Kind.QNaN : Kind.SNaN;
}

export function isNaNKind(k: Kind): boolean {
  return k === Kind.QNaN || k === Kind.SNaN;
}

function signOf(x: F80): number {
  return x.se >>> 15;
}

function zero(s: number): F80 {
  return { se: s << 15, sig: 0n };
}

function infinity(s: number): F80 {
  return { se: (s << 15) | 0x7fff, sig: J_BIT };
}

function quiet(x: F80): F80 {
  return { se: x.se, sig: x.sig | QUIET_BIT };
}

const MAX64 = (1n << 64n) - 1n;

/** Number of significant bits of m >= 0 (hot: every rounding needs it). */
export function bitLength(m: bigint): number {
  let n = 0;
  while (m > MAX64) {
    m >>= 64n;
    n += 64;
  }
  const hi = Number(m >> 32n);
  return hi !== 0 ? n + 64 - Math.clz32(hi) : n + 32 - Math.clz32(Number(m));
}

/** 2^k for the carry checks of roundAt. */
const POW2: bigint[] = [];
for (let k = 0; k <= 256; k++) POW2.push(1n << BigInt(k));

// ---------------------------------------------------------------------------------------
// Exact values and rounding

/** Exponent of the least significant significand bit of a finite nonzero value. */
function lsbExp(x: F80): number {
  const exp = x.se & 0x7fff;
  return (exp === 0 ? 1 : exp) - BIAS - 63;
}

/** Exponent of the most significant set bit of a finite nonzero value (its true exponent). */
export function topExp(x: F80): number {
  return lsbExp(x) + bitLength(x.sig) - 1;
}

// Results of roundAt / roundValue (module state keeps the hot path allocation-free).
// Exported read-only (live bindings) for the SSE soft-float's slow path, which rounds with roundAt too.
export let rM = 0n;
export let rE = 0;
export let rInexact = false;
let rUp = false;
/** Significant bits of rM. */
export let rBits = 0;

/** Round (-1)^s * m * 2^e to a multiple of 2^ulpE under `rc` into rM/rE. */
export function roundAt(s: number, m: bigint, e: number, ulpE: number, rc: number, nb: number): void {
  const sh = ulpE - e;
  if (sh <= 0) {
    rM = m;
    rE = e;
    rInexact = false;
    rUp = false;
    rBits = nb;
    return;
  }
  let q: bigint;
  let roundBit: boolean;
  let sticky: boolean;
  if (sh > nb) {
    // The whole value lies below half a unit.
    q = 0n;
    roundBit = false;
    sticky = true;
  } else {
    const bs = BigInt(sh);
    q = m >> bs;
    const half = 1n << (bs - 1n);
    const rem = m & ((half << 1n) - 1n);
    roundBit = rem >= half;
    sticky = (rem & (half - 1n)) !== 0n;
  }
  const inexact = roundBit || sticky;
  let inc = false;
  if (inexact) {
    switch (rc) {
      case RC_NEAREST:
        inc = roundBit && (sticky || (q & 1n) === 1n);
        break;
      case RC_DOWN:
        inc = s === 1;
        break;
      case RC_UP:
        inc = s === 0;
        break;
      default:
        inc = false;
    }
  }
  rM = inc ? q + 1n : q;
  rE = ulpE;
  rInexact = inexact;
  rUp = inc;
  rBits = sh >= nb ? 0 : nb - sh;
  // A carry out of the kept bits makes the result a power of two one bit longer.
  if (inc && rM === POW2[rBits]) rBits++;
}

/**
 * Round the exact nonzero value (-1)^s * m * 2^e to `p` significant bits in a format whose
 * normal exponents span [emin, emax]; raise UE/OE/PE and set C1 per the x87 rules. The
 * rounded value is left in rM/rE; returns true when the result is an infinity.
 * `wrap`: register destination, so unmasked O/U deliver the exponent-wrapped value; a
 * memory destination gets nothing then (the caller checks the flags) and PE is not raised.
 */
function roundValue(
  s: number,
  m: bigint,
  e: number,
  p: number,
  emin: number,
  emax: number,
  st: FloatStatus,
  wrap: boolean,
): boolean {
  const nb = bitLength(m);
  const top = nb - 1 + e;
  const rc = st.rc;
  if (top < emin) {
    // Tininess is detected after rounding: round with an unbounded exponent first.
    roundAt(s, m, e, top - (p - 1), rc, nb);
    const tiny = rBits - 1 + rE < emin;
    if (tiny && (st.masks & EX_UE) === 0) {
      st.flags |= EX_UE;
      if (!wrap) return false;
      if (rInexact) st.flags |= EX_PE;
      st.c1 = rUp;
      rE += WRAP;
      if (rBits - 1 + rE < emin) {
        // Too small even for the wrapped range: the x87 delivers a zero.
        rM = 0n;
        rBits = 0;
        st.flags |= EX_PE;
        st.c1 = false;
      }
      return false;
    }
    roundAt(s, m, e, emin - (p - 1), rc, nb);
    if (rInexact) st.flags |= tiny ? EX_UE | EX_PE : EX_PE;
    st.c1 = rUp;
    return false;
  }
  roundAt(s, m, e, top - (p - 1), rc, nb);
  const rtop = rBits - 1 + rE;
  if (rtop > emax) {
    if ((st.masks & EX_OE) === 0) {
      st.flags |= EX_OE;
      if (!wrap) return false;
      if (rInexact) st.flags |= EX_PE;
      st.c1 = rUp;
      rE -= WRAP;
      if (rtop - WRAP > emax) {
        // Too large even for the wrapped range: the x87 delivers an infinity.
        st.flags |= EX_PE;
        st.c1 = true;
        return true;
      }
      return false;
    }
    st.flags |= EX_OE | EX_PE;
    const toInf = rc === RC_NEAREST || (rc === RC_DOWN && s === 1) || (rc === RC_UP && s === 0);
    st.c1 = toInf;
    if (toInf) return true;
    rM = (1n << BigInt(p)) - 1n;
    rBits = p;
    rE = emax - (p - 1);
    return false;
  }
  if (rInexact) st.flags |= EX_PE;
  st.c1 = rUp;
  return false;
}

/** Pack (-1)^s * m * 2^e (exactly representable) as an extended value. */
function packExt(s: number, m: bigint, e: number): F80 {
  return packExtBits(s, m, e, bitLength(m));
}

/** packExt when the bit length nb of m is known. */
function packExtBits(s: number, m: bigint, e: number, nb: number): F80 {
  if (m === 0n) return zero(s);
  const top = nb - 1 + e;
  if (top >= EXT_EMIN) {
    const sig = nb <= 64 ? m << BigInt(64 - nb) : m >> BigInt(nb - 64);
    return { se: (s << 15) | ((top + BIAS) & 0x7fff), sig: sig & MASK64 };
  }
  // Denormal: the significand counts units of 2^(EXT_EMIN - 63).
  const sh = e - (EXT_EMIN - 63);
  return { se: s << 15, sig: sh >= 0 ? m << BigInt(sh) : m >> BigInt(-sh) };
}

/** Round an exact value to the register format under PC (or `p`) and pack it. */
function roundToExt(s: number, m: bigint, e: number, p: number, st: FloatStatus): F80 {
  if (roundValue(s, m, e, p, EXT_EMIN, EXT_EMAX, st, true)) return infinity(s);
  return packExtBits(s, rM, rE, rBits);
}

// ---------------------------------------------------------------------------------------
// Operand screening shared by the arithmetic operations

/** Result of an invalid operation: the real indefinite when masked, else null. */
function invalid(st: FloatStatus): F80 | null {
  return st.raise(EX_IE) ? null : INDEFINITE;
}

/** The x87's choice between two NaN operands (at least one is a NaN). */
function pickNaN(a: F80, ka: Kind, b: F80, kb: Kind): F80 {
  const aNaN = isNaNKind(ka);
  const bNaN = isNaNKind(kb);
  if (!bNaN) return quiet(a);
  if (!aNaN) return quiet(b);
  if (ka === Kind.QNaN && kb === Kind.SNaN) return a;
  if (kb === Kind.QNaN && ka === Kind.SNaN) return b;
  if (a.sig !== b.sig) return quiet(a.sig > b.sig ? a : b);
  return quiet(a.se < b.se ? a : b);
}

/**
 * Screen the operands of a two-operand operation: unsupported formats and NaNs produce
 * the result here (or null when IE is unmasked); undefined means "go on".
 */
function screen2(a: F80, ka: Kind, b: F80, kb: Kind, st: FloatStatus): F80 | null | undefined {
  if (ka === Kind.Unsupported || kb === Kind.Unsupported) return invalid(st);
  if (isNaNKind(ka) || isNaNKind(kb)) {
    if ((ka === Kind.SNaN || kb === Kind.SNaN) && st.raise(EX_IE)) return null;
    return pickNaN(a, ka, b, kb);
  }
  return undefined;
}

function screen1(a: F80, ka: Kind, st: FloatStatus): F80 | null | undefined {
  if (ka === Kind.Unsupported) return invalid(st);
  if (isNaNKind(ka)) {
    if (ka === Kind.SNaN && st.raise(EX_IE)) return null;
    return quiet(a);
  }
  return undefined;
}

/** Raise DE for denormal operands; true when DE is unmasked (stop). */
function denormal2(ka: Kind, kb: Kind, st: FloatStatus, memDen: boolean): boolean {
  return (ka === Kind.Denormal || kb === Kind.Denormal || memDen) && st.raise(EX_DE);
}

// ---------------------------------------------------------------------------------------
// Basic arithmetic

/**
 * a + b, or a - b when `negateB`; rounded under PC. `memDen` (here and in mul, div,
 * compare): an operand was widened from a denormal single/double memory operand, so it
 * counts as a denormal operand.
 */
export function add(a: F80, b: F80, negateB: boolean, st: FloatStatus, memDen = false): F80 | null {
  const ka = kindOf(a);
  const kb = kindOf(b);
  const early = screen2(a, ka, b, kb, st);
  if (early !== undefined) return early;
  const sa = signOf(a);
  const sb = signOf(b) ^ (negateB ? 1 : 0);
  if (ka === Kind.Infinity || kb === Kind.Infinity) {
    if (ka === Kind.Infinity && kb === Kind.Infinity && sa !== sb) return invalid(st);
    if (denormal2(ka, kb, st, memDen)) return null;
    return infinity(ka === Kind.Infinity ? sa : sb);
  }
  if (denormal2(ka, kb, st, memDen)) return null;
  if (ka === Kind.Zero && kb === Kind.Zero) {
    return zero(sa === sb ? sa : st.rc === RC_DOWN ? 1 : 0);
  }
  if (kb === Kind.Zero) return roundToExt(sa, a.sig, lsbExp(a), st.precision, st);
  if (ka === Kind.Zero) return roundToExt(sb, b.sig, lsbExp(b), st.precision, st);
  // Normalize both so the exponent gap decides magnitude, then align.
  let ma = a.sig;
  let ea = lsbExp(a);
  let mb = b.sig;
  let eb = lsbExp(b);
  const la = bitLength(ma);
  const lb = bitLength(mb);
  ma <<= BigInt(64 - la);
  ea -= 64 - la;
  mb <<= BigInt(64 - lb);
  eb -= 64 - lb;
  let s1 = sa;
  let s2 = sb;
  if (eb > ea) {
    [ma, mb] = [mb, ma];
    [ea, eb] = [eb, ea];
    [s1, s2] = [s2, s1];
  }
  const d = ea - eb;
  if (d > 128) {
    // b lies far below any rounding position of a: a nonzero sticky of its sign suffices.
    mb = 1n;
    eb = ea - 100;
  }
  const big = ma << BigInt(ea - eb);
  let m: bigint;
  let s: number;
  if (s1 === s2) {
    m = big + mb;
    s = s1;
  } else if (big >= mb) {
    m = big - mb;
    s = s1;
  } else {
    m = mb - big;
    s = s2;
  }
  if (m === 0n) return zero(st.rc === RC_DOWN ? 1 : 0);
  return roundToExt(s, m, eb, st.precision, st);
}

export function mul(a: F80, b: F80, st: FloatStatus, memDen = false): F80 | null {
  const ka = kindOf(a);
  const kb = kindOf(b);
  const early = screen2(a, ka, b, kb, st);
  if (early !== undefined) return early;
  const s = signOf(a) ^ signOf(b);
  if (ka === Kind.Infinity || kb === Kind.Infinity) {
    if (ka === Kind.Zero || kb === Kind.Zero) return invalid(st);
    if (denormal2(ka, kb, st, memDen)) return null;
    return infinity(s);
  }
  if (denormal2(ka, kb, st, memDen)) return null;
  if (ka === Kind.Zero || kb === Kind.Zero) return zero(s);
  return roundToExt(s, a.sig * b.sig, lsbExp(a) + lsbExp(b), st.precision, st);
}

export function div(a: F80, b: F80, st: FloatStatus, memDen = false): F80 | null {
  const ka = kindOf(a);
  const kb = kindOf(b);
  const early = screen2(a, ka, b, kb, st);
  if (early !== undefined) return early;
  const s = signOf(a) ^ signOf(b);
  if (ka === Kind.Infinity) {
    if (kb === Kind.Infinity) return invalid(st);
    if (denormal2(ka, kb, st, memDen)) return null;
    return infinity(s);
  }
  if (kb === Kind.Infinity) {
    if (denormal2(ka, kb, st, memDen)) return null;
    return zero(s);
  }
  if (kb === Kind.Zero) {
    if (ka === Kind.Zero) return invalid(st);
    // Divide-by-zero outranks the denormal-operand exception.
    if (st.raise(EX_ZE)) return null;
    return infinity(s);
  }
  if (denormal2(ka, kb, st, memDen)) return null;
  if (ka === Kind.Zero) return zero(s);
  return divExact(s, a, b, st.precision, st);
}

/** Correctly rounded quotient of two finite nonzero values at precision p. */
function divExact(s: number, a: F80, b: F80, p: number, st: FloatStatus): F80 {
  // Normalize the dividend so the quotient has at least 66 bits, plus a sticky bit.
  const la = bitLength(a.sig);
  const ma = a.sig << BigInt(130 + 64 - la);
  const q = ma / b.sig;
  const r = ma - q * b.sig;
  const m = (q << 1n) | (r !== 0n ? 1n : 0n);
  const e = lsbExp(a) - (130 + 64 - la) - lsbExp(b) - 1;
  return roundToExt(s, m, e, p, st);
}

export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  const est = BigInt(Math.floor(Math.sqrt(Number(n))));
  // Start above the root (the double estimate is off by at most a few parts in 2^52).
  let x = est + (est >> 40n) + 2n;
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

export function sqrt(a: F80, st: FloatStatus): F80 | null {
  const ka = kindOf(a);
  const early = screen1(a, ka, st);
  if (early !== undefined) return early;
  const s = signOf(a);
  if (ka === Kind.Zero) return a;
  if (s === 1) return invalid(st);
  if (ka === Kind.Infinity) return a;
  if (ka === Kind.Denormal && st.raise(EX_DE)) return null;
  let e = lsbExp(a);
  let m = a.sig << 130n;
  e -= 130;
  if ((e & 1) !== 0) {
    m <<= 1n;
    e -= 1;
  }
  const root = isqrt(m);
  const exact = root * root === m;
  return roundToExt(0, (root << 1n) | (exact ? 0n : 1n), e / 2 - 1, st.precision, st);
}

// ---------------------------------------------------------------------------------------
// Rounding to integers, scaling, decomposition

/** FRNDINT: round to an integral value under RC (precision control does not apply). */
export function roundToInt(a: F80, st: FloatStatus): F80 | null {
  const ka = kindOf(a);
  const early = screen1(a, ka, st);
  if (early !== undefined) return early;
  if (ka === Kind.Zero || ka === Kind.Infinity) return a;
  if (ka === Kind.Denormal && st.raise(EX_DE)) return null;
  const e = lsbExp(a);
  if (e >= 0) return a;
  const s = signOf(a);
  roundAt(s, a.sig, e, 0, st.rc, bitLength(a.sig));
  if (rInexact) st.flags |= EX_PE;
  st.c1 = rUp;
  return packExt(s, rM, 0);
}

/** FSCALE: a * 2^trunc(b), rounded to 64 bits. */
export function scale(a: F80, b: F80, st: FloatStatus): F80 | null {
  const ka = kindOf(a);
  const kb = kindOf(b);
  const early = screen2(a, ka, b, kb, st);
  if (early !== undefined) return early;
  const sa = signOf(a);
  if (kb === Kind.Infinity) {
    const sb = signOf(b);
    if (ka === Kind.Zero && sb === 0) return invalid(st);
    if (ka === Kind.Infinity && sb === 1) return invalid(st);
    if (denormal2(ka, kb, st, false)) return null;
    if (ka === Kind.Zero || ka === Kind.Infinity) return a;
    return sb === 0 ? infinity(sa) : zero(sa);
  }
  if (denormal2(ka, kb, st, false)) return null;
  if (ka === Kind.Zero || ka === Kind.Infinity) return a;
  let n = 0;
  if (kb !== Kind.Zero && kb !== Kind.Denormal) {
    const eb = topExp(b);
    // Beyond 2^20 the result over/underflows anyway; clamp to keep the shift small.
    if (eb >= 20) n = 1 << 20;
    else if (eb >= 0) n = Number(b.sig >> BigInt(63 - eb));
    if (signOf(b) === 1) n = -n;
  }
  return roundToExt(sa, a.sig, lsbExp(a) + n, 64, st);
}

/** FXTRACT: [exponent, significand] of a (st must be checked for null by the caller). */
export function extract(a: F80, st: FloatStatus): [F80, F80] | null {
  const ka = kindOf(a);
  const early = screen1(a, ka, st);
  if (early === null) return null;
  if (early !== undefined) return [early, early];
  const s = signOf(a);
  if (ka === Kind.Infinity) return [infinity(0), a];
  if (ka === Kind.Zero) {
    if (st.raise(EX_ZE)) return null;
    return [infinity(1), a];
  }
  if (ka === Kind.Denormal && st.raise(EX_DE)) return null;
  const top = topExp(a);
  const nb = bitLength(a.sig);
  const sig = (a.sig << BigInt(64 - nb)) & MASK64;
  return [fromInt(BigInt(top)), { se: (s << 15) | BIAS, sig }];
}

// ---------------------------------------------------------------------------------------
// Partial remainder

/**
 * Quotient bits and completion of the last prem(): C2 = partial; `special`: the result is
 * a NaN or an invalid-operation response (the condition codes then differ).
 */
export const premResult = { q: 0, partial: false, special: false };

/**
 * FPREM (`ieee` false: quotient truncated) or FPREM1 (`ieee` true: quotient rounded to
 * nearest even). When the exponents differ by 64 or more only a partial reduction happens
 * (C2=1), by N = 32 + (difference mod 32) bits as the hardware does.
 */
export function prem(a: F80, b: F80, ieee: boolean, st: FloatStatus): F80 | null {
  premResult.q = 0;
  premResult.partial = false;
  premResult.special = true;
  const ka = kindOf(a);
  const kb = kindOf(b);
  const early = screen2(a, ka, b, kb, st);
  if (early !== undefined) return early;
  if (ka === Kind.Infinity || kb === Kind.Zero) return invalid(st);
  if (denormal2(ka, kb, st, false)) return null;
  premResult.special = false;
  if (ka === Kind.Zero) return a;
  // A pseudo-denormal comes back in its normal encoding.
  if (kb === Kind.Infinity) return packExt(signOf(a), a.sig, lsbExp(a));
  const sa = signOf(a);
  const ea = lsbExp(a);
  const eb = lsbExp(b);
  const d = topExp(a) - topExp(b);
  // |a| < |b|/2: the quotient is 0 for both kinds of remainder.
  if (d < -1) return roundToExt(sa, a.sig, ea, 64, st);
  if (d >= 64) {
    const n = (d & 31) | 32;
    // Reduce by b * 2^(d-n) with a truncated quotient: everything stays exact.
    const shift = d - n;
    const emin = Math.min(ea, eb + shift);
    const A = a.sig << BigInt(ea - emin);
    const B = b.sig << BigInt(eb + shift - emin);
    const r = A - (A / B) * B;
    premResult.partial = true;
    if (r === 0n) return zero(sa);
    return roundToExt(sa, r, emin, 64, st);
  }
  const emin = Math.min(ea, eb);
  const A = a.sig << BigInt(ea - emin);
  const B = b.sig << BigInt(eb - emin);
  let q = A / B;
  let r = A - q * B;
  let s = sa;
  if (ieee) {
    const r2 = r << 1n;
    if (r2 > B || (r2 === B && (q & 1n) === 1n)) {
      q += 1n;
      r = B - r;
      s ^= 1;
    }
  }
  premResult.q = Number(q & 7n);
  if (r === 0n) return zero(sa);
  return roundToExt(s, r, emin, 64, st);
}

// ---------------------------------------------------------------------------------------
// Comparison

export const CMP_GT = 0;
export const CMP_LT = 1;
export const CMP_EQ = 2;
export const CMP_UN = 3;

/**
 * Compare a with b. `quiet`: QNaN operands do not raise IE (FUCOM). The result is
 * reported even when an exception is unmasked, as the CPU sets the condition codes then too.
 */
export function compare(a: F80, b: F80, quiet: boolean, st: FloatStatus, memDen = false): number {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === Kind.Unsupported || kb === Kind.Unsupported) {
    st.raise(EX_IE);
    return CMP_UN;
  }
  if (isNaNKind(ka) || isNaNKind(kb)) {
    if (!quiet || ka === Kind.SNaN || kb === Kind.SNaN) st.raise(EX_IE);
    return CMP_UN;
  }
  if (ka === Kind.Denormal || kb === Kind.Denormal || memDen) st.raise(EX_DE);
  return compareValues(a, ka, b, kb);
}

function compareValues(a: F80, ka: Kind, b: F80, kb: Kind): number {
  const sa = signOf(a);
  const sb = signOf(b);
  if (ka === Kind.Zero && kb === Kind.Zero) return CMP_EQ;
  if (ka === Kind.Zero) return sb === 1 ? CMP_GT : CMP_LT;
  if (kb === Kind.Zero) return sa === 1 ? CMP_LT : CMP_GT;
  if (sa !== sb) return sa === 1 ? CMP_LT : CMP_GT;
  const mag = compareMagnitude(a, ka, b, kb);
  if (mag === 0) return CMP_EQ;
  return (mag > 0) !== (sa === 1) ? CMP_GT : CMP_LT;
}

/** Sign of |a| - |b| for non-NaN nonzero operands. */
function compareMagnitude(a: F80, ka: Kind, b: F80, kb: Kind): number {
  if (ka === Kind.Infinity || kb === Kind.Infinity) {
    if (ka === kb) return 0;
    return ka === Kind.Infinity ? 1 : -1;
  }
  const ta = topExp(a);
  const tb = topExp(b);
  if (ta !== tb) return ta > tb ? 1 : -1;
  const ma = a.sig << BigInt(64 - bitLength(a.sig));
  const mb = b.sig << BigInt(64 - bitLength(b.sig));
  return ma === mb ? 0 : ma > mb ? 1 : -1;
}

// ---------------------------------------------------------------------------------------
// Conversions

/** Exact extended value of an integer (|v| < 2^64). */
export function fromInt(v: bigint): F80 {
  if (v === 0n) return zero(0);
  const s = v < 0n ? 1 : 0;
  const m = s === 1 ? -v : v;
  return packExt(s, m, 0);
}

/** Set by f32ToExt/f64ToExt: the source was a denormal (its value is now normalized). */
export const loadInfo = { denormal: false };

/** Widen an IEEE single or double (bits as a BigInt) exactly; NaNs keep their kind. */
function ieeeToExt(bits: bigint, fracBits: number, expBits: number): F80 {
  loadInfo.denormal = false;
  const s = Number(bits >> BigInt(fracBits + expBits)) & 1;
  const expMax = (1 << expBits) - 1;
  const exp = Number((bits >> BigInt(fracBits)) & BigInt(expMax));
  const frac = bits & ((1n << BigInt(fracBits)) - 1n);
  const widen = BigInt(63 - fracBits);
  if (exp === expMax) return { se: (s << 15) | 0x7fff, sig: J_BIT | (frac << widen) };
  const bias = (1 << (expBits - 1)) - 1;
  if (exp === 0) {
    if (frac === 0n) return zero(s);
    loadInfo.denormal = true;
    return packExt(s, frac, 1 - bias - fracBits);
  }
  return { se: (s << 15) | (exp - bias + BIAS), sig: J_BIT | (frac << widen) };
}

export function f32ToExt(bits: number): F80 {
  return ieeeToExt(BigInt(bits >>> 0), 23, 8);
}

export function f64ToExt(bits: bigint): F80 {
  return ieeeToExt(bits, 52, 11);
}

/**
 * FLD semantics for a widened single/double: an SNaN raises IE and is quieted (null when
 * IE is unmasked); a denormal raises DE, and the load completes even when DE is unmasked,
 * as the CPU does.
 */
export function loadConverted(x: F80, wasDenormal: boolean, st: FloatStatus): F80 | null {
  if (wasDenormal) st.flags |= EX_DE;
  if (kindOf(x) === Kind.SNaN) {
    if (st.raise(EX_IE)) return null;
    return quiet(x);
  }
  return x;
}

/**
 * Store conversion to an IEEE single or double under RC. Returns the bits, or null when an
 * unmasked exception forbids the store (IE, OE, UE).
 */
function toIeee(a: F80, fracBits: number, expBits: number, st: FloatStatus): bigint | null {
  const ka = kindOf(a);
  const s = BigInt(signOf(a));
  const expMax = (1 << expBits) - 1;
  const signBit = s << BigInt(fracBits + expBits);
  const infBits = signBit | (BigInt(expMax) << BigInt(fracBits));
  const narrow = BigInt(63 - fracBits);
  const fracMask = (1n << BigInt(fracBits)) - 1n;
  switch (ka) {
    case Kind.Unsupported:
      if (st.raise(EX_IE)) return null;
      return (1n << BigInt(fracBits + expBits)) | infBits | (1n << BigInt(fracBits - 1));
    case Kind.SNaN:
      if (st.raise(EX_IE)) return null;
      return infBits | (((a.sig | QUIET_BIT) >> narrow) & fracMask);
    case Kind.QNaN:
      return infBits | ((a.sig >> narrow) & fracMask);
    case Kind.Infinity:
      return infBits;
    case Kind.Zero:
      return signBit;
    default:
      break;
  }
  const bias = (1 << (expBits - 1)) - 1;
  const p = fracBits + 1;
  const emin = 1 - bias;
  const inf = roundValue(Number(s), a.sig, lsbExp(a), p, emin, bias, st, false);
  if ((st.flags & ~st.masks & (EX_OE | EX_UE)) !== 0) return null;
  if (inf) return infBits;
  if (rM === 0n) return signBit;
  const nb = bitLength(rM);
  const top = nb - 1 + rE;
  if (top < emin) return signBit | (rM << BigInt(rE - (emin - fracBits)));
  const m = nb <= p ? rM << BigInt(p - nb) : rM >> BigInt(nb - p);
  return signBit | (BigInt(top + bias) << BigInt(fracBits)) | (m & fracMask);
}

export function toF32(a: F80, st: FloatStatus): number | null {
  const r = toIeee(a, 23, 8, st);
  return r === null ? null : Number(r);
}

export function toF64(a: F80, st: FloatStatus): bigint | null {
  return toIeee(a, 52, 11, st);
}

/**
 * Round to an integer under RC for FIST/FBSTP. Returns the integer, `undefined` when it is
 * invalid (NaN, infinity, unsupported, or outside [min, max]) and IE is masked (the caller
 * stores its indefinite), or null when IE is unmasked.
 */
export function toInteger(a: F80, min: bigint, max: bigint, st: FloatStatus): bigint | null | undefined {
  const ka = kindOf(a);
  if (ka === Kind.Unsupported || ka === Kind.Infinity || isNaNKind(ka)) {
    return st.raise(EX_IE) ? null : undefined;
  }
  if (ka === Kind.Zero) return 0n;
  const s = signOf(a);
  const e = lsbExp(a);
  let v: bigint;
  let inexact = false;
  let up = false;
  if (e >= 0) {
    // Large values: avoid building huge BigInts, anything past 2^64 is out of range.
    v = e > 64 ? 1n << 80n : a.sig << BigInt(e);
  } else {
    roundAt(s, a.sig, e, 0, st.rc, bitLength(a.sig));
    v = rM;
    inexact = rInexact;
    up = rUp;
  }
  if (s === 1) v = -v;
  if (v < min || v > max) return st.raise(EX_IE) ? null : undefined;
  if (inexact) st.flags |= EX_PE;
  st.c1 = up;
  return v;
}

/** Packed BCD (10 bytes, little-endian) to extended; invalid digits weigh as the CPU does. */
export function fromBcd(bytes: ArrayLike<number>): F80 {
  let v = 0n;
  for (let i = 8; i >= 0; i--) {
    const b = bytes[i];
    v = v * 100n + BigInt((b >> 4) * 10 + (b & 15));
  }
  const r = fromInt(v);
  if ((bytes[9] & 0x80) !== 0) r.se |= 0x8000;
  return r;
}

/** The packed BCD indefinite: bytes 9..0 = FF FF C0 00 ... 00. */
export function bcdIndefinite(out: Uint8Array): void {
  out.fill(0);
  out[7] = 0xc0;
  out[8] = 0xff;
  out[9] = 0xff;
}

/** Write |v| as 18 BCD digits plus the sign into `out` (10 bytes). */
export function toBcdBytes(v: bigint, negative: boolean, out: Uint8Array): void {
  let m = v < 0n ? -v : v;
  for (let i = 0; i < 9; i++) {
    const lo = Number(m % 10n);
    m /= 10n;
    const hi = Number(m % 10n);
    m /= 10n;
    out[i] = (hi << 4) | lo;
  }
  out[9] = negative ? 0x80 : 0;
}

/** Whether the sign of a is set (for -0 results of FBSTP). */
export function isNegative(a: F80): boolean {
  return signOf(a) === 1;
}

/** Round an exact value (used by the transcendental functions) to 64 bits. */
export function roundExactToExt(s: number, m: bigint, e: number, st: FloatStatus): F80 {
  if (m === 0n) return zero(s);
  return roundToExt(s, m, e, 64, st);
}

export function makeInfinity(s: number): F80 {
  return infinity(s);
}

export function makeZero(s: number): F80 {
  return zero(s);
}

/** Exact (-1)^s * m * 2^e view of a finite nonzero operand. */
export function exactOf(a: F80): { s: number; m: bigint; e: number } {
  return { s: signOf(a), m: a.sig, e: lsbExp(a) };
}
