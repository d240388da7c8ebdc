/**
 * KVM's vCPUs behind the machine's `Vcpus` interface: the VM (kvm/backend.ts), one thread per
 * vCPU, and the run loop that serves their port and MMIO exits (kvm-loop.ts). The kernel keeps
 * each vCPU's state; nothing of the software CPU is built. Several vCPUs need the in-kernel
 * irqchip: its local APICs carry the IPIs that start and steer the application processors.
 */
import { BadInputError } from '../errors.js';
import { KvmBackend, KvmIrqchipLines, type IrqchipMode } from '../kvm/backend.js';
import type { KvmProbe } from '../kvm/probe.js';
import { runKvmLoop } from './kvm-loop.js';
import type { PcBoard } from './pc.js';
import type { MachineExit } from './types.js';
import type { EntryEdit, RunHost, Vcpus } from './vcpus.js';

export interface KvmVcpusOptions {
  count: number;
  board: PcBoard;
  probe: KvmProbe;
  irqchip: IrqchipMode;
}

export class KvmVcpus implements Vcpus {
  readonly count: number;
  /** KVM runs 64-bit code at host speed; the 64-bit entry skips the 32-bit start-up. */
  readonly preferredLinuxEntry = '64';
  /** The in-kernel irqchip's local APICs and I/O APIC (none with our user-space PIC). */
  readonly madtCpus: number | null;
  /** The hardware does not count retired instructions for us. */
  readonly instructionsRetired = null;
  readonly kvm: KvmBackend;
  private entry: EntryEdit | null = null;

  constructor(o: KvmVcpusOptions) {
    this.count = o.count;
    this.kvm = KvmBackend.create({ memory: o.board.memory, probe: o.probe, irqchip: o.irqchip });
    if (o.count > 1 && !this.kvm.kernelIrqchip) {
      this.kvm.close();
      throw new BadInputError(`${o.count} CPUs under KVM need its in-kernel irqchip (TERRARIUM_KVM_IRQCHIP=user has no local APICs to start them)`);
    }
    this.madtCpus = this.kvm.kernelIrqchip ? o.count : null;
    // The in-kernel irqchip is the interrupt sink: our lines feed it instead of our PIC.
    if (this.kvm.kernelIrqchip) o.board.replaceIsaOutputs([new KvmIrqchipLines(this.kvm)]);
  }

  /** The vCPU thread starts when the run does (and again after each reset), from this entry. */
  reset(entry: EntryEdit | null): void {
    this.entry = entry;
  }

  run(host: RunHost): Promise<MachineExit> {
    return runKvmLoop(host, this.kvm, this.count, () => this.entry);
  }

  /** The KVM loop looks at the machine's requests after every exit it serves and whenever it wakes. */
  kick(): void {}

  /** KVM has no A20 gate of ours to model: guests under it run with A20 on, as on modern PCs. */
  setA20(_enabled: boolean): void {}

  close(): void {
    this.kvm.close();
  }
}
