import type { AccessSize, PortIoHandler } from '../bus/io-bus.js';
import type { CpuInterruptPins, InterruptController, IrqSink } from '../bus/irq.js';
import type { Device, DeviceState } from './device.js';
import { StateReader } from './state.js';

const CASCADE = 2;

/** Priority rank of `irq` when `lowest` has the lowest priority: 0 is the highest. */
function rank(irq: number, lowest: number): number {
  return (irq - lowest - 1) & 7;
}

/** The highest-priority set bit of `bits` (0..7), or -1. */
function highest(bits: number, lowest: number): number {
  if (bits === 0) return -1;
  for (let i = 1; i <= 8; i++) {
    const irq = (lowest + i) & 7;
    if (bits & (1 << irq)) return irq;
  }
  return -1;
}

/** One 8259A. The pair and its wiring live in Pic. */
class Chip8259 {
  irr = 0;
  isr = 0;
  imr = 0;
  /** Bits of IR inputs currently high (edge detection, and IRR for level inputs). */
  pins = 0;
  vectorBase = 0;
  /** 0 = operational, 2/3/4 = waiting for ICW2/ICW3/ICW4. */
  initStep = 0;
  needIcw4 = false;
  single = false;
  /** ICW1 LTIM: all inputs level-sensitive. */
  ltim = false;
  icw3 = 0;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;
  specialMask = false;
  readIsr = false;
  pollPending = false;
  /** The IRQ with the lowest priority (7 after init; changed by rotation). */
  lowest = 7;
  elcr = 0;

  constructor(
    readonly isMaster: boolean,
    /** ELCR bits that exist on a PIIX: IRQ0, 1, 2, 8 and 13 are always edge-triggered. */
    readonly elcrMask: number,
  ) {}

  levelBits(): number {
    return this.ltim ? 0xff : this.elcr;
  }

  setPin(irq: number, high: boolean): void {
    const bit = 1 << irq;
    if (high) {
      // Edge inputs latch the rising edge; the request stays until acknowledged, which is
      // what devices that pulse their line (PIT) rely on.
      if ((this.pins & bit) === 0 || this.levelBits() & bit) this.irr |= bit;
      this.pins |= bit;
    } else {
      this.pins &= ~bit;
      if (this.levelBits() & bit) this.irr &= ~bit;
    }
  }

  /** The IRQ this chip would present to the CPU now, or -1. */
  pending(): number {
    if (this.specialMask) {
      // Special mask mode: every unmasked level not in service may interrupt, lower or higher.
      return highest(this.irr & ~this.imr & ~this.isr, this.lowest);
    }
    const req = highest(this.irr & ~this.imr, this.lowest);
    if (req < 0) return -1;
    const cur = highest(this.isr, this.lowest);
    if (cur < 0 || rank(req, this.lowest) < rank(cur, this.lowest)) return req;
    // Special fully nested mode lets the slave interrupt again while its cascade input is in
    // service, so higher-priority slave requests nest.
    if (this.isMaster && this.specialFullyNested && req === CASCADE && cur === CASCADE) return req;
    return -1;
  }

