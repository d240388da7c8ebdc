import { SECTOR_SIZE, checkRequest, type BlockBackend } from './block-backend.js';
import { closedError } from './errors.js';
import { openImageFile, type ImageFile, type ImageFileWrapper } from './image-file.js';

export interface RawOpenOptions {
  readOnly?: boolean;
  /** Test hook: interpose on the file's I/O. */
  wrapFile?: ImageFileWrapper;
}

/**
 * A raw image: disk byte N is file byte N. Requests go straight to pread/pwrite, one
 * syscall per request, and may run concurrently (the kernel orders overlapping ones as
 * the page cache does; a device that cares waits for completion first).
 */
export class RawBackend implements BlockBackend {
  readonly format = 'raw' as const;
  readonly sectorSize = SECTOR_SIZE;
  private closed = false;

  private constructor(
    private readonly file: ImageFile,
    readonly path: string,
    readonly size: number,
    readonly readOnly: boolean,
  ) {}

  static async open(path: string, options: RawOpenOptions = {}): Promise<RawBackend> {
    const readOnly = options.readOnly ?? false;
    let file = await openImageFile(path, readOnly);
    if (options.wrapFile) file = options.wrapFile(file);
    try {
      const size = await file.size();
      return new RawBackend(file, path, size, readOnly);
    } catch (err) {
      await file.close().catch(() => undefined);
      throw err;
    }
  }

  read(offset: number, length: number): Promise<Uint8Array>;
  read(offset: number, target: Uint8Array): Promise<Uint8Array>;
  async read(offset: number, lengthOrTarget: number | Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw closedError(this.path, 'read');
    const length = typeof lengthOrTarget === 'number' ? lengthOrTarget : lengthOrTarget.length;
    checkRequest(this, 'read', offset, length);
    const target = typeof lengthOrTarget === 'number' ? new Uint8Array(length) : lengthOrTarget;
    const got = await this.file.read(target, offset);
    // Short only at the zero padding of a partial last sector (or if the file shrank).
    if (got < length) target.fill(0, got);
    return target;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.closed) throw closedError(this.path, 'write');
    checkRequest(this, 'write', offset, data.length);
    if (data.length === 0) return;
    await this.file.write(data, offset);
  }

  async flush(): Promise<void> {
    if (this.closed) throw closedError(this.path, 'flush');
    if (this.readOnly) return;
    // fdatasync also persists block allocation of the sparse file.
    await this.file.sync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.readOnly) await this.file.sync();
    } finally {
      this.closed = true;
      await this.file.close();
    }
  }
}
