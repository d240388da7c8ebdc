/**
 * The packed-integer lane ALU shared by MMX (64-bit vectors) and SSE2/SSSE3 (128-bit
 * vectors): `laneOp` computes `dst op src` on byte ranges of any buffer seen through
 * LaneViews, with the vector length as a parameter, so each lane operation exists once.
 * The MMX unit (fpu.ts) uses it through MmxAlu's own small buffer; the SSE unit
 * (sse/int-sse2.ts, sse/int-ssse3.ts) runs it directly on the XMM register file, whose
 * XmmFile has the same views. Register state (aliasing onto the x87 registers, TOP and
 * tags) lives in fpu.ts.
 *
 * The views assume a little-endian host (checked at load), which lets a vector be
 * addressed as bytes, words or dwords in guest lane order.
 */

import { HostError } from '../errors.js';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new HostError('The MMX unit needs a little-endian host');
}

/** The second opcode bytes (after 0F) of the MMX instructions this unit executes. */
export const MMX_OPCODES: readonly number[] = [
  0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6e, 0x6f, 0x71, 0x72, 0x73, 0x74,
  0x75, 0x76, 0x77, 0x7e, 0x7f, 0xd1, 0xd2, 0xd3, 0xd5, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xdf, 0xe1, 0xe2, 0xe5,
  0xe8, 0xe9, 0xeb, 0xec, 0xed, 0xef, 0xf1, 0xf2, 0xf3, 0xf5, 0xf8, 0xf9, 0xfa, 0xfc, 0xfd, 0xfe,
];

const MMX_SET = new Uint8Array(256);
for (const op of MMX_OPCODES) MMX_SET[op] = 1;

/** Whether 0F `op2` (without a 66/F2/F3 prefix) is an MMX instruction of this unit. */
export function isMmxOpcode(op2: number): boolean {
  return MMX_SET[op2 & 0xff] === 1;
}

function satS8(v: number): number {
  return v > 127 ? 127 : v < -128 ? -128 : v;
}
function satU8(v: number): number {
  return v > 255 ? 255 : v < 0 ? 0 : v;
}
function satS16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
function satU16(v: number): number {
  return v > 65535 ? 65535 : v < 0 ? 0 : v;
}

/** The typed-array views laneOp works through (MmxAlu's own, or the XMM file's). */
export interface LaneViews {
  readonly u8: Uint8Array;
  readonly i8: Int8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
}

/** laneOp's opcode numbers for the 0F 38 (SSSE3) instructions: 0x100 | the third byte. */
export const OP_0F38 = 0x100;

/**
 * Copy `n` bytes at `t` to `d` (results built in scratch because a lane of the result
 * depends on lanes the loop has not read yet).
 */
function fromScratch(v: LaneViews, d: number, t: number, n: number): void {
  const u32 = v.u32;
  for (let i = 0; i < n >> 2; i++) u32[(d >> 2) + i] = u32[(t >> 2) + i]!;
}

/** PUNPCKL and PUNPCKH: interleave `w`-byte elements of the low (or high) halves of d and s. */
function unpack(v: LaneViews, d: number, s: number, t: number, n: number, w: number, high: boolean): void {
  const u8 = v.u8;
  const half = n >> 1;
  const from = high ? half : 0;
  let o = t;
  for (let i = from; i < from + half; i += w) {
    for (let k = 0; k < w; k++) u8[o++] = u8[d + i + k]!;
    for (let k = 0; k < w; k++) u8[o++] = u8[s + i + k]!;
  }
  fromScratch(v, d, t, n);
}

/** Unsigned 32 x 32 -> 64 product of a and b into dwords j (low) and j+1 of u32, without BigInt. */
function mulU32(u32: Uint32Array, j: number, a: number, b: number): void {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p00 = a0 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  u32[j] = (mid << 16) | (p00 & 0xffff);
  u32[j + 1] = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
}

/**
 * Two-operand lane operation `op` (the byte after 0F, or OP_0F38 | the byte after 0F 38)
 * on `n`-byte vectors (8: MMX, 16: XMM): destination bytes at `d`, source at `s`, `n`
 * bytes of scratch at `t` (byte offsets, multiples of 8; d may equal s). Not the moves,
 * shifts by immediate, shuffles or PALIGNR (their own functions below). Returns false
 * for an opcode that is not a lane operation. Allocation-free.
 */