  /** INTA or poll for `irq`: move it from IRR to ISR. */
  ack(irq: number): void {
    const bit = 1 << irq;
    // Level inputs keep requesting while the pin is high; the cascade input is the slave's
    // INT output, which the Pic recomputes.
    if ((this.levelBits() & bit) === 0 && !(this.isMaster && irq === CASCADE && !this.single)) this.irr &= ~bit;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.lowest = irq;
    } else {
      this.isr |= bit;
    }
  }

  nonSpecificEoi(rotate: boolean): void {
    const inService = this.specialMask ? this.isr & ~this.imr : this.isr;
    const irq = highest(inService, this.lowest);
    if (irq < 0) return;
    this.isr &= ~(1 << irq);
    if (rotate) this.lowest = irq;
  }

  writeCommand(value: number): void {
    if (value & 0x10) {
      // ICW1 restarts initialization.
      this.initStep = 2;
      this.needIcw4 = (value & 0x01) !== 0;
      this.single = (value & 0x02) !== 0;
      this.ltim = (value & 0x08) !== 0;
      this.imr = 0;
      this.isr = 0;
      // The edge latches are cleared; level inputs that are still high request again.
      this.irr = this.pins & this.levelBits();
      this.lowest = 7;
      this.specialMask = false;
      this.readIsr = false;
      this.pollPending = false;
      if (!this.needIcw4) {
        this.autoEoi = false;
        this.specialFullyNested = false;
      }
      this.rotateOnAutoEoi = false;
      return;
    }
    if (value & 0x08) {
      // OCW3
      if (value & 0x40) this.specialMask = (value & 0x20) !== 0;
      if (value & 0x02) this.readIsr = (value & 0x01) !== 0;
      this.pollPending = (value & 0x04) !== 0;
      return;
    }
    // OCW2
    const level = value & 7;
    switch (value >> 5) {
      case 0: // clear rotate in automatic EOI
        this.rotateOnAutoEoi = false;
        break;
      case 1: // non-specific EOI
        this.nonSpecificEoi(false);
        break;
      case 2: // no operation
        break;
      case 3: // specific EOI
        this.isr &= ~(1 << level);
        break;
      case 4: // set rotate in automatic EOI
        this.rotateOnAutoEoi = true;
        break;
      case 5: // rotate on non-specific EOI
        this.nonSpecificEoi(true);
        break;
      case 6: // set priority
        this.lowest = level;
        break;
      case 7: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.lowest = level;
        break;
    }
  }

  writeData(value: number): void {
    switch (this.initStep) {
      case 2:
        // x86 mode uses only bits 7..3 of ICW2 for the vector base.
        this.vectorBase = value & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? 4 : 0) : 3;
        return;
      case 3:
        this.icw3 = value;
        this.initStep = this.needIcw4 ? 4 : 0;
        return;
      case 4:
        this.autoEoi = (value & 0x02) !== 0;
        this.specialFullyNested = (value & 0x10) !== 0;
        this.initStep = 0;
        return;
      default:
        this.imr = value;
    }
  }

  readCommandRegister(): number {
    return this.readIsr ? this.isr : this.irr;
  }

  reset(): void {
    this.irr = 0;
    this.isr = 0;
    this.imr = 0;
    this.pins = 0;
    this.vectorBase = 0;
    this.initStep = 0;
    this.needIcw4 = false;
    this.single = false;
    this.ltim = false;
    this.icw3 = 0;
    this.autoEoi = false;
    this.rotateOnAutoEoi = false;
    this.specialFullyNested = false;
    this.specialMask = false;
    this.readIsr = false;
    this.pollPending = false;
    this.lowest = 7;
    this.elcr = 0;
  }

  save(): DeviceState {
    return {
      irr: this.irr,
      isr: this.isr,
      imr: this.imr,
      pins: this.pins,
      vectorBase: this.vectorBase,
      initStep: this.initStep,
      needIcw4: this.needIcw4,
      single: this.single,
      ltim: this.ltim,
      icw3: this.icw3,
      autoEoi: this.autoEoi,
      rotateOnAutoEoi: this.rotateOnAutoEoi,
      specialFullyNested: this.specialFullyNested,
      specialMask: this.specialMask,
      readIsr: this.readIsr,
      pollPending: this.pollPending,
      lowest: this.lowest,
      elcr: this.elcr,
    };
  }

  restore(r: StateReader): void {
    this.irr = r.int('irr', 0, 0xff);
    this.isr = r.int('isr', 0, 0xff);
    this.imr = r.int('imr', 0, 0xff);
    this.pins = r.int('pins', 0, 0xff);
    this.vectorBase = r.int('vectorBase', 0, 0xff) & 0xf8;
    const step = r.int('initStep', 0, 4);
    if (step === 1) r.fail('initStep', 'must be 0, 2, 3 or 4');
    this.initStep = step;
    this.needIcw4 = r.bool('needIcw4');
    this.single = r.bool('single');
    this.ltim = r.bool('ltim');
    this.icw3 = r.int('icw3', 0, 0xff);
    this.autoEoi = r.bool('autoEoi');
    this.rotateOnAutoEoi = r.bool('rotateOnAutoEoi');
    this.specialFullyNested = r.bool('specialFullyNested');
    this.specialMask = r.bool('specialMask');
    this.readIsr = r.bool('readIsr');
    this.pollPending = r.bool('pollPending');
    this.lowest = r.int('lowest', 0, 7);
    this.elcr = r.int('elcr', 0, 0xff) & this.elcrMask;
  }
}

/**
 * The PC's two cascaded 8259A interrupt controllers (master 0x20-0x21, slave 0xA0-0xA1,
 * slave INT on master IR2) plus the PIIX edge/level control registers at 0x4D0-0x4D1.
 *
 * Devices drive it through IrqSink.setIrqLevel(0..15); it drives the CPU's INTR pin only
 * when the master's output changes, so the CPU tests a flag instead of polling the PIC.
 */
export class Pic implements Device, PortIoHandler, IrqSink, InterruptController {
  readonly name = 'pic';
  private master = new Chip8259(true, 0xf8);
  private slave = new Chip8259(false, 0xde);
  private intr = false;

  constructor(private readonly pins: CpuInterruptPins) {
    this.reset();
  }

