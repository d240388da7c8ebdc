/**
 * Finding the BIOS and VGA BIOS images. Packaged apps ship them as extra resources; from a
 * source checkout they come from the distribution's seabios package.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface Firmware {
  bios: string | null;
  vgaBios: string | null;
  /** Folders that were searched, for the error message when nothing is found. */
  searched: string[];
}

export function firmwareDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  if (env.TERRARIUM_FIRMWARE_DIR !== undefined) dirs.push(env.TERRARIUM_FIRMWARE_DIR);
  const resources = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  if (resources !== undefined) dirs.push(path.join(resources, 'firmware'));
  dirs.push(path.resolve(import.meta.dirname, '../../../build/firmware'), path.resolve(import.meta.dirname, '../../build/firmware'));
  dirs.push('/usr/share/seabios', '/usr/share/qemu', '/usr/local/share/qemu', '/opt/homebrew/share/qemu');
  return dirs;
}

export function findFirmware(env: NodeJS.ProcessEnv = process.env): Firmware {
  const searched = firmwareDirs(env);
  const find = (names: string[]) => {
    for (const dir of searched) for (const name of names) if (existsSync(path.join(dir, name))) return path.join(dir, name);
    return null;
  };
  return { bios: find(['bios.bin', 'bios-256k.bin']), vgaBios: find(['vgabios-stdvga.bin', 'vgabios.bin']), searched };
}
