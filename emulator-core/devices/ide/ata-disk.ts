/**
 * An ATA hard disk on a BlockBackend: IDENTIFY DEVICE, 28- and 48-bit PIO, READ/WRITE
 * MULTIPLE and DMA commands, FLUSH CACHE, SET FEATURES, power management and CHS
 * translation for old software. The channel runs the data phases; this file decides what
 * each command means, which sectors it touches and which registers it leaves behind.
 */
import type { BlockBackend } from '../../storage/block-backend.js';
import { BlockRequestError } from '../../storage/errors.js';
import type { DeviceState } from '../device.js';
import type { StateReader } from '../state.js';
import { CMD, ER_ABRT, ER_IDNF, ER_UNC, SECTOR_BYTES, SETF } from './constants.js';
import type { CommandHost, IdeDrive, MediumOp, TransferResult } from './drive.js';
import { putAtaString, setIdentifyChecksum, stableSerial, word93 } from './identify.js';
import type { TaskFile } from './taskfile.js';

/** Largest READ/WRITE MULTIPLE block (IDENTIFY word 47), as QEMU offers. */
export const MAX_MULTIPLE = 16;
const LBA28_MAX = 0x0fffffff;
const DEFAULT_HEADS = 16;
const DEFAULT_SPT = 63;

export interface AtaDiskOptions {
  /** IDENTIFY serial number (20 characters at most); default derived from the image path. */
  serial?: string;
  /** IDENTIFY model (40 characters at most). */
  model?: string;
  /** IDENTIFY firmware revision (8 characters at most). */
  firmware?: string;
  /** Write cache state at power-on (default on, as on real disks and QEMU). */
  writeCache?: boolean;
}

type PowerMode = 'active' | 'idle' | 'standby';

export class AtaDisk implements IdeDrive {
  readonly kind = 'ata';
  /** Addressable 512-byte sectors. */
  readonly sectors: number;
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  /** Default (physical) CHS geometry, IDENTIFY words 1, 3, 6. */
  readonly cylinders: number;
  private readonly writeCacheDefault: boolean;
  private heads = DEFAULT_HEADS;
  private spt = DEFAULT_SPT;
  private multiple = MAX_MULTIPLE;
  private writeCache: boolean;
  /** SET FEATURES transfer mode value (0x40 | n = UDMA n, 0x20 | n = MWDMA n, else PIO). */
  private xferMode = 0x42;
  private power: PowerMode = 'active';
  /** The running command is a 48-bit one (its registers are written back in 48-bit form). */
  private ext = false;

  constructor(
    readonly backend: BlockBackend,
    options: AtaDiskOptions = {},
  ) {
    this.sectors = Math.floor(backend.size / SECTOR_BYTES);
    this.model = options.model ?? 'TERRARIUM HARDDISK';
    this.serial = options.serial ?? stableSerial('TRHD', backend.path);
    this.firmware = options.firmware ?? '1.0';
    this.writeCacheDefault = options.writeCache ?? true;
    this.writeCache = this.writeCacheDefault;
    this.cylinders = Math.max(1, Math.min(16383, Math.floor(this.sectors / (DEFAULT_HEADS * DEFAULT_SPT))));
  }

  get writeCacheEnabled(): boolean {
    return this.writeCache;
  }

  reset(): void {
    this.heads = DEFAULT_HEADS;
    this.spt = DEFAULT_SPT;
    this.multiple = MAX_MULTIPLE;
    this.writeCache = this.writeCacheDefault;
    this.xferMode = 0x42;
    this.power = 'active';
    this.ext = false;
  }

  softReset(): void {
    // Settings survive a software reset (ATA: revert-to-defaults is off).
    this.power = 'active';
  }

