/**
 * A KVM virtual machine for a PcBoard: the VM file descriptor, memory slots that follow the
 * board's page map, the interrupt controllers (in the kernel where KVM has them, else ours),
 * and the vCPU thread. Lives on the machine thread; the run loop is machine/kvm-loop.ts.
 */
import type { IrqSink } from '../bus/irq.js';
import type { CpuState } from '../cpu/state.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { IDENTITY_MAP_ADDR, PIT_SPEAKER_DUMMY, TSS_ADDR } from './abi.js';
import { guestCpuid } from './cpuid.js';
import { KvmError } from './errors.js';
import { KvmSystem, readCaps, type CpuidEntry, type KvmCaps, type KvmVm } from './kvm.js';
import { SlotMap } from './memory-slots.js';
import { libc } from './native.js';
import type { KvmProbe } from './probe.js';
import { VcpuThread } from './vcpu-thread.js';

export type IrqchipMode = 'auto' | 'kernel' | 'user';

export interface KvmBackendOptions {
  memory: GuestMemory;
  probe: KvmProbe;
  /** Where the PIC, PIT and local APIC live (the machine's `kvm.irqchip` option, TERRARIUM_KVM_IRQCHIP); default 'auto'. */
  irqchip?: IrqchipMode;
}

/**
 * The ISA interrupt lines into KVM's in-kernel irqchip (KVM_IRQ_LINE): the machine routes
 * its lines here instead of to its own PIC. IRQ 0 is the kernel PIT's; IRQ 2 is wired to
 * IRQ 9 on an AT, as our PIC does.
 */
export class KvmIrqchipLines implements IrqSink {
  constructor(private readonly kvm: KvmBackend) {}

  setIrqLevel(line: number, high: boolean): void {
    if (line !== 0) this.kvm.irqLine(line === 2 ? 9 : line, high);
  }
}

export class KvmBackend {
  readonly caps: KvmCaps;
  /** PIC, PIT, I/O APIC and local APIC in the kernel; false: our PIC and PIT, injected with KVM_INTERRUPT. */
  readonly kernelIrqchip: boolean;
  /** ROM slots are KVM_MEM_READONLY (not on PVM, where code there stalls). */
  readonly readonlyRom: boolean;
  private readonly supportedCpuid: CpuidEntry[];
  private readonly mmapSize: number;
  private readonly hostBase: number;
  private vmHandle: KvmVm | null = null;
  private slotMap: SlotMap | null = null;
  private closed = false;

  private constructor(
    private readonly sys: KvmSystem,
    private readonly memory: GuestMemory,
    options: KvmBackendOptions,
  ) {
    this.caps = readCaps(sys);
    const mode = options.irqchip ?? 'auto';
    if (mode === 'kernel' && !(this.caps.irqchip && this.caps.pit2)) {
      throw new KvmError('this KVM has no in-kernel irqchip and PIT (TERRARIUM_KVM_IRQCHIP=kernel)', 'KVM_CHECK_EXTENSION', 0);
    }
    this.kernelIrqchip = mode === 'kernel' || (mode === 'auto' && this.caps.irqchip && this.caps.pit2);
    this.readonlyRom = this.caps.readonlyMem && options.probe.flavour !== 'pvm';
    this.supportedCpuid = sys.supportedCpuid();
    this.mmapSize = sys.vcpuMmapSize();
    this.hostBase = libc().addressOf(memory.u8);
    // Slots follow every remap (PAM shadowing, BARs, MMIO registrations).
    memory.onMapChange(() => this.slotMap?.sync());
  }

  /** Open /dev/kvm and build the VM with its memory; throws KvmError (a host refusal) with one line. */
  static create(options: KvmBackendOptions): KvmBackend {
    const sys = KvmSystem.open(options.probe.device);
    try {
      const b = new KvmBackend(sys, options.memory, options);
      b.createVm();
      return b;
    } catch (e) {
      sys.close();
      throw e;
    }
  }

  get vm(): KvmVm {
    if (this.vmHandle === null) throw new KvmError('the KVM virtual machine is closed', 'KVM_CREATE_VM', 0);
    return this.vmHandle;
  }

  /** The CPUID the guest sees. */
  get cpuid(): CpuidEntry[] {
    return guestCpuid(this.supportedCpuid, { lapic: this.kernelIrqchip });
  }

  private createVm(): void {
    const vm = this.sys.createVm();
    this.vmHandle = vm;
    try {
      // Intel without unrestricted guest runs real mode through these; harmless elsewhere.
      if (this.caps.tssAddr) vm.setTssAddr(TSS_ADDR);
      if (this.caps.identityMapAddr) vm.setIdentityMapAddr(IDENTITY_MAP_ADDR);
      if (this.kernelIrqchip) {
        vm.createIrqchip();
        // The kernel PIT also owns port 0x61, so the speaker gate matches its channel 2.
        vm.createPit2(PIT_SPEAKER_DUMMY);
      }
      this.slotMap = new SlotMap(vm, this.memory, this.hostBase, this.readonlyRom, this.caps.memslots);
      this.slotMap.sync();
    } catch (e) {
      vm.close();
      this.vmHandle = null;
      this.slotMap = null;
      throw e;
    }
  }

  /** A fresh VM on the same memory (machine reset: the in-kernel devices restart too). */
  recreateVm(): void {
    this.vmHandle?.close();
    this.vmHandle = null;
    this.slotMap = null;
    this.createVm();
  }

  get slots(): SlotMap | null {
    return this.slotMap;
  }

  /** Drive an ISA interrupt line of the in-kernel PIC/IOAPIC. */
  irqLine(line: number, high: boolean): void {
    this.vm.irqLine(line, high);
  }

  /** Start the vCPU thread, held; `state` null keeps KVM's power-on state. */
  startVcpu(state: CpuState | null): Promise<VcpuThread> {
    return VcpuThread.start({ vmFd: this.vm.fd, mmapSize: this.mmapSize, cpuid: this.cpuid, kernelIrqchip: this.kernelIrqchip, state });
  }

  /** Close the VM and /dev/kvm; later calls do nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.vmHandle?.close();
    this.vmHandle = null;
    this.slotMap = null;
    this.sys.close();
  }
}
