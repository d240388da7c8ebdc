/**
 * x87 instruction sequences through the whole CPU path (decode, effective address, memory,
 * FNSTSW AX, FCOMI's EFLAGS, FCMOVcc's conditions, #MF on the next waiting instruction):
 * set a control word (all rounding modes and precisions, sometimes unmasked exceptions),
 * load operands in every format, run the instruction under test, and compare the whole x87
 * state (FNSAVE image: control, status, tags, every valid register bit for bit), memory,
 * AX and EFLAGS. Transcendentals are left to fpu-oracle.test.ts, which allows them one ulp.
 */
import { EAX, type DiffCase } from '../case.js';
import { DATA_BASE } from '../layout.js';
import { C0, C1, C2, C3, X87_UNDEFINED } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft, hex } from './draft.js';
import { bcdBytes, extBytes, extValue, ieeeValue, intValue } from './x87-values.js';

const CC_ALL = C0 | C1 | C2 | C3;

/** Layout of the patch window for x87 cases (offsets from the window start). */
const CW_AT = 0;
const LOAD_AT = 8; // three 16-byte load slots
const MEM_AT = 56; // the memory operand of the instruction under test
const STORE_AT = 72; // stores land here (left as seeded data, so every byte written shows)
const ENV_AT = 128; // FNSTENV/FNSAVE images (up to 108 bytes)

interface X87Ctx {
  d: Draft;
  rng: Rng;
  /** Data-region address of a window offset. */
  at(off: number): string;
  /** How many values the case loaded (the stack depth before the instruction under test). */
  depth: number;
}

interface X87Op {
  family: string;
  /** Assembly of the instruction(s) under test; returns the status bits left undefined. */
  emit(x: X87Ctx): { asm: string; undefinedCc: number };
}

function st(x: X87Ctx): number {
  // Usually a loaded register, sometimes an empty one (stack underflow).
  return x.rng.bool(0.85) && x.depth > 0 ? x.rng.int(x.depth) : x.rng.int(8);
}

/** Put a value of a random memory format at `off`; returns its nasm size keyword and kind. */
function memOperand(x: X87Ctx, off: number, kinds: readonly ('m32fp' | 'm64fp' | 'm80fp' | 'm16int' | 'm32int' | 'm64int' | 'm80bcd')[]): string {
  const k = x.rng.pick(kinds);
  const d = x.d;
  switch (k) {
    case 'm32fp':
      d.poke(off, ieeeValue(x.rng, 32), 4);
      return 'dword';
    case 'm64fp':
      d.poke(off, ieeeValue(x.rng, 64), 8);
      return 'qword';
    case 'm80fp':
      d.pokeBytes(off, extBytes(extValue(x.rng)));
      return 'tword';
    case 'm16int':
      d.poke(off, intValue(x.rng, 16), 2);
      return 'word';
    case 'm32int':
      d.poke(off, intValue(x.rng, 32), 4);
      return 'dword';
    case 'm64int':
      d.poke(off, intValue(x.rng, 64), 8);
      return 'qword';
    default:
      d.pokeBytes(off, bcdBytes(x.rng));
      return 'tword';
  }
}

function loadInstruction(x: X87Ctx, slot: number): string {
  const off = x.d.window + LOAD_AT + slot * 16;
  const k = x.rng.int(10);
  if (k < 4) {
    const size = memOperand(x, off, ['m80fp', 'm80fp', 'm64fp', 'm32fp']);
    return `fld ${size} ${x.at(off)}`;
  }
  if (k < 6) {
    const size = memOperand(x, off, ['m16int', 'm32int', 'm64int']);
    return `fild ${size} ${x.at(off)}`;
  }
  if (k < 7) {
    memOperand(x, off, ['m80bcd']);
    return `fbld tword ${x.at(off)}`;
  }
  if (k < 8) return x.rng.pick(['fld1', 'fldz', 'fldpi', 'fldl2e', 'fldl2t', 'fldlg2', 'fldln2']);
  // Copy of a register already loaded (or an empty one).
  return x.depth > 0 ? `fld st${x.rng.int(x.depth)}` : 'fldz';
}

