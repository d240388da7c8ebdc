/**
 * SSE/SSE2 data movement between XMM registers, memory and general registers, and the
 * bitwise XOR forms (XORPS, XORPD, PXOR) the simplest code already uses to zero a register.
 */
import type { DecodedInsn } from '../decoder/decoded-insn.js';
import type { SseHost } from './sse-host.js';
import { defineSse } from './sse-table.js';
import type { SseUnit } from './sse-unit.js';
import { SRC } from './xmm-file.js';

const MAP_0F = 1;

/** 128-bit load: xmm ← xmm/m128. */
function load128(aligned: boolean) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    u.x.copy(d.reg, u.src(d, h, 16, aligned));
  };
}

/** 128-bit store: xmm/m128 ← xmm. */
function store128(aligned: boolean) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    if (d.mod === 3) u.x.copy(d.rm, d.reg);
    else u.storeMem(h, d.reg, 16, aligned);
  };
}

/** MOVSS/MOVSD load: a register source merges the low lane; memory zero-extends. */
function loadScalar(n: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    const x = u.x;
    if (d.mod === 3) x.u8.copyWithin(d.reg * 16, d.rm * 16, d.rm * 16 + n);
    else {
      h.memRead(x.u8, SRC * 16, n);
      x.u8.copyWithin(d.reg * 16, SRC * 16, SRC * 16 + n);
      x.zeroFrom(d.reg, n);
    }
  };
}

/** MOVSS/MOVSD store: to memory `n` bytes, to a register the low lane only. */
function storeScalar(n: number) {
  return (u: SseUnit, d: DecodedInsn, h: SseHost): void => {
    if (d.mod === 3) u.x.u8.copyWithin(d.rm * 16, d.reg * 16, d.reg * 16 + n);
    else u.storeMem(h, d.reg, n);
  };
}

defineSse(MAP_0F, '-6', 0x10, load128(false)); // MOVUPS, MOVUPD
defineSse(MAP_0F, '-6', 0x11, store128(false));
defineSse(MAP_0F, '3', 0x10, loadScalar(4)); // MOVSS
defineSse(MAP_0F, '3', 0x11, storeScalar(4));
defineSse(MAP_0F, '2', 0x10, loadScalar(8)); // MOVSD
defineSse(MAP_0F, '2', 0x11, storeScalar(8));
defineSse(MAP_0F, '-6', 0x28, load128(true)); // MOVAPS, MOVAPD
defineSse(MAP_0F, '-6', 0x29, store128(true));
defineSse(MAP_0F, '6', 0x6f, load128(true)); // MOVDQA
defineSse(MAP_0F, '6', 0x7f, store128(true));
defineSse(MAP_0F, '3', 0x6f, load128(false)); // MOVDQU
defineSse(MAP_0F, '3', 0x7f, store128(false));

// 66 0F 6E: MOVD xmm, r/m32 (MOVQ xmm, r/m64 with REX.W): zero-extended into the register.
defineSse(MAP_0F, '6', 0x6e, (u, d, h) => {
  const x = u.x;
  const wide = h.long && (d.rex & 8) !== 0;
  const n = wide ? 8 : 4;
  if (d.mod === 3) {
    x.u32[SRC * 4] = h.gpr(d.rm);
    x.u32[SRC * 4 + 1] = wide ? h.gprHi(d.rm) : 0;
  } else h.memRead(x.u8, SRC * 16, n);
  const r = d.reg * 4;
  x.u32[r] = x.u32[SRC * 4]!;
  x.u32[r + 1] = wide ? x.u32[SRC * 4 + 1]! : 0;
  x.u32[r + 2] = 0;
  x.u32[r + 3] = 0;
});

// 66 0F 7E: MOVD r/m32, xmm (MOVQ r/m64, xmm with REX.W).
defineSse(MAP_0F, '6', 0x7e, (u, d, h) => {
  const x = u.x;
  const wide = h.long && (d.rex & 8) !== 0;
  const r = d.reg * 4;
  if (d.mod === 3) h.setGpr(d.rm, wide ? 8 : 4, x.u32[r]!, wide ? x.u32[r + 1]! : 0);
  else u.storeMem(h, d.reg, wide ? 8 : 4);
});

// F3 0F 7E: MOVQ xmm, xmm/m64 (upper half zeroed).
defineSse(MAP_0F, '3', 0x7e, (u, d, h) => {
  const x = u.x;
  const s = u.src(d, h, 8);
  x.u32[d.reg * 4] = x.u32[s * 4]!;
  x.u32[d.reg * 4 + 1] = x.u32[s * 4 + 1]!;
  x.u32[d.reg * 4 + 2] = 0;
  x.u32[d.reg * 4 + 3] = 0;
});

// 66 0F D6: MOVQ xmm/m64, xmm (a register destination's upper half is zeroed).
defineSse(MAP_0F, '6', 0xd6, (u, d, h) => {
  const x = u.x;
  if (d.mod !== 3) {
    u.storeMem(h, d.reg, 8);
    return;
  }
  x.u32[d.rm * 4] = x.u32[d.reg * 4]!;
  x.u32[d.rm * 4 + 1] = x.u32[d.reg * 4 + 1]!;
  x.u32[d.rm * 4 + 2] = 0;
  x.u32[d.rm * 4 + 3] = 0;
});

/** dst ^= src over 128 bits (XORPS, XORPD, PXOR: the same bits, whatever the data type). */
function xor128(u: SseUnit, d: DecodedInsn, h: SseHost): void {
  const x = u.x;
  const s = u.src(d, h, 16, true) * 4;
  const r = d.reg * 4;
  for (let i = 0; i < 4; i++) x.u32[r + i] = x.u32[r + i]! ^ x.u32[s + i]!;
}
defineSse(MAP_0F, '-6', 0x57, xor128);
defineSse(MAP_0F, '6', 0xef, xor128);