  execute(cmd: number, host: CommandHost): void {
    const tf = host.tf;
    switch (cmd) {
      case CMD.IDENTIFY_DEVICE:
        host.transfer({
          dir: 'in',
          dma: false,
          target: 'buffer',
          bytes: 512,
          mediumOffset: 0,
          data: this.identify(host.unit, host.peerPresent),
          blockBytes: 512,
          flush: false,
        });
        return;
      case CMD.READ_SECTORS:
      case CMD.READ_SECTORS_NORETRY:
        return this.readWrite(host, 'in', false, false, 1);
      case CMD.READ_SECTORS_EXT:
        return this.readWrite(host, 'in', true, false, 1);
      case CMD.READ_MULTIPLE:
      case CMD.READ_MULTIPLE_EXT:
        if (this.multiple === 0) return host.fail(ER_ABRT);
        return this.readWrite(host, 'in', cmd === CMD.READ_MULTIPLE_EXT, false, this.multiple);
      case CMD.READ_DMA:
      case CMD.READ_DMA_NORETRY:
      case CMD.READ_DMA_EXT:
        return this.readWrite(host, 'in', cmd === CMD.READ_DMA_EXT, true, 1);
      case CMD.WRITE_SECTORS:
      case CMD.WRITE_SECTORS_NORETRY:
        return this.readWrite(host, 'out', false, false, 1);
      case CMD.WRITE_SECTORS_EXT:
        return this.readWrite(host, 'out', true, false, 1);
      case CMD.WRITE_MULTIPLE:
      case CMD.WRITE_MULTIPLE_EXT:
        if (this.multiple === 0) return host.fail(ER_ABRT);
        return this.readWrite(host, 'out', cmd === CMD.WRITE_MULTIPLE_EXT, false, this.multiple);
      case CMD.WRITE_DMA:
      case CMD.WRITE_DMA_NORETRY:
      case CMD.WRITE_DMA_EXT:
        return this.readWrite(host, 'out', cmd === CMD.WRITE_DMA_EXT, true, 1);
      case CMD.READ_VERIFY:
      case CMD.READ_VERIFY_NORETRY:
      case CMD.READ_VERIFY_EXT: {
        const r = this.range(tf, cmd === CMD.READ_VERIFY_EXT);
        if (r === null) return host.fail(ER_IDNF);
        this.power = 'active';
        return host.complete();
      }
      case CMD.FLUSH_CACHE:
      case CMD.FLUSH_CACHE_EXT:
        return host.runBusy(
          () => this.backend.flush(),
          (err) => (err === null ? host.complete() : host.fail(ER_ABRT)),
        );
      case CMD.SET_FEATURES:
        return this.setFeatures(host);
      case CMD.SET_MULTIPLE_MODE: {
        const n = tf.nsector;
        // 0 turns multiple mode off; otherwise a power of two up to the maximum.
        if (n > MAX_MULTIPLE || (n & (n - 1)) !== 0) return host.fail(ER_ABRT);
        this.multiple = n;
        return host.complete();
      }
      case CMD.INITIALIZE_DEVICE_PARAMETERS: {
        const spt = tf.nsector;
        if (spt === 0) return host.fail(ER_ABRT);
        this.heads = (tf.select & 0x0f) + 1;
        this.spt = spt;
        return host.complete();
      }
      case CMD.CHECK_POWER_MODE:
      case CMD.CHECK_POWER_MODE_OLD:
        tf.nsector = this.power === 'standby' ? 0x00 : this.power === 'idle' ? 0x80 : 0xff;
        return host.complete();
      case CMD.STANDBY_IMMEDIATE:
      case CMD.STANDBY:
      case CMD.SLEEP:
      case CMD.STANDBY_IMMEDIATE_OLD:
      case CMD.STANDBY_OLD:
      case CMD.SLEEP_OLD:
        // Sleep is treated as standby: the next access (or a reset) wakes the disk.
        this.power = 'standby';
        return host.complete();
      case CMD.IDLE_IMMEDIATE:
      case CMD.IDLE:
      case CMD.IDLE_IMMEDIATE_OLD:
      case CMD.IDLE_OLD:
        this.power = 'idle';
        return host.complete();
      case CMD.READ_NATIVE_MAX:
      case CMD.READ_NATIVE_MAX_EXT: {
        const ext = cmd === CMD.READ_NATIVE_MAX_EXT;
        const max = Math.max(0, this.sectors - 1);
        tf.setLba(ext ? max : Math.min(max, LBA28_MAX), ext, this.heads, this.spt);
        return host.complete();
      }
      default:
        if ((cmd & 0xf0) === CMD.RECALIBRATE) return host.complete();
        if ((cmd & 0xf0) === CMD.SEEK) {
          const lba = tf.lbaMode ? tf.lba28() : tf.chsToLba(this.heads, this.spt);
          if (lba < 0 || lba >= this.sectors) return host.fail(ER_IDNF);
          return host.complete();
        }
        // NOP, PACKET, IDENTIFY PACKET DEVICE, DEVICE RESET, SMART, ...: not for this device.
        return host.fail(ER_ABRT);
    }
  }

