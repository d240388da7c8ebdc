/** Helpers that generated blocks call for the operations too long to inline. */
import { divS64, divU64, mulFlags, mulS32, mulU32, resHi, resLo, shiftRotate } from '../arith.js';
import { EXC_DE } from '../constants.js';
import type { Cpu } from '../cpu.js';

export interface JitHelpers {
  shiftRotate: typeof shiftRotate;
  imul32(c: Cpu, a: number, b: number): number;
  mul32(c: Cpu, v: number): void;
  imul1_32(c: Cpu, v: number): void;
  div32(c: Cpu, v: number): void;
  idiv32(c: Cpu, v: number): void;
}

export const helpers: JitHelpers = {
  shiftRotate,
  imul32(c, a, b) {
    mulS32(a, b);
    mulFlags(c, resLo, 0, resHi !== resLo >> 31);
    return resLo;
  },
  mul32(c, v) {
    mulU32(c.r32[0], v);
    c.r32[0] = resLo;
    c.r32[2] = resHi;
    mulFlags(c, resLo, 0, resHi !== 0);
  },
  imul1_32(c, v) {
    mulS32(c.r32[0], v);
    c.r32[0] = resLo;
    c.r32[2] = resHi;
    mulFlags(c, resLo, 0, resHi !== resLo >> 31);
  },
  div32(c, v) {
    if (!divU64(c.r32[2], c.r32[0], v)) c.raise(EXC_DE);
    c.r32[0] = resLo;
    c.r32[2] = resHi;
  },
  idiv32(c, v) {
    if (!divS64(c.r32[2], c.r32[0], v)) c.raise(EXC_DE);
    c.r32[0] = resLo;
    c.r32[2] = resHi;
  },
};
