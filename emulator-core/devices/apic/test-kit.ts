/**
 * Test fixture for the APIC tests: N local APICs on one bus, a manual guest clock and timer
 * queue, a TSC derived from guest time, and helpers for register access. Not used by the machine.
 */
import { ManualClock } from '../../machine/clock.js';
import { TimerQueue } from '../../machine/timers.js';
import { ApicBus } from './apic-bus.js';
import { LAPIC_BASE, LAPIC_SVR } from './constants.js';
import { LocalApic } from './local-apic.js';

export const TSC_HZ = 2_000_000_000;

export class ApicRig {
  readonly clock = new ManualClock();
  readonly timers = new TimerQueue(this.clock);
  readonly bus = new ApicBus();
  readonly apics: LocalApic[] = [];
  /** onSignal calls per APIC. */
  readonly signals: number[] = [];
  /** Vectors the fake 8259 hands out on ExtINT acknowledge. */
  picVector = 0x08;
  picAcks = 0;

  constructor(count = 1, options: { busHz?: number } = {}) {
    for (let i = 0; i < count; i++) {
      const apic = new LocalApic({
        id: i,
        bsp: i === 0,
        bus: this.bus,
        timers: this.timers,
        busHz: options.busHz,
        tscHz: TSC_HZ,
        readTsc: () => Math.floor((this.clock.now() * TSC_HZ) / 1e9),
      });
      this.signals.push(0);
      apic.onSignal = () => this.signals[i]++;
      apic.extIntAcknowledge = () => {
        this.picAcks++;
        return this.picVector;
      };
      this.apics.push(apic);
    }
  }

  read(i: number, reg: number): number {
    return this.apics[i].mmioRead(LAPIC_BASE + reg, 4);
  }

  write(i: number, reg: number, value: number): void {
    this.apics[i].mmioWrite(LAPIC_BASE + reg, 4, value);
  }

  /** Software-enable APIC i with spurious vector 0xFF. */
  enable(i: number): void {
    this.write(i, LAPIC_SVR, 0x1ff);
  }

  /** Move guest time to `ns`, firing each timer at its own deadline as the run loop would. */
  runTo(ns: number): void {
    for (;;) {
      const next = this.timers.nextDeadline();
      if (next > ns) break;
      if (next > this.clock.now()) this.clock.set(next);
      this.timers.runExpired(this.clock.now());
    }
    this.clock.set(ns);
  }

  tsc(): number {
    return Math.floor((this.clock.now() * TSC_HZ) / 1e9);
  }

  /** Whether `vector` is set in a 256-bit register block (ISR 0x100, TMR 0x180, IRR 0x200). */
  bit(i: number, block: number, vector: number): boolean {
    return ((this.read(i, block + (vector >>> 5) * 0x10) >>> (vector & 31)) & 1) === 1;
  }
}
