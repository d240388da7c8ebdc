/**
 * PCI function model shared by every PCI device (host bridge, ISA bridge, IDE, VGA, ACPI):
 * a 256-byte configuration space with the standard header, BAR sizing and decoding, and
 * a callback when the guest moves a BAR or toggles decoding. The PCI bus (the chipset's
 * config mechanism #1 at 0xCF8/0xCFC) owns the functions and maps their BARs.
 */
import type { AccessSize } from './io-bus.js';

export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION = 0x08;
export const PCI_PROG_IF = 0x09;
export const PCI_SUBCLASS = 0x0a;
export const PCI_CLASS = 0x0b;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_BAR = 0x30;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const PCI_COMMAND_IO = 1 << 0;
export const PCI_COMMAND_MEMORY = 1 << 1;
export const PCI_COMMAND_MASTER = 1 << 2;

export type BarKind = 'io' | 'mem32' | 'mem32-prefetch';

export interface BarSpec {
  kind: BarKind;
  /** Size in bytes, a power of two (IO >= 4, memory >= 16; memory BARs are mapped page-wise). */
  size: number;
}

export interface PciIdentity {
  vendor: number;
  device: number;
  revision?: number;
  classCode: number;
  subclass: number;
  progIf?: number;
  headerType?: number;
  subsystemVendor?: number;
  subsystemId?: number;
  /** INTx pin: 0 none, 1 INTA .. 4 INTD. */
  interruptPin?: number;
}

/** Called when a BAR's decoded address changes: base -1 means "not decoded". */
export type BarListener = (bar: number, base: number, spec: BarSpec) => void;

export class PciFunction {
  readonly config = new Uint8Array(256);
  /** BAR number -> spec (BARs 0..5, and 6 for the expansion ROM). */
  readonly bars = new Map<number, BarSpec>();
  /** Bits of each config byte the guest may write (1 = writable). */
  protected readonly writeMask = new Uint8Array(256);
  private readonly barBase = new Map<number, number>();
  onBarChange: BarListener | null = null;

  constructor(
    readonly name: string,
    id: PciIdentity,
  ) {
    const c = this.config;
    const dv = new DataView(c.buffer);
    dv.setUint16(PCI_VENDOR_ID, id.vendor, true);
    dv.setUint16(PCI_DEVICE_ID, id.device, true);
    c[PCI_REVISION] = id.revision ?? 0;
    c[PCI_PROG_IF] = id.progIf ?? 0;
    c[PCI_SUBCLASS] = id.subclass;
    c[PCI_CLASS] = id.classCode;
    c[PCI_HEADER_TYPE] = id.headerType ?? 0;
    dv.setUint16(PCI_SUBSYSTEM_VENDOR, id.subsystemVendor ?? 0, true);
    dv.setUint16(PCI_SUBSYSTEM_ID, id.subsystemId ?? 0, true);
    c[PCI_INTERRUPT_PIN] = id.interruptPin ?? 0;
    // Command register: IO, memory, bus master (and interrupt disable, bit 10).
    this.writeMask[PCI_COMMAND] = 0x07;
    this.writeMask[PCI_COMMAND + 1] = 0x04;
    this.writeMask[PCI_INTERRUPT_LINE] = 0xff;
  }

  /** Declare BAR `n` (0-5, or 6 for the ROM BAR). Call from the constructor. */
  protected defineBar(n: number, spec: BarSpec): void {
    this.bars.set(n, spec);
    const off = n === 6 ? PCI_ROM_BAR : PCI_BAR0 + n * 4;
    const low = spec.kind === 'io' ? 1 : spec.kind === 'mem32-prefetch' ? 8 : 0;
    new DataView(this.config.buffer).setUint32(off, low, true);
    const mask = ~(spec.size - 1) >>> 0;
    const rw = n === 6 ? mask | 1 : mask;
    for (let i = 0; i < 4; i++) this.writeMask[off + i] = (rw >>> (i * 8)) & 0xff;
    // The low type bits are read-only.
    this.writeMask[off] &= spec.kind === 'io' ? 0xfc : n === 6 ? 0xff : 0xf0;
  }

  /** Decoded base of BAR n, or -1 when its decoding is off or it is unassigned. */
  barAddress(n: number): number {
    return this.barBase.get(n) ?? -1;
  }

  get command(): number {
    return this.config[PCI_COMMAND] | (this.config[PCI_COMMAND + 1] << 8);
  }

  get busMaster(): boolean {
    return (this.command & PCI_COMMAND_MASTER) !== 0;
  }

  configRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.configReadByte(offset + i) << (i * 8);
    return v >>> 0;
  }

  configWrite(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.configWriteByte(offset + i, (value >>> (i * 8)) & 0xff);
    this.updateBars();
  }

  /** Override for registers with side effects on read. */
  protected configReadByte(offset: number): number {
    return this.config[offset & 0xff];
  }

  /** Override for device-specific registers; call super for the standard header. */
  protected configWriteByte(offset: number, value: number): void {
    offset &= 0xff;
    const m = this.writeMask[offset];
    this.config[offset] = (this.config[offset] & ~m) | (value & m);
  }

  /** Re-evaluate which BARs decode where; notifies onBarChange for every change. */
  updateBars(): void {
    const dv = new DataView(this.config.buffer);
    const cmd = this.command;
    for (const [n, spec] of this.bars) {
      const off = n === 6 ? PCI_ROM_BAR : PCI_BAR0 + n * 4;
      const raw = dv.getUint32(off, true);
      let base: number;
      if (spec.kind === 'io') base = (cmd & PCI_COMMAND_IO) !== 0 ? raw & 0xfffc : -1;
      else if (n === 6) base = (cmd & PCI_COMMAND_MEMORY) !== 0 && (raw & 1) !== 0 ? (raw & 0xfffff800) >>> 0 : -1;
      else base = (cmd & PCI_COMMAND_MEMORY) !== 0 ? (raw & 0xfffffff0) >>> 0 : -1;
      // An all-zero or all-ones (sizing) address is not decoded.
      if (base === 0 || (spec.kind === 'io' ? base === 0xfffc : base >= 0xfffff000)) base = -1;
      const old = this.barBase.get(n) ?? -1;
      if (old !== base) {
        this.barBase.set(n, base);
        this.onBarChange?.(n, base, spec);
      }
    }
  }

  /** Power-on state of the standard header: decoding off, BARs cleared. */
  resetConfig(): void {
    const dv = new DataView(this.config.buffer);
    dv.setUint16(PCI_COMMAND, 0, true);
    for (const [n, spec] of this.bars) {
      const off = n === 6 ? PCI_ROM_BAR : PCI_BAR0 + n * 4;
      dv.setUint32(off, spec.kind === 'io' ? 1 : spec.kind === 'mem32-prefetch' ? 8 : 0, true);
    }
    this.config[PCI_INTERRUPT_LINE] = 0;
    this.updateBars();
  }
}
