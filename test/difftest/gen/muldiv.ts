/** MUL, IMUL (one, two and three operands), DIV and IDIV, including #DE. */
import { EAX, EDX, type DiffCase } from '../case.js';
import { UNDEFINED_FLAGS } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft, PTR, regName, signed, SIZES, type Size } from './draft.js';

/** A source operand: register (any, including the implicit ones) or memory. */
function source(d: Draft, size: Size, value: number, avoid: number[] = []): { text: string; reg: number | null } {
  if (d.rng.bool(0.6)) {
    let r = d.reg(size, true);
    for (let i = 0; i < 20 && avoid.includes(size === 8 ? r & 3 : r); i++) r = d.reg(size, true);
    if (avoid.includes(size === 8 ? r & 3 : r)) {
      const off = d.slot(size / 8);
      d.poke(off, value, size / 8);
      return { text: `${PTR[size]} ${d.memRef(off)}`, reg: null };
    }
    d.setReg(size, r, value);
    return { text: regName(size, r), reg: r };
  }
  const off = d.slot(size / 8);
  d.poke(off, value, size / 8);
  return { text: `${PTR[size]} ${d.memRef(off)}`, reg: null };
}

function mulOne(rng: Rng, signedMul: boolean): DiffCase {
  const d = new Draft(rng);
  const size = rng.pick(SIZES);
  d.setReg(size, EAX, rng.operand(size));
  if (rng.bool(0.15)) {
    // Multiply the accumulator by itself (or by DX/AH), where source and destination alias.
    const r = rng.pick(size === 8 ? [0, 4] : [EAX, EDX]);
    d.claim(EAX);
    d.claim(EDX);
    const mnemonic = signedMul ? 'imul' : 'mul';
    d.undefinedFlags = UNDEFINED_FLAGS.mul;
    return d.finish(mnemonic.toUpperCase(), `${mnemonic} ${regName(size, r)}`);
  }
  d.claim(EAX);
  if (size !== 8) d.claim(EDX);
  const src = source(d, size, rng.operand(size));
  const mnemonic = signedMul ? 'imul' : 'mul';
  d.undefinedFlags = UNDEFINED_FLAGS.mul;
  return d.finish(mnemonic.toUpperCase(), `${mnemonic} ${src.text}`);
}

function imulMulti(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const size: Size = rng.pick([16, 32] as const);
  const dst = d.reg(size, true);
  d.setReg(size, dst, rng.operand(size));
  const src = source(d, size, rng.operand(size));
  let asm: string;
  if (rng.bool(0.4)) {
    asm = `imul ${regName(size, dst)}, ${src.text}`;
  } else {
    // 6B (imm8, sign-extended) or 69 (full immediate)
    const imm = rng.bool() ? rng.int(256) - 128 : signed(rng.operand(size), size);
    const strict = imm >= -128 && imm < 128 && rng.bool(0.3) ? `strict ${PTR[size]} ` : '';
    asm = `imul ${regName(size, dst)}, ${src.text}, ${strict}${imm}`;
  }
  d.undefinedFlags = UNDEFINED_FLAGS.mul;
  return d.finish('IMUL', asm);
}

function div(rng: Rng, signedDiv: boolean): DiffCase {
  const d = new Draft(rng);
  const size = rng.pick(SIZES);
  const bits = BigInt(size);
  const mask = (1n << bits) - 1n;
  d.claim(EAX);
  if (size !== 8) d.claim(EDX);
  // Usually build a dividend whose quotient fits; sometimes anything (mostly #DE).
  let divisor = BigInt(rng.operand(size));
  if (divisor === 0n && rng.bool(0.7)) divisor = 1n;
  let dividend: bigint;
  if (rng.bool(0.8)) {
    const sd = signedDiv ? BigInt.asIntN(size, divisor) : divisor;
    const qmax = signedDiv ? (1n << (bits - 1n)) - 1n : mask;
    let q = BigInt(rng.operand(size)) & qmax;
    if (signedDiv && rng.bool()) q = -q;
    const absD = sd < 0n ? -sd : sd;
    let r = absD === 0n ? 0n : BigInt(rng.u32()) % absD;
    if (signedDiv && q * sd < 0n) r = -r;
    dividend = q * sd + r;
  } else {
    dividend = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
  }
  dividend = BigInt.asUintN(size * 2, dividend);
  // The dividend: AX (8-bit), DX:AX or EDX:EAX.
  if (size === 8) d.setReg(16, EAX, Number(dividend));
  else {
    d.setReg(size, EAX, Number(dividend & mask));
    d.setReg(size, EDX, Number(dividend >> bits));
  }
  const src = source(d, size, Number(divisor));
  const mnemonic = signedDiv ? 'idiv' : 'div';
  // Predict #DE from the final register values (the source may alias the dividend).
  const regs = d.regs;
  const n = size === 8 ? BigInt(regs[EAX] & 0xffff) : size === 16 ? (BigInt(regs[EDX] & 0xffff) << 16n) | BigInt(regs[EAX] & 0xffff) : (BigInt(regs[EDX]) << 32n) | BigInt(regs[EAX]);
  let dv = divisor;
  if (src.reg !== null) {
    const r = src.reg;
    dv = size === 8 ? BigInt((r < 4 ? regs[r] : regs[r - 4] >>> 8) & 0xff) : BigInt((regs[r] & Number(mask)) >>> 0);
  }
  let fault: boolean;
  if (dv === 0n) fault = true;
  else if (!signedDiv) fault = n / dv > mask;
  else {
    const q = BigInt.asIntN(size * 2, n) / BigInt.asIntN(size, dv);
    fault = q > (1n << (bits - 1n)) - 1n || q < -(1n << (bits - 1n));
  }
  d.expect = fault ? 0 : null;
  d.undefinedFlags = UNDEFINED_FLAGS.div;
  return d.finish(mnemonic.toUpperCase(), `${mnemonic} ${src.text}`);
}

export const MULDIV_FAMILIES = ['MUL', 'IMUL', 'DIV', 'IDIV'];

export function genMulDiv(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) {
    out.push(mulOne(rng, false), rng.bool() ? mulOne(rng, true) : imulMulti(rng), div(rng, false), div(rng, true));
  }
  return out;
}

