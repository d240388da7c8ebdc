/**
 * The contract between an IDE channel and the devices on it. The channel owns the
 * protocol (registers, DRQ blocks, interrupts, bus-master DMA, asynchronous I/O and its
 * ordering); a drive decides what a command means and where its data lives.
 */
import type { DeviceState } from '../device.js';
import type { StateReader } from '../state.js';
import type { TaskFile } from './taskfile.js';

/** Where a data phase's bytes come from or go to. */
export type TransferTarget =
  /** The drive's medium, starting at `mediumOffset` (bytes, a multiple of 512). */
  | 'medium'
  /** A response the drive built in memory (IDENTIFY data, SCSI replies). */
  | 'buffer'
  /** The 12-byte ATAPI command packet. */
  | 'packet';

export interface TransferSpec {
  /** 'in' is device to host (reads); 'out' is host to device. */
  dir: 'in' | 'out';
  /** Move the data with bus-master DMA instead of PIO through the data port. */
  dma: boolean;
  target: TransferTarget;
  /** Bytes in the whole data phase. */
  bytes: number;
  mediumOffset: number;
  /** For a 'buffer' in-transfer: the bytes to send (at least `bytes` long). */
  data: Uint8Array | null;
  /**
   * ATA PIO: bytes per DRQ block (512 × sectors; READ/WRITE MULTIPLE use the multiple
   * count). ATAPI ignores it: the host's byte count limit in LBA mid/high sets the blocks.
   */
  blockBytes: number;
  /** For writes to the medium: flush before reporting completion (write cache off). */
  flush: boolean;
}

/** What a drive may do while it executes a command. */
export interface CommandHost {
  /** The registers of the executing device. */
  readonly tf: TaskFile;
  /** Device position: 0 (master) or 1 (slave). */
  readonly unit: 0 | 1;
  /** Whether the other device position on this channel holds a device (IDENTIFY word 93). */
  readonly peerPresent: boolean;
  /** Success without data: status DRDY|DSC (ATAPI also sets the completion reason), INTRQ. */
  complete(): void;
  /** Failure: status DRDY|ERR with `error` in the error register, INTRQ. */
  fail(error: number): void;
  /** Start a data phase; the channel finishes the command through transferDone/transferFailed. */
  transfer(spec: TransferSpec): void;
  /**
   * A medium operation without data (FLUSH CACHE): BSY until it settles, then `done(null)`
   * or `done(error)`. Ordered after every earlier request of this channel.
   */
  runBusy(op: () => Promise<unknown>, done: (err: unknown) => void): void;
}

/** Facts about a finished or failed transfer, for the drive's register updates. */
export interface TransferResult {
  readonly spec: TransferSpec;
  /** Bytes of the transfer completed before the failing request (a multiple of 512). */
  readonly doneBytes: number;
}

export type MediumOp = 'read' | 'write' | 'flush';

export interface IdeDrive {
  readonly kind: 'ata' | 'atapi';
  /** Power-on state (machine reset). Keeps the medium. */
  reset(): void;
  /** The device part of SRST / DEVICE RESET: abort what runs, keep settings. */
  softReset(): void;
  /** A command written to the command register (EXECUTE DEVICE DIAGNOSTIC is the channel's). */
  execute(cmd: number, host: CommandHost): void;
  /** ATAPI: the 12-byte packet after a PACKET command. */
  packet(cdb: Uint8Array, host: CommandHost): void;
  /** Read medium bytes into `target` (offset and length are multiples of 512). */
  readMedium(offset: number, target: Uint8Array): Promise<unknown>;
  writeMedium(offset: number, data: Uint8Array): Promise<void>;
  flushMedium(): Promise<void>;
  /** The data phase ended without error: leave the registers a successful command leaves. */
  transferDone(result: TransferResult, tf: TaskFile): void;
  /** A medium request failed: set the error registers (or sense data); returns the error register. */
  transferFailed(result: TransferResult, op: MediumOp, err: unknown, tf: TaskFile): number;
  save(): DeviceState;
  /** Validate a snapshot; the returned function applies it. */
  parseState(r: StateReader): () => void;
}
