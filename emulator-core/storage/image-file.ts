import { open, type FileHandle } from 'node:fs/promises';
import { BadInputError } from '../errors.js';
import { errnoCode, hostIoError } from './errors.js';

/**
 * The few positional file operations the image formats need. Backends talk to this
 * instead of a FileHandle so tests can interpose (record every write and sync to replay
 * crashes at each step, or fail on demand).
 */
export interface ImageFile {
  readonly path: string;
  /** Read up to target.length bytes at position; resolves with the count (short at EOF). */
  read(target: Uint8Array, position: number): Promise<number>;
  /** Write all of data at position, extending the file if needed. */
  write(data: Uint8Array, position: number): Promise<void>;
  /** fdatasync: data plus the metadata needed to read it back (allocation, file size). */
  sync(): Promise<void>;
  size(): Promise<number>;
  truncate(size: number): Promise<void>;
  close(): Promise<void>;
}

/** Lets tests wrap the real file (see qcow2-crash.test.ts). */
export type ImageFileWrapper = (file: ImageFile) => ImageFile;

class NodeImageFile implements ImageFile {
  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  async read(target: Uint8Array, position: number): Promise<number> {
    let done = 0;
    try {
      while (done < target.length) {
        const { bytesRead } = await this.handle.read(target, done, target.length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (err) {
      throw hostIoError(this.path, 'read', err, { offset: position + done, length: target.length });
    }
    return done;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    let done = 0;
    try {
      while (done < data.length) {
        const { bytesWritten } = await this.handle.write(data, done, data.length - done, position + done);
        done += bytesWritten;
      }
    } catch (err) {
      throw hostIoError(this.path, 'write', err, { offset: position + done, length: data.length });
    }
  }

  async sync(): Promise<void> {
    try {
      await this.handle.datasync();
    } catch (err) {
      throw hostIoError(this.path, 'fdatasync', err);
    }
  }

  async size(): Promise<number> {
    try {
      return (await this.handle.stat()).size;
    } catch (err) {
      throw hostIoError(this.path, 'stat', err);
    }
  }

  async truncate(size: number): Promise<void> {
    try {
      await this.handle.truncate(size);
    } catch (err) {
      throw hostIoError(this.path, 'truncate', err, { size });
    }
  }

  async close(): Promise<void> {
    try {
      await this.handle.close();
    } catch (err) {
      throw hostIoError(this.path, 'close', err);
    }
  }
}

/** Open an existing image; a missing file or a permission problem is the user's input. */
export async function openImageFile(path: string, readOnly: boolean): Promise<ImageFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, readOnly ? 'r' : 'r+');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') throw new BadInputError(`${path}: no such file`, { path });
    if (code === 'EISDIR') throw new BadInputError(`${path}: is a directory, not a disk image`, { path });
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new BadInputError(`${path}: permission denied opening for ${readOnly ? 'reading' : 'writing'}`, { path, errno: code });
    }
    throw hostIoError(path, 'open', err);
  }
  // Linux opens a directory read-only without complaint; refuse it (and devices, FIFOs) here.
  const st = await handle.stat().catch(async (err: unknown) => {
    await handle.close().catch(() => undefined);
    throw hostIoError(path, 'stat', err);
  });
  if (!st.isFile()) {
    await handle.close().catch(() => undefined);
    throw new BadInputError(`${path}: ${st.isDirectory() ? 'is a directory' : 'is not a regular file'}, not a disk image`, { path });
  }
  return new NodeImageFile(path, handle);
}

/** Wrap an already-open handle (used by create, which opens with O_EXCL). */
export function imageFileFromHandle(path: string, handle: FileHandle): ImageFile {
  return new NodeImageFile(path, handle);
}
