/**
 * Where things live in the address space of a differential test. The native harness
 * (native/harness.c) maps the same regions at the same linear addresses, so one assembled
 * blob runs unchanged on both sides. Everything sits below 16 MiB (the default guest RAM of
 * FlatHarness) and above 64 KiB (Linux's usual mmap_min_addr), and clear of a static i386
 * binary (0x08048000 up).
 */

/** Native only: holds the address of the harness's capture routine (`jmp [EXIT_SLOT]`). */
export const EXIT_SLOT = 0x003ff000;
/** The assembled cases (a table of entry/end addresses first, then the cases). */
export const CODE_BASE = 0x00400000;
export const CODE_MAX = 0x00100000;
/** Data region: filled per case from a seed, compared byte for byte afterwards. */
export const DATA_BASE = 0x00500000;
export const DATA_SIZE = 0x2000;
/** A read-only page right after the data region (filled from RO_SEED): writes fault with P=1. */
export const RO_PAGE = DATA_BASE + DATA_SIZE;
export const RO_SEED = 0x5eed0001;
/** An inaccessible page after that: any access faults with P=0. */
export const GUARD_PAGE = RO_PAGE + 0x1000;
/** Initial ESP for cases that use the stack: pushes land below, pops read seeded data above. */
export const STACK_TOP = DATA_BASE + 0x1800;
/** Largest per-case patch of explicit bytes over the seeded data. */
export const PATCH_MAX = 256;

/**
 * Terrarium only: GDT, IDT, TSS, ring-0 stack and one-byte interrupt "handlers", so INT3,
 * INTO and INT n reach a handler (or fault on a DPL-0 gate) as under Linux.
 */
export const SYS_BASE = 0x00e00000;
