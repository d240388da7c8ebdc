/**
 * SSE2 integer instructions on XMM registers (the 66-prefixed forms of the MMX opcodes and
 * the new ones: PADDQ, PMULUDQ, PUNPCK*QDQ, PSHUFD/HW/LW, byte shifts...) and the integer
 * instructions SSE and SSE2 added to MMX registers (PAVGB, PMINUB, PSADBW, PSHUFW, PEXTRW,
 * PMOVMSKB, MOVNTQ, PADDQ mm...).
 *
 * Every lane operation is mmx.ts's laneOp, run on the XMM file's buffer with 16-byte
 * vectors here and on 8-byte ones for the MMX forms, so MMX and SSE share one
 * implementation. MMX-register forms live in this table ('-' entries, ungated: they need
 * neither CR4.OSFXSR nor SSE's checks, but the MMX ones: CR0.EM #UD, CR0.TS #NM, a pending
 * x87 exception) and reach the x87 register file through X87Access.mmx(); the MMX unit in
 * fpu.ts keeps only the original MMX instructions, whose routing predates the SSE table.
 */
import { CR0_EM, CR0_TS, EXC_NM } from '../constants.js';
import type { DecodedInsn } from '../decoder/decoded-insn.js';
import { laneMoveMask, laneOp, laneShift, laneShuffleWords } from '../mmx.js';
import type { SseHost } from './sse-host.js';
import { defineSse, SSE_UNGATED } from './sse-table.js';
import type { MmxRegisters, SseUnit } from './sse-unit.js';
import { SRC, TMP, TMP2 } from './xmm-file.js';

const MAP_0F = 1;

/** The MMX checks of an MMX-register form: CR0.EM #UD, CR0.TS #NM, then a pending x87 exception. */
export function mmxBegin(u: SseUnit, h: SseHost): MmxRegisters {
  const cr0 = h.cr0;
  const m = u.x87.mmx();
  if ((cr0 & CR0_EM) !== 0 || m === null) h.undefinedOpcode();
  if ((cr0 & CR0_TS) !== 0) h.raise(EXC_NM);
  m.mmxCheckPending();
  return m;
}

/** SRC bytes 0-7 ← the MMX r/m operand: MMrm, or `n` bytes of memory (no alignment rule). */
export function mmxSrc(m: MmxRegisters, u: SseUnit, d: DecodedInsn, h: SseHost, n = 8): number {
  if (d.mod === 3) m.mmxRead(d.rm & 7, u.x.u8, SRC * 16);
  else h.memRead(u.x.u8, SRC * 16, n);
  return SRC;
}

/** mm ← mm op mm/m64 through laneOp on 8-byte vectors (the destination is built in TMP2). */
function mmxLane(op: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const m = mmxBegin(u, h);
    const x = u.x;
    mmxSrc(m, u, d, h);
    m.mmxRead(d.reg & 7, x.u8, TMP2 * 16);
    laneOp(x, op, TMP2 * 16, SRC * 16, TMP * 16, 8);
    m.mmxEnter();
    m.mmxStore(d.reg & 7, x.u8, TMP2 * 16);
  };
}

/** xmm ← xmm op xmm/m128 (16-byte aligned memory) through laneOp on 16-byte vectors. */
function xmmLane(op: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const s = u.src(d, h, 16, true);
    laneOp(u.x, op, d.reg * 16, s * 16, TMP * 16, 16);
  };
}

/**
 * Define lane operation `op` (laneOp's number) at `map`/`byte`: the XMM form under 66 and,
 * with `mmx`, the MMX form without a prefix.
 */
export function defineLane(map: number, byte: number, op: number, mmx: boolean): void {
  defineSse(map, '6', byte, xmmLane(op));
  if (mmx) defineSse(map, '-', byte, mmxLane(op), SSE_UNGATED);
}

