/**
 * The guest boot test: Debian 12's i386 kernel with a busybox initramfs boots under the
 * software CPU to the marker line and powers off, exit code 0.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fixturePath, missingFixtures } from '../fixtures/fixtures.js';

const BIN = new URL('../../bin/terrarium.js', import.meta.url).pathname;
const missing = missingFixtures('vmlinuz-i386', 'initrd-i386.gz');

describe.skipIf(missing.length > 0)('Debian 12 i386 Linux boots on the software CPU', () => {
  it('reaches the marker with the CPU model and exits 0', async () => {
    const args = [
      BIN,
      'run',
      '--kernel',
      fixturePath('vmlinuz-i386'),
      '--initrd',
      fixturePath('initrd-i386.gz'),
      '--append',
      'console=ttyS0 quiet panic=-1',
      '--memory',
      '256',
      '--accel',
      'interpreter',
      '--timeout',
      '1500',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const marker = /TERRARIUM-MARKER uptime=(\d+\.\d+) \d+\.\d+ model=(.*)/.exec(out);
    expect(marker, `no marker in the guest output:\n${out.slice(-3000)}\nstderr: ${err}`).not.toBeNull();
    expect(Number(marker![1])).toBeGreaterThan(0);
    expect(marker![2]).toContain('Terrarium Virtual CPU');
    expect(code).toBe(0);
  }, 1_600_000);
});
