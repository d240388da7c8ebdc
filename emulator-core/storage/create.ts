import { link, lstat, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { BadInputError, EmulatorError } from '../errors.js';
import { SECTOR_SIZE, type BlockBackend, type DiskFormat } from './block-backend.js';
import { errnoCode, hostIoError } from './errors.js';
import { openImageFile } from './image-file.js';
import { MAX_BACKING_NAME, MAX_L1_BYTES, buildEmptyQcow2, hasQcow2Magic } from './qcow2-format.js';
import { Qcow2Backend } from './qcow2.js';
import { RawBackend } from './raw.js';

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * "20G", "512M", "1T", "100K", "1.5G", "10GiB", or plain bytes ("1048576"). Units are
 * binary (K = 1024), as in qemu-img. Throws BadInputError for anything else.
 */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(text);
  if (!m) throw new BadInputError(`invalid size '${text}': use a number of bytes or a number with K, M, G, T or P (e.g. 20G)`, { size: text });
  const [, num, unit, suffix] = m;
  if (suffix && suffix.toLowerCase() === 'ib' && !unit) throw new BadInputError(`invalid size '${text}'`, { size: text });
  const bytes = Number(num) * UNITS[unit!.toLowerCase()]!;
  if (!Number.isSafeInteger(bytes)) {
    throw new BadInputError(`invalid size '${text}': must be a whole number of bytes below 8 PiB`, { size: text });
  }
  return bytes;
}

/** Largest qcow2 disk we create: QEMU's 32 MiB L1 limit with 64 KiB clusters (2 PiB). */
const MAX_QCOW2_SIZE = (MAX_L1_BYTES / 8) * 65536 * (65536 / 8);

export interface CreateDiskOptions {
  path: string;
  /** Bytes; optional when a backing file is given (its size is used). */
  sizeBytes?: number;
  format?: DiskFormat;
  /**
   * Backing file for a qcow2 overlay, stored verbatim in the header. A relative path is
   * relative to the new image's directory (as qemu-img does), so a CLI should convert
   * a path the user typed relative to the working directory before passing it.
   */
  backing?: string;
}

export interface CreatedDisk {
  path: string;
  format: DiskFormat;
  sizeBytes: number;
  backing: string | null;
  backingFormat: DiskFormat | null;
}

export interface OpenDiskOptions {
  readOnly?: boolean;
  /**
   * The format the VM config recorded. Prefer passing it: probing lets a guest that writes
   * a qcow2 header into a raw disk turn it into something else on the next start.
   */
  format?: DiskFormat;
}

/** Detect the format from the header: the qcow2 magic, or raw. */
export async function detectDiskFormat(path: string): Promise<DiskFormat> {
  const file = await openImageFile(path, true);
  try {
    const head = new Uint8Array(4);
    const got = await file.read(head, 0);
    return got === 4 && hasQcow2Magic(head) ? 'qcow2' : 'raw';
  } finally {
    await file.close();
  }
}

export async function openDisk(path: string, options: OpenDiskOptions = {}): Promise<BlockBackend> {
  const format = options.format ?? (await detectDiskFormat(path));
  const readOnly = options.readOnly ?? false;
  if (format === 'qcow2') return Qcow2Backend.open(path, { readOnly });
  if (format === 'raw') return RawBackend.open(path, { readOnly });
  throw new BadInputError(`unknown disk format '${String(format)}' (raw or qcow2)`, { path });
}

