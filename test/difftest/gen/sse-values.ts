/**
 * Operand values for SSE case generators: XMM lanes (integer and floating point, biased to
 * the values where results change behaviour: signed zeros, infinities, quiet and signalling
 * NaNs with payloads, denormals, the normal range's ends, rounding ties and the integer
 * limits conversions saturate at), MXCSR values (every rounding mode, DAZ/FTZ, exception
 * masks and sticky flags), and helpers that turn them into case state.
 *
 * Floats are handled as bit patterns (number for binary32, bigint for binary64) so that
 * NaN payloads and signs survive; lanes are little-endian in a 16-byte Uint8Array, lane 0
 * first, as in an XMM register and in memory.
 */
import type { Rng } from '../prng.js';

// ------------------------------------------------------------------ binary32

export const F32 = {
  posZero: 0x00000000,
  negZero: 0x80000000,
  posInf: 0x7f800000,
  negInf: 0xff800000,
  /** The "QNaN floating-point indefinite" SSE produces for invalid operations. */
  indefinite: 0xffc00000,
  qnan: 0x7fc00000,
  /** Smallest and largest denormals. */
  minDenormal: 0x00000001,
  maxDenormal: 0x007fffff,
  minNormal: 0x00800000,
  maxNormal: 0x7f7fffff,
  one: 0x3f800000,
  negOne: 0xbf800000,
} as const;

/** A quiet NaN of either sign with a random payload (possibly the indefinite's, zero). */
export function f32QNaN(rng: Rng): number {
  const payload = rng.bool(0.3) ? 0 : rng.u32() & 0x3fffff;
  return ((rng.bool() ? 0x80000000 : 0) | 0x7fc00000 | payload) >>> 0;
}

/** A signalling NaN (quiet bit clear, payload non-zero) of either sign. */
export function f32SNaN(rng: Rng): number {
  const payload = (rng.u32() & 0x3fffff) || 1;
  return ((rng.bool() ? 0x80000000 : 0) | 0x7f800000 | payload) >>> 0;
}

export function f32Denormal(rng: Rng): number {
  const m = rng.pick([1, 0x7fffff, 0x400000, 0x000001 << rng.int(23), (rng.u32() & 0x7fffff) || 1]);
  return ((rng.bool() ? 0x80000000 : 0) | m) >>> 0;
}

/** ±0, ±inf, NaNs, denormals, the ends of the normal range, ±1. */
export function f32Special(rng: Rng): number {
  const sign = rng.bool() ? 0x80000000 : 0;
  const k = rng.int(10);
  if (k === 0) return (sign | F32.posZero) >>> 0;
  if (k === 1) return (sign | F32.posInf) >>> 0;
  if (k === 2) return f32QNaN(rng);
  if (k === 3) return f32SNaN(rng);
  if (k === 4) return f32Denormal(rng);
  if (k === 5) return (sign | F32.minNormal) >>> 0;
  if (k === 6) return (sign | F32.maxNormal) >>> 0;
  if (k === 7) return (sign | F32.one) >>> 0;
  if (k === 8) return F32.indefinite;
  return (sign | rng.pick([F32.minNormal + 1, F32.maxNormal - 1, 0x00ffffff, 0x7f000000])) >>> 0;
}

/**
 * A normal binary32 whose significand ends in a pattern that makes sums, products and
 * narrowing conversions land on or next to a rounding tie (…000, …001, …111, the half).
 */
export function f32NearTie(rng: Rng, exponentSpread = 8): number {
  const sign = rng.bool() ? 0x80000000 : 0;
  const exp = 127 + rng.int(2 * exponentSpread + 1) - exponentSpread;
  const m = rng.pick([0, 1, 2, 3, 0x7fffff, 0x7ffffe, 0x400000, 0x3fffff, 0x400001, 0x000fff, 0x7ff000]);
  return (sign | (exp << 23) | m) >>> 0;
}

/** Binary32 values at the signed 32/64-bit integer limits (±2^31, ±2^63, and their neighbours) and at x.5. */
export function f32IntegerEdge(rng: Rng): number {
  const k = rng.int(4);
  const sign = rng.bool() ? 0x80000000 : 0;
  if (k === 0) return (sign | ((127 + 31) << 23) | rng.pick([0, 1])) >>> 0; // 2^31, 2^31 + 256
  if (k === 1) return (sign | ((127 + 30) << 23) | 0x7fffff) >>> 0; // 2^31 - 128
  if (k === 2) return (sign | ((127 + 63) << 23) | rng.pick([0, 1, 0x7fffff])) >>> 0;
  // n + 0.5 and n + 0.25 for small n: round-to-nearest-even ties and truncation.
  const n = rng.int(1024);
  return f32FromNumber((sign ? -1 : 1) * (n + rng.pick([0.5, 0.25, 0.75, 1.5])));
}

/** The binary32 bits of a JavaScript number (rounded to nearest even). */
export function f32FromNumber(v: number): number {
  const b = new Float32Array([v]);
  return new Uint32Array(b.buffer)[0];
}

