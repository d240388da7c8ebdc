/**
 * SSE2 integer instructions on XMM registers, the SSE/SSE2 integer additions on MMX
 * registers and SSSE3 in both forms (emulator-core/cpu/sse/int-sse2.ts, int-ssse3.ts and
 * the lane ALU in cpu/mmx.ts): lanes at saturation and sign boundaries (sse-values.ts
 * intLane), every shift-count class (0, lane width -1/0/+1, 64+, counts with high bits),
 * memory operands 16-byte aligned or not (#GP(0) for the XMM forms, none for MMX forms),
 * across the data region's inner page boundary, and into the read-only and absent pages.
 */
import { EDI, type DiffCase } from '../case.js';
import { DATA_BASE, GUARD_PAGE, RO_PAGE } from '../layout.js';
import { X87_UNDEFINED } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft, hex, regName } from './draft.js';
import { intLane, putLane, xmmFile, xmmInt } from './sse-values.js';

export const SSE_INT_FAMILIES = [
  'SSE2 arithmetic (XMM)',
  'SSE2 pack/unpack/compare/logic (XMM)',
  'SSE2 shifts (XMM)',
  'SSE2 shuffles/PEXTRW/PINSRW/PMOVMSKB (XMM)',
  'SSE/SSE2 on MMX registers',
  'SSSE3 (XMM)',
  'SSSE3 (MMX)',
  'SSE integer faults',
] as const;

const GP = 13;

const ARITH = [
  'paddb', 'paddw', 'paddd', 'paddq', 'paddsb', 'paddsw', 'paddusb', 'paddusw',
  'psubb', 'psubw', 'psubd', 'psubq', 'psubsb', 'psubsw', 'psubusb', 'psubusw',
  'pmullw', 'pmulhw', 'pmulhuw', 'pmuludq', 'pmaddwd',
  'pavgb', 'pavgw', 'pminub', 'pmaxub', 'pminsw', 'pmaxsw', 'psadbw',
] as const;
const PACK = [
  'packsswb', 'packssdw', 'packuswb',
  'punpcklbw', 'punpcklwd', 'punpckldq', 'punpcklqdq', 'punpckhbw', 'punpckhwd', 'punpckhdq', 'punpckhqdq',
  'pcmpeqb', 'pcmpeqw', 'pcmpeqd', 'pcmpgtb', 'pcmpgtw', 'pcmpgtd',
  'pand', 'pandn', 'por', 'pxor',
] as const;
const SHIFTS = ['psrlw', 'psrld', 'psrlq', 'psraw', 'psrad', 'psllw', 'pslld', 'psllq'] as const;
/** The SSE/SSE2 additions that also exist on MMX registers. */
const MMX_NEW = ['pavgb', 'pavgw', 'pminub', 'pmaxub', 'pminsw', 'pmaxsw', 'psadbw', 'pmulhuw', 'pmuludq', 'paddq', 'psubq'] as const;
const SSSE3 = [
  'pshufb', 'phaddw', 'phaddd', 'phaddsw', 'pmaddubsw', 'phsubw', 'phsubd', 'phsubsw',
  'psignb', 'psignw', 'psignd', 'pmulhrsw', 'pabsb', 'pabsw', 'pabsd',
] as const;

/** A register image of edge-biased integer lanes of a random width. */
function intReg(rng: Rng): Uint8Array {
  if (rng.bool(0.15)) {
    // PSHUFB-style control bytes: small indexes, some with bit 7.
    const out = new Uint8Array(16);
    for (let i = 0; i < 16; i++) out[i] = rng.int(16) | (rng.bool(0.25) ? 0x80 : 0) | (rng.bool(0.1) ? rng.int(8) << 4 : 0);
    return out;
  }
  return xmmInt(rng, rng.pick([8, 16, 32, 64] as const));
}

/** Every shift-count class: 0, around each lane width, 64+, high bits set. */
function shiftCount(rng: Rng): bigint {
  return rng.pick([0n, 1n, 7n, 8n, 15n, 16n, 17n, 31n, 32n, 33n, 63n, 64n, 65n, 127n, 128n, 255n, 256n,
    BigInt(rng.int(70)), intLane(rng, 64), 1n << 32n, (1n << 32n) + 3n]);
}

function immCount(rng: Rng): number {
  return rng.pick([0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255, rng.int(256)]);
}

/**
 * A memory operand for an `n`-byte read: 16-byte aligned (or misaligned, then `d.expect`
 * is #GP when `aligned`), or across the inner page boundary (seeded fill there).
 */
