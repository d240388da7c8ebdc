/**
 * SSE4.1 integer instructions (32-bit code): PMOVSX/PMOVZX in all six widths, PMULDQ,
 * PMULLD, PCMPEQQ, PACKUSDW, PMINSB/SD/UW/UD and PMAXSB/SD/UW/UD, PTEST, PHMINPOSUW and
 * MPSADBW with every imm8, register and memory forms (varied addressing modes); and their
 * memory faults: #GP(0) for misaligned 16-byte operands (PMOVSX/ZX's narrower operands
 * have no alignment rule), #PF for operands in or across into the guard page.
 */
import type { DiffCase } from '../case.js';
import { DATA_BASE, GUARD_PAGE, RO_PAGE } from '../layout.js';
import type { Rng } from '../prng.js';
import { Draft, hex, regName } from './draft.js';
import { alignedSlot, lanes, mixLanes, ptestPair } from './sse4-data.js';
import { xmmFile, xmmInt } from './sse-values.js';

export const SSE41_FAMILIES = ['PMOVSX/PMOVZX', 'PMULDQ/PMULLD', 'PCMPEQQ/PACKUSDW', 'PMIN/PMAX', 'PTEST', 'PHMINPOSUW', 'MPSADBW', 'SSE4.1 memory faults'] as const;

/** PMOVSX/ZX widths and the number of elements they extend. */
const EXTENDS = [
  ['bw', 8],
  ['bd', 4],
  ['bq', 2],
  ['wd', 4],
  ['wq', 2],
  ['dq', 2],
] as const;
const MINMAX = [
  ['pminsb', 8],
  ['pminsd', 32],
  ['pminuw', 16],
  ['pminud', 32],
  ['pmaxsb', 8],
  ['pmaxsd', 32],
  ['pmaxuw', 16],
  ['pmaxud', 32],
] as const;
const PTR: Record<number, string> = { 2: 'word', 4: 'dword', 8: 'qword', 16: 'oword' };

export interface Op {
  mn: string;
  /** Source bytes (16 for full-register operands). */
  size: number;
  /** Lane width for the data. */
  bits: 8 | 16 | 32 | 64;
  imm?: number;
  family: (typeof SSE41_FAMILIES)[number];
  /** PTEST: build the pair specially. */
  ptest?: boolean;
}

/** An SSE4.1 integer instruction with its source size and lane width. */
export function pickOp(rng: Rng): Op {
  const k = rng.int(9);
  if (k < 2) {
    const [w, count] = rng.pick(EXTENDS);
    const from = w[0] === 'b' ? 1 : w[0] === 'w' ? 2 : 4;
    return { mn: `pmov${rng.bool() ? 'sx' : 'zx'}${w}`, size: from * count, bits: (from * 8) as 8 | 16 | 32, family: 'PMOVSX/PMOVZX' };
  }
  if (k === 2) return { mn: rng.pick(['pmuldq', 'pmulld']), size: 16, bits: 32, family: 'PMULDQ/PMULLD' };
  if (k === 3) return rng.bool() ? { mn: 'pcmpeqq', size: 16, bits: 64, family: 'PCMPEQQ/PACKUSDW' } : { mn: 'packusdw', size: 16, bits: 32, family: 'PCMPEQQ/PACKUSDW' };
  if (k < 6) {
    const [mn, bits] = rng.pick(MINMAX);
    return { mn, size: 16, bits, family: 'PMIN/PMAX' };
  }
  if (k === 6) return { mn: 'ptest', size: 16, bits: 64, family: 'PTEST', ptest: true };
  if (k === 7) return { mn: 'phminposuw', size: 16, bits: 16, family: 'PHMINPOSUW' };
  return { mn: 'mpsadbw', size: 16, bits: 8, imm: rng.bool(0.8) ? rng.int(8) : rng.int(256), family: 'MPSADBW' };
}

function operandText(op: Op, dst: number, src: string): string {
  return `${op.mn} xmm${dst}, ${src}${op.imm === undefined ? '' : `, ${hex(op.imm)}`}`;
}

/** One instruction on crafted registers (and memory). */
function sse41Case(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const op = pickOp(rng);
  const xmm = xmmFile(rng, 8, (r) => xmmInt(r, op.bits));
  const dst = rng.int(8);
  let a = lanes(rng, op.bits);
  let b = mixLanes(rng, a, lanes(rng, op.bits), op.bits / 8);
  if (op.ptest === true) [a, b] = ptestPair(rng);
  xmm.set(a, dst * 16);
  d.xmm = xmm;
  let asm: string;
  if (rng.bool(0.5)) {
    const src = rng.bool(0.15) ? dst : rng.int(8);
    if (src !== dst) xmm.set(b, src * 16);
    asm = operandText(op, dst, `xmm${src}`);
  } else {
    const off = op.size === 16 ? alignedSlot(d) : d.slot(op.size);
    d.pokeBytes(off, b.subarray(0, op.size));
    asm = operandText(op, dst, `${PTR[op.size]} ${d.memRef(off)}`);
  }
  return d.finish(op.family, asm);
}

/**
 * Memory operands that fault or cross pages: misaligned 16-byte operands (#GP(0), before
 * any page check), operands reaching the guard page (#PF, CR2 at its start), and operands
 * in the read-only page (loads succeed).
 */
function faultCase(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const op: Op = { ...pickOp(rng), family: 'SSE4.1 memory faults' };
  d.xmm = xmmFile(rng, 8, (r) => xmmInt(r, op.bits));
  const k = rng.int(4);
  let addr: number;
  if (k === 0) addr = GUARD_PAGE - rng.int(op.size + 4) + rng.int(4);
  else if (k === 1) addr = RO_PAGE - rng.int(op.size + 2) + rng.int(op.size + 2); // readable both sides
  else if (k === 2) addr = DATA_BASE + rng.int(0x1f00) + 1 + rng.int(15); // misaligned, mapped
  else addr = GUARD_PAGE - 16 * rng.int(2); // aligned: the last readable block, or the guard page
  const base = d.reg(32);
  d.regs[base] = addr >>> 0;
  d.expect = 'any';
  return d.finish(op.family, operandText(op, rng.int(8), `${PTR[op.size]} [${regName(32, base)}]`));
}

export function genSse41(rng: Rng, count: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < count; i++) out.push(i % 8 === 7 ? faultCase(rng) : sse41Case(rng));
  return out;
}
