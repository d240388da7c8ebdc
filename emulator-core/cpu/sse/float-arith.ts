/**
 * SSE-SSE4.1 floating-point arithmetic: ADD SUB MUL DIV MIN MAX SQRT (PS SS PD SD), RCP and
 * RSQRT, CMPxx, (U)COMISS/SD, the conversions (CVT*, MMX forms included), ADDSUB, HADD,
 * HSUB, ROUND and DP. Lane arithmetic is softfloat.ts; this module walks the lanes and
 * applies the SIMD exception rules of the SDM (vol. 1, 11.5.2):
 * - every lane's pre-computation exceptions (IE, DE, ZE) are collected first; if any is
 *   unmasked only those flags are set and #XM (or #UD without CR4.OSXMMEXCPT) raised;
 * - otherwise the post-computation ones (OE, UE, PE) of all lanes join them, and if any
 *   flag is unmasked the instruction faults with every flag set;
 * - a faulting instruction writes no destination (results are built in TMP first).
 */
import { CR4_OSXMMEXCPT, EXC_UD, EXC_XM } from '../constants.js';
import type { DecodedInsn } from '../decoder/decoded-insn.js';
import type { SseHost } from './sse-host.js';
import { mmxBegin, mmxSrc } from './int-sse2.js';
import { defineSse } from './sse-table.js';
import type { SseUnit } from './sse-unit.js';
import {
  approx32,
  arith32,
  arith64,
  cmp32,
  cmp64,
  comi,
  cvt32to64,
  cvt64to32,
  cvtInt,
  cvtToInt,
  OP_ADD,
  OP_DIV,
  OP_MAX,
  OP_MIN,
  OP_MUL,
  OP_SQRT,
  OP_SUB,
  round32,
  round64,
  SseStatus,
} from './softfloat.js';
import { SRC, TMP, TMP2 } from './xmm-file.js';
import type { XmmFile } from './xmm-file.js';

const MAP_0F = 1;
const MAP_0F3A = 3;

/** The status every handler works in (one instruction at a time). */
const st = new SseStatus();

/** The SIMD floating-point exception: #XM with CR4.OSXMMEXCPT, else #UD. */
function simdFault(h: SseHost): never {
  if ((h.cr4 & CR4_OSXMMEXCPT) !== 0) h.raise(EXC_XM);
  h.raise(EXC_UD);
}

/**
 * Apply the collected exceptions to MXCSR; fault if any is unmasked (pre-computation ones
 * first: they stop the instruction before post-computation flags exist).
 */
function settle(x: XmmFile, h: SseHost): void {
  const unmasked = ~st.masks & 0x3f;
  if ((st.pre & unmasked) !== 0) {
    x.mxcsr |= st.pre;
    simdFault(h);
  }
  const all = st.pre | st.post;
  if (all === 0) return;
  x.mxcsr |= all;
  if ((all & unmasked) !== 0) simdFault(h);
}

// ---------------------------------------------------------------------------------------
// Two-operand arithmetic: PS (16 bytes, aligned), SS (4), PD (16, aligned), SD (8)

function ps(op: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const s = u.src(d, h, 16, true) * 4;
    const r = d.reg * 4;
    st.begin(x.mxcsr);
    const u32 = x.u32;
    for (let i = 0; i < 4; i++) {
      arith32(st, op, u32[r + i]!, u32[s + i]!);
      u32[TMP * 4 + i] = st.lo;
    }
    settle(x, h);
    x.copy(d.reg, TMP);
  };
}

function ss(op: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const s = u.src(d, h, 4) * 4;
    const r = d.reg * 4;
    st.begin(x.mxcsr);
    arith32(st, op, x.u32[r]!, x.u32[s]!);
    settle(x, h);
    x.u32[r] = st.lo;
  };
}

function pd(op: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const s = u.src(d, h, 16, true) * 4;
    const r = d.reg * 4;
    st.begin(x.mxcsr);
    const u32 = x.u32;
    for (let i = 0; i < 4; i += 2) {
      arith64(st, op, u32[r + i]!, u32[r + i + 1]!, u32[s + i]!, u32[s + i + 1]!);
      u32[TMP * 4 + i] = st.lo;
      u32[TMP * 4 + i + 1] = st.hi;
    }
    settle(x, h);
    x.copy(d.reg, TMP);
  };
}

