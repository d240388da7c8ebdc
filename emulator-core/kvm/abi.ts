/**
 * The KVM user-space ABI (include/uapi/linux/kvm.h, x86-64): ioctl numbers, capability and
 * exit codes, and the structures as koffi types. Code reads and writes structures through
 * byte offsets taken from these koffi types, so each layout is written down once (and
 * checked against the C headers by abi.test.ts where a compiler is installed).
 */
import { koffi, type Koffi } from './native.js';

type KType = ReturnType<Koffi['struct']>;

// ioctl number encoding (asm-generic/ioctl.h).
const IOC_WRITE = 1;
const IOC_READ = 2;
const KVMIO = 0xae;
function ioc(dir: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0;
}
const io = (nr: number): number => ioc(0, nr, 0);
const ior = (nr: number, size: number): number => ioc(IOC_READ, nr, size);
const iow = (nr: number, size: number): number => ioc(IOC_WRITE, nr, size);
const iowr = (nr: number, size: number): number => ioc(IOC_READ | IOC_WRITE, nr, size);

export const KVM_API_VERSION = 12;

// Sizes of the fixed structures (checked against koffi's in layouts()).
export const SIZEOF_REGS = 144;
export const SIZEOF_SREGS = 312;
export const SIZEOF_FPU = 416;
export const SIZEOF_RUN = 2352;
export const SIZEOF_SEGMENT = 24;
export const SIZEOF_CPUID_ENTRY = 40;
export const SIZEOF_MSR_ENTRY = 16;
export const SIZEOF_MEMORY_REGION = 32;
export const SIZEOF_IRQ_LEVEL = 8;
/** struct kvm_irq_routing's header (nr, flags), then its entries. */
export const SIZEOF_IRQ_ROUTING = 8;
export const SIZEOF_IRQ_ROUTING_ENTRY = 48;
export const IRQ_ROUTING_IRQCHIP = 1;
export const IRQCHIP_PIC_MASTER = 0;
export const IRQCHIP_PIC_SLAVE = 1;
export const IRQCHIP_IOAPIC = 2;
export const SIZEOF_PIT_CONFIG = 64;
export const SIZEOF_VCPU_EVENTS = 64;
export const SIZEOF_DEBUGREGS = 128;
export const SIZEOF_XSAVE = 4096;
/** MXCSR in the XSAVE legacy area, and XSTATE_BV in its header. */
export const XSAVE_MXCSR = 24;
export const XSAVE_XSTATE_BV = 512;

