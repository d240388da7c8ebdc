/**
 * What the SSE unit needs from the integer CPU, implemented once per mode: legacy
 * (sse/legacy-host.ts: 16/32-bit code, segmented 32-bit linear addresses) and 64-bit
 * (long/sse-host64.ts: 64-bit linear addresses, REX-extended registers). The unit itself
 * never knows which mode runs, so every SSE instruction is written once.
 *
 * Memory methods address the current instruction's memory operand, whose address the host
 * resolved in `begin()`; `at` is a byte offset into the register file's buffer (a slot's
 * first byte, or its upper half) and sizes are 1, 2, 4, 8 or 16 bytes. Reads have no side
 * effects, so an instruction reads everything, checks its stores with memCheckWrite, and
 * only then changes state: a fault restarts it cleanly.
 */
import type { DecodedInsn } from '../decoder/decoded-insn.js';

export interface SseHost {
  /** Resolve the memory operand of `d` (if it has one) before the instruction runs. */
  begin(d: DecodedInsn): void;
  /** Read `n` bytes at the operand address + `disp` into `u8[at..]`. */
  memRead(u8: Uint8Array, at: number, n: number, disp?: number): void;
  /** Resolve the operand as DS:rDI instead (or the override's segment; the address size picks DI/EDI/RDI): MASKMOVDQU, MASKMOVQ. */
  beginDi(d: DecodedInsn): void;
  /** Fault now unless `n` bytes at the operand address + `disp` are writable. */
  memCheckWrite(n: number, disp?: number): void;
  /** Write `u8[at..at+n)` at the operand address + `disp`. */
  memWrite(u8: Uint8Array, at: number, n: number, disp?: number): void;
  /** The low 32 bits of the operand's linear address (alignment checks). */
  memLow(): number;
  /** General register `r` (0-15): its low 32 bits. */
  gpr(r: number): number;
  /** General register `r`: bits 63:32 (0 outside 64-bit mode). */
  gprHi(r: number): number;
  /** Write general register `r` with a 32-bit (zero-extending in 64-bit mode) or 64-bit value. */
  setGpr(r: number, size: 4 | 8, lo: number, hi: number): void;
  /** Replace OF, SF, ZF, AF, PF and CF with the bits of `flags` (COMISS, PTEST, PCMPxSTRx). */
  setArithFlags(flags: number): void;
  readonly cr0: number;
  readonly cr4: number;
  /** True in 64-bit mode (instructions whose operand forms differ there). */
  readonly long: boolean;
  raise(vector: number, code?: number): never;
  undefinedOpcode(): never;
}
