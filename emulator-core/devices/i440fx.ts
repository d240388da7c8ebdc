/**
 * i440FX host bridge (PCI 00:00.0, 8086:1237) with its PAM registers (0x59-0x5F), which
 * decide for each piece of 0xC0000-0xFFFFF whether reads and writes go to DRAM ("shadow
 * RAM") or to the PCI/ISA side, where the BIOS flash decodes at 0xE0000-0xFFFFF.
 *
 * Each PAM nibble holds RE (bit 0: reads from DRAM) and WE (bit 1: writes to DRAM). PAM0's
 * high nibble covers 0xF0000-0xFFFFF; PAM1..PAM6 cover 0xC0000-0xEFFFF in 16 KiB pieces,
 * low nibble first. SeaBIOS sets 0xF0000 to RE|WE, copies itself from the high flash alias
 * into RAM, and at the end makes it RE only (read-only shadow).
 */
import { PciFunction } from '../bus/pci.js';
import { PAGE_ROM, PAGE_RAM, type GuestMemory, type MmioHandler } from '../memory/guest-memory.js';
import type { AccessSize } from '../bus/io-bus.js';
import type { Device, DeviceState } from './device.js';
import { StateReader } from './state.js';

export const I440FX_PAM0 = 0x59;
export const I440FX_SMRAM = 0x72;

interface PamRegion {
  start: number;
  size: number;
  /** Config byte and nibble shift holding the region's RE/WE bits. */
  reg: number;
  shift: number;
}

const REGIONS: PamRegion[] = (() => {
  const r: PamRegion[] = [{ start: 0xf0000, size: 0x10000, reg: I440FX_PAM0, shift: 4 }];
  for (let i = 0; i < 12; i++) r.push({ start: 0xc0000 + i * 0x4000, size: 0x4000, reg: I440FX_PAM0 + 1 + (i >> 1), shift: (i & 1) * 4 });
  return r;
})();

/** Write-only shadow (WE without RE): reads come from the PCI side, writes go to DRAM. */
class WriteOnlyShadow implements MmioHandler {
  constructor(
    private readonly memory: GuestMemory,
    private readonly romAt: (phys: number) => number,
  ) {}

  mmioRead(addr: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const off = this.romAt(addr + i);
      v |= (off < 0 ? 0xff : this.memory.u8[off]) << (i * 8);
    }
    return v >>> 0;
  }

  mmioWrite(addr: number, size: AccessSize, value: number): void {
    // DRAM at these addresses sits at the same offset of the backing buffer.
    const page = addr >>> 12;
    if (this.memory.codePages[page] !== 0) this.memory.codeWritten(page);
    for (let i = 0; i < size; i++) this.memory.u8[addr + i] = (value >>> (i * 8)) & 0xff;
  }
}

export interface I440fxOptions {
  memory: GuestMemory;
  /**
   * Backing offset of the BIOS image's last 128 KiB (or all of it, when smaller), which the
   * flash decodes below 1 MiB at 0x100000 - length; -1 when there is no firmware.
   */
  biosLowBacking: number;
  biosLowLength: number;
}

export class I440fx extends PciFunction implements Device {
  private readonly memory: GuestMemory;
  private readonly biosLowBacking: number;
  private readonly biosLowStart: number;
  /** Current mode (0-3) of each PAM region, -1 before the first apply. */
  private readonly modes = new Int8Array(REGIONS.length).fill(-1);
  private readonly writeOnly: WriteOnlyShadow;

  constructor(options: I440fxOptions) {
    super('i440fx', { vendor: 0x8086, device: 0x1237, revision: 0x02, classCode: 0x06, subclass: 0x00 });
    this.memory = options.memory;
    this.biosLowBacking = options.biosLowBacking;
    this.biosLowStart = 0x100000 - options.biosLowLength;
    if (options.memory.ramBytes < 0x100000) throw new RangeError('the i440FX model needs at least 1 MiB of RAM');
    this.writeOnly = new WriteOnlyShadow(options.memory, (p) => this.romOffset(p));
    for (let r = I440FX_PAM0; r <= I440FX_PAM0 + 6; r++) this.writeMask[r] = r === I440FX_PAM0 ? 0x30 : 0x33;
    this.writeMask[I440FX_SMRAM] = 0x78;
    // Everything else in the device-specific area is plain storage firmware may poke.
    for (const r of [0x50, 0x51, 0x53, 0x55, 0x56, 0x57, 0x58, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x70, 0x71]) this.writeMask[r] = 0xff;
    this.reset();
  }

  /** Backing offset of the flash byte decoded at `phys` below 1 MiB, or -1. */
  private romOffset(phys: number): number {
    if (this.biosLowBacking < 0 || phys < this.biosLowStart || phys >= 0x100000) return -1;
    return this.biosLowBacking + (phys - this.biosLowStart);
  }

  protected override configWriteByte(offset: number, value: number): void {
    super.configWriteByte(offset, value);
    if (offset >= I440FX_PAM0 && offset <= I440FX_PAM0 + 6) this.applyPam();
  }

  /** Remap every region whose RE/WE bits changed. */
  private applyPam(): void {
    for (let i = 0; i < REGIONS.length; i++) {
      const r = REGIONS[i]!;
      const mode = (this.config[r.reg]! >> r.shift) & 3;
      if (mode === this.modes[i]) continue;
      this.modes[i] = mode;
      this.mapRegion(r, mode);
    }
  }

  private mapRegion(r: PamRegion, mode: number): void {
    const m = this.memory;
    switch (mode) {
      case 3:
        m.mapBacking(r.start, r.size, r.start, PAGE_RAM);
        break;
      case 1:
        // Reads from DRAM, writes go to the PCI side, where nothing takes them.
        m.mapBacking(r.start, r.size, r.start, PAGE_ROM);
        break;
      case 2:
        m.registerMmio(r.start, r.size, this.writeOnly, 'i440fx write-only shadow');
        break;
      default: {
        // The PCI side: the BIOS flash where it decodes, nothing elsewhere.
        const rom = this.romOffset(r.start);
        if (rom >= 0 && this.romOffset(r.start + r.size - 1) >= 0) m.mapBacking(r.start, r.size, rom, PAGE_ROM);
        else m.unmap(r.start, r.size);
      }
    }
  }

  reset(): void {
    this.resetConfig();
    for (let r = I440FX_PAM0; r <= I440FX_PAM0 + 6; r++) this.config[r] = 0;
    this.config[I440FX_SMRAM] = 0x02;
    this.applyPam();
  }

  save(): DeviceState {
    return { version: 1, config: Array.from(this.config) };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    const config = r.ints('config', 0, 255, 256);
    this.config.set(config);
    this.modes.fill(-1);
    this.applyPam();
    this.updateBars();
  }
}
