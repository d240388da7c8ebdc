/** Random read/write workloads checked against an in-memory model (used by the tests). */
import type { BlockBackend } from '../../../emulator-core/storage/block-backend.js';
import { Rng, firstDiff } from './qemu-tools.js';

export interface WorkloadOptions {
  ops: number;
  /** Largest request in bytes (a multiple of 512). */
  maxLength: number;
  /** Requests are biased to start or end near multiples of this (cluster boundaries). */
  boundary: number;
  /** Share of writes among operations, 0..1. */
  writeRatio?: number;
}

/** A request that is sector aligned, inside the disk, and often crosses a boundary. */
export function randomRequest(rng: Rng, size: number, maxLength: number, boundary: number): { offset: number; length: number } {
  const sectors = size / 512;
  let offset: number;
  if (rng.int(2) === 0) {
    // Just before a boundary, so the request straddles it.
    const b = (1 + rng.int(Math.max(1, Math.floor(size / boundary) - 1))) * boundary;
    offset = Math.max(0, b - 512 * (1 + rng.int(Math.max(1, boundary / 512))));
  } else {
    offset = rng.int(sectors) * 512;
  }
  offset = Math.min(offset, size - 512);
  const length = Math.min((1 + rng.int(maxLength / 512)) * 512, size - offset);
  return { offset, length };
}

export async function runWorkload(disk: BlockBackend, model: Uint8Array, rng: Rng, opts: WorkloadOptions): Promise<void> {
  const writeRatio = opts.writeRatio ?? 0.6;
  for (let i = 0; i < opts.ops; i++) {
    const { offset, length } = randomRequest(rng, disk.size, opts.maxLength, opts.boundary);
    if (rng.int(1000) < writeRatio * 1000) {
      const data = rng.bytes(length);
      await disk.write(offset, data);
      model.set(data, offset);
    } else {
      const got = await disk.read(offset, length);
      const diff = firstDiff(got, model.subarray(offset, offset + length));
      if (diff >= 0) throw new Error(`op ${i}: read at ${offset}+${length} differs at byte ${offset + diff}`);
    }
  }
}

/** Read the whole disk in large chunks and compare with the model. */
export async function verifyAll(disk: BlockBackend, model: Uint8Array, chunk = 1 << 20): Promise<void> {
  for (let off = 0; off < disk.size; off += chunk) {
    const n = Math.min(chunk, disk.size - off);
    const got = await disk.read(off, n);
    const diff = firstDiff(got, model.subarray(off, off + n));
    if (diff >= 0) throw new Error(`${disk.path}: byte ${off + diff} differs from the model (got ${got[diff]}, want ${model[off + diff]})`);
  }
}
