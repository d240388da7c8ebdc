/**
 * Creating empty disk images for the library. The image formats belong to the emulator
 * core (emulator-core/storage); this adds what the UI needs: typed "already exists" errors
 * and progress (coarse: both formats are created near-instantly, raw ones sparse).
 */
import { promises as fsp } from 'node:fs';
import { createDisk } from '../../emulator-core/storage/create.js';
import { AppError, toAppError } from '../errors.js';

export type DiskFormat = 'raw' | 'qcow2';
export type ProgressFn = (fraction: number) => void;

export async function createDiskImage(file: string, sizeBytes: number, format: DiskFormat, progress: ProgressFn = () => undefined): Promise<void> {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % 512 !== 0) {
    throw new AppError('BAD_INPUT', `A disk size must be a positive multiple of 512 bytes (got ${sizeBytes}).`, { field: 'sizeMiB' });
  }
  if (await fsp.stat(file).then(() => true, () => false)) {
    throw new AppError('CONFLICT', `${file} already exists.`, { hint: 'Choose another file name; Terrarium never overwrites a disk.' });
  }
  progress(0);
  try {
    await createDisk({ path: file, sizeBytes, format });
  } catch (error) {
    throw toAppError(error);
  }
  progress(1);
}
