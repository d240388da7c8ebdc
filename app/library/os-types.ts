/**
 * Guest OS types: presets for the New VM wizard and the rules that guess a type from an
 * ISO's volume label. Presets are starting points the user can change, sized for an
 * emulated PC (the interpreter is slower than hardware, so defaults stay modest).
 */
export type OsFamily = 'linux' | 'bsd' | 'windows' | 'dos' | 'other';

export interface OsPreset {
  id: string;
  label: string;
  family: OsFamily;
  memoryMiB: number;
  cpus: number;
  /** 0 means "no disk by default" (live systems). */
  diskMiB: number;
  diskFormat: 'raw' | 'qcow2';
  display: boolean;
  serial: boolean;
  /** Volume label patterns of this OS's install media. */
  labelPatterns: readonly RegExp[];
}

const GiB = 1024;

export const OS_PRESETS: readonly OsPreset[] = [
  { id: 'debian', label: 'Debian', family: 'linux', memoryMiB: 1 * GiB, cpus: 1, diskMiB: 16 * GiB, diskFormat: 'qcow2', display: true, serial: true, labelPatterns: [/debian/i] },
  { id: 'ubuntu', label: 'Ubuntu', family: 'linux', memoryMiB: 2 * GiB, cpus: 2, diskMiB: 25 * GiB, diskFormat: 'qcow2', display: true, serial: true, labelPatterns: [/ubuntu/i, /kubuntu|xubuntu|lubuntu/i] },
  { id: 'fedora', label: 'Fedora', family: 'linux', memoryMiB: 2 * GiB, cpus: 2, diskMiB: 20 * GiB, diskFormat: 'qcow2', display: true, serial: true, labelPatterns: [/fedora/i] },
  { id: 'alpine', label: 'Alpine Linux', family: 'linux', memoryMiB: 256, cpus: 1, diskMiB: 2 * GiB, diskFormat: 'qcow2', display: true, serial: true, labelPatterns: [/alpine/i] },
  { id: 'arch', label: 'Arch Linux', family: 'linux', memoryMiB: 1 * GiB, cpus: 1, diskMiB: 16 * GiB, diskFormat: 'qcow2', display: true, serial: true, labelPatterns: [/^arch/i] },
  { id: 'linux', label: 'Other Linux', family: 'linux', memoryMiB: 512, cpus: 1, diskMiB: 8 * GiB, diskFormat: 'qcow2', display: true, serial: true, labelPatterns: [/linux|live|busybox|tinycore|slitaz/i] },
  { id: 'freebsd', label: 'FreeBSD', family: 'bsd', memoryMiB: 1 * GiB, cpus: 1, diskMiB: 16 * GiB, diskFormat: 'qcow2', display: true, serial: true, labelPatterns: [/freebsd/i] },
  { id: 'openbsd', label: 'OpenBSD', family: 'bsd', memoryMiB: 512, cpus: 1, diskMiB: 8 * GiB, diskFormat: 'qcow2', display: true, serial: true, labelPatterns: [/openbsd/i] },
  { id: 'windows-xp', label: 'Windows XP', family: 'windows', memoryMiB: 512, cpus: 1, diskMiB: 10 * GiB, diskFormat: 'qcow2', display: true, serial: false, labelPatterns: [/^(GRTMP|VRMP|WX[A-Z]|XP)/i] },
  { id: 'windows-10', label: 'Windows 10/11', family: 'windows', memoryMiB: 4 * GiB, cpus: 2, diskMiB: 64 * GiB, diskFormat: 'qcow2', display: true, serial: false, labelPatterns: [/^(CCSA|CPBA|CENA|J_CC|ESD-ISO|WIN(10|11))/i] },
  { id: 'freedos', label: 'FreeDOS / DOS', family: 'dos', memoryMiB: 32, cpus: 1, diskMiB: 512, diskFormat: 'raw', display: true, serial: false, labelPatterns: [/freedos|fd1[0-9]|msdos|dos/i] },
  { id: 'other', label: 'Other', family: 'other', memoryMiB: 256, cpus: 1, diskMiB: 2 * GiB, diskFormat: 'qcow2', display: true, serial: true, labelPatterns: [] },
];

export const OS_TYPE_IDS = OS_PRESETS.map((p) => p.id) as [string, ...string[]];

export function presetFor(id: string): OsPreset {
  return OS_PRESETS.find((p) => p.id === id) ?? OS_PRESETS[OS_PRESETS.length - 1]!;
}

/** The most specific preset whose patterns match the label (specific distros before "Other Linux"). */
export function guessOsType(volumeLabel: string): string {
  for (const preset of OS_PRESETS) {
    if (preset.labelPatterns.some((re) => re.test(volumeLabel))) return preset.id;
  }
  return 'other';
}
