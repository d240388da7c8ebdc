/**
 * Bus-master IDE (SFF-8038i, as in the PIIX): per channel a command register (start,
 * direction), a status register (active, error, interrupt, drive DMA capable) and the
 * physical address of a PRD table in guest memory. Each 8-byte PRD entry is a physical
 * base, a byte count (0 = 64 KiB) and, in bit 31 of the second dword, end of table.
 *
 * The engine runs when the guest sets START and the selected device has a DMA data phase
 * waiting, in either order. ACTIVE clears when the transfer ends exactly at the end of the
 * last (EOT) region, or when START is cleared; a PRD table longer than the transfer leaves
 * ACTIVE set. INTERRUPT is set on each rising edge of the channel's interrupt line.
 */
import type { AccessSize } from '../../bus/io-bus.js';
import type { GuestMemory } from '../../memory/guest-memory.js';
import { PAGE_SIZE } from '../../memory/guest-memory.js';
import type { DeviceState } from '../device.js';
import type { StateReader } from '../state.js';

export const BM_CMD_START = 0x01;
/** Direction: 1 = the controller writes memory (a device read). */
export const BM_CMD_TO_MEMORY = 0x08;
export const BM_ST_ACTIVE = 0x01;
export const BM_ST_ERROR = 0x02;
export const BM_ST_INT = 0x04;
export const BM_ST_DRV0_DMA = 0x20;
export const BM_ST_DRV1_DMA = 0x40;

/** The register block of one channel (primary at BAR4 + 0, secondary at BAR4 + 8). */
export const BM_CHANNEL_BYTES = 8;
/** A PRD table may not cross a 64 KiB boundary, so it holds at most this many entries. */
const MAX_PRD_ENTRIES = 65536 / 8;

/** The guest memory regions of one transfer, in order. */
export interface PrdList {
  readonly addrs: number[];
  readonly lens: number[];
  /** The transfer ends exactly at the end of the EOT region: the engine goes idle. */
  readonly exhausted: boolean;
}

export interface BusMasterListener {
  /** START went from 0 to 1. */
  dmaStarted(): void;
}

export class BusMaster {
  cmd = 0;
  status = 0;
  prdTable = 0;

  constructor(
    private readonly memory: GuestMemory,
    private readonly listener: BusMasterListener,
  ) {}

  get started(): boolean {
    return (this.cmd & BM_CMD_START) !== 0;
  }

  reset(): void {
    this.cmd = 0;
    this.status = 0;
    this.prdTable = 0;
  }

  /** `offset` is 0-7 within this channel's block. */
  read(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte(offset + i) << (i * 8);
    return v >>> 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.writeByte(offset + i, (value >>> (i * 8)) & 0xff);
  }

  private readByte(offset: number): number {
    switch (offset & 7) {
      case 0:
        return this.cmd;
      case 2:
        return this.status;
      case 4:
      case 5:
      case 6:
      case 7:
        return (this.prdTable >>> ((offset - 4) * 8)) & 0xff;
      default:
        return 0;
    }
  }

  private writeByte(offset: number, v: number): void {
    switch (offset & 7) {
      case 0: {
        const was = this.cmd & BM_CMD_START;
        this.cmd = v & (BM_CMD_START | BM_CMD_TO_MEMORY);
        if (was === 0 && (v & BM_CMD_START) !== 0) {
          this.status |= BM_ST_ACTIVE;
          this.listener.dmaStarted();
        } else if (was !== 0 && (v & BM_CMD_START) === 0) {
          // Stopping never cancels a request already sent to the disk (a partial DMA
          // write could reach it); that transfer finishes, only ACTIVE drops now.
          this.status &= ~BM_ST_ACTIVE;
        }
        return;
      }
      case 2:
        // Drive-capable bits are plain storage; ERROR and INTERRUPT are write-one-to-clear.
        this.status = (v & (BM_ST_DRV0_DMA | BM_ST_DRV1_DMA)) | (this.status & BM_ST_ACTIVE) | (this.status & ~v & (BM_ST_ERROR | BM_ST_INT));
        return;
      case 4:
      case 5:
      case 6:
      case 7: {
        const shift = (offset - 4) * 8;
        const next = ((this.prdTable & ~(0xff << shift)) | (v << shift)) >>> 0;
        this.prdTable = (next & ~3) >>> 0; // dword aligned
        return;
      }
      default:
        return;
    }
  }

