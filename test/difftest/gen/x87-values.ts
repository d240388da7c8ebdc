/**
 * Operand values for x87 tests in every memory format, biased toward the classes where
 * rounding and exception logic live: zeros, denormals (and pseudo-denormals), the smallest
 * and largest normals, values near 1 (so results are inexact and round), integers and
 * halves (FRNDINT, FIST), infinities, quiet and signalling NaNs, the indefinite, and the
 * encodings the x87 rejects as invalid (unnormals, pseudo-NaNs, pseudo-infinities).
 */
import type { Rng } from '../prng.js';

const J = 1n << 63n;
const FRAC = J - 1n;

export function u64(rng: Rng): bigint {
  return (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
}

/** An 80-bit extended value as [sign+exponent, 64-bit significand]. */
export type Ext = [number, bigint];

export function extValue(rng: Rng, allowUnsupported = true): Ext {
  const s = rng.bool() ? 0x8000 : 0;
  const frac = (): bigint => u64(rng) & FRAC;
  const k = rng.int(allowUnsupported ? 22 : 20);
  switch (k) {
    case 0:
      return [s, 0n]; // zero
    case 1:
      return [s, frac() | 1n]; // denormal
    case 2:
      return [s, J | frac()]; // pseudo-denormal (exponent 0, J set)
    case 3:
      return [s | 1, J | (rng.bool() ? 0n : frac())]; // smallest normals
    case 4:
      return [s | 0x7ffe, J | (rng.bool() ? FRAC : frac())]; // largest normals
    case 5:
      return [s | 0x7fff, J]; // infinity
    case 6:
      return [s | 0x7fff, J | (1n << 62n) | (rng.bool() ? 0n : frac() >> 2n)]; // QNaN
    case 7:
      return [s | 0x7fff, J | ((frac() >> 2n) | 1n)]; // SNaN
    case 8:
      return [0xffff, 0xc000000000000000n]; // indefinite
    case 9:
    case 10:
    case 11: {
      // n/2 for a random n: integers and halves, where FIST and FRNDINT round.
      const n = BigInt(1 + rng.int(1 << 20));
      const len = n.toString(2).length;
      return [s | (0x3ffd + len), n << BigInt(64 - len)];
    }
    case 12:
    case 13:
    case 14:
    case 15:
    case 16:
      return [s | (0x3fff - 8 + rng.int(24)), J | frac()]; // around 1, inexact
    case 17:
      return [s | (0x3fff + rng.int(80)), J | frac()]; // large (integer conversion overflow)
    case 18:
      return [s | (0x3fff + 62 + rng.int(3)), J | frac()]; // near the int64 boundary
    case 19:
      return [s | (1 + rng.int(0x7ffd)), J | frac()]; // any normal
    case 20:
      return [s | (1 + rng.int(0x7ffe)), frac()]; // unnormal (J clear): invalid operand
    default:
      return [s | 0x7fff, rng.bool() ? frac() : 0n]; // pseudo-NaN / pseudo-infinity: invalid
  }
}

export function extBytes([se, sig]: Ext): Uint8Array {
  const b = new Uint8Array(10);
  for (let i = 0; i < 8; i++) b[i] = Number((sig >> BigInt(i * 8)) & 0xffn);
  b[8] = se & 0xff;
  b[9] = se >> 8;
  return b;
}

/** An IEEE single or double as raw bits. */
export function ieeeValue(rng: Rng, bits: 32 | 64): bigint {
  const e = bits === 32 ? 8 : 11;
  const m = bits === 32 ? 23 : 52;
  const emax = (1 << e) - 1;
  const bias = emax >> 1;
  const sign = rng.bool() ? 1n << BigInt(bits - 1) : 0n;
  const frac = u64(rng) & ((1n << BigInt(m)) - 1n);
  const k = rng.int(10);
  let exp: number;
  let f = frac;
  if (k === 0) [exp, f] = [0, 0n];
  else if (k === 1) exp = 0; // denormal
  else if (k === 2) [exp, f] = [emax, 0n]; // infinity
  else if (k === 3) [exp, f] = [emax, frac | (1n << BigInt(m - 1))]; // QNaN
  else if (k === 4) [exp, f] = [emax, (frac & ((1n << BigInt(m - 1)) - 1n)) | 1n]; // SNaN
  else if (k === 5) exp = rng.bool() ? 1 : emax - 1;
  else exp = bias - 8 + rng.int(24);
  return sign | (BigInt(exp) << BigInt(m)) | f;
}

/** A two's-complement integer of `bits` bits, with the boundaries that overflow on load/store. */
export function intValue(rng: Rng, bits: 16 | 32 | 64): bigint {
  const min = -(1n << BigInt(bits - 1));
  const max = -min - 1n;
  const v = rng.pick([0n, 1n, -1n, min, max, min + 1n, max - 1n, BigInt(rng.int(2000) - 1000), BigInt.asIntN(bits, u64(rng))]);
  return BigInt.asUintN(bits, v);
}

/** A packed BCD value (18 valid digits and a sign byte; invalid digits are undefined on FBLD). */
export function bcdBytes(rng: Rng): Uint8Array {
  const b = new Uint8Array(10);
  const digits = rng.pick([0, 1, 2, 9, 17, 18, 18]);
  for (let i = 0; i < digits; i++) {
    const d = rng.int(10);
    b[i >> 1] |= i & 1 ? d << 4 : d;
  }
  b[9] = rng.bool() ? 0x80 : 0;
  return b;
}