const ARITH = ['fadd', 'fsub', 'fsubr', 'fmul', 'fdiv', 'fdivr'] as const;

function arithOp(m: (typeof ARITH)[number]): X87Op {
  return {
    family: m.toUpperCase(),
    emit(x) {
      const form = x.rng.int(5);
      const i = st(x);
      const off = x.d.window + MEM_AT;
      let asm: string;
      if (form === 0) asm = `${m} st0, st${i}`;
      else if (form === 1) asm = `${m} st${i}, st0`;
      else if (form === 2) asm = `${m}p st${i}, st0`;
      else if (form === 3) asm = `${m} ${memOperand(x, off, ['m32fp', 'm64fp'])} ${x.d.memRef(off)}`;
      else asm = `fi${m.slice(1)} ${memOperand(x, off, ['m16int', 'm32int'])} ${x.d.memRef(off)}`;
      return { asm, undefinedCc: X87_UNDEFINED.arith };
    },
  };
}

const OPS: X87Op[] = [
  ...ARITH.map(arithOp),
  {
    family: 'FLD/FST',
    emit(x) {
      const off = x.d.window + STORE_AT;
      const k = x.rng.int(8);
      const i = st(x);
      const asm =
        k === 0
          ? `fst ${x.rng.pick(['dword', 'qword'])} ${x.d.memRef(off)}`
          : k === 1
            ? `fstp ${x.rng.pick(['dword', 'qword', 'tword'])} ${x.d.memRef(off)}`
            : k === 2
              ? `${x.rng.pick(['fst', 'fstp'])} st${i}`
              : k === 3
                ? `fxch st${i}`
                : k === 4
                  ? `${x.rng.pick(['fincstp', 'fdecstp'])}`
                  : k === 5
                    ? `ffree st${i}`
                    : k === 6
                      ? `fld st${i}`
                      : 'fnop';
      return { asm, undefinedCc: k === 5 ? CC_ALL : X87_UNDEFINED.arith };
    },
  },
  {
    family: 'FILD/FIST',
    emit(x) {
      const off = x.d.window + STORE_AT;
      const op = x.rng.pick(['fist', 'fistp', 'fistp', 'fild']);
      if (op === 'fild') return { asm: `fild ${memOperand(x, x.d.window + MEM_AT, ['m16int', 'm32int', 'm64int'])} ${x.d.memRef(x.d.window + MEM_AT)}`, undefinedCc: X87_UNDEFINED.arith };
      const size = op === 'fist' ? x.rng.pick(['word', 'dword']) : x.rng.pick(['word', 'dword', 'qword']);
      return { asm: `${op} ${size} ${x.d.memRef(off)}`, undefinedCc: X87_UNDEFINED.arith };
    },
  },
  {
    family: 'FBLD/FBSTP',
    emit(x) {
      if (x.rng.bool(0.3)) {
        memOperand(x, x.d.window + MEM_AT, ['m80bcd']);
        return { asm: `fbld tword ${x.d.memRef(x.d.window + MEM_AT)}`, undefinedCc: X87_UNDEFINED.arith };
      }
      return { asm: `fbstp tword ${x.d.memRef(x.d.window + STORE_AT)}`, undefinedCc: X87_UNDEFINED.arith };
    },
  },
  {
    family: 'FSQRT/FABS/FCHS/FRNDINT',
    emit: (x) => ({ asm: x.rng.pick(['fsqrt', 'fabs', 'fchs', 'frndint']), undefinedCc: X87_UNDEFINED.arith }),
  },
  {
    family: 'FSCALE/FXTRACT',
    emit: (x) => ({ asm: x.rng.pick(['fscale', 'fxtract']), undefinedCc: X87_UNDEFINED.arith }),
  },
  {
    family: 'FPREM/FPREM1',
    emit: (x) => ({ asm: x.rng.pick(['fprem', 'fprem1']), undefinedCc: X87_UNDEFINED.prem }),
  },
  {
    family: 'FCOM/FUCOM/FTST',
    emit(x) {
      const i = st(x);
      const off = x.d.window + MEM_AT;
      const k = x.rng.int(7);
      const asm =
        k === 0
          ? `${x.rng.pick(['fcom', 'fcomp', 'fucom', 'fucomp'])} st${i}`
          : k === 1
            ? `${x.rng.pick(['fcompp', 'fucompp'])}`
            : k === 2
              ? `${x.rng.pick(['fcom', 'fcomp'])} ${memOperand(x, off, ['m32fp', 'm64fp'])} ${x.d.memRef(off)}`
              : k === 3
                ? `${x.rng.pick(['ficom', 'ficomp'])} ${memOperand(x, off, ['m16int', 'm32int'])} ${x.d.memRef(off)}`
                : k === 4
                  ? 'ftst'
                  : `${x.rng.pick(['fcom', 'fucom'])} st${i}\nfnstsw ax\nsahf\nsetbe bl`;
      return { asm, undefinedCc: X87_UNDEFINED.compare };
    },
  },
  {
    family: 'FCOMI/FUCOMI',
    emit: (x) => ({ asm: `${x.rng.pick(['fcomi', 'fcomip', 'fucomi', 'fucomip'])} st0, st${st(x)}`, undefinedCc: X87_UNDEFINED.comi }),
  },
  {
    family: 'FXAM',
    emit: () => ({ asm: 'fxam', undefinedCc: X87_UNDEFINED.fxam }),
  },
  {
    family: 'FCMOVcc',
    emit(x) {
      // EFLAGS come from POPFD (random) or from a compare just before.
      const cc = x.rng.pick(['b', 'e', 'be', 'u', 'nb', 'ne', 'nbe', 'nu']);
      const pre = x.rng.bool(0.3) ? `fcomi st0, st${st(x)}\n` : '';
      return { asm: `${pre}fcmov${cc} st0, st${st(x)}`, undefinedCc: X87_UNDEFINED.arith };
    },
  },
  {
    family: 'FLDCW/FSTSW/FSTCW/FCLEX',
    emit(x) {
      const off = x.d.window + STORE_AT;
      const k = x.rng.int(5);
      if (k === 0) return { asm: `fnstcw ${x.d.memRef(off)}`, undefinedCc: X87_UNDEFINED.control };
      // FXAM first, so the stored condition bits are defined.
      if (k === 1) return { asm: `fxam\nfnstsw ${x.d.memRef(off)}`, undefinedCc: X87_UNDEFINED.control };
      if (k === 2) return { asm: 'fnclex', undefinedCc: X87_UNDEFINED.control };
      if (k === 3) return { asm: 'fninit', undefinedCc: 0 };
      // Constants under the current rounding mode.
      return { asm: x.rng.pick(['fldl2t', 'fldl2e', 'fldpi', 'fldlg2', 'fldln2']), undefinedCc: X87_UNDEFINED.arith };
    },
  },
  {
    family: 'x87 aliases',
    emit(x) {
      // Undocumented encodings Intel CPUs execute: FSTP1 (D9 D8+i), FXCH4 (DD C8+i),
      // FXCH7 (DF C8+i), FCOM2 (DC D0+i), FCOMP3 (DC D8+i), FCOMP5 (DE D0+i), FSTP8/9
      // (DF D0+i, DF D8+i), FFREEP (DF C0+i).
      const i = st(x);
      const [bytes, name, cc] = x.rng.pick([
        [[0xd9, 0xd8 + i], `fstp1 st${i}`, X87_UNDEFINED.arith],
        [[0xdd, 0xc8 + i], `fxch4 st${i}`, X87_UNDEFINED.arith],
        [[0xdf, 0xc8 + i], `fxch7 st${i}`, X87_UNDEFINED.arith],
        [[0xdc, 0xd0 + i], `fcom2 st${i}`, X87_UNDEFINED.compare],
        [[0xdc, 0xd8 + i], `fcomp3 st${i}`, X87_UNDEFINED.compare],
        [[0xde, 0xd0 + i], `fcomp5 st${i}`, X87_UNDEFINED.compare],
        [[0xdf, 0xd0 + i], `fstp8 st${i}`, X87_UNDEFINED.arith],
        [[0xdf, 0xd8 + i], `fstp9 st${i}`, X87_UNDEFINED.arith],
        [[0xdf, 0xc0 + i], `ffreep st${i}`, CC_ALL],
      ] as const);
      return { asm: `db ${bytes.map(hex).join(', ')} ; ${name}`, undefinedCc: cc };
    },
  },
  {
    family: 'FSTENV/FSAVE',
    emit(x) {
      const off = x.d.window + ENV_AT;
      // Bytes 16-27 (FCS, FOP, FDP, FDS) hold what recent CPUs deprecate: FCS/FDS are
      // stored as 0, FOP/FDP updated only on unmasked exceptions. FIP (12-15) is compared.
      // FXAM first, so the condition bits in the image are defined.
      const k = x.rng.int(4);
      if (k === 0) {
        x.d.undefinedMem.push([off + 16, 12]);
        return { asm: `fxam\nfnstenv ${x.d.memRef(off)}`, undefinedCc: X87_UNDEFINED.control };
      }
      if (k === 1) {
        x.d.undefinedMem.push([off + 16, 12]);
        return { asm: `fxam\nfnsave ${x.d.memRef(off)}`, undefinedCc: 0 };
      }
      // FLDENV/FRSTOR of an image the case just saved, after changing the stack; sometimes
      // in the 16-bit protected-mode formats (14-byte environment, 94-byte save area),
      // whose pointer fields (bytes 6-13: FIP, FCS, FDP, FDS) are masked instead.
      const save = k === 2 ? 'fnstenv' : 'fnsave';
      const load = k === 2 ? 'fldenv' : 'frstor';
      const o16 = x.rng.bool(0.4) ? 'o16 ' : '';
      x.d.undefinedMem.push(o16 === '' ? [off + 16, 12] : [off + 8, 6]);
      return { asm: `fxam\n${o16}${save} [${hex(DATA_BASE + off)}]\nfld1\nfldpi\n${o16}${load} [${hex(DATA_BASE + off)}]`, undefinedCc: 0 };
    },
  },
];