function memOperand(d: Draft, n: number, aligned: boolean, size: string): string {
  let off: number;
  if (!aligned && d.rng.bool(0.1)) off = 0x1000 - 1 - d.rng.int(n - 1);
  else {
    off = (d.slot(n + 32) + 15) & ~15;
    if (d.rng.bool(aligned ? 0.1 : 0.5)) off += 1 + d.rng.int(15);
    const v = new Uint8Array(16);
    v.set(intReg(d.rng));
    d.pokeBytes(off, v.subarray(0, n));
  }
  if (aligned && ((DATA_BASE + off) & 15) !== 0) d.expect = GP;
  return size === '' ? d.memRef(off) : `${size} ${d.memRef(off)}`;
}

/** Load mm0-mm7 from poked memory (the original MMX MOVQ) and declare the x87 state compared. */
function initMmx(d: Draft, lines: string[]): void {
  for (let i = 0; i < 8; i++) {
    const off = d.slot(8);
    d.poke(off, BigInt.asUintN(64, intLane(d.rng, 64) ^ (intLane(d.rng, 16) << 48n)), 8);
    lines.push(`movq mm${i}, qword [${hex(DATA_BASE + off)}]`);
  }
  d.fpu = { statusUndefined: X87_UNDEFINED.mmx };
}

function xmmBinary(rng: Rng, family: string, ops: readonly string[]): DiffCase {
  const d = new Draft(rng);
  d.xmm = xmmFile(rng, 8, intReg);
  const op = rng.pick(ops);
  const a = rng.int(8);
  const imm = op === 'palignr' ? `, ${rng.pick([0, 1, 4, 8, 15, 16, 17, 24, 31, 32, 255, rng.int(256)])}` : '';
  const src = rng.bool(0.5) ? `xmm${rng.bool(0.15) ? a : rng.int(8)}` : memOperand(d, 16, true, imm === '' ? 'oword' : '');
  return d.finish(family, `${op} xmm${a}, ${src}${imm}`);
}

function xmmShift(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.xmm = xmmFile(rng, 8, intReg);
  const a = rng.int(8);
  const k = rng.int(4);
  let asm: string;
  if (k === 0) asm = `${rng.pick([...SHIFTS, 'psrldq', 'pslldq'])} xmm${a}, ${immCount(rng)}`;
  else if (k === 1) {
    const op = rng.pick(SHIFTS);
    const b = rng.int(8);
    putLane(d.xmm, b * 16, shiftCount(rng), 8);
    asm = `${op} xmm${a}, xmm${b}`;
  } else {
    const op = rng.pick(SHIFTS);
    const off = (d.slot(48) + 15) & ~15;
    d.poke(off, shiftCount(rng), 8);
    d.poke(off + 8, intLane(rng, 64), 8);
    const mis = rng.bool(0.1) ? 1 + rng.int(15) : 0;
    if (mis !== 0) d.expect = GP;
    asm = `${op} xmm${a}, oword ${d.memRef(off + mis)}`;
  }
  return d.finish('SSE2 shifts (XMM)', asm);
}

function xmmShuffle(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.xmm = xmmFile(rng, 8, intReg);
  const a = rng.int(8);
  const b = rng.int(8);
  const k = rng.int(7);
  let asm: string;
  if (k <= 1) {
    const op = rng.pick(['pshufd', 'pshufhw', 'pshuflw']);
    const src = k === 0 ? `xmm${b}` : memOperand(d, 16, true, '');
    asm = `${op} xmm${a}, ${src}, ${rng.int(256)}`;
  } else if (k === 2) asm = `pextrw ${regName(32, d.reg(32))}, xmm${b}, ${rng.int(256)}`;
  else if (k === 3) asm = `pinsrw xmm${a}, ${regName(32, d.reg(32))}, ${rng.int(256)}`;
  else if (k === 4) asm = `pinsrw xmm${a}, ${memOperand(d, 2, false, 'word')}, ${rng.int(256)}`;
  else if (k === 5) asm = `pmovmskb ${regName(32, d.reg(32))}, xmm${b}`;
  else {
    const lines: string[] = [];
    initMmx(d, lines);
    lines.push(rng.bool() ? `movq2dq xmm${a}, mm${rng.int(8)}` : `movdq2q mm${rng.int(8)}, xmm${b}`);
    asm = lines.join('\n');
  }
  return d.finish('SSE2 shuffles/PEXTRW/PINSRW/PMOVMSKB (XMM)', asm);
}