function sd(op: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const s = u.src(d, h, 8) * 4;
    const r = d.reg * 4;
    st.begin(x.mxcsr);
    arith64(st, op, x.u32[r]!, x.u32[r + 1]!, x.u32[s]!, x.u32[s + 1]!);
    settle(x, h);
    x.u32[r] = st.lo;
    x.u32[r + 1] = st.hi;
  };
}

function all4(op: number, opcode: number): void {
  defineSse(MAP_0F, '-', opcode, ps(op));
  defineSse(MAP_0F, '3', opcode, ss(op));
  defineSse(MAP_0F, '6', opcode, pd(op));
  defineSse(MAP_0F, '2', opcode, sd(op));
}
all4(OP_SQRT, 0x51);
all4(OP_ADD, 0x58);
all4(OP_MUL, 0x59);
all4(OP_SUB, 0x5c);
all4(OP_MIN, 0x5d);
all4(OP_DIV, 0x5e);
all4(OP_MAX, 0x5f);

// RSQRTPS/RSQRTSS (52), RCPPS/RCPSS (53): approximations, no exceptions, MXCSR untouched.
function approx(rsqrt: boolean, lanes: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const s = u.src(d, h, lanes * 4, lanes === 4) * 4;
    for (let i = 0; i < lanes; i++) x.u32[TMP * 4 + i] = approx32(x.u32[s + i]!, rsqrt);
    for (let i = 0; i < lanes; i++) x.u32[d.reg * 4 + i] = x.u32[TMP * 4 + i]!;
  };
}
defineSse(MAP_0F, '-', 0x52, approx(true, 4));
defineSse(MAP_0F, '3', 0x52, approx(true, 1));
defineSse(MAP_0F, '-', 0x53, approx(false, 4));
defineSse(MAP_0F, '3', 0x53, approx(false, 1));

// ---------------------------------------------------------------------------------------
// SSE3: ADDSUB, HADD, HSUB

/** Lane i of the result is (slot a, lane ia) op (slot b, lane ib), binary32. */
function lane32(u32: Uint32Array, i: number, op: number, a: number, b: number): void {
  arith32(st, op, u32[a]!, u32[b]!);
  u32[TMP * 4 + i] = st.lo;
}
function lane64(u32: Uint32Array, i: number, op: number, a: number, b: number): void {
  arith64(st, op, u32[a]!, u32[a + 1]!, u32[b]!, u32[b + 1]!);
  u32[TMP * 4 + 2 * i] = st.lo;
  u32[TMP * 4 + 2 * i + 1] = st.hi;
}

defineSse(MAP_0F, '2', 0xd0, (u, d, h) => {
  // ADDSUBPS: subtract in even lanes, add in odd ones
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  st.begin(x.mxcsr);
  for (let i = 0; i < 4; i++) lane32(x.u32, i, (i & 1) === 0 ? OP_SUB : OP_ADD, r + i, s + i);
  settle(x, h);
  x.copy(d.reg, TMP);
});
defineSse(MAP_0F, '6', 0xd0, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  st.begin(x.mxcsr);
  lane64(x.u32, 0, OP_SUB, r, s);
  lane64(x.u32, 1, OP_ADD, r + 2, s + 2);
  settle(x, h);
  x.copy(d.reg, TMP);
});

function hps(op: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const s = u.src(d, h, 16, true) * 4;
    const r = d.reg * 4;
    st.begin(x.mxcsr);
    lane32(x.u32, 0, op, r, r + 1);
    lane32(x.u32, 1, op, r + 2, r + 3);
    lane32(x.u32, 2, op, s, s + 1);
    lane32(x.u32, 3, op, s + 2, s + 3);
    settle(x, h);
    x.copy(d.reg, TMP);
  };
}
function hpd(op: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const s = u.src(d, h, 16, true) * 4;
    const r = d.reg * 4;
    st.begin(x.mxcsr);
    lane64(x.u32, 0, op, r, r + 2);
    lane64(x.u32, 1, op, s, s + 2);
    settle(x, h);
    x.copy(d.reg, TMP);
  };
}
defineSse(MAP_0F, '2', 0x7c, hps(OP_ADD));
defineSse(MAP_0F, '2', 0x7d, hps(OP_SUB));
defineSse(MAP_0F, '6', 0x7c, hpd(OP_ADD));
defineSse(MAP_0F, '6', 0x7d, hpd(OP_SUB));

