/**
 * Typed handles on /dev/kvm, a VM and a vCPU. Every ioctl goes through one helper that turns
 * a failure into a KvmError naming the ioctl and the errno.
 */
import { CAP, IOCTL, IRQ_ROUTING_IRQCHIP, KVM_API_VERSION, layouts, off, SIZEOF_CPUID_ENTRY, SIZEOF_IRQ_ROUTING, SIZEOF_IRQ_ROUTING_ENTRY, SIZEOF_RUN, type IoctlName } from './abi.js';
import { KvmError } from './errors.js';
import { libc, O_CLOEXEC, O_RDWR, type Libc } from './native.js';

/** One GSI's route to a pin of the in-kernel PIC pair or I/O APIC (abi.ts IRQCHIP_*). */
export interface GsiRoute {
  gsi: number;
  chip: number;
  pin: number;
}

export const DEV_KVM = '/dev/kvm';

const E2BIG = 7;

function ioctlPtr(c: Libc, fd: number, name: IoctlName, arg: Uint8Array, what: string): number {
  const r = c.ioctlPtr(fd, IOCTL[name], arg);
  if (r < 0) throw new KvmError(what, name, -r);
  return r;
}

function ioctlInt(c: Libc, fd: number, name: IoctlName, arg: number, what: string): number {
  const r = c.ioctlInt(fd, IOCTL[name], arg);
  if (r < 0) throw new KvmError(what, name, -r);
  return r;
}

export interface CpuidEntry {
  function: number;
  index: number;
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

export function encodeCpuid(entries: CpuidEntry[]): Uint8Array {
  const b = new Uint8Array(8 + entries.length * SIZEOF_CPUID_ENTRY);
  const d = new DataView(b.buffer);
  d.setUint32(0, entries.length, true);
  entries.forEach((e, i) => {
    const o = 8 + i * SIZEOF_CPUID_ENTRY;
    d.setUint32(o, e.function >>> 0, true);
    d.setUint32(o + 4, e.index >>> 0, true);
    d.setUint32(o + 8, e.flags >>> 0, true);
    d.setUint32(o + 12, e.eax >>> 0, true);
    d.setUint32(o + 16, e.ebx >>> 0, true);
    d.setUint32(o + 20, e.ecx >>> 0, true);
    d.setUint32(o + 24, e.edx >>> 0, true);
  });
  return b;
}

export function decodeCpuid(b: Uint8Array): CpuidEntry[] {
  const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = d.getUint32(0, true);
  const out: CpuidEntry[] = [];
  for (let i = 0; i < n; i++) {
    const o = 8 + i * SIZEOF_CPUID_ENTRY;
    out.push({
      function: d.getUint32(o, true),
      index: d.getUint32(o + 4, true),
      flags: d.getUint32(o + 8, true),
      eax: d.getUint32(o + 12, true),
      ebx: d.getUint32(o + 16, true),
      ecx: d.getUint32(o + 20, true),
      edx: d.getUint32(o + 24, true),
    });
  }
  return out;
}

/** /dev/kvm itself: capabilities, supported CPUID, VM creation. */
export class KvmSystem {
  private constructor(
    private readonly c: Libc,
    readonly fd: number,
  ) {}

  /** Open /dev/kvm and check the API version; throws KvmError with the reason. */
  static open(path = DEV_KVM): KvmSystem {
    const c = libc();
    const fd = c.open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) throw new KvmError(`cannot open ${path}`, 'open', -fd);
    const version = c.ioctlInt(fd, IOCTL.KVM_GET_API_VERSION, 0);
    if (version < 0) {
      c.close(fd);
      throw new KvmError(`${path} is not a KVM device`, 'KVM_GET_API_VERSION', -version);
    }
    if (version !== KVM_API_VERSION) {
      c.close(fd);
      throw new KvmError(`${path} speaks KVM API ${version}, not ${KVM_API_VERSION}`, 'KVM_GET_API_VERSION', 0);
    }
    return new KvmSystem(c, fd);
  }

  checkExtension(cap: number): number {
    const r = this.c.ioctlInt(this.fd, IOCTL.KVM_CHECK_EXTENSION, cap);
    return r < 0 ? 0 : r;
  }

  vcpuMmapSize(): number {
    const size = ioctlInt(this.c, this.fd, 'KVM_GET_VCPU_MMAP_SIZE', 0, 'cannot size the vCPU run area');
    if (size < SIZEOF_RUN) throw new KvmError(`the vCPU run area is only ${size} bytes`, 'KVM_GET_VCPU_MMAP_SIZE', 0);
    return size;
  }

  /** Every CPUID leaf KVM can present to a guest on this host. */
  supportedCpuid(): CpuidEntry[] {
    for (let n = 128; n <= 4096; n *= 2) {
      const b = new Uint8Array(8 + n * SIZEOF_CPUID_ENTRY);
      new DataView(b.buffer).setUint32(0, n, true);
      const r = this.c.ioctlPtr(this.fd, IOCTL.KVM_GET_SUPPORTED_CPUID, b);
      if (r === -E2BIG) continue;
      if (r < 0) throw new KvmError('cannot read the CPUID KVM supports', 'KVM_GET_SUPPORTED_CPUID', -r);
      return decodeCpuid(b);
    }
    throw new KvmError('KVM supports too many CPUID leaves', 'KVM_GET_SUPPORTED_CPUID', E2BIG);
  }

