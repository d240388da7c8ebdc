/** ROL ROR RCL RCR SHL/SAL SHR SAR (by 1, CL and imm8; counts 0-255) and SHLD/SHRD. */
import { ECX, type DiffCase } from '../case.js';
import { doubleShiftResultUndefined, doubleShiftUndefined, rotateUndefined, shiftUndefined } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft, hex, maskOf, PTR, regName, SIZES, type Size } from './draft.js';

const OPS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'] as const;
type Op = (typeof OPS)[number];

function count(rng: Rng, bits: number): number {
  return rng.pick([0, 1, 1, 2, 3, bits - 1, bits, bits + 1, 31, 32, 33, rng.int(32), rng.int(32), rng.int(256), 0xff, 0xe1]);
}

function shift(rng: Rng, op: Op): DiffCase {
  const d = new Draft(rng);
  const size = rng.pick(SIZES);
  const v = rng.operand(size);
  const form = rng.pick(['one', 'cl', 'imm'] as const);
  const n = form === 'one' ? 1 : count(rng, size);
  if (form === 'cl') {
    d.claim(ECX);
    d.setReg(8, ECX, n);
  }
  // The operand: a register (not CL/ECX) or memory.
  let dst: string;
  let modrmRm: number | null = null;
  if (rng.bool(0.6)) {
    const r = d.reg(size, true);
    d.setReg(size, r, v);
    dst = regName(size, r);
    modrmRm = r;
  } else {
    const off = d.slot(size / 8);
    d.poke(off, v, size / 8);
    dst = `${PTR[size]} ${d.memRef(off)}`;
  }
  const sub = OPS.indexOf(op);
  let asm: string;
  if (op === 'sal' && modrmRm !== null) {
    // SAL as /6, an alias of SHL /4 that nasm never emits.
    const opc = form === 'one' ? (size === 8 ? 0xd0 : 0xd1) : form === 'cl' ? (size === 8 ? 0xd2 : 0xd3) : size === 8 ? 0xc0 : 0xc1;
    const bytes = [opc, 0xc0 | (sub << 3) | modrmRm];
    if (form === 'imm') bytes.push(n & 0xff);
    if (size === 16) bytes.unshift(0x66);
    asm = `db ${bytes.map(hex).join(', ')} ; sal ${dst}, ${form === 'cl' ? 'cl' : n} (/6)`;
  } else {
    const mnemonic = op === 'sal' ? 'shl' : op;
    const src = form === 'one' ? '1' : form === 'cl' ? 'cl' : n === 1 ? 'strict byte 1' : hex(n);
    asm = `${mnemonic} ${dst}, ${src}`;
  }
  const family = op === 'sal' ? 'SHL' : op.toUpperCase();
  d.undefinedFlags = op === 'rol' || op === 'ror' || op === 'rcl' || op === 'rcr' ? rotateUndefined(n) : shiftUndefined(op === 'sar' ? 'sar' : op === 'shr' ? 'shr' : 'shl', n, size);
  return d.finish(family, asm);
}

function doubleShift(rng: Rng, left: boolean): DiffCase {
  const d = new Draft(rng);
  const size: Size = rng.pick([16, 32] as const);
  const n = rng.pick([0, 1, 2, size - 1, size, size + 1, 31, 32, 33, rng.int(32), rng.int(32), rng.int(256)]);
  const useCl = rng.bool();
  if (useCl) {
    d.claim(ECX);
    d.setReg(8, ECX, n);
  }
  const src = d.reg(size, true);
  d.setReg(size, src, rng.operand(size));
  const v = rng.operand(size);
  let dst: string;
  const undefinedResult = doubleShiftResultUndefined(n, size);
  if (rng.bool(0.6)) {
    const r = d.reg(size, true);
    d.setReg(size, r, v);
    dst = regName(size, r);
    if (undefinedResult) d.undefinedRegBits[r] = maskOf(size);
  } else {
    const off = d.slot(size / 8);
    d.poke(off, v, size / 8);
    dst = `${PTR[size]} ${d.memRef(off)}`;
    if (undefinedResult) d.undefinedMem.push([off, size / 8]);
  }
  const mnemonic = left ? 'shld' : 'shrd';
  d.undefinedFlags = doubleShiftUndefined(n, size);
  return d.finish(mnemonic.toUpperCase(), `${mnemonic} ${dst}, ${regName(size, src)}, ${useCl ? 'cl' : hex(n)}`);
}

export const SHIFT_FAMILIES = ['ROL', 'ROR', 'RCL', 'RCR', 'SHL', 'SHR', 'SAR', 'SHLD', 'SHRD'];

export function genShift(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) {
    for (const op of OPS) if (op !== 'sal' || rng.bool(0.3)) out.push(shift(rng, op));
    out.push(doubleShift(rng, true), doubleShift(rng, false));
  }
  return out;
}
