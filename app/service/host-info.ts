/** What the UI needs to know about this host: memory limits, KVM, firmware, OS presets. */
import { MAX_MEMORY_MIB } from '../../emulator-core/machine/machine.js';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { HostInfo, OsTypeInfo } from '../contract/api.js';
import type { DataPaths } from '../host/paths.js';
import { findFirmware } from '../host/firmware.js';
import { OS_PRESETS } from '../library/os-types.js';

const MiB = 1024 * 1024;

/** The host keeps at least this much for itself (and Terrarium). */
export function maxVmMemoryMiB(totalBytes: number = os.totalmem()): number {
  const total = Math.floor(totalBytes / MiB);
  // The host keeps some memory for itself; the virtual PC puts RAM below its 32-bit PCI hole.
  return Math.min(MAX_MEMORY_MIB, Math.max(64, total - Math.max(512, Math.floor(total / 8))));
}

function kvmStatus(): { usable: boolean; why: string } {
  if (process.platform !== 'linux') return { usable: false, why: 'KVM exists only on Linux hosts; the interpreter runs guests here.' };
  if (!existsSync('/dev/kvm')) return { usable: false, why: '/dev/kvm is missing (no KVM module or no hardware virtualization); the interpreter runs guests.' };
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { usable: false, why: 'No permission on /dev/kvm (add yourself to the kvm group); the interpreter runs guests.' };
  }
  const modules = (() => {
    try {
      return readFileSync('/proc/modules', 'utf8');
    } catch {
      return '';
    }
  })();
  if (/^kvm_pvm\b/m.test(modules)) return { usable: false, why: '/dev/kvm is PVM (nested cloud): "auto" uses the interpreter for ordinary guests.' };
  return { usable: true, why: '/dev/kvm is available.' };
}

export function hostInfo(transport: HostInfo['transport'], paths: DataPaths, version: string): HostInfo {
  const firmware = findFirmware();
  const osTypes: OsTypeInfo[] = OS_PRESETS.map(({ labelPatterns: _patterns, ...rest }) => rest);
  return {
    transport,
    version,
    platform: `${os.type()} ${os.release()} (${process.arch})`,
    totalMemoryMiB: Math.floor(os.totalmem() / MiB),
    maxVmMemoryMiB: maxVmMemoryMiB(),
    cpus: os.availableParallelism(),
    kvm: kvmStatus(),
    firmware: { bios: firmware.bios, vgaBios: firmware.vgaBios },
    libraryRoot: paths.library,
    mediaDir: paths.media,
    osTypes,
    hostKey: { code: 'ControlRight', label: 'Right Ctrl' },
    canUpload: transport === 'web',
  };
}
