/**
 * Interoperability with QEMU, the reference implementation: images made by qemu-img and
 * filled by qemu-io are read and written by us and must then pass `qemu-img check` and
 * match byte for byte; images we make must look right to `qemu-img info` and `qemu-io`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDisk, openDisk } from './create.js';
import { DiskFormatError } from './errors.js';
import { Qcow2Backend } from './qcow2.js';
import {
  HAVE_QEMU,
  Rng,
  makeTempDir,
  qemuCheck,
  qemuCompareWithModel,
  qemuImg,
  qemuInfo,
  qemuIo,
  warnSkip,
} from '../../test/support/storage/qemu-tools.js';
import { runWorkload, verifyAll } from '../../test/support/storage/workload.js';

if (!HAVE_QEMU) warnSkip('qcow2 interoperability tests (qcow2-qemu.test.ts)');

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());
let counter = 0;
const fresh = (name: string): string => join(tmp.dir, `${counter++}-${name}`);

function run(r: { status: number; stdout: string; stderr: string }, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stdout}${r.stderr}`);
}

function expectClean(path: string, model: Uint8Array): void {
  const c = qemuCheck(path);
  expect(c.status, `qemu-img check:\n${c.stdout}${c.stderr}`).toBe(0);
  const cmp = qemuCompareWithModel(path, 'qcow2', model, tmp.dir);
  expect(cmp.status, `qemu-img compare: ${cmp.stdout}${cmp.stderr}`).toBe(0);
}

/**
 * A qemu-made image with every kind of cluster: normal, compressed, and (v3) zero clusters
 * with and without a preallocated host cluster. Returns the model of its content.
 */
function makeQemuImage(path: string, size: number, createOpts: string): Uint8Array {
  run(qemuImg('create', '-q', '-f', 'qcow2', '-o', createOpts, path, String(size)), 'qemu-img create');
  const model = new Uint8Array(size);
  const v3 = !createOpts.includes('compat=0.10');
  const cmds: string[] = [];
  const pattern = (p: number, off: number, len: number, compressed = false): void => {
    cmds.push(`write ${compressed ? '-c ' : ''}-P 0x${p.toString(16)} ${off} ${len}`);
    model.fill(p, off, off + len);
  };
  pattern(0x11, 0, 192 << 10);
  pattern(0x22, (1 << 20) + 4096, 12288);
  pattern(0x33, 2 << 20, 64 << 10, true);
  pattern(0x34, (2 << 20) + (64 << 10), 64 << 10, true);
  pattern(0x44, 3 << 20, 128 << 10);
  if (v3) {
    cmds.push(`write -z ${3 << 20} ${64 << 10}`); // zero flag over an allocated cluster
    cmds.push(`write -z ${4 << 20} ${64 << 10}`); // zero flag, nothing allocated
    model.fill(0, 3 << 20, (3 << 20) + (64 << 10));
    model.fill(0, 4 << 20, (4 << 20) + (64 << 10));
  }
  run(qemuIo(path, 'qcow2', ...cmds), 'qemu-io fill');
  return model;
}

