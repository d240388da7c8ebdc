/**
 * An image made by `qemu-img create` works too: the ATA guest writes its pattern into it,
 * qemu-img finds it clean, and qemu-img itself reads the pattern back.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingFixtures } from '../fixtures/fixtures.js';
import { tail, toolAvailable } from './cli-run.js';
import { bootAta, patternMd5, qemuImgCheck } from './ata-guest.js';

const missing = missingFixtures('ata-i386.iso');
const haveQemuImg = toolAvailable('qemu-img');
if (!haveQemuImg) console.warn('\n*** SKIPPING qemu-img interoperability test: qemu-img not installed (apt install qemu-utils) ***\n');
const dir = mkdtempSync(join(tmpdir(), 'terrarium-qemuimg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(missing.length > 0 || !haveQemuImg)('ATA disk on an image from qemu-img create', () => {
  it('the guest writes the pattern; qemu-img checks it and reads it back', async () => {
    const disk = join(dir, 'qemu.qcow2');
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']).status).toBe(0);
    const r = await bootAta(disk);
    expect(r.stdout, tail(r)).toContain(`TERRARIUM-DISK wrote ${patternMd5()}`);
    expect(r.code, tail(r)).toBe(0);
    const c = qemuImgCheck(disk);
    expect(c.status, c.out).toBe(0);
    const raw = join(dir, 'qemu.raw');
    expect(spawnSync('qemu-img', ['convert', '-O', 'raw', disk, raw]).status).toBe(0);
    const head = readFileSync(raw).subarray(0, 4 << 20);
    expect(createHash('md5').update(head).digest('hex')).toBe(patternMd5());
  }, 900_000);
});
