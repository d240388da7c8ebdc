/**
 * One IDE channel: the command block (data, error/features, sector count, LBA low/mid/high,
 * device, status/command), the control block (alternate status / device control), two
 * device positions, the interrupt line and the channel's bus-master engine.
 *
 * Protocol rules that drivers depend on (ATA/ATAPI-7, checked against SeaBIOS and Linux's
 * libata-sff):
 * - Register writes reach both devices; reads come from the selected one. A missing slave
 *   next to a master reads 0 in status and error, so probing finds nothing there.
 * - Writes other than the command are ignored while the selected device has BSY or DRQ;
 *   a command is ignored then too, except DEVICE RESET to an ATAPI device.
 * - ATA PIO in: INTRQ before each DRQ block, none after the last. ATA PIO out: no INTRQ
 *   before the first block, one after each later block and at completion. ATAPI: the
 *   packet DRQ comes without INTRQ, each data block and the completion with one.
 * - Reading status clears the device's INTRQ; nIEN masks it; the bus-master INTERRUPT bit
 *   latches each rising edge.
 *
 * Medium I/O is asynchronous. While a request is in flight the device shows BSY; the
 * channel issues its requests strictly one after another (each waits for the previous
 * one to settle, across resets too), so writes reach the backend in the order the guest
 * issued them and never overlap. A rejected request ends the command with an error status
 * and an interrupt; nothing is thrown into the CPU loop.
 */
import type { AccessSize } from '../../bus/io-bus.js';
import type { IrqLine } from '../../bus/irq.js';
import type { GuestMemory } from '../../memory/guest-memory.js';
import { BlockRequestError } from '../../storage/errors.js';
import type { DeviceState } from '../device.js';
import type { StateReader } from '../state.js';
import { BusMaster, type BusMasterListener, type PrdList } from './bmdma.js';
import {
  CMD,
  DC_HOB,
  DC_NIEN,
  DC_SRST,
  DEV_DEV1,
  DEV_OBS,
  ER_ABRT,
  IR_COD,
  IR_IO,
  ST_BSY,
  ST_DRDY,
  ST_DRQ,
  ST_DSC,
  ST_ERR,
} from './constants.js';
import type { CommandHost, IdeDrive, MediumOp, TransferSpec, TransferTarget } from './drive.js';
import { MediumAbsentError } from './errors.js';
import { TaskFile } from './taskfile.js';

/** Bytes per medium request for PIO commands: one request covers any 28-bit command. */
export const PIO_CHUNK = 128 * 1024;
/** Bytes per medium request for DMA: covers the requests Linux's block layer builds. */
export const DMA_CHUNK = 2 * 1024 * 1024;

export interface IdeErrorSite {
  channel: number;
  unit: number;
  op: MediumOp | 'command' | 'map';
}

/** What the channel needs from the controller that owns it. */
export interface ChannelOwner {
  ioStarted(): void;
  ioSettled(): void;
  /** A medium request failed for a host reason (or a command hit a bug): for the log. */
  hostError(err: unknown, site: IdeErrorSite): void;
}

type TransferState = 'pio' | 'dma-wait' | 'busy';

/** The data phase of the current command. */
interface Transfer {
  readonly unit: 0 | 1;
  readonly spec: TransferSpec;
  readonly atapi: boolean;
  /** ATAPI byte count limit from LBA mid/high at the start of the data phase. */
  readonly limit: number;
  /** Bytes per medium request (the buffer's useful size). */
  readonly cap: number;
  readonly buf: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  /** Transfer offset of buf[0]. */
  chunkStart: number;
  /** Valid (in) or expected (out) bytes in buf. */
  chunkLen: number;
  /** PIO position in buf. */
  pos: number;
  /** End of the current DRQ block in buf. */
  blockEnd: number;
  state: TransferState;
  prd: PrdList | null;
}