export function laneOp(v: LaneViews, op: number, d: number, s: number, t: number, n: number): boolean {
  const u8 = v.u8;
  const i8 = v.i8;
  const u16 = v.u16;
  const i16 = v.i16;
  const u32 = v.u32;
  const i32 = v.i32;
  // Lane indexes of the operands at each width.
  const d2 = d >> 1;
  const s2 = s >> 1;
  const t2 = t >> 1;
  const d4 = d >> 2;
  const s4 = s >> 2;
  const nw = n >> 1;
  const nd = n >> 2;
  switch (op) {
    case 0x60: // PUNPCKLBW
      unpack(v, d, s, t, n, 1, false);
      return true;
    case 0x61: // PUNPCKLWD
      unpack(v, d, s, t, n, 2, false);
      return true;
    case 0x62: // PUNPCKLDQ
      unpack(v, d, s, t, n, 4, false);
      return true;
    case 0x6c: // PUNPCKLQDQ (XMM only)
      unpack(v, d, s, t, n, 8, false);
      return true;
    case 0x68: // PUNPCKHBW
      unpack(v, d, s, t, n, 1, true);
      return true;
    case 0x69: // PUNPCKHWD
      unpack(v, d, s, t, n, 2, true);
      return true;
    case 0x6a: // PUNPCKHDQ
      unpack(v, d, s, t, n, 4, true);
      return true;
    case 0x6d: // PUNPCKHQDQ (XMM only)
      unpack(v, d, s, t, n, 8, true);
      return true;
    case 0x63: // PACKSSWB: the destination's words, then the source's, as saturated bytes
      for (let i = 0; i < nw; i++) {
        i8[t + i] = satS8(i16[d2 + i]!);
        i8[t + nw + i] = satS8(i16[s2 + i]!);
      }
      fromScratch(v, d, t, n);
      return true;
    case 0x67: // PACKUSWB
      for (let i = 0; i < nw; i++) {
        u8[t + i] = satU8(i16[d2 + i]!);
        u8[t + nw + i] = satU8(i16[s2 + i]!);
      }
      fromScratch(v, d, t, n);
      return true;
    case 0x6b: // PACKSSDW
      for (let i = 0; i < nd; i++) {
        i16[t2 + i] = satS16(i32[d4 + i]!);
        i16[t2 + nd + i] = satS16(i32[s4 + i]!);
      }
      fromScratch(v, d, t, n);
      return true;
    case 0x64: // PCMPGTB
      for (let i = 0; i < n; i++) u8[d + i] = i8[d + i]! > i8[s + i]! ? 0xff : 0;
      return true;
    case 0x65: // PCMPGTW
      for (let i = 0; i < nw; i++) u16[d2 + i] = i16[d2 + i]! > i16[s2 + i]! ? 0xffff : 0;
      return true;
    case 0x66: // PCMPGTD
      for (let i = 0; i < nd; i++) u32[d4 + i] = i32[d4 + i]! > i32[s4 + i]! ? 0xffffffff : 0;
      return true;
    case 0x74: // PCMPEQB
      for (let i = 0; i < n; i++) u8[d + i] = u8[d + i] === u8[s + i] ? 0xff : 0;
      return true;
    case 0x75: // PCMPEQW
      for (let i = 0; i < nw; i++) u16[d2 + i] = u16[d2 + i] === u16[s2 + i] ? 0xffff : 0;
      return true;
    case 0x76: // PCMPEQD
      for (let i = 0; i < nd; i++) u32[d4 + i] = u32[d4 + i] === u32[s4 + i] ? 0xffffffff : 0;
      return true;
    case 0xd1: // PSRLW by register
    case 0xd2: // PSRLD
    case 0xd3: // PSRLQ
    case 0xe1: // PSRAW
    case 0xe2: // PSRAD
    case 0xf1: // PSLLW
    case 0xf2: // PSLLD
    case 0xf3: {
      // PSLLQ. The count is the source's whole low 64 bits; anything past the lane width
      // clears the lanes (or fills them with the sign for arithmetic shifts).
      const count = u32[s4 + 1] !== 0 || u32[s4]! > 64 ? 64 : u32[s4]!;
      laneShift(v, op, count, d, n);
      return true;
    }
    case 0xd5: // PMULLW
      for (let i = 0; i < nw; i++) u16[d2 + i] = Math.imul(i16[d2 + i]!, i16[s2 + i]!);
      return true;
    case 0xe5: // PMULHW
      for (let i = 0; i < nw; i++) u16[d2 + i] = (i16[d2 + i]! * i16[s2 + i]!) >> 16;
      return true;
    case 0xe4: // PMULHUW
      for (let i = 0; i < nw; i++) u16[d2 + i] = (u16[d2 + i]! * u16[s2 + i]!) >>> 16;
      return true;
    case 0xf4: // PMULUDQ: the low dword of each quadword, unsigned, to a 64-bit product
      for (let i = 0; i < nd; i += 2) mulU32(u32, d4 + i, u32[d4 + i]!, u32[s4 + i]!);
      return true;
    case 0xf5: // PMADDWD (0x8000*0x8000*2 wraps to 0x80000000, as the CPU does)
      for (let i = 0; i < nd; i++) {
        const j = 2 * i;
        i32[d4 + i] = (i16[d2 + j]! * i16[s2 + j]! + i16[d2 + j + 1]! * i16[s2 + j + 1]!) | 0;
      }
      return true;
    case 0xd8: // PSUBUSB
      for (let i = 0; i < n; i++) u8[d + i] = satU8(u8[d + i]! - u8[s + i]!);
      return true;
    case 0xd9: // PSUBUSW
      for (let i = 0; i < nw; i++) u16[d2 + i] = satU16(u16[d2 + i]! - u16[s2 + i]!);
      return true;
    case 0xdc: // PADDUSB
      for (let i = 0; i < n; i++) u8[d + i] = satU8(u8[d + i]! + u8[s + i]!);
      return true;
    case 0xdd: // PADDUSW
      for (let i = 0; i < nw; i++) u16[d2 + i] = satU16(u16[d2 + i]! + u16[s2 + i]!);
      return true;
    case 0xe8: // PSUBSB
      for (let i = 0; i < n; i++) i8[d + i] = satS8(i8[d + i]! - i8[s + i]!);
      return true;
    case 0xe9: // PSUBSW
      for (let i = 0; i < nw; i++) i16[d2 + i] = satS16(i16[d2 + i]! - i16[s2 + i]!);
      return true;
    case 0xec: // PADDSB
      for (let i = 0; i < n; i++) i8[d + i] = satS8(i8[d + i]! + i8[s + i]!);
      return true;
    case 0xed: // PADDSW
      for (let i = 0; i < nw; i++) i16[d2 + i] = satS16(i16[d2 + i]! + i16[s2 + i]!);
      return true;
    case 0xf8: // PSUBB
      for (let i = 0; i < n; i++) u8[d + i] = u8[d + i]! - u8[s + i]!;
      return true;
    case 0xf9: // PSUBW
      for (let i = 0; i < nw; i++) u16[d2 + i] = u16[d2 + i]! - u16[s2 + i]!;
      return true;
    case 0xfa: // PSUBD
      for (let i = 0; i < nd; i++) u32[d4 + i] = u32[d4 + i]! - u32[s4 + i]!;
      return true;
    case 0xfb: // PSUBQ: dword pairs with a borrow
      for (let i = 0; i < nd; i += 2) {
        const a = u32[d4 + i]!;
        const b = u32[s4 + i]!;
        u32[d4 + i] = a - b;
        u32[d4 + i + 1] = u32[d4 + i + 1]! - u32[s4 + i + 1]! - (a < b ? 1 : 0);
      }
      return true;
    case 0xfc: // PADDB
      for (let i = 0; i < n; i++) u8[d + i] = u8[d + i]! + u8[s + i]!;
      return true;
    case 0xfd: // PADDW
      for (let i = 0; i < nw; i++) u16[d2 + i] = u16[d2 + i]! + u16[s2 + i]!;
      return true;
    case 0xfe: // PADDD
      for (let i = 0; i < nd; i++) u32[d4 + i] = u32[d4 + i]! + u32[s4 + i]!;
      return true;
    case 0xd4: // PADDQ: dword pairs with a carry
      for (let i = 0; i < nd; i += 2) {
        const a = u32[d4 + i]!;
        const lo = (a + u32[s4 + i]!) >>> 0;
        u32[d4 + i] = lo;
        u32[d4 + i + 1] = u32[d4 + i + 1]! + u32[s4 + i + 1]! + (lo < a ? 1 : 0);
      }
      return true;
    case 0xdb: // PAND
      for (let i = 0; i < nd; i++) u32[d4 + i] = u32[d4 + i]! & u32[s4 + i]!;
      return true;
    case 0xdf: // PANDN: ~dst & src
      for (let i = 0; i < nd; i++) u32[d4 + i] = ~u32[d4 + i]! & u32[s4 + i]!;
      return true;
    case 0xeb: // POR
      for (let i = 0; i < nd; i++) u32[d4 + i] = u32[d4 + i]! | u32[s4 + i]!;
      return true;
    case 0xef: // PXOR
      for (let i = 0; i < nd; i++) u32[d4 + i] = u32[d4 + i]! ^ u32[s4 + i]!;
      return true;
    case 0xe0: // PAVGB: rounded up
      for (let i = 0; i < n; i++) u8[d + i] = (u8[d + i]! + u8[s + i]! + 1) >> 1;
      return true;
    case 0xe3: // PAVGW
      for (let i = 0; i < nw; i++) u16[d2 + i] = (u16[d2 + i]! + u16[s2 + i]! + 1) >> 1;
      return true;
    case 0xda: // PMINUB
      for (let i = 0; i < n; i++) if (u8[s + i]! < u8[d + i]!) u8[d + i] = u8[s + i]!;
      return true;
    case 0xde: // PMAXUB
      for (let i = 0; i < n; i++) if (u8[s + i]! > u8[d + i]!) u8[d + i] = u8[s + i]!;
      return true;
    case 0xea: // PMINSW
      for (let i = 0; i < nw; i++) if (i16[s2 + i]! < i16[d2 + i]!) i16[d2 + i] = i16[s2 + i]!;
      return true;
    case 0xee: // PMAXSW
      for (let i = 0; i < nw; i++) if (i16[s2 + i]! > i16[d2 + i]!) i16[d2 + i] = i16[s2 + i]!;
      return true;
    case 0xf6: // PSADBW: per quadword, the sum of absolute byte differences in its low word
      for (let q = 0; q < n; q += 8) {
        let sum = 0;
        for (let i = q; i < q + 8; i++) sum += Math.abs(u8[d + i]! - u8[s + i]!);
        u32[d4 + (q >> 2)] = sum;
        u32[d4 + (q >> 2) + 1] = 0;
      }
      return true;
    // ---------------------------------------------------------------- SSSE3 (0F 38)
    case OP_0F38 | 0x00: // PSHUFB: a source byte with bit 7 set zeroes, else indexes the destination
      for (let i = 0; i < n; i++) {
        const k = u8[s + i]!;
        u8[t + i] = (k & 0x80) !== 0 ? 0 : u8[d + (k & (n - 1))]!;
      }
      fromScratch(v, d, t, n);
      return true;
    case OP_0F38 | 0x01: // PHADDW: adjacent pairs of the destination, then of the source
    case OP_0F38 | 0x03: // PHADDSW
    case OP_0F38 | 0x05: // PHSUBW
    case OP_0F38 | 0x07: {
      // PHSUBSW
      const sub = (op & 4) !== 0;
      const sat = (op & 2) !== 0;
      const h = nw >> 1;
      for (let i = 0; i < h; i++) {
        const a = sub ? i16[d2 + 2 * i]! - i16[d2 + 2 * i + 1]! : i16[d2 + 2 * i]! + i16[d2 + 2 * i + 1]!;
        const b = sub ? i16[s2 + 2 * i]! - i16[s2 + 2 * i + 1]! : i16[s2 + 2 * i]! + i16[s2 + 2 * i + 1]!;
        i16[t2 + i] = sat ? satS16(a) : a;
        i16[t2 + h + i] = sat ? satS16(b) : b;
      }
      fromScratch(v, d, t, n);
      return true;
    }
    case OP_0F38 | 0x02: // PHADDD
    case OP_0F38 | 0x06: {
      // PHSUBD
      const sub = op === (OP_0F38 | 0x06);
      const h = nd >> 1;
      const t4 = t >> 2;
      for (let i = 0; i < h; i++) {
        u32[t4 + i] = sub ? u32[d4 + 2 * i]! - u32[d4 + 2 * i + 1]! : u32[d4 + 2 * i]! + u32[d4 + 2 * i + 1]!;
        u32[t4 + h + i] = sub ? u32[s4 + 2 * i]! - u32[s4 + 2 * i + 1]! : u32[s4 + 2 * i]! + u32[s4 + 2 * i + 1]!;
      }
      fromScratch(v, d, t, n);
      return true;
    }
    case OP_0F38 | 0x04: // PMADDUBSW: unsigned destination bytes times signed source bytes, pairs summed
      for (let i = 0; i < nw; i++) {
        const j = 2 * i;
        i16[d2 + i] = satS16(u8[d + j]! * i8[s + j]! + u8[d + j + 1]! * i8[s + j + 1]!);
      }
      return true;
    case OP_0F38 | 0x08: // PSIGNB: negate, keep or zero by the source's sign
      for (let i = 0; i < n; i++) {
        const k = i8[s + i]!;
        if (k < 0) i8[d + i] = -i8[d + i]!;
        else if (k === 0) i8[d + i] = 0;
      }
      return true;
    case OP_0F38 | 0x09: // PSIGNW
      for (let i = 0; i < nw; i++) {
        const k = i16[s2 + i]!;
        if (k < 0) i16[d2 + i] = -i16[d2 + i]!;
        else if (k === 0) i16[d2 + i] = 0;
      }
      return true;
    case OP_0F38 | 0x0a: // PSIGND
      for (let i = 0; i < nd; i++) {
        const k = i32[s4 + i]!;
        if (k < 0) i32[d4 + i] = -i32[d4 + i]! | 0;
        else if (k === 0) i32[d4 + i] = 0;
      }
      return true;
    case OP_0F38 | 0x0b: // PMULHRSW: (a*b >> 14) + 1 >> 1, so 0x8000*0x8000 gives 0x8000
      for (let i = 0; i < nw; i++) i16[d2 + i] = (((i16[d2 + i]! * i16[s2 + i]!) >> 14) + 1) >> 1;
      return true;
    case OP_0F38 | 0x1c: // PABSB: of the source (0x80 stays 0x80)
      for (let i = 0; i < n; i++) u8[d + i] = Math.abs(i8[s + i]!);
      return true;
    case OP_0F38 | 0x1d: // PABSW
      for (let i = 0; i < nw; i++) u16[d2 + i] = Math.abs(i16[s2 + i]!);
      return true;
    case OP_0F38 | 0x1e: // PABSD
      for (let i = 0; i < nd; i++) u32[d4 + i] = Math.abs(i32[s4 + i]!);
      return true;
    default:
      return false;
  }
}