  packet(_cdb: Uint8Array, host: CommandHost): void {
    host.fail(ER_ABRT);
  }

  /** First sector and count of a read/write/verify, or null (IDNF registers set) if out of range. */
  private range(tf: TaskFile, ext: boolean): { lba: number; count: number } | null {
    const count = ext ? tf.count48() : tf.count28();
    const lba = ext ? tf.lba48() : tf.lbaMode ? tf.lba28() : tf.chsToLba(this.heads, this.spt);
    if (lba < 0 || lba + count > this.sectors) {
      // Report the first sector that does not exist.
      if (lba >= 0) tf.setLba(lba >= this.sectors ? lba : this.sectors, ext, this.heads, this.spt);
      return null;
    }
    return { lba, count };
  }

  private readWrite(host: CommandHost, dir: 'in' | 'out', ext: boolean, dma: boolean, perBlock: number): void {
    const r = this.range(host.tf, ext);
    if (r === null) return host.fail(ER_IDNF);
    if (dir === 'out' && this.backend.readOnly) return host.fail(ER_ABRT);
    this.ext = ext;
    this.power = 'active';
    host.transfer({
      dir,
      dma,
      target: 'medium',
      bytes: r.count * SECTOR_BYTES,
      mediumOffset: r.lba * SECTOR_BYTES,
      data: null,
      blockBytes: perBlock * SECTOR_BYTES,
      flush: dir === 'out' && !this.writeCache,
    });
  }

  private setFeatures(host: CommandHost): void {
    const tf = host.tf;
    switch (tf.feature) {
      case SETF.ENABLE_WCACHE:
        this.writeCache = true;
        return host.complete();
      case SETF.DISABLE_WCACHE:
        // What the cache held must be durable before the drive claims write-through.
        this.writeCache = false;
        return host.runBusy(
          () => this.backend.flush(),
          (err) => (err === null ? host.complete() : host.fail(ER_ABRT)),
        );
      case SETF.SET_XFER_MODE: {
        const mode = tf.nsector;
        const n = mode & 7;
        const cls = mode >>> 3;
        const ok = cls === 0 || (cls === 1 && n <= 4) || (cls === 4 && n <= 2) || (cls === 8 && n <= 5);
        if (!ok) return host.fail(ER_ABRT);
        this.xferMode = mode;
        return host.complete();
      }
      case SETF.ENABLE_LOOKAHEAD:
      case SETF.DISABLE_LOOKAHEAD:
      case SETF.ENABLE_REVERT:
      case SETF.DISABLE_REVERT:
      case SETF.ENABLE_APM:
      case SETF.DISABLE_APM:
      case SETF.ENABLE_AAM:
      case SETF.DISABLE_AAM:
        return host.complete();
      default:
        return host.fail(ER_ABRT);
    }
  }

