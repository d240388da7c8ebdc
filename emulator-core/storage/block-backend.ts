import { BlockRequestError } from './errors.js';

/** Every backend speaks 512-byte sectors; ATAPI's 2048-byte blocks are multiples of it. */
export const SECTOR_SIZE = 512;

export type DiskFormat = 'raw' | 'qcow2';

/**
 * A virtual disk as the device models see it: a flat array of bytes addressed in whole
 * sectors.
 *
 * Design note (how devices use it). Device models run inside the VM worker's async run
 * loop and never wait synchronously for storage. A device turns a guest command into one
 * request, calls read()/write()/flush(), and keeps emulating; when the promise settles it
 * completes the command (copies data, sets status, raises its IRQ). `submitBlockRequest`
 * gives the same thing in callback form. Requests may be issued while others are in
 * flight: each backend orders them (qcow2 serializes them per image, so a flush covers
 * every write issued before it). All file I/O goes through libuv's thread pool and the
 * per-request CPU work is proportional to the clusters it touches (decompression is
 * asynchronous too), so no request blocks the event loop for long.
 *
 * Contract:
 * - offset and length are multiples of SECTOR_SIZE and lie within
 *   [0, roundUp(size, SECTOR_SIZE)); otherwise the call rejects with BlockRequestError.
 *   Bytes between `size` and the next sector boundary read as zeros and cannot be
 *   written (only raw images can have such a size).
 * - write() on a read-only backend rejects with BlockRequestError.
 * - Buffers passed to read()/write() must not be touched by the caller until the promise
 *   settles (they are handed to the kernel without a copy).
 * - A write is durable only after a later flush() resolves: flush() returns after the
 *   data and all metadata needed to find it (and the file's size) reached stable storage.
 * - Host failures reject with HostError; a corrupt image found while reading metadata
 *   rejects with DiskFormatError. Neither leaves the image inconsistent.
 */
export interface BlockBackend {
  readonly path: string;
  readonly format: DiskFormat;
  /** Virtual disk size in bytes. */
  readonly size: number;
  readonly sectorSize: typeof SECTOR_SIZE;
  readonly readOnly: boolean;
  /** Read `length` bytes into a new buffer. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Read target.length bytes into target; resolves with target. */
  read(offset: number, target: Uint8Array): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array): Promise<void>;
  flush(): Promise<void>;
  /** Flush, then release the file (and backing files). Further calls reject. */
  close(): Promise<void>;
}

export type BlockRequest =
  | { op: 'read'; offset: number; buffer: Uint8Array }
  | { op: 'write'; offset: number; buffer: Uint8Array }
  | { op: 'flush' };

/** Callback form for device models whose state machines prefer completions to promises. */
export function submitBlockRequest(backend: BlockBackend, req: BlockRequest, done: (err: Error | null) => void): void {
  let p: Promise<unknown>;
  switch (req.op) {
    case 'read':
      p = backend.read(req.offset, req.buffer);
      break;
    case 'write':
      p = backend.write(req.offset, req.buffer);
      break;
    case 'flush':
      p = backend.flush();
      break;
  }
  p.then(
    () => done(null),
    (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
  );
}

export function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** Shared argument check: sector aligned, inside the disk, writable if a write. */
export function checkRequest(
  backend: Pick<BlockBackend, 'path' | 'size' | 'readOnly'>,
  op: 'read' | 'write',
  offset: number,
  length: number,
): void {
  const { path, size } = backend;
  if (op === 'write' && backend.readOnly) {
    throw new BlockRequestError(path, `write at offset ${offset} to a read-only disk`, { offset, length });
  }
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new BlockRequestError(path, `invalid ${op} request (offset ${offset}, length ${length})`, { offset, length });
  }
  if (offset % SECTOR_SIZE !== 0 || length % SECTOR_SIZE !== 0) {
    throw new BlockRequestError(path, `${op} at offset ${offset}, length ${length} is not aligned to ${SECTOR_SIZE}-byte sectors`, {
      offset,
      length,
    });
  }
  // Reads may cover the zero padding of a partial last sector; writes may not.
  const limit = op === 'read' ? roundUp(size, SECTOR_SIZE) : size;
  if (offset + length > limit) {
    throw new BlockRequestError(path, `${op} at offset ${offset}, length ${length} goes past the end of the disk (${size} bytes)`, {
      offset,
      length,
      size,
    });
  }
}

/** Normalizes read()'s two signatures. */
export function readTarget(lengthOrTarget: number | Uint8Array): Uint8Array {
  return typeof lengthOrTarget === 'number' ? new Uint8Array(lengthOrTarget) : lengthOrTarget;
}

/**
 * Runs async operations one after another. qcow2 uses it so metadata updates never
 * interleave and a flush is ordered after every write issued before it.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
