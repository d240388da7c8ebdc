/**
 * The disk test: the ATA guest (busybox + ata_piix/libata/sd_mod from the netboot
 * kernel's own linux-image) boots from CD through SeaBIOS, writes 4 MiB of pattern to the
 * attached qcow2 disk and powers off; a second boot reads it back. qemu-img finds the image
 * clean after each run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingFixtures } from '../fixtures/fixtures.js';
import { bootAta, patternMd5, qemuImgCheck } from './ata-guest.js';
import { tail, terrarium, toolAvailable } from './cli-run.js';

const missing = missingFixtures('ata-i386.iso');
const haveQemuImg = toolAvailable('qemu-img');
if (!haveQemuImg) console.warn('\n*** qemu-img not installed (apt install qemu-utils): image checks are skipped ***\n');
const dir = mkdtempSync(join(tmpdir(), 'terrarium-disk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(missing.length > 0)('ATA disk from the guest (qcow2 made by terrarium disk create)', () => {
  const disk = join(dir, 'guest.qcow2');

  it('creates the image', async () => {
    const r = await terrarium(['disk', 'create', disk, '--size', '64M']);
    expect(r.code, tail(r)).toBe(0);
    expect(r.stdout).toContain('qcow2, 64 MiB');
  });

  it('first boot writes the pattern and powers off; the image is clean', async () => {
    const r = await bootAta(disk);
    expect(r.stdout, tail(r)).toContain(`TERRARIUM-DISK wrote ${patternMd5()}`);
    expect(r.code, tail(r)).toBe(0);
    if (haveQemuImg) {
      const c = qemuImgCheck(disk);
      expect(c.status, c.out).toBe(0);
      expect(c.out).toContain('No errors were found');
    }
  }, 900_000);

  it('second boot reads the same pattern back', async () => {
    const r = await bootAta(disk);
    expect(r.stdout, tail(r)).toContain(`TERRARIUM-DISK read ${patternMd5()}`);
    expect(r.code, tail(r)).toBe(0);
    if (haveQemuImg) expect(qemuImgCheck(disk).status).toBe(0);
  }, 900_000);
});
