/**
 * PIIX3 PCI-to-ISA bridge (PCI 00:01.0, 8086:7000, multi-function) and the ISA interrupt
 * lines as the 8259 pair sees them.
 *
 * PCI interrupts are level-triggered and shared: every INTx pin is wired to one of four
 * PIRQ lines (A-D), and the PIRQ route control registers 0x60-0x63 steer each PIRQ to an
 * ISA IRQ (bit 7 disables the route). Firmware picks the IRQs and marks them level in the
 * ELCR (0x4D0/0x4D1, in the PIC model), and Linux reprograms them through ACPI's link
 * devices or the $PIR table. An ISA input of the PIC is high while its ISA device or any
 * PIRQ routed to it is asserted.
 */
import type { IrqSink } from '../bus/irq.js';
import { PciFunction } from '../bus/pci.js';
import type { Device, DeviceState } from './device.js';
import type { PirqSink } from './pci-bus.js';
import { StateReader } from './state.js';

export const PIIX_PIRQRC = 0x60;
/** IRQs a PIRQ may be steered to (the PIIX3 datasheet's valid routing values). */
const ROUTABLE = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 14) | (1 << 15);

/** ORs the ISA devices' lines with the PCI interrupts routed onto them before the PIC. */
export class IsaIrqRouter implements IrqSink {
  private isaLevels = 0;
  private pciLevels = 0;

  constructor(private readonly pic: IrqSink) {}

  setIrqLevel(line: number, high: boolean): void {
    const bit = 1 << line;
    const before = (this.isaLevels | this.pciLevels) & bit;
    this.isaLevels = high ? this.isaLevels | bit : this.isaLevels & ~bit;
    const after = (this.isaLevels | this.pciLevels) & bit;
    if (before !== after) this.pic.setIrqLevel(line, after !== 0);
  }

  /** The levels the PCI side drives, one bit per ISA IRQ. */
  setPciLevels(levels: number): void {
    const before = this.isaLevels | this.pciLevels;
    this.pciLevels = levels;
    const after = this.isaLevels | levels;
    const changed = before ^ after;
    if (changed === 0) return;
    for (let line = 0; line < 16; line++) if ((changed >> line) & 1) this.pic.setIrqLevel(line, ((after >> line) & 1) !== 0);
  }

  get pciMask(): number {
    return this.pciLevels;
  }
}

export class PiixIsa extends PciFunction implements Device, PirqSink {
  /** Asserted sources per PIRQ, one bit per source. */
  private readonly sources = [0, 0, 0, 0];

  constructor(private readonly router: IsaIrqRouter) {
    super('piix3-isa', { vendor: 0x8086, device: 0x7000, classCode: 0x06, subclass: 0x01, headerType: 0x80 });
    // The device-specific registers (IORT, XBCS, PIRQRC, TOM, MBIRQ, APIC base, ...) are
    // plain storage for firmware; only the PIRQ routes have an effect here.
    for (let r = 0x40; r < 0x100; r++) this.writeMask[r] = 0xff;
    this.reset();
  }

  setPirq(pirq: number, source: number, high: boolean): void {
    const bit = 1 << (source & 31);
    this.sources[pirq] = high ? this.sources[pirq]! | bit : this.sources[pirq]! & ~bit;
    this.route();
  }

  /** The ISA IRQ PIRQ n is routed to, or -1 when disabled. */
  pirqRoute(n: number): number {
    const v = this.config[PIIX_PIRQRC + n]!;
    if ((v & 0x80) !== 0) return -1;
    const irq = v & 0x0f;
    return ((ROUTABLE >> irq) & 1) !== 0 ? irq : -1;
  }

  private route(): void {
    let levels = 0;
    for (let n = 0; n < 4; n++) {
      if (this.sources[n] === 0) continue;
      const irq = this.pirqRoute(n);
      if (irq >= 0) levels |= 1 << irq;
    }
    if (levels !== this.router.pciMask) this.router.setPciLevels(levels);
  }

  protected override configWriteByte(offset: number, value: number): void {
    super.configWriteByte(offset, value);
    if (offset >= PIIX_PIRQRC && offset < PIIX_PIRQRC + 4) this.route();
  }

  reset(): void {
    this.resetConfig();
    const c = this.config;
    c.fill(0, 0x40);
    // Power-on values from the PIIX3 datasheet.
    c[0x4c] = 0x4d; // IORT
    c[0x4e] = 0x03; // XBCS: RTC and keyboard decode
    c.fill(0x80, PIIX_PIRQRC, PIIX_PIRQRC + 4); // PIRQ routes disabled
    c[0x69] = 0x02; // TOM
    c[0x70] = 0x80; // MBIRQ0 disabled
    c[0x76] = 0x0c; // MBDMA
    c[0x77] = 0x0c;
    c[0x78] = 0x02; // PCSC
    c[0xa0] = 0x08; // SMI control
    c[0xa8] = 0x0f;
    this.route();
  }

  save(): DeviceState {
    return { version: 1, config: Array.from(this.config) };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    this.config.set(r.ints('config', 0, 255, 256));
    this.route();
  }
}
