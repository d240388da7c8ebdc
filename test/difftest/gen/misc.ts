/**
 * Data movement and flag-consuming instructions: SETcc, CMOVcc, Jcc (after CMP, so the
 * CPU's compare fast path is exercised as well as flags loaded by POPFD), LOOP family,
 * XCHG, XADD, CMPXCHG, CMPXCHG8B, MOVZX, MOVSX, LEA (32- and 16-bit addressing), CBW CWDE
 * CWD CDQ, LAHF SAHF, CLC STC CMC, XLAT, SALC.
 */
import { EAX, EBX, ECX, EDX, type DiffCase } from '../case.js';
import { DATA_BASE } from '../layout.js';
import { UNDEFINED_FLAGS } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft, hex, PTR, regName, SIZES, type Size } from './draft.js';

const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const;

/** Optionally precede with a CMP/SUB/other flag-setting op, so conditions come from lazy flags. */
function flagSetter(d: Draft, allowLogic = true): string {
  const rng = d.rng;
  const kind = rng.int(allowLogic ? 4 : 3);
  if (kind === 0) return ''; // flags straight from POPFD
  const size = rng.pick(SIZES);
  const a = d.reg(size, true);
  const b = d.reg(size, true);
  const va = rng.operand(size);
  d.setReg(size, a, va);
  d.setReg(size, b, rng.bool(0.2) ? va : rng.operand(size));
  const op = kind === 1 ? 'cmp' : kind === 2 ? rng.pick(['sub', 'sbb', 'add', 'adc']) : rng.pick(['and', 'xor', 'inc', 'dec', 'neg', 'test']);
  if (op === 'inc' || op === 'dec' || op === 'neg') return `${op} ${regName(size, a)}\n`;
  return `${op} ${regName(size, a)}, ${regName(size, b)}\n`;
}

function setcc(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const pre = flagSetter(d);
  const cc = rng.pick(CC);
  let dst: string;
  if (rng.bool()) dst = regName(8, d.reg(8, true));
  else dst = `byte ${d.memRef(d.slot(1))}`;
  d.undefinedFlags = UNDEFINED_FLAGS.logic; // AF after a logic pre-op; the rest are defined
  return d.finish('SETcc', `${pre}set${cc} ${dst}`);
}

function cmovcc(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const pre = flagSetter(d);
  const size: Size = rng.pick([16, 32] as const);
  const cc = rng.pick(CC);
  const dst = d.reg(size, true);
  let src: string;
  if (rng.bool()) {
    const r = d.reg(size, true);
    src = regName(size, r);
  } else {
    const off = d.slot(size / 8);
    d.poke(off, rng.u32(), size / 8);
    src = `${PTR[size]} ${d.memRef(off)}`;
  }
  d.undefinedFlags = UNDEFINED_FLAGS.logic;
  return d.finish('CMOVcc', `${pre}cmov${cc} ${regName(size, dst)}, ${src}`);
}

function jcc(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const pre = flagSetter(d);
  const cc = rng.pick(CC);
  const r = d.reg(32, true);
  const near = rng.bool(0.3) ? 'near ' : 'short ';
  d.undefinedFlags = UNDEFINED_FLAGS.logic;
  // The marker register shows whether the branch was taken.
  return d.finish('Jcc', `${pre}mov ${regName(32, r)}, 1\nj${cc} ${near}.t\nmov ${regName(32, r)}, 2\n.t:`);
}

function loop(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.claim(ECX);
  d.regs[ECX] = rng.pick([0, 1, 2, 3, 0xffffffff, 0x10000, 0x10001, rng.int(8)]);
  const r = d.reg(32);
  d.regs[r] = 0;
  const kind = rng.pick(['loop', 'loope', 'loopne', 'jecxz', 'jcxz'] as const);
  if (kind === 'jecxz' || kind === 'jcxz') {
    return d.finish('LOOP', `mov ${regName(32, r)}, 1\n${kind} .t\nmov ${regName(32, r)}, 2\n.t:`);
  }
  // A bounded loop whose CMP sets ZF, so LOOPE/LOOPNE exit on ZF or on (E)CX.
  const x = d.reg(32);
  d.regs[x] = rng.int(6);
  const a16 = rng.bool(0.2) ? 'a16 ' : '';
  const rn = regName(32, r);
  return d.finish('LOOP', `.l: inc ${rn}\ncmp ${rn}, 6\njae .t\ncmp ${rn}, ${regName(32, x)}\n${a16}${kind} .l\n.t:`);
}

function xchgFamily(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const op = rng.pick(['xchg', 'xadd', 'cmpxchg'] as const);
  const size = rng.pick(SIZES);
  const src = d.reg(size, true);
  d.setReg(size, src, rng.operand(size));
  const v = rng.operand(size);
  if (op === 'cmpxchg') {
    d.claim(EAX);
    d.setReg(size, EAX, rng.bool() ? v : rng.operand(size));
  }
  let dst: string;
  if (rng.bool()) {
    const r = d.reg(size, true);
    d.setReg(size, r, v);
    dst = regName(size, r);
    if (op === 'xchg' && size !== 8 && rng.bool(0.3)) {
      // The one-byte 90+r form (with the accumulator).
      d.claim(EAX);
      return d.finish('XCHG', `xchg ${regName(size, EAX)}, ${dst}`);
    }
  } else {
    const off = d.slot(size / 8);
    d.poke(off, v, size / 8);
    dst = `${PTR[size]} ${d.memRef(off)}`;
  }
  d.undefinedFlags = UNDEFINED_FLAGS.arith;
  const lock = dst.includes('[') && rng.bool(0.2) ? 'lock ' : '';
  return d.finish(op.toUpperCase(), `${lock}${op} ${dst}, ${regName(size, src)}`);
}