  createVm(): KvmVm {
    const fd = ioctlInt(this.c, this.fd, 'KVM_CREATE_VM', 0, 'cannot create a virtual machine');
    return new KvmVm(this.c, fd);
  }

  close(): void {
    this.c.close(this.fd);
  }
}

export interface MemorySlot {
  slot: number;
  flags: number;
  guestPhys: number;
  size: number;
  hostAddr: number;
}

/** A VM: memory slots, the in-kernel interrupt controllers, IRQ lines. Used from the machine thread. */
export class KvmVm {
  private readonly region = new Uint8Array(32);
  private readonly irqLevel = new Uint8Array(8);
  private closed = false;

  constructor(
    private readonly c: Libc,
    readonly fd: number,
  ) {}

  setMemorySlot(s: MemorySlot): void {
    const t = layouts().memoryRegion;
    const d = new DataView(this.region.buffer);
    d.setUint32(off(t, 'slot'), s.slot, true);
    d.setUint32(off(t, 'flags'), s.flags, true);
    d.setBigUint64(off(t, 'guest_phys_addr'), BigInt(s.guestPhys), true);
    d.setBigUint64(off(t, 'memory_size'), BigInt(s.size), true);
    d.setBigUint64(off(t, 'userspace_addr'), BigInt(s.hostAddr), true);
    const what =
      s.size === 0
        ? `cannot remove memory slot ${s.slot}`
        : `the host refused ${Math.ceil(s.size / 1048576)} MiB of guest memory at 0x${s.guestPhys.toString(16)}`;
    ioctlPtr(this.c, this.fd, 'KVM_SET_USER_MEMORY_REGION', this.region, what);
  }

  setTssAddr(addr: number): void {
    ioctlInt(this.c, this.fd, 'KVM_SET_TSS_ADDR', addr, 'cannot place the real-mode TSS');
  }

