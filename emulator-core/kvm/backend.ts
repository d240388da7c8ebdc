/**
 * A KVM virtual machine for a PcBoard: the VM file descriptor, memory slots that follow the
 * board's page map, the interrupt controllers (in the kernel where KVM has them, else ours),
 * and the vCPU thread. Lives on the machine thread; the run loop is machine/kvm-loop.ts.
 */
import type { IrqSink } from '../bus/irq.js';
import type { CpuState } from '../cpu/state.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { IDENTITY_MAP_ADDR, IRQCHIP_IOAPIC, IRQCHIP_PIC_MASTER, IRQCHIP_PIC_SLAVE, PIT_SPEAKER_DUMMY, TSS_ADDR } from './abi.js';
import { guestCpuid } from './cpuid.js';
import { KvmError } from './errors.js';
import { KvmSystem, readCaps, type CpuidEntry, type GsiRoute, type KvmCaps, type KvmVm } from './kvm.js';
import { SlotMap } from './memory-slots.js';
import { libc } from './native.js';
import type { KvmProbe } from './probe.js';
import { VcpuThread, type VcpuBell } from './vcpu-thread.js';

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

/**
 * The in-kernel irqchip wired as our board is (and as the MADT and SeaBIOS's tables say, with
 * their IRQ0 override): ISA IRQs 0-15 on the PIC pair (2 is the cascade), GSIs 1-23 on the I/O
 * APIC pin of the same number, and the timer's GSI 0 on pin 2, as QEMU routes it. KVM's
 * default routing puts GSI 0 on pin 0, where a guest following the override finds no timer.
 */
export function pcGsiRoutes(): GsiRoute[] {
  const routes: GsiRoute[] = [];
  for (let irq = 0; irq < 16; irq++) {
    if (irq === 2) continue;
    routes.push({ gsi: irq, chip: irq < 8 ? IRQCHIP_PIC_MASTER : IRQCHIP_PIC_SLAVE, pin: irq & 7 });
  }
  routes.push({ gsi: 0, chip: IRQCHIP_IOAPIC, pin: 2 });
  for (let gsi = 1; gsi < 24; gsi++) if (gsi !== 2) routes.push({ gsi, chip: IRQCHIP_IOAPIC, pin: gsi });
  return routes;
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

  /** The CPUID vCPU `index` sees. */
  cpuidFor(index: number): CpuidEntry[] {
    return guestCpuid(this.supportedCpuid, { lapic: this.kernelIrqchip, apicId: index });
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
        vm.setGsiRouting(pcGsiRoutes());
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

  /**
   * Start vCPU `index`'s thread, held; `state` null keeps KVM's power-on state (the reset
   * vector for the BSP; with the in-kernel irqchip, wait-for-SIPI for the others). Its
   * doorbell also rings `bell`, shared by the VM's vCPUs.
   */
  startVcpu(state: CpuState | null, index = 0, bell?: VcpuBell): Promise<VcpuThread> {
    return VcpuThread.start({ vmFd: this.vm.fd, vcpuId: index, bell, mmapSize: this.mmapSize, cpuid: this.cpuidFor(index), kernelIrqchip: this.kernelIrqchip, state });
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
