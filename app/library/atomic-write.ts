/**
 * Crash-safe file replacement: write a temp file beside the target, fsync it, rename it
 * over the target, fsync the folder. A crash at any point leaves either the old file or the
 * new one, never a mix; a leftover temp file is recognisable by its name and ignored.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** The file system calls atomic writes use; tests replace them to simulate crashes. */
export interface AtomicFs {
  open: typeof fsp.open;
  rename: typeof fsp.rename;
  unlink: typeof fsp.unlink;
}

const realFs: AtomicFs = { open: fsp.open, rename: fsp.rename, unlink: fsp.unlink };

export const TEMP_MARKER = '.tmp-';

export function isTempFile(fileName: string): boolean {
  return fileName.startsWith('.') && fileName.includes(TEMP_MARKER);
}

export async function writeFileAtomic(target: string, data: string | Uint8Array, fs: AtomicFs = realFs): Promise<void> {
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`);
  let renamed = false;
  try {
    const handle = await fs.open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
    renamed = true;
    await syncDir(dir);
  } finally {
    if (!renamed) await fs.unlink(temp).catch(() => undefined);
  }
}

/** Make the rename durable. Not possible on Windows (EPERM/EISDIR): there rename is the best we get. */
async function syncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Directory fsync is unsupported on some platforms; the data itself is already synced.
  } finally {
    await handle?.close();
  }
}

/** Remove temp files a crashed writer left behind (older than a minute, so never a live write's). */
export async function removeStaleTemps(dir: string, now = Date.now()): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const name of names.filter(isTempFile)) {
    const full = path.join(dir, name);
    const stat = await fsp.stat(full).catch(() => null);
    if (stat !== null && now - stat.mtimeMs > 60_000) await fsp.unlink(full).catch(() => undefined);
  }
}
