/**
 * The PIIX3/PIIX4 IDE function (PCI 8086:7010 / 8086:7111, class 01 01 80): two channels
 * at the legacy compatibility addresses (the PIIX cannot move them) and bus-master IDE in
 * the 16 I/O ports of BAR4 (primary at +0, secondary at +8).
 *
 * The integrator creates it with guest memory and the IRQ 14/15 lines, attaches drives,
 * calls attach(io) once (legacy ports now, BAR4 whenever the guest programs it) and
 * registers the function on the PCI bus. See README.md in this folder.
 */
import type { AccessSize, IoBus, PortIoHandler } from '../../bus/io-bus.js';
import type { IrqLine } from '../../bus/irq.js';
import { PciFunction } from '../../bus/pci.js';
import { EmulatorError } from '../../errors.js';
import type { GuestMemory } from '../../memory/guest-memory.js';
import type { Device, DeviceState } from '../device.js';
import { StateReader } from '../state.js';
import { BM_CHANNEL_BYTES } from './bmdma.js';
import { IdeChannel, type ChannelOwner, type IdeErrorSite } from './channel.js';
import type { IdeDrive } from './drive.js';
import { IdeBusyError } from './errors.js';

export type PiixVariant = 'piix3' | 'piix4';

export interface IdeControllerOptions {
  /** Guest memory, for bus-master DMA. */
  memory: GuestMemory;
  /** Primary channel interrupt: ISA IRQ 14. */
  irq14: IrqLine;
  /** Secondary channel interrupt: ISA IRQ 15. */
  irq15: IrqLine;
  /** 'piix3' (8086:7010, Linux drives it with MWDMA) or 'piix4' (8086:7111, UDMA/33). Default 'piix3', as QEMU's pc machine. */
  variant?: PiixVariant;
  /** Device name for snapshots, errors and the port owner; default "ide". */
  name?: string;
}

/** The fixed compatibility-mode ports attach() registers. */
export const LEGACY_PORTS: readonly { channel: 0 | 1; start: number; count: number }[] = [
  { channel: 0, start: 0x1f0, count: 8 },
  { channel: 0, start: 0x3f6, count: 1 },
  { channel: 1, start: 0x170, count: 8 },
  { channel: 1, start: 0x376, count: 1 },
];

const CMD_BASE = [0x1f0, 0x170] as const;
const CTL_PORT = [0x3f6, 0x376] as const;
/** IDE timing registers; bit 15 enables decoding of the channel's legacy ports. */
const IDETIM = [0x40, 0x42] as const;
const IDETIM_DECODE_HI = 0x80;
const SIDETIM = 0x44;
const UDMACTL = 0x48;
const UDMATIM = 0x4a;
const BM_BAR = 4;
const BM_BYTES = 2 * BM_CHANNEL_BYTES;
const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

export class IdeController extends PciFunction implements Device, PortIoHandler {
  readonly variant: PiixVariant;
  readonly channels: readonly [IdeChannel, IdeChannel];
  /**
   * Called after every disk request settles (successful or not), from the promise
   * callback. A machine whose CPU is halted waiting for the disk interrupt wakes here.
   */
  onIoSettled: (() => void) | null = null;
  /** Host-side failures (I/O errors, a refused BAR placement, bugs caught in a command), for the log. */
  onHostError: ((err: unknown, site: IdeErrorSite) => void) | null = null;
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private io: IoBus | null = null;
  private bmMapped = -1;

  constructor(options: IdeControllerOptions) {
    const variant = options.variant ?? 'piix3';
    super(options.name ?? 'ide', {
      vendor: 0x8086,
      device: variant === 'piix4' ? 0x7111 : 0x7010,
      revision: variant === 'piix4' ? 0x01 : 0x00,
      classCode: 0x01,
      subclass: 0x01,
      // Bus master capable; both channels fixed in compatibility mode.
      progIf: 0x80,
    });
    this.variant = variant;
    this.defineBar(BM_BAR, { kind: 'io', size: BM_BYTES });
    // Status: medium DEVSEL timing, fast back-to-back capable (read-only).
    this.config[0x06] = 0x80;
    this.config[0x07] = 0x02;
    for (let o = IDETIM[0]; o <= SIDETIM; o++) this.writeMask[o] = 0xff;
    if (variant === 'piix4') {
      this.writeMask[UDMACTL] = 0x0f;
      this.writeMask[UDMATIM] = 0x33;
      this.writeMask[UDMATIM + 1] = 0x33;
    }
    this.defaultTimings();
    const owner: ChannelOwner = {
      ioStarted: () => {
        this.pending++;
      },
      ioSettled: () => this.ioSettled(),
      hostError: (err, site) => this.onHostError?.(err, site),
    };
    this.channels = [new IdeChannel(0, options.irq14, options.memory, owner), new IdeChannel(1, options.irq15, options.memory, owner)];
  }