/** ioctls on /dev/kvm, a VM fd and a vCPU fd, by name (the name goes into errors). */
export const IOCTL = {
  KVM_GET_API_VERSION: io(0x00),
  KVM_CREATE_VM: io(0x01),
  KVM_GET_MSR_INDEX_LIST: iowr(0x02, 4),
  KVM_CHECK_EXTENSION: io(0x03),
  KVM_GET_VCPU_MMAP_SIZE: io(0x04),
  KVM_GET_SUPPORTED_CPUID: iowr(0x05, 8),
  KVM_CREATE_VCPU: io(0x41),
  KVM_SET_USER_MEMORY_REGION: iow(0x46, SIZEOF_MEMORY_REGION),
  KVM_SET_TSS_ADDR: io(0x47),
  KVM_SET_IDENTITY_MAP_ADDR: iow(0x48, 8),
  KVM_CREATE_IRQCHIP: io(0x60),
  KVM_IRQ_LINE: iow(0x61, SIZEOF_IRQ_LEVEL),
  KVM_SET_GSI_ROUTING: iow(0x6a, SIZEOF_IRQ_ROUTING),
  KVM_CREATE_PIT2: iow(0x77, SIZEOF_PIT_CONFIG),
  KVM_RUN: io(0x80),
  KVM_GET_REGS: ior(0x81, SIZEOF_REGS),
  KVM_SET_REGS: iow(0x82, SIZEOF_REGS),
  KVM_GET_SREGS: ior(0x83, SIZEOF_SREGS),
  KVM_SET_SREGS: iow(0x84, SIZEOF_SREGS),
  KVM_INTERRUPT: iow(0x86, 4),
  KVM_GET_MSRS: iowr(0x88, 8),
  KVM_SET_MSRS: iow(0x89, 8),
  KVM_SET_SIGNAL_MASK: iow(0x8b, 4),
  KVM_GET_FPU: ior(0x8c, SIZEOF_FPU),
  KVM_SET_FPU: iow(0x8d, SIZEOF_FPU),
  KVM_SET_CPUID2: iow(0x90, 8),
  KVM_GET_MP_STATE: ior(0x98, 4),
  KVM_SET_MP_STATE: iow(0x99, 4),
  KVM_GET_VCPU_EVENTS: ior(0x9f, SIZEOF_VCPU_EVENTS),
  KVM_SET_VCPU_EVENTS: iow(0xa0, SIZEOF_VCPU_EVENTS),
  KVM_GET_DEBUGREGS: ior(0xa1, SIZEOF_DEBUGREGS),
  KVM_SET_DEBUGREGS: iow(0xa2, SIZEOF_DEBUGREGS),
  KVM_GET_XSAVE: ior(0xa4, SIZEOF_XSAVE),
  KVM_SET_XSAVE: iow(0xa5, SIZEOF_XSAVE),
} as const;
export type IoctlName = keyof typeof IOCTL;

export const CAP = {
  IRQCHIP: 0,
  USER_MEMORY: 3,
  SET_TSS_ADDR: 4,
  EXT_CPUID: 7,
  NR_MEMSLOTS: 10,
  PIT2: 33,
  SET_IDENTITY_MAP_ADDR: 37,
  READONLY_MEM: 81,
  IMMEDIATE_EXIT: 136,
} as const;

export const EXIT = {
  UNKNOWN: 0,
  EXCEPTION: 1,
  IO: 2,
  HYPERCALL: 3,
  DEBUG: 4,
  HLT: 5,
  MMIO: 6,
  IRQ_WINDOW_OPEN: 7,
  SHUTDOWN: 8,
  FAIL_ENTRY: 9,
  INTR: 10,
  INTERNAL_ERROR: 17,
  SYSTEM_EVENT: 24,
} as const;

export function exitName(reason: number): string {
  for (const [k, v] of Object.entries(EXIT)) if (v === reason) return `KVM_EXIT_${k}`;
  return `KVM exit ${reason}`;
}

export const IO_IN = 0;
export const IO_OUT = 1;
export const MEM_READONLY = 2;
export const PIT_SPEAKER_DUMMY = 1;
export const MP_STATE_RUNNABLE = 0;
export const MP_STATE_HALTED = 3;
export const MP_STATE_UNINITIALIZED = 1;
export const MP_STATE_INIT_RECEIVED = 2;
export const SYSTEM_EVENT_SHUTDOWN = 1;
export const SYSTEM_EVENT_RESET = 2;
export const SYSTEM_EVENT_CRASH = 3;
/** kvm_cpuid_entry2.flags: the leaf has sub-leaves selected by ECX. */
export const CPUID_FLAG_SIGNIFCANT_INDEX = 1;
/** Where the VMX real-mode helpers go when there is no unrestricted guest (below a 256 KiB BIOS). */
export const TSS_ADDR = 0xfffbd000;
export const IDENTITY_MAP_ADDR = 0xfffbc000;

export interface KvmLayouts {
  regs: KType;
  segment: KType;
  dtable: KType;
  sregs: KType;
  fpu: KType;
  run: KType;
  runIo: KType;
  runMmio: KType;
  runFailEntry: KType;
  runInternal: KType;
  runSystemEvent: KType;
  cpuidEntry: KType;
  msrEntry: KType;
  memoryRegion: KType;
  irqLevel: KType;
  irqRouting: KType;
  irqRoutingEntry: KType;
  pitConfig: KType;
  vcpuEvents: KType;
  debugregs: KType;
}

