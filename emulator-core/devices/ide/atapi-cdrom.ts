/**
 * An ATAPI CD-ROM drive serving 2048-byte sectors of a read-only image (an ISO), with a
 * tray that may be empty. It speaks the MMC subset that SeaBIOS, isolinux (through the
 * BIOS) and Linux's sr/cdrom drivers use, and reports medium changes the two ways guests
 * look for them: a UNIT ATTENTION (06/28/00) on the next ordinary command, and media
 * events for GET EVENT STATUS NOTIFICATION polling.
 */
import type { BlockBackend } from '../../storage/block-backend.js';
import { BlockRequestError } from '../../storage/errors.js';
import type { DeviceState } from '../device.js';
import type { StateReader } from '../state.js';
import { ASC, CD_SECTOR_BYTES, CMD, ER_ABRT, SCSI, SETF, SK } from './constants.js';
import type { CommandHost, IdeDrive, MediumOp, TransferResult } from './drive.js';
import { MediumAbsentError } from './errors.js';
import { putAtaString, putScsiString, setIdentifyChecksum, stableSerial, word93 } from './identify.js';
import type { TaskFile } from './taskfile.js';

/** GET EVENT STATUS NOTIFICATION media event codes. */
export const MEDIA_EVENT = {
  NONE: 0,
  EJECT_REQUEST: 1,
  NEW_MEDIA: 2,
  MEDIA_REMOVAL: 3,
} as const;

const PROFILE_CD_ROM = 0x0008;
/** Events are few; a guest that never polls must not make the queue grow. */
const MAX_EVENTS = 4;

export interface AtapiCdromOptions {
  /** The disc in the tray at power-on, or null for an empty drive. */
  medium?: BlockBackend | null;
  serial?: string;
  model?: string;
  firmware?: string;
  /** INQUIRY vendor (8 characters at most). */
  vendor?: string;
}

/** What eject() did. */
export type EjectResult = { ejected: true; previous: BlockBackend | null } | { ejected: false; reason: 'locked' };

interface CommandInfo {
  /** Runs even while a UNIT ATTENTION is pending (MMC: INQUIRY, REQUEST SENSE, GET CONFIGURATION, GESN). */
  allowUa: boolean;
  /** Needs a readable disc; otherwise NOT READY / MEDIUM NOT PRESENT. */
  needsMedium: boolean;
}

const COMMANDS: ReadonlyMap<number, CommandInfo> = new Map([
  [SCSI.TEST_UNIT_READY, { allowUa: false, needsMedium: true }],
  [SCSI.REQUEST_SENSE, { allowUa: true, needsMedium: false }],
  [SCSI.INQUIRY, { allowUa: true, needsMedium: false }],
  [SCSI.START_STOP_UNIT, { allowUa: false, needsMedium: false }],
  [SCSI.PREVENT_ALLOW_MEDIUM_REMOVAL, { allowUa: false, needsMedium: false }],
  [SCSI.READ_CAPACITY, { allowUa: false, needsMedium: true }],
  [SCSI.READ_10, { allowUa: false, needsMedium: true }],
  [SCSI.SEEK_10, { allowUa: false, needsMedium: true }],
  [SCSI.READ_TOC, { allowUa: false, needsMedium: true }],
  [SCSI.GET_CONFIGURATION, { allowUa: true, needsMedium: false }],
  [SCSI.GET_EVENT_STATUS_NOTIFICATION, { allowUa: true, needsMedium: false }],
  [SCSI.READ_DISC_INFORMATION, { allowUa: false, needsMedium: true }],
  [SCSI.READ_TRACK_INFORMATION, { allowUa: false, needsMedium: true }],
  [SCSI.MODE_SENSE_10, { allowUa: false, needsMedium: false }],
  [SCSI.READ_12, { allowUa: false, needsMedium: true }],
  [SCSI.SET_CD_SPEED, { allowUa: false, needsMedium: false }],
  [SCSI.MECHANISM_STATUS, { allowUa: false, needsMedium: false }],
  [SCSI.READ_CD, { allowUa: false, needsMedium: true }],
]);

