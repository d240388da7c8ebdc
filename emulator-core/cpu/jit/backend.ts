/**
 * The interface between the JIT core (jit.ts: hotness, region discovery, code cache, SMC
 * invalidation, the dispatch loop) and a code generator. The core decodes a region's blocks
 * and hands them over; the backend returns one runnable function for the whole region.
 */
import type { Cpu } from '../cpu.js';
import type { DecodedInsn } from '../decoder/decoded-insn.js';
import type { BlockMode } from './codegen.js';

/**
 * A compiled region: runs from block `pc` (a linear address, one of the region's block
 * starts) and returns the number of instructions executed, with `c.ip` at the next one.
 * A fault leaves the Cpu at the faulting instruction (registers, flags, `instrStart`).
 */
export type RegionFn = ((c: Cpu, pc: number) => number) & {
  /** The region's slot in the backend's dispatch table (backends with dispatch()). */
  readonly slot?: number;
};

/** One basic block of a region, decoded. */
export interface RegionBlock {
  /** Linear address of the first instruction. */
  readonly start: number;
  /** The instructions, in order (each with `lin` set). */
  readonly insns: readonly DecodedInsn[];
  /** Linear address after the last instruction. */
  readonly next: number;
  /** The last instruction ends the block itself (backend.endsBlock); else it falls through to `next`. */
  readonly ended: boolean;
}

export interface Region {
  /** The hot block the region was built from. */
  readonly entry: number;
  /** Every block, the entry first. */
  readonly blocks: readonly RegionBlock[];
  /** Facts about the CPU mode the region was decoded under (valid only under the same modeKey). */
  readonly mode: BlockMode;
  /** Instructions a region may run before it returns to the dispatcher (interrupts, timers). */
  readonly runLimit: number;
  /** 64-bit code: block addresses are RIP's low halves, all with this high half (one page). Absent for 16/32-bit code. */
  readonly hi?: number;
}

export interface JitBackend {
  readonly name: 'js' | 'wasm';
  /** A block ends after `d` (it transfers control, or the backend cannot continue past it). */
  endsBlock(d: DecodedInsn): boolean;
  /** Compile a region; throws on a code generator bug (the core then interprets it). */
  compile(region: Region): RegionFn;
  /**
   * Compile a region with the engine's work off the calling thread (the region is decoded
   * and emitted now, so later writes to its page are the caller's to notice); rejects on a
   * code generator bug. Absent: only compile().
   */
  compileAsync?(region: Region): Promise<RegionFn>;
  /**
   * Run compiled regions from the current address, one after another, for up to `budget`
   * instructions, through the cache the core keeps in the state block (DISPATCH32/64, slots
   * from RegionFn.slot); returns the instructions run (0 when the first lookup misses).
   */
  dispatch?(c: Cpu, budget: number, long: boolean): number;
  /** Everything compiled was forgotten (Jit.clear): its table slots are released. */
  forgetSlots?(): void;
  /** The region at `slot` is no longer reachable (its page was written): release it. */
  releaseSlot?(slot: number): void;
  /** Compiling more would exceed what the engine can hold: flush first (Jit.clear). */
  full?(): boolean;
}

/** Linear targets (RIP's low halves in 64-bit code) of a direct branch (relative, 32/64-bit operand size), for region discovery. */
export function directTargets(d: DecodedInsn): number[] {
  const next = (d.lin + d.len) | 0;
  const op = d.op;
  if (d.opSize !== (d.bits === 64 ? 8 : 4)) return [];
  if ((op >= 0x70 && op <= 0x7f) || op === 0xe2) return [(next + ((d.imm << 24) >> 24)) | 0, next];
  if (op >= 0x180 && op <= 0x18f) return [(next + (d.imm | 0)) | 0, next];
  if (op === 0xe8 || op === 0xe9) return [(next + (d.imm | 0)) | 0];
  if (op === 0xeb) return [(next + ((d.imm << 24) >> 24)) | 0];
  return [];
}