function newTransfer(unit: 0 | 1, spec: TransferSpec, atapi: boolean, limit: number, cap: number): Transfer {
  // Views of 16 and 32 bits make PIO one indexed access per word; round up so they fit.
  const buf = new Uint8Array((cap + 3) & ~3);
  return {
    unit,
    spec,
    atapi,
    limit,
    cap,
    buf,
    u16: new Uint16Array(buf.buffer, 0, buf.length >>> 1),
    u32: new Uint32Array(buf.buffer, 0, buf.length >>> 2),
    chunkStart: 0,
    chunkLen: 0,
    pos: 0,
    blockEnd: 0,
    state: 'busy',
    prd: null,
  };
}

/** Errors a guest causes (or a medium swap): not worth a host warning. */
function isGuestLevel(err: unknown): boolean {
  return err instanceof BlockRequestError || err instanceof MediumAbsentError;
}

export class IdeChannel implements BusMasterListener {
  readonly tfs: readonly [TaskFile, TaskFile] = [new TaskFile(), new TaskFile()];
  readonly drives: [IdeDrive | null, IdeDrive | null] = [null, null];
  readonly bm: BusMaster;
  /** Selected device (DEV bit of the device register). */
  unit: 0 | 1 = 0;
  /** Last value written to the device control register. */
  devctl = 0;
  private xfer: Transfer | null = null;
  /** Bumped by resets and restores: completions of requests issued before are dropped. */
  private epoch = 0;
  /** Settles when every request issued so far has settled; the next one waits for it. */
  private ioTail: Promise<void> = Promise.resolve();
  private inFlight = 0;
  /** Set by the host methods: the running command has reached a defined state. */
  private settled = false;
  /** The running command is an ATAPI PACKET: its completion carries the interrupt reason. */
  private packetCmd = false;
  private readonly hosts: readonly [CommandHost, CommandHost];

  constructor(
    readonly index: number,
    private readonly irq: IrqLine,
    memory: GuestMemory,
    private readonly owner: ChannelOwner,
  ) {
    this.bm = new BusMaster(memory, this);
    this.hosts = [this.makeHost(0), this.makeHost(1)];
  }

  /** Requests of this channel not yet settled (including ones a reset orphaned). */
  get pendingIo(): number {
    return this.inFlight;
  }

  setDrive(unit: 0 | 1, drive: IdeDrive | null): void {
    this.drives[unit] = drive;
    this.powerOn(unit);
  }

  // Port access -----------------------------------------------------------------------

  /** Command block register `reg` (0-7). */
  readCommand(reg: number, size: AccessSize): number {
    if (reg === 0) return this.readData(size);
    if (this.drives[0] === null && this.drives[1] === null) return 0;
    const tf = this.tfs[this.unit];
    const phantom = this.drives[this.unit] === null;
    const hob = (this.devctl & DC_HOB) !== 0;
    switch (reg) {
      case 1:
        return phantom ? 0 : hob ? tf.hobFeature : tf.error;
      case 2:
        return hob ? tf.hobNsector : tf.nsector;
      case 3:
        return hob ? tf.hobSector : tf.sector;
      case 4:
        return hob ? tf.hobLcyl : tf.lcyl;
      case 5:
        return hob ? tf.hobHcyl : tf.hcyl;
      case 6:
        return tf.select;
      default: {
        if (phantom) return 0;
        const status = tf.status;
        if (tf.irq) {
          tf.irq = false;
          this.updateIrq();
        }
        return status;
      }
    }
  }

  writeCommand(reg: number, size: AccessSize, value: number): void {
    if (reg === 0) {
      this.writeData(size, value);
      return;
    }
    const v = value & 0xff;
    if (reg !== 7 && (this.tfs[this.unit].status & (ST_BSY | ST_DRQ)) !== 0) return;
    // Any command block write clears HOB.
    this.devctl &= ~DC_HOB;
    for (const tf of this.tfs) {
      switch (reg) {
        case 1:
          tf.hobFeature = tf.feature;
          tf.feature = v;
          break;
        case 2:
          tf.hobNsector = tf.nsector;
          tf.nsector = v;
          break;
        case 3:
          tf.hobSector = tf.sector;
          tf.sector = v;
          break;
        case 4:
          tf.hobLcyl = tf.lcyl;
          tf.lcyl = v;
          break;
        case 5:
          tf.hobHcyl = tf.hcyl;
          tf.hcyl = v;
          break;
        case 6:
          tf.select = v | DEV_OBS;
          break;
      }
    }
    if (reg === 6) {
      this.unit = (v & DEV_DEV1) !== 0 ? 1 : 0;
      this.updateIrq();
    } else if (reg === 7) {
      this.command(v);
    }
  }

