import type { AccessSize } from '../../bus/io-bus.js';
import type { IrqSink } from '../../bus/irq.js';
import { BadInputError } from '../../errors.js';
import type { MmioHandler } from '../../memory/guest-memory.js';
import type { Device, DeviceState } from '../device.js';
import { StateReader } from '../state.js';
import type { ApicBus, EoiListener } from './apic-bus.js';
import {
  DM_FIXED,
  DM_LOWEST_PRIORITY,
  ICR_DEST_LOGICAL,
  IOAPIC_IOREGSEL,
  IOAPIC_IOWIN,
  IOAPIC_PINS,
  IOAPIC_REG_ARB,
  IOAPIC_REG_ID,
  IOAPIC_REG_REDTBL,
  IOAPIC_REG_VERSION,
  IOAPIC_VERSION_VALUE,
  LVT_MASKED,
  LVT_REMOTE_IRR,
  LVT_TRIGGER_LEVEL,
  REDIR_HI_WRITE_MASK,
  REDIR_LO_WRITE_MASK,
  SHORTHAND_NONE,
} from './constants.js';

export interface IoApicOptions {
  /** The APIC bus its messages go out on; the constructor attaches it for EOI broadcasts. */
  bus: ApicBus;
  /** I/O APIC ID (0..15) at reset; the MADT must give the same value. Default 0. */
  id?: number;
}

/**
 * An 82093AA-style I/O APIC: 24 interrupt input pins, each routed by a 64-bit redirection
 * entry to local APICs as a bus message. Devices drive the pins through IrqSink.setIrqLevel,
 * the same interface the PIC has, so the machine can wire every ISA/PCI line to both.
 *
 * Edge pins deliver on the asserting edge (edges on a masked pin are lost, as on the 82093AA);
 * level pins deliver while asserted, set Remote IRR, and deliver again after the local APIC's
 * EOI if still asserted. A masked level pin that is asserted delivers once unmasked.
 */
export class IoApic implements Device, MmioHandler, IrqSink, EoiListener {
  readonly name = 'ioapic';
  private readonly bus: ApicBus;
  private readonly initialId: number;
  private id = 0;
  private ioregsel = 0;
  private readonly lo = new Uint32Array(IOAPIC_PINS);
  private readonly hi = new Uint32Array(IOAPIC_PINS);
  /** Input levels, one bit per pin: logical (asserted), whatever the polarity bit says. */
  private lines = 0;

  constructor(options: IoApicOptions) {
    const id = options.id ?? 0;
    if (!Number.isInteger(id) || id < 0 || id > 15) throw new BadInputError(`I/O APIC: ID ${id} is not in 0..15`, { id });
    this.initialId = id;
    this.bus = options.bus;
    this.bus.attachIoApic(this);
    this.reset();
  }

  /**
   * Whether pin `pin` is asserted. The board's lines are logical (true: the device requests
   * an interrupt), so the entry's polarity bit, which describes the wire, changes nothing, as
   * in QEMU: Linux programs PCI pins active-low (their wires are), and inverting our logical
   * level then masked the e1000's interrupts whenever the NIC had something to say.
   */
  private asserted(pin: number): boolean {
    return ((this.lines >>> pin) & 1) === 1;
  }

  /** Level-triggered in the Remote IRR sense: only fixed and lowest-priority entries are. */
  private isLevel(entry: number): boolean {
    const mode = (entry >>> 8) & 7;
    return (entry & LVT_TRIGGER_LEVEL) !== 0 && (mode === DM_FIXED || mode === DM_LOWEST_PRIORITY);
  }

  private send(pin: number): boolean {
    const e = this.lo[pin];
    return this.bus.deliver(this.hi[pin] >>> 24, (e & ICR_DEST_LOGICAL) !== 0, (e >>> 8) & 7, e & 0xff, this.isLevel(e), SHORTHAND_NONE, null);
  }

  /** Deliver a level pin's interrupt if it is asserted, unmasked and not already in service. */
  private serviceLevel(pin: number): void {
    const e = this.lo[pin];
    if ((e & (LVT_MASKED | LVT_REMOTE_IRR)) !== 0 || !this.asserted(pin)) return;
    // Remote IRR is set only when some APIC took the interrupt, else the pin would stay
    // blocked forever waiting for an EOI nobody will send.
    if (this.send(pin)) this.lo[pin] |= LVT_REMOTE_IRR;
  }

  /** IrqSink: drive input pin `line` (0..23); other lines are ignored. */
  setIrqLevel(line: number, high: boolean): void {
    if (line < 0 || line >= IOAPIC_PINS) return;
    const was = this.asserted(line);
    const bit = 1 << line;
    this.lines = high ? this.lines | bit : this.lines & ~bit;
    const now = this.asserted(line);
    if (now === was) return;
    const e = this.lo[line];
    if (this.isLevel(e)) {
      if (now) this.serviceLevel(line);
      return;
    }
    if (now && (e & LVT_MASKED) === 0) this.send(line);
  }

