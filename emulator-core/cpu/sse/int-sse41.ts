/**
 * SSE4.1 integer instructions on XMM registers (all 66-prefixed): sign/zero extension
 * (PMOVSX*, PMOVZX*), PMULDQ, PMULLD, PCMPEQQ, PACKUSDW, the signed/unsigned byte, word
 * and dword minimum/maximum forms SSE2 lacked, PTEST, PHMINPOSUW and MPSADBW.
 *
 * Full 128-bit memory operands follow the legacy SSE rule (#GP(0) unless 16-byte
 * aligned); the PMOVSX/PMOVZX forms read only the 2, 4 or 8 bytes they extend, unaligned.
 * Results that overlap their own sources (a widening move of a register into itself) are
 * built in TMP first.
 */
import { CF, ZF } from '../constants.js';
import type { DecodedInsn } from '../decoder/decoded-insn.js';
import type { SseHost } from './sse-host.js';
import { defineSse } from './sse-table.js';
import type { SseUnit } from './sse-unit.js';
import { TMP } from './xmm-file.js';

const MAP_0F38 = 2;
const MAP_0F3A = 3;

type Handler = (u: SseUnit, d: DecodedInsn, h: SseHost) => void;

// ------------------------------------------------------------------ PMOVSX / PMOVZX

/**
 * Extend the low `16 / to * from` bytes of the source, elements of `from` bytes, to
 * elements of `to` bytes (sign- or zero-extended). A memory source is exactly those bytes.
 */
function extend(from: 1 | 2 | 4, to: 2 | 4 | 8, signed: boolean): Handler {
  const count = 16 / to;
  return (u, d, h) => {
    const x = u.x;
    const s = u.src(d, h, count * from);
    const t = TMP;
    for (let i = 0; i < count; i++) {
      let v: number;
      if (from === 1) v = signed ? x.i8[s * 16 + i]! : x.u8[s * 16 + i]!;
      else if (from === 2) v = signed ? x.i16[s * 8 + i]! : x.u16[s * 8 + i]!;
      else v = signed ? x.i32[s * 4 + i]! : x.u32[s * 4 + i]!;
      if (to === 2) x.u16[t * 8 + i] = v;
      else if (to === 4) x.u32[t * 4 + i] = v;
      else {
        x.u32[t * 4 + i * 2] = v;
        x.u32[t * 4 + i * 2 + 1] = v < 0 ? -1 : 0;
      }
    }
    x.copy(d.reg, t);
  };
}

const EXT: readonly [number, 1 | 2 | 4, 2 | 4 | 8][] = [
  [0x20, 1, 2], // BW
  [0x21, 1, 4], // BD
  [0x22, 1, 8], // BQ
  [0x23, 2, 4], // WD
  [0x24, 2, 8], // WQ
  [0x25, 4, 8], // DQ
];
for (const [op, from, to] of EXT) {
  defineSse(MAP_0F38, '6', op, extend(from, to, true)); // PMOVSX
  defineSse(MAP_0F38, '6', op + 0x10, extend(from, to, false)); // PMOVZX
}

// ------------------------------------------------------------------ multiplies

/** The 64-bit product of the last mul32x32 call, as two 32-bit halves. */
let prodLo = 0;
let prodHi = 0;

/** a * b of 32-bit integers into prodLo/prodHi exactly (16-bit partial products, no BigInt). */
function mul32x32(a: number, b: number, signed: boolean): void {
  const ua = a >>> 0;
  const ub = b >>> 0;
  const a0 = ua & 0xffff;
  const a1 = ua >>> 16;
  const b0 = ub & 0xffff;
  const b1 = ub >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  let hi = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  // Signed: (a - 2^32 [a<0]) * (b - 2^32 [b<0]) differs from the unsigned product by these, mod 2^64.
  if (signed) {
    if ((a | 0) < 0) hi -= ub;
    if ((b | 0) < 0) hi -= ua;
  }
  prodLo = Math.imul(a, b) >>> 0;
  prodHi = hi >>> 0;
}

// PMULDQ: signed dword lanes 0 and 2 multiplied into two quadwords.
defineSse(MAP_0F38, '6', 0x28, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  for (let k = 0; k < 4; k += 2) {
    mul32x32(x.i32[r + k]!, x.i32[s + k]!, true);
    x.u32[r + k] = prodLo;
    x.u32[r + k + 1] = prodHi;
  }
});

// PMULLD: the low 32 bits of each dword product.
defineSse(MAP_0F38, '6', 0x40, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  for (let k = 0; k < 4; k++) x.i32[r + k] = Math.imul(x.i32[r + k]!, x.i32[s + k]!);
});

