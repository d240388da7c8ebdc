/**
 * Self-modifying code: a store that changes an instruction later in the same basic block
 * (the next one, or one a hot loop keeps executing), which the CPU must execute in its new
 * form. The interesting case is the JIT, whose compiled block holds the old bytes; the loop
 * makes the block hot within a single run. Each case first restores the bytes it patches,
 * so repeated runs start from the same code.
 */
import { AF, OF } from '../../../emulator-core/cpu/constants.js';
import { EAX, ECX, type DiffCase } from '../case.js';
import type { Rng } from '../prng.js';
import { Draft, hex } from './draft.js';

function nextInstruction(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.claim(EAX);
  const v = rng.int(256);
  // Patch the immediate of the very next instruction (no jump in between).
  const asm = `mov byte [.n+1], 0x00\nmov byte [.n+1], ${hex(v)}\n.n: mov al, 0x00`;
  return d.finish('self-modifying code', asm);
}

function hotLoop(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.claim(EAX);
  d.claim(ECX);
  const at = 1 + rng.int(20);
  const patch = rng.pick([
    // [restore, patched, description]: an immediate, or an opcode (INC EAX <-> DEC EAX)
    ['mov dword [.p+1], 0x11111111', `mov dword [.p+1], ${hex(rng.u32())}`, 'add eax, strict dword 0x11111111'],
    ['mov byte [.p], 0x40', 'mov byte [.p], 0x48', 'inc eax'],
    ['mov byte [.p+2], 0x01', `mov byte [.p+2], ${hex(rng.int(32))}`, 'shl eax, 1'],
  ] as const);
  const [restore, patched, insn] = patch;
  const body = insn === 'shl eax, 1' ? 'db 0xc1, 0xe0, 0x01 ; shl eax, imm8' : insn;
  // The final flags come from the last SHL (AF undefined; OF too once the count is not 1).
  if (insn === 'shl eax, 1') d.undefinedFlags = AF | OF;
  const asm = `${restore}\nmov ecx, 24\n.l: cmp ecx, ${at}\njne .s\n${patched}\n.s:\n.p: ${body}\nloop .l`;
  return d.finish('self-modifying code', asm);
}

export const SMC_FAMILIES = ['self-modifying code'];

export function genSmc(rng: Rng, count: number): DiffCase[] {
  return Array.from({ length: count }, () => (rng.bool(0.3) ? nextInstruction(rng) : hotLoop(rng)));
}