/** Create a new disk image; never overwrites. Raw images are sparse. */
export async function createDisk(options: CreateDiskOptions): Promise<CreatedDisk> {
  const { path } = options;
  const format = options.format ?? 'qcow2';
  if (typeof path !== 'string' || path.trim() === '') throw new BadInputError('no path given for the new disk image');
  if (format !== 'raw' && format !== 'qcow2') throw new BadInputError(`unknown disk format '${String(format)}' (raw or qcow2)`, { path });

  let backingFormat: DiskFormat | null = null;
  let backingSize: number | undefined;
  const backing = options.backing ?? null;
  if (backing !== null) {
    if (format === 'raw') throw new BadInputError(`${path}: raw images cannot have a backing file (use qcow2)`, { path });
    if (backing === '') throw new BadInputError(`${path}: empty backing file name`, { path });
    if (new TextEncoder().encode(backing).length > MAX_BACKING_NAME || backing.includes('\0')) {
      throw new BadInputError(`${path}: backing file name is longer than ${MAX_BACKING_NAME} bytes or contains NUL`, { path });
    }
    const backingPath = isAbsolute(backing) ? backing : resolve(dirname(path), backing);
    if (resolve(backingPath) === resolve(path)) throw new BadInputError(`${path}: an image cannot be its own backing file`, { path });
    let base: BlockBackend;
    try {
      base = await openDisk(backingPath, { readOnly: true });
    } catch (err) {
      if (err instanceof BadInputError) {
        throw new BadInputError(`${path}: backing file unusable: ${err.message}`, { path, backing: backingPath });
      }
      throw err;
    }
    backingFormat = base.format;
    backingSize = base.size;
    await base.close();
  }

  const size = options.sizeBytes ?? backingSize;
  if (size === undefined) throw new BadInputError(`${path}: a size is required (or a backing file to take it from)`, { path });
  if (!Number.isSafeInteger(size) || size <= 0) throw new BadInputError(`${path}: invalid size ${size}`, { path, size });
  if (size % SECTOR_SIZE !== 0) throw new BadInputError(`${path}: size ${size} is not a multiple of ${SECTOR_SIZE} bytes`, { path, size });
  if (format === 'qcow2' && size > MAX_QCOW2_SIZE) {
    throw new BadInputError(`${path}: size ${size} is larger than the qcow2 limit (${MAX_QCOW2_SIZE} bytes)`, { path, size });
  }

  const content =
    format === 'qcow2'
      ? buildEmptyQcow2({ size, ...(backing !== null && backingFormat !== null ? { backingFile: backing, backingFormat } : {}) })
      : null;
  await writeNewFile(path, content, size);
  return { path, format, sizeBytes: size, backing, backingFormat };
}

/**
 * Low-level qcow2 creation with non-default geometry, for tests and tools.
 * createDisk is the public entry point.
 */
export async function createQcow2Image(
  path: string,
  opts: { size: number; clusterBits?: number; refcountOrder?: number; backingFile?: string; backingFormat?: DiskFormat },
): Promise<void> {
  await writeNewFile(path, buildEmptyQcow2(opts), opts.size);
}

async function checkParentAndTarget(path: string): Promise<void> {
  const dir = dirname(resolve(path));
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new BadInputError(`${path}: ${dir} is not a directory`, { path });
  } catch (err) {
    if (err instanceof EmulatorError) throw err;
    if (errnoCode(err) === 'ENOENT') throw new BadInputError(`${path}: directory ${dir} does not exist`, { path });
    throw hostIoError(path, 'stat', err);
  }
  try {
    await lstat(path);
    throw new BadInputError(`${path}: file already exists; refusing to overwrite it`, { path });
  } catch (err) {
    if (err instanceof EmulatorError) throw err;
    if (errnoCode(err) !== 'ENOENT') throw hostIoError(path, 'stat', err);
  }
}

async function fill(handle: FileHandle, content: Uint8Array | null, rawSize: number): Promise<void> {
  if (content) {
    let done = 0;
    while (done < content.length) done += (await handle.write(content, done, content.length - done, done)).bytesWritten;
  } else {
    await handle.truncate(rawSize); // sparse: no blocks allocated
  }
  await handle.sync();
}

/**
 * Write the new image under a temporary name, fsync, then hard-link it into place: the
 * link fails if the name exists (no overwrite, even racing another creator), and a crash
 * never leaves a half-written image under the real name.
 */
async function writeNewFile(path: string, content: Uint8Array | null, rawSize: number): Promise<void> {
  await checkParentAndTarget(path);
  const dir = dirname(resolve(path));
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | null = null;
  try {
    handle = await open(tmp, 'wx', 0o644);
    await fill(handle, content, rawSize);
    await handle.close();
    handle = null;
    try {
      await link(tmp, path);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EEXIST') throw new BadInputError(`${path}: file already exists; refusing to overwrite it`, { path });
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
      await writeDirectly(path, content, rawSize); // filesystems without hard links
    }
  } catch (err) {
    if (err instanceof EmulatorError) throw err;
    const code = errnoCode(err);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new BadInputError(`${path}: permission denied creating the image`, { path, errno: code });
    }
    if (code === 'EFBIG') throw new BadInputError(`${path}: size is too large for this filesystem`, { path });
    throw hostIoError(path, 'create', err);
  } finally {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
  }
  await syncDirectory(dir);
}

async function writeDirectly(path: string, content: Uint8Array | null, rawSize: number): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await fill(handle, content, rawSize);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw err;
  }
  await handle.close();
}

/** Make the new directory entry durable; not every platform can fsync a directory. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | null = null;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort: the image content itself is already synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
