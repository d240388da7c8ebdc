/**
 * A VM started by `terrarium start` runs in a detached process; that process reports its
 * state in `.terrarium.state` in the VM folder so the command that launched it can wait
 * for "running" (or the error) and exit with a useful message.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { RunState } from '../../emulator-core/machine/types.js';
import type { ErrorInfo } from '../errors.js';
import { writeFileAtomic } from '../library/atomic-write.js';

export const STATE_FILE = '.terrarium.state';

export interface CliSessionState {
  pid: number;
  state: RunState;
  error?: ErrorInfo;
  exitReason?: string;
}

export async function writeState(dir: string, state: CliSessionState): Promise<void> {
  await writeFileAtomic(path.join(dir, STATE_FILE), JSON.stringify(state)).catch(() => undefined);
}

export async function readState(dir: string): Promise<CliSessionState | null> {
  try {
    return JSON.parse(await fsp.readFile(path.join(dir, STATE_FILE), 'utf8')) as CliSessionState;
  } catch {
    return null;
  }
}