  /** Same as setIrqLevel (the name the brief and datasheet use). */
  setIrq(pin: number, level: boolean): void {
    this.setIrqLevel(pin, level);
  }

  /** EOI broadcast for `vector`: clear Remote IRR on matching entries, redeliver still-asserted levels. */
  onEoi(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const e = this.lo[pin];
      if ((e & 0xff) !== vector || (e & LVT_REMOTE_IRR) === 0) continue;
      this.lo[pin] = e & ~LVT_REMOTE_IRR;
      if (this.isLevel(e)) this.serviceLevel(pin);
    }
  }

  private readRegister(index: number): number {
    if (index >= IOAPIC_REG_REDTBL && index < IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS) {
      const pin = (index - IOAPIC_REG_REDTBL) >>> 1;
      return (index & 1) === 0 ? this.lo[pin] : this.hi[pin];
    }
    switch (index) {
      case IOAPIC_REG_ID:
      case IOAPIC_REG_ARB: // arbitration ID follows the APIC ID
        return this.id << 24;
      case IOAPIC_REG_VERSION:
        return IOAPIC_VERSION_VALUE;
      default:
        return 0;
    }
  }

  private writeRegister(index: number, value: number): void {
    if (index >= IOAPIC_REG_REDTBL && index < IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS) {
      const pin = (index - IOAPIC_REG_REDTBL) >>> 1;
      if ((index & 1) === 1) {
        this.hi[pin] = (value & REDIR_HI_WRITE_MASK) >>> 0;
        return;
      }
      const old = this.lo[pin];
      let e = (value & REDIR_LO_WRITE_MASK) | (old & LVT_REMOTE_IRR);
      // Remote IRR only means something for level entries.
      if (!this.isLevel(e)) e &= ~LVT_REMOTE_IRR;
      this.lo[pin] = e;
      // Unmasking (or reprogramming) a still-asserted level pin delivers it now.
      if (this.isLevel(e)) this.serviceLevel(pin);
      return;
    }
    if (index === IOAPIC_REG_ID) this.id = (value >>> 24) & 0xf;
    // Version and arbitration are read-only; other indexes do not exist.
  }

  mmioRead(addr: number, size: AccessSize): number {
    const off = addr & 0xfff;
    let v: number;
    if (off >= IOAPIC_IOREGSEL && off < IOAPIC_IOREGSEL + 4) v = this.ioregsel;
    else if (off >= IOAPIC_IOWIN && off < IOAPIC_IOWIN + 4) v = this.readRegister(this.ioregsel);
    else return 0;
    const shift = (off & 3) * 8;
    if (size === 4) return (v >>> shift) >>> 0;
    return (v >>> shift) & (size === 2 ? 0xffff : 0xff);
  }

  mmioWrite(addr: number, size: AccessSize, value: number): void {
    const off = addr & 0xfff;
    if (off === IOAPIC_IOREGSEL) {
      this.ioregsel = value & 0xff;
    } else if (off === IOAPIC_IOWIN && size === 4) {
      this.writeRegister(this.ioregsel, value >>> 0);
    }
    // Narrower IOWIN writes and other offsets are dropped (the 82093AA takes dword accesses).
  }

  reset(): void {
    this.id = this.initialId;
    this.ioregsel = 0;
    this.lo.fill(LVT_MASKED);
    this.hi.fill(0);
    this.lines = 0;
  }

  save(): DeviceState {
    return { version: 1, id: this.id, ioregsel: this.ioregsel, lo: Array.from(this.lo), hi: Array.from(this.hi), lines: this.lines };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    const id = r.int('id', 0, 15);
    const ioregsel = r.int('ioregsel', 0, 0xff);
    const lo = r.ints('lo', 0, 0xffffffff, IOAPIC_PINS);
    const hi = r.ints('hi', 0, 0xffffffff, IOAPIC_PINS);
    const lines = r.int('lines', 0, (1 << IOAPIC_PINS) - 1);
    this.id = id;
    this.ioregsel = ioregsel;
    for (let i = 0; i < IOAPIC_PINS; i++) {
      this.lo[i] = lo[i] & (REDIR_LO_WRITE_MASK | LVT_REMOTE_IRR);
      this.hi[i] = (hi[i] & REDIR_HI_WRITE_MASK) >>> 0;
    }
    this.lines = lines;
  }

  /** One redirection entry as [low, high] dwords (debuggers and tests). */
  inspectEntry(pin: number): [number, number] {
    return [this.lo[pin], this.hi[pin]];
  }
}
