/**
 * The instruction the 64-bit executor is running: decoded from RIP by the interpreters'
 * front end (cpu/insn-fetch.ts, the shared decoder), plus what the executor derives from
 * it (the memory operand's linear address, the high half of the last value read). One per
 * CPU (cpu.lm.insn), reused for every instruction, so the per-instruction path allocates
 * nothing.
 */
import { DecodedInsn } from '../decoder/decoded-insn.js';

export class Insn64 {
  /** The current instruction, cpu.insn (a decode-cache entry: read it, never write it). */
  d = new DecodedInsn();
  /** Linear address (hi:lo) of the memory operand, from computeEa or segAddr. */
  eaLo = 0;
  eaHi = 0;
  /** High half of the last 64-bit value read by getReg, readE or immZ. */
  vh = 0;
}
