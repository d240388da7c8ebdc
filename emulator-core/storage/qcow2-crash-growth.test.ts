/** qcow2 crash safety while the refcount table grows (its own file so vitest runs it in parallel). */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createQcow2Image } from './create.js';
import { crashTest, fixedWrite, preload, randomWrites } from '../../test/support/storage/crash-harness.js';
import { HAVE_QEMU, makeTempDir, warnSkip } from '../../test/support/storage/qemu-tools.js';

if (!HAVE_QEMU) warnSkip('qcow2 crash-safety tests (qcow2-crash-growth.test.ts)');

const tmp = makeTempDir('terrarium-crash-growth-');
afterAll(() => tmp.cleanup());

describe.skipIf(!HAVE_QEMU)('qcow2 crash safety (cut after every write and sync)', () => {
  it('512-byte clusters, 64-bit refcounts: crash while growing the refcount table', async () => {
    const dir = join(tmp.dir, 's2');
    mkdirSync(dir);
    const image = join(dir, 'img.qcow2');
    await createQcow2Image(image, { size: 4 << 20, clusterBits: 9, refcountOrder: 6 });
    // Coverage is 64 entries x 64 clusters x 512 bytes = 2 MiB of host space; fill most of it.
    await preload(image, 1850 << 10, 2);
    const before = readFileSync(image).readUInt32BE(56);
    const r = await crashTest({
      dir,
      image,
      seed: 7,
      phases: [fixedWrite(2 << 20, 256 << 10), randomWrites(4, 4 << 20, 8)],
    });
    expect(readFileSync(image).readUInt32BE(56)).toBeGreaterThan(before); // the table did grow
    console.log(`crash scenario 2: ${r.ops} I/O operations, ${r.images} distinct crashed images checked`);
  });

});
