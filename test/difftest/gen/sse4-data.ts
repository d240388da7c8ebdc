/**
 * Operand data for the SSE4.1 integer and SSE4.2 generators, shared by the 32-bit
 * (gen/sse-sse41.ts, gen/sse-sse42.ts) and 64-bit (long64/gen-sse4.ts) suites: register
 * images biased per instruction, and string fragments built for each PCMPxSTRx
 * aggregation mode (sets with hits, ranges with bounds next to the data, near-copies for
 * equal each, needles planted in haystacks and cut off at the end), with embedded zeros
 * that end implicit strings, and explicit lengths around and beyond 16/8 elements.
 */
import type { Rng } from '../prng.js';
import type { Draft } from './draft.js';
import { intLane, putLane, xmmInt } from './sse-values.js';

/** A 16-byte-aligned data-region offset with room for 16 bytes in the draft's patch window. */
export function alignedSlot(d: Draft): number {
  return (d.slot(32) + 15) & ~15;
}

/** A register image for an instruction working on `bits`-bit integer lanes. */
export function lanes(rng: Rng, bits: 8 | 16 | 32 | 64): Uint8Array {
  if (rng.bool(0.15)) {
    // Every lane the same value: min/max/compare ties.
    const v = intLane(rng, bits);
    const out = new Uint8Array(16);
    for (let i = 0; i < 16; i += bits / 8) putLane(out, i, v, bits / 8);
    return out;
  }
  return xmmInt(rng, bits);
}

/** `b` with some lanes replaced by `a`'s (equal lanes for compares, ties for min/max). */
export function mixLanes(rng: Rng, a: Uint8Array, b: Uint8Array, bytes: number): Uint8Array {
  const out = b.slice();
  for (let i = 0; i < 16; i += bytes) if (rng.bool(0.35)) out.set(a.subarray(i, i + bytes), i);
  // 64-bit lanes whose high halves agree: the signed compare falls to the unsigned low halves.
  if (bytes === 8 && rng.bool(0.3)) out.set(a.subarray(4, 8), 4);
  return out;
}

/** Two images for PTEST: disjoint, subset, equal, zero, all ones or random. */
export function ptestPair(rng: Rng): [Uint8Array, Uint8Array] {
  const a = lanes(rng, rng.pick([8, 32, 64] as const));
  const k = rng.int(7);
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    if (k === 0) b[i] = ~a[i]! & rng.int(256); // disjoint: ZF
    else if (k === 1) b[i] = a[i]! & rng.int(256); // subset: CF
    else if (k === 2) b[i] = a[i]!; // equal
    else if (k === 3) b[i] = 0;
    else if (k === 4) b[i] = 0xff;
    else b[i] = rng.int(256);
  }
  // One stray bit sometimes, in the highest byte too.
  if (rng.bool(0.3)) {
    const j = rng.pick([0, 7, 8, 15, rng.int(16)]);
    b[j] = b[j]! ^ (1 << rng.int(8));
  }
  return rng.bool() ? [a, b] : [b, a];
}

// ------------------------------------------------------------------ PCMPxSTRx

export interface StringOperands {
  /** xmm1 (the set, the ranges, the needle). */
  a: Uint8Array;
  /** xmm2/m128 (the text). */
  b: Uint8Array;
  /** Elements up to the planted terminators (for choosing realistic explicit lengths). */
  naturalA: number;
  naturalB: number;
}

/** A control byte: every format, aggregation, polarity and output selection; bit 7 clear (reserved). */
export function stringImm(rng: Rng): number {
  return rng.int(0x80);
}

const BYTE_POOL = [0x41, 0x42, 0x43, 0x61, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0xff];
const WORD_POOL = [0x0041, 0x0042, 0x4100, 0x0141, 0x7fff, 0x8000, 0x8001, 0xffff, 0xff41, 0x0001];