export const X87_FAMILIES = OPS.map((o) => o.family);

function controlWord(rng: Rng): number {
  const masks = rng.bool(0.8) ? 0x3f : rng.int(64);
  const pc = rng.pick([0, 2, 3, 3]);
  const rc = rng.int(4);
  const ic = rng.bool(0.1) ? 0x1000 : 0;
  return 0x40 | masks | (pc << 8) | (rc << 10) | ic;
}

function x87Case(rng: Rng, op: X87Op): DiffCase {
  const d = new Draft(rng);
  d.claim(EAX);
  const x: X87Ctx = { d, rng, at: (off) => `[${hex(DATA_BASE + off)}]`, depth: 0 };
  const lines: string[] = [];
  const cw = controlWord(rng);
  if (cw !== 0x37f || rng.bool(0.5)) {
    d.poke(d.window + CW_AT, cw, 2);
    lines.push(`fldcw [${hex(DATA_BASE + d.window + CW_AT)}]`);
  }
  const loads = rng.pick([0, 1, 2, 2, 2, 3, 3, 3]);
  for (let i = 0; i < loads; i++) {
    lines.push(loadInstruction(x, i));
    x.depth++;
  }
  if (rng.bool(0.05)) {
    // Stack overflow: more pushes than registers.
    for (let i = 0; i < 7; i++) lines.push('fld1');
    x.depth = 8;
  }
  const { asm, undefinedCc } = op.emit(x);
  lines.push(asm);
  let swUndefined = undefinedCc;
  if (rng.bool(0.4)) {
    lines.push('fnstsw ax');
    d.undefinedRegBits[EAX] = undefinedCc;
    swUndefined |= X87_UNDEFINED.control;
  }
  const unmasked = (cw & 0x3f) !== 0x3f;
  if (unmasked) {
    d.expect = 'any';
    // A waiting instruction raises #MF for a pending unmasked exception.
    if (rng.bool(0.5)) lines.push(rng.pick(['fwait', 'fld1', 'fnop']));
  }
  d.fpu = { statusUndefined: swUndefined };
  return d.finish(op.family, lines.join('\n'));
}

export function genX87(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) for (const op of OPS) out.push(x87Case(rng, op));
  return out;
}
