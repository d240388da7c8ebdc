/**
 * SSE4.2: PCMPGTQ, the string compares PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM, and the
 * general-purpose instructions that came with it, CRC32 and POPCNT (and MOVBE, which
 * shares CRC32's opcodes without the F2 prefix).
 *
 * The string compares follow the SDM's section 4.1 ("Imm8 control byte operation for
 * PCMPESTRI / PCMPESTRM / PCMPISTRI / PCMPISTRM"): imm8[1:0] element format, [3:2]
 * aggregation, [5:4] polarity, [6] output selection. Their memory operand needs no
 * alignment. CRC32, POPCNT and MOVBE are SSE_UNGATED: no CR4.OSFXSR or CR0.EM/TS checks.
 */
import { CF, OF, SF, ZF } from '../constants.js';
import type { DecodedInsn } from '../decoder/decoded-insn.js';
import type { SseHost } from './sse-host.js';
import { defineSse, SSE_UNGATED } from './sse-table.js';
import type { SseUnit } from './sse-unit.js';
import { SRC } from './xmm-file.js';

const MAP_0F = 1;
const MAP_0F38 = 2;
const MAP_0F3A = 3;

// ------------------------------------------------------------------ PCMPGTQ

// PCMPGTQ: all ones in each quadword lane where dest > src, signed.
defineSse(MAP_0F38, '6', 0x37, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  for (let k = 0; k < 4; k += 2) {
    const ah = x.i32[r + k + 1]!;
    const bh = x.i32[s + k + 1]!;
    const gt = ah > bh || (ah === bh && x.u32[r + k]! > x.u32[s + k]!) ? -1 : 0;
    x.i32[r + k] = gt;
    x.i32[r + k + 1] = gt;
  }
});

// ------------------------------------------------------------------ PCMPxSTRx

/** The elements of xmm1 (a) and xmm2/m128 (b), as numbers of the format imm8[1:0] gives. */
const elemA = new Int32Array(16);
const elemB = new Int32Array(16);

/** |length register| saturated to `limit` elements: EAX/EDX, or RAX/RDX with REX.W in 64-bit mode. */
function explicitLength(h: SseHost, d: DecodedInsn, r: number, limit: number): number {
  const lo = h.gpr(r);
  if (h.long && (d.rex & 8) !== 0) {
    let hi = h.gprHi(r) | 0;
    let l = lo >>> 0;
    if (hi < 0) {
      // Two's complement negation of hi:lo; -2^63 stays negative, which saturates below too.
      l = (~lo + 1) >>> 0;
      hi = (~hi + (l === 0 ? 1 : 0)) | 0;
    }
    return hi !== 0 ? limit : Math.min(l, limit);
  }
  return Math.min(Math.abs(lo | 0), limit);
}

/** Elements before the first zero one, or `n`. */
function implicitLength(e: Int32Array, n: number): number {
  for (let i = 0; i < n; i++) if (e[i] === 0) return i;
  return n;
}

/**
 * Compare element pairs, aggregate, apply the polarity: returns IntRes2 (bit j for element
 * j of b) and sets the flags. `la`/`lb` are the valid lengths of a and b.
 */
function compareStrings(imm: number, n: number, la: number, lb: number, h: SseHost): number {
  const a = elemA;
  const b = elemB;
  let res = 0;
  switch ((imm >> 2) & 3) {
    case 0: // equal any: b[j] is one of a's valid elements
      for (let j = 0; j < lb; j++) {
        for (let i = 0; i < la; i++) {
          if (a[i] === b[j]) {
            res |= 1 << j;
            break;
          }
        }
      }
      break;
    case 1: // ranges: a[i] <= b[j] <= a[i+1] for some valid pair (i even); a pair with an invalid bound never matches
      for (let j = 0; j < lb; j++) {
        for (let i = 0; i + 1 < la; i += 2) {
          if (a[i]! <= b[j]! && b[j]! <= a[i + 1]!) {
            res |= 1 << j;
            break;
          }
        }
      }
      break;
    case 2: // equal each: a[j] = b[j]; both invalid counts as equal, one invalid as not
      for (let j = 0; j < n; j++) {
        const va = j < la;
        const vb = j < lb;
        if (va && vb ? a[j] === b[j] : !va && !vb) res |= 1 << j;
      }
      break;
    default: // equal ordered: a (up to its end or the fragment's) occurs in b at j
      for (let j = 0; j < n; j++) {
        let match = true;
        for (let i = 0, k = j; k < n; i++, k++) {
          if (i >= la) break; // a ended: the rest is forced true
          if (k >= lb || a[i] !== b[k]) {
            match = false;
            break;
          }
        }
        if (match) res |= 1 << j;
      }
  }
  const all = (1 << n) - 1;
  switch ((imm >> 4) & 3) {
    case 1: // negative
      res ^= all;
      break;
    case 3: // masked negative: only b's valid elements
      res ^= (1 << lb) - 1;
      break;
    default:
      break;
  }
  h.setArithFlags((res !== 0 ? CF : 0) | (lb < n ? ZF : 0) | (la < n ? SF : 0) | ((res & 1) !== 0 ? OF : 0));
  return res;
}

