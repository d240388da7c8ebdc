/**
 * Where Terrarium keeps its data: one data folder holding the VM library and the media
 * folder (uploaded or downloaded ISOs). Platform conventions by default; TERRARIUM_HOME or
 * --home overrides the whole thing (tests, portable installs).
 */
import os from 'node:os';
import path from 'node:path';

export interface DataPaths {
  home: string;
  /** One folder per VM. */
  library: string;
  /** ISOs and disk images the user brought in through the browser. */
  media: string;
}

export function defaultDataDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  const homedir = os.homedir();
  if (platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(homedir, 'AppData', 'Local'), 'Terrarium');
  if (platform === 'darwin') return path.join(homedir, 'Library', 'Application Support', 'Terrarium');
  const xdg = env.XDG_DATA_HOME;
  return path.join(xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(homedir, '.local', 'share'), 'terrarium');
}

export function resolveDataPaths(override?: string, env: NodeJS.ProcessEnv = process.env): DataPaths {
  const home = path.resolve(override ?? env.TERRARIUM_HOME ?? defaultDataDir(process.platform, env));
  return { home, library: path.join(home, 'VMs'), media: path.join(home, 'Media') };
}
