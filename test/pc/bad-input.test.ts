/**
 * Every bad input of the PC path gives one clear line and exit code 2, and no image is
 * modified by a refused operation: corrupt or unsupported qcow2 images, a file that is not
 * an ISO, missing files, bad options of run and disk create.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tail, terrarium, toolAvailable, type CliResult } from './cli-run.js';

const haveQemuImg = toolAvailable('qemu-img');
if (!haveQemuImg) console.warn('\n*** SKIPPING corrupt-image cases: qemu-img not installed (apt install qemu-utils) ***\n');
const dir = mkdtempSync(join(tmpdir(), 'terrarium-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function expectOneLine(r: CliResult, pattern: RegExp): void {
  expect(r.code, tail(r)).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, tail(r)).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** qcow2 header patches (big-endian fields) and the message each must produce. */
const CORRUPT: { name: string; offset: number; bytes: number; value: bigint; message: RegExp }[] = [
  { name: 'version', offset: 4, bytes: 4, value: 4n, message: /unsupported qcow2 version 4/ },
  { name: 'cluster-bits', offset: 20, bytes: 4, value: 40n, message: /cluster_bits 40 is out of range/ },
  { name: 'encrypted', offset: 32, bytes: 4, value: 1n, message: /encrypted images .* not supported/ },
  { name: 'corrupt-bit', offset: 72, bytes: 8, value: 2n, message: /marked corrupt/ },
  { name: 'dirty-bit', offset: 72, bytes: 8, value: 1n, message: /not closed cleanly/ },
  { name: 'unknown-feature', offset: 72, bytes: 8, value: 1n << 20n, message: /unknown incompatible feature bit 20/ },
  { name: 'l1-past-eof', offset: 40, bytes: 8, value: 0x10000000n, message: /L1 table .* beyond the end of the file/ },
  { name: 'refcount-misaligned', offset: 48, bytes: 8, value: 0x10001n, message: /refcount table offset .* not cluster aligned/ },
  { name: 'huge-size', offset: 24, bytes: 8, value: 1n << 62n, message: /size is out of range/ },
];

describe.skipIf(!haveQemuImg)('terrarium run refuses corrupt qcow2 images and leaves them untouched', () => {
  const base = join(dir, 'base.qcow2');
  beforeAll(() => {
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '16M']).status).toBe(0);
  });
  for (const c of CORRUPT) {
    it(c.name, async () => {
      const f = join(dir, `${c.name}.qcow2`);
      copyFileSync(base, f);
      const bytes = readFileSync(f);
      if (c.bytes === 4) bytes.writeUInt32BE(Number(c.value), c.offset);
      else bytes.writeBigUInt64BE(c.value, c.offset);
      writeFileSync(f, bytes);
      const before = sha(f);
      const r = await terrarium(['run', '--disk', f, '--accel', 'interpreter', '--exit-after', '5']);
      expectOneLine(r, new RegExp(`^terrarium run: .*${c.name}\\.qcow2: .*${c.message.source}`));
      expect(sha(f)).toBe(before);
    });
  }
});