// ---------------------------------------------------------------------------------------
// Comparisons

defineSse(MAP_0F, '-', 0xc2, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  const pred = d.imm & 7;
  st.begin(x.mxcsr);
  for (let i = 0; i < 4; i++) x.u32[TMP * 4 + i] = cmp32(st, pred, x.u32[r + i]!, x.u32[s + i]!) ? 0xffffffff : 0;
  settle(x, h);
  x.copy(d.reg, TMP);
});
defineSse(MAP_0F, '3', 0xc2, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 4) * 4;
  const r = d.reg * 4;
  st.begin(x.mxcsr);
  const t = cmp32(st, d.imm & 7, x.u32[r]!, x.u32[s]!);
  settle(x, h);
  x.u32[r] = t ? 0xffffffff : 0;
});
defineSse(MAP_0F, '6', 0xc2, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  const pred = d.imm & 7;
  st.begin(x.mxcsr);
  for (let i = 0; i < 4; i += 2) {
    const t = cmp64(st, pred, x.u32[r + i]!, x.u32[r + i + 1]!, x.u32[s + i]!, x.u32[s + i + 1]!) ? 0xffffffff : 0;
    x.u32[TMP * 4 + i] = t;
    x.u32[TMP * 4 + i + 1] = t;
  }
  settle(x, h);
  x.copy(d.reg, TMP);
});
defineSse(MAP_0F, '2', 0xc2, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 8) * 4;
  const r = d.reg * 4;
  st.begin(x.mxcsr);
  const t = cmp64(st, d.imm & 7, x.u32[r]!, x.u32[r + 1]!, x.u32[s]!, x.u32[s + 1]!) ? 0xffffffff : 0;
  settle(x, h);
  x.u32[r] = t;
  x.u32[r + 1] = t;
});

/** (U)COMISS (wide false) / (U)COMISD: ZF PF CF from the comparison, OF SF AF cleared. */
function comis(wide: boolean, signalQNaN: boolean) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const s = u.src(d, h, wide ? 8 : 4) * 4;
    const r = d.reg * 4;
    st.begin(x.mxcsr);
    const f = comi(st, wide, x.u32[r]!, x.u32[r + 1]!, x.u32[s]!, x.u32[s + 1]!, signalQNaN);
    settle(x, h);
    h.setArithFlags(f);
  };
}
defineSse(MAP_0F, '-', 0x2e, comis(false, false));
defineSse(MAP_0F, '-', 0x2f, comis(false, true));
defineSse(MAP_0F, '6', 0x2e, comis(true, false));
defineSse(MAP_0F, '6', 0x2f, comis(true, true));

// ---------------------------------------------------------------------------------------
// Float ↔ float conversions

defineSse(MAP_0F, '-', 0x5a, (u, d, h) => {
  // CVTPS2PD xmm, xmm/m64
  const x = u.x;
  const s = u.src(d, h, 8) * 4;
  st.begin(x.mxcsr);
  for (let i = 0; i < 2; i++) {
    cvt32to64(st, x.u32[s + i]!);
    x.u32[TMP * 4 + 2 * i] = st.lo;
    x.u32[TMP * 4 + 2 * i + 1] = st.hi;
  }
  settle(x, h);
  x.copy(d.reg, TMP);
});
defineSse(MAP_0F, '6', 0x5a, (u, d, h) => {
  // CVTPD2PS xmm, xmm/m128: two singles, upper half zeroed
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  st.begin(x.mxcsr);
  for (let i = 0; i < 2; i++) {
    cvt64to32(st, x.u32[s + 2 * i]!, x.u32[s + 2 * i + 1]!);
    x.u32[TMP * 4 + i] = st.lo;
  }
  x.u32[TMP * 4 + 2] = 0;
  x.u32[TMP * 4 + 3] = 0;
  settle(x, h);
  x.copy(d.reg, TMP);
});
defineSse(MAP_0F, '3', 0x5a, (u, d, h) => {
  // CVTSS2SD xmm, xmm/m32
  const x = u.x;
  const s = u.src(d, h, 4) * 4;
  st.begin(x.mxcsr);
  cvt32to64(st, x.u32[s]!);
  settle(x, h);
  x.u32[d.reg * 4] = st.lo;
  x.u32[d.reg * 4 + 1] = st.hi;
});
defineSse(MAP_0F, '2', 0x5a, (u, d, h) => {
  // CVTSD2SS xmm, xmm/m64
  const x = u.x;
  const s = u.src(d, h, 8) * 4;
  st.begin(x.mxcsr);
  cvt64to32(st, x.u32[s]!, x.u32[s + 1]!);
  settle(x, h);
  x.u32[d.reg * 4] = st.lo;
});

