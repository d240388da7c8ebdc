/**
 * Exceptions a user process can raise, with the faulting (or, for traps, following)
 * instruction's address and the registers at that point: #DE, #UD (UD0/UD1/UD2, unused
 * opcodes, invalid ModRM forms, LOCK misuse), #GP (privileged and I/O instructions at CPL 3,
 * INT n through a DPL 0 gate, instructions longer than 15 bytes), #BR (BOUND), #OF (INTO),
 * #BP (INT3) and #DB (INT1). A few instructions run first, so a fault must not undo them.
 */
import { OF } from '../../../emulator-core/cpu/constants.js';
import { EAX, ECX, EDX, ESP, type DiffCase } from '../case.js';
import { STACK_TOP } from '../layout.js';
import type { Rng } from '../prng.js';
import { Draft, hex } from './draft.js';

interface Spec {
  family: string;
  asm: string;
  vector: number | null;
}


const UD = 6;
const GP = 13;

/** Instructions that raise #UD on every x86 CPU in 32-bit mode (and do not on none). */
const UNDEFINED: string[] = [
  'ud2',
  'db 0x0f, 0xb9, 0xc0 ; ud1 eax, eax',
  'db 0x0f, 0xff, 0xc0 ; ud0 eax, eax',
  'db 0x0f, 0x04',
  'db 0x0f, 0x0a',
  'db 0x0f, 0x36',
  'db 0x0f, 0x39',
  'db 0x0f, 0xa6, 0xc0',
  'db 0x0f, 0xa7, 0xc0',
  'db 0xfe, 0xd0 ; fe /2 does not exist',
  'db 0xfe, 0xf8 ; fe /7',
  'db 0xff, 0xf8 ; ff /7',
  'db 0xff, 0xd8 ; call far with a register operand',
  'db 0xff, 0xe8 ; jmp far with a register operand',
  'db 0x8d, 0xc0 ; lea with a register operand',
  'db 0x8e, 0xc8 ; mov cs, ax',
  'db 0x8e, 0xf0 ; mov to segment register 6',
  'db 0x8c, 0xf8 ; mov from segment register 7',
  'db 0xc6, 0x08, 0x00 ; c6 /1',
  'db 0xc7, 0x10, 0, 0, 0, 0 ; c7 /2',
  'db 0x0f, 0xc7, 0xc8 ; cmpxchg8b with a register operand',
  'db 0x0f, 0xc7, 0x00 ; 0f c7 /0',
  'db 0xf0, 0x01, 0xc0 ; lock add eax, eax (register destination)',
  'db 0xf0, 0x89, 0x00 ; lock mov [eax], eax',
  'db 0xf0, 0x90 ; lock nop',
  'db 0xf0, 0x0f, 0xa3, 0x00 ; lock bt [eax], eax',
  'db 0xf0, 0x3b, 0x00 ; lock cmp eax, [eax]',
];

/** Privileged or I/O instructions: #GP(0) at CPL 3 with IOPL 0. */
const PRIVILEGED: string[] = [
  'cli',
  'sti',
  'hlt',
  'in al, dx',
  'in eax, 0x80',
  'out dx, al',
  'out 0x80, ax',
  'insb',
  'outsd',
  'rep insb',
  'mov eax, cr0',
  'mov cr0, eax',
  'mov ecx, cr3',
  'mov cr4, ebx',
  'mov eax, dr7',
  'mov dr0, eax',
  'lgdt [0x500000]',
  'lidt [0x500000]',
  'lldt ax',
  'ltr ax',
  'lmsw ax',
  'clts',
  'invd',
  'wbinvd',
  'invlpg [0x500000]',
  'rdmsr',
  'wrmsr',
];

