/**
 * SSE-SSE4.1 instructions that move, shuffle, select or mask floating-point (and some
 * integer) data without arithmetic, so they never touch MXCSR: AND/ANDN/OR PS/PD, SHUFPS/PD,
 * UNPCK*, MOVL/H PS/PD, MOVHLPS/MOVLHPS, MOVMSKPS/PD, the non-temporal stores and loads
 * (MOVNTPS/PD, MOVNTDQ, MOVNTI, MOVNTDQA, MASKMOVDQU), LDDQU, MOVSLDUP/MOVSHDUP/MOVDDUP,
 * the blends, INSERTPS/EXTRACTPS and PINSR/PEXTR B/W/D/Q.
 *
 * Data moves through the u32/u16/u8 views only: copying through f32/f64 could let the
 * host quieten a signalling NaN. Results are built in TMP when a source lane may be
 * overwritten before it is read (the source and destination can be the same register).
 */
import type { DecodedInsn } from '../decoder/decoded-insn.js';
import type { SseHost } from './sse-host.js';
import { defineSse, SSE_UNGATED } from './sse-table.js';
import type { SseUnit } from './sse-unit.js';
import { SRC, TMP } from './xmm-file.js';

const MAP_0F = 1;
const MAP_0F38 = 2;
const MAP_0F3A = 3;

/** REX.W in 64-bit mode: the GPR forms of MOVNTI, PINSRQ and PEXTRQ take 64 bits. */
function wide(d: DecodedInsn, h: SseHost): boolean {
  return h.long && (d.rex & 8) !== 0;
}

/** #UD for the register form of a memory-only encoding (MOVLPS m64, MOVNT*, ...). */
function memOnly(d: DecodedInsn, h: SseHost): void {
  if (d.mod === 3) h.undefinedOpcode();
}

// ------------------------------------------------------------------ bitwise logic

function and128(u: SseUnit, d: DecodedInsn, h: SseHost): void {
  const v = u.x.u32;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  for (let i = 0; i < 4; i++) v[r + i] = v[r + i]! & v[s + i]!;
}

function andn128(u: SseUnit, d: DecodedInsn, h: SseHost): void {
  const v = u.x.u32;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  for (let i = 0; i < 4; i++) v[r + i] = ~v[r + i]! & v[s + i]!;
}

function or128(u: SseUnit, d: DecodedInsn, h: SseHost): void {
  const v = u.x.u32;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  for (let i = 0; i < 4; i++) v[r + i] = v[r + i]! | v[s + i]!;
}

defineSse(MAP_0F, '-6', 0x54, and128); // ANDPS, ANDPD
defineSse(MAP_0F, '-6', 0x55, andn128); // ANDNPS, ANDNPD
defineSse(MAP_0F, '-6', 0x56, or128); // ORPS, ORPD

// ------------------------------------------------------------------ shuffles and unpacks

// 0F C6 ib SHUFPS: the low two lanes from the destination, the high two from the source.
defineSse(MAP_0F, '-', 0xc6, (u, d, h) => {
  const v = u.x.u32;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  const t = TMP * 4;
  const imm = d.imm;
  v[t] = v[r + (imm & 3)]!;
  v[t + 1] = v[r + ((imm >> 2) & 3)]!;
  v[t + 2] = v[s + ((imm >> 4) & 3)]!;
  v[t + 3] = v[s + ((imm >> 6) & 3)]!;
  u.x.copy(d.reg, TMP);
});

// 66 0F C6 ib SHUFPD: the low lane from the destination (imm bit 0), the high from the source (bit 1).
defineSse(MAP_0F, '6', 0xc6, (u, d, h) => {
  const v = u.x.u32;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  const t = TMP * 4;
  const lo = r + (d.imm & 1) * 2;
  const hi = s + ((d.imm >> 1) & 1) * 2;
  v[t] = v[lo]!;
  v[t + 1] = v[lo + 1]!;
  v[t + 2] = v[hi]!;
  v[t + 3] = v[hi + 1]!;
  u.x.copy(d.reg, TMP);
});

/** UNPCKLPS (half 0) / UNPCKHPS (half 1): dst = d[2h], s[2h], d[2h+1], s[2h+1]. */
function unpckps(half: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const v = u.x.u32;
    const s = u.src(d, h, 16, true) * 4 + half * 2;
    const r = d.reg * 4;
    const t = TMP * 4;
    v[t] = v[r + half * 2]!;
    v[t + 1] = v[s]!;
    v[t + 2] = v[r + half * 2 + 1]!;
    v[t + 3] = v[s + 1]!;
    u.x.copy(d.reg, TMP);
  };
}