function mmxForm(rng: Rng, ssse3: boolean): DiffCase {
  const d = new Draft(rng);
  d.claim(EDI);
  const lines: string[] = [];
  initMmx(d, lines);
  const a = rng.int(8);
  const b = rng.int(8);
  const k = ssse3 ? 0 : rng.int(8);
  if (k <= 2) {
    const op = ssse3 ? rng.pick([...SSSE3, 'palignr']) : rng.pick(MMX_NEW);
    const imm = op === 'palignr' ? `, ${rng.pick([0, 1, 4, 7, 8, 9, 15, 16, 17, 255, rng.int(256)])}` : '';
    const src = rng.bool(0.5) ? `mm${b}` : memOperand(d, 8, false, '');
    lines.push(`${op} mm${a}, ${src}${imm}`);
  } else if (k === 3) {
    const src = rng.bool(0.5) ? `mm${b}` : memOperand(d, 8, false, '');
    lines.push(`pshufw mm${a}, ${src}, ${rng.int(256)}`);
  } else if (k === 4) {
    lines.push(rng.bool() ? `pextrw ${regName(32, d.reg(32))}, mm${b}, ${rng.int(256)}` : `pmovmskb ${regName(32, d.reg(32))}, mm${b}`);
  } else if (k === 5) {
    const src = rng.bool(0.5) ? regName(32, d.reg(32)) : memOperand(d, 2, false, 'word');
    lines.push(`pinsrw mm${a}, ${src}, ${rng.int(256)}`);
  } else if (k === 6) {
    const off = d.slot(8);
    lines.push(`movntq qword ${d.memRef(off)}, mm${a}`);
  } else {
    d.regs[EDI] = DATA_BASE + d.slot(8);
    lines.push(`maskmovq mm${a}, mm${b}`);
  }
  if (rng.bool(0.2)) lines.push(`movq qword [${hex(DATA_BASE + d.slot(8))}], mm${a}`);
  return d.finish(ssse3 ? 'SSSE3 (MMX)' : 'SSE/SSE2 on MMX registers', lines.join('\n'));
}

/** An address from which an `n`-byte access reaches (or straddles into) `boundary`. */
function near(rng: Rng, boundary: number, n: number): number {
  return boundary - rng.int(n + 1) + (rng.bool(0.2) ? rng.int(16) : 0);
}

function faults(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.xmm = xmmFile(rng, 8, intReg);
  d.claim(EDI);
  const base = d.reg(32);
  const r = regName(32, base);
  const a = rng.int(8);
  const k = rng.int(5);
  const lines: string[] = [];
  if (k === 0) {
    // XMM loads reaching the absent page (aligned, so only the fault differs from a plain load).
    d.regs[base] = near(rng, GUARD_PAGE, 16) & ~15;
    lines.push(`${rng.pick([...ARITH, ...PACK, ...SSSE3])} xmm${a}, [${r}]`);
  } else if (k === 1) {
    // MMX-form loads have no alignment rule: across into the absent page.
    initMmx(d, lines);
    d.regs[base] = near(rng, GUARD_PAGE, 8);
    lines.push(`${rng.pick([...MMX_NEW, ...SSSE3])} mm${a}, [${r}]`);
  } else if (k === 2) {
    initMmx(d, lines);
    d.regs[base] = near(rng, rng.pick([RO_PAGE, GUARD_PAGE]), 8);
    lines.push(`movntq [${r}], mm${a}`);
  } else if (k === 3) {
    initMmx(d, lines);
    d.regs[EDI] = near(rng, rng.pick([RO_PAGE, GUARD_PAGE]), 8);
    lines.push(`maskmovq mm${a}, mm${rng.int(8)}`);
  } else {
    d.regs[base] = near(rng, GUARD_PAGE, 2);
    lines.push(`pinsrw xmm${a}, [${r}], ${rng.int(8)}`);
  }
  d.expect = 'any';
  return d.finish('SSE integer faults', lines.join('\n'));
}

export function genSseInt(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) {
    out.push(xmmBinary(rng, 'SSE2 arithmetic (XMM)', ARITH));
    out.push(xmmBinary(rng, 'SSE2 pack/unpack/compare/logic (XMM)', PACK));
    out.push(xmmShift(rng));
    out.push(xmmShuffle(rng));
    out.push(mmxForm(rng, false));
    out.push(xmmBinary(rng, 'SSSE3 (XMM)', [...SSSE3, 'palignr']));
    out.push(mmxForm(rng, true));
    out.push(faults(rng));
  }
  return out;
}