// The MMX opcodes' XMM forms (their MMX forms stay in the MMX unit).
for (const op of [
  0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x74, 0x75, 0x76, 0xd1, 0xd2, 0xd3, 0xd5,
  0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xdf, 0xe1, 0xe2, 0xe5, 0xe8, 0xe9, 0xeb, 0xec, 0xed, 0xf1, 0xf2, 0xf3, 0xf5, 0xf8,
  0xf9, 0xfa, 0xfc, 0xfd, 0xfe,
]) {
  defineLane(MAP_0F, op, op, false);
}
defineLane(MAP_0F, 0x6c, 0x6c, false); // PUNPCKLQDQ
defineLane(MAP_0F, 0x6d, 0x6d, false); // PUNPCKHQDQ
// New in SSE (PAVG, PMIN/PMAX, PSADBW, PMULHUW) and SSE2 (PADDQ, PSUBQ, PMULUDQ): both forms.
for (const op of [0xd4, 0xda, 0xde, 0xe0, 0xe3, 0xe4, 0xea, 0xee, 0xf4, 0xf6, 0xfb]) defineLane(MAP_0F, op, op, true);

// 66 0F 71-73: shifts of an XMM register by imm8. /2 PSRL, /4 PSRA, /6 PSLL; 73 /3 PSRLDQ
// and /7 PSLLDQ shift the whole register by bytes.
for (const op of [0x71, 0x72, 0x73]) {
  defineSse(MAP_0F, '6', op, (u, d, h) => {
    const g = (d.modrm >> 3) & 7;
    if (d.mod !== 3) h.undefinedOpcode();
    const count = d.imm & 0xff;
    const x = u.x;
    if (op === 0x73 && (g === 3 || g === 7)) {
      const at = d.rm * 16;
      const k = count > 16 ? 16 : count;
      if (g === 3) {
        x.u8.copyWithin(at, at + k, at + 16);
        x.u8.fill(0, at + 16 - k, at + 16);
      } else {
        x.u8.copyWithin(at + k, at, at + 16 - k);
        x.u8.fill(0, at, at + k);
      }
      return;
    }
    if ((g !== 2 && g !== 4 && g !== 6) || (op === 0x73 && g === 4)) h.undefinedOpcode();
    laneShift(x, (g === 2 ? 0xd0 : g === 4 ? 0xe0 : 0xf0) + (op - 0x70), count, d.rm * 16, 16);
  });
}

// 0F 70: PSHUFW mm (none), PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2).
defineSse(
  MAP_0F,
  '-',
  0x70,
  (u, d, h) => {
    const m = mmxBegin(u, h);
    const x = u.x;
    mmxSrc(m, u, d, h);
    laneShuffleWords(x, d.imm, TMP2 * 16, SRC * 16, TMP * 16);
    m.mmxEnter();
    m.mmxStore(d.reg & 7, x.u8, TMP2 * 16);
  },
  SSE_UNGATED,
);
defineSse(MAP_0F, '6', 0x70, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  const imm = d.imm;
  for (let i = 0; i < 4; i++) x.u32[TMP * 4 + i] = x.u32[s + ((imm >> (2 * i)) & 3)]!;
  x.copy(d.reg, TMP);
});
defineSse(MAP_0F, '3', 0x70, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true);
  laneShuffleWords(x, d.imm, d.reg * 16 + 8, s * 16 + 8, TMP * 16);
  x.u8.copyWithin(d.reg * 16, s * 16, s * 16 + 8);
});
defineSse(MAP_0F, '2', 0x70, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true);
  laneShuffleWords(x, d.imm, TMP2 * 16, s * 16, TMP * 16);
  x.u8.copyWithin(d.reg * 16 + 8, s * 16 + 8, s * 16 + 16);
  x.u8.copyWithin(d.reg * 16, TMP2 * 16, TMP2 * 16 + 8);
});

// 0F C4: PINSRW mm/xmm, r32/m16, imm8 (the word index wraps to the register's width).
defineSse(
  MAP_0F,
  '-',
  0xc4,
  (u, d, h) => {
    const m = mmxBegin(u, h);
    const x = u.x;
    const w = readWordSource(u, d, h);
    m.mmxRead(d.reg & 7, x.u8, TMP2 * 16);
    x.u16[TMP2 * 8 + (d.imm & 3)] = w;
    m.mmxEnter();
    m.mmxStore(d.reg & 7, x.u8, TMP2 * 16);
  },
  SSE_UNGATED,
);
defineSse(MAP_0F, '6', 0xc4, (u, d, h) => {
  u.x.u16[d.reg * 8 + (d.imm & 7)] = readWordSource(u, d, h);
});