describe('terrarium run and disk create: bad input', () => {
  it('a CD image that is not an ISO', async () => {
    const f = join(dir, 'notaniso.iso');
    writeFileSync(f, Buffer.alloc(1000, 0x41));
    const before = sha(f);
    expectOneLine(await terrarium(['run', '--cdrom', f, '--exit-after', '1']), /not a whole number of 2048-byte sectors: not an ISO image/);
    expect(sha(f)).toBe(before);
  });

  it('a qcow2 image given as the CD', async () => {
    const f = join(dir, 'disk-as-cd.qcow2');
    writeFileSync(f, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.alloc(2044)]));
    const before = sha(f);
    expectOneLine(await terrarium(['run', '--cdrom', f, '--exit-after', '1']), /is a qcow2 disk image, not an ISO; attach it with --disk/);
    expect(sha(f)).toBe(before);
  });

  it('missing CD, disk, BIOS and VGA BIOS files', async () => {
    expectOneLine(await terrarium(['run', '--cdrom', join(dir, 'none.iso')]), /none\.iso: no such file/);
    expectOneLine(await terrarium(['run', '--disk', join(dir, 'none.img')]), /none\.img: no such file/);
    expectOneLine(await terrarium(['run', '--bios', join(dir, 'none.bin')]), /--bios .*none\.bin does not exist/);
    // Any file that passes the BIOS checks will do here: the VGA BIOS is looked at next.
    const bios = join(dir, 'fake-bios.bin');
    const image = Buffer.alloc(0x10000);
    image[0xfff0] = 0xea;
    writeFileSync(bios, image);
    expectOneLine(await terrarium(['run', '--bios', bios, '--vga-bios', join(dir, 'nv.bin')]), /--vga-bios .*nv\.bin does not exist/);
  });

  it('files that are not firmware', async () => {
    const f = join(dir, 'tiny.bin');
    writeFileSync(f, Buffer.alloc(1000, 1));
    expectOneLine(await terrarium(['run', '--bios', f]), /is not a BIOS image/);
    const v = join(dir, 'vga.bin');
    writeFileSync(v, Buffer.alloc(4096, 0));
    const bios = join(dir, 'fake-bios2.bin');
    const image = Buffer.alloc(0x10000);
    image[0xfff0] = 0xea;
    writeFileSync(bios, image);
    expectOneLine(await terrarium(['run', '--bios', bios, '--vga-bios', v]), /is not a VGA BIOS/);
  });

  it('bad option values', async () => {
    expectOneLine(await terrarium(['run', '--cdrom', 'x.iso', '--boot', 'floppy']), /--boot floppy: choose cdrom or disk/);
    expectOneLine(await terrarium(['run', '--disk', 'x.img', '--boot', 'cdrom']), /--boot cdrom needs --cdrom/);
    expectOneLine(await terrarium(['run', '--cdrom', 'x.iso', '--keys', 'Entr@3']), /unknown key "Entr"/);
    expectOneLine(await terrarium(['run', '--cdrom', 'x.iso', '--keys', 'Enter']), /write KEY@SECONDS/);
    expectOneLine(await terrarium(['run', '--cdrom', 'x.iso', '--exit-after', 'soon']), /--exit-after soon: give a positive number of seconds/);
    expectOneLine(await terrarium(['run', '--kernel', 'k', '--disk', 'x.img', '--boot', 'disk']), /--boot is for booting through the BIOS and cannot be combined with --kernel/);
    expectOneLine(await terrarium(['run', '--kernel', 'k', '--screenshot', 'x.png']), /--screenshot needs a display/);
    const disks = ['a', 'b', 'c', 'd'].flatMap((n) => ['--disk', n]);
    expectOneLine(await terrarium(['run', '--cdrom', 'x.iso', ...disks]), /at most 3 disks fit on the two IDE channels beside the CD-ROM/);
  });

  it('disk create refuses bad sizes, formats and existing files, leaving them untouched', async () => {
    expectOneLine(await terrarium(['disk', 'create', join(dir, 'a.qcow2'), '--size', '12Q']), /invalid size '12Q'/);
    expectOneLine(await terrarium(['disk', 'create', join(dir, 'a.qcow2'), '--size', '1G', '--format', 'vdi']), /--format vdi: choose qcow2 or raw/);
    expectOneLine(await terrarium(['disk', 'create', join(dir, 'a.qcow2')]), /--size is required/);
    expectOneLine(await terrarium(['disk', 'create', join(dir, 'a.img'), '--size', '1M', '--format', 'raw', '--backing', 'b.img']), /--backing needs --format qcow2/);
    expectOneLine(await terrarium(['disk', 'make', 'x']), /unknown subcommand "make"/);
    const existing = join(dir, 'existing.qcow2');
    writeFileSync(existing, 'precious data');
    const before = sha(existing);
    expectOneLine(await terrarium(['disk', 'create', existing, '--size', '1G']), /file already exists; refusing to overwrite it/);
    expect(sha(existing)).toBe(before);
  });

  it('disk create makes qcow2 and raw images and overlays', async () => {
    const q = join(dir, 'new.qcow2');
    const r = await terrarium(['disk', 'create', q, '--size', '20G']);
    expect(r.code, tail(r)).toBe(0);
    expect(r.stdout).toContain('qcow2, 20 GiB');
    const raw = join(dir, 'new.img');
    expect((await terrarium(['disk', 'create', raw, '--size', '1M', '--format', 'raw'])).code).toBe(0);
    expect(readFileSync(raw).length).toBe(1 << 20);
    const o = await terrarium(['disk', 'create', join(dir, 'overlay.qcow2'), '--backing', q]);
    expect(o.code, tail(o)).toBe(0);
    expect(o.stdout).toContain('on new.qcow2 (qcow2)');
    if (haveQemuImg) {
      const info = spawnSync('qemu-img', ['info', join(dir, 'overlay.qcow2')], { encoding: 'utf8' });
      expect(info.stdout).toContain('backing file: new.qcow2');
      expect(spawnSync('qemu-img', ['check', q]).status).toBe(0);
    }
  });
});
