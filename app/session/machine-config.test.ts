/** toMachineConfig: the VM's settings become the machine the core builds. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Library } from '../library/library.js';
import { newVm, tempDir } from '../library/test-helpers.js';
import { toMachineConfig } from './machine-config.js';

const firmware = { bios: '/dev/null', vgaBios: null, searched: [] };

describe('toMachineConfig', () => {
  it('gives the machine as many CPUs as the VM is set to (it used to build one whatever the setting)', async () => {
    const dir = tempDir();
    const kernel = path.join(dir, 'vmlinuz');
    writeFileSync(kernel, 'not really a kernel');
    const lib = new Library(path.join(dir, 'VMs'));
    const three = await lib.create(newVm('Three', { disk: { kind: 'none' }, system: { ...newVm('x').system, cpus: 3, kernel } }));
    expect(toMachineConfig(three, firmware)).toMatchObject({ cpus: 3, memoryMiB: 256, kernel });
    const one = await lib.create(newVm('One', { system: { ...newVm('x').system, cpus: 1 } }));
    expect(toMachineConfig(one, firmware)).toMatchObject({ cpus: 1, boot: 'disk' });
  });
});