/**
 * Shift the `n`-byte destination at `d` by `count` (0-255; 64 or more clears or sign-fills):
 * `op` is the register-count opcode (D1-D3 PSRL, E1-E2 PSRA, F1-F3 PSLL), which also
 * names the shift-by-immediate forms.
 */
export function laneShift(v: LaneViews, op: number, count: number, d: number, n: number): void {
  const u16 = v.u16;
  const i16 = v.i16;
  const u32 = v.u32;
  const i32 = v.i32;
  const d2 = d >> 1;
  const d4 = d >> 2;
  const nw = n >> 1;
  const nd = n >> 2;
  switch (op) {
    case 0xd1:
      for (let i = 0; i < nw; i++) u16[d2 + i] = count > 15 ? 0 : u16[d2 + i]! >>> count;
      return;
    case 0xe1:
      for (let i = 0; i < nw; i++) i16[d2 + i] = i16[d2 + i]! >> (count > 15 ? 15 : count);
      return;
    case 0xf1:
      for (let i = 0; i < nw; i++) u16[d2 + i] = count > 15 ? 0 : u16[d2 + i]! << count;
      return;
    case 0xd2:
      for (let i = 0; i < nd; i++) u32[d4 + i] = count > 31 ? 0 : u32[d4 + i]! >>> count;
      return;
    case 0xe2:
      for (let i = 0; i < nd; i++) i32[d4 + i] = i32[d4 + i]! >> (count > 31 ? 31 : count);
      return;
    case 0xf2:
      for (let i = 0; i < nd; i++) u32[d4 + i] = count > 31 ? 0 : u32[d4 + i]! << count;
      return;
    case 0xd3:
      for (let i = d4; i < d4 + nd; i += 2) {
        const lo = u32[i]!;
        const hi = u32[i + 1]!;
        if (count > 63) {
          u32[i] = 0;
          u32[i + 1] = 0;
        } else if (count >= 32) {
          u32[i] = hi >>> (count - 32);
          u32[i + 1] = 0;
        } else if (count > 0) {
          u32[i] = (lo >>> count) | (hi << (32 - count));
          u32[i + 1] = hi >>> count;
        }
      }
      return;
    case 0xf3:
      for (let i = d4; i < d4 + nd; i += 2) {
        const lo = u32[i]!;
        const hi = u32[i + 1]!;
        if (count > 63) {
          u32[i] = 0;
          u32[i + 1] = 0;
        } else if (count >= 32) {
          u32[i + 1] = lo << (count - 32);
          u32[i] = 0;
        } else if (count > 0) {
          u32[i + 1] = (hi << count) | (lo >>> (32 - count));
          u32[i] = lo << count;
        }
      }
      return;
    default:
      return;
  }
}