describe.skipIf(!HAVE_QEMU)('images made by qemu-img', () => {
  const variants = [
    { name: 'v2 (compat=0.10)', opts: 'compat=0.10' },
    { name: 'v3', opts: 'compat=1.1' },
    { name: 'v3, 4 KiB clusters, 1-bit refcounts', opts: 'compat=1.1,cluster_size=4096,refcount_bits=1' },
    { name: 'v3, 512-byte clusters, 64-bit refcounts', opts: 'compat=1.1,cluster_size=512,refcount_bits=64' },
    { name: 'v3, lazy refcounts, closed cleanly', opts: 'compat=1.1,lazy_refcounts=on' },
  ];
  for (const v of variants) {
    it(`${v.name}: we read qemu's data (normal, compressed, zero clusters), write, and qemu-img check is clean`, async () => {
      const path = fresh('qemu.qcow2');
      const size = 8 << 20;
      const model = makeQemuImage(path, size, v.opts);
      const disk = (await openDisk(path)) as Qcow2Backend;
      expect(disk.version).toBe(v.opts.includes('0.10') ? 2 : 3);
      await verifyAll(disk, model);
      // Partial writes into the compressed and zero clusters force copy-on-write.
      const rng = new Rng(counter);
      for (const off of [(2 << 20) + 512, (2 << 20) + (64 << 10) - 1024, (3 << 20) + 4096, (4 << 20) + 8192]) {
        const data = rng.bytes(1024);
        await disk.write(off, data);
        model.set(data, off);
      }
      const cs = disk.clusterSize;
      await runWorkload(disk, model, rng, { ops: 200, maxLength: Math.min(128 << 10, cs * 40), boundary: cs });
      // A constant pattern qemu-io can verify directly.
      await disk.write(5 << 20, new Uint8Array(3 * 4096).fill(0x5a));
      model.fill(0x5a, 5 << 20, (5 << 20) + 3 * 4096);
      await verifyAll(disk, model);
      await disk.close();
      expectClean(path, model);
      run(qemuIo(path, 'qcow2', `read -P 0x5a ${5 << 20} ${3 * 4096}`), 'qemu-io read-back');
    });
  }

  it('an image with a persistent bitmap: the autoclear bit is cleared before our first write', async () => {
    const path = fresh('bitmap.qcow2');
    const model = makeQemuImage(path, 8 << 20, 'compat=1.1');
    run(qemuImg('bitmap', '--add', path, 'bm0'), 'qemu-img bitmap');
    expect(readFileSync(path).readBigUInt64BE(88)).toBe(1n);
    const disk = await openDisk(path);
    await verifyAll(disk, model);
    expect(readFileSync(path).readBigUInt64BE(88)).toBe(1n); // reading changes nothing
    await disk.write(0, new Uint8Array(512).fill(9));
    model.fill(9, 0, 512);
    await disk.close();
    expect(readFileSync(path).readBigUInt64BE(88)).toBe(0n);
    // The bitmap's clusters are now unreachable for QEMU: leaks at most, never corruption.
    const c = qemuCheck(path);
    expect([0, 3], `qemu-img check:\n${c.stdout}${c.stderr}`).toContain(c.status);
    expect(qemuCompareWithModel(path, 'qcow2', model, tmp.dir).status).toBe(0);
  });

  it('a dirty image (lazy refcounts, crashed): read-only works, read-write is refused untouched', async () => {
    const path = fresh('dirty.qcow2');
    run(qemuImg('create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', path, '4M'), 'create');
    // qemu-io's abort command crashes it with the dirty bit set.
    qemuIo(path, 'qcow2', 'write -P 0x77 65536 65536', 'abort');
    const before = readFileSync(path);
    expect(before.readBigUInt64BE(72) & 1n).toBe(1n);
    const err = await openDisk(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskFormatError);
    expect(String((err as Error).message)).toMatch(/dirty\.qcow2: was not closed cleanly .*qemu-img check -r all/);
    expect(readFileSync(path).equals(before)).toBe(true);
    const ro = await openDisk(path, { readOnly: true });
    const got = await ro.read(65536, 65536);
    expect(got.every((b) => b === 0x77)).toBe(true);
    await ro.close();
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('an image with internal snapshots: read-only reads the active state, read-write is refused', async () => {
    const path = fresh('snap.qcow2');
    run(qemuImg('create', '-q', '-f', 'qcow2', path, '4M'), 'create');
    run(qemuIo(path, 'qcow2', 'write -P 0x10 0 128k'), 'fill');
    run(qemuImg('snapshot', '-c', 'snap1', path), 'snapshot');
    run(qemuIo(path, 'qcow2', 'write -P 0x20 0 64k'), 'fill');
    const before = readFileSync(path);
    await expect(openDisk(path)).rejects.toThrow(/internal snapshot/);
    const ro = await openDisk(path, { readOnly: true });
    const got = await ro.read(0, 128 << 10);
    expect(got.subarray(0, 64 << 10).every((b) => b === 0x20)).toBe(true);
    expect(got.subarray(64 << 10).every((b) => b === 0x10)).toBe(true);
    await ro.close();
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('a qemu-made overlay on a qemu-made base: reads merge, our writes stay in the overlay', async () => {
    const base = fresh('qbase.qcow2');
    const model = makeQemuImage(base, 8 << 20, 'compat=1.1');
    const baseBytes = readFileSync(base);
    const overlay = fresh('qoverlay.qcow2');
    // Relative name with explicit format, as qemu-img requires today.
    run(qemuImg('create', '-q', '-f', 'qcow2', '-b', base.split('/').pop()!, '-F', 'qcow2', overlay, '10M'), 'create overlay');
    const full = new Uint8Array(10 << 20);
    full.set(model);
    const o = await openDisk(overlay);
    await verifyAll(o, full);
    const rng = new Rng(1234);
    await runWorkload(o, full, rng, { ops: 150, maxLength: 100 << 10, boundary: 65536 });
    await o.close();
    expect(readFileSync(base).equals(baseBytes)).toBe(true);
    expectClean(overlay, full);
  });
});

describe.skipIf(!HAVE_QEMU)('images we make, as QEMU sees them', () => {
  it('qcow2: qemu-img info shows size, format and backing file; qemu-io reads our data', async () => {
    const base = fresh('ours-base.raw');
    await createDisk({ path: base, sizeBytes: 3 << 20, format: 'raw' });
    const overlay = fresh('ours-overlay.qcow2');
    await createDisk({ path: overlay, backing: base, format: 'qcow2' });
    const info = qemuInfo(overlay);
    expect(info['format']).toBe('qcow2');
    expect(info['virtual-size']).toBe(3 << 20);
    expect(info['backing-filename']).toBe(base);
    expect(info['backing-filename-format']).toBe('raw');
    expect(info['cluster-size']).toBe(65536);
    expect((info['format-specific'] as { data: Record<string, unknown> }).data['refcount-bits']).toBe(16);
    expect((info['format-specific'] as { data: Record<string, unknown> }).data['compat']).toBe('1.1');

    const big = fresh('ours-big.qcow2');
    await createDisk({ path: big, sizeBytes: 20 * 1024 ** 3 });
    expect(qemuInfo(big)['virtual-size']).toBe(20 * 1024 ** 3);
    expect(qemuCheck(big).status).toBe(0);

    const d = await openDisk(overlay);
    await d.write(65536 - 4096, new Uint8Array(8192).fill(0xc3));
    await d.close();
    expect(qemuCheck(overlay).status).toBe(0);
    run(qemuIo(overlay, 'qcow2', `read -P 0xc3 ${65536 - 4096} 8192`, `read -P 0 0 ${65536 - 4096}`), 'qemu-io read-back');
  });

  it('raw: qemu-img info shows the size and the file is sparse', async () => {
    const path = fresh('ours.raw');
    await createDisk({ path, sizeBytes: 1024 ** 3, format: 'raw' });
    const info = qemuInfo(path);
    expect(info['format']).toBe('raw');
    expect(info['virtual-size']).toBe(1024 ** 3);
    expect(Number(info['actual-size'])).toBeLessThan(1 << 20);
  });
});
