/**
 * The first boot test: an isolinux CD (isolinux, the Debian 12 i386 kernel and the
 * busybox marker initramfs, SERIAL 0 and console=ttyS0) boots through SeaBIOS on the
 * software CPU to the marker, the guest powers off through ACPI S5, exit code 0; the
 * screenshot taken at exit is the VGA text screen with SeaBIOS's and isolinux's lines.
 * The machine has two CPUs: SeaBIOS starts and counts the AP, lists it in its tables, and
 * Linux brings it up (the marker reports cpus=2).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturePath, missingFixtures } from '../fixtures/fixtures.js';
import { tail, terrarium } from './cli-run.js';

const missing = missingFixtures('isolinux-i386.iso');
const dir = mkdtempSync(join(tmpdir(), 'terrarium-iso-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(missing.length > 0)('SeaBIOS → isolinux → Linux from a CD', () => {
  it('reaches the marker with 2 CPUs, powers off, exit 0, and leaves a text-mode screenshot', async () => {
    const shot = join(dir, 'screen.png');
    const r = await terrarium(['run', '--cdrom', fixturePath('isolinux-i386.iso'), '--memory', '256', '--cpus', '2', '--accel', 'interpreter', '--screenshot', shot, '--timeout', '900']);
    expect(r.stdout, tail(r)).toMatch(/TERRARIUM-MARKER uptime=\d+\.\d+ \d+\.\d+ model=Terrarium Virtual CPU cpus=2/);
    expect(r.stdout).toContain('ISOLINUX');
    expect(r.stdout).toMatch(/reboot: Power down/);
    expect(r.code, tail(r)).toBe(0);
    const png = PNG.sync.read(readFileSync(shot));
    expect([png.width, png.height]).toEqual([720, 400]);
    // Some light pixels (text) on a dark screen.
    let lit = 0;
    for (let i = 0; i < png.data.length; i += 4) if (png.data[i]! > 0x80) lit++;
    expect(lit).toBeGreaterThan(500);
  }, 900_000);
});
