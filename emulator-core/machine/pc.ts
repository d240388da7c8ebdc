/**
 * The PC board: guest memory, the port bus, the timer queue and the legacy devices,
 * wired the way an ISA PC wires them. Both CPU backends drive the same board.
 */
import { IoBus } from '../bus/io-bus.js';
import { IrqLine, type CpuInterruptPins, type IrqSink } from '../bus/irq.js';
import { AcpiPm, PM_BLOCK_SIZE } from '../devices/acpi-pm.js';
import type { Device } from '../devices/device.js';
import { I8042 } from '../devices/i8042.js';
import { Pic } from '../devices/pic.js';
import { IsaIrqRouter } from '../devices/piix-isa.js';
import { Pit } from '../devices/pit.js';
import { Port92 } from '../devices/port92.js';
import { PostPort } from '../devices/post.js';
import { Rtc } from '../devices/rtc.js';
import { Uart } from '../devices/uart.js';
import { GuestMemory } from '../memory/guest-memory.js';
import type { Clock } from './clock.js';
import type { MachineControl } from './control.js';
import { TimerQueue } from './timers.js';

export interface PcBoardOptions {
  ramBytes: number;
  romBytes: number;
  clock: Clock;
  /** The CPU's INTR/NMI pins (set once the CPU exists; the PIC drives them). */
  pins: CpuInterruptPins;
  control: MachineControl;
  serialOutput: (bytes: Uint8Array) => void;
  sharedMemory?: boolean;
  /** Room for the software CPUs' state blocks (GuestMemory stateBytes; default one CPU). */
  stateBytes?: number;
}

/** Forwards to the CPU pins assigned later, so devices can be built before the CPU. */
export class DeferredPins implements CpuInterruptPins {
  target: CpuInterruptPins | null = null;
  private level = false;
  setIntr(high: boolean): void {
    this.level = high;
    this.target?.setIntr(high);
  }
  raiseNmi(): void {
    this.target?.raiseNmi();
  }
  attach(target: CpuInterruptPins): void {
    this.target = target;
    target.setIntr(this.level);
  }
}

/** Where the ACPI PM block sits for direct boot, and its SCI (as on a PIIX4 PC). */
export const ACPI_PM_BASE = 0x600;
export const ACPI_SCI_IRQ = 9;
/** ACPI tables for direct boot go into the reserved BIOS area. */
export const ACPI_TABLES_ADDR = 0xf0000;

export class PcBoard {
  readonly memory: GuestMemory;
  readonly io = new IoBus();
  readonly timers: TimerQueue;
  readonly pic: Pic;
  /** ISA lines ORed with routed PCI interrupts before they reach the PIC. */
  readonly irqRouter: IsaIrqRouter;
  readonly pit: Pit;
  readonly rtc: Rtc;
  readonly com1: Uart;
  readonly i8042: I8042;
  readonly port92: Port92;
  readonly post: PostPort;
  readonly acpi: AcpiPm;
  readonly devices: Device[] = [];
  private readonly irqLines: IrqLine[] = [];
  /** Where the ISA lines (PCI interrupts ORed in) go: the PIC pair, and the I/O APIC when there is one. */
  private readonly isaOutputs: IrqSink[] = [];

  constructor(options: PcBoardOptions) {
    this.memory = new GuestMemory(options.ramBytes, { romBytes: options.romBytes, shared: options.sharedMemory, stateBytes: options.stateBytes });
    this.timers = new TimerQueue(options.clock);
    this.pic = new Pic(options.pins);
    this.isaOutputs.push(this.pic);
    const outputs = this.isaOutputs;
    this.irqRouter = new IsaIrqRouter({
      setIrqLevel: (line, high) => {
        for (const o of outputs) o.setIrqLevel(line, high);
      },
    });
    const sinks: IrqSink[] = [this.irqRouter];
    for (let i = 0; i < 16; i++) this.irqLines.push(new IrqLine(i, sinks));

    this.io.register(0x20, 2, this.pic, 'pic');
    this.io.register(0xa0, 2, this.pic, 'pic');
    this.io.register(0x4d0, 2, this.pic, 'pic');
    this.pit = new Pit({ timers: this.timers, irq: this.irq(0) });
    this.io.register(0x40, 4, this.pit, 'pit');
    this.io.register(0x61, 1, this.pit, 'pit');
    this.rtc = new Rtc({ timers: this.timers, irq: this.irq(8) });
    this.io.register(0x70, 2, this.rtc, 'rtc');
    this.rtc.setMemorySize(options.ramBytes);
    this.com1 = new Uart({ base: 0x3f8, irq: this.irq(4), output: options.serialOutput, name: 'com1' });
    this.io.register(0x3f8, 8, this.com1, 'com1');
    this.i8042 = new I8042({ control: options.control, kbdIrq: this.irq(1), auxIrq: this.irq(12) });
    this.io.register(0x60, 1, this.i8042, 'i8042');
    this.io.register(0x64, 1, this.i8042, 'i8042');
    this.port92 = new Port92(options.control);
    this.io.register(0x92, 1, this.port92, 'port92');
    this.post = new PostPort();
    this.io.register(0x80, 1, this.post, 'post');
    this.acpi = new AcpiPm({ clock: options.clock, sci: this.irq(ACPI_SCI_IRQ), control: options.control });
    this.io.register(this.acpi.base, PM_BLOCK_SIZE, this.acpi, 'acpi-pm');
    this.devices.push(this.pic, this.pit, this.rtc, this.com1, this.i8042, this.port92, this.post, this.acpi);
  }

  /** Send the ISA lines to another interrupt controller too (the I/O APIC), from power-on. */
  addIsaOutput(sink: IrqSink): void {
    this.isaOutputs.push(sink);
  }

  /**
   * Route the ISA lines to `sinks` instead of the PIC (and whatever else was added): KVM's
   * in-kernel irqchip has its own PIC and I/O APIC, fed with KVM_IRQ_LINE.
   */
  replaceIsaOutputs(sinks: readonly IrqSink[]): void {
    this.isaOutputs.length = 0;
    this.isaOutputs.push(...sinks);
  }

  irq(line: number): IrqLine {
    return this.irqLines[line];
  }

  reset(): void {
    for (const d of this.devices) d.reset();
  }
}