// ---------------------------------------------------------------------------------------
// Integer ↔ float conversions, XMM forms

defineSse(MAP_0F, '-', 0x5b, (u, d, h) => {
  // CVTDQ2PS
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  st.begin(x.mxcsr);
  for (let i = 0; i < 4; i++) {
    const v = x.i32[s + i]!;
    cvtInt(st, false, v, v >> 31);
    x.u32[TMP * 4 + i] = st.lo;
  }
  settle(x, h);
  x.copy(d.reg, TMP);
});

/** CVT(T)PS2DQ: four singles to int32 (`trunc`: toward zero). */
function ps2dq(trunc: boolean) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const s = u.src(d, h, 16, true) * 4;
    st.begin(x.mxcsr);
    for (let i = 0; i < 4; i++) {
      cvtToInt(st, false, x.u32[s + i]!, 0, false, trunc);
      x.u32[TMP * 4 + i] = st.lo;
    }
    settle(x, h);
    x.copy(d.reg, TMP);
  };
}
defineSse(MAP_0F, '6', 0x5b, ps2dq(false));
defineSse(MAP_0F, '3', 0x5b, ps2dq(true));

defineSse(MAP_0F, '3', 0xe6, (u, d, h) => {
  // CVTDQ2PD xmm, xmm/m64 (exact)
  const x = u.x;
  const s = u.src(d, h, 8) * 4;
  st.begin(x.mxcsr);
  for (let i = 0; i < 2; i++) {
    const v = x.i32[s + i]!;
    cvtInt(st, true, v, v >> 31);
    x.u32[TMP * 4 + 2 * i] = st.lo;
    x.u32[TMP * 4 + 2 * i + 1] = st.hi;
  }
  x.copy(d.reg, TMP);
});

/** CVT(T)PD2DQ: two doubles to int32 in the low half, upper half zeroed. */
function pd2dq(trunc: boolean) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const s = u.src(d, h, 16, true) * 4;
    st.begin(x.mxcsr);
    for (let i = 0; i < 2; i++) {
      cvtToInt(st, true, x.u32[s + 2 * i]!, x.u32[s + 2 * i + 1]!, false, trunc);
      x.u32[TMP * 4 + i] = st.lo;
    }
    x.u32[TMP * 4 + 2] = 0;
    x.u32[TMP * 4 + 3] = 0;
    settle(x, h);
    x.copy(d.reg, TMP);
  };
}
defineSse(MAP_0F, '2', 0xe6, pd2dq(false));
defineSse(MAP_0F, '6', 0xe6, pd2dq(true));

/** CVTSI2SS/CVTSI2SD xmm, r/m32 (r/m64 with REX.W in 64-bit mode). */
function si2s(wide: boolean) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const w64 = h.long && (d.rex & 8) !== 0;
    let lo: number;
    let hi: number;
    if (d.mod === 3) {
      lo = h.gpr(d.rm) | 0;
      hi = w64 ? h.gprHi(d.rm) | 0 : lo >> 31;
    } else {
      h.memRead(x.u8, SRC * 16, w64 ? 8 : 4);
      lo = x.i32[SRC * 4]!;
      hi = w64 ? x.i32[SRC * 4 + 1]! : lo >> 31;
    }
    st.begin(x.mxcsr);
    cvtInt(st, wide, lo, hi);
    settle(x, h);
    x.u32[d.reg * 4] = st.lo;
    if (wide) x.u32[d.reg * 4 + 1] = st.hi;
  };
}
defineSse(MAP_0F, '3', 0x2a, si2s(false));
defineSse(MAP_0F, '2', 0x2a, si2s(true));