/**
 * PSHUFW's word shuffle of one 8-byte group: word i of `d` becomes word (imm >> 2i) & 3 of
 * `s`, built in scratch `t` (d may equal s). PSHUFLW and PSHUFHW are this on one half.
 */
export function laneShuffleWords(v: LaneViews, imm: number, d: number, s: number, t: number): void {
  const u16 = v.u16;
  const s2 = s >> 1;
  for (let i = 0; i < 4; i++) u16[(t >> 1) + i] = u16[s2 + ((imm >> (2 * i)) & 3)]!;
  fromScratch(v, d, t, 8);
}

/** PMOVMSKB: the sign bits of the `n` bytes at `s`, byte i to bit i. */
export function laneMoveMask(v: LaneViews, s: number, n: number): number {
  const u8 = v.u8;
  let m = 0;
  for (let i = 0; i < n; i++) m |= (u8[s + i]! >> 7) << i;
  return m;
}

/** PALIGNR: bytes imm..imm+n-1 of the 2n-byte concatenation destination:source (source low; zeros beyond). */
export function laneAlignRight(v: LaneViews, imm: number, d: number, s: number, t: number, n: number): void {
  const u8 = v.u8;
  for (let i = 0; i < n; i++) {
    const k = i + imm;
    u8[t + i] = k < n ? u8[s + k]! : k < 2 * n ? u8[d + k - n]! : 0;
  }
  fromScratch(v, d, t, n);
}