/**
 * One PCMPxSTRx: `explicit` lengths from rAX/rDX or implicit ones (the first zero
 * element); `index` writes ECX, otherwise the mask goes to XMM0.
 */
function stringCompare(explicit: boolean, index: boolean) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const s = u.src(d, h, 16);
    const r = d.reg;
    const imm = d.imm;
    const words = (imm & 1) !== 0;
    const signed = (imm & 2) !== 0;
    const n = words ? 8 : 16;
    const view = words ? (signed ? x.i16 : x.u16) : signed ? x.i8 : x.u8;
    for (let i = 0; i < n; i++) {
      elemA[i] = view[r * n + i]!;
      elemB[i] = view[s * n + i]!;
    }
    const la = explicit ? explicitLength(h, d, 0, n) : implicitLength(elemA, n);
    const lb = explicit ? explicitLength(h, d, 2, n) : implicitLength(elemB, n);
    const res = compareStrings(imm, n, la, lb, h);
    if (index) {
      // Least or most significant set bit, or the element count when none is set.
      const idx = res === 0 ? n : (imm & 0x40) !== 0 ? 31 - Math.clz32(res) : 31 - Math.clz32(res & -res);
      h.setGpr(1, 4, idx, 0);
      return;
    }
    if ((imm & 0x40) === 0) {
      x.u32[0] = res;
      x.u32[1] = 0;
      x.u32[2] = 0;
      x.u32[3] = 0;
    } else if (words) {
      for (let i = 0; i < 8; i++) x.u16[i] = (res >> i) & 1 ? 0xffff : 0;
    } else {
      for (let i = 0; i < 16; i++) x.u8[i] = (res >> i) & 1 ? 0xff : 0;
    }
  };
}

defineSse(MAP_0F3A, '6', 0x60, stringCompare(true, false)); // PCMPESTRM
defineSse(MAP_0F3A, '6', 0x61, stringCompare(true, true)); // PCMPESTRI
defineSse(MAP_0F3A, '6', 0x62, stringCompare(false, false)); // PCMPISTRM
defineSse(MAP_0F3A, '6', 0x63, stringCompare(false, true)); // PCMPISTRI

// ------------------------------------------------------------------ CRC32

/** CRC-32C (Castagnoli, 0x11EDC6F41) bit-reflected, one byte at a time: 0x82F63B78 is the reflected polynomial. */
const CRC_TABLE = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC_TABLE[i] = c;
}

function crcBytes(crc: number, v: number, n: number): number {
  for (let k = 0; k < n; k++) crc = CRC_TABLE[(crc ^ (v >>> (k * 8))) & 0xff]! ^ (crc >>> 8);
  return crc;
}

/**
 * The 8-bit register ModRM names: AL..BL, then AH..BH for 4-7 unless a REX prefix makes
 * them SPL..DIL (and 8-15 the low bytes of R8-R15).
 */
function reg8(h: SseHost, d: DecodedInsn, r: number): number {
  if (r >= 4 && r < 8 && d.rex === 0) return (h.gpr(r - 4) >>> 8) & 0xff;
  return h.gpr(r) & 0xff;
}

/**
 * CRC32 r32/r64, r/m: the accumulator is the destination's low 32 bits; the result is
 * written zero-extended (a 64-bit destination too). F0 takes a byte; F1 a word (66), dword
 * or qword (REX.W) as the operand size says.
 */
