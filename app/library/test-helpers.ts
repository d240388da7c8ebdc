/** Shared fixtures for library tests: a temp root and a complete NewVm. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NewVm } from './library.js';

export function tempDir(prefix = 'terrarium-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function newVm(name: string, overrides: Partial<NewVm> = {}): NewVm {
  return {
    name,
    osType: 'linux',
    system: { memoryMiB: 256, cpus: 1, accel: 'auto', bootOrder: ['cdrom', 'disk'], kernel: null, initrd: null, cmdline: '' },
    display: { enabled: true, scale: 'fit' },
    serial: { enabled: true, logToFile: false },
    notes: '',
    disk: { kind: 'new', sizeMiB: 16, format: 'qcow2' },
    cdrom: null,
    ...overrides,
  };
}
