/**
 * From what the user configured (a VM config in the library) to what the emulator core
 * runs (MachineConfig): absolute paths, the firmware found on this host, the boot device.
 */
import type { MachineConfig, NetConfig, PortForward } from '../../emulator-core/machine/types.js';
import type { NetworkSettings, PortForwardSetting } from '../library/config-schema.js';
import { AppError } from '../errors.js';
import type { Firmware } from '../host/firmware.js';
import type { OkEntry } from '../library/library.js';
import { existsSync } from 'node:fs';
import path from 'node:path';

export function toMachineConfig(entry: OkEntry, firmware: Firmware): MachineConfig {
  const { system, storage, display, network } = entry.config;
  const config: MachineConfig = {
    memoryMiB: system.memoryMiB,
    cpus: system.cpus,
    accel: system.accel,
    clock: 'realtime',
    disks: storage.disks.map((d) => ({ path: path.resolve(entry.dir, d.path), format: d.format, readOnly: d.readOnly })),
    net: toNetConfig(network),
  };
  if (storage.cdrom !== null) config.cdrom = storage.cdrom;
  if (system.kernel !== null) {
    config.kernel = system.kernel;
    if (system.initrd !== null) config.initrd = system.initrd;
    if (system.cmdline !== '') config.cmdline = system.cmdline;
  }
  assertMediaPresent(config);
  if (system.kernel === null) {
    if (firmware.bios === null) {
      throw new AppError('HOST', 'No BIOS firmware found on this host.', {
        hint: `Install SeaBIOS (apt install seabios) or set TERRARIUM_FIRMWARE_DIR. Searched: ${firmware.searched.join(', ')}.`,
      });
    }
    config.bios = firmware.bios;
    // The first device of the boot order that has something to boot from.
    const boot = system.bootOrder.find((d) => (d === 'cdrom' ? storage.cdrom !== null : storage.disks.length > 0));
    if (boot === undefined) {
      throw new AppError('BAD_INPUT', `"${entry.config.name}" has nothing to boot from.`, {
        hint: 'Attach an ISO (drop one on the VM) or add a disk in Settings → Storage.',
      });
    }
    config.boot = boot;
  }
  if (display.enabled && firmware.vgaBios !== null) config.vgaBios = firmware.vgaBios;
  return config;
}

export function toNetConfig(network: NetworkSettings): NetConfig {
  if (network.mode === 'none') return { mode: 'none' };
  return { mode: 'nat', mac: network.mac, blockHostAccess: network.blockHostAccess, forwards: network.forwards.map(toPortForward) };
}

/** The guest address is left to the NAT: the address its DHCP server leased. */
export function toPortForward(rule: PortForwardSetting): PortForward {
  return { protocol: rule.protocol, hostAddress: rule.hostAddress, hostPort: rule.hostPort, guestPort: rule.guestPort };
}

/** A medium that went away (moved, deleted, an unplugged drive) stops the start with the fix. */
function assertMediaPresent(config: MachineConfig): void {
  const missing = (what: string, file: string, hint: string): AppError =>
    new AppError('NOT_FOUND', `The ${what} ${path.basename(file)} is missing (${file}).`, { hint });
  if (config.cdrom !== undefined && !existsSync(config.cdrom)) {
    throw missing('CD/DVD image', config.cdrom, 'Put the file back, or eject it or choose another ISO in Settings → Storage.');
  }
  for (const disk of config.disks ?? []) {
    if (!existsSync(disk.path)) throw missing('disk image', disk.path, 'Put the file back, or remove the disk in Settings → Storage.');
  }
  for (const [what, file] of [['kernel', config.kernel], ['initrd', config.initrd]] as const) {
    if (file !== undefined && !existsSync(file)) throw missing(what, file, 'Put the file back, or choose another one in Settings → System.');
  }
}
