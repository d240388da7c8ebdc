/**
 * Chains of flag-writing and flag-reading instructions. The CPU computes flags lazily (and
 * the JIT folds conditions from operands it knows): partial writers (INC/DEC keep CF, BT
 * writes CF only, rotates CF/OF, BSF ZF, shifts by a masked count of 0 nothing at all,
 * SAHF/POPFD everything) interleaved with readers (ADC/SBB, RCL/RCR, CMC, SETcc, CMOVcc,
 * Jcc, LAHF, PUSHFD) exercise every way the lazy state is materialized. Undefined flags are
 * tracked along the chain: a reader only reads defined flags, and the final comparison
 * masks what is still undefined.
 */
import { AF, CF, OF, PF, SF, ZF } from '../../../emulator-core/cpu/constants.js';
import { EAX, ECX, type DiffCase } from '../case.js';
import { DATA_BASE, STACK_TOP } from '../layout.js';
import { doubleShiftUndefined, rotateUndefined, shiftUndefined, UNDEFINED_FLAGS } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft, hex, regName, type Size } from './draft.js';

const ALL = CF | PF | AF | ZF | SF | OF;
const CC: [string, number][] = [
  ['o', OF],
  ['no', OF],
  ['b', CF],
  ['ae', CF],
  ['e', ZF],
  ['ne', ZF],
  ['be', CF | ZF],
  ['a', CF | ZF],
  ['s', SF],
  ['ns', SF],
  ['p', PF],
  ['np', PF],
  ['l', SF | OF],
  ['ge', SF | OF],
  ['le', ZF | SF | OF],
  ['g', ZF | SF | OF],
];
/**
 * Operand registers: EAX is kept for LAHF/SAHF, ECX for shift counts, EBP receives PUSHFD
 * images (which may hold undefined bits, so nothing reads it afterwards).
 */
const OPERANDS = [2, 3, 6, 7];

interface Chain {
  d: Draft;
  rng: Rng;
  lines: string[];
  /** Flags currently undefined. */
  undef: number;
}

function size(x: Chain): Size {
  return x.rng.pick([8, 16, 32, 32] as const);
}

/** A register operand valid for `size` (8-bit: DL or BL only). */
function reg(x: Chain, s: Size): string {
  if (s === 8) return x.rng.pick(['dl', 'bl', 'dh', 'bh']);
  return regName(s, x.rng.pick(OPERANDS));
}

function imm(x: Chain, s: Size): string {
  return hex(x.rng.operand(s));
}