/** UNPCKLPD (half 0) / UNPCKHPD (half 1): dst = d[h], s[h]. */
function unpckpd(half: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const v = u.x.u32;
    const s = u.src(d, h, 16, true) * 4 + half * 2;
    const r = d.reg * 4;
    const a = v[s]!;
    const b = v[s + 1]!;
    v[r] = v[r + half * 2]!;
    v[r + 1] = v[r + half * 2 + 1]!;
    v[r + 2] = a;
    v[r + 3] = b;
  };
}

defineSse(MAP_0F, '-', 0x14, unpckps(0));
defineSse(MAP_0F, '-', 0x15, unpckps(1));
defineSse(MAP_0F, '6', 0x14, unpckpd(0));
defineSse(MAP_0F, '6', 0x15, unpckpd(1));

// ------------------------------------------------------------------ 64-bit halves

/** Copy 8 bytes from byte `from` to byte `to` of the register file. */
function move8(u: SseUnit, to: number, from: number): void {
  const v = u.x.u32;
  v[to >> 2] = v[from >> 2]!;
  v[(to >> 2) + 1] = v[(from >> 2) + 1]!;
}

/**
 * 0F 12 / 0F 16 (half 0 / 1): MOVLPS/MOVHPS xmm, m64 load that half of the register (the
 * other half is kept); the unprefixed register forms are MOVHLPS (low ← source high) and
 * MOVLHPS (high ← source low). With 66 (MOVLPD/MOVHPD) only the memory form exists.
 */
function loadHalf(half: number, regForm: boolean) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const to = d.reg * 16 + half * 8;
    if (d.mod === 3) {
      if (!regForm) h.undefinedOpcode();
      move8(u, to, d.rm * 16 + (1 - half) * 8);
      return;
    }
    // Through SRC: a page-crossing read that faults half way must leave the register alone.
    h.memRead(u.x.u8, SRC * 16, 8);
    move8(u, to, SRC * 16);
  };
}

/** 0F 13 / 0F 17 (half 0 / 1): MOVLPS/MOVLPD/MOVHPS/MOVHPD m64, xmm; no register form. */
function storeHalf(half: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    memOnly(d, h);
    h.memWrite(u.x.u8, d.reg * 16 + half * 8, 8);
  };
}

defineSse(MAP_0F, '-', 0x12, loadHalf(0, true)); // MOVLPS, MOVHLPS
defineSse(MAP_0F, '6', 0x12, loadHalf(0, false)); // MOVLPD
defineSse(MAP_0F, '-', 0x16, loadHalf(1, true)); // MOVHPS, MOVLHPS
defineSse(MAP_0F, '6', 0x16, loadHalf(1, false)); // MOVHPD
defineSse(MAP_0F, '-6', 0x13, storeHalf(0)); // MOVLPS, MOVLPD
defineSse(MAP_0F, '-6', 0x17, storeHalf(1)); // MOVHPS, MOVHPD

// ------------------------------------------------------------------ SSE3 duplicates

/** F3 0F 12 MOVSLDUP (odd 0) / F3 0F 16 MOVSHDUP (odd 1): each even/odd lane twice. */
function dupPs(odd: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const v = u.x.u32;
    const s = u.src(d, h, 16, true) * 4 + odd;
    const r = d.reg * 4;
    const a = v[s]!;
    const b = v[s + 2]!;
    v[r] = a;
    v[r + 1] = a;
    v[r + 2] = b;
    v[r + 3] = b;
  };
}

defineSse(MAP_0F, '3', 0x12, dupPs(0));
defineSse(MAP_0F, '3', 0x16, dupPs(1));

// F2 0F 12 MOVDDUP xmm, xmm/m64: the low quadword twice.
defineSse(MAP_0F, '2', 0x12, (u, d, h) => {
  const v = u.x.u32;
  const s = u.src(d, h, 8) * 4;
  const r = d.reg * 4;
  const a = v[s]!;
  const b = v[s + 1]!;
  v[r] = a;
  v[r + 1] = b;
  v[r + 2] = a;
  v[r + 3] = b;
});

// ------------------------------------------------------------------ sign masks

// 0F 50 MOVMSKPS / 66 0F 50 MOVMSKPD reg, xmm: the lanes' sign bits, zero-extended into the
// GPR (64-bit mode writes the whole register whatever REX.W says). No memory form.
defineSse(MAP_0F, '-', 0x50, (u, d, h) => {
  if (d.mod !== 3) h.undefinedOpcode();
  const v = u.x.u32;
  const s = d.rm * 4;
  const m = (v[s]! >>> 31) | ((v[s + 1]! >>> 31) << 1) | ((v[s + 2]! >>> 31) << 2) | ((v[s + 3]! >>> 31) << 3);
  h.setGpr(d.reg, 4, m, 0);
});