/** PINSRW's source: the low word of a general register, or a word of memory. */
function readWordSource(u: SseUnit, d: DecodedInsn, h: SseHost): number {
  if (d.mod === 3) return h.gpr(d.rm) & 0xffff;
  h.memRead(u.x.u8, SRC * 16, 2);
  return u.x.u16[SRC * 8]!;
}

// 0F C5: PEXTRW r32, mm/xmm, imm8 (register forms only; the result is zero-extended).
defineSse(
  MAP_0F,
  '-',
  0xc5,
  (u, d, h) => {
    if (d.mod !== 3) h.undefinedOpcode();
    const m = mmxBegin(u, h);
    m.mmxRead(d.rm & 7, u.x.u8, SRC * 16);
    m.mmxEnter();
    h.setGpr(d.reg, 4, u.x.u16[SRC * 8 + (d.imm & 3)]!, 0);
  },
  SSE_UNGATED,
);
defineSse(MAP_0F, '6', 0xc5, (u, d, h) => {
  if (d.mod !== 3) h.undefinedOpcode();
  h.setGpr(d.reg, 4, u.x.u16[d.rm * 8 + (d.imm & 7)]!, 0);
});

// 0F D7: PMOVMSKB r32, mm/xmm (register forms only).
defineSse(
  MAP_0F,
  '-',
  0xd7,
  (u, d, h) => {
    if (d.mod !== 3) h.undefinedOpcode();
    const m = mmxBegin(u, h);
    m.mmxRead(d.rm & 7, u.x.u8, SRC * 16);
    m.mmxEnter();
    h.setGpr(d.reg, 4, laneMoveMask(u.x, SRC * 16, 8), 0);
  },
  SSE_UNGATED,
);
defineSse(MAP_0F, '6', 0xd7, (u, d, h) => {
  if (d.mod !== 3) h.undefinedOpcode();
  h.setGpr(d.reg, 4, laneMoveMask(u.x, d.rm * 16, 16), 0);
});

// 0F E7: MOVNTQ m64, mm (the non-temporal hint means nothing to this memory model; no
// register form). MOVNTDQ (66) is float-moves.ts's, with the other non-temporal stores.
defineSse(
  MAP_0F,
  '-',
  0xe7,
  (u, d, h) => {
    if (d.mod === 3) h.undefinedOpcode();
    const m = mmxBegin(u, h);
    m.mmxRead(d.reg & 7, u.x.u8, SRC * 16);
    h.memWrite(u.x.u8, SRC * 16, 8);
    m.mmxEnter();
  },
  SSE_UNGATED,
);

// 0F F7: MASKMOVQ mm1, mm2: the bytes of mm1 whose mm2 byte has its top bit set go to
// DS:rDI, like MASKMOVDQU (float-moves.ts): the 8-byte destination is checked first, even
// for an all-zero mask (as the hosts do), so a fault writes nothing.
defineSse(
  MAP_0F,
  '-',
  0xf7,
  (u, d, h) => {
    if (d.mod !== 3) h.undefinedOpcode();
    const m = mmxBegin(u, h);
    const b = u.x.u8;
    m.mmxRead(d.reg & 7, b, SRC * 16);
    m.mmxRead(d.rm & 7, b, TMP * 16);
    h.beginDi(d);
    h.memCheckWrite(8);
    for (let i = 0; i < 8; i++) if ((b[TMP * 16 + i]! & 0x80) !== 0) h.memWrite(b, SRC * 16 + i, 1, i);
    m.mmxEnter();
  },
  SSE_UNGATED,
);

// F3 0F D6: MOVQ2DQ xmm, mm (zero-extended); F2 0F D6: MOVDQ2Q mm, xmm. SSE instructions
// (CR4.OSFXSR and the SSE checks apply) that also make the MMX transition.
defineSse(MAP_0F, '3', 0xd6, (u, d, h) => {
  if (d.mod !== 3) h.undefinedOpcode();
  const m = mmxBegin(u, h);
  const x = u.x;
  m.mmxRead(d.rm & 7, x.u8, d.reg * 16);
  x.zeroFrom(d.reg, 8);
  m.mmxEnter();
});
defineSse(MAP_0F, '2', 0xd6, (u, d, h) => {
  if (d.mod !== 3) h.undefinedOpcode();
  const m = mmxBegin(u, h);
  m.mmxEnter();
  m.mmxStore(d.reg & 7, u.x.u8, d.rm * 16);
});

