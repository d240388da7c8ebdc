/**
 * Where a software CPU's array state lives inside guest memory's WebAssembly.Memory
 * (GuestMemory.claimState): the general registers, segment caches, debug registers, PAE
 * PDPTEs and the TLB. TypeScript sees them through typed-array views (Cpu.r32, Cpu.tlb, ...);
 * generated wasm code reads and writes the same bytes at `stateBase + offset`, taking the
 * offsets from here, never from literals of its own.
 */
import { DEFAULT_STATE_BYTES } from '../memory/guest-memory.js';

/** Entries of each TLB array: one per linear 4 KiB page of the 32-bit address space. */
export const TLB_ENTRIES = 1 << 20;
/** Entries of the direct-mapped long-mode TLB (pages whose linear address is at or above 4 GiB). */
export const TLB64_BITS = 12;
export const TLB64_ENTRIES = 1 << TLB64_BITS;
/** Entries of each region dispatcher cache (a power of two). */
export const DISPATCH_BITS = 14;
export const DISPATCH_ENTRIES = 1 << DISPATCH_BITS;

/** The dispatcher cache slot of a block: (lo ^ hi ^ (lo >>> DISPATCH_BITS)) for 64-bit code (hi 0 otherwise). */
export function dispatchSlot(lo: number, hi: number): number {
  const x = lo ^ hi;
  return (x ^ (x >>> DISPATCH_BITS)) & (DISPATCH_ENTRIES - 1);
}

/** Byte offsets from the CPU's stateBase. */
export const CPU_STATE = {
  /** RAX..R15 low halves, int32 x 16 (r16 and r8 are views over the same bytes). */
  R32: 0,
  /** RAX..R15 high halves, int32 x 16. */
  RH: 64,
  /** Segment selectors ES CS SS DS FS GS LDTR TR, uint16 x 8. */
  SEG_SEL: 128,
  /** Segment bases, int32 x 8. */
  SEG_BASE: 160,
  /** Effective byte limits, int32 x 8. */
  SEG_LIMIT: 192,
  /** Access rights, int32 x 8. */
  SEG_ACCESS: 224,
  /** Non-zero where accesses need a limit or validity check, uint8 x 8. */
  SEG_CHECK: 256,
  /** DR0..DR7, int32 x 8. */
  DR: 288,
  /** PAE PDPTEs (low and high dwords), int32 x 8. */
  PDPTE: 320,
  // Scalar CPU fields exchanged with compiled wasm regions (jit/wasm-backend/scalars.ts): the
  // glue copies the Cpu's fields here before a region runs and back after; a region keeps
  // them in locals and writes them here at exits and before helper calls. int32 each.
  /** Linear address of the next instruction (Cpu.ip). */
  IP: 384,
  /** Materialized EFLAGS bits (Cpu.flags). */
  FLAGS: 388,
  /** Flags that come from the lazy state (Cpu.lazyMask). */
  LAZY_MASK: 392,
  /** Lazy-flags operation kind, K_* (Cpu.lfKind). */
  LF_KIND: 396,
  LF_A: 400,
  LF_B: 404,
  LF_RES: 408,
  LF_SHIFT: 412,
  /** Start of the instruction that may fault (Cpu.instrStart). */
  INSTR_START: 416,
  /** Non-zero: compiled code was invalidated, leave the region (Cpu.smc). */
  SMC: 420,
  /** TLB bits a direct read / write needs at the current CPL (Cpu.readMask, Cpu.writeMask); read only. */
  READ_MASK: 424,
  WRITE_MASK: 428,
  /** High halves, for 64-bit regions: RIP (Cpu.lm.ripHi), the faulting instruction's RIP (lm.instrStartHi), FS and GS bases (lm.fsHi, lm.gsHi; read only). */
  RIP_HI: 432,
  INSTR_START_HI: 436,
  FS_HI: 440,
  GS_HI: 444,
  /** High half of a 64-bit value a 64-bit region's memory helper read (the low half is its return value). */
  VALUE_HI: 448,
  /** Non-zero: the region dispatcher (jit/wasm-backend/dispatcher.ts) must return to the JavaScript loop (set by helpers). */
  STOP: 452,
  /** Instructions the dispatcher has run in this call before the current region (for the clock, read by helpers). */
  SLICE_N: 456,
  /** TLB: backing offset in the high 20 bits, T_* permissions in the low 12 (int32 per page). */
  TLB: 4096,
  /** Physical page of each TLB entry (int32 per page). */
  TLB_PHYS: 4096 + TLB_ENTRIES * 4,
  /** The long-mode TLB for pages above 4 GiB (long/state.ts Tlb64): tags (page number's low and high halves), entries, physical pages; int32 x TLB64_ENTRIES each. */
  TLB64_PAGE_LO: 4096 + TLB_ENTRIES * 8,
  TLB64_PAGE_HI: 4096 + TLB_ENTRIES * 8 + TLB64_ENTRIES * 4,
  TLB64_ENTRY: 4096 + TLB_ENTRIES * 8 + TLB64_ENTRIES * 8,
  TLB64_PHYS: 4096 + TLB_ENTRIES * 8 + TLB64_ENTRIES * 12,
  /**
   * The region dispatcher's caches of compiled blocks, 16-bit/32-bit and 64-bit code:
   * DISPATCH_ENTRIES entries of four int32 (linear address or RIP's low half; the mode key
   * or RIP's high half; the page's TLB entry bits; the region's table slot, 0 for none).
   */
  DISPATCH32: 4096 + TLB_ENTRIES * 8 + TLB64_ENTRIES * 16,
  DISPATCH64: 4096 + TLB_ENTRIES * 8 + TLB64_ENTRIES * 16 + DISPATCH_ENTRIES * 16,
} as const;

/** Bytes of one CPU's state block. */
export const CPU_STATE_BYTES = CPU_STATE.DISPATCH64 + DISPATCH_ENTRIES * 16;

if (CPU_STATE_BYTES > DEFAULT_STATE_BYTES) throw new Error('CPU_STATE_BYTES outgrew GuestMemory DEFAULT_STATE_BYTES');
