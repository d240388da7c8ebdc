/**
 * Faults in the middle of a hot loop body: the earlier instructions of the iteration have
 * changed registers and (lazily) flags when a memory access reaches the read-only or absent
 * page, a divisor reaches zero, or a BOUND check fails. The state at the fault must be
 * exactly that of the faulting instruction: for the JIT, inside a compiled block.
 */
import { AF } from '../../../emulator-core/cpu/constants.js';
import { EBX, ECX, EDI, type DiffCase } from '../case.js';
import { DATA_BASE, GUARD_PAGE, RO_PAGE } from '../layout.js';
import type { Rng } from '../prng.js';
import { Draft, hex } from './draft.js';

function hotLoop(rng: Rng): DiffCase {
  const d = new Draft(rng);
  for (const r of [EBX, ECX, EDI]) d.claim(r);
  const iterations = 13 + rng.int(10); // the fault comes after the body is hot
  d.regs[ECX] = 40;
  const kind = rng.int(5);
  // Work before the faulting instruction: registers and lazily computed flags.
  const work = rng.pick(['add eax, ecx\ninc edx\nshl esi, 1', 'sub edx, eax\ncmp esi, edx', 'xor eax, 0x1234\nneg edx\nadc esi, eax', 'imul eax, edx, 3\ndec esi']);
  let fault: string;
  if (kind <= 2) {
    // EBX walks toward a page boundary; the access straddles it or lands on it.
    const size = rng.pick([1, 2, 4]);
    const target = rng.pick([RO_PAGE, GUARD_PAGE]);
    const step = rng.pick([4, 8, 16]);
    d.regs[EBX] = target - iterations * step - rng.int(size);
    const ptr = size === 1 ? 'byte' : size === 2 ? 'word' : 'dword';
    const reg = size === 1 ? 'al' : size === 2 ? 'ax' : 'eax';
    fault = kind === 0 ? `mov ${ptr} [ebx], ${reg}` : kind === 1 ? `add ${reg}, ${ptr} [ebx]` : `add ${ptr} [ebx], ${reg}`;
    fault += `\nadd ebx, ${step}`;
  } else if (kind === 3) {
    // A divisor that reaches zero (#DE), with EDX cleared so nothing else overflows.
    d.regs[EBX] = iterations;
    fault = 'mov edi, edx\nxor edx, edx\ndiv ebx\nmov edx, edi\ndec ebx';
  } else {
    // BOUND against [lower, upper] = [0, iterations - 1] with an index that climbs (#BR).
    d.poke(d.window, 0, 4);
    d.poke(d.window + 4, iterations - 1, 4);
    d.regs[EDI] = 0;
    fault = `bound edi, [${hex(DATA_BASE + d.window)}]\ninc edi`;
  }
  // AF after SHL/IMUL/XOR and the flags after DIV are undefined; the loop's CMP/DEC redefine most.
  d.undefinedFlags = AF;
  d.onFault = { undefinedFlags: kind === 3 ? 0x8d5 : 0 };
  d.expect = 'any';
  return d.finish('faults in hot loops', `.l:\n${work}\n${fault}\nloop .l`);
}

export const HOTFAULT_FAMILIES = ['faults in hot loops'];

export function genHotFaults(rng: Rng, count: number): DiffCase[] {
  return Array.from({ length: count }, () => hotLoop(rng));
}