  /** The master's INT output (what the CPU's INTR pin sees). */
  get intrHigh(): boolean {
    return this.intr;
  }

  setIrqLevel(line: number, high: boolean): void {
    if (line < 8) {
      // On the AT bus the IRQ2 pin is rewired to the slave's IR1 (IRQ9), since the master's
      // IR2 carries the cascade.
      if (line === CASCADE) this.slave.setPin(1, high);
      else this.master.setPin(line, high);
    } else {
      this.slave.setPin(line & 7, high);
    }
    this.update();
  }

  acknowledge(): number {
    const m = this.master;
    const irq = m.pending();
    if (irq < 0) {
      // The request went away before INTA: the 8259 answers with IR7 without setting ISR.
      this.update();
      return m.vectorBase | 7;
    }
    m.ack(irq);
    let vector: number;
    if (irq === CASCADE && !m.single) {
      const s = this.slave;
      const sirq = s.pending();
      if (sirq < 0) {
        // Spurious IRQ15: the master's ISR2 stays set, so the OS must EOI the master.
        vector = s.vectorBase | 7;
      } else {
        s.ack(sirq);
        vector = s.vectorBase | sirq;
      }
    } else {
      vector = m.vectorBase | irq;
    }
    this.update();
    return vector;
  }

  /** Recompute the slave's INT into master IR2, then the master's INT into the CPU. */
  private update(): void {
    const slaveOut = this.slave.pending() >= 0;
    const m = this.master;
    if (!m.single) {
      if (slaveOut) {
        m.irr |= 1 << CASCADE;
        m.pins |= 1 << CASCADE;
      } else {
        m.irr &= ~(1 << CASCADE);
        m.pins &= ~(1 << CASCADE);
      }
    }
    const out = m.pending() >= 0;
    if (out !== this.intr) {
      this.intr = out;
      this.pins.setIntr(out);
    }
  }

  private poll(chip: Chip8259): number {
    chip.pollPending = false;
    const irq = chip.pending();
    if (irq < 0) return 0;
    // Polling the master for IR2 does not touch the slave: software polls the slave next.
    chip.ack(irq);
    this.update();
    return 0x80 | irq;
  }

  ioRead(port: number, _size: AccessSize): number {
    switch (port) {
      case 0x20:
      case 0x21:
      case 0xa0:
      case 0xa1: {
        const chip = port < 0xa0 ? this.master : this.slave;
        if (chip.pollPending) return this.poll(chip);
        return (port & 1) === 0 ? chip.readCommandRegister() : chip.imr;
      }
      case 0x4d0:
        return this.master.elcr;
      case 0x4d1:
        return this.slave.elcr;
      default:
        return 0xff;
    }
  }

  ioWrite(port: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    switch (port) {
      case 0x20:
        this.master.writeCommand(value);
        break;
      case 0x21:
        this.master.writeData(value);
        break;
      case 0xa0:
        this.slave.writeCommand(value);
        break;
      case 0xa1:
        this.slave.writeData(value);
        break;
      case 0x4d0:
        this.writeElcr(this.master, value);
        break;
      case 0x4d1:
        this.writeElcr(this.slave, value);
        break;
      default:
        return;
    }
    this.update();
  }

  private writeElcr(chip: Chip8259, value: number): void {
    chip.elcr = value & chip.elcrMask;
    // A line switched to level follows its pin from now on.
    const level = chip.levelBits();
    chip.irr = (chip.irr & ~level) | (chip.pins & level);
  }

  reset(): void {
    this.master.reset();
    this.slave.reset();
    if (this.intr) {
      this.intr = false;
      this.pins.setIntr(false);
    }
  }

  save(): DeviceState {
    return { version: 1, master: this.master.save(), slave: this.slave.save(), intr: this.intr };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    r.bool('intr');
    // Parse into fresh chips so a bad snapshot leaves the running PIC untouched.
    const master = new Chip8259(true, 0xf8);
    const slave = new Chip8259(false, 0xde);
    master.restore(r.obj('master'));
    slave.restore(r.obj('slave'));
    this.master = master;
    this.slave = slave;
    // Re-derive INT from the restored registers and tell the CPU, whatever it held before.
    this.update();
    this.pins.setIntr(this.intr);
  }

  /** Registers for debuggers and tests. */
  inspect(): { master: { irr: number; isr: number; imr: number; base: number }; slave: { irr: number; isr: number; imr: number; base: number } } {
    const m = this.master;
    const s = this.slave;
    return {
      master: { irr: m.irr, isr: m.isr, imr: m.imr, base: m.vectorBase },
      slave: { irr: s.irr, isr: s.isr, imr: s.imr, base: s.vectorBase },
    };
  }
}
