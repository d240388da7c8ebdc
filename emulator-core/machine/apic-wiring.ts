/**
 * The APIC interrupt path of the software CPU: a local APIC per vCPU on one APIC bus, an
 * I/O APIC beside the PIC pair, and the links that turn an APIC's state into the CPU's INTR
 * and NMI inputs. Wired as QEMU's i440FX PC is: the PIC's output drives the BSP's LINT0
 * (ExtINT, so a guest that never programs the APICs keeps its PIC interrupts), every ISA
 * line (with the PCI interrupts the PIIX routes onto it) reaches the I/O APIC pin of the
 * same number except IRQ0, which is pin 2 (the MADT says so with an override).
 */
import { ApicBus, IOAPIC_BASE, IOAPIC_ID, IOAPIC_SIZE, IoApic, LAPIC_BASE, LAPIC_SIZE, LocalApic } from '../devices/apic/index.js';
import type { InterruptController, IrqSink } from '../bus/irq.js';
import type { Cpu } from '../cpu/cpu.js';
import type { PcBoard } from './pc.js';
import type { StartupSink } from './software-vcpus.js';

/** Turns a local APIC's pending state into its CPU's INTR/NMI inputs, and answers the CPU's INTA. */
class ApicCpuLink implements InterruptController {
  constructor(
    private readonly cpu: Cpu,
    private readonly lapic: LocalApic,
    private readonly index: number,
    private readonly startup: StartupSink,
  ) {
    lapic.onSignal = () => this.sync();
  }

  sync(): void {
    if (this.lapic.takeInit()) this.startup.init(this.index);
    const sipi = this.lapic.takeSipi();
    if (sipi >= 0) this.startup.startup(this.index, sipi);
    if (this.lapic.takeNmi()) this.cpu.raiseNmi();
    this.cpu.setIntr(this.lapic.hasInterrupt());
  }

  acknowledge(): number {
    const vector = this.lapic.acknowledge();
    this.cpu.setIntr(this.lapic.hasInterrupt());
    return vector;
  }
}

/** ISA IRQ n is I/O APIC pin n, except the timer's IRQ0 on pin 2. */
class IsaToIoApic implements IrqSink {
  constructor(private readonly ioapic: IoApic) {}
  setIrqLevel(line: number, high: boolean): void {
    this.ioapic.setIrqLevel(line === 0 ? 2 : line, high);
  }
}

export interface Apics {
  bus: ApicBus;
  lapics: LocalApic[];
  ioapic: IoApic;
}

/**
 * Build the APICs for `cpus` (index 0 is the BSP) on `board` and connect them; INIT and
 * start-up IPIs go to `startup`.
 */
export function wireApics(board: PcBoard, cpus: readonly Cpu[], startup: StartupSink): Apics {
  const bus = new ApicBus();
  const lapics = cpus.map(
    (cpu, i) =>
      new LocalApic({
        id: i,
        bsp: i === 0,
        bus,
        timers: board.timers,
        tscHz: cpu.tscHz,
        readTsc: () => cpu.readTsc(),
      }),
  );
  const ioapic = new IoApic({ bus, id: IOAPIC_ID });
  board.memory.registerMmio(LAPIC_BASE, LAPIC_SIZE, bus, 'lapic');
  board.memory.registerMmio(IOAPIC_BASE, IOAPIC_SIZE, ioapic, 'ioapic');
  board.addIsaOutput(new IsaToIoApic(ioapic));
  cpus.forEach((cpu, i) => {
    const lapic = lapics[i]!;
    cpu.apic = lapic;
    cpu.pic = new ApicCpuLink(cpu, lapic, i, startup);
  });
  const bsp = lapics[0]!;
  bsp.extIntAcknowledge = () => board.pic.acknowledge();
  board.devices.push(...lapics, ioapic);
  return { bus, lapics, ioapic };
}
