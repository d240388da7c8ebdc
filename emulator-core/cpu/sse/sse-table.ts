/**
 * Which SSE handler runs for an opcode and mandatory prefix. Keys are the opcode table's
 * layout (decoder/opcode-table.ts): `(map << 10) | (pp << 8) | byte`, map 1-3 for 0F,
 * 0F 38 and 0F 3A, pp 0 none, 1 66, 2 F3, 3 F2. The family modules (moves.ts, ...) define
 * their instructions here at load; the interpreter's 0F tables and the 64-bit executor
 * route an opcode to the unit when `sseOpcodeRouted` says some prefix form of it is SSE.
 */
import type { DecodedInsn } from '../decoder/decoded-insn.js';
import type { SseHost } from './sse-host.js';
import type { SseUnit } from './sse-unit.js';

export type SseHandler = (u: SseUnit, d: DecodedInsn, h: SseHost) => void;

/** The instruction does not need CR4.OSFXSR, and CR0.EM/TS do not apply (fences, CRC32, POPCNT, MOVNTI). */
export const SSE_UNGATED = 1;

export const SSE_HANDLERS: (SseHandler | undefined)[] = new Array<SseHandler | undefined>(4 << 10).fill(undefined);
export const SSE_FLAGS = new Uint8Array(4 << 10);
/** Per decoded opcode (DecodedInsn.op, 0x100-0x3ff): 1 when any prefix form is an SSE handler's. */
const ROUTED = new Uint8Array(0x400);

const PP: Record<string, number> = { '-': 0, '6': 1, '3': 2, '2': 3 };

/** The table key of a decoded instruction. */
export function sseKey(d: DecodedInsn): number {
  return ((d.op >> 8) << 10) | (d.pp << 8) | (d.op & 0xff);
}

/**
 * Define `handler` for opcode `op` of `map` (1 0F, 2 0F 38, 3 0F 3A) under each mandatory
 * prefix letter in `pps` ('-' none, '6' 66, '3' F3, '2' F2).
 */
export function defineSse(map: number, pps: string, op: number, handler: SseHandler, flags = 0): void {
  for (const ch of pps) {
    const pp = PP[ch];
    if (pp === undefined) throw new Error(`defineSse: bad prefix letter ${ch}`);
    const key = (map << 10) | (pp << 8) | op;
    if (SSE_HANDLERS[key] !== undefined) throw new Error(`defineSse: ${key.toString(16)} defined twice`);
    SSE_HANDLERS[key] = handler;
    SSE_FLAGS[key] = flags;
  }
  ROUTED[(map << 8) | op] = 1;
}

/** Whether decoded opcode `op` (0x100-0x3ff) has an SSE form under some prefix. */
export function sseOpcodeRouted(op: number): boolean {
  return ROUTED[op] === 1;
}