function crc32(byteForm: boolean) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const n = byteForm ? 1 : d.opSize;
    let lo: number;
    let hi = 0;
    if (d.mod === 3) {
      if (byteForm) lo = reg8(h, d, d.rm);
      else {
        lo = h.gpr(d.rm);
        if (n === 8) hi = h.gprHi(d.rm);
      }
    } else {
      const x = u.x;
      h.memRead(x.u8, SRC * 16, n);
      lo = n === 1 ? x.u8[SRC * 16]! : n === 2 ? x.u16[SRC * 8]! : x.u32[SRC * 4]!;
      if (n === 8) hi = x.u32[SRC * 4 + 1]!;
    }
    let crc = crcBytes(h.gpr(d.reg), lo, n < 4 ? n : 4);
    if (n === 8) crc = crcBytes(crc, hi, 4);
    h.setGpr(d.reg, 4, crc >>> 0, 0);
  };
}

defineSse(MAP_0F38, '2', 0xf0, crc32(true), SSE_UNGATED);
defineSse(MAP_0F38, '2', 0xf1, crc32(false), SSE_UNGATED);

// ------------------------------------------------------------------ MOVBE

/** Byte-swap the low `n` (2, 4, 8) bytes of SRC in place. */
function swapSrc(u: SseUnit, n: number): void {
  const b = u.x.u8;
  const o = SRC * 16;
  for (let i = 0, j = n - 1; i < j; i++, j--) {
    const t = b[o + i]!;
    b[o + i] = b[o + j]!;
    b[o + j] = t;
  }
}

/** Write the low `n` bytes of SRC to general register `r`; a 16-bit write keeps the rest. */
function setGprFromSrc(u: SseUnit, h: SseHost, r: number, n: number): void {
  const x = u.x;
  if (n === 2) h.setGpr(r, 8, (h.gpr(r) & 0xffff0000) | x.u16[SRC * 8]!, h.gprHi(r));
  else h.setGpr(r, n === 8 ? 8 : 4, x.u32[SRC * 4]!, n === 8 ? x.u32[SRC * 4 + 1]! : 0);
}

// MOVBE r, m (0F 38 F0) and MOVBE m, r (F1): a load or store with the bytes reversed.
// The decoder allows only memory operands (#UD for mod = 3).
defineSse(
  MAP_0F38,
  '-6',
  0xf0,
  (u, d, h) => {
    const n = d.opSize;
    h.memRead(u.x.u8, SRC * 16, n);
    swapSrc(u, n);
    setGprFromSrc(u, h, d.reg, n);
  },
  SSE_UNGATED,
);
defineSse(
  MAP_0F38,
  '-6',
  0xf1,
  (u, d, h) => {
    const n = d.opSize;
    const x = u.x;
    x.u32[SRC * 4] = h.gpr(d.reg);
    x.u32[SRC * 4 + 1] = n === 8 ? h.gprHi(d.reg) : 0;
    swapSrc(u, n);
    u.storeMem(h, SRC, n);
  },
  SSE_UNGATED,
);

// ------------------------------------------------------------------ POPCNT

function bits32(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

// POPCNT r, r/m (F3 0F B8): the number of set bits; ZF when the source is zero, OF SF AF PF CF cleared.
defineSse(
  MAP_0F,
  '3',
  0xb8,
  (u, d, h) => {
    const n = d.opSize;
    let lo: number;
    let hi = 0;
    if (d.mod === 3) {
      lo = h.gpr(d.rm);
      if (n === 8) hi = h.gprHi(d.rm);
    } else {
      const x = u.x;
      h.memRead(x.u8, SRC * 16, n);
      lo = n === 2 ? x.u16[SRC * 8]! : x.u32[SRC * 4]!;
      if (n === 8) hi = x.u32[SRC * 4 + 1]!;
    }
    if (n === 2) lo &= 0xffff;
    const count = bits32(lo) + bits32(hi);
    if (n === 2) h.setGpr(d.reg, 8, (h.gpr(d.reg) & 0xffff0000) | count, h.gprHi(d.reg));
    else h.setGpr(d.reg, n === 8 ? 8 : 4, count, 0);
    h.setArithFlags(count === 0 ? ZF : 0);
  },
  SSE_UNGATED,
);