// ------------------------------------------------------------------ compares, packs

// PCMPEQQ: all ones in each quadword lane that is equal.
defineSse(MAP_0F38, '6', 0x29, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  for (let k = 0; k < 4; k += 2) {
    const eq = x.u32[r + k] === x.u32[s + k] && x.u32[r + k + 1] === x.u32[s + k + 1] ? -1 : 0;
    x.i32[r + k] = eq;
    x.i32[r + k + 1] = eq;
  }
});

function satU16(v: number): number {
  return v < 0 ? 0 : v > 0xffff ? 0xffff : v;
}

// PACKUSDW: signed dwords of dest then source, saturated to unsigned words.
defineSse(MAP_0F38, '6', 0x2b, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true);
  const r = d.reg;
  for (let k = 0; k < 4; k++) {
    x.u16[TMP * 8 + k] = satU16(x.i32[r * 4 + k]!);
    x.u16[TMP * 8 + 4 + k] = satU16(x.i32[s * 4 + k]!);
  }
  x.copy(r, TMP);
});

// ------------------------------------------------------------------ PMIN / PMAX

type Lanes = Int8Array | Uint16Array | Int32Array | Uint32Array;

/** Lane-wise minimum (or maximum) over `view`, whose lanes are `16 / width` per register. */
function minMax(pick: (u: SseUnit) => Lanes, lanes: number, max: boolean): Handler {
  return (u, d, h) => {
    const v = pick(u);
    const s = u.src(d, h, 16, true) * lanes;
    const r = d.reg * lanes;
    for (let i = 0; i < lanes; i++) {
      const a = v[r + i]!;
      const b = v[s + i]!;
      if (max ? b > a : b < a) v[r + i] = b;
    }
  };
}

defineSse(MAP_0F38, '6', 0x38, minMax((u) => u.x.i8, 16, false)); // PMINSB
defineSse(MAP_0F38, '6', 0x39, minMax((u) => u.x.i32, 4, false)); // PMINSD
defineSse(MAP_0F38, '6', 0x3a, minMax((u) => u.x.u16, 8, false)); // PMINUW
defineSse(MAP_0F38, '6', 0x3b, minMax((u) => u.x.u32, 4, false)); // PMINUD
defineSse(MAP_0F38, '6', 0x3c, minMax((u) => u.x.i8, 16, true)); // PMAXSB
defineSse(MAP_0F38, '6', 0x3d, minMax((u) => u.x.i32, 4, true)); // PMAXSD
defineSse(MAP_0F38, '6', 0x3e, minMax((u) => u.x.u16, 8, true)); // PMAXUW
defineSse(MAP_0F38, '6', 0x3f, minMax((u) => u.x.u32, 4, true)); // PMAXUD

// ------------------------------------------------------------------ PTEST, PHMINPOSUW

// PTEST: ZF when dest AND src is zero, CF when src AND NOT dest is zero; OF SF AF PF cleared.
defineSse(MAP_0F38, '6', 0x17, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  let and = 0;
  let andn = 0;
  for (let k = 0; k < 4; k++) {
    and |= x.u32[r + k]! & x.u32[s + k]!;
    andn |= x.u32[s + k]! & ~x.u32[r + k]!;
  }
  h.setArithFlags((and === 0 ? ZF : 0) | (andn === 0 ? CF : 0));
});

// PHMINPOSUW: the smallest unsigned word (the lowest index on ties) and its index; the rest zeroed.
defineSse(MAP_0F38, '6', 0x41, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 8;
  let min = x.u16[s]!;
  let at = 0;
  for (let i = 1; i < 8; i++) {
    const v = x.u16[s + i]!;
    if (v < min) {
      min = v;
      at = i;
    }
  }
  const r = d.reg * 4;
  x.u32[r] = min | (at << 16);
  x.u32[r + 1] = 0;
  x.u32[r + 2] = 0;
  x.u32[r + 3] = 0;
});

// ------------------------------------------------------------------ MPSADBW

// MPSADBW: eight sums of absolute differences between the 4-byte source block imm8[1:0]
// and the eleven-byte window of the destination starting at byte 4 * imm8[2], sliding by one.
defineSse(MAP_0F3A, '6', 0x42, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 16 + (d.imm & 3) * 4;
  const r = d.reg * 16 + (d.imm & 4);
  const b = x.u8;
  for (let i = 0; i < 8; i++) {
    let sum = 0;
    for (let j = 0; j < 4; j++) sum += Math.abs(b[r + i + j]! - b[s + j]!);
    x.u16[TMP * 8 + i] = sum;
  }
  x.copy(d.reg, TMP);
});