defineSse(MAP_0F, '6', 0x50, (u, d, h) => {
  if (d.mod !== 3) h.undefinedOpcode();
  const v = u.x.u32;
  const s = d.rm * 4;
  h.setGpr(d.reg, 4, (v[s + 1]! >>> 31) | ((v[s + 3]! >>> 31) << 1), 0);
});

// ------------------------------------------------------------------ non-temporal and unaligned

/** MOVNTPS, MOVNTPD, MOVNTDQ m128, xmm: an aligned store (a cache hint only); no register form. */
function storeNt128(u: SseUnit, d: DecodedInsn, h: SseHost): void {
  memOnly(d, h);
  u.storeMem(h, d.reg, 16, true);
}

defineSse(MAP_0F, '-6', 0x2b, storeNt128); // MOVNTPS, MOVNTPD
defineSse(MAP_0F, '6', 0xe7, storeNt128); // MOVNTDQ (MOVNTQ, unprefixed, is int-sse2.ts's)

// 0F C3 MOVNTI m32, r32 (m64, r64 with REX.W): a GPR store, so CR4.OSFXSR and CR0.TS/EM do
// not apply (SSE2 being advertised is the unit's `enabled`).
defineSse(
  MAP_0F,
  '-',
  0xc3,
  (u, d, h) => {
    memOnly(d, h);
    const v = u.x.u32;
    v[SRC * 4] = h.gpr(d.reg);
    v[SRC * 4 + 1] = h.gprHi(d.reg);
    h.memWrite(u.x.u8, SRC * 16, wide(d, h) ? 8 : 4);
  },
  SSE_UNGATED,
);

// 66 0F 38 2A MOVNTDQA xmm, m128: an aligned load; no register form.
defineSse(MAP_0F38, '6', 0x2a, (u, d, h) => {
  memOnly(d, h);
  u.x.copy(d.reg, u.src(d, h, 16, true));
});

// F2 0F F0 LDDQU xmm, m128: an unaligned load (the decoder already refuses a register operand).
defineSse(MAP_0F, '2', 0xf0, (u, d, h) => {
  memOnly(d, h);
  u.x.copy(d.reg, u.src(d, h, 16));
});

// 66 0F F7 MASKMOVDQU xmm1, xmm2: the bytes of xmm1 whose xmm2 byte has its top bit set go to
// DS:rDI (segment override honoured, address size picks DI/EDI/RDI, no alignment). The
// whole 16-byte destination is checked first, as one store would be, so a fault writes
// nothing; the check is made even for an all-zero mask (the SDM leaves that to the
// implementation, and the hosts the difftests run on fault there).
defineSse(MAP_0F, '6', 0xf7, (u, d, h) => {
  if (d.mod !== 3) h.undefinedOpcode();
  const b = u.x.u8;
  const m = d.rm * 16;
  const s = d.reg * 16;
  h.beginDi(d);
  h.memCheckWrite(16);
  for (let i = 0; i < 16; i++) if ((b[m + i]! & 0x80) !== 0) h.memWrite(b, s + i, 1, i);
});

// ------------------------------------------------------------------ SSE4.1 blends

// 66 0F 3A 0C ib BLENDPS: imm bit i selects the source's lane i.
defineSse(MAP_0F3A, '6', 0x0c, (u, d, h) => {
  const v = u.x.u32;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  for (let i = 0; i < 4; i++) if (((d.imm >> i) & 1) !== 0) v[r + i] = v[s + i]!;
});

// 66 0F 3A 0D ib BLENDPD: imm bits 0-1 select 64-bit lanes.
defineSse(MAP_0F3A, '6', 0x0d, (u, d, h) => {
  const v = u.x.u32;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  for (let i = 0; i < 4; i++) if (((d.imm >> (i >> 1)) & 1) !== 0) v[r + i] = v[s + i]!;
});

// 66 0F 3A 0E ib PBLENDW: imm bit i selects word i.
defineSse(MAP_0F3A, '6', 0x0e, (u, d, h) => {
  const w = u.x.u16;
  const s = u.src(d, h, 16, true) * 8;
  const r = d.reg * 8;
  for (let i = 0; i < 8; i++) if (((d.imm >> i) & 1) !== 0) w[r + i] = w[s + i]!;
});

// 66 0F 38 10 PBLENDVB: the top bit of each byte of XMM0 selects the source's byte.
defineSse(MAP_0F38, '6', 0x10, (u, d, h) => {
  const b = u.x.u8;
  const s = u.src(d, h, 16, true) * 16;
  const r = d.reg * 16;
  for (let i = 0; i < 16; i++) if ((b[i]! & 0x80) !== 0) b[r + i] = b[s + i]!;
});

