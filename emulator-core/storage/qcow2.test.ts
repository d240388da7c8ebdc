import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDisk, createQcow2Image, openDisk } from './create.js';
import { Qcow2Backend } from './qcow2.js';
import { HAVE_QEMU_IMG, Rng, makeTempDir, qemuCheck, qemuCompareWithModel, warnSkip } from '../../test/support/storage/qemu-tools.js';
import { runWorkload, verifyAll } from '../../test/support/storage/workload.js';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());
let counter = 0;
const fresh = (name: string): string => join(tmp.dir, `${counter++}-${name}`);

/** When qemu-img is present, every image a test leaves behind must check clean. */
function expectQemuClean(path: string, model?: Uint8Array): void {
  if (!HAVE_QEMU_IMG) {
    warnSkip('qemu-img check of images written by the qcow2 tests');
    return;
  }
  const r = qemuCheck(path);
  expect(r.status, `qemu-img check ${path}:\n${r.stdout}${r.stderr}`).toBe(0);
  if (model) {
    const c = qemuCompareWithModel(path, 'qcow2', model, tmp.dir);
    expect(c.status, `qemu-img compare: ${c.stdout}${c.stderr}`).toBe(0);
  }
}

describe('qcow2 round trips', () => {
  const geometries = [
    { clusterBits: 16, refcountOrder: 4, size: 24 << 20, maxLength: 256 << 10 },
    { clusterBits: 12, refcountOrder: 4, size: 8 << 20, maxLength: 64 << 10 },
    { clusterBits: 9, refcountOrder: 4, size: 4 << 20, maxLength: 16 << 10 },
    { clusterBits: 12, refcountOrder: 0, size: 4 << 20, maxLength: 32 << 10 },
    { clusterBits: 12, refcountOrder: 2, size: 4 << 20, maxLength: 32 << 10 },
    { clusterBits: 12, refcountOrder: 3, size: 4 << 20, maxLength: 32 << 10 },
    { clusterBits: 12, refcountOrder: 5, size: 4 << 20, maxLength: 32 << 10 },
    { clusterBits: 12, refcountOrder: 6, size: 4 << 20, maxLength: 32 << 10 },
  ];
  for (const g of geometries) {
    it(`random I/O, ${2 ** g.clusterBits}-byte clusters, ${1 << g.refcountOrder}-bit refcounts, survives reopen`, async () => {
      const path = fresh(`rt-${g.clusterBits}-${g.refcountOrder}.qcow2`);
      await createQcow2Image(path, g);
      const model = new Uint8Array(g.size);
      const rng = new Rng(g.clusterBits * 100 + g.refcountOrder);
      const disk = await Qcow2Backend.open(path, { l2CacheTables: 4, refcountCacheBlocks: 3 });
      await runWorkload(disk, model, rng, { ops: 300, maxLength: g.maxLength, boundary: 2 ** g.clusterBits });
      await verifyAll(disk, model);
      await disk.close();
      const again = await openDisk(path, { readOnly: true });
      expect(again.format).toBe('qcow2');
      await verifyAll(again, model);
      await again.close();
      expectQemuClean(path, model);
    });
  }

  it('grows the refcount table when the image outgrows it (512-byte clusters)', async () => {
    const path = fresh('grow.qcow2');
    const size = 16 << 20;
    await createQcow2Image(path, { size, clusterBits: 9 });
    const before = readFileSync(path);
    const rtClustersBefore = before.readUInt32BE(56);
    const disk = await Qcow2Backend.open(path);
    const model = new Uint8Array(size);
    const rng = new Rng(7);
    // Sequential 64 KiB writes over the whole disk: 32768 data clusters plus L2 tables.
    for (let off = 0; off < size; off += 65536) {
      const data = rng.bytes(65536);
      await disk.write(off, data);
      model.set(data, off);
      if (off % (4 << 20) === 0) await disk.flush();
    }
    await disk.close();
    const after = readFileSync(path);
    expect(after.readUInt32BE(56)).toBeGreaterThan(rtClustersBefore);
    const again = await openDisk(path, { readOnly: true });
    await verifyAll(again, model);
    await again.close();
    expectQemuClean(path, model);
  });

  it('unwritten areas read as zeros and a new image is small', async () => {
    const path = fresh('zeros.qcow2');
    await createDisk({ path, sizeBytes: 20 * 1024 ** 3, format: 'qcow2' });
    expect(statSync(path).size).toBeLessThan(1 << 20);
    const disk = await openDisk(path);
    expect(disk.size).toBe(20 * 1024 ** 3);
    const got = await disk.read(19 * 1024 ** 3, 1 << 20);
    expect(got.every((b) => b === 0)).toBe(true);
    // A write at the far end allocates one L2 table and one cluster, not gigabytes.
    await disk.write(20 * 1024 ** 3 - 512, new Uint8Array(512).fill(0xaa));
    await disk.close();
    expect(statSync(path).size).toBeLessThan(2 << 20);
    expectQemuClean(path);
  });

  it('flush persists data without close (reopen from a second handle)', async () => {
    const path = fresh('flush.qcow2');
    await createDisk({ path, sizeBytes: 4 << 20 });
    const disk = await openDisk(path);
    const data = new Rng(3).bytes(200 * 512);
    await disk.write(65536 - 1024, data);
    await disk.flush();
    const reader = await openDisk(path, { readOnly: true });
    expect(Buffer.from(await reader.read(65536 - 1024, data.length)).equals(Buffer.from(data))).toBe(true);
    await reader.close();
    if (HAVE_QEMU_IMG) expect(qemuCheck(path).status).toBe(0);
    await disk.close();
  });

  it('concurrent requests are ordered: a read issued after a write sees it', async () => {
    const path = fresh('concurrent.qcow2');
    await createDisk({ path, sizeBytes: 8 << 20 });
    const disk = await openDisk(path);
    const rng = new Rng(11);
    const model = new Uint8Array(8 << 20);
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 64; i++) {
      const off = rng.int(8 << 11) * 512;
      const len = Math.min((1 + rng.int(64)) * 512, (8 << 20) - off);
      const data = rng.bytes(len);
      model.set(data, off);
      pending.push(disk.write(off, data));
      const snapshot = model.slice(off, off + len);
      pending.push(disk.read(off, len).then((got) => expect(Buffer.from(got).equals(Buffer.from(snapshot))).toBe(true)));
    }
    pending.push(disk.flush());
    await Promise.all(pending);
    await verifyAll(disk, model);
    await disk.close();
    expectQemuClean(path, model);
  });
});