const be16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
const be32 = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** A CD address: LBA, or minutes/seconds/frames (75 frames a second, 2 seconds of lead-in). */
function putAddress(b: Uint8Array, o: number, lba: number, msf: boolean): void {
  if (!msf) {
    put32(b, o, lba);
    return;
  }
  const f = lba + 150;
  b[o] = 0;
  b[o + 1] = Math.min(Math.floor(f / (75 * 60)), 0xff);
  b[o + 2] = Math.floor(f / 75) % 60;
  b[o + 3] = f % 75;
}

/** Thrown by command handlers: the command ends with CHECK CONDITION and this sense. */
class CheckCondition {
  constructor(
    readonly key: number,
    readonly asc: number,
  ) {}
}

export class AtapiCdrom implements IdeDrive {
  readonly kind = 'atapi';
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  readonly vendor: string;
  /**
   * Called when the guest opens (START STOP UNIT with LoEj) or closes the tray. An opened
   * tray still holds its disc; the machine may take it out with insertMedium(null).
   */
  onTrayChange: ((open: boolean) => void) | null = null;
  private medium: BlockBackend | null;
  private trayOpen = false;
  private locked = false;
  private senseKey: number = SK.NO_SENSE;
  private asc: number = ASC.NONE;
  private unitAttention = false;
  private events: number[] = [];
  /** Features bit 0 of the PACKET command: move this command's data by DMA. */
  private packetDma = false;
  private xferMode = 0x42;

  constructor(options: AtapiCdromOptions = {}) {
    this.medium = options.medium ?? null;
    this.model = options.model ?? 'TERRARIUM CD-ROM';
    this.serial = options.serial ?? stableSerial('TRCD', this.model);
    this.firmware = options.firmware ?? '1.0';
    this.vendor = options.vendor ?? 'TERRA';
  }

  /** The disc in the drive (in the tray, even when the tray is open), or null. */
  get currentMedium(): BlockBackend | null {
    return this.medium;
  }

  get isTrayOpen(): boolean {
    return this.trayOpen;
  }

  /** The guest has locked the tray (PREVENT ALLOW MEDIUM REMOVAL). */
  get isLocked(): boolean {
    return this.locked;
  }

  /** A disc the drive can read: present and the tray closed. */
  get ready(): boolean {
    return this.medium !== null && !this.trayOpen;
  }

  /** 2048-byte sectors on the disc (a partial last sector is not addressable). */
  get capacity(): number {
    return this.medium === null ? 0 : Math.floor(this.medium.size / CD_SECTOR_BYTES);
  }

  /**
   * Put a disc in (the tray closes) or take it out (null: an empty drive, tray closed).
   * The user's hand beats the guest's lock, as with a paper clip. The guest sees the
   * change as media events and a UNIT ATTENTION. Returns the previous disc for the
   * caller to close; a read still in flight on it then fails as a medium error.
   */
  insertMedium(backend: BlockBackend | null): BlockBackend | null {
    const previous = this.medium;
    if (previous !== null && !this.trayOpen) this.pushEvent(MEDIA_EVENT.MEDIA_REMOVAL);
    this.medium = backend;
    this.trayOpen = false;
    if (backend !== null) {
      this.pushEvent(MEDIA_EVENT.NEW_MEDIA);
      this.unitAttention = true;
    }
    return previous;
  }

  /**
   * The eject button. A tray the guest has locked stays shut unless `force`: the guest is
   * told through an EJECT REQUEST event and may unlock and eject by itself.
   */
  eject(options: { force?: boolean } = {}): EjectResult {
    if (this.locked && options.force !== true) {
      this.pushEvent(MEDIA_EVENT.EJECT_REQUEST);
      return { ejected: false, reason: 'locked' };
    }
    this.locked = false;
    return { ejected: true, previous: this.insertMedium(null) };
  }