/** Add one instruction to the chain, keeping track of which flags are defined. */
function step(x: Chain): void {
  const rng = x.rng;
  const k = rng.int(26);
  const s = size(x);
  const write = (mask: number, undef: number): void => {
    x.undef = (x.undef & ~mask) | undef;
  };
  const readable = (mask: number): boolean => (x.undef & mask) === 0;
  switch (k) {
    case 0:
    case 1: {
      const op = rng.pick(['add', 'sub', 'cmp', 'and', 'or', 'xor', 'test']);
      x.lines.push(`${op} ${reg(x, s)}, ${rng.bool() ? reg(x, s) : imm(x, s)}`);
      write(ALL, op === 'and' || op === 'or' || op === 'xor' || op === 'test' ? UNDEFINED_FLAGS.logic : 0);
      return;
    }
    case 2: {
      if (!readable(CF)) return step(x);
      x.lines.push(`${rng.pick(['adc', 'sbb'])} ${reg(x, s)}, ${rng.bool() ? reg(x, s) : imm(x, s)}`);
      write(ALL, 0);
      return;
    }
    case 3:
      x.lines.push(`${rng.pick(['inc', 'dec', 'neg'])} ${reg(x, s)}`);
      return x.lines[x.lines.length - 1].startsWith('neg') ? write(ALL, 0) : write(ALL & ~CF, 0);
    case 4: {
      // Shifts by an immediate or CL, including counts that mask to 0 (no flag changes).
      const op = rng.pick(['shl', 'shr', 'sar'] as const);
      const n = rng.pick([0, 1, 2, 7, 8, 31, 32, 33, rng.int(40)]);
      if (rng.bool()) x.lines.push(`mov cl, ${hex(n)}`, `${op} ${reg(x, s)}, cl`);
      else x.lines.push(`${op} ${reg(x, s)}, ${n === 1 ? 'strict byte 1' : hex(n)}`);
      if ((n & 31) !== 0) write(ALL, shiftUndefined(op, n, s));
      return;
    }
    case 5: {
      const op = rng.pick(['rol', 'ror', 'rcl', 'rcr']);
      if ((op === 'rcl' || op === 'rcr') && !readable(CF)) return step(x);
      const n = rng.pick([0, 1, 2, 9, 17, 32, 33, rng.int(40)]);
      x.lines.push(`mov cl, ${hex(n)}`, `${op} ${reg(x, s)}, cl`);
      if ((n & 31) !== 0) write(CF | OF, rotateUndefined(n));
      return;
    }
    case 6: {
      const s16: Size = rng.pick([16, 32] as const);
      x.lines.push(`${rng.pick(['bt', 'bts', 'btr', 'btc'])} ${reg(x, s16)}, ${hex(rng.int(64))}`);
      write(CF | UNDEFINED_FLAGS.bitTest, UNDEFINED_FLAGS.bitTest);
      return;
    }
    case 7: {
      const s16: Size = rng.pick([16, 32] as const);
      x.lines.push(`${rng.pick(['bsf', 'bsr'])} ${reg(x, s16)}, ${reg(x, s16)}`);
      write(ALL, UNDEFINED_FLAGS.bitScan);
      return;
    }
    case 8: {
      const op = rng.pick(['clc', 'stc', 'cmc']);
      if (op === 'cmc' && !readable(CF)) return step(x);
      x.lines.push(op);
      write(CF, 0);
      return;
    }
    case 9:
      // AH may hold flags LAHF copied while undefined.
      x.lines.push('sahf');
      write(SF | ZF | AF | PF | CF, ((x.d.undefinedRegBits[EAX] ?? 0) >> 8) & (SF | ZF | AF | PF | CF));
      return;
    case 10: {
      // LAHF copies SF ZF AF PF CF into AH: the undefined ones make AH bits undefined.
      x.lines.push('lahf');
      const bits = x.undef & (SF | ZF | AF | PF | CF);
      x.d.undefinedRegBits[EAX] = ((x.d.undefinedRegBits[EAX] ?? 0) & ~0xff00) | (bits << 8);
      return;
    }
    case 11: {
      const s16: Size = rng.pick([16, 32] as const);
      x.lines.push(`imul ${reg(x, s16)}, ${reg(x, s16)}, ${hex(rng.int(256) - 128 & 0xff)}`);
      write(ALL, UNDEFINED_FLAGS.mul);
      return;
    }
    case 12:
    case 13:
    case 14: {
      // A reader of one condition, only if its flags are defined.
      const usable = CC.filter(([, m]) => readable(m));
      if (usable.length === 0) return step(x);
      const [cc] = rng.pick(usable);
      const form = rng.int(3);
      if (form === 0) x.lines.push(`set${cc} ${rng.pick(['dl', 'bl', 'dh', 'bh'])}`);
      else if (form === 1) x.lines.push(`cmov${cc} ${reg(x, 32)}, ${reg(x, 32)}`);
      else {
        const label = `.j${x.lines.length}`;
        x.lines.push(`j${cc} ${label}`, `xor ${reg(x, 32)}, 0x5a5a5a5a`, `${label}:`);
        // Taken keeps the flags; not taken, the XOR leaves AF undefined.
        x.undef |= UNDEFINED_FLAGS.logic;
      }
      return;
    }
    case 15: {
      // PUSHFD reads every flag; popping it into a register makes the undefined ones undefined bits.
      x.lines.push('pushfd', 'pop ebp');
      x.d.undefinedRegBits[5] = x.undef;
      // The image stays below ESP too; EBP carries its defined bits.
      if (x.undef !== 0) x.d.undefinedMem.push([STACK_TOP - 4 - DATA_BASE, 4]);
      return;
    }
    case 16:
      // POPFD of a known value defines every arithmetic flag (and DF).
      x.lines.push(`push dword ${hex(0x202 | (rng.u32() & (ALL | 0x400)))}`, 'popfd');
      write(ALL, 0);
      return;
    // Instructions that leave the flags alone, between writers and readers (and, for the
    // JIT, longer blocks mixing register, memory and stack operations).
    case 17:
      x.lines.push(rng.bool() ? `mov ${reg(x, s)}, ${imm(x, s)}` : `mov ${reg(x, s)}, ${reg(x, s)}`);
      return;
    case 18: {
      const [from, to] = rng.pick([[8, 16], [8, 32], [16, 32]] as const);
      x.lines.push(`${rng.pick(['movzx', 'movsx'])} ${reg(x, to)}, ${reg(x, from)}`);
      return;
    }
    case 19:
      x.lines.push(`lea ${reg(x, 32)}, [${reg(x, 32)}+${reg(x, 32)}*${rng.pick([1, 2, 4, 8])}+${hex(rng.int(0x1000))}]`);
      return;
    case 20:
      x.lines.push(rng.pick([`xchg ${reg(x, s)}, ${reg(x, s)}`, `bswap ${reg(x, 32)}`, `not ${reg(x, s)}`, `push ${reg(x, 32)}\npop ${reg(x, 32)}`]));
      return;
    case 21:
    case 22: {
      // Memory operands in the patch window (absolute addresses: the registers keep changing).
      const off = x.d.window + rng.int(252);
      const mem = `${s === 8 ? 'byte' : s === 16 ? 'word' : 'dword'} [${hex(DATA_BASE + off)}]`;
      const op = rng.pick(['mov', 'movr', 'add', 'sub', 'and', 'xor', 'cmp', 'inc', 'neg']);
      if (op === 'mov') x.lines.push(`mov ${mem}, ${reg(x, s)}`);
      else if (op === 'movr') x.lines.push(`mov ${reg(x, s)}, ${mem}`);
      else if (op === 'inc' || op === 'neg') {
        x.lines.push(`${op} ${mem}`);
        write(op === 'inc' ? ALL & ~CF : ALL, 0);
      } else {
        x.lines.push(rng.bool() ? `${op} ${mem}, ${reg(x, s)}` : `${op} ${reg(x, s)}, ${mem}`);
        write(ALL, op === 'and' || op === 'xor' ? UNDEFINED_FLAGS.logic : 0);
      }
      return;
    }
    case 23:
      // MUL reads EAX (AH may hold undefined flags from LAHF) and writes EDX:EAX.
      if ((x.d.undefinedRegBits[EAX] ?? 0) !== 0) return step(x);
      x.lines.push(`${rng.pick(['mul', 'imul'])} ${reg(x, 32)}`);
      x.d.undefinedRegBits[EAX] = 0;
      write(ALL, UNDEFINED_FLAGS.mul);
      return;
    case 24:
      // DIV that cannot fault: EDX cleared, divisor made odd (non-zero).
      if ((x.d.undefinedRegBits[EAX] ?? 0) !== 0) return step(x);
      x.lines.push('xor edx, edx', 'or ebx, 1', 'div ebx');
      x.d.undefinedRegBits[EAX] = 0;
      write(ALL, UNDEFINED_FLAGS.div);
      return;
    default: {
      // SHLD/SHRD by CL.
      const s16: Size = rng.pick([16, 32] as const);
      const n = rng.pick([0, 1, 4, s16 - 1, rng.int(s16 + 1)]);
      x.lines.push(`mov cl, ${hex(n)}`, `${rng.pick(['shld', 'shrd'])} ${reg(x, s16)}, ${reg(x, s16)}, cl`);
      if ((n & 31) !== 0) write(ALL, doubleShiftUndefined(n, s16));
    }
  }
}

function chain(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.claim(EAX);
  d.claim(ECX);
  d.claim(5);
  const x: Chain = { d, rng, lines: [], undef: 0 };
  const n = 2 + rng.int(12);
  for (let i = 0; i < n; i++) step(x);
  d.undefinedFlags = x.undef;
  return d.finish('flag chains', x.lines.join('\n'));
}

export const FLAGCHAIN_FAMILIES = ['flag chains'];

export function genFlagChains(rng: Rng, count: number): DiffCase[] {
  return Array.from({ length: count }, () => chain(rng));
}

