/**
 * Prefix handling: the operand-size prefix on near branches (EIP is truncated to 16 bits,
 * so the CPU fetches from a low, unmapped address), stacks of redundant prefixes, segment
 * overrides on instructions without a memory operand, and prefix combinations on memory
 * forms.
 */
import { ECX, ESP, type DiffCase } from '../case.js';
import { DATA_BASE, STACK_TOP } from '../layout.js';
import { shiftUndefined, UNDEFINED_FLAGS } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft, hex } from './draft.js';

function truncatedBranch(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.claim(ESP);
  d.claim(ECX);
  d.regs[ESP] = STACK_TOP;
  d.regs[ECX] = rng.pick([1, 2, 0x10001]);
  const asm = rng.pick([
    'db 0x66, 0xeb, 0x00 ; o16 jmp short $+3',
    'db 0x66, 0xe9, 0x00, 0x00 ; o16 jmp near $+4',
    'db 0x66, 0xe8, 0x00, 0x00 ; o16 call $+4',
    'db 0x66, 0x74, 0x00 ; o16 je short $+3',
    'db 0x66, 0x0f, 0x85, 0x00, 0x00 ; o16 jne near $+5',
    'db 0x66, 0xe2, 0x00 ; o16 loop $+3',
    'push dword 0x00401234\ndb 0x66, 0xc3 ; o16 ret (pops 16 bits)',
    `mov ecx, .t\ndb 0x66, 0xff, 0xe1 ; o16 jmp cx\n.t:`,
  ]);
  d.expect = 'any';
  return d.finish('prefixes', asm);
}

function redundant(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const off = d.slot(4);
  d.poke(off, rng.u32(), 4);
  const addr = DATA_BASE + off;
  d.regs[0] = addr; // EAX addresses the operand
  const prefixes = Array.from({ length: 1 + rng.int(4) }, () => rng.pick([0x66, 0x66, 0x3e, 0x26, 0x2e, 0x36, 0x67]));
  // 0x67 would make [eax] a 16-bit [bx+si] form: keep the address size 32-bit.
  const list = prefixes.filter((p) => p !== 0x67);
  // [bytes, writes memory, undefined flags]
  const [body, writes, undef] = rng.pick([
    [[0x01, 0x00], true, 0], // add [eax], eax
    [[0x29, 0x18], true, 0], // sub [eax], ebx
    [[0xf7, 0x10], true, 0], // not [eax]
    [[0xd1, 0x20], true, shiftUndefined('shl', 1, 32)], // shl [eax], 1
    [[0x0f, 0xc1, 0x08], true, 0], // xadd [eax], ecx
    [[0x87, 0x10], true, 0], // xchg [eax], edx
    [[0x40], false, 0], // inc eax (a segment override is ignored)
    [[0x90], false, 0], // nop
    [[0x0f, 0xaf, 0x18], false, UNDEFINED_FLAGS.mul], // imul ebx, [eax]
  ] as const);
  if (rng.bool(0.2) && (body[0] === 0x01 || body[0] === 0x29 || body[0] === 0xf7 || body[0] === 0x87)) list.unshift(0xf0);
  const bytes = [...list, ...body];
  const o16 = list.includes(0x66);
  d.undefinedFlags = undef;
  // The last segment prefix wins; CS is not writable, so a write through it is #GP(0).
  const seg = list.filter((p) => p === 0x26 || p === 0x2e || p === 0x36 || p === 0x3e).pop();
  if (seg === 0x2e && writes) {
    d.expect = 13;
    d.knownBugs = ['segmentWritable'];
  }
  return d.finish('prefixes', `db ${bytes.map(hex).join(', ')} ; prefixes ${list.map(hex).join(' ')}${o16 ? ' (16-bit operand)' : ''}`);
}

export const PREFIX_FAMILIES = ['prefixes'];

export function genPrefixes(rng: Rng, count: number): DiffCase[] {
  return Array.from({ length: count }, () => (rng.bool(0.4) ? truncatedBranch(rng) : redundant(rng)));
}