  private pushEvent(code: number): void {
    if (this.events.length >= MAX_EVENTS) this.events.shift();
    this.events.push(code);
  }

  reset(): void {
    this.trayOpen = false;
    this.locked = false;
    this.senseKey = SK.NO_SENSE;
    this.asc = ASC.NONE;
    this.unitAttention = false;
    this.events = [];
    this.packetDma = false;
    this.xferMode = 0x42;
  }

  softReset(): void {
    this.packetDma = false;
  }

  // ATA commands -----------------------------------------------------------------------

  execute(cmd: number, host: CommandHost): void {
    const tf = host.tf;
    switch (cmd) {
      case CMD.IDENTIFY_PACKET_DEVICE:
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
      case CMD.PACKET:
        // Overlapped commands (features bit 1) are not supported.
        if ((tf.feature & 0x02) !== 0) return host.fail(ER_ABRT);
        this.packetDma = (tf.feature & 0x01) !== 0;
        host.transfer({ dir: 'out', dma: false, target: 'packet', bytes: 12, mediumOffset: 0, data: null, blockBytes: 12, flush: false });
        return;
      case CMD.IDENTIFY_DEVICE:
      case CMD.READ_SECTORS:
      case CMD.READ_SECTORS_NORETRY:
        // ATA-4 asks a packet device to abort these with its signature in place: that is
        // how drivers that try IDENTIFY DEVICE first find out what they talk to.
        tf.setSignature('atapi');
        return host.fail(ER_ABRT);
      case CMD.SET_FEATURES:
        if (tf.feature === SETF.SET_XFER_MODE) {
          const mode = tf.nsector;
          const n = mode & 7;
          const cls = mode >>> 3;
          if (!(cls === 0 || (cls === 1 && n <= 4) || (cls === 4 && n <= 2) || (cls === 8 && n <= 5))) return host.fail(ER_ABRT);
          this.xferMode = mode;
          return host.complete();
        }
        if (tf.feature === SETF.ENABLE_REVERT || tf.feature === SETF.DISABLE_REVERT) return host.complete();
        return host.fail(ER_ABRT);
      case CMD.CHECK_POWER_MODE:
        tf.nsector = 0xff;
        return host.complete();
      case CMD.IDLE_IMMEDIATE:
      case CMD.STANDBY_IMMEDIATE:
      case CMD.SLEEP:
      case CMD.FLUSH_CACHE:
        return host.complete();
      default:
        return host.fail(ER_ABRT);
    }
  }

  /** The 512-byte IDENTIFY PACKET DEVICE block. */
  identify(unit: 0 | 1, peerPresent: boolean): Uint8Array {
    const id = new Uint16Array(256);
    // ATAPI, CD-ROM, removable, DRQ within 50 us of PACKET (no interrupt), 12-byte packets.
    id[0] = (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5);
    putAtaString(id, 10, 20, this.serial);
    putAtaString(id, 23, 8, this.firmware);
    putAtaString(id, 27, 40, this.model);
    id[49] = (1 << 11) | (1 << 9) | (1 << 8); // IORDY, LBA, DMA
    id[53] = 0x0007;
    id[63] = 0x0007 | ((this.xferMode & 0xf8) === 0x20 ? 0x100 << (this.xferMode & 7) : 0);
    id[64] = 0x0003;
    id[65] = 120;
    id[66] = 120;
    id[67] = 120;
    id[68] = 120;
    id[80] = 0x00f0;
    id[82] = (1 << 14) | (1 << 9) | (1 << 4) | (1 << 3); // NOP, DEVICE RESET, PACKET, power management
    id[83] = 0x4000;
    id[84] = 0x4000;
    id[85] = id[82];
    id[87] = 0x4000;
    id[88] = 0x003f | ((this.xferMode & 0xf8) === 0x40 ? 0x100 << (this.xferMode & 7) : 0);
    id[93] = word93(unit, peerPresent);
    setIdentifyChecksum(id);
    return new Uint8Array(id.buffer);
  }

