/** ADD ADC SUB SBB AND OR XOR CMP TEST INC DEC NEG NOT in 8/16/32-bit, register and memory forms. */
import type { DiffCase } from '../case.js';
import { UNDEFINED_FLAGS } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft, hex, PTR, regName, SIZES, type Size } from './draft.js';

const BINARY = ['add', 'adc', 'sub', 'sbb', 'and', 'or', 'xor', 'cmp'] as const;
const LOGIC = new Set(['and', 'or', 'xor', 'test']);

/** Sometimes a LOCK prefix, where it is valid (a memory destination, not CMP or TEST). */
function lock(rng: Rng, mnemonic: string): string {
  return mnemonic !== 'cmp' && mnemonic !== 'test' && rng.bool(0.2) ? 'lock ' : '';
}

/** The ModRM "reg, r/m" direction (opcode +2/+3), which nasm never picks for reg,reg. */
function rawRegReg(op: number, size: Size, dst: number, src: number): string {
  const opcode = (op << 3) + (size === 8 ? 2 : 3);
  const bytes = [opcode, 0xc0 | (dst << 3) | src];
  if (size === 16) bytes.unshift(0x66);
  return `db ${bytes.map(hex).join(', ')}`;
}

function binary(rng: Rng, mnemonic: (typeof BINARY)[number] | 'test'): DiffCase {
  const d = new Draft(rng);
  const size = rng.pick(SIZES);
  const form = rng.int(mnemonic === 'test' ? 5 : 7);
  const a = rng.operand(size);
  const b = rng.operand(size);
  let asm: string;
  if (form === 0 || form === 1) {
    // reg, reg (sometimes the same register twice)
    const dst = d.reg(size, true);
    const src = rng.bool(0.1) ? dst : d.reg(size, true);
    d.setReg(size, dst, a);
    if (src !== dst) d.setReg(size, src, b);
    const op = BINARY.indexOf(mnemonic as (typeof BINARY)[number]);
    asm = form === 1 && op >= 0 ? rawRegReg(op, size, dst, src) : `${mnemonic} ${regName(size, dst)}, ${regName(size, src)}`;
  } else if (form === 2) {
    // reg, imm (short, sign-extended imm8 and full-width encodings)
    const dst = d.reg(size, true);
    d.setReg(size, dst, a);
    const imm = size !== 8 && rng.bool(0.4) ? rng.int(256) - 128 : b;
    const strict = size !== 8 && rng.bool(0.3) ? `strict ${PTR[size]} ` : '';
    asm = `${mnemonic} ${regName(size, dst)}, ${strict}${hex(imm & (size === 32 ? 0xffffffff : (1 << size) - 1))}`;
    if (imm < 0 && strict === '') asm = `${mnemonic} ${regName(size, dst)}, ${imm}`;
  } else if (form === 3) {
    // mem, reg
    const src = d.reg(size);
    d.setReg(size, src, b);
    const off = d.slot(size / 8);
    d.poke(off, a, size / 8);
    asm = `${lock(rng, mnemonic)}${mnemonic} ${PTR[size]} ${d.memRef(off)}, ${regName(size, src)}`;
  } else if (form === 4) {
    // mem, imm
    const off = d.slot(size / 8);
    d.poke(off, a, size / 8);
    const imm = size !== 8 && rng.bool(0.4) ? rng.int(256) - 128 : b;
    asm = `${lock(rng, mnemonic)}${mnemonic} ${PTR[size]} ${d.memRef(off)}, ${imm < 0 ? imm : hex(imm)}`;
  } else if (form === 5) {
    // reg, mem
    const dst = d.reg(size);
    d.setReg(size, dst, a);
    const off = d.slot(size / 8);
    d.poke(off, b, size / 8);
    asm = `${mnemonic} ${regName(size, dst)}, ${PTR[size]} ${d.memRef(off)}`;
  } else {
    // 82 /op ib: the 8-bit immediate group's alias opcode (valid outside 64-bit mode).
    const dst = d.reg(8, true);
    d.setReg(8, dst, a);
    const op = BINARY.indexOf(mnemonic as (typeof BINARY)[number]);
    asm = `db 0x82, ${hex(0xc0 | (op << 3) | dst)}, ${hex(b & 0xff)} ; ${mnemonic} ${regName(8, dst)}, ${hex(b & 0xff)}`;
  }
  d.undefinedFlags = LOGIC.has(mnemonic) ? UNDEFINED_FLAGS.logic : UNDEFINED_FLAGS.arith;
  return d.finish(mnemonic.toUpperCase(), asm);
}

function testAlias(rng: Rng): DiffCase {
  // F6 /1 and F7 /1: undocumented aliases of TEST r/m, imm that Intel CPUs execute.
  const d = new Draft(rng);
  const size = rng.pick(SIZES);
  const dst = d.reg(size, true);
  d.setReg(size, dst, rng.operand(size));
  const imm = rng.operand(size);
  const bytes = [size === 8 ? 0xf6 : 0xf7, 0xc8 | dst];
  for (let i = 0; i < size / 8; i++) bytes.push((imm >>> (i * 8)) & 0xff);
  if (size === 16) bytes.unshift(0x66);
  d.undefinedFlags = UNDEFINED_FLAGS.logic;
  return d.finish('TEST', `db ${bytes.map(hex).join(', ')} ; test ${regName(size, dst)}, ${hex(imm)} (F6/F7 /1)`);
}

function unary(rng: Rng, mnemonic: 'inc' | 'dec' | 'neg' | 'not'): DiffCase {
  const d = new Draft(rng);
  const size = rng.pick(SIZES);
  const v = rng.operand(size);
  let asm: string;
  const form = rng.int(3);
  if (form === 0) {
    const r = d.reg(size, true);
    d.setReg(size, r, v);
    asm = `${mnemonic} ${regName(size, r)}`;
  } else if (form === 1 && size !== 8 && (mnemonic === 'inc' || mnemonic === 'dec')) {
    // FE/FF /0 /1 for a register (nasm picks the one-byte 40+r form otherwise)
    const r = d.reg(size, true);
    d.setReg(size, r, v);
    const bytes = [0xff, (mnemonic === 'inc' ? 0xc0 : 0xc8) | r];
    if (size === 16) bytes.unshift(0x66);
    asm = `db ${bytes.map(hex).join(', ')} ; ${mnemonic} ${regName(size, r)} (FF form)`;
  } else {
    const off = d.slot(size / 8);
    d.poke(off, v, size / 8);
    asm = `${lock(rng, mnemonic)}${mnemonic} ${PTR[size]} ${d.memRef(off)}`;
  }
  d.undefinedFlags = UNDEFINED_FLAGS.arith;
  return d.finish(mnemonic.toUpperCase(), asm);
}

export const ALU_FAMILIES = ['ADD', 'ADC', 'SUB', 'SBB', 'AND', 'OR', 'XOR', 'CMP', 'TEST', 'INC', 'DEC', 'NEG', 'NOT'];

export function genAlu(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) {
    for (const m of BINARY) out.push(binary(rng, m));
    out.push(rng.bool(0.15) ? testAlias(rng) : binary(rng, 'test'));
    for (const m of ['inc', 'dec', 'neg', 'not'] as const) out.push(unary(rng, m));
  }
  return out;
}