/** One case of the table-driven kinds (k = 0..4: #UD, privileged, INT n, INT3/INT1, length). */
function spec(rng: Rng, k: number): Spec {
  if (k === 0) return { family: '#UD', asm: rng.pick(UNDEFINED), vector: UD };
  if (k === 1) return { family: '#GP privileged', asm: rng.pick(PRIVILEGED), vector: GP };
  if (k === 2) {
    // INT n: only 3, 4 and 0x80 have DPL 3 gates under Linux; the rest raise #GP(n*8+2).
    const n = rng.pick([0, 1, 2, 5, 6, 8, 13, 14, 0x20, 0x21, 0x2e, 0x7f, 0x81, 0xff]);
    return { family: 'INT n', asm: `int ${hex(n)}`, vector: GP };
  }
  if (k === 3) return rng.bool() ? { family: 'INT3/INT1', asm: rng.pick(['int3', 'db 0xcd, 0x03 ; int 3']), vector: 3 } : { family: 'INT3/INT1', asm: 'db 0xf1 ; int1 (icebp)', vector: 1 };
  // Instruction length limit: 15 bytes is fine, 16 raise #GP(0).
  const n = rng.pick([14, 15]);
  const prefix = rng.pick(['0x66', '0x3e', '0x26']);
  return { family: 'length limit', asm: `times ${n} db ${prefix}\nnop`, vector: n === 15 ? GP : null };
}

function bound(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const size = rng.pick([16, 32] as const);
  const idx = d.reg(size);
  const off = d.slot(8, 4);
  const lo = rng.operand(size);
  const hi = rng.operand(size);
  const sx = (v: number): number => (size === 32 ? v | 0 : (v << 16) >> 16);
  const v = rng.pick([lo, hi, rng.operand(size), (lo + 1) >>> 0, (hi - 1) >>> 0]);
  d.poke(off, lo, size / 8);
  d.poke(off + size / 8, hi, size / 8);
  d.setReg(size, idx, v);
  d.expect = sx(v) < sx(lo) || sx(v) > sx(hi) ? 5 : null;
  const r = size === 32 ? ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'][idx] : ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'][idx];
  return d.finish('#BR BOUND', `bound ${r}, [${hex(0x500000 + off)}]`);
}

function into(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const of = rng.bool();
  d.eflags = (d.eflags & ~OF) | (of ? OF : 0);
  d.expect = of ? 4 : null;
  return d.finish('#OF INTO', 'into');
}

function divide(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.claim(EAX);
  d.claim(EDX);
  const r = d.reg(32);
  const kind = rng.int(3);
  if (kind === 0) {
    d.regs[r] = 0;
    d.expect = 0;
    return d.finish('#DE', `div ${['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'][r]}`);
  }
  if (kind === 1) {
    // The most negative dividend divided by -1 overflows the quotient.
    d.regs[EDX] = 0x80000000;
    d.regs[EAX] = 0;
    d.regs[r] = 0xffffffff;
    d.expect = 0;
    return d.finish('#DE', `idiv ${['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'][r]}`);
  }
  d.expect = 0;
  return d.finish('#DE', 'aam 0');
}

/** A short prologue of ordinary instructions that the fault must not undo. */
function prologue(d: Draft): string {
  const rng = d.rng;
  const parts: string[] = [];
  if (rng.bool(0.5)) parts.push('push eax');
  if (rng.bool(0.5)) parts.push('inc ecx');
  if (rng.bool(0.3)) parts.push('add edx, 0x1234');
  return parts.length > 0 ? parts.join('\n') + '\n' : '';
}

export const EXCEPTION_FAMILIES = ['#UD', '#GP privileged', 'INT n', 'INT3/INT1', 'length limit', '#BR BOUND', '#OF INTO', '#DE'];

export function genExceptions(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) {
    out.push(bound(rng), into(rng), divide(rng));
    for (let k = 0; k < 5; k++) {
      const s = spec(rng, k);
      const d = new Draft(rng);
      d.claim(ESP);
      d.regs[ESP] = STACK_TOP;
      d.claim(ECX);
      // Register operands of I/O and privileged instructions point into the data region.
      d.regs[EAX] = 0x500010;
      d.expect = s.vector;
      out.push(d.finish(s.family, prologue(d) + s.asm));
    }
  }
  return out;
}