/** CVT(T)SS2SI / CVT(T)SD2SI r32/r64, xmm/m32|m64. */
function s2si(wide: boolean, trunc: boolean) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    const s = u.src(d, h, wide ? 8 : 4) * 4;
    const w64 = h.long && (d.rex & 8) !== 0;
    st.begin(x.mxcsr);
    cvtToInt(st, wide, x.u32[s]!, x.u32[s + 1]!, w64, trunc);
    settle(x, h);
    h.setGpr(d.reg, w64 ? 8 : 4, st.lo, st.hi);
  };
}
defineSse(MAP_0F, '3', 0x2c, s2si(false, true));
defineSse(MAP_0F, '3', 0x2d, s2si(false, false));
defineSse(MAP_0F, '2', 0x2c, s2si(true, true));
defineSse(MAP_0F, '2', 0x2d, s2si(true, false));

// ---------------------------------------------------------------------------------------
// SSE4.1: ROUNDPS/PD/SS/SD (66 0F 3A 08-0B), DPPS/DPPD (66 0F 3A 40-41)

defineSse(MAP_0F3A, '6', 0x08, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  st.begin(x.mxcsr);
  for (let i = 0; i < 4; i++) {
    round32(st, x.u32[s + i]!, d.imm);
    x.u32[TMP * 4 + i] = st.lo;
  }
  settle(x, h);
  x.copy(d.reg, TMP);
});
defineSse(MAP_0F3A, '6', 0x09, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  st.begin(x.mxcsr);
  for (let i = 0; i < 4; i += 2) {
    round64(st, x.u32[s + i]!, x.u32[s + i + 1]!, d.imm);
    x.u32[TMP * 4 + i] = st.lo;
    x.u32[TMP * 4 + i + 1] = st.hi;
  }
  settle(x, h);
  x.copy(d.reg, TMP);
});
defineSse(MAP_0F3A, '6', 0x0a, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 4) * 4;
  st.begin(x.mxcsr);
  round32(st, x.u32[s]!, d.imm);
  settle(x, h);
  x.u32[d.reg * 4] = st.lo;
});
defineSse(MAP_0F3A, '6', 0x0b, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 8) * 4;
  st.begin(x.mxcsr);
  round64(st, x.u32[s]!, x.u32[s + 1]!, d.imm);
  settle(x, h);
  x.u32[d.reg * 4] = st.lo;
  x.u32[d.reg * 4 + 1] = st.hi;
});

/**
 * DPPS: products of the lanes selected by imm[7:4] (others +0.0), summed as
 * (p0 + p1) + (p2 + p3), written to the lanes selected by imm[3:0] (others +0.0). Each
 * multiply and add raises its exceptions in execution order: a stage with an unmasked
 * one faults before the next runs.
 */
defineSse(MAP_0F3A, '6', 0x40, (u, d, h) => {
  const x = u.x;
  const u32 = x.u32;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  const imm = d.imm;
  const t = TMP2 * 4;
  st.begin(x.mxcsr);
  for (let i = 0; i < 4; i++) {
    if ((imm & (16 << i)) !== 0) {
      arith32(st, OP_MUL, u32[r + i]!, u32[s + i]!);
      u32[t + i] = st.lo;
    } else u32[t + i] = 0;
  }
  settle(x, h);
  arith32(st, OP_ADD, u32[t]!, u32[t + 1]!);
  const lo = st.lo;
  arith32(st, OP_ADD, u32[t + 2]!, u32[t + 3]!);
  const hi = st.lo;
  settle(x, h);
  arith32(st, OP_ADD, lo, hi);
  settle(x, h);
  for (let i = 0; i < 4; i++) u32[r + i] = (imm & (1 << i)) !== 0 ? st.lo : 0;
});
defineSse(MAP_0F3A, '6', 0x41, (u, d, h) => {
  const x = u.x;
  const u32 = x.u32;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  const imm = d.imm;
  const t = TMP2 * 4;
  st.begin(x.mxcsr);
  for (let i = 0; i < 2; i++) {
    if ((imm & (16 << i)) !== 0) {
      arith64(st, OP_MUL, u32[r + 2 * i]!, u32[r + 2 * i + 1]!, u32[s + 2 * i]!, u32[s + 2 * i + 1]!);
      u32[t + 2 * i] = st.lo;
      u32[t + 2 * i + 1] = st.hi;
    } else {
      u32[t + 2 * i] = 0;
      u32[t + 2 * i + 1] = 0;
    }
  }
  settle(x, h);
  arith64(st, OP_ADD, u32[t]!, u32[t + 1]!, u32[t + 2]!, u32[t + 3]!);
  settle(x, h);
  for (let i = 0; i < 2; i++) {
    const on = (imm & (1 << i)) !== 0;
    u32[r + 2 * i] = on ? st.lo : 0;
    u32[r + 2 * i + 1] = on ? st.hi : 0;
  }
});

