/**
 * Creating empty disk images. raw: a sparse file of the full size. qcow2: an empty version 3
 * image (64 KiB clusters, 16-bit refcounts) that qemu-img and the core's qcow2 backend read.
 * Both are near-instant, so progress is coarse: start and end.
 */
import { promises as fsp } from 'node:fs';
import { AppError, toAppError } from '../errors.js';

export type DiskFormat = 'raw' | 'qcow2';
export type ProgressFn = (fraction: number) => void;

const CLUSTER_BITS = 16;
const CLUSTER = 1 << CLUSTER_BITS;
const QCOW2_MAGIC = 0x514649fb;
const HEADER_LENGTH = 104;

export async function createDiskImage(file: string, sizeBytes: number, format: DiskFormat, progress: ProgressFn = () => undefined): Promise<void> {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % 512 !== 0) {
    throw new AppError('BAD_INPUT', `A disk size must be a positive multiple of 512 bytes (got ${sizeBytes}).`, { field: 'sizeMiB' });
  }
  progress(0);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new AppError('CONFLICT', `${file} already exists.`, { hint: 'Choose another file name; Terrarium never overwrites a disk.' });
    }
    throw toAppError(error);
  }
  try {
    if (format === 'raw') await handle.truncate(sizeBytes);
    else await handle.write(qcow2Image(sizeBytes), 0, undefined, 0);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fsp.unlink(file).catch(() => undefined);
    throw toAppError(error);
  }
  await handle.close();
  progress(1);
}

/** Header, refcount table, one refcount block and a zeroed L1 table: a valid empty image. */
export function qcow2Image(sizeBytes: number): Uint8Array {
  const l2Entries = CLUSTER / 8;
  const l1Size = Math.ceil(sizeBytes / (CLUSTER * l2Entries));
  const l1Clusters = Math.max(1, Math.ceil((l1Size * 8) / CLUSTER));
  const refcountTableOffset = CLUSTER;
  const refcountBlockOffset = 2 * CLUSTER;
  const l1Offset = 3 * CLUSTER;
  const usedClusters = 3 + l1Clusters;
  const image = new Uint8Array(usedClusters * CLUSTER);
  const view = new DataView(image.buffer);
  const u64 = (at: number, v: number) => view.setBigUint64(at, BigInt(v));
  view.setUint32(0, QCOW2_MAGIC);
  view.setUint32(4, 3); // version
  u64(8, 0); // no backing file
  view.setUint32(16, 0);
  view.setUint32(20, CLUSTER_BITS);
  u64(24, sizeBytes);
  view.setUint32(32, 0); // no encryption
  view.setUint32(36, l1Size);
  u64(40, l1Offset);
  u64(48, refcountTableOffset);
  view.setUint32(56, 1); // refcount table clusters
  view.setUint32(60, 0); // snapshots
  u64(64, 0);
  u64(72, 0); // incompatible features
  u64(80, 0); // compatible features
  u64(88, 0); // autoclear features
  view.setUint32(96, 4); // refcount_order: 16-bit refcounts
  view.setUint32(100, HEADER_LENGTH);
  // Header extension area: just the end marker (type 0, length 0), already zero.
  u64(refcountTableOffset, refcountBlockOffset);
  for (let c = 0; c < usedClusters; c++) view.setUint16(refcountBlockOffset + c * 2, 1);
  return image;
}
