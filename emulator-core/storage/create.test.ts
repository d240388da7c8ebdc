import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../errors.js';
import { createDisk, detectDiskFormat, openDisk, parseSize } from './create.js';
import type { Qcow2Backend } from './qcow2.js';
import { HAVE_QEMU_IMG, makeTempDir, qemuCheck, qemuInfo, warnSkip } from '../../test/support/storage/qemu-tools.js';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());
let counter = 0;
const fresh = (name: string): string => join(tmp.dir, `${counter++}-${name}`);

describe('parseSize', () => {
  it.each([
    ['20G', 20 * 1024 ** 3],
    ['512M', 512 * 1024 ** 2],
    ['1T', 1024 ** 4],
    ['100K', 102400],
    ['100k', 102400],
    ['1048576', 1048576],
    ['1.5G', 1.5 * 1024 ** 3],
    ['10GiB', 10 * 1024 ** 3],
    ['10GB', 10 * 1024 ** 3],
    [' 2P ', 2 * 1024 ** 5],
    ['512b', 512],
  ])('%s = %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'G', '-1G', '20X', '1.5', '0.1K', '20 G B', 'ten', '1e9', '9999999P', '10iB'])('refuses %j', (text) => {
    expect(() => parseSize(text)).toThrow(BadInputError);
  });
});

describe('createDisk', () => {
  it('qcow2 by default: v3, 64 KiB clusters, 16-bit refcounts', async () => {
    const path = fresh('d.qcow2');
    const r = await createDisk({ path, sizeBytes: parseSize('20G') });
    expect(r).toEqual({ path, format: 'qcow2', sizeBytes: 20 * 1024 ** 3, backing: null, backingFormat: null });
    expect(await detectDiskFormat(path)).toBe('qcow2');
    const d = (await openDisk(path)) as Qcow2Backend;
    expect([d.version, d.clusterSize, d.refcountOrder, d.size]).toEqual([3, 65536, 4, 20 * 1024 ** 3]);
    await d.close();
    if (HAVE_QEMU_IMG) expect(qemuCheck(path).status).toBe(0);
    else warnSkip('qemu-img check of a created image');
    // No temporary files left behind.
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('takes the size from the backing file, stores the name verbatim and the detected format', async () => {
    const base = fresh('base.raw');
    writeFileSync(base, new Uint8Array(3 << 20));
    const overlay = fresh('overlay.qcow2');
    const r = await createDisk({ path: overlay, backing: base });
    expect(r.sizeBytes).toBe(3 << 20);
    expect(r.backingFormat).toBe('raw');
    const d = (await openDisk(overlay, { readOnly: true })) as Qcow2Backend;
    expect(d.backingFile).toBe(base);
    await d.close();
    // A relative name is relative to the overlay's directory.
    const rel = fresh('rel.qcow2');
    await createDisk({ path: rel, backing: base.split('/').pop()!, sizeBytes: 8 << 20 });
    if (HAVE_QEMU_IMG) {
      const info = qemuInfo(rel);
      expect(info['backing-filename']).toBe(base.split('/').pop());
      expect(info['full-backing-filename']).toBe(base);
      expect(info['virtual-size']).toBe(8 << 20);
    }
  });

  it('refuses to overwrite, with the file untouched', async () => {
    const path = fresh('exists.qcow2');
    writeFileSync(path, 'precious');
    await expect(createDisk({ path, sizeBytes: 1 << 20 })).rejects.toThrow(/exists\.qcow2: file already exists; refusing to overwrite it/);
    await expect(createDisk({ path, sizeBytes: 1 << 20, format: 'raw' })).rejects.toBeInstanceOf(BadInputError);
    expect(readFileSync(path, 'utf8')).toBe('precious');
  });

  it.each([
    ['no size and no backing', { format: 'qcow2' as const }, /a size is required/],
    ['size zero', { sizeBytes: 0 }, /invalid size 0/],
    ['size not a multiple of 512', { sizeBytes: 1000 }, /not a multiple of 512/],
    ['fractional size', { sizeBytes: 1.5 }, /invalid size/],
    ['absurd qcow2 size', { sizeBytes: 2 ** 52 }, /larger than the qcow2 limit/],
    ['raw with a backing file', { sizeBytes: 1 << 20, format: 'raw' as const, backing: 'x' }, /raw images cannot have a backing file/],
    ['missing backing file', { backing: 'no-such-base.qcow2' }, /backing file unusable: .*no-such-base\.qcow2: no such file/],
    ['unknown format', { sizeBytes: 1 << 20, format: 'vmdk' as unknown as 'raw' }, /unknown disk format 'vmdk'/],
  ])('refuses %s', async (_what, opts, message) => {
    const path = fresh('bad.qcow2');
    const err = await createDisk({ path, ...opts }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as Error).message).toMatch(message);
    expect(readdirSync(tmp.dir).some((f) => f.endsWith('bad.qcow2'))).toBe(false);
  });

  it('refuses a missing directory and an image backed by itself', async () => {
    await expect(createDisk({ path: join(tmp.dir, 'no', 'such', 'dir.qcow2'), sizeBytes: 1 << 20 })).rejects.toThrow(/directory .* does not exist/);
    const self = fresh('self.qcow2');
    await expect(createDisk({ path: self, backing: self })).rejects.toThrow(/cannot be its own backing file/);
  });

  it('openDisk honours an explicit format over probing', async () => {
    const path = fresh('fmt.qcow2');
    await createDisk({ path, sizeBytes: 1 << 20 });
    const asRaw = await openDisk(path, { format: 'raw', readOnly: true });
    expect(asRaw.format).toBe('raw');
    expect(asRaw.size).toBe(readFileSync(path).length);
    await asRaw.close();
  });
});