  /**
   * Firmware normally sets the decode-enable bits; they default to on here so a kernel
   * booted directly (no BIOS) finds both channels: Linux's ata_piix skips a port whose bit
   * is clear.
   */
  private defaultTimings(): void {
    for (let o = IDETIM[0]; o <= UDMATIM + 1; o++) this.config[o] = 0;
    this.config[IDETIM[0] + 1] = IDETIM_DECODE_HI;
    this.config[IDETIM[1] + 1] = IDETIM_DECODE_HI;
  }

  /** Put a drive at a position (before the guest runs; null removes it). */
  attachDrive(channel: 0 | 1, unit: 0 | 1, drive: IdeDrive | null): void {
    this.channels[channel].setDrive(unit, drive);
  }

  drive(channel: 0 | 1, unit: 0 | 1): IdeDrive | null {
    return this.channels[channel].drives[unit];
  }

  /**
   * Register the legacy ports (0x1F0-0x1F7, 0x3F6, 0x170-0x177, 0x376) on `io`, and from
   * now on map BAR4 wherever the guest puts it (and unmap it when I/O decoding is off).
   */
  attach(io: IoBus): void {
    if (this.io !== null) throw new EmulatorError('INTERNAL', `${this.name}: attach() called twice`);
    this.io = io;
    for (const r of LEGACY_PORTS) io.register(r.start, r.count, this, this.name);
    this.mapBusMaster(this.barAddress(BM_BAR));
  }

  /** Base port of the bus-master registers while the guest has them mapped, else -1. */
  get busMasterBase(): number {
    return this.bmMapped;
  }

  override updateBars(): void {
    super.updateBars();
    this.mapBusMaster(this.barAddress(BM_BAR));
  }

  private mapBusMaster(base: number): void {
    const io = this.io;
    if (io === null || base === this.bmMapped) return;
    if (this.bmMapped >= 0) io.unregister(this.bmMapped, BM_BYTES);
    this.bmMapped = -1;
    if (base < 0) return;
    for (let p = base; p < base + BM_BYTES; p++) {
      const owner = io.ownerOf(p);
      if (owner !== undefined) {
        // A guest may program any address; refusing keeps the other device's ports intact.
        const err = new EmulatorError('BAD_INPUT', `${this.name}: the guest put the bus-master registers at 0x${base.toString(16)}, over ${owner}; left unmapped`, {
          base,
          owner,
        });
        this.onHostError?.(err, { channel: -1, unit: -1, op: 'map' });
        return;
      }
    }
    io.register(base, BM_BYTES, this, this.name);
    this.bmMapped = base;
  }

  private decodes(channel: 0 | 1): boolean {
    return (this.config[IDETIM[channel] + 1] & IDETIM_DECODE_HI) !== 0;
  }

  /** Which channel's command block (0-7 in the low bits) or control port `port` is, or -1. */
  private static legacyChannel(port: number): -1 | 0 | 1 {
    const block = port & 0xfff8;
    if (block === CMD_BASE[0] || port === CTL_PORT[0]) return 0;
    if (block === CMD_BASE[1] || port === CTL_PORT[1]) return 1;
    return -1;
  }

  ioRead(port: number, size: AccessSize): number {
    const ch = IdeController.legacyChannel(port);
    if (ch !== -1) {
      if (!this.decodes(ch)) return ALL_ONES[size];
      const channel = this.channels[ch];
      return port === CTL_PORT[ch] ? channel.readAltStatus() : channel.readCommand(port & 7, size);
    }
    const off = port - this.bmMapped;
    if (this.bmMapped >= 0 && off >= 0 && off < BM_BYTES) return this.channels[off >>> 3].bm.read(off & 7, size);
    return ALL_ONES[size];
  }

