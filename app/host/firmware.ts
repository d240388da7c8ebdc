/**
 * Finding the BIOS and VGA BIOS images for the app: the same search as the machine's
 * (emulator-core/boot/firmware.ts), reported instead of refused so the UI can say what is
 * missing before anyone presses Start. Here, unlike in the core, the search reads this
 * process's environment by default (TERRARIUM_FIRMWARE_DIR).
 */
import {
  findFirmware as findFirmwareIn,
  firmwareSearchDirs,
  type FirmwareEnv,
  type FoundFirmware,
} from '../../emulator-core/boot/firmware.js';

export type Firmware = FoundFirmware;

export function findFirmware(env: FirmwareEnv = process.env, platform: NodeJS.Platform = process.platform): Firmware {
  return findFirmwareIn(env, platform);
}

export function firmwareDirs(env: FirmwareEnv = process.env, platform: NodeJS.Platform = process.platform): string[] {
  return firmwareSearchDirs(env, platform);
}
