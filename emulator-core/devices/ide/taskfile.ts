/**
 * One device's view of the command block registers. Both devices on a channel latch every
 * register write (they share the cable), so the channel keeps a TaskFile per device slot
 * and writes both; reads come from the selected one. Registers 1-5 are two-deep for
 * 48-bit commands: a write pushes the previous value into the "HOB" copy.
 */
import type { DeviceState } from '../device.js';
import type { StateReader } from '../state.js';
import { DEV_LBA, DEV_OBS } from './constants.js';

export type Signature = 'ata' | 'atapi' | 'none';

export class TaskFile {
  feature = 0;
  nsector = 0;
  sector = 0;
  lcyl = 0;
  hcyl = 0;
  hobFeature = 0;
  hobNsector = 0;
  hobSector = 0;
  hobLcyl = 0;
  hobHcyl = 0;
  select = DEV_OBS;
  status = 0;
  error = 0;
  /** INTRQ asserted by this device (cleared by a status read or a new command). */
  irq = false;

  get lbaMode(): boolean {
    return (this.select & DEV_LBA) !== 0;
  }

  /** LBA of a 28-bit command (device register bits 3-0 are LBA 27-24). */
  lba28(): number {
    return ((this.select & 0x0f) * 0x1000000 + (this.hcyl << 16) + (this.lcyl << 8) + this.sector) >>> 0;
  }

  /** LBA of a 48-bit command. Numbers stay exact: 2^48 < 2^53. */
  lba48(): number {
    const high = (this.hobHcyl << 16) | (this.hobLcyl << 8) | this.hobSector;
    const low = (this.hcyl << 16) | (this.lcyl << 8) | this.sector;
    return high * 0x1000000 + low;
  }

  /** Sector count of a 28-bit command: 0 means 256. */
  count28(): number {
    return this.nsector === 0 ? 256 : this.nsector;
  }

  /** Sector count of a 48-bit command: 0 means 65536. */
  count48(): number {
    const n = (this.hobNsector << 8) | this.nsector;
    return n === 0 ? 65536 : n;
  }

  /** CHS address to LBA with the current translation; -1 when the sector number is 0 or out of range. */
  chsToLba(heads: number, spt: number): number {
    const cyl = (this.hcyl << 8) | this.lcyl;
    const head = this.select & 0x0f;
    if (this.sector === 0 || this.sector > spt || head >= heads) return -1;
    return (cyl * heads + head) * spt + (this.sector - 1);
  }

  /** Put an address back into the registers (after a transfer, or an error's failing sector). */
  setLba(lba: number, lba48: boolean, heads: number, spt: number): void {
    if (!this.lbaMode) {
      const perCyl = heads * spt;
      const cyl = Math.min(Math.floor(lba / perCyl), 0xffff);
      const r = lba % perCyl;
      this.hcyl = (cyl >>> 8) & 0xff;
      this.lcyl = cyl & 0xff;
      this.select = (this.select & 0xf0) | (Math.floor(r / spt) & 0x0f);
      this.sector = (r % spt) + 1;
    } else if (lba48) {
      const low = lba % 0x1000000;
      const high = Math.floor(lba / 0x1000000);
      this.sector = low & 0xff;
      this.lcyl = (low >>> 8) & 0xff;
      this.hcyl = (low >>> 16) & 0xff;
      this.hobSector = high & 0xff;
      this.hobLcyl = (high >>> 8) & 0xff;
      this.hobHcyl = (high >>> 16) & 0xff;
    } else {
      this.sector = lba & 0xff;
      this.lcyl = (lba >>> 8) & 0xff;
      this.hcyl = (lba >>> 16) & 0xff;
      this.select = (this.select & 0xf0) | ((lba >>> 24) & 0x0f);
    }
  }

  /**
   * The values a device leaves after power-on, SRST, DEVICE RESET or EXECUTE DEVICE
   * DIAGNOSTIC: drivers tell ATA from ATAPI by LBA mid/high. An absent device position
   * reads 0xFF there (what QEMU presents too), so Linux never classifies it.
   */
  setSignature(kind: Signature): void {
    this.nsector = 1;
    this.sector = 1;
    if (kind === 'atapi') {
      this.lcyl = 0x14;
      this.hcyl = 0xeb;
    } else if (kind === 'ata') {
      this.lcyl = 0;
      this.hcyl = 0;
    } else {
      this.lcyl = 0xff;
      this.hcyl = 0xff;
    }
    this.select &= 0xf0;
  }

  clearAll(): void {
    this.feature = this.nsector = this.sector = this.lcyl = this.hcyl = 0;
    this.hobFeature = this.hobNsector = this.hobSector = this.hobLcyl = this.hobHcyl = 0;
    this.select = DEV_OBS;
    this.status = 0;
    this.error = 0;
    this.irq = false;
  }

  save(): DeviceState {
    return {
      regs: [
        this.feature,
        this.nsector,
        this.sector,
        this.lcyl,
        this.hcyl,
        this.hobFeature,
        this.hobNsector,
        this.hobSector,
        this.hobLcyl,
        this.hobHcyl,
        this.select,
        this.status,
        this.error,
      ],
      irq: this.irq,
    };
  }

  /** Validate a snapshot; the returned function applies it (so a bad snapshot changes nothing). */
  static parse(r: StateReader): (tf: TaskFile) => void {
    const regs = r.ints('regs', 0, 0xff, 13);
    const irq = r.bool('irq');
    return (tf) => {
      [tf.feature, tf.nsector, tf.sector, tf.lcyl, tf.hcyl, tf.hobFeature, tf.hobNsector, tf.hobSector, tf.hobLcyl, tf.hobHcyl, tf.select, tf.status, tf.error] =
        regs as [number, number, number, number, number, number, number, number, number, number, number, number, number];
      tf.irq = irq;
    };
  }
}