  // Packet commands --------------------------------------------------------------------

  packet(cdb: Uint8Array, host: CommandHost): void {
    const op = cdb[0];
    const info = COMMANDS.get(op);
    try {
      if (info === undefined) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INVALID_OPCODE);
      if (this.unitAttention && !info.allowUa) {
        this.unitAttention = false;
        throw new CheckCondition(SK.UNIT_ATTENTION, ASC.MEDIUM_MAY_HAVE_CHANGED);
      }
      // Sense data describes the last command; REQUEST SENSE is how it is read.
      if (op !== SCSI.REQUEST_SENSE) {
        this.senseKey = SK.NO_SENSE;
        this.asc = ASC.NONE;
      }
      if (info.needsMedium && !this.ready) throw this.notReady();
      this.run(op, cdb, host);
    } catch (e) {
      if (!(e instanceof CheckCondition)) throw e;
      this.senseKey = e.key;
      this.asc = e.asc;
      host.fail(e.key << 4);
    }
  }

  private notReady(): CheckCondition {
    return new CheckCondition(SK.NOT_READY, this.trayOpen ? ASC.MEDIUM_NOT_PRESENT_TRAY_OPEN : ASC.MEDIUM_NOT_PRESENT);
  }

  /** Send `data` (cut to the allocation length) to the host. */
  private reply(host: CommandHost, data: Uint8Array, alloc: number): void {
    const bytes = Math.min(data.length, alloc);
    host.transfer({ dir: 'in', dma: this.packetDma, target: 'buffer', bytes, mediumOffset: 0, data, blockBytes: 0, flush: false });
  }

  private run(op: number, cdb: Uint8Array, host: CommandHost): void {
    switch (op) {
      case SCSI.TEST_UNIT_READY:
      case SCSI.SET_CD_SPEED:
        return host.complete();
      case SCSI.REQUEST_SENSE:
        return this.reply(host, this.requestSense(), cdb[4]);
      case SCSI.INQUIRY:
        if ((cdb[1] & 0x01) !== 0) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB); // no VPD pages
        return this.reply(host, this.inquiry(), be16(cdb, 3));
      case SCSI.START_STOP_UNIT:
        return this.startStop(cdb, host);
      case SCSI.PREVENT_ALLOW_MEDIUM_REMOVAL:
        this.locked = (cdb[4] & 0x01) !== 0;
        return host.complete();
      case SCSI.READ_CAPACITY: {
        const b = new Uint8Array(8);
        put32(b, 0, Math.max(0, this.capacity - 1));
        put32(b, 4, CD_SECTOR_BYTES);
        return this.reply(host, b, 8);
      }
      case SCSI.READ_10:
        return this.read(host, be32(cdb, 2), be16(cdb, 7));
      case SCSI.READ_12:
        return this.read(host, be32(cdb, 2), be32(cdb, 6));
      case SCSI.READ_CD:
        return this.readCd(cdb, host);
      case SCSI.SEEK_10:
        if (be32(cdb, 2) >= this.capacity) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
        return host.complete();
      case SCSI.READ_TOC:
        return this.reply(host, this.readToc(cdb), be16(cdb, 7));
      case SCSI.GET_CONFIGURATION:
        return this.reply(host, this.getConfiguration(cdb), be16(cdb, 7));
      case SCSI.GET_EVENT_STATUS_NOTIFICATION:
        return this.reply(host, this.eventStatus(cdb), be16(cdb, 7));
      case SCSI.READ_DISC_INFORMATION:
        if ((cdb[1] & 0x07) !== 0) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
        return this.reply(host, this.discInformation(), be16(cdb, 7));
      case SCSI.READ_TRACK_INFORMATION:
        return this.reply(host, this.trackInformation(cdb), be16(cdb, 7));
      case SCSI.MODE_SENSE_10:
        return this.reply(host, this.modeSense(cdb), be16(cdb, 7));
      case SCSI.MECHANISM_STATUS: {
        const b = new Uint8Array(8);
        b[1] = this.trayOpen ? 0x10 : 0x00; // door open
        return this.reply(host, b, be16(cdb, 8));
      }
      default:
        throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INVALID_OPCODE);
    }
  }

  private read(host: CommandHost, lba: number, count: number): void {
    if (count === 0) return host.complete();
    if (lba + count > this.capacity) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
    host.transfer({
      dir: 'in',
      dma: this.packetDma,
      target: 'medium',
      bytes: count * CD_SECTOR_BYTES,
      mediumOffset: lba * CD_SECTOR_BYTES,
      data: null,
      blockBytes: 0,
      flush: false,
    });
  }

  /** READ CD: user data of data sectors only (what a data disc image holds). */
  private readCd(cdb: Uint8Array, host: CommandHost): void {
    const sectorType = (cdb[1] >>> 2) & 0x07;
    // 0 = any type, 2 = mode 1 (an ISO's sectors); audio or mode 2 sectors do not exist here.
    if (sectorType !== 0 && sectorType !== 2) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INCOMPATIBLE_FORMAT);
    const count = (cdb[6] << 16) | (cdb[7] << 8) | cdb[8];
    const fields = cdb[9] & 0xf8;
    if (fields === 0x00) {
      if (be32(cdb, 2) + count > this.capacity) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
      return host.complete();
    }
    if (fields !== 0x10) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB); // raw sectors unsupported
    return this.read(host, be32(cdb, 2), count);
  }

  private requestSense(): Uint8Array {
    let key = this.senseKey;
    let asc = this.asc;
    if (this.unitAttention) {
      // A pending UNIT ATTENTION is reported (and consumed) by REQUEST SENSE.
      this.unitAttention = false;
      key = SK.UNIT_ATTENTION;
      asc = ASC.MEDIUM_MAY_HAVE_CHANGED;
    }
    const b = new Uint8Array(18);
    b[0] = 0x70; // current error, fixed format
    b[2] = key;
    b[7] = 10; // additional length
    b[12] = asc >>> 8;
    b[13] = asc & 0xff;
    this.senseKey = SK.NO_SENSE;
    this.asc = ASC.NONE;
    return b;
  }

  private inquiry(): Uint8Array {
    const b = new Uint8Array(36);
    b[0] = 0x05; // CD/DVD device
    b[1] = 0x80; // removable
    b[2] = 0x00;
    b[3] = 0x21; // ATAPI, response data format 1
    b[4] = 36 - 5;
    putScsiString(b, 8, 8, this.vendor);
    putScsiString(b, 16, 16, this.model);
    putScsiString(b, 32, 4, this.firmware);
    return b;
  }

  private startStop(cdb: Uint8Array, host: CommandHost): void {
    const power = cdb[4] >>> 4;
    const loej = (cdb[4] & 0x02) !== 0;
    const start = (cdb[4] & 0x01) !== 0;
    if (power !== 0 || !loej) return host.complete(); // spin up/down and power conditions: nothing to do
    if (!start) {
      if (this.locked) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.MEDIUM_REMOVAL_PREVENTED);
      if (!this.trayOpen) {
        if (this.medium !== null) this.pushEvent(MEDIA_EVENT.MEDIA_REMOVAL);
        this.trayOpen = true;
        this.onTrayChange?.(true);
      }
      return host.complete();
    }
    if (this.trayOpen) {
      this.trayOpen = false;
      if (this.medium !== null) {
        this.pushEvent(MEDIA_EVENT.NEW_MEDIA);
        this.unitAttention = true;
      }
      this.onTrayChange?.(false);
    }
    return host.complete();
  }

  /** READ TOC/PMA/ATIP for a one-session disc with one data track. */
  private readToc(cdb: Uint8Array): Uint8Array {
    const msf = (cdb[1] & 0x02) !== 0;
    let format = cdb[2] & 0x0f;
    // SFF-8020 drivers (Linux's multisession probe) put the format in the control byte.
    if (format === 0) format = cdb[9] >>> 6;
    const track = cdb[6];
    const leadOut = this.capacity;
    switch (format) {
      case 0: {
        if (track > 1 && track !== 0xaa) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
        const withTrack1 = track <= 1;
        const b = new Uint8Array(4 + (withTrack1 ? 16 : 8));
        b[2] = 1; // first track
        b[3] = 1; // last track
        let o = 4;
        if (withTrack1) {
          b[o + 1] = 0x14; // ADR 1, data track
          b[o + 2] = 1;
          putAddress(b, o + 4, 0, msf);
          o += 8;
        }
        b[o + 1] = 0x16; // lead-out: data, digital copy permitted
        b[o + 2] = 0xaa;
        putAddress(b, o + 4, leadOut, msf);
        put16(b, 0, b.length - 2);
        return b;
      }
      case 1: {
        // Session information: one complete session starting at track 1, LBA 0.
        const b = new Uint8Array(12);
        put16(b, 0, 10);
        b[2] = 1;
        b[3] = 1;
        b[5] = 0x14;
        b[6] = 1;
        putAddress(b, 8, 0, msf);
        return b;
      }
      case 2: {
        // Full TOC: points A0 (first track), A1 (last track), A2 (lead-out), then track 1.
        if (track > 1) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
        const b = new Uint8Array(4 + 4 * 11);
        b[2] = 1; // first session
        b[3] = 1; // last session
        const point = (i: number, pt: number, fill: (d: number) => void): void => {
          const d = 4 + i * 11;
          b[d] = 1; // session
          b[d + 1] = 0x14;
          b[d + 3] = pt;
          fill(d);
        };
        point(0, 0xa0, (d) => {
          b[d + 8] = 1; // first track
          b[d + 9] = 0x00; // disc type: CD-DA or CD-ROM
        });
        point(1, 0xa1, (d) => {
          b[d + 8] = 1; // last track
        });
        point(2, 0xa2, (d) => putAddress(b, d + 7, leadOut, msf));
        point(3, 0x01, (d) => putAddress(b, d + 7, 0, msf));
        put16(b, 0, b.length - 2);
        return b;
      }
      default:
        throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
    }
  }

  /** GET CONFIGURATION: CD-ROM profile and the features a read-only drive has. */
  private getConfiguration(cdb: Uint8Array): Uint8Array {
    const rt = cdb[1] & 0x03;
    const first = be16(cdb, 2);
    if (rt === 3) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
    const present = this.ready;
    interface Feature {
      code: number;
      version: number;
      persistent: boolean;
      current: boolean;
      data: number[];
    }
    const features: Feature[] = [
      // Profile list: the one profile, current when a disc is in.
      { code: 0x0000, version: 0, persistent: true, current: true, data: [0x00, PROFILE_CD_ROM, present ? 1 : 0, 0] },
      // Core: ATAPI physical interface.
      { code: 0x0001, version: 1, persistent: true, current: true, data: [0, 0, 0, 2, 0, 0, 0, 0] },
      // Morphing: reports operational changes by polling (no async events).
      { code: 0x0002, version: 1, persistent: true, current: true, data: [0x02, 0, 0, 0] },
      // Removable medium: tray loader, can eject, can lock.
      { code: 0x0003, version: 0, persistent: true, current: true, data: [(1 << 5) | (1 << 3) | 0x01, 0, 0, 0] },
      // Random readable: 2048-byte blocks.
      { code: 0x0010, version: 0, persistent: false, current: present, data: [0, 0, 0x08, 0x00, 0, 1, 0, 0] },
      // CD read.
      { code: 0x001e, version: 2, persistent: false, current: present, data: [0, 0, 0, 0] },
      // Power management.
      { code: 0x0100, version: 0, persistent: true, current: true, data: [] },
    ];
    const chosen = features.filter((f) => (rt === 2 ? f.code === first : f.code >= first && (rt === 0 || f.current)));
    const size = 8 + chosen.reduce((n, f) => n + 4 + f.data.length, 0);
    const b = new Uint8Array(size);
    put32(b, 0, size - 4);
    put16(b, 6, present ? PROFILE_CD_ROM : 0);
    let o = 8;
    for (const f of chosen) {
      put16(b, o, f.code);
      b[o + 2] = (f.version << 2) | (f.persistent ? 0x02 : 0) | (f.current ? 0x01 : 0);
      b[o + 3] = f.data.length;
      b.set(f.data, o + 4);
      o += 4 + f.data.length;
    }
    return b;
  }

  /** GET EVENT STATUS NOTIFICATION, polled, media class only. */
  private eventStatus(cdb: Uint8Array): Uint8Array {
    if ((cdb[1] & 0x01) === 0) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB); // async mode
    const mediaClass = 0x10;
    if ((cdb[4] & mediaClass) === 0) {
      // No requested class is supported: header only, "no event available".
      return Uint8Array.of(0, 2, 0x80, mediaClass);
    }
    const b = new Uint8Array(8);
    put16(b, 0, 6);
    b[2] = 4; // notification class: media
    b[3] = mediaClass;
    b[4] = this.events.shift() ?? MEDIA_EVENT.NONE;
    b[5] = this.trayOpen ? 0x01 : this.medium !== null ? 0x02 : 0x00; // tray open / media present
    return b;
  }

  private discInformation(): Uint8Array {
    const b = new Uint8Array(34);
    put16(b, 0, 32);
    b[2] = 0x0e; // last session complete, disc finalized, not erasable
    b[3] = 1; // first track
    b[4] = 1; // sessions
    b[5] = 1; // first track of the last session
    b[6] = 1; // last track of the last session
    b[7] = 0x20; // unrestricted use
    b[8] = 0x00; // CD-DA or CD-ROM
    put32(b, 16, 0xffffffff); // no next session
    put32(b, 20, 0xffffffff);
    return b;
  }

  /** READ TRACK INFORMATION for the one data track (by LBA, track 1 or session 1). */
  private trackInformation(cdb: Uint8Array): Uint8Array {
    const type = cdb[1] & 0x03;
    const n = be32(cdb, 2);
    const valid = (type === 0 && n < this.capacity) || (type === 1 && n === 1) || (type === 2 && n === 1);
    if (!valid) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
    const b = new Uint8Array(36);
    put16(b, 0, 34);
    b[2] = 1; // track number
    b[3] = 1; // session number
    b[5] = 0x04; // data track, recorded uninterrupted
    b[6] = 0x01; // data mode 1
    b[7] = 0x02; // last recorded address valid
    put32(b, 8, 0); // track start
    put32(b, 24, this.capacity); // track size
    put32(b, 28, Math.max(0, this.capacity - 1)); // last recorded address
    return b;
  }

  /** MODE SENSE(10): read/write error recovery (01) and capabilities (2A) pages. */
  private modeSense(cdb: Uint8Array): Uint8Array {
    const control = cdb[2] >>> 6;
    const page = cdb[2] & 0x3f;
    if (control === 3) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.SAVING_PARAMETERS_NOT_SUPPORTED);
    const changeable = control === 1;
    const pages: Uint8Array[] = [];
    if (page === 0x01 || page === 0x3f) {
      pages.push(changeable ? Uint8Array.of(0x01, 0x06, 0, 0, 0, 0, 0, 0) : Uint8Array.of(0x01, 0x06, 0x00, 0x05, 0, 0, 0, 0));
    }
    if (page === 0x2a || page === 0x3f) {
      const p = new Uint8Array(20);
      p[0] = 0x2a;
      p[1] = 0x12;
      if (!changeable) {
        p[2] = 0x00; // reads CD-ROM only
        p[3] = 0x00; // writes nothing
        p[4] = 0x71; // audio play (Linux automounts on it), mode 2 form 1/2, multisession
        p[5] = 0x00;
        p[6] = (1 << 5) | (1 << 3) | (this.locked ? 0x02 : 0) | 0x01; // tray, eject, lock state, lock
        put16(p, 8, 706); // 4x (KB/s)
        put16(p, 10, 2);
        put16(p, 12, 512);
        put16(p, 14, 706);
      }
      pages.push(p);
    }
    if (pages.length === 0) throw new CheckCondition(SK.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
    const size = 8 + pages.reduce((n, p) => n + p.length, 0);
    const b = new Uint8Array(size);
    put16(b, 0, size - 2);
    // Medium type (SFF-8020): 120 mm data disc, door closed empty, or door open.
    b[2] = this.trayOpen ? 0x71 : this.medium !== null ? 0x01 : 0x70;
    let o = 8;
    for (const p of pages) {
      b.set(p, o);
      o += p.length;
    }
    return b;
  }

  // Medium access ----------------------------------------------------------------------

  readMedium(offset: number, target: Uint8Array): Promise<unknown> {
    const m = this.medium;
    if (m === null || this.trayOpen) return Promise.reject(new MediumAbsentError('cd-rom'));
    return m.read(offset, target);
  }

  writeMedium(_offset: number, _data: Uint8Array): Promise<void> {
    return Promise.reject(new BlockRequestError(this.medium?.path ?? 'cd-rom', 'write to a CD-ROM'));
  }

  flushMedium(): Promise<void> {
    return Promise.resolve();
  }

  transferDone(_result: TransferResult, _tf: TaskFile): void {}

  transferFailed(_result: TransferResult, _op: MediumOp, err: unknown, _tf: TaskFile): number {
    let key: number;
    let asc: number;
    if (err instanceof MediumAbsentError) {
      const c = this.notReady();
      key = c.key;
      asc = c.asc;
    } else if (err instanceof BlockRequestError) {
      key = SK.ILLEGAL_REQUEST;
      asc = ASC.LBA_OUT_OF_RANGE;
    } else {
      key = SK.MEDIUM_ERROR;
      asc = ASC.UNRECOVERED_READ_ERROR;
    }
    this.senseKey = key;
    this.asc = asc;
    return key << 4;
  }

  // Snapshots --------------------------------------------------------------------------

  save(): DeviceState {
    return {
      kind: this.kind,
      hasMedium: this.medium !== null,
      trayOpen: this.trayOpen,
      locked: this.locked,
      senseKey: this.senseKey,
      asc: this.asc,
      unitAttention: this.unitAttention,
      events: [...this.events],
      packetDma: this.packetDma,
      xferMode: this.xferMode,
    };
  }

  /**
   * The disc itself is not part of a snapshot: the machine re-inserts the image its config
   * names before restoring. If that differs from the snapshot (a disc then, none now), the
   * guest is told through a UNIT ATTENTION, as after a swap.
   */
  parseState(r: StateReader): () => void {
    r.str('kind', ['atapi']);
    const hadMedium = r.bool('hasMedium');
    const trayOpen = r.bool('trayOpen');
    const locked = r.bool('locked');
    const senseKey = r.int('senseKey', 0, 0x0f);
    const asc = r.int('asc', 0, 0xffff);
    const unitAttention = r.bool('unitAttention');
    const events = r.ints('events', 0, 4, 0, MAX_EVENTS);
    const packetDma = r.bool('packetDma');
    const xferMode = r.int('xferMode', 0, 0xff);
    return () => {
      this.trayOpen = trayOpen;
      this.locked = locked;
      this.senseKey = senseKey;
      this.asc = asc;
      this.unitAttention = unitAttention || hadMedium !== (this.medium !== null);
      this.events = [...events];
      this.packetDma = packetDma;
      this.xferMode = xferMode;
    };
  }
}