function cmpxchg8b(rng: Rng): DiffCase {
  const d = new Draft(rng);
  for (const r of [EAX, EBX, ECX, EDX]) d.claim(r);
  const off = d.slot(8);
  const lo = rng.operand(32);
  const hi = rng.operand(32);
  d.poke(off, lo, 4);
  d.poke(off + 4, hi, 4);
  if (rng.bool()) {
    d.regs[EAX] = lo;
    d.regs[EDX] = rng.bool(0.8) ? hi : rng.u32();
  }
  return d.finish('CMPXCHG8B', `${rng.bool(0.2) ? 'lock ' : ''}cmpxchg8b ${d.memRef(off)}`);
}

function movx(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const op = rng.pick(['movzx', 'movsx'] as const);
  const [from, to] = rng.pick([
    [8, 16],
    [8, 32],
    [16, 32],
  ] as const);
  const dst = d.reg(to, true);
  const v = rng.operand(from);
  let src: string;
  if (rng.bool()) {
    const r = d.reg(from, true);
    d.setReg(from, r, v);
    src = regName(from, r);
  } else {
    const off = d.slot(from / 8);
    d.poke(off, v, from / 8);
    src = `${PTR[from]} ${d.memRef(off)}`;
  }
  return d.finish(op.toUpperCase(), `${op} ${regName(to, dst)}, ${src}`);
}

function lea(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const osize: Size = rng.pick([16, 32] as const);
  const dst = d.reg(osize, true);
  const disp = rng.pick([0, 1, -1, 0x7f, -0x80, 0x1234, -0x8000, 0x7fff, rng.u32() | 0]);
  let addr: string;
  if (rng.bool(0.35)) {
    // 16-bit addressing (0x67): BX/BP + SI/DI + disp, wrapping at 64 KiB
    const base = rng.pick(['bx', 'bp', '']);
    const index = rng.pick(['si', 'di', '']);
    const parts = [base, index].filter((p) => p !== '');
    const disp16 = ((disp % 0x8000) + 0x8000) % 0x10000;
    if (parts.length === 0 || rng.bool()) parts.push(hex(disp16));
    addr = parts.join('+');
  } else {
    const base = rng.bool(0.9) ? regName(32, rng.int(8)) : '';
    const index = rng.bool(0.6) ? regName(32, rng.pick([0, 1, 2, 3, 5, 6, 7])) : '';
    const scale = rng.pick([1, 2, 4, 8]);
    const parts: string[] = [];
    if (base !== '') parts.push(base);
    if (index !== '') parts.push(`${index}*${scale}`);
    if (disp !== 0 || parts.length === 0) parts.push(disp < 0 ? `-${hex(-disp)}` : hex(disp));
    addr = parts.join('+').replace('+-', '-');
  }
  return d.finish('LEA', `lea ${regName(osize, dst)}, [${addr}]`);
}

function convert(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.regs[EAX] = rng.reg(rng.pick([8, 16, 32] as const));
  return d.finish('CBW/CWD', rng.pick(['cbw', 'cwde', 'cwd', 'cdq']));
}

function flagOps(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.regs[EAX] = rng.u32();
  // No logic pre-op: its undefined AF would reach AH through LAHF.
  const pre = flagSetter(d, false);
  const seq = Array.from({ length: 1 + rng.int(3) }, () => rng.pick(['lahf', 'sahf', 'clc', 'stc', 'cmc', 'cld', 'std']));
  return d.finish('LAHF/SAHF/CLC/STC/CMC', pre + seq.join('\n'));
}

function xlat(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.claim(EAX);
  d.claim(EBX);
  const table = d.window;
  for (let i = 0; i < 256; i += 4) d.poke(table + i, rng.u32(), 4);
  d.regs[EBX] = DATA_BASE + table;
  return d.finish('XLAT/SALC', rng.bool() ? 'xlatb' : 'db 0xd6 ; salc');
}

export const MISC_FAMILIES = ['SETcc', 'CMOVcc', 'Jcc', 'LOOP', 'XCHG', 'XADD', 'CMPXCHG', 'CMPXCHG8B', 'MOVZX', 'MOVSX', 'LEA', 'CBW/CWD', 'LAHF/SAHF/CLC/STC/CMC', 'XLAT/SALC'];

export function genMisc(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) {
    out.push(setcc(rng), cmovcc(rng), jcc(rng), loop(rng), xchgFamily(rng), xchgFamily(rng), xchgFamily(rng), cmpxchg8b(rng));
    out.push(movx(rng), movx(rng), lea(rng), convert(rng), flagOps(rng), xlat(rng));
  }
  return out;
}
