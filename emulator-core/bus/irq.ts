/**
 * Interrupt wiring. Devices hold an IrqLine and set its level; the machine routes each line
 * to the interrupt controllers (PIC pair, later the I/O APIC). Edge-triggered consumers see
 * a rising edge when the level goes from low to high.
 */
export interface IrqSink {
  setIrqLevel(line: number, high: boolean): void;
}

export class IrqLine {
  private level = false;
  constructor(
    readonly line: number,
    private readonly sinks: readonly IrqSink[],
  ) {}

  get high(): boolean {
    return this.level;
  }

  set(high: boolean): void {
    if (high === this.level) return;
    this.level = high;
    for (const s of this.sinks) s.setIrqLevel(this.line, high);
  }

  raise(): void {
    this.set(true);
  }

  lower(): void {
    this.set(false);
  }

  /** An edge for edge-triggered inputs: up then down. */
  pulse(): void {
    this.set(true);
    this.set(false);
  }
}

/**
 * The CPU's interrupt inputs as seen by the interrupt controller: INTR (maskable, the PIC's
 * output) and NMI. The controller also answers the CPU's interrupt acknowledge cycle.
 */
export interface InterruptController {
  /** INTA: the vector of the highest-priority pending interrupt (spurious vector if none). */
  acknowledge(): number;
}

export interface CpuInterruptPins {
  setIntr(high: boolean): void;
  raiseNmi(): void;
}
