/**
 * Which host files a client may hand to a VM. Paths come only from the library, the media
 * folder, or (desktop app) a native dialog or a drop the main process saw; a browser tab
 * cannot make the host open an arbitrary file by typing its path.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';

export interface PathPolicy {
  /** The real path, if this client may use it; throws BAD_INPUT/NOT_FOUND otherwise. */
  check(file: string, field: string): Promise<string>;
  /** Allow one more path (a dialog answer, a dropped file). */
  grant(file: string): void;
}

export class RootsPolicy implements PathPolicy {
  private readonly granted = new Set<string>();

  constructor(private readonly roots: readonly string[]) {}

  grant(file: string): void {
    this.granted.add(path.resolve(file));
  }

  async check(file: string, field: string): Promise<string> {
    let real: string;
    try {
      real = await fsp.realpath(file);
    } catch {
      throw new AppError('NOT_FOUND', `${path.basename(file)} does not exist on the host.`, { field, hint: 'Choose the file again.' });
    }
    if (this.granted.has(path.resolve(file)) || this.granted.has(real)) return real;
    for (const root of this.roots) {
      const realRoot = await fsp.realpath(root).catch(() => path.resolve(root));
      const rel = path.relative(realRoot, real);
      if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return real;
    }
    throw new AppError('BAD_INPUT', `${path.basename(file)} is not in the media folder or the VM library.`, {
      field,
      hint: 'Open it with the file dialog, drop it on the window, or upload it to the media folder.',
    });
  }
}

/** The CLI's user typed the path themselves: any readable file will do. */
export class TrustingPolicy implements PathPolicy {
  grant(): void {}

  async check(file: string, field: string): Promise<string> {
    try {
      return await fsp.realpath(file);
    } catch {
      throw new AppError('NOT_FOUND', `${file} does not exist.`, { field });
    }
  }
}