/** A binary32 lane: specials, ties, integer edges, random normals, or random bits. */
export function f32Value(rng: Rng): number {
  const k = rng.int(10);
  if (k < 3) return f32Special(rng);
  if (k < 5) return f32NearTie(rng);
  if (k < 6) return f32IntegerEdge(rng);
  if (k < 8) return f32FromNumber((rng.u32() / 0x100000000 - 0.5) * 2 ** (rng.int(40) - 20));
  return rng.u32();
}

// ------------------------------------------------------------------ binary64

export const F64 = {
  posZero: 0n,
  negZero: 0x8000000000000000n,
  posInf: 0x7ff0000000000000n,
  negInf: 0xfff0000000000000n,
  indefinite: 0xfff8000000000000n,
  qnan: 0x7ff8000000000000n,
  minDenormal: 1n,
  maxDenormal: 0x000fffffffffffffn,
  minNormal: 0x0010000000000000n,
  maxNormal: 0x7fefffffffffffffn,
  one: 0x3ff0000000000000n,
} as const;

const SIGN64 = 0x8000000000000000n;
const MANT64 = 0x000fffffffffffffn;

function u64(rng: Rng): bigint {
  return (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
}

export function f64QNaN(rng: Rng): bigint {
  const payload = rng.bool(0.3) ? 0n : u64(rng) & 0x0007ffffffffffffn;
  return (rng.bool() ? SIGN64 : 0n) | 0x7ff8000000000000n | payload;
}

export function f64SNaN(rng: Rng): bigint {
  let payload = u64(rng) & 0x0007ffffffffffffn;
  if (payload === 0n) payload = 1n;
  return (rng.bool() ? SIGN64 : 0n) | 0x7ff0000000000000n | payload;
}

export function f64Denormal(rng: Rng): bigint {
  const m = rng.pick([1n, MANT64, 0x0008000000000000n, 1n << BigInt(rng.int(52)), u64(rng) & MANT64 || 1n]);
  return (rng.bool() ? SIGN64 : 0n) | m;
}

export function f64Special(rng: Rng): bigint {
  const sign = rng.bool() ? SIGN64 : 0n;
  const k = rng.int(10);
  if (k === 0) return sign;
  if (k === 1) return sign | F64.posInf;
  if (k === 2) return f64QNaN(rng);
  if (k === 3) return f64SNaN(rng);
  if (k === 4) return f64Denormal(rng);
  if (k === 5) return sign | F64.minNormal;
  if (k === 6) return sign | F64.maxNormal;
  if (k === 7) return sign | F64.one;
  if (k === 8) return F64.indefinite;
  // Just outside and inside binary32's range, and binary32's denormal range.
  return sign | rng.pick([0x47efffffe0000000n, 0x47effffff0000000n, 0x47f0000000000000n, 0x3810000000000000n, 0x380fffffffffffffn, 0x36a0000000000000n]);
}

/**
 * A normal binary64 whose significand ends near a tie, at binary64's own precision or at
 * binary32's (bit 28 is the half ulp of a binary32 significand), for narrowing conversions.
 */
export function f64NearTie(rng: Rng, exponentSpread = 8): bigint {
  const sign = rng.bool() ? SIGN64 : 0n;
  const exp = BigInt(1023 + rng.int(2 * exponentSpread + 1) - exponentSpread);
  const m = rng.pick([0n, 1n, 3n, MANT64, MANT64 - 1n, 0x0008000000000000n, 1n << 28n, (1n << 28n) + 1n, (1n << 28n) - 1n, 3n << 28n, (u64(rng) & ~((1n << 29n) - 1n) & MANT64) | (1n << 28n)]);
  return sign | (exp << 52n) | m;
}

/** Binary64 values at and next to ±2^31, ±2^63, 2^32, 2^64, and at n + 0.5. */
export function f64IntegerEdge(rng: Rng): bigint {
  const sign = rng.bool() ? SIGN64 : 0n;
  const k = rng.int(4);
  if (k === 0) return sign | (BigInt(1023 + rng.pick([31, 32])) << 52n) | rng.pick([0n, 1n]);
  if (k === 1) return sign | (BigInt(1023 + rng.pick([30, 31])) << 52n) | rng.pick([MANT64, 0xffffffffe0000000n & MANT64, 0xfffffffff0000000n & MANT64, 0xffffffffc0000000n & MANT64]);
  if (k === 2) return sign | (BigInt(1023 + rng.pick([62, 63, 64])) << 52n) | rng.pick([0n, 1n, MANT64]);
  const n = rng.int(1 << 20);
  return f64FromNumber((sign !== 0n ? -1 : 1) * (n + rng.pick([0.5, 0.25, 0.75, 1.5, 0.4999999999999999])));
}

export function f64FromNumber(v: number): bigint {
  return new BigUint64Array(new Float64Array([v]).buffer)[0];
}

export function f64Value(rng: Rng): bigint {
  const k = rng.int(10);
  if (k < 3) return f64Special(rng);
  if (k < 5) return f64NearTie(rng);
  if (k < 6) return f64IntegerEdge(rng);
  if (k < 8) return f64FromNumber((rng.u32() / 0x100000000 - 0.5) * 2 ** (rng.int(80) - 40));
  return u64(rng);
}

// ------------------------------------------------------------------ integer lanes

/** An edge-biased integer lane of `bits` bits (0, ±1, the signed and unsigned limits, one bit, random). */
export function intLane(rng: Rng, bits: 8 | 16 | 32 | 64): bigint {
  const b = BigInt(bits);
  const mask = (1n << b) - 1n;
  const sign = 1n << (b - 1n);
  const k = rng.int(8);
  let v: bigint;
  if (k < 3) v = u64(rng);
  else if (k < 6) v = rng.pick([0n, 1n, 2n, mask, mask - 1n, sign, sign - 1n, sign + 1n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n]);
  else if (k < 7) v = 1n << BigInt(rng.int(bits));
  else v = BigInt(rng.int(256)) - 128n;
  return v & mask;
}

// ------------------------------------------------------------------ XMM registers

/** Write `value`'s low `bytes` bytes little-endian at out[at..]. */
export function putLane(out: Uint8Array, at: number, value: number | bigint, bytes: number): void {
  let v = BigInt.asUintN(bytes * 8, BigInt(value));
  for (let i = 0; i < bytes; i++, v >>= 8n) out[at + i] = Number(v & 0xffn);
}

/** Lane `i` of `bytes` bytes of a 16-byte register image, as an unsigned bigint. */
export function getLane(reg: Uint8Array, i: number, bytes: number, at = 0): bigint {
  let v = 0n;
  for (let k = bytes - 1; k >= 0; k--) v = (v << 8n) | BigInt(reg[at + i * bytes + k]);
  return v;
}

export function xmmF32(rng: Rng): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) putLane(out, i * 4, f32Value(rng), 4);
  return out;
}

