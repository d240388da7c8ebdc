/**
 * Finding the BIOS and VGA BIOS images for the app: the same search as the machine's
 * (emulator-core/boot/firmware.ts), reported instead of refused so the UI can say what is
 * missing before anyone presses Start.
 */
export { findFirmware, firmwareSearchDirs as firmwareDirs, type FoundFirmware as Firmware } from '../../emulator-core/boot/firmware.js';
