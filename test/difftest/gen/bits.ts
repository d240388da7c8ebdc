/** BT BTS BTR BTC (register, immediate, memory with far-reaching register offsets), BSF BSR, BSWAP. */
import type { DiffCase } from '../case.js';
import { UNDEFINED_FLAGS } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft, hex, PTR, regName, type Size } from './draft.js';

const BT_OPS = ['bt', 'bts', 'btr', 'btc'] as const;

function bitTest(rng: Rng, op: (typeof BT_OPS)[number]): DiffCase {
  const d = new Draft(rng);
  const size: Size = rng.pick([16, 32] as const);
  const form = rng.int(4);
  let asm: string;
  if (form === 0) {
    // reg, reg: the offset is taken modulo the operand size
    const dst = d.reg(size, true);
    const idx = d.reg(size, true);
    d.setReg(size, dst, rng.operand(size));
    d.setReg(size, idx, rng.bool() ? rng.int(size) : rng.operand(size));
    asm = `${op} ${regName(size, dst)}, ${regName(size, idx)}`;
  } else if (form === 1) {
    const dst = d.reg(size, true);
    d.setReg(size, dst, rng.operand(size));
    asm = `${op} ${regName(size, dst)}, ${hex(rng.bool() ? rng.int(size) : rng.int(256))}`;
  } else if (form === 2) {
    // mem, imm: the offset is taken modulo the operand size too
    const off = d.slot(size / 8);
    d.poke(off, rng.operand(size), size / 8);
    asm = `${op !== 'bt' && rng.bool(0.2) ? 'lock ' : ''}${op} ${PTR[size]} ${d.memRef(off)}, ${hex(rng.int(256))}`;
  } else {
    // mem, reg: a signed bit offset that reaches up to 128 bytes either side of the operand
    const base = d.window + 128;
    for (let i = -128; i < 128; i += 4) d.poke(base + i, rng.u32(), 4);
    const idx = d.reg(size);
    const bitOff = rng.pick([0, 1, size - 1, size, -1, -size, rng.int(2048) - 1024, rng.int(2048) - 1024]);
    d.setReg(size, idx, bitOff);
    asm = `${op !== 'bt' && rng.bool(0.2) ? 'lock ' : ''}${op} ${PTR[size]} ${d.memRef(base)}, ${regName(size, idx)}`;
  }
  d.undefinedFlags = UNDEFINED_FLAGS.bitTest;
  return d.finish(op.toUpperCase(), asm);
}

function bitScan(rng: Rng, op: 'bsf' | 'bsr'): DiffCase {
  const d = new Draft(rng);
  const size: Size = rng.pick([16, 32] as const);
  // Zero sources included: the destination must keep its old value (Intel and AMD both do).
  const v = rng.bool(0.2) ? 0 : rng.operand(size);
  const dst = d.reg(size, true);
  let src: string;
  if (rng.bool()) {
    const r = d.reg(size, true);
    d.setReg(size, r, v);
    src = regName(size, r);
  } else {
    const off = d.slot(size / 8);
    d.poke(off, v, size / 8);
    src = `${PTR[size]} ${d.memRef(off)}`;
  }
  d.undefinedFlags = UNDEFINED_FLAGS.bitScan;
  return d.finish(op.toUpperCase(), `${op} ${regName(size, dst)}, ${src}`);
}

function bswap(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const r = d.reg(32, true);
  d.regs[r] = rng.u32();
  if (rng.bool(0.1)) {
    // "When the BSWAP instruction references a 16-bit register, the result is undefined."
    // The upper half must survive, so only the low 16 bits are masked.
    d.undefinedRegBits[r] = 0xffff;
    return d.finish('BSWAP', `db 0x66, 0x0f, ${hex(0xc8 + r)} ; bswap ${regName(16, r)}`);
  }
  return d.finish('BSWAP', `bswap ${regName(32, r)}`);
}

export const BITS_FAMILIES = ['BT', 'BTS', 'BTR', 'BTC', 'BSF', 'BSR', 'BSWAP'];

export function genBits(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) {
    for (const op of BT_OPS) out.push(bitTest(rng, op));
    out.push(bitScan(rng, 'bsf'), bitScan(rng, 'bsr'), bswap(rng));
  }
  return out;
}