  setIdentityMapAddr(addr: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(addr), true);
    ioctlPtr(this.c, this.fd, 'KVM_SET_IDENTITY_MAP_ADDR', b, 'cannot place the identity map page');
  }

  /** The in-kernel PIC pair, I/O APIC and local APIC. */
  createIrqchip(): void {
    ioctlInt(this.c, this.fd, 'KVM_CREATE_IRQCHIP', 0, 'cannot create the in-kernel interrupt controllers');
  }

  /** The in-kernel PIT (after the irqchip); `flags` may ask for the dummy speaker port. */
  createPit2(flags: number): void {
    const b = new Uint8Array(64);
    new DataView(b.buffer).setUint32(0, flags, true);
    ioctlPtr(this.c, this.fd, 'KVM_CREATE_PIT2', b, 'cannot create the in-kernel PIT');
  }

  /** Replace the in-kernel irqchip's GSI routing with these irqchip pins (KVM_SET_GSI_ROUTING). */
  setGsiRouting(routes: readonly GsiRoute[]): void {
    const b = new Uint8Array(SIZEOF_IRQ_ROUTING + routes.length * SIZEOF_IRQ_ROUTING_ENTRY);
    const d = new DataView(b.buffer);
    d.setUint32(0, routes.length, true);
    routes.forEach((r, i) => {
      const o = SIZEOF_IRQ_ROUTING + i * SIZEOF_IRQ_ROUTING_ENTRY;
      d.setUint32(o, r.gsi, true);
      d.setUint32(o + 4, IRQ_ROUTING_IRQCHIP, true);
      d.setUint32(o + 16, r.chip, true);
      d.setUint32(o + 20, r.pin, true);
    });
    ioctlPtr(this.c, this.fd, 'KVM_SET_GSI_ROUTING', b, 'cannot set the interrupt routing');
  }

  /** Drive an interrupt line of the in-kernel irqchip (GSI = ISA IRQ for 0..15). */
  irqLine(irq: number, high: boolean): void {
    const d = new DataView(this.irqLevel.buffer);
    d.setUint32(0, irq, true);
    d.setUint32(4, high ? 1 : 0, true);
    ioctlPtr(this.c, this.fd, 'KVM_IRQ_LINE', this.irqLevel, `cannot set IRQ ${irq}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.c.close(this.fd);
  }
}

/** Capabilities that decide how the VM is set up. */
export interface KvmCaps {
  irqchip: boolean;
  pit2: boolean;
  readonlyMem: boolean;
  immediateExit: boolean;
  memslots: number;
  tssAddr: boolean;
  identityMapAddr: boolean;
}

export function readCaps(sys: KvmSystem): KvmCaps {
  return {
    irqchip: sys.checkExtension(CAP.IRQCHIP) > 0,
    pit2: sys.checkExtension(CAP.PIT2) > 0,
    readonlyMem: sys.checkExtension(CAP.READONLY_MEM) > 0,
    immediateExit: sys.checkExtension(CAP.IMMEDIATE_EXIT) > 0,
    memslots: sys.checkExtension(CAP.NR_MEMSLOTS) || 32,
    tssAddr: sys.checkExtension(CAP.SET_TSS_ADDR) > 0,
    identityMapAddr: sys.checkExtension(CAP.SET_IDENTITY_MAP_ADDR) > 0,
  };
}

/** Byte offsets into kvm_run (exit union members included), from the koffi layouts. */
export interface RunOffsets {
  requestInterruptWindow: number;
  immediateExit: number;
  exitReason: number;
  readyForInjection: number;
  ifFlag: number;
  exit: number;
  ioDirection: number;
  ioSize: number;
  ioPort: number;
  ioCount: number;
  ioDataOffset: number;
  mmioPhys: number;
  mmioData: number;
  mmioLen: number;
  mmioIsWrite: number;
  failReason: number;
  internalSuberror: number;
  internalNdata: number;
  internalData: number;
  eventType: number;
  eventNdata: number;
  eventData: number;
}

let runOffsetsCache: RunOffsets | null = null;

export function runOffsets(): RunOffsets {
  if (runOffsetsCache === null) {
    const L = layouts();
    const exit = off(L.run, 'exit');
    runOffsetsCache = {
      requestInterruptWindow: off(L.run, 'request_interrupt_window'),
      immediateExit: off(L.run, 'immediate_exit'),
      exitReason: off(L.run, 'exit_reason'),
      readyForInjection: off(L.run, 'ready_for_interrupt_injection'),
      ifFlag: off(L.run, 'if_flag'),
      exit,
      ioDirection: exit + off(L.runIo, 'direction'),
      ioSize: exit + off(L.runIo, 'size'),
      ioPort: exit + off(L.runIo, 'port'),
      ioCount: exit + off(L.runIo, 'count'),
      ioDataOffset: exit + off(L.runIo, 'data_offset'),
      mmioPhys: exit + off(L.runMmio, 'phys_addr'),
      mmioData: exit + off(L.runMmio, 'data'),
      mmioLen: exit + off(L.runMmio, 'len'),
      mmioIsWrite: exit + off(L.runMmio, 'is_write'),
      failReason: exit + off(L.runFailEntry, 'hardware_entry_failure_reason'),
      internalSuberror: exit + off(L.runInternal, 'suberror'),
      internalNdata: exit + off(L.runInternal, 'ndata'),
      internalData: exit + off(L.runInternal, 'data'),
      eventType: exit + off(L.runSystemEvent, 'type'),
      eventNdata: exit + off(L.runSystemEvent, 'ndata'),
      eventData: exit + off(L.runSystemEvent, 'data'),
    };
  }
  return runOffsetsCache;
}

/** A vCPU and its mmap'd kvm_run area. Used only from the vCPU's own thread. */
export class KvmVcpu {
  readonly runAddr: number;

  constructor(
    private readonly c: Libc,
    readonly fd: number,
    readonly mmapSize: number,
  ) {
    this.runAddr = c.mmapShared(fd, mmapSize, 'the vCPU run area');
  }

  static create(vmFd: number, id: number, mmapSize: number): KvmVcpu {
    const c = libc();
    const fd = ioctlInt(c, vmFd, 'KVM_CREATE_VCPU', id, `cannot create vCPU ${id}`);
    return new KvmVcpu(c, fd, mmapSize);
  }

  /** KVM_RUN; returns 0 or -errno (EINTR when kicked), never throws. */
  run(): number {
    return this.c.ioctlInt(this.fd, IOCTL.KVM_RUN, 0);
  }

  /** Copy `length` bytes of kvm_run from `offset` into `dst`. */
  readRun(dst: Uint8Array, offset: number, length: number): void {
    this.c.copyFrom(dst, this.runAddr + offset, length);
  }

  writeRun(offset: number, src: Uint8Array, length: number): void {
    this.c.copyTo(this.runAddr + offset, src, length);
  }

  get(name: IoctlName, buf: Uint8Array, what: string): Uint8Array {
    ioctlPtr(this.c, this.fd, name, buf, what);
    return buf;
  }

  set(name: IoctlName, buf: Uint8Array, what: string): number {
    return ioctlPtr(this.c, this.fd, name, buf, what);
  }

  /** An ioctl whose failure the caller handles: returns the result or -errno. */
  tryIoctl(name: IoctlName, buf: Uint8Array): number {
    return this.c.ioctlPtr(this.fd, IOCTL[name], buf);
  }

  /** Inject an external interrupt (user-space irqchip only). */
  interrupt(vector: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, vector, true);
    ioctlPtr(this.c, this.fd, 'KVM_INTERRUPT', b, `cannot inject interrupt vector ${vector}`);
  }

  close(): void {
    this.c.munmap(this.runAddr, this.mmapSize);
    this.c.close(this.fd);
  }
}