  /** The channel's interrupt line rose. */
  interruptRaised(): void {
    this.status |= BM_ST_INT;
  }

  /** The transfer finished: ACTIVE drops only when the table ended with it. */
  finish(list: PrdList): void {
    if (list.exhausted) this.status &= ~BM_ST_ACTIVE;
  }

  /** The transfer ended early (device error, PRD table too short): the engine stops. */
  abort(): void {
    this.status &= ~BM_ST_ACTIVE;
  }

  /**
   * Read the PRD table for a transfer of `bytes`. Null when the table describes fewer
   * bytes (the engine then stops without an interrupt, as the PIIX does).
   */
  buildPrdList(bytes: number): PrdList | null {
    const addrs: number[] = [];
    const lens: number[] = [];
    let entry = this.prdTable;
    let total = 0;
    for (let i = 0; i < MAX_PRD_ENTRIES; i++, entry = (entry + 8) >>> 0) {
      const base = this.memory.read32(entry) & ~1;
      const ctl = this.memory.read32(entry + 4);
      let len = ctl & 0xfffe;
      if (len === 0) len = 0x10000;
      const eot = (ctl & 0x80000000) !== 0;
      const take = Math.min(len, bytes - total);
      addrs.push(base >>> 0);
      lens.push(take);
      total += take;
      if (total === bytes) return { addrs, lens, exhausted: eot && take === len };
      if (eot) return null;
    }
    return null;
  }

  /** Copy `data` (bytes `offset`.. of the transfer) into the regions. */
  scatter(list: PrdList, offset: number, data: Uint8Array): void {
    forRegions(list, offset, data.length, (phys, from, len) => this.memory.writeBytes(phys, data.subarray(from, from + len)));
  }

  /** Fill `target` with bytes `offset`.. of the transfer from the regions. */
  gather(list: PrdList, offset: number, target: Uint8Array): void {
    forRegions(list, offset, target.length, (phys, from, len) => copyFromGuest(this.memory, phys, target.subarray(from, from + len)));
  }

  save(): DeviceState {
    return { cmd: this.cmd, status: this.status, prdTable: this.prdTable };
  }

  static parse(r: StateReader): (bm: BusMaster) => void {
    const cmd = r.int('cmd', 0, 0x09);
    const status = r.int('status', 0, 0x67);
    const prdTable = r.int('prdTable', 0, 0xfffffffc);
    return (bm) => {
      bm.cmd = cmd;
      bm.status = status;
      bm.prdTable = prdTable;
    };
  }
}

/** Calls `fn` for each piece of regions covering transfer bytes [offset, offset + length). */
function forRegions(list: PrdList, offset: number, length: number, fn: (phys: number, from: number, len: number) => void): void {
  let regionStart = 0;
  let done = 0;
  for (let i = 0; i < list.addrs.length && done < length; i++) {
    const len = list.lens[i];
    const regionEnd = regionStart + len;
    const pos = offset + done;
    if (pos < regionEnd) {
      const skip = pos - regionStart;
      const n = Math.min(len - skip, length - done);
      fn((list.addrs[i] + skip) >>> 0, done, n);
      done += n;
    }
    regionStart = regionEnd;
  }
}

/** Guest physical memory into `target` without an intermediate buffer (RAM pages are copied directly). */
function copyFromGuest(memory: GuestMemory, phys: number, target: Uint8Array): void {
  for (let done = 0; done < target.length; ) {
    const p = (phys + done) >>> 0;
    const chunk = Math.min(target.length - done, PAGE_SIZE - (p & (PAGE_SIZE - 1)));
    const off = memory.backingOffset(p);
    if (off >= 0) target.set(memory.u8.subarray(off, off + chunk), done);
    else for (let i = 0; i < chunk; i++) target[done + i] = memory.read8(p + i);
    done += chunk;
  }
}
