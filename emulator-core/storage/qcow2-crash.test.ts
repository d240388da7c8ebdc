/**
 * qcow2 crash safety: scenarios replayed by crash-harness.ts (see there for the method),
 * and EIO injected at every write.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostError } from '../errors.js';
import { createDisk, createQcow2Image } from './create.js';
import {
  appendGarbage,
  crashTest,
  expectPlausible,
  fixedWrite,
  phases,
  preload,
  randomWrites,
  readAll,
} from '../../test/support/storage/crash-harness.js';
import type { ImageFile } from './image-file.js';
import { Qcow2Backend } from './qcow2.js';
import { HAVE_QEMU, Rng, makeTempDir, qemuCheck, qemuImg, qemuIo, warnSkip } from '../../test/support/storage/qemu-tools.js';

if (!HAVE_QEMU) warnSkip('qcow2 crash-safety tests (qcow2-crash.test.ts)');

const tmp = makeTempDir('terrarium-crash-');
afterAll(() => tmp.cleanup());

describe.skipIf(!HAVE_QEMU)('qcow2 crash safety (cut after every write and sync)', () => {
  it('4 KiB-cluster image: new L2 tables over stale bytes, a new refcount block, cache evictions mid-request', async () => {
    const dir = join(tmp.dir, 's1');
    mkdirSync(dir);
    const image = join(dir, 'img.qcow2');
    const size = 12 << 20;
    await createQcow2Image(image, { size, clusterBits: 12 });
    // ~7.8 MiB of data: the next allocations cross the first refcount block's 8 MiB of host space.
    await preload(image, 8000 << 10, 1);
    appendGarbage(image, 512 << 10, 1);
    const refblocks = (): number => {
      const f = readFileSync(image);
      const rt = Number(f.readBigUInt64BE(48));
      let n = 0;
      for (let i = 0; i < 8; i++) if (f.readBigUInt64BE(rt + i * 8) !== 0n) n++;
      return n;
    };
    expect(refblocks()).toBe(1);
    const r = await crashTest({
      dir,
      image,
      open: { l2CacheTables: 2, refcountCacheBlocks: 2 },
      seed: 42,
      phases: [
        fixedWrite(8 << 20, 192 << 10), // sequential, crosses into a new refcount block
        randomWrites(6, size, 24), // scattered, several L2 tables, partial clusters
        phases(fixedWrite(64 << 10, 8192), fixedWrite((10 << 20) + 1024, 3072)), // in place + new
      ],
    });
    expect(refblocks()).toBe(2);
    console.log(`crash scenario 1: ${r.ops} I/O operations, ${r.images} distinct crashed images checked`);
  });

  it('qemu-made image with compressed and zero clusters and a bitmap: COW, frees, autoclear', async () => {
    const dir = join(tmp.dir, 's3');
    mkdirSync(dir);
    const image = join(dir, 'img.qcow2');
    expect(qemuImg('create', '-q', '-f', 'qcow2', image, '4M').status).toBe(0);
    const io = qemuIo(
      image,
      'qcow2',
      'write -P 0x11 0 128k',
      'write -c -P 0x22 1M 64k',
      'write -c -P 0x23 1088k 64k',
      'write -P 0x33 2M 64k',
      'write -z 2M 64k',
      'write -z 3M 64k',
    );
    expect(io.status, io.stdout + io.stderr).toBe(0);
    expect(qemuImg('bitmap', '--add', image, 'bm0').status).toBe(0);
    const r = await crashTest({
      dir,
      image,
      seed: 3,
      phases: [
        phases(fixedWrite((1 << 20) + 4096, 4096), fixedWrite((2 << 20) + 512, 1024), fixedWrite((3 << 20) + 8192, 512)),
        phases(fixedWrite((1088 << 10) + 512, 512), randomWrites(3, 4 << 20, 16)),
        randomWrites(3, 4 << 20, 16),
      ],
    });
    console.log(`crash scenario 3: ${r.ops} I/O operations, ${r.images} distinct crashed images checked`);
  });

  it('overlay on a raw backing file: copy-on-write of partial clusters, allocating over stale bytes', async () => {
    const dir = join(tmp.dir, 's4');
    mkdirSync(dir);
    const base = join(dir, 'base.raw');
    writeFileSync(base, new Rng(9).bytes(3 << 20));
    const image = join(dir, 'img.qcow2');
    await createDisk({ path: image, sizeBytes: 4 << 20, backing: 'base.raw' });
    appendGarbage(image, 256 << 10, 4);
    const r = await crashTest({
      dir,
      image,
      seed: 11,
      phases: [randomWrites(5, 4 << 20, 40), phases(fixedWrite((3 << 20) - 1024, 4096), randomWrites(3, 4 << 20, 40))],
    });
    console.log(`crash scenario 4: ${r.ops} I/O operations, ${r.images} distinct crashed images checked`);
  });

  it('qemu-made version 2 image', async () => {
    const dir = join(tmp.dir, 's5');
    mkdirSync(dir);
    const image = join(dir, 'img.qcow2');
    expect(qemuImg('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10,cluster_size=4096', image, '4M').status).toBe(0);
    expect(qemuIo(image, 'qcow2', 'write -P 0x61 0 256k', 'write -c -P 0x62 512k 4k').status).toBe(0);
    const r = await crashTest({
      dir,
      image,
      seed: 5,
      phases: [phases(fixedWrite((512 << 10) + 1024, 1024), randomWrites(5, 4 << 20, 16)), randomWrites(4, 4 << 20, 16)],
    });
    console.log(`crash scenario 5: ${r.ops} I/O operations, ${r.images} distinct crashed images checked`);
  });
});

/** Fails exactly one write (the n-th) with EIO, as a flaky disk or a full one would. */
class FailingFile implements ImageFile {
  writes = 0;
  failed = false;
  readonly path: string;
  constructor(
    private readonly inner: ImageFile,
    private readonly failAt: number,
  ) {
    this.path = inner.path;
  }
  read(target: Uint8Array, position: number): Promise<number> {
    return this.inner.read(target, position);
  }
  async write(data: Uint8Array, position: number): Promise<void> {
    if (++this.writes === this.failAt) {
      this.failed = true;
      throw new HostError(`${this.path}: write failed: EIO (injected)`, { path: this.path, offset: position });
    }
    return this.inner.write(data, position);
  }
  sync(): Promise<void> {
    return this.inner.sync();
  }
  size(): Promise<number> {
    return this.inner.size();
  }
  truncate(): Promise<void> {
    throw new Error('unexpected truncate');
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe.skipIf(!HAVE_QEMU)('qcow2 I/O errors', () => {
  it('a failed write at any step is reported, leaves the image consistent, and later requests recover', async () => {
    const dir = join(tmp.dir, 'eio');
    mkdirSync(dir);
    const pristine = join(dir, 'pristine.qcow2');
    const size = 4 << 20;
    await createQcow2Image(pristine, { size, clusterBits: 12 });
    let total = 0;
    for (let failAt = 1; total === 0 || failAt <= total; failAt++) {
      const image = join(dir, `img-${failAt}.qcow2`);
      copyFileSync(pristine, image);
      let file: FailingFile | null = null;
      const disk = await Qcow2Backend.open(image, { l2CacheTables: 2, wrapFile: (f) => (file = new FailingFile(f, failAt)) });
      const rng = new Rng(77);
      const model = new Uint8Array(size);
      let uncertain: { offset: number; data: Uint8Array } | null = null;
      let errors = 0;
      for (let i = 0; i < 24; i++) {
        const offset = rng.int(size / 512 - 40) * 512;
        const data = rng.bytes((1 + rng.int(40)) * 512);
        try {
          await disk.write(offset, data);
          model.set(data, offset);
        } catch (err) {
          expect(err).toBeInstanceOf(HostError);
          errors++;
          uncertain = { offset, data };
        }
        if (i % 6 === 5) await disk.flush().catch((err: unknown) => (expect(err).toBeInstanceOf(HostError), errors++));
      }
      await disk.close();
      const f = file as unknown as FailingFile;
      if (failAt === 1) total = f.writes;
      expect(f.failed || failAt > total).toBe(true);
      if (f.failed) expect(errors).toBeGreaterThan(0);
      const check = qemuCheck(image);
      expect([0, 3], `EIO at write ${failAt}: qemu-img check\n${check.stdout}${check.stderr}`).toContain(check.status);
      const got = await readAll(image);
      const after = model.slice();
      if (uncertain) after.set(uncertain.data, uncertain.offset);
      expectPlausible(got, model, after, `EIO at write ${failAt}`);
    }
    expect(total).toBeGreaterThan(10);
  });
});