export function xmmF64(rng: Rng): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 2; i++) putLane(out, i * 8, f64Value(rng), 8);
  return out;
}

export function xmmInt(rng: Rng, bits: 8 | 16 | 32 | 64): Uint8Array {
  const out = new Uint8Array(16);
  const bytes = bits / 8;
  for (let i = 0; i < 16 / bytes; i++) putLane(out, i * bytes, intLane(rng, bits), bytes);
  return out;
}

/** 16 random bytes. */
export function xmmBits(rng: Rng): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i += 4) putLane(out, i, rng.u32(), 4);
  return out;
}

/** Any of the above: a register's worth of lanes for an instruction whose data type varies. */
export function xmmValue(rng: Rng): Uint8Array {
  const k = rng.int(6);
  if (k === 0) return xmmF32(rng);
  if (k === 1) return xmmF64(rng);
  if (k === 2) return xmmBits(rng);
  return xmmInt(rng, rng.pick([8, 16, 32, 64] as const));
}

/** XMM0..(count-1) as one image (128 bytes for the 32-bit suites, 256 for long64), each from `lane`. */
export function xmmFile(rng: Rng, count: 8 | 16, lane: (rng: Rng) => Uint8Array = xmmValue): Uint8Array {
  const out = new Uint8Array(count * 16);
  for (let r = 0; r < count; r++) out.set(lane(rng), r * 16);
  return out;
}

// ------------------------------------------------------------------ MXCSR

/** MXCSR fields. */
export const MXCSR = {
  /** Sticky exception flags IE DE ZE OE UE PE. */
  flags: 0x003f,
  daz: 0x0040,
  /** Exception masks IM DM ZM OM UM PM. */
  masks: 0x1f80,
  rc: 0x6000,
  fz: 0x8000,
  default: 0x1f80,
} as const;

export const ROUNDING = { nearest: 0x0000, down: 0x2000, up: 0x4000, zero: 0x6000 } as const;

export interface MxcsrOptions {
  /** Leave every exception masked (default: usually masked, sometimes a random subset unmasked). */
  allMasked?: boolean;
  /** Probability that some exception is unmasked (default 0.25; ignored with allMasked). */
  unmaskedChance?: number;
}

/**
 * An MXCSR value with a random rounding mode, DAZ and FZ, sometimes pre-set sticky flags,
 * and exception masks all set or (sometimes) a random subset cleared. Only bits 0-15 are
 * ever set (bit 17 is AMD's MM, see vendor.ts; the rest are reserved).
 */
export function mxcsrValue(rng: Rng, opts: MxcsrOptions = {}): number {
  let v = rng.pick(Object.values(ROUNDING));
  if (rng.bool(0.25)) v |= MXCSR.daz;
  if (rng.bool(0.25)) v |= MXCSR.fz;
  if (rng.bool(0.3)) v |= rng.u32() & MXCSR.flags;
  let masks = MXCSR.masks;
  if (opts.allMasked !== true && rng.bool(opts.unmaskedChance ?? 0.25)) masks &= rng.u32() | (rng.bool() ? 0 : 0x1000);
  return (v | masks) >>> 0;
}

/** nasm `db` text for bytes (for data embedded in a case's code). */
export function dbText(bytes: Uint8Array): string {
  return `db ${[...bytes].map((b) => `0x${b.toString(16)}`).join(',')}`;
}