// 66 0F 38 14 BLENDVPS: the sign of each dword of XMM0.
defineSse(MAP_0F38, '6', 0x14, (u, d, h) => {
  const v = u.x.u32;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  for (let i = 0; i < 4; i++) if (v[i]! >>> 31 !== 0) v[r + i] = v[s + i]!;
});

// 66 0F 38 15 BLENDVPD: the sign of each qword of XMM0 (bit 31 of its high dword). The
// mask is read before any lane changes: XMM0 may be the destination.
defineSse(MAP_0F38, '6', 0x15, (u, d, h) => {
  const v = u.x.u32;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  const m0 = v[1]! >>> 31;
  const m1 = v[3]! >>> 31;
  if (m0 !== 0) {
    v[r] = v[s]!;
    v[r + 1] = v[s + 1]!;
  }
  if (m1 !== 0) {
    v[r + 2] = v[s + 2]!;
    v[r + 3] = v[s + 3]!;
  }
});

// ------------------------------------------------------------------ SSE4.1 insert and extract

// 66 0F 3A 21 ib INSERTPS xmm1, xmm2/m32: lane imm[7:6] of a register source (a memory
// source is the 32 bits read) goes to lane imm[5:4], then lanes whose imm[3:0] bit is set are zeroed.
defineSse(MAP_0F3A, '6', 0x21, (u, d, h) => {
  const v = u.x.u32;
  const imm = d.imm;
  const val = d.mod === 3 ? v[d.rm * 4 + ((imm >> 6) & 3)]! : v[u.src(d, h, 4) * 4]!;
  const r = d.reg * 4;
  v[r + ((imm >> 4) & 3)] = val;
  for (let i = 0; i < 4; i++) if (((imm >> i) & 1) !== 0) v[r + i] = 0;
});

/**
 * PEXTRB/PEXTRW/PEXTRD/EXTRACTPS r/m, xmm, imm: lane imm (modulo the lane count) of
 * ModRM.reg's register, `n` bytes, to memory or zero-extended into a GPR (the whole
 * register in 64-bit mode).
 */
function extract(n: 1 | 2 | 4) {
  const lanes = 16 / n;
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const at = d.reg * 16 + (d.imm & (lanes - 1)) * n;
    const b = u.x.u8;
    if (d.mod !== 3) {
      h.memWrite(b, at, n);
      return;
    }
    const val = n === 1 ? b[at]! : n === 2 ? u.x.u16[at >> 1]! : u.x.u32[at >> 2]!;
    h.setGpr(d.rm, 4, val, 0);
  };
}

defineSse(MAP_0F3A, '6', 0x14, extract(1)); // PEXTRB
defineSse(MAP_0F3A, '6', 0x15, extract(2)); // PEXTRW (the form with a memory destination)
defineSse(MAP_0F3A, '6', 0x17, extract(4)); // EXTRACTPS

// 66 0F 3A 16 ib PEXTRD r/m32, xmm (PEXTRQ r/m64 with REX.W in 64-bit mode).
const pextrd = extract(4);
defineSse(MAP_0F3A, '6', 0x16, (u, d, h) => {
  if (!wide(d, h)) {
    pextrd(u, d, h);
    return;
  }
  const at = d.reg * 16 + (d.imm & 1) * 8;
  if (d.mod !== 3) h.memWrite(u.x.u8, at, 8);
  else h.setGpr(d.rm, 8, u.x.u32[at >> 2]!, u.x.u32[(at >> 2) + 1]!);
});

// 66 0F 3A 20 ib PINSRB xmm, r32/m8: byte imm[3:0] (a register gives its low byte).
defineSse(MAP_0F3A, '6', 0x20, (u, d, h) => {
  const b = u.x.u8;
  let val: number;
  if (d.mod === 3) val = h.gpr(d.rm) & 0xff;
  else {
    h.memRead(b, SRC * 16, 1);
    val = b[SRC * 16]!;
  }
  b[d.reg * 16 + (d.imm & 15)] = val;
});

// 66 0F 3A 22 ib PINSRD xmm, r/m32: dword imm[1:0]; PINSRQ xmm, r/m64 (REX.W): qword imm[0].
defineSse(MAP_0F3A, '6', 0x22, (u, d, h) => {
  const v = u.x.u32;
  const n = wide(d, h) ? 8 : 4;
  if (d.mod === 3) {
    v[SRC * 4] = h.gpr(d.rm);
    v[SRC * 4 + 1] = h.gprHi(d.rm);
  } else h.memRead(u.x.u8, SRC * 16, n);
  if (n === 4) v[d.reg * 4 + (d.imm & 3)] = v[SRC * 4]!;
  else move8(u, d.reg * 16 + (d.imm & 1) * 8, SRC * 16);
});
