/** CPU entry states that loaders hand to either backend, as plain CpuState edits. */
import { AR_DB, AR_G, AR_P, AR_S } from '../cpu/constants.js';
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
