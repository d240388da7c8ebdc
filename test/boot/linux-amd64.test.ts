/**
 * Debian 12's amd64 kernel with a static busybox initramfs boots on the software CPU with
 * two processors: the 64-bit decompressor, a kernel that requires FXSR/SSE/SSE2 (it refuses
 * to boot without them), the APs started through the local APICs, and the marker reporting
 * both CPUs. 64-bit code is interpreted only, so this takes about 7 minutes on a 2-core host.
 */
import { describe, expect, it } from 'vitest';
import { fixturePath, missingFixtures } from '../fixtures/fixtures.js';
import { tail, terrarium } from '../pc/cli-run.js';

const missing = missingFixtures('vmlinuz-amd64', 'initrd-amd64.gz');

describe.skipIf(missing.length > 0)('Debian 12 amd64 Linux boots on the software CPU', () => {
  it('with 2 CPUs: uses FXSAVE, brings up the AP, reaches the marker with cpus=2 and exits 0', async () => {
    const r = await terrarium(
      [
        'run',
        '--kernel',
        fixturePath('vmlinuz-amd64'),
        '--initrd',
        fixturePath('initrd-amd64.gz'),
        '--append',
        'console=ttyS0 panic=-1',
        '--memory',
        '256',
        '--cpus',
        '2',
        '--net',
        'none',
        '--accel',
        'interpreter',
        '--timeout',
        '1700',
      ],
      1_750_000,
    );
    expect(r.stdout, tail(r)).toMatch(/TERRARIUM-MARKER uptime=\d+\.\d+ \d+\.\d+ model=Terrarium Virtual CPU cpus=2/);
    expect(r.stdout).toContain('x86/fpu: x87 FPU will use FXSAVE');
    expect(r.stdout).toMatch(/smp: Brought up 1 node, 2 CPUs/);
    expect(r.stdout).toMatch(/Linux version 6\.1\.\S+-amd64/);
    expect(r.code, tail(r)).toBe(0);
  }, 1_800_000);
});