  /** Alternate status: status without clearing the interrupt. */
  readAltStatus(): number {
    if (this.drives[0] === null && this.drives[1] === null) return 0;
    if (this.drives[this.unit] === null) return 0;
    return this.tfs[this.unit].status;
  }

  writeControl(value: number): void {
    const old = this.devctl;
    this.devctl = value & 0xff;
    if ((old & DC_SRST) === 0 && (value & DC_SRST) !== 0) this.assertSrst();
    else if ((old & DC_SRST) !== 0 && (value & DC_SRST) === 0) this.releaseSrst();
    this.updateIrq();
  }

  // Interrupts ------------------------------------------------------------------------

  private updateIrq(): void {
    const tf = this.tfs[this.unit];
    const level = tf.irq && (this.devctl & DC_NIEN) === 0 && this.drives[this.unit] !== null;
    if (level && !this.irq.high) this.bm.interruptRaised();
    this.irq.set(level);
  }

  private raise(unit: 0 | 1): void {
    this.tfs[unit].irq = true;
    this.updateIrq();
  }

  // Commands ---------------------------------------------------------------------------

  private command(cmd: number): void {
    const unit = this.unit;
    const drive = this.drives[unit];
    const tf = this.tfs[unit];
    if (drive === null) return; // a missing device ignores commands
    const resetAtapi = cmd === CMD.DEVICE_RESET && drive.kind === 'atapi';
    if ((tf.status & (ST_BSY | ST_DRQ)) !== 0 && !resetAtapi) return;
    tf.irq = false;
    this.updateIrq();
    if (cmd === CMD.EXECUTE_DEVICE_DIAGNOSTIC) {
      this.diagnostic();
      return;
    }
    if (resetAtapi) {
      this.deviceReset(unit);
      return;
    }
    tf.error = 0;
    tf.status = ST_BSY | ST_DRDY;
    this.settled = false;
    this.packetCmd = false;
    try {
      drive.execute(cmd, this.hosts[unit]);
      if (!this.settled) throw new Error(`command 0x${cmd.toString(16)} left the device without a state`);
    } catch (err) {
      this.commandBug(unit, err);
    }
  }

  /** A drive threw or forgot to finish: the guest sees ABRT, the host log sees the bug. */
  private commandBug(unit: 0 | 1, err: unknown): void {
    this.owner.hostError(err, { channel: this.index, unit, op: 'command' });
    this.epoch++; // whatever the command had started must not complete it later
    this.xfer = null;
    this.failCommand(unit, ER_ABRT);
  }

  private completeCommand(unit: 0 | 1): void {
    this.settled = true;
    const tf = this.tfs[unit];
    tf.status = ST_DRDY | ST_DSC;
    if (this.packetCmd) tf.nsector = (tf.nsector & ~7) | IR_IO | IR_COD;
    this.raise(unit);
  }

  private failCommand(unit: 0 | 1, error: number): void {
    this.settled = true;
    const tf = this.tfs[unit];
    tf.error = error & 0xff;
    tf.status = ST_DRDY | ST_ERR;
    if (this.packetCmd) tf.nsector = (tf.nsector & ~7) | IR_IO | IR_COD;
    this.raise(unit);
  }

  private makeHost(unit: 0 | 1): CommandHost {
    const drives = this.drives;
    return {
      tf: this.tfs[unit],
      unit,
      get peerPresent(): boolean {
        return drives[unit ^ 1] !== null;
      },
      complete: () => this.completeCommand(unit),
      fail: (error) => this.failCommand(unit, error),
      transfer: (spec) => this.startTransfer(unit, spec),
      runBusy: (op, done) => {
        this.settled = true;
        this.tfs[unit].status = ST_BSY | ST_DRDY;
        this.io(unit, 'flush', op, () => done(null), (err) => done(err));
      },
    };
  }

