/**
 * A VM runs once: its folder holds `.terrarium.lock` while a session owns it, naming the
 * process. A lock whose process is gone (crash, kill -9) is stale and is taken over.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError, toAppError } from '../errors.js';

export const LOCK_FILE = '.terrarium.lock';

export interface LockInfo {
  pid: number;
  host: string;
  owner: string;
  startedAt: string;
}

export interface VmLock {
  readonly info: LockInfo;
  release(): Promise<void>;
}

export async function readLock(dir: string): Promise<LockInfo | null> {
  try {
    const raw = JSON.parse(await fsp.readFile(path.join(dir, LOCK_FILE), 'utf8')) as Partial<LockInfo>;
    if (typeof raw.pid !== 'number' || typeof raw.host !== 'string') return null;
    return { pid: raw.pid, host: raw.host, owner: String(raw.owner ?? 'unknown'), startedAt: String(raw.startedAt ?? '') };
  } catch {
    return null;
  }
}

/** The lock of a live process, or null when the VM is free (no lock, or a stale one). */
export async function liveLock(dir: string): Promise<LockInfo | null> {
  const info = await readLock(dir);
  if (info === null) return null;
  return isAlive(info) ? info : null;
}

export async function acquireLock(dir: string, owner: string): Promise<VmLock> {
  const file = path.join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: os.hostname(), owner, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fsp.writeFile(file, JSON.stringify(info), { flag: 'wx' });
      return {
        info,
        release: async () => {
          const current = await readLock(dir);
          if (current?.pid === info.pid && current.startedAt === info.startedAt) await fsp.unlink(file).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw toAppError(error);
      const holder = await readLock(dir);
      if (holder !== null && isAlive(holder)) {
        throw new AppError('CONFLICT', `"${path.basename(dir)}" is already running (${holder.owner}, process ${holder.pid}).`, {
          hint: 'A VM can run only once. Stop it there first, or switch to that window.',
        });
      }
      await fsp.unlink(file).catch(() => undefined); // stale: its process is gone
    }
  }
  throw new AppError('CONFLICT', `Could not lock "${path.basename(dir)}": another process keeps taking it.`);
}

function isAlive(info: LockInfo): boolean {
  // Another host's process (a shared folder) cannot be checked: assume it is alive.
  if (info.host !== os.hostname()) return true;
  if (info.pid === process.pid) return true;
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