/**
 * The MMX unit's lane ALU on 64-bit values. Load the destination into d (dwords dLo/dHi)
 * and the source into s, call `op`, read the destination back from lo/hi. Allocation-free.
 */
export class MmxAlu implements LaneViews {
  private readonly buf = new ArrayBuffer(24);
  readonly u8 = new Uint8Array(this.buf);
  readonly i8 = new Int8Array(this.buf);
  readonly u16 = new Uint16Array(this.buf);
  readonly i16 = new Int16Array(this.buf);
  readonly u32 = new Uint32Array(this.buf);
  readonly i32 = new Int32Array(this.buf);

  /** Destination: bytes 0-7. Source: bytes 8-15. Scratch: bytes 16-23. */
  load(dLo: number, dHi: number, sLo: number, sHi: number): void {
    this.u32[0] = dLo;
    this.u32[1] = dHi;
    this.u32[2] = sLo;
    this.u32[3] = sHi;
  }

  get lo(): number {
    return this.u32[0]!;
  }

  get hi(): number {
    return this.u32[1]!;
  }

  /** Execute the two-operand MMX operation 0F `op2` (not the moves, shifts by imm, EMMS). */
  op(op2: number): boolean {
    return laneOp(this, op2, 0, 8, 16, 8);
  }

  /** Shift the destination by `count` (see laneShift). */
  shift(op2: number, count: number): void {
    laneShift(this, op2, count, 0, 8);
  }
}
