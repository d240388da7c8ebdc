/**
 * Finding SeaBIOS and its VGA BIOS, and what SeaBIOS expects to read from fw_cfg.
 *
 * Resolution order: the files the user named (--bios, --vga-bios), the app's bundled
 * resources (build/firmware, an Electron resources folder, TERRARIUM_FIRMWARE_DIR), then
 * the places distributions install them: Debian/Ubuntu /usr/share/seabios and
 * /usr/share/qemu, Homebrew's and Windows' QEMU share folders. When nothing is found, one
 * BadInputError lists every place looked at and how to install SeaBIOS.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { BadInputError } from '../errors.js';

export const BIOS_NAMES = ['bios-256k.bin', 'bios.bin'];
export const VGA_BIOS_NAMES = ['vgabios-stdvga.bin'];

/**
 * The environment the search reads, given by the caller (app/ passes the process's; the core
 * never reads it): TERRARIUM_FIRMWARE_DIR, and ProgramFiles on Windows.
 */
export interface FirmwareEnv {
  readonly TERRARIUM_FIRMWARE_DIR?: string;
  readonly ProgramFiles?: string;
}

export interface FirmwareSearch {
  bios?: string;
  vgaBios?: string;
  /** Whether a VGA BIOS is wanted at all (no display: none). */
  wantVga: boolean;
  /** Nothing set when omitted: only the bundled and system folders are searched. */
  env?: FirmwareEnv;
  platform?: NodeJS.Platform;
}

export interface ResolvedFirmware {
  bios: string;
  /** null when no display is wanted, or none was found (the VGA then has no video BIOS). */
  vgaBios: string | null;
  /** Where we looked, in order (for messages). */
  searched: string[];
}

/** Bundled and system folders, in search order. */
export function firmwareSearchDirs(env: FirmwareEnv, platform: NodeJS.Platform = process.platform): string[] {
  const dirs: string[] = [];
  if (env.TERRARIUM_FIRMWARE_DIR !== undefined && env.TERRARIUM_FIRMWARE_DIR !== '') dirs.push(env.TERRARIUM_FIRMWARE_DIR);
  const resources = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  if (resources !== undefined) dirs.push(path.join(resources, 'firmware'));
  // A source checkout (emulator-core/boot) or its build (dist/emulator-core/boot).
  dirs.push(path.resolve(import.meta.dirname, '../../build/firmware'), path.resolve(import.meta.dirname, '../../../build/firmware'));
  if (platform === 'win32') {
    const pf = env.ProgramFiles ?? 'C:\\Program Files';
    dirs.push(path.win32.join(pf, 'qemu', 'share'), path.win32.join(pf, 'qemu'));
  } else {
    dirs.push('/usr/share/seabios', '/usr/share/qemu', '/usr/local/share/qemu', '/opt/homebrew/share/qemu', '/usr/local/share/seabios');
  }
  return [...new Set(dirs)];
}

function usableFile(file: string, what: string, flag: string): string {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new BadInputError(`${flag} ${file} is not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof BadInputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BadInputError(`${flag} ${file} does not exist`);
    throw new BadInputError(`${flag} ${file} cannot be opened: ${(e as Error).message}`);
  }
  if (size === 0) throw new BadInputError(`${flag} ${file}: the ${what} is empty`);
  return file;
}

function installHint(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'brew install qemu';
  if (platform === 'win32') return 'install QEMU for Windows';
  return 'apt install seabios (Debian/Ubuntu), dnf install seabios-bin (Fedora)';
}

export interface FoundFirmware {
  bios: string | null;
  vgaBios: string | null;
  /** Where we looked, in order (for messages). */
  searched: string[];
}

function findIn(dirs: string[], names: string[]): string | null {
  for (const dir of dirs) {
    for (const name of names) {
      const f = path.join(dir, name);
      if (existsSync(f)) return f;
    }
  }
  return null;
}

/** The firmware files the bundled and system folders hold, without refusing anything (the app's view). */
export function findFirmware(env: FirmwareEnv, platform: NodeJS.Platform = process.platform): FoundFirmware {
  const searched = firmwareSearchDirs(env, platform);
  return { bios: findIn(searched, BIOS_NAMES), vgaBios: findIn(searched, VGA_BIOS_NAMES), searched };
}

/** Find the BIOS (and VGA BIOS) to boot; throws BadInputError listing the places searched. */
export function resolveFirmware(search: FirmwareSearch): ResolvedFirmware {
  const env = search.env ?? {};
  const platform = search.platform ?? process.platform;
  const dirs = firmwareSearchDirs(env, platform);
  const find = (names: string[]): string | null => findIn(dirs, names);
  let bios: string;
  if (search.bios !== undefined) bios = usableFile(search.bios, 'BIOS image', '--bios');
  else {
    const found = find(BIOS_NAMES);
    if (found === null) {
      throw new BadInputError(
        `no BIOS firmware found: looked for ${BIOS_NAMES.join(' or ')} in ${dirs.join(', ')}; install SeaBIOS (${installHint(platform)}), give --bios FILE, or boot a kernel directly with --kernel`,
      );
    }
    bios = found;
  }
  let vgaBios: string | null = null;
  if (search.vgaBios !== undefined) vgaBios = usableFile(search.vgaBios, 'VGA BIOS image', '--vga-bios');
  // Without a VGA BIOS the adapter still works for guest drivers; firmware just has no int 10h.
  else if (search.wantVga) vgaBios = find(VGA_BIOS_NAMES);
  return { bios, vgaBios, searched: dirs };
}

/** A BIOS image must be a whole number of 64 KiB blocks from 64 KiB to 16 MiB ending in a reset vector. */
export function checkBiosImage(image: Uint8Array, file: string): void {
  if (image.length < 0x10000 || image.length > 0x1000000 || image.length % 0x10000 !== 0) {
    throw new BadInputError(`${file} is not a BIOS image: ${image.length} bytes (a BIOS is 64 KiB to 16 MiB, in 64 KiB steps)`);
  }
  // The reset vector (16 bytes below the top) must hold code, not padding.
  const tail = image.subarray(image.length - 16);
  if (tail.every((b) => b === 0) || tail.every((b) => b === 0xff)) throw new BadInputError(`${file} is not a BIOS image: no code at the reset vector`);
}

/** A PCI option ROM starts with 55 AA and its length in 512-byte blocks. */
export function checkOptionRom(image: Uint8Array, file: string): void {
  if (image.length < 512 || image[0] !== 0x55 || image[1] !== 0xaa) throw new BadInputError(`${file} is not a VGA BIOS: no option ROM signature (55 AA)`);
  if (image.length > 0x20000) throw new BadInputError(`${file} is not a VGA BIOS: ${image.length} bytes is more than an option ROM can be (128 KiB)`);
}
