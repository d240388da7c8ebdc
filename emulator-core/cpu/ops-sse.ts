/**
 * Routes the SSE forms of 0F, 0F 38 and 0F 3A opcodes to the SSE unit in 16/32-bit code.
 * An opcode some prefix form of which is SSE gets a router in the dispatch tables: when
 * the unit is enabled and the decoded prefix form is one of its instructions it runs
 * there, otherwise the opcode's previous handler runs (MMX, #UD, the integer instruction).
 * Installed after ops-0f.ts, so the previous handlers exist.
 */
import type { Cpu, Instruction } from './cpu.js';
import './ops-0f.js';
import { T16, T32 } from './ops.js';
import './sse/index.js';
import { sseOpcodeRouted } from './sse/sse-table.js';

function route(table: Instruction[], op: number): void {
  const previous = table[op]!;
  table[op] = (c: Cpu) => {
    if (c.sse.handles(c.insn)) c.sse.exec(c.insn, c.sseLegacy);
    else previous(c);
  };
}

for (let op = 0x100; op < 0x400; op++) {
  if (!sseOpcodeRouted(op)) continue;
  route(T16, op);
  route(T32, op);
}