let cached: KvmLayouts | null = null;

/** The KVM structures as koffi types (anonymous, so a second module instance cannot clash). */
export function layouts(): KvmLayouts {
  if (cached !== null) return cached;
  const k = koffi();
  const u8s = (n: number): KType => k.array('uint8_t', n);
  const u64s = (n: number): KType => k.array('uint64_t', n);
  const regs = k.struct({
    rax: 'uint64_t', rbx: 'uint64_t', rcx: 'uint64_t', rdx: 'uint64_t',
    rsi: 'uint64_t', rdi: 'uint64_t', rsp: 'uint64_t', rbp: 'uint64_t',
    r8: 'uint64_t', r9: 'uint64_t', r10: 'uint64_t', r11: 'uint64_t',
    r12: 'uint64_t', r13: 'uint64_t', r14: 'uint64_t', r15: 'uint64_t',
    rip: 'uint64_t', rflags: 'uint64_t',
  });
  const segment = k.struct({
    base: 'uint64_t', limit: 'uint32_t', selector: 'uint16_t',
    type: 'uint8_t', present: 'uint8_t', dpl: 'uint8_t', db: 'uint8_t', s: 'uint8_t', l: 'uint8_t',
    g: 'uint8_t', avl: 'uint8_t', unusable: 'uint8_t', padding: 'uint8_t',
  });
  const dtable = k.struct({ base: 'uint64_t', limit: 'uint16_t', padding: k.array('uint16_t', 3) });
  const sregs = k.struct({
    cs: segment, ds: segment, es: segment, fs: segment, gs: segment, ss: segment, tr: segment, ldt: segment,
    gdt: dtable, idt: dtable,
    cr0: 'uint64_t', cr2: 'uint64_t', cr3: 'uint64_t', cr4: 'uint64_t', cr8: 'uint64_t',
    efer: 'uint64_t', apic_base: 'uint64_t', interrupt_bitmap: u64s(4),
  });
  const fpu = k.struct({
    fpr: u8s(128), fcw: 'uint16_t', fsw: 'uint16_t', ftwx: 'uint8_t', pad1: 'uint8_t', last_opcode: 'uint16_t',
    last_ip: 'uint64_t', last_dp: 'uint64_t', xmm: u8s(256), mxcsr: 'uint32_t', pad2: 'uint32_t',
  });
  const runIo = k.struct({ direction: 'uint8_t', size: 'uint8_t', port: 'uint16_t', count: 'uint32_t', data_offset: 'uint64_t' });
  const runMmio = k.struct({ phys_addr: 'uint64_t', data: u8s(8), len: 'uint32_t', is_write: 'uint8_t' });
  const runFailEntry = k.struct({ hardware_entry_failure_reason: 'uint64_t', cpu: 'uint32_t' });
  const runInternal = k.struct({ suberror: 'uint32_t', ndata: 'uint32_t', data: u64s(16) });
  const runSystemEvent = k.struct({ type: 'uint32_t', ndata: 'uint32_t', data: u64s(16) });
  const run = k.struct({
    request_interrupt_window: 'uint8_t', immediate_exit: 'uint8_t', padding1: u8s(6),
    exit_reason: 'uint32_t', ready_for_interrupt_injection: 'uint8_t', if_flag: 'uint8_t', flags: 'uint16_t',
    cr8: 'uint64_t', apic_base: 'uint64_t',
    // The exit-specific union (io, mmio, fail_entry, internal, system_event, ...): 256 bytes.
    exit: u64s(32),
    kvm_valid_regs: 'uint64_t', kvm_dirty_regs: 'uint64_t', s: u8s(2048),
  });
  const cpuidEntry = k.struct({
    function: 'uint32_t', index: 'uint32_t', flags: 'uint32_t',
    eax: 'uint32_t', ebx: 'uint32_t', ecx: 'uint32_t', edx: 'uint32_t', padding: k.array('uint32_t', 3),
  });
  const msrEntry = k.struct({ index: 'uint32_t', reserved: 'uint32_t', data: 'uint64_t' });
  const memoryRegion = k.struct({ slot: 'uint32_t', flags: 'uint32_t', guest_phys_addr: 'uint64_t', memory_size: 'uint64_t', userspace_addr: 'uint64_t' });
  const irqLevel = k.struct({ irq: 'uint32_t', level: 'uint32_t' });
  const irqRouting = k.struct({ nr: 'uint32_t', flags: 'uint32_t' });
  // The union `u` is 32 bytes; an irqchip route uses its first two words (irqchip, pin).
  const irqRoutingEntry = k.struct({ gsi: 'uint32_t', type: 'uint32_t', flags: 'uint32_t', pad: 'uint32_t', u: k.array('uint32_t', 8) });
  const pitConfig = k.struct({ flags: 'uint32_t', pad: k.array('uint32_t', 15) });
  const vcpuEvents = k.struct({
    exception: k.struct({ injected: 'uint8_t', nr: 'uint8_t', has_error_code: 'uint8_t', pending: 'uint8_t', error_code: 'uint32_t' }),
    interrupt: k.struct({ injected: 'uint8_t', nr: 'uint8_t', soft: 'uint8_t', shadow: 'uint8_t' }),
    nmi: k.struct({ injected: 'uint8_t', pending: 'uint8_t', masked: 'uint8_t', pad: 'uint8_t' }),
    sipi_vector: 'uint32_t', flags: 'uint32_t',
    smi: u8s(4), triple_fault: u8s(1), reserved: u8s(26), exception_has_payload: 'uint8_t', exception_payload: 'uint64_t',
  });
  const debugregs = k.struct({ db: u64s(4), dr6: 'uint64_t', dr7: 'uint64_t', flags: 'uint64_t', reserved: u64s(9) });
  cached = {
    regs, segment, dtable, sregs, fpu, run, runIo, runMmio, runFailEntry, runInternal, runSystemEvent,
    cpuidEntry, msrEntry, memoryRegion, irqLevel, irqRouting, irqRoutingEntry, pitConfig, vcpuEvents, debugregs,
  };
  const expect: [KType, number, string][] = [
    [regs, SIZEOF_REGS, 'kvm_regs'], [sregs, SIZEOF_SREGS, 'kvm_sregs'], [fpu, SIZEOF_FPU, 'kvm_fpu'], [run, SIZEOF_RUN, 'kvm_run'],
    [segment, SIZEOF_SEGMENT, 'kvm_segment'], [cpuidEntry, SIZEOF_CPUID_ENTRY, 'kvm_cpuid_entry2'], [msrEntry, SIZEOF_MSR_ENTRY, 'kvm_msr_entry'],
    [memoryRegion, SIZEOF_MEMORY_REGION, 'kvm_userspace_memory_region'], [irqLevel, SIZEOF_IRQ_LEVEL, 'kvm_irq_level'],
    [irqRouting, SIZEOF_IRQ_ROUTING, 'kvm_irq_routing'], [irqRoutingEntry, SIZEOF_IRQ_ROUTING_ENTRY, 'kvm_irq_routing_entry'],
    [pitConfig, SIZEOF_PIT_CONFIG, 'kvm_pit_config'], [vcpuEvents, SIZEOF_VCPU_EVENTS, 'kvm_vcpu_events'], [debugregs, SIZEOF_DEBUGREGS, 'kvm_debugregs'],
  ];
  for (const [t, size, name] of expect) {
    if (k.sizeof(t) !== size) throw new Error(`internal: ${name} is ${k.sizeof(t)} bytes in koffi, ${size} in the ABI`);
  }
  return cached;
}

/** Byte offset of `member` in a koffi struct type. */
export function off(type: KType, member: string): number {
  return koffi().offsetof(type, member);
}
