/**
 * Page faults at the end of the data region, which is followed by a read-only page and then
 * an inaccessible one: loads, stores and read-modify-write operands that straddle the
 * boundary (nothing may be written), REP string instructions that run into it (the
 * registers must show exactly the completed iterations), stack operations, and x87/MMX
 * stores (the x87 must not pop or change state when its store faults). CR2 and the error
 * code are compared.
 */
import { DF } from '../../../emulator-core/cpu/constants.js';
import { EAX, EBP, ECX, EDI, ESI, ESP, type DiffCase } from '../case.js';
import { DATA_BASE, GUARD_PAGE, RO_PAGE } from '../layout.js';
import { AT_FAULT, X87_UNDEFINED } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft, hex, PTR, regName, SIZES } from './draft.js';

/** An address within `size` bytes before `boundary` (or right at it), so an access may straddle it. */
function near(rng: Rng, boundary: number, size: number): number {
  return boundary - rng.int(size + 2) + (rng.bool(0.2) ? rng.int(8) : 0);
}

function loadStore(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const size = rng.pick(SIZES);
  const bytes = size / 8;
  const target = rng.pick([RO_PAGE, RO_PAGE, GUARD_PAGE]);
  const addr = near(rng, target, bytes);
  const kind = rng.int(5);
  const r = d.reg(size, true);
  const base = d.reg(32);
  d.regs[base] = addr;
  const mem = `${PTR[size]} [${regName(32, base)}]`;
  let asm: string;
  if (kind === 0) asm = `mov ${regName(size, r)}, ${mem}`;
  else if (kind === 1) asm = `mov ${mem}, ${regName(size, r)}`;
  else if (kind === 2) asm = `${rng.pick(['add', 'sub', 'xor', 'adc'])} ${mem}, ${regName(size, r)}`;
  else if (kind === 3) asm = `${rng.pick(['inc', 'neg', 'not'])} ${mem}`;
  else asm = size === 8 ? `xchg ${mem}, ${regName(size, r)}` : `${rng.pick(['xadd', 'cmpxchg', 'xchg'])} ${mem}, ${regName(size, r)}`;
  d.expect = 'any';
  return d.finish('#PF load/store', asm);
}

function stringRun(rng: Rng): DiffCase {
  const d = new Draft(rng);
  for (const r of [EAX, ECX, ESI, EDI]) d.claim(r);
  const size = rng.pick([1, 2, 4] as const);
  const op = rng.pick(['movs', 'stos', 'lods', 'cmps', 'scas'] as const);
  const suffix = size === 1 ? 'b' : size === 2 ? 'w' : 'd';
  const count = 1 + rng.int(40);
  const target = rng.pick([RO_PAGE, GUARD_PAGE]);
  // The running pointer crosses into the target page after a few elements, possibly with an
  // element that straddles the boundary.
  const distance = rng.bool(0.3) ? 0x200 + rng.int(0x800) : size * rng.int(count + 1);
  const start = target - distance - (rng.bool(0.3) ? rng.int(size) : 0);
  const other = DATA_BASE + 0x200 + rng.int(0x100);
  d.eflags &= ~DF;
  // Sometimes a count far larger than the distance: the run always ends at the fault, after
  // Terrarium's bulk copy/fill paths and its restartable slices have done most of it.
  d.regs[ECX] = rng.bool(0.3) ? rng.pick([0x10000, 0x7fffffff, 0xffffffff]) : count;
  const writesDst = op === 'movs' || op === 'stos';
  // Either the destination (EDI) or the source (ESI) runs into the page.
  const srcRuns = op === 'lods' || (op !== 'stos' && op !== 'scas' && !writesDst && rng.bool()) || (op === 'movs' && rng.bool(0.3));
  d.regs[ESI] = srcRuns ? start : other;
  d.regs[EDI] = srcRuns ? other + 0x400 : start;
  // Equal data so REPE compares keep going.
  d.regs[EAX] = 0;
  const prefix = op === 'cmps' || op === 'scas' ? rng.pick(['repe ', 'repne ']) : 'rep ';
  if (prefix !== 'rep ') d.onFault = { undefinedFlags: AT_FAULT.repCompareFlags };
  d.expect = 'any';
  return d.finish('#PF string', `${prefix}${op}${suffix}`);
}