// ---------------------------------------------------------------------------------------
// MMX-register conversions. A form with an MMX register operand reports a pending x87
// exception, then enters MMX state (TOP=0, all tags valid) before any SIMD exception: the
// host shows the switch even when #XM stops the instruction. CVTPI2PS and CVTPI2PD from
// memory leave the x87 unit alone (the SDM says so for CVTPI2PD; for CVTPI2PS its text
// says the switch always happens, but the host does not make it, and Terrarium follows the
// host, as for CVTPI2PD).

/** CVTPI2PS/CVTPI2PD source: SRC holds two int32 from MMrm (entering MMX state) or m64. */
function piSource(u: SseUnit, d: DecodedInsn, h: SseHost): number {
  if (d.mod !== 3) return u.src(d, h, 8) * 4;
  const m = mmxBegin(u, h);
  mmxSrc(m, u, d, h);
  m.mmxEnter();
  return SRC * 4;
}

defineSse(MAP_0F, '-', 0x2a, (u, d, h) => {
  // CVTPI2PS xmm, mm/m64: the upper half of xmm is kept
  const x = u.x;
  const s = piSource(u, d, h);
  st.begin(x.mxcsr);
  for (let i = 0; i < 2; i++) {
    const v = x.i32[s + i]!;
    cvtInt(st, false, v, v >> 31);
    x.u32[TMP * 4 + i] = st.lo;
  }
  settle(x, h);
  x.u32[d.reg * 4] = x.u32[TMP * 4]!;
  x.u32[d.reg * 4 + 1] = x.u32[TMP * 4 + 1]!;
});

defineSse(MAP_0F, '6', 0x2a, (u, d, h) => {
  // CVTPI2PD xmm, mm/m64 (exact)
  const x = u.x;
  const s = piSource(u, d, h);
  st.begin(x.mxcsr);
  for (let i = 0; i < 2; i++) {
    const v = x.i32[s + i]!;
    cvtInt(st, true, v, v >> 31);
    x.u32[TMP * 4 + 2 * i] = st.lo;
    x.u32[TMP * 4 + 2 * i + 1] = st.hi;
  }
  x.copy(d.reg, TMP);
});

/** CVT(T)PS2PI mm, xmm/m64 (`wide` false) and CVT(T)PD2PI mm, xmm/m128 (aligned). */
function toMmx(wide: boolean, trunc: boolean) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const m = mmxBegin(u, h);
    const x = u.x;
    const s = u.src(d, h, wide ? 16 : 8, wide) * 4;
    m.mmxEnter();
    st.begin(x.mxcsr);
    for (let i = 0; i < 2; i++) {
      if (wide) cvtToInt(st, true, x.u32[s + 2 * i]!, x.u32[s + 2 * i + 1]!, false, trunc);
      else cvtToInt(st, false, x.u32[s + i]!, 0, false, trunc);
      x.u32[TMP2 * 4 + i] = st.lo;
    }
    settle(x, h);
    m.mmxStore(d.reg & 7, x.u8, TMP2 * 16);
  };
}
defineSse(MAP_0F, '-', 0x2c, toMmx(false, true));
defineSse(MAP_0F, '-', 0x2d, toMmx(false, false));
defineSse(MAP_0F, '6', 0x2c, toMmx(true, true));
defineSse(MAP_0F, '6', 0x2d, toMmx(true, false));
