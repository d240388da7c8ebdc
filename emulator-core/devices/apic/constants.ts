/** Register offsets, bit fields and fixed values of the xAPIC and the 82093AA I/O APIC. */

/** Default physical addresses (the guest may move the local APIC through IA32_APIC_BASE). */
export const LAPIC_BASE = 0xfee00000;
export const LAPIC_SIZE = 0x1000;
export const IOAPIC_BASE = 0xfec00000;
/**
 * The I/O APIC's ID, 0 as on QEMU's PCs: its 4-bit ID register could not follow the local
 * APIC IDs past 15 CPUs, and xAPIC systems keep I/O APIC and local APIC IDs apart anyway.
 */
export const IOAPIC_ID = 0;
export const IOAPIC_SIZE = 0x1000;

/** MSRs the CPU forwards to the local APIC. */
export const MSR_IA32_APIC_BASE = 0x1b;
export const MSR_IA32_TSC_DEADLINE = 0x6e0;

/** IA32_APIC_BASE bits. */
export const APIC_BASE_BSP = 1 << 8;
export const APIC_BASE_ENABLE = 1 << 11;
/** Base address bits 35:12 (MAXPHYADDR 36). */
export const APIC_BASE_ADDR_MASK = 0xffffff000;

/** Local APIC register offsets (each 16-byte aligned, 32 bits wide). */
export const LAPIC_ID = 0x020;
export const LAPIC_VERSION = 0x030;
export const LAPIC_TPR = 0x080;
export const LAPIC_APR = 0x090;
export const LAPIC_PPR = 0x0a0;
export const LAPIC_EOI = 0x0b0;
export const LAPIC_RRD = 0x0c0;
export const LAPIC_LDR = 0x0d0;
export const LAPIC_DFR = 0x0e0;
export const LAPIC_SVR = 0x0f0;
export const LAPIC_ISR = 0x100;
export const LAPIC_TMR = 0x180;
export const LAPIC_IRR = 0x200;
export const LAPIC_ESR = 0x280;
export const LAPIC_ICR_LO = 0x300;
export const LAPIC_ICR_HI = 0x310;
export const LAPIC_LVT_TIMER = 0x320;
export const LAPIC_LVT_THERMAL = 0x330;
export const LAPIC_LVT_PERF = 0x340;
export const LAPIC_LVT_LINT0 = 0x350;
export const LAPIC_LVT_LINT1 = 0x360;
export const LAPIC_LVT_ERROR = 0x370;
export const LAPIC_TIMER_INITIAL = 0x380;
export const LAPIC_TIMER_CURRENT = 0x390;
export const LAPIC_TIMER_DIVIDE = 0x3e0;

/** Version 0x14 (integrated xAPIC), max LVT entry 5 (six entries), no EOI-broadcast suppression. */
export const LAPIC_VERSION_VALUE = 0x00050014;

/** LVT indexes, in register order from 0x320. */
export const LVT_TIMER = 0;
export const LVT_THERMAL = 1;
export const LVT_PERF = 2;
export const LVT_LINT0 = 3;
export const LVT_LINT1 = 4;
export const LVT_ERROR = 5;
export const LVT_COUNT = 6;

/** LVT and redirection-entry bits shared by both chips. */
export const LVT_MASKED = 1 << 16;
export const LVT_TRIGGER_LEVEL = 1 << 15;
export const LVT_REMOTE_IRR = 1 << 14;
export const LVT_ACTIVE_LOW = 1 << 13;
export const LVT_DELIVERY_STATUS = 1 << 12;

/** Writable bits of each LVT register (timer, thermal, perf, LINT0, LINT1, error). */
export const LVT_WRITE_MASK: readonly number[] = [0x000710ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff];

/** LVT timer modes (bits 18:17). */
export const TIMER_ONE_SHOT = 0;
export const TIMER_PERIODIC = 1;
export const TIMER_TSC_DEADLINE = 2;

/** Spurious-interrupt vector register: APIC software enable. */
export const SVR_ENABLE = 1 << 8;
/** Writable SVR bits: vector and software enable (focus checking is not modelled). */
export const SVR_WRITE_MASK = 0x1ff;

/** ESR bits. */
export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
export const ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
export const ESR_ILLEGAL_REGISTER = 1 << 7;

/** ICR low: writable bits (vector, mode, destination mode, level, trigger, shorthand). */
export const ICR_LO_WRITE_MASK = 0x000ccfff;
export const ICR_DEST_LOGICAL = 1 << 11;
export const ICR_LEVEL_ASSERT = 1 << 14;
export const ICR_TRIGGER_LEVEL = 1 << 15;

/** Destination shorthands (ICR bits 19:18). */
export const SHORTHAND_NONE = 0;
export const SHORTHAND_SELF = 1;
export const SHORTHAND_ALL_INCLUDING_SELF = 2;
export const SHORTHAND_ALL_EXCLUDING_SELF = 3;

/** Delivery modes (bits 10:8 of ICR, LVT and redirection entries). */
export const DM_FIXED = 0;
export const DM_LOWEST_PRIORITY = 1;
export const DM_SMI = 2;
export const DM_NMI = 4;
export const DM_INIT = 5;
export const DM_STARTUP = 6;
export const DM_EXTINT = 7;

/** Destination 0xFF: every APIC (physical and logical). */
export const BROADCAST_DEST = 0xff;

/** I/O APIC direct registers (offsets in its MMIO page). */
export const IOAPIC_IOREGSEL = 0x00;
export const IOAPIC_IOWIN = 0x10;
/** I/O APIC indirect registers. */
export const IOAPIC_REG_ID = 0x00;
export const IOAPIC_REG_VERSION = 0x01;
export const IOAPIC_REG_ARB = 0x02;
export const IOAPIC_REG_REDTBL = 0x10;
export const IOAPIC_PINS = 24;
/** Version 0x11, maximum redirection entry 23. */
export const IOAPIC_VERSION_VALUE = 0x00170011;
/** Writable bits of a redirection entry's low dword (delivery status and remote IRR are read-only). */
export const REDIR_LO_WRITE_MASK = 0x0001afff;
/** Writable bits of the high dword: the destination field, bits 63:56. */
export const REDIR_HI_WRITE_MASK = 0xff000000;