function stack(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.claim(ESP);
  const kind = rng.int(6);
  // Pushes write below ESP: start just above the read-only page's start... which is above the
  // data region, so a push into it faults; pops read from the guard page.
  d.regs[ESP] = RO_PAGE + rng.pick([0, 1, 2, 4, 8, 0x20]);
  let asm: string;
  if (kind === 0) asm = rng.pick(['push eax', 'push word 5', 'pushfd', 'pushad', 'push dword [0x500000]']);
  else if (kind === 1) asm = 'call .f\n.f:';
  else if (kind === 2) {
    // Nesting levels above 1 copy frame pointers from [EBP-4...]: keep those in the data region.
    d.regs[EBP] = DATA_BASE + 0x1900;
    asm = `enter ${hex(rng.int(16))}, ${rng.int(3)}`;
  }
  else if (kind === 3) {
    d.regs[ESP] = GUARD_PAGE - rng.pick([0, 2, 4, 8]);
    asm = rng.pick(['pop eax', 'popad', 'popfd', 'ret', 'pop dword [0x500100]']);
  } else if (kind === 4) {
    // PUSHA that starts in the data region and ends below... stays inside: no fault, for contrast.
    d.regs[ESP] = DATA_BASE + 0x1800;
    asm = 'pushad\npopad';
  } else asm = `push eax\npush ecx`;
  d.expect = 'any';
  return d.finish('#PF stack', asm);
}

function fpuStore(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const k = rng.int(7);
  const sizes: Record<string, number> = { 'fstp tword': 10, 'fstp qword': 8, 'fst dword': 4, 'fistp qword': 8, 'fbstp tword': 10, 'fist word': 2 };
  const base = d.reg(32);
  let asm: string;
  if (k < 5) {
    const store = rng.pick(Object.keys(sizes));
    d.regs[base] = near(rng, rng.pick([RO_PAGE, GUARD_PAGE]), sizes[store]);
    asm = `fld1\nfldpi\n${store} [${regName(32, base)}]`;
    if (sizes[store] === 10) d.onFault = { undefinedMem: [[d.regs[base] - DATA_BASE, 10]] };
  } else if (k === 5) {
    d.regs[base] = near(rng, rng.pick([RO_PAGE, GUARD_PAGE]), 108);
    asm = `fld1\nfldpi\n${rng.pick(['fnsave', 'fnstenv'])} [${regName(32, base)}]`;
    d.onFault = { undefinedMem: [[d.regs[base] - DATA_BASE, 108]], cr2: true };
    // FCS, FOP, FDP, FDS: deprecated on recent CPUs (see the FSTENV/FSAVE family in x87.ts).
    d.undefinedMem.push([d.regs[base] - DATA_BASE + 16, 12]);
  } else {
    d.regs[base] = near(rng, GUARD_PAGE, 10);
    asm = `fld1\n${rng.pick(['fld tword', 'fld qword', 'fild qword', 'fbld tword'])} [${regName(32, base)}]`;
  }
  d.expect = 'any';
  d.fpu = { statusUndefined: X87_UNDEFINED.arith };
  return d.finish('#PF x87/MMX', asm);
}

function mmxStore(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const base = d.reg(32);
  d.regs[base] = near(rng, rng.pick([RO_PAGE, GUARD_PAGE]), 8);
  const r = rng.int(8);
  const asm = rng.bool() ? `movq mm${r}, [${hex(DATA_BASE + 0x40)}]\nmovq [${regName(32, base)}], mm${r}` : `movq mm${r}, [${regName(32, base)}]`;
  d.expect = 'any';
  d.fpu = { statusUndefined: X87_UNDEFINED.mmx };
  return d.finish('#PF x87/MMX', asm);
}

export const PAGEFAULT_FAMILIES = ['#PF load/store', '#PF string', '#PF stack', '#PF x87/MMX'];

export function genPageFaults(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) out.push(loadStore(rng), stringRun(rng), stack(rng), rng.bool() ? fpuStore(rng) : mmxStore(rng));
  return out;
}
