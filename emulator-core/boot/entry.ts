/** CPU entry states that loaders hand to either backend, as plain CpuState edits. */
import { AR_DB, AR_G, AR_L, AR_P, AR_S } from '../cpu/constants.js';
import type { CpuState, SegmentState } from '../cpu/state.js';
import { BOOT_CS, BOOT_DS, type LinuxBootPlan } from './linux.js';

function flat(selector: number, type: number): SegmentState {
  return { selector, base: 0, limit: 0xffffffff, access: AR_P | AR_S | type | AR_DB | AR_G };
}

/** The Linux 32-bit boot protocol entry: protected mode, paging off, flat __BOOT_CS/__BOOT_DS. */
export function linux32EntryState(base: CpuState, plan: LinuxBootPlan): CpuState {
  const code = flat(BOOT_CS, 0xb);
  const data = flat(BOOT_DS, 0x3);
  const gpr = base.gpr.slice();
  gpr.fill(0, 0, 8);
  gpr[6] = plan.bootParams; // ESI
  gpr[4] = 0x9f000; // a usable stack below the EBDA, should the kernel want one early
  return {
    ...base,
    gpr,
    rip: plan.entry32,
    rflags: 0x2,
    cs: code,
    ds: data,
    es: data,
    ss: data,
    fs: data,
    gs: data,
    gdtr: { base: plan.gdt, limit: 31 },
    idtr: { base: 0, limit: 0 },
    cr0: (base.cr0 | 1 | 0x10) & ~(0x80000000 | 0x60000000),
    halted: false,
  };
}

/** Where the 64-bit entry's page tables and GDT go (free low memory beside boot_params). */
export const BOOT_GDT64_ADDR = 0x1040;
export const BOOT_PML4_ADDR = 0x9000;
/** PML4, PDPT, then four page directories: 2 MiB pages identity-mapping the low 4 GiB. */
export const BOOT_PAGE_TABLE_BYTES = 6 * 4096;

/** A kernel that has the 64-bit entry point (boot protocol 2.12+, XLF_KERNEL_64). */
export function hasLinux64Entry(kernel: Uint8Array): boolean {
  if (kernel.length < 0x238) return false;
  const protocol = kernel[0x206] | (kernel[0x207] << 8);
  return protocol >= 0x020c && (kernel[0x236] & 1) !== 0;
}

/**
 * The Linux 64-bit boot protocol entry (Documentation/arch/x86/boot.rst, "64-bit Boot
 * Protocol"): long mode with paging on, an identity map covering the kernel, boot_params and
 * the command line (here all of the low 4 GiB), a GDT whose __BOOT_CS is 64-bit code and
 * __BOOT_DS flat data, interrupts off, RSI = boot_params, entry at code32_start + 0x200.
 * Writes the page tables and GDT into guest memory.
 */
export function linux64EntryState(base: CpuState, plan: LinuxBootPlan, mem: { writeBytes(phys: number, data: Uint8Array): void }): CpuState {
  const tables = new Uint8Array(BOOT_PAGE_TABLE_BYTES);
  const tv = new DataView(tables.buffer);
  const pdpt = BOOT_PML4_ADDR + 0x1000;
  const pd = BOOT_PML4_ADDR + 0x2000;
  const PRESENT_RW = 0x3;
  const PAGE_2M = 0x80;
  tv.setUint32(0, pdpt | PRESENT_RW, true);
  for (let g = 0; g < 4; g++) {
    tv.setUint32(0x1000 + g * 8, (pd + g * 0x1000) | PRESENT_RW, true);
    for (let i = 0; i < 512; i++) {
      const phys = g * 0x40000000 + i * 0x200000;
      const o = 0x2000 + g * 0x1000 + i * 8;
      tv.setUint32(o, (phys | PRESENT_RW | PAGE_2M) >>> 0, true);
    }
  }
  mem.writeBytes(BOOT_PML4_ADDR, tables);

  // GDT: null, null, __BOOT_CS (64-bit code), __BOOT_DS (flat data).
  const gdt = new Uint8Array(32);
  const gv = new DataView(gdt.buffer);
  gv.setUint32(16, 0x0000ffff, true);
  gv.setUint32(20, 0x00af9a00, true);
  gv.setUint32(24, 0x0000ffff, true);
  gv.setUint32(28, 0x00cf9200, true);
  mem.writeBytes(BOOT_GDT64_ADDR, gdt);

  const code: SegmentState = { selector: BOOT_CS, base: 0, limit: 0xffffffff, access: AR_P | AR_S | 0xb | AR_L | AR_G };
  const data = flat(BOOT_DS, 0x3);
  const gpr = base.gpr.slice();
  gpr.fill(0);
  const gprHigh = new Array<number>(16).fill(0);
  gpr[6] = plan.bootParams; // RSI
  gpr[4] = 0x9f000;
  return {
    ...base,
    gpr,
    gprHigh,
    rip: plan.entry32 + 0x200,
    ripHigh: 0,
    rflags: 0x2,
    cs: code,
    ds: data,
    es: data,
    ss: data,
    fs: data,
    gs: data,
    gdtr: { base: BOOT_GDT64_ADDR, limit: 31 },
    idtr: { base: 0, limit: 0 },
    // PE, ET and PG; caches on.
    cr0: ((base.cr0 | 0x80000011) & ~0x60000000) >>> 0,
    cr3: BOOT_PML4_ADDR,
    cr4: 0x20, // PAE
    efer: 0x500, // LME | LMA
    halted: false,
  };
}
