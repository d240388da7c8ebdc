import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError, EmulatorError } from '../errors.js';
import { SECTOR_SIZE, submitBlockRequest } from './block-backend.js';
import { createDisk, openDisk } from './create.js';
import { BlockRequestError } from './errors.js';
import { RawBackend } from './raw.js';
import { Rng, makeTempDir } from '../../test/support/storage/qemu-tools.js';
import { runWorkload, verifyAll } from '../../test/support/storage/workload.js';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());
let counter = 0;
const fresh = (name: string): string => join(tmp.dir, `${counter++}-${name}`);

describe('raw images', () => {
  it('are created sparse and read as zeros', async () => {
    const path = fresh('sparse.raw');
    await createDisk({ path, sizeBytes: 2 * 1024 ** 3, format: 'raw' });
    const st = statSync(path);
    expect(st.size).toBe(2 * 1024 ** 3);
    expect(st.blocks * 512).toBeLessThan(1 << 20);
    const d = await openDisk(path);
    expect(d.format).toBe('raw');
    expect(d.sectorSize).toBe(SECTOR_SIZE);
    const got = await d.read(1024 ** 3, 65536);
    expect(got.every((b) => b === 0)).toBe(true);
    await d.close();
  });

  it('random round trips, then the file holds exactly the model', async () => {
    const path = fresh('rt.raw');
    const size = 16 << 20;
    await createDisk({ path, sizeBytes: size, format: 'raw' });
    const d = await openDisk(path);
    const model = new Uint8Array(size);
    await runWorkload(d, model, new Rng(17), { ops: 300, maxLength: 256 << 10, boundary: 65536 });
    await verifyAll(d, model);
    await d.close();
    expect(readFileSync(path).equals(Buffer.from(model))).toBe(true);
  });

  it('a size that is not a whole number of sectors: the tail reads zero-padded, writes stop at the size', async () => {
    const path = fresh('odd.iso');
    const content = new Rng(1).bytes(4096 + 100);
    writeFileSync(path, content);
    const d = await RawBackend.open(path);
    expect(d.size).toBe(4196);
    const tail = await d.read(4096, 512);
    expect(Buffer.from(tail.subarray(0, 100)).equals(Buffer.from(content.subarray(4096)))).toBe(true);
    expect(tail.subarray(100).every((b) => b === 0)).toBe(true);
    await expect(d.write(4096, new Uint8Array(512))).rejects.toBeInstanceOf(BlockRequestError);
    await d.close();
  });
});

describe('request checks (both formats)', () => {
  for (const format of ['raw', 'qcow2'] as const) {
    it(`${format}: misaligned, negative, past-the-end, read-only and after-close requests are typed errors`, async () => {
      const path = fresh(`checks.${format}`);
      await createDisk({ path, sizeBytes: 1 << 20, format });
      const before = readFileSync(path);
      const d = await openDisk(path);
      const bad: [string, Promise<unknown>, RegExp][] = [
        ['misaligned offset', d.read(100, 512), /not aligned to 512-byte sectors/],
        ['misaligned length', d.read(0, 1000), /not aligned/],
        ['negative offset', d.read(-512, 512), /invalid read request/],
        ['read past the end', d.read((1 << 20) - 512, 1024), /goes past the end of the disk \(1048576 bytes\)/],
        ['write past the end', d.write(1 << 20, new Uint8Array(512)), /goes past the end/],
        ['misaligned write', d.write(512, new Uint8Array(100)), /not aligned/],
      ];
      for (const [what, p, message] of bad) {
        const err = await p.catch((e: unknown) => e);
        expect(err, what).toBeInstanceOf(BlockRequestError);
        expect(err, what).toBeInstanceOf(BadInputError);
        expect((err as Error).message, what).toMatch(message);
        expect((err as Error).message.startsWith(path), what).toBe(true);
        expect((err as BlockRequestError).context['path']).toBe(path);
      }
      await d.close();
      expect(readFileSync(path).equals(before)).toBe(true);

      const ro = await openDisk(path, { readOnly: true });
      expect(ro.readOnly).toBe(true);
      await expect(ro.write(0, new Uint8Array(512))).rejects.toThrow(/read-only disk/);
      await ro.flush(); // a no-op, not an error
      await ro.close();
      await expect(ro.read(0, 512)).rejects.toBeInstanceOf(EmulatorError);
      await expect(ro.read(0, 512)).rejects.toThrow(/after close/);
      expect(readFileSync(path).equals(before)).toBe(true);
    });

    it(`${format}: zero-length requests at the end are allowed; read() fills a caller's buffer`, async () => {
      const path = fresh(`edge.${format}`);
      await createDisk({ path, sizeBytes: 1 << 20, format });
      const d = await openDisk(path);
      expect((await d.read(1 << 20, 0)).length).toBe(0);
      await d.write(1 << 20, new Uint8Array(0));
      const data = new Rng(2).bytes(1536);
      await d.write(512, data);
      const target = new Uint8Array(1536);
      const same = await d.read(512, target);
      expect(same).toBe(target);
      expect(Buffer.from(target).equals(Buffer.from(data))).toBe(true);
      await d.close();
    });

    it(`${format}: submitBlockRequest completes through a callback`, async () => {
      const path = fresh(`cb.${format}`);
      await createDisk({ path, sizeBytes: 1 << 20, format });
      const d = await openDisk(path);
      const call = (req: Parameters<typeof submitBlockRequest>[1]): Promise<Error | null> =>
        new Promise((resolve) => submitBlockRequest(d, req, resolve));
      const buf = new Uint8Array(512).fill(0x42);
      expect(await call({ op: 'write', offset: 1024, buffer: buf })).toBeNull();
      expect(await call({ op: 'flush' })).toBeNull();
      const back = new Uint8Array(512);
      expect(await call({ op: 'read', offset: 1024, buffer: back })).toBeNull();
      expect(back.every((b) => b === 0x42)).toBe(true);
      expect(await call({ op: 'read', offset: 1 << 20, buffer: back })).toBeInstanceOf(BlockRequestError);
      await d.close();
    });
  }
});

describe('opening files', () => {
  it('missing files, directories and unreadable files are BadInputError naming the path', async () => {
    await expect(openDisk(join(tmp.dir, 'nope.qcow2'))).rejects.toThrow(/nope\.qcow2: no such file/);
    await expect(openDisk(tmp.dir)).rejects.toBeInstanceOf(BadInputError);
    const ro = fresh('ro.raw');
    writeFileSync(ro, new Uint8Array(4096), { mode: 0o444 });
    if (process.getuid?.() !== 0) {
      await expect(openDisk(ro)).rejects.toThrow(/permission denied opening for writing/);
    }
    const d = await openDisk(ro, { readOnly: true });
    await d.close();
  });
});