  /** The 512-byte IDENTIFY DEVICE block. */
  identify(unit: 0 | 1, peerPresent: boolean): Uint8Array {
    const id = new Uint16Array(256);
    const curCyl = Math.min(0xffff, Math.floor(this.sectors / (this.heads * this.spt)));
    const chsCapacity = Math.min(curCyl * this.heads * this.spt, 0xffffffff);
    const lba28 = Math.min(this.sectors, LBA28_MAX);
    id[0] = 0x0040; // fixed disk
    id[1] = this.cylinders;
    id[3] = DEFAULT_HEADS;
    id[6] = DEFAULT_SPT;
    putAtaString(id, 10, 20, this.serial);
    putAtaString(id, 23, 8, this.firmware);
    putAtaString(id, 27, 40, this.model);
    id[47] = 0x8000 | MAX_MULTIPLE;
    id[49] = (1 << 11) | (1 << 9) | (1 << 8); // IORDY, LBA, DMA
    id[50] = 0x4000;
    id[51] = 0x0200;
    id[52] = 0x0200;
    id[53] = 0x0007; // words 54-58, 64-70 and 88 are valid
    id[54] = curCyl;
    id[55] = this.heads;
    id[56] = this.spt;
    id[57] = chsCapacity & 0xffff;
    id[58] = chsCapacity >>> 16;
    if (this.multiple !== 0) id[59] = 0x0100 | this.multiple;
    id[60] = lba28 & 0xffff;
    id[61] = lba28 >>> 16;
    id[63] = 0x0007 | ((this.xferMode & 0xf8) === 0x20 ? 0x100 << (this.xferMode & 7) : 0); // MWDMA 0-2
    id[64] = 0x0003; // PIO 3-4
    id[65] = 120;
    id[66] = 120;
    id[67] = 120;
    id[68] = 120;
    id[80] = 0x00f0; // ATA/ATAPI-4 to -7
    id[82] = (1 << 14) | (1 << 5) | (1 << 3); // NOP, write cache, power management
    id[83] = 0x4000 | (1 << 13) | (1 << 12) | (1 << 10); // FLUSH CACHE EXT, FLUSH CACHE, 48-bit
    id[84] = 0x4000;
    id[85] = (1 << 14) | (this.writeCache ? 1 << 5 : 0) | (1 << 3);
    id[86] = (1 << 13) | (1 << 12) | (1 << 10);
    id[87] = 0x4000;
    id[88] = 0x003f | ((this.xferMode & 0xf8) === 0x40 ? 0x100 << (this.xferMode & 7) : 0); // UDMA 0-5
    id[93] = word93(unit, peerPresent);
    let n = this.sectors;
    for (let w = 100; w <= 103; w++) {
      id[w] = n % 0x10000;
      n = Math.floor(n / 0x10000);
    }
    id[106] = 0x4000; // one logical sector per physical sector
    setIdentifyChecksum(id);
    return new Uint8Array(id.buffer);
  }

  readMedium(offset: number, target: Uint8Array): Promise<unknown> {
    return this.backend.read(offset, target);
  }

  writeMedium(offset: number, data: Uint8Array): Promise<void> {
    return this.backend.write(offset, data);
  }

  flushMedium(): Promise<void> {
    return this.backend.flush();
  }

  transferDone(result: TransferResult, tf: TaskFile): void {
    // As QEMU leaves them: the sector after the last one moved, and no sectors left.
    const next = (result.spec.mediumOffset + result.spec.bytes) / SECTOR_BYTES;
    tf.setLba(next, this.ext, this.heads, this.spt);
    tf.nsector = 0;
    if (this.ext) tf.hobNsector = 0;
  }

  transferFailed(result: TransferResult, op: MediumOp, err: unknown, tf: TaskFile): number {
    const failing = (result.spec.mediumOffset + result.doneBytes) / SECTOR_BYTES;
    tf.setLba(failing, this.ext, this.heads, this.spt);
    if (op === 'read') return err instanceof BlockRequestError ? ER_IDNF : ER_UNC;
    return ER_ABRT;
  }

  save(): DeviceState {
    return {
      kind: this.kind,
      sectors: this.sectors,
      heads: this.heads,
      spt: this.spt,
      multiple: this.multiple,
      writeCache: this.writeCache,
      xferMode: this.xferMode,
      power: this.power,
      ext: this.ext,
    };
  }

  parseState(r: StateReader): () => void {
    r.str('kind', ['ata']);
    const sectors = r.int('sectors', 0, Number.MAX_SAFE_INTEGER);
    if (sectors !== this.sectors) r.fail('sectors', `is ${sectors}, but the attached disk has ${this.sectors}`);
    const heads = r.int('heads', 1, 16);
    const spt = r.int('spt', 1, 255);
    const multiple = r.int('multiple', 0, MAX_MULTIPLE);
    const writeCache = r.bool('writeCache');
    const xferMode = r.int('xferMode', 0, 0xff);
    const power = r.str('power', ['active', 'idle', 'standby']) as PowerMode;
    const ext = r.bool('ext');
    return () => {
      this.heads = heads;
      this.spt = spt;
      this.multiple = multiple;
      this.writeCache = writeCache;
      this.xferMode = xferMode;
      this.power = power;
      this.ext = ext;
    };
  }
}
