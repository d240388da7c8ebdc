/**
 * Assembles a batch of cases with one nasm run. The blob starts with a table of
 * (entry, end) addresses that nasm itself fills in, so no listing has to be parsed; each
 * case ends with `jmp [EXIT_SLOT]`, which only the native harness executes (Terrarium stops
 * at the case's end address).
 */
import type { DiffCase } from './case.js';
import { CODE_BASE, CODE_MAX, EXIT_SLOT } from './layout.js';
import { assemble } from '../support/nasm.js';

export interface AssembledBatch {
  code: Uint8Array;
  /** Per case: absolute address of its first instruction and of its trailer. */
  entries: { entry: number; end: number }[];
}

export function assembleBatch(cases: readonly DiffCase[]): AssembledBatch {
  const lines: string[] = [];
  lines.push('table:');
  cases.forEach((_, i) => lines.push(`dd c${i}, c${i}_end`));
  cases.forEach((c, i) => {
    lines.push('align 16');
    lines.push(`c${i}: ; ${c.family}`);
    lines.push(c.asm);
    lines.push(`c${i}_end:`);
    // FS is the one segment register cases leave flat (see harness.c).
    lines.push(`jmp dword [fs:${EXIT_SLOT}]`);
  });
  let code: Uint8Array;
  try {
    code = assemble(lines.join('\n'), 32, CODE_BASE);
  } catch (e) {
    // Point at the case nasm rejected: a generator bug, not a CPU bug.
    const msg = e instanceof Error && 'stderr' in e ? String((e as { stderr: unknown }).stderr) : String(e);
    // nasm numbers lines from the two-line header assemble() prepends.
    const context = [...msg.matchAll(/:(\d+): error/g)]
      .slice(0, 5)
      .map((m) => `  line ${m[1]}: ${lines[Number(m[1]) - 3] ?? '?'}`)
      .join('\n');
    throw new Error(`nasm rejected a generated batch (a generator bug):\n${msg.slice(0, 2000)}\n${context}`, { cause: e });
  }
  if (code.length > CODE_MAX) throw new Error(`batch too large: ${code.length} bytes`);
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  const entries = cases.map((_, i) => ({ entry: view.getUint32(i * 8, true), end: view.getUint32(i * 8 + 4, true) }));
  return { code, entries };
}