  /** EXECUTE DEVICE DIAGNOSTIC: both devices run it and post their signatures. */
  private diagnostic(): void {
    this.xfer = null;
    for (const unit of [0, 1] as const) this.postSignature(unit);
    if (this.drives[this.unit]?.kind === 'ata') this.raise(this.unit);
  }

  /** ATAPI DEVICE RESET: allowed even while busy; drops what the device was doing. */
  private deviceReset(unit: 0 | 1): void {
    this.epoch++;
    if (this.xfer !== null && this.xfer.unit === unit) {
      if (this.xfer.spec.dma) this.bm.abort();
      this.xfer = null;
    }
    this.postSignature(unit);
  }

  private assertSrst(): void {
    this.epoch++;
    if (this.xfer?.spec.dma === true) this.bm.abort();
    this.xfer = null;
    for (const tf of this.tfs) {
      tf.status = ST_BSY;
      tf.irq = false;
    }
  }

  /** SRST released: both devices finish their reset (no interrupt, per the ATA reset protocol). */
  private releaseSrst(): void {
    for (const unit of [0, 1] as const) this.postSignature(unit);
  }

  private postSignature(unit: 0 | 1): void {
    const drive = this.drives[unit];
    const tf = this.tfs[unit];
    drive?.softReset();
    tf.setSignature(drive === null ? 'none' : drive.kind);
    tf.error = 0x01; // diagnostics passed
    // ATAPI devices leave DRDY clear after reset so old drivers don't mistake them for disks.
    tf.status = drive?.kind === 'ata' ? ST_DRDY | ST_DSC : 0;
    tf.irq = false;
  }

  private powerOn(unit: 0 | 1): void {
    const tf = this.tfs[unit];
    const select = tf.select;
    tf.clearAll();
    tf.select = select;
    this.drives[unit]?.reset();
    this.postSignature(unit);
  }

  // Data phases ------------------------------------------------------------------------

  private startTransfer(unit: 0 | 1, spec: TransferSpec): void {
    this.settled = true;
    const drive = this.drives[unit];
    const tf = this.tfs[unit];
    if (drive === null) throw new Error('transfer on an empty device position');
    if (spec.bytes <= 0) {
      this.completeCommand(unit);
      return;
    }
    let limit = (tf.hcyl << 8) | tf.lcyl;
    // 0 is not a valid limit and 0xFFFF is odd: both mean "as much as a block can hold".
    // A limit of 1 would make empty blocks for ever; a word is the least a host moves.
    if (limit === 0 || limit === 0xffff) limit = 0xfffe;
    else if (limit < 2) limit = 2;
    const cap = spec.target === 'medium' ? Math.min(spec.bytes, spec.dma ? DMA_CHUNK : PIO_CHUNK) : spec.bytes;
    if (spec.target === 'packet') this.packetCmd = true;
    // Only a PACKET command's data phase uses ATAPI blocks; IDENTIFY PACKET DEVICE is plain ATA PIO.
    const t = newTransfer(unit, spec, this.packetCmd, limit, cap);
    this.xfer = t;
    if (spec.target === 'buffer' && spec.dir === 'in') {
      if (spec.data === null || spec.data.length < spec.bytes) throw new Error('transfer without its data');
      t.buf.set(spec.data.subarray(0, spec.bytes));
      t.chunkLen = spec.bytes;
    }
    if (spec.dma) {
      t.state = 'dma-wait';
      tf.status = ST_DRDY | ST_DSC | ST_DRQ;
      if (this.bm.started) this.runDma(t);
      return;
    }
    if (spec.dir === 'in') {
      if (spec.target === 'medium') this.fetchChunk(t);
      else this.startBlock(t, true);
    } else {
      t.chunkLen = cap;
      this.startBlock(t, false);
    }
  }