describe('qcow2 backing files', () => {
  it('overlay reads through, copies partial clusters on write, leaves the base alone, zeros past its end', async () => {
    const base = fresh('base.qcow2');
    const baseSize = 3 << 20;
    await createDisk({ path: base, sizeBytes: baseSize });
    const rng = new Rng(99);
    const baseModel = rng.bytes(baseSize);
    const b = await openDisk(base);
    await b.write(0, baseModel);
    await b.close();
    const baseBytes = readFileSync(base);

    // Relative name: resolved against the overlay's directory, not the process's cwd.
    const overlay = fresh('overlay.qcow2');
    const overlaySize = 5 << 20;
    await createDisk({ path: overlay, sizeBytes: overlaySize, backing: base.split('/').pop()! });
    const model = new Uint8Array(overlaySize);
    model.set(baseModel);
    const o = (await openDisk(overlay)) as Qcow2Backend;
    expect(o.backingFile).toBe(base.split('/').pop());
    await verifyAll(o, model);
    // Partial-cluster writes inside the base, straddling its end, and past it.
    for (const [off, len] of [
      [512, 1024],
      [65536 * 3 - 512, 2048],
      [baseSize - 1024, 4096],
      [baseSize + 65536 + 512, 512],
    ] as const) {
      const data = rng.bytes(len);
      await o.write(off, data);
      model.set(data, off);
    }
    await runWorkload(o, model, rng, { ops: 150, maxLength: 96 << 10, boundary: 65536 });
    await verifyAll(o, model);
    await o.close();
    expect(readFileSync(base).equals(baseBytes)).toBe(true);
    expectQemuClean(overlay, model);
  });

  it('a raw base and a three-level chain', async () => {
    const rawBase = fresh('base.raw');
    const size = 2 << 20;
    await createDisk({ path: rawBase, sizeBytes: size, format: 'raw' });
    const rng = new Rng(5);
    const model = rng.bytes(size);
    writeFileSync(rawBase, model);
    const mid = fresh('mid.qcow2');
    await createDisk({ path: mid, backing: rawBase });
    const top = fresh('top.qcow2');
    await createDisk({ path: top, backing: mid });
    const m = await openDisk(mid);
    expect(m.size).toBe(size); // size taken from the backing file
    const midData = rng.bytes(70000 - (70000 % 512));
    await m.write(30 * 512, midData);
    model.set(midData, 30 * 512);
    await m.close();
    const t = await openDisk(top);
    const topData = rng.bytes(1024);
    await t.write(65536 + 4096, topData);
    model.set(topData, 65536 + 4096);
    await verifyAll(t, model);
    await t.close();
    expectQemuClean(top, model);
    expectQemuClean(mid);
  });

  it('refuses a missing backing file and a backing loop at open, naming the file', async () => {
    const base = fresh('gone.qcow2');
    await createDisk({ path: base, sizeBytes: 1 << 20 });
    const over = fresh('orphan.qcow2');
    await createDisk({ path: over, backing: base });
    rmSync(base);
    await expect(openDisk(over)).rejects.toThrow(/orphan\.qcow2: cannot open backing file: .*gone\.qcow2: no such file/);

    // a -> b -> a: create b backed by a, then point a at b by rewriting a's header.
    const a = fresh('loop-a.qcow2');
    const bPath = fresh('loop-b.qcow2');
    await createDisk({ path: a, sizeBytes: 1 << 20 });
    await createDisk({ path: bPath, backing: a });
    rmSync(a);
    await createQcow2Image(a, { size: 1 << 20, backingFile: bPath, backingFormat: 'qcow2' });
    await expect(openDisk(a)).rejects.toThrow(/backing chain loops back/);
  });
});