/** Build the operands for control byte `imm` (its format and aggregation). */
export function stringOperands(rng: Rng, imm: number): StringOperands {
  const words = (imm & 1) !== 0;
  const n = words ? 8 : 16;
  const mask = words ? 0xffff : 0xff;
  const pool = words ? WORD_POOL : BYTE_POOL;
  // A small alphabet makes hits likely; a random element now and then.
  const alphabet: number[] = [];
  const size = 2 + rng.int(4);
  while (alphabet.length < size) {
    const v = rng.bool(0.7) ? rng.pick(pool) : 1 + rng.int(mask);
    if (!alphabet.includes(v)) alphabet.push(v);
  }
  const letter = (): number => (rng.bool(0.9) ? rng.pick(alphabet) : rng.int(mask + 1));
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n; i++) b.push(letter());
  const agg = (imm >> 2) & 3;
  if (agg === 0) {
    for (let i = 0; i < n; i++) a.push(letter());
  } else if (agg === 1) {
    // Bound pairs (sometimes reversed: an empty range), text at and next to the bounds.
    const signed = (imm & 2) !== 0;
    const asNum = (v: number): number => (signed && v > mask >> 1 ? v - mask - 1 : v);
    for (let i = 0; i < n; i += 2) {
      let lo = letter();
      let hi = letter();
      if (asNum(lo) > asNum(hi) && rng.bool(0.8)) [lo, hi] = [hi, lo];
      a.push(lo, hi);
    }
    for (let i = 0; i < n; i++) {
      if (rng.bool(0.6)) b[i] = (a[rng.int(n)]! + rng.pick([-1, 0, 0, 1])) & mask;
    }
  } else if (agg === 2) {
    for (let i = 0; i < n; i++) a.push(rng.bool(0.8) ? b[i]! : letter());
  } else {
    // A needle planted in the text once or twice, sometimes running off its end.
    const len = 1 + rng.int(Math.min(6, n));
    for (let i = 0; i < len; i++) a.push(letter());
    for (let i = len; i < n; i++) a.push(letter());
    const plants = 1 + rng.int(2);
    for (let p = 0; p < plants; p++) {
      const at = rng.bool(0.3) ? n - 1 - rng.int(len) : rng.int(n);
      for (let i = 0; i < len && at + i < n; i++) b[at + i] = a[i]!;
    }
  }
  // Terminators: implicit strings end at the first zero element; explicit ones ignore them.
  let naturalA = n;
  let naturalB = n;
  if (rng.bool(0.6)) {
    naturalA = rng.int(n);
    a[naturalA] = 0;
  }
  if (rng.bool(0.6)) {
    naturalB = rng.int(n);
    b[naturalB] = 0;
  }
  if (rng.bool(0.15)) a[rng.int(n)] = 0;
  if (rng.bool(0.15)) b[rng.int(n)] = 0;
  const out = (v: number[]): Uint8Array => {
    const r = new Uint8Array(16);
    v.forEach((e, i) => putLane(r, i * (words ? 2 : 1), e, words ? 2 : 1));
    return r;
  };
  return { a: out(a), b: out(b), naturalA, naturalB };
}

/**
 * An explicit length register value (64-bit, as a bigint): the natural length, small
 * values either side of 0 and of the element count, their negations, and the extremes
 * that must saturate (2^31, -2^31, 2^63, -2^63, random).
 */
export function explicitLength(rng: Rng, natural: number, n: number, wide: boolean): bigint {
  const k = rng.int(10);
  let v: bigint;
  if (k < 3) v = BigInt(natural);
  else if (k < 5) v = BigInt(rng.int(n + 4));
  else if (k < 7) v = -BigInt(rng.int(n + 4));
  else if (k < 8) v = rng.pick([BigInt(n), BigInt(n + 1), BigInt(n - 1), 16n, 17n, -16n, -17n, -8n, -9n]);
  else if (k < 9) v = rng.pick([0x7fffffffn, -0x80000000n, 0x80000000n, 0xffffffffn, 0x100000000n, 0x100000003n, -0x7fffffffffffffffn - 1n, 0x7fffffffffffffffn]);
  else v = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
  if (!wide && rng.bool(0.2)) {
    // Upper half garbage that only a REX.W form would see.
    v = (BigInt(rng.u32()) << 32n) | BigInt.asUintN(32, v);
  }
  return BigInt.asUintN(64, v);
}