  /** Open the next DRQ block at t.pos. */
  private startBlock(t: Transfer, interrupt: boolean): void {
    const tf = this.tfs[t.unit];
    const inChunk = t.chunkLen - t.pos;
    let size: number;
    if (t.spec.target === 'packet') {
      size = inChunk;
      tf.nsector = (tf.nsector & ~7) | IR_COD;
    } else if (t.atapi) {
      size = Math.min(inChunk, t.spec.bytes - t.chunkStart - t.pos);
      // A block cut by the limit must be even: the host moves words.
      if (size > t.limit) size = t.limit & ~1;
      tf.lcyl = size & 0xff;
      tf.hcyl = (size >>> 8) & 0xff;
      tf.nsector = (tf.nsector & ~7) | (t.spec.dir === 'in' ? IR_IO : 0);
    } else {
      size = Math.min(t.spec.blockBytes, inChunk);
    }
    t.blockEnd = t.pos + size;
    t.state = 'pio';
    tf.status = ST_DRDY | ST_DSC | ST_DRQ;
    if (interrupt) this.raise(t.unit);
  }

  private readData(size: AccessSize): number {
    const t = this.xfer;
    if (t === null || t.state !== 'pio' || t.spec.dir !== 'in' || t.unit !== this.unit) return 0;
    const p = t.pos;
    let v: number;
    if (size === 2 && (p & 1) === 0 && p + 2 <= t.blockEnd) v = t.u16[p >>> 1];
    else if (size === 4 && (p & 3) === 0 && p + 4 <= t.blockEnd) v = t.u32[p >>> 2];
    else {
      // Unaligned, odd-length tails (ATAPI replies) and byte accesses; past the block reads 0.
      v = 0;
      for (let i = 0; i < size; i++) if (p + i < t.blockEnd) v |= t.buf[p + i] << (i * 8);
      v >>>= 0;
    }
    t.pos = Math.min(p + size, t.blockEnd);
    if (t.pos === t.blockEnd) this.guarded(t.unit, () => this.blockDone(t));
    return v;
  }

  /**
   * Up to `count` data-port reads of `size` bytes in one go, ending at the current DRQ
   * block's end (what follows it is the protocol's business). Returns units moved; 0 when
   * the single-access path must handle it (no PIO-in phase, misaligned, a partial tail).
   */
  readDataString(size: AccessSize, dst: Uint8Array, offset: number, count: number): number {
    const t = this.xfer;
    if (t === null || t.state !== 'pio' || t.spec.dir !== 'in' || t.unit !== this.unit || size === 1) return 0;
    const p = t.pos;
    if ((p & (size - 1)) !== 0) return 0;
    const n = Math.min(count, Math.floor((t.blockEnd - p) / size));
    if (n <= 0) return 0;
    dst.set(t.buf.subarray(p, p + n * size), offset);
    t.pos = p + n * size;
    if (t.pos === t.blockEnd) this.guarded(t.unit, () => this.blockDone(t));
    return n;
  }

  /** Up to `count` data-port writes at once, the mirror of readDataString. */
  writeDataString(size: AccessSize, src: Uint8Array, offset: number, count: number): number {
    const t = this.xfer;
    if (t === null || t.state !== 'pio' || t.spec.dir !== 'out' || t.unit !== this.unit || size === 1) return 0;
    const p = t.pos;
    if ((p & (size - 1)) !== 0) return 0;
    const n = Math.min(count, Math.floor((t.blockEnd - p) / size));
    if (n <= 0) return 0;
    t.buf.set(src.subarray(offset, offset + n * size), p);
    t.pos = p + n * size;
    if (t.pos === t.blockEnd) this.guarded(t.unit, () => this.blockDone(t));
    return n;
  }

  private writeData(size: AccessSize, value: number): void {
    const t = this.xfer;
    if (t === null || t.state !== 'pio' || t.spec.dir !== 'out' || t.unit !== this.unit) return;
    const p = t.pos;
    if (size === 2 && (p & 1) === 0 && p + 2 <= t.blockEnd) t.u16[p >>> 1] = value;
    else if (size === 4 && (p & 3) === 0 && p + 4 <= t.blockEnd) t.u32[p >>> 2] = value;
    else for (let i = 0; i < size; i++) if (p + i < t.blockEnd) t.buf[p + i] = value >>> (i * 8);
    t.pos = Math.min(p + size, t.blockEnd);
    if (t.pos === t.blockEnd) this.guarded(t.unit, () => this.blockDone(t));
  }

