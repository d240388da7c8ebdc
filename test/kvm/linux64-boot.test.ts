/**
 * Direct Linux boot through the 64-bit boot protocol entry under KVM: a tiny kernel checks
 * the loader's long-mode setup and prints boot_params (e820, command line, initrd). The
 * software CPU has no long mode yet, so there the same kernel takes its 32-bit entry.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nasmAvailable } from '../support/nasm.js';
import { Machine } from '../../emulator-core/machine/machine.js';
import type { LinuxEntry } from '../../emulator-core/machine/options.js';
import type { MachineConfig, MachineExit } from '../../emulator-core/machine/types.js';
import { kvmMissing } from './harness.js';
import { buildKernel64 } from './tiny-kernel64.js';

const haveNasm = nasmAvailable();
if (!haveNasm) console.warn('*** SKIPPING the 64-bit boot test: nasm is not installed ***');
if (kvmMissing !== null) console.warn(`*** SKIPPING the 64-bit boot test under KVM: ${kvmMissing} ***`);

let dir = '';
let kernel = '';
let initrd = '';
const CMDLINE = 'console=ttyS0 terrarium-test=64';
const INITRD = 'INITRD-DATA!';

beforeAll(() => {
  if (!haveNasm) return;
  dir = mkdtempSync(join(tmpdir(), 'terrarium-k64-'));
  kernel = join(dir, 'k64.bzimage');
  initrd = join(dir, 'initrd');
  buildKernel64(kernel);
  writeFileSync(initrd, INITRD);
});
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

async function boot(accel: MachineConfig['accel'], linuxEntry: LinuxEntry = 'auto'): Promise<{ serial: string; exit: MachineExit }> {
  let serial = '';
  const m = await Machine.create(
    { memoryMiB: 16, accel, kernel, initrd, cmdline: CMDLINE },
    { serialOutput: (b) => (serial += Buffer.from(b).toString('latin1')) },
    { linuxEntry },
  );
  const timer = setTimeout(() => m.powerOff(), 30_000);
  const exit = await m.run();
  clearTimeout(timer);
  return { serial, exit };
}

// 16 MiB: the initrd goes to the last page below the end of RAM.
const EXPECTED_64 = [
  'entry64 cs=0010 efer=00000500 rsi=00007000',
  'e820 000000000+00009fc00:1 00009fc00+000000400:2 0000f0000+000010000:2 000100000+000f00000:1',
  `cmdline: ${CMDLINE}`,
  `initrd 00fff000+0000000c: ${INITRD}`,
  '',
].join('\n');

describe.skipIf(!haveNasm || kvmMissing !== null)('Linux 64-bit boot protocol under KVM', () => {
  it('enters in long mode with RSI = boot_params, and boot_params carries e820, command line and initrd', async () => {
    const r = await boot('kvm');
    expect(r.serial).toBe(EXPECTED_64);
    expect(r.exit.kind).toBe('poweroff');
  });

  it('linuxEntry 32 (TERRARIUM_LINUX_ENTRY=32) takes the 32-bit entry instead', async () => {
    const r = await boot('kvm', '32');
    expect(r.serial).toBe('entry32\n');
    expect(r.exit.kind).toBe('poweroff');
  });
});

describe.skipIf(!haveNasm)('the same kernel on the software CPU', () => {
  it('takes the 32-bit entry by default', async () => {
    const r = await boot('interpreter');
    expect(r.serial).toBe('entry32\n');
    expect(r.exit.kind).toBe('poweroff');
  });

  it('enters in long mode with linuxEntry 64 (TERRARIUM_LINUX_ENTRY=64) and prints what KVM prints', async () => {
    const r = await boot('interpreter', '64');
    expect(r.serial).toBe(EXPECTED_64);
    expect(r.exit.kind).toBe('poweroff');
  });
});