  /** REP INSW/INSD on a data port: whole runs of the current PIO block at once. */
  ioReadString(port: number, size: AccessSize, dst: Uint8Array, offset: number, count: number): number {
    const ch = IdeController.legacyChannel(port);
    if (ch === -1 || (port & 7) !== 0 || port === CTL_PORT[ch] || !this.decodes(ch)) return 0;
    return this.channels[ch].readDataString(size, dst, offset, count);
  }

  /** REP OUTSW/OUTSD on a data port. */
  ioWriteString(port: number, size: AccessSize, src: Uint8Array, offset: number, count: number): number {
    const ch = IdeController.legacyChannel(port);
    if (ch === -1 || (port & 7) !== 0 || port === CTL_PORT[ch] || !this.decodes(ch)) return 0;
    return this.channels[ch].writeDataString(size, src, offset, count);
  }

  ioWrite(port: number, size: AccessSize, value: number): void {
    const ch = IdeController.legacyChannel(port);
    if (ch !== -1) {
      if (!this.decodes(ch)) return;
      const channel = this.channels[ch];
      if (port === CTL_PORT[ch]) channel.writeControl(value & 0xff);
      else channel.writeCommand(port & 7, size, value);
      return;
    }
    const off = port - this.bmMapped;
    if (this.bmMapped >= 0 && off >= 0 && off < BM_BYTES) this.channels[off >>> 3].bm.write(off & 7, size, value);
  }

  // Pending I/O ------------------------------------------------------------------------

  /**
   * Disk requests issued and not yet settled. While it is above zero a halted CPU should
   * wait (onIoSettled or whenIdle() says when to look again) rather than declare the
   * guest idle; a snapshot must wait for zero.
   */
  get pendingIo(): number {
    return this.pending;
  }

  /** Resolves once no request is in flight (at once if none is). */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private ioSettled(): void {
    this.pending--;
    this.onIoSettled?.();
    if (this.pending === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  // Device -----------------------------------------------------------------------------

  /** Power-on state of the function, the channels and the drives (media stay in). */
  reset(): void {
    this.resetConfig();
    this.defaultTimings();
    for (const ch of this.channels) ch.reset();
  }

  /** Throws IdeBusyError while requests are in flight: pause the CPU, await whenIdle(), retry. */
  save(): DeviceState {
    if (this.pending > 0) throw new IdeBusyError(this.name, this.pending);
    return {
      version: 1,
      variant: this.variant,
      config: Array.from(this.config),
      channels: this.channels.map((c) => c.save()),
      drives: this.channels.flatMap((c) => c.drives.map((d) => (d === null ? { kind: 'none' } : d.save()))),
    };
  }

  /**
   * Restore a snapshot taken with the same drives attached (the machine reopens the images
   * its config names first). Validates everything before changing anything. Requests
   * still in flight from before finish on the backend, ahead of any new one, and their
   * results are dropped.
   */
  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    r.str('variant', [this.variant]);
    const config = r.ints('config', 0, 0xff, 256);
    for (let i = 0; i < 4; i++) if (config[i] !== this.config[i]) r.fail('config', 'belongs to a different PCI function');
    const drivesState = r.objs('drives', 4);
    const driveApply = drivesState.map((dr, i) => {
      const drive = this.channels[i >>> 1].drives[i & 1];
      const kind = dr.str('kind', ['none', 'ata', 'atapi']);
      const attached = drive === null ? 'none' : drive.kind;
      if (kind !== attached) dr.fail('kind', `is ${kind}, but the machine has ${attached} at channel ${i >>> 1} unit ${i & 1}`);
      return drive === null ? () => {} : drive.parseState(dr);
    });
    const channelApply = r.objs('channels', 2).map((cr, i) => this.channels[i].parseState(cr));
    this.config.set(config);
    this.updateBars();
    for (const apply of driveApply) apply();
    for (const apply of channelApply) apply();
  }
}