  /** Run protocol code on behalf of a port access: a bug ends the command, never the machine. */
  private guarded(unit: 0 | 1, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.commandBug(unit, err);
    }
  }

  private blockDone(t: Transfer): void {
    const tf = this.tfs[t.unit];
    const done = t.chunkStart + t.blockEnd;
    if (t.spec.dir === 'in') {
      if (done >= t.spec.bytes) this.finishTransfer(t);
      else if (t.blockEnd >= t.chunkLen) {
        t.chunkStart += t.chunkLen;
        this.fetchChunk(t);
      } else this.startBlock(t, true);
      return;
    }
    if (t.spec.target === 'packet') {
      const cdb = t.buf.slice(0, 12);
      this.xfer = null;
      tf.status = ST_BSY | ST_DRDY;
      this.settled = false;
      try {
        this.drives[t.unit]!.packet(cdb, this.hosts[t.unit]);
        if (!this.settled) throw new Error(`packet command 0x${cdb[0].toString(16)} left the device without a state`);
      } catch (err) {
        this.commandBug(t.unit, err);
      }
      return;
    }
    if (done >= t.spec.bytes || t.blockEnd >= t.chunkLen) this.storeChunk(t);
    else this.startBlock(t, true);
  }

  /** PIO in: read the next chunk of the medium, then open its first block. */
  private fetchChunk(t: Transfer): void {
    const drive = this.drives[t.unit]!;
    const len = Math.min(t.cap, t.spec.bytes - t.chunkStart);
    const target = t.buf.subarray(0, len);
    const offset = t.spec.mediumOffset + t.chunkStart;
    t.chunkLen = len;
    t.pos = 0;
    t.state = 'busy';
    this.tfs[t.unit].status = ST_BSY | ST_DRDY;
    this.io(
      t.unit,
      'read',
      () => drive.readMedium(offset, target),
      () => this.startBlock(t, true),
      (err) => this.transferFailed(t, 'read', err),
    );
  }

  /** PIO out: the buffered blocks go to the medium in one request. */
  private storeChunk(t: Transfer): void {
    const drive = this.drives[t.unit]!;
    const len = t.chunkLen;
    const data = t.buf.subarray(0, len);
    const offset = t.spec.mediumOffset + t.chunkStart;
    t.state = 'busy';
    this.tfs[t.unit].status = ST_BSY | ST_DRDY;
    this.io(
      t.unit,
      'write',
      () => drive.writeMedium(offset, data),
      () => {
        t.chunkStart += len;
        if (t.chunkStart >= t.spec.bytes) {
          this.writesDone(t);
          return;
        }
        t.pos = 0;
        t.chunkLen = Math.min(t.cap, t.spec.bytes - t.chunkStart);
        this.startBlock(t, true);
      },
      (err) => this.transferFailed(t, 'write', err),
    );
  }

  /** Every byte reached the backend; with the write cache off it must also be durable. */
  private writesDone(t: Transfer): void {
    if (!t.spec.flush) {
      this.finishTransfer(t);
      return;
    }
    const drive = this.drives[t.unit]!;
    t.state = 'busy';
    this.tfs[t.unit].status = ST_BSY | ST_DRDY;
    this.io(
      t.unit,
      'flush',
      () => drive.flushMedium(),
      () => this.finishTransfer(t),
      (err) => this.transferFailed(t, 'flush', err),
    );
  }

  private finishTransfer(t: Transfer): void {
    this.xfer = null;
    const tf = this.tfs[t.unit];
    this.drives[t.unit]!.transferDone({ spec: t.spec, doneBytes: t.spec.bytes }, tf);
    if (t.prd !== null) this.bm.finish(t.prd);
    if (!t.atapi && !t.spec.dma && t.spec.dir === 'in') {
      // ATA PIO in ends when the host has read the last block: no completion interrupt.
      tf.status = ST_DRDY | ST_DSC;
      return;
    }
    this.completeCommand(t.unit);
  }

  private transferFailed(t: Transfer, op: MediumOp, err: unknown): void {
    this.xfer = null;
    if (t.spec.dma) this.bm.abort();
    const tf = this.tfs[t.unit];
    const error = this.drives[t.unit]!.transferFailed({ spec: t.spec, doneBytes: t.chunkStart }, op, err, tf);
    this.failCommand(t.unit, error);
  }

  // Bus-master DMA ---------------------------------------------------------------------

  /** BusMasterListener: the guest set START. */
  dmaStarted(): void {
    const t = this.xfer;
    if (t !== null && t.state === 'dma-wait') this.guarded(t.unit, () => this.runDma(t));
  }

  private runDma(t: Transfer): void {
    const tf = this.tfs[t.unit];
    const prd = this.bm.buildPrdList(t.spec.bytes);
    if (prd === null) {
      // The PRD table describes less than the command moves: the engine stops without
      // an interrupt and nothing is transferred; the driver's timeout and reset follow.
      this.bm.abort();
      this.xfer = null;
      tf.error = ER_ABRT;
      tf.status = ST_DRDY | ST_ERR;
      return;
    }
    t.prd = prd;
    t.chunkStart = 0;
    this.dmaStep(t);
  }

  /** Move the next chunk between the medium and guest memory. */
  private dmaStep(t: Transfer): void {
    const prd = t.prd!;
    const remaining = t.spec.bytes - t.chunkStart;
    if (t.spec.target !== 'medium') {
      this.bm.scatter(prd, 0, t.buf.subarray(0, t.spec.bytes));
      this.finishTransfer(t);
      return;
    }
    if (remaining <= 0) {
      if (t.spec.dir === 'out') this.writesDone(t);
      else this.finishTransfer(t);
      return;
    }
    const drive = this.drives[t.unit]!;
    const len = Math.min(t.cap, remaining);
    const data = t.buf.subarray(0, len);
    const offset = t.spec.mediumOffset + t.chunkStart;
    t.state = 'busy';
    this.tfs[t.unit].status = ST_BSY | ST_DRDY;
    if (t.spec.dir === 'in') {
      this.io(
        t.unit,
        'read',
        () => drive.readMedium(offset, data),
        () => {
          this.bm.scatter(prd, t.chunkStart, data);
          t.chunkStart += len;
          this.dmaStep(t);
        },
        (err) => this.transferFailed(t, 'read', err),
      );
    } else {
      this.bm.gather(prd, t.chunkStart, data);
      this.io(
        t.unit,
        'write',
        () => drive.writeMedium(offset, data),
        () => {
          t.chunkStart += len;
          this.dmaStep(t);
        },
        (err) => this.transferFailed(t, 'write', err),
      );
    }
  }

  // Asynchronous requests --------------------------------------------------------------

  /**
   * Issue a medium request after every earlier one of this channel has settled. `ok` or
   * `fail` runs when it settles, unless a reset or restore came in between.
   */
  private io(unit: 0 | 1, op: MediumOp, run: () => Promise<unknown>, ok: () => void, fail: (err: unknown) => void): void {
    const epoch = this.epoch;
    this.inFlight++;
    this.owner.ioStarted();
    const request = this.ioTail.then(run);
    this.ioTail = request.then(
      () => undefined,
      () => undefined,
    );
    request.then(
      () => this.settle(unit, op, epoch, ok),
      (err: unknown) =>
        this.settle(unit, op, epoch, () => {
          if (!isGuestLevel(err)) this.owner.hostError(err, { channel: this.index, unit, op });
          fail(err);
        }),
    );
  }

  private settle(unit: 0 | 1, op: MediumOp, epoch: number, then: () => void): void {
    this.inFlight--;
    try {
      if (epoch === this.epoch) then();
    } catch (err) {
      // A bug in completion code must not leave the guest waiting for ever.
      this.owner.hostError(err, { channel: this.index, unit, op });
      this.xfer = null;
      this.failCommand(unit, ER_ABRT);
    } finally {
      this.owner.ioSettled();
    }
  }

  // Reset and snapshots ------------------------------------------------------------------

  /** Machine reset. Requests in flight finish on the backend but their results are dropped. */
  reset(): void {
    this.epoch++;
    this.xfer = null;
    this.devctl = 0;
    this.unit = 0;
    this.bm.reset();
    for (const tf of this.tfs) tf.select = DEV_OBS;
    this.powerOn(0);
    this.powerOn(1);
    this.updateIrq();
  }

  save(): DeviceState {
    const t = this.xfer;
    let xfer: DeviceState = {};
    if (t !== null) {
      if (t.state === 'busy') throw new Error(`ide channel ${this.index}: transfer busy with nothing in flight`);
      xfer = {
        unit: t.unit,
        dir: t.spec.dir,
        dma: t.spec.dma,
        target: t.spec.target,
        bytes: t.spec.bytes,
        mediumOffset: t.spec.mediumOffset,
        blockBytes: t.spec.blockBytes,
        flush: t.spec.flush,
        limit: t.limit,
        chunkStart: t.chunkStart,
        chunkLen: t.chunkLen,
        pos: t.pos,
        blockEnd: t.blockEnd,
        state: t.state,
        // Little-endian words: a quarter of the numbers a byte array would need.
        data: Array.from(t.u32.subarray(0, (t.chunkLen + 3) >>> 2)),
      };
    }
    return {
      unit: this.unit,
      devctl: this.devctl,
      tfs: this.tfs.map((tf) => tf.save()),
      bm: this.bm.save(),
      packetCmd: this.packetCmd,
      hasXfer: t !== null,
      xfer,
    };
  }

  /** Validate a snapshot of this channel; the returned function applies it. */
  parseState(r: StateReader): () => void {
    const unit = r.int('unit', 0, 1) as 0 | 1;
    const devctl = r.int('devctl', 0, 0xff);
    const packetCmd = r.bool('packetCmd');
    const tfApply = r.objs('tfs', 2).map((tr) => TaskFile.parse(tr));
    const bmApply = BusMaster.parse(r.obj('bm'));
    const xfer = this.parseTransfer(r, packetCmd);
    return () => {
      this.epoch++;
      this.unit = unit;
      this.devctl = devctl;
      this.packetCmd = packetCmd;
      tfApply.forEach((apply, i) => apply(this.tfs[i]));
      bmApply(this.bm);
      this.xfer = xfer;
      this.updateIrq();
    };
  }

  private parseTransfer(r: StateReader, packetCmd: boolean): Transfer | null {
    if (!r.bool('hasXfer')) return null;
    const xr = r.obj('xfer');
    const unit = xr.int('unit', 0, 1) as 0 | 1;
    const drive = this.drives[unit];
    if (drive === null) xr.fail('unit', 'names an empty device position');
    const target = xr.str('target', ['medium', 'buffer', 'packet']) as TransferTarget;
    const spec: TransferSpec = {
      dir: xr.str('dir', ['in', 'out']) as 'in' | 'out',
      dma: xr.bool('dma'),
      target,
      bytes: xr.int('bytes', 1, 2 ** 42),
      mediumOffset: xr.int('mediumOffset', 0, Number.MAX_SAFE_INTEGER),
      data: null,
      blockBytes: xr.int('blockBytes', 0, 65536 * 512),
      flush: xr.bool('flush'),
    };
    const limit = xr.int('limit', 2, 0xfffe);
    const cap = target === 'medium' ? Math.min(spec.bytes, spec.dma ? DMA_CHUNK : PIO_CHUNK) : spec.bytes;
    if (target !== 'medium' && cap > 65536) xr.fail('bytes', 'is too large for a reply');
    if (packetCmd && drive!.kind !== 'atapi') xr.fail('unit', 'holds a disk, not a packet device');
    const t = newTransfer(unit, spec, packetCmd, limit, cap);
    t.chunkStart = xr.int('chunkStart', 0, spec.bytes);
    t.chunkLen = xr.int('chunkLen', 0, cap);
    t.pos = xr.int('pos', 0, t.chunkLen);
    t.blockEnd = xr.int('blockEnd', t.pos, t.chunkLen);
    t.state = xr.str('state', ['pio', 'dma-wait']) as TransferState;
    const words = (t.chunkLen + 3) >>> 2;
    t.u32.set(xr.ints('data', 0, 0xffffffff, words));
    if (spec.dma !== (t.state === 'dma-wait')) xr.fail('state', 'does not match the transfer mode');
    return t;
  }
}
