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

/** Flat user segments, with Linux's selector values (compat mode on a 64-bit kernel). */
export const USER_CS = 0x23;
export const USER_DS = 0x2b;
/** glibc's TLS selector in GS (never touched by cases; Terrarium's is flat). */
export const USER_GS = 0x63;

/**
 * LDT entries both sides install (natively with modify_ldt, which always makes them DPL 3
 * and accessed; conforming code cannot be present). Cases reach them by selector.
 */
export interface LdtEntry {
  index: number;
  base: number;
  /** In bytes, or in 4 KiB pages with limitInPages. */
  limit: number;
  seg32: boolean;
  /** 0 data, 1 expand-down data, 2 code. */
  contents: 0 | 1 | 2;
  /** Data: read-only; code: execute-only. */
  readExecOnly: boolean;
  limitInPages: boolean;
  notPresent: boolean;
}

export const LDT_DATA32 = 0; // the data region, 32-bit (B=1), limit exactly its size
export const LDT_DATA16 = 1; // the data region, 16-bit (B=0), 64 KiB: 16-bit stacks and addressing
export const LDT_SMALL = 2; // DATA_BASE+0x1000, limit 0xfff: limit checks
export const LDT_EXPAND_DOWN = 3; // DATA_BASE, expand-down 16-bit, limit 0xfff: offsets 0x1000-0xffff valid
export const LDT_READ_ONLY = 4; // the data region, read-only
export const LDT_CODE32 = 5; // flat 32-bit code (like USER_CS, but in the LDT)
export const LDT_CODE16 = 6; // 16-bit code based at CODE_BASE, 64 KiB
export const LDT_EXEC_ONLY = 7; // flat 32-bit execute-only code
export const LDT_NOT_PRESENT = 8; // a data segment marked not present
export const LDT_FLAT16 = 9; // flat data with B=0: a 16-bit stack over all of memory

export const LDT: readonly LdtEntry[] = [
  { index: LDT_DATA32, base: DATA_BASE, limit: DATA_SIZE - 1, seg32: true, contents: 0, readExecOnly: false, limitInPages: false, notPresent: false },
  { index: LDT_DATA16, base: DATA_BASE, limit: 0xffff, seg32: false, contents: 0, readExecOnly: false, limitInPages: false, notPresent: false },
  { index: LDT_SMALL, base: DATA_BASE + 0x1000, limit: 0xfff, seg32: true, contents: 0, readExecOnly: false, limitInPages: false, notPresent: false },
  { index: LDT_EXPAND_DOWN, base: DATA_BASE, limit: 0xfff, seg32: false, contents: 1, readExecOnly: false, limitInPages: false, notPresent: false },
  { index: LDT_READ_ONLY, base: DATA_BASE, limit: DATA_SIZE - 1, seg32: true, contents: 0, readExecOnly: true, limitInPages: false, notPresent: false },
  { index: LDT_CODE32, base: 0, limit: 0xfffff, seg32: true, contents: 2, readExecOnly: false, limitInPages: true, notPresent: false },
  { index: LDT_CODE16, base: CODE_BASE, limit: 0xffff, seg32: false, contents: 2, readExecOnly: false, limitInPages: false, notPresent: false },
  { index: LDT_EXEC_ONLY, base: 0, limit: 0xfffff, seg32: true, contents: 2, readExecOnly: true, limitInPages: true, notPresent: false },
  { index: LDT_NOT_PRESENT, base: DATA_BASE, limit: 0xfff, seg32: true, contents: 0, readExecOnly: false, limitInPages: false, notPresent: true },
  { index: LDT_FLAT16, base: 0, limit: 0xfffff, seg32: false, contents: 0, readExecOnly: false, limitInPages: true, notPresent: false },
];

/** The selector of LDT entry `index` at RPL 3. */
export function ldtSelector(index: number): number {
  return (index << 3) | 7;
}

/** The descriptor modify_ldt builds for an entry (arch/x86/include/asm/desc.h fill_ldt). */
export function ldtDescriptor(e: LdtEntry): [number, number] {
  const type = 1 | ((e.readExecOnly ? 0 : 1) << 1) | (e.contents << 2); // accessed, W/R, E/C, code
  const access = type | 0x10 | (3 << 5) | (e.notPresent ? 0 : 0x80);
  const flags = (e.seg32 ? 4 : 0) | (e.limitInPages ? 8 : 0);
  const lo = ((e.base & 0xffff) << 16) | (e.limit & 0xffff);
  const hi = (e.base & 0xff000000) | (flags << 20) | (e.limit & 0xf0000) | (access << 8) | ((e.base >>> 16) & 0xff);
  return [lo >>> 0, hi >>> 0];
}
