import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDisk, openDisk } from '../../storage/create.js';
import type { BlockBackend } from '../../storage/block-backend.js';
import { AtaDisk } from './ata-disk.js';
import { CMD, ER_ABRT, ER_IDNF, ER_UNC, ST_BSY, ST_DRDY, ST_DRQ, ST_DSC, ST_ERR } from './constants.js';
import { IdeRig, MemoryBackend, eio, pattern, tempDir } from '../../../test/support/ide.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let counter = 0;
const fresh = (name: string): string => join(tmp.dir, `${counter++}-${name}`);

function diskRig(backend: BlockBackend, options: ConstructorParameters<typeof AtaDisk>[1] = {}): { rig: IdeRig; disk: AtaDisk } {
  const disk = new AtaDisk(backend, options);
  return { rig: new IdeRig({ drives: [{ channel: 0, unit: 0, drive: disk }] }), disk };
}

function words(id: Uint8Array): Uint16Array {
  return new Uint16Array(id.buffer, id.byteOffset, 256);
}

function ataString(id: Uint16Array, word: number, count: number): string {
  let s = '';
  for (let i = 0; i < count; i++) s += String.fromCharCode(id[word + i] >>> 8, id[word + i] & 0xff);
  return s.trimEnd();
}

async function identify(rig: IdeRig, ch: 0 | 1 = 0, unit: 0 | 1 = 0): Promise<Uint16Array> {
  rig.issue(ch, unit, CMD.IDENTIFY_DEVICE);
  return words(await rig.pioIn(ch, 512, 512));
}

describe('ATA disk: IDENTIFY DEVICE', () => {
  it('reports model, serial, firmware, capacities and feature words', async () => {
    const size = 64 * 1024 * 1024;
    const { rig } = diskRig(new MemoryBackend(new Uint8Array(size), { path: '/vm/disk.img' }));
    const edgesBefore = rig.edges[14];
    const id = await identify(rig);
    expect(rig.edges[14]).toBe(edgesBefore + 1); // one DRQ block, one interrupt
    expect(rig.status(0) & (ST_BSY | ST_DRQ | ST_ERR)).toBe(0);
    expect(id[0]).toBe(0x0040);
    expect(ataString(id, 27, 20)).toBe('TERRARIUM HARDDISK');
    expect(ataString(id, 10, 10)).toMatch(/^TRHD[0-9A-F]{8}$/);
    expect(ataString(id, 23, 4)).toBe('1.0');
    const sectors = size / 512;
    expect(id[60] | (id[61] << 16)).toBe(sectors);
    expect(id[100] + id[101] * 0x10000).toBe(sectors);
    expect(id[102] | id[103]).toBe(0);
    expect(id[47]).toBe(0x8010);
    expect(id[49] & 0x0300).toBe(0x0300); // LBA and DMA
    expect(id[53] & 0x0004).toBe(0x0004); // word 88 valid
    expect(id[63] & 0x0007).toBe(0x0007); // MWDMA 0-2
    expect(id[88] & 0x003f).toBe(0x003f); // UDMA 0-5
    expect(id[82] & (1 << 5)).not.toBe(0); // write cache supported
    expect(id[85] & (1 << 5)).not.toBe(0); // ... and enabled
    expect(id[83] & 0xc000).toBe(0x4000);
    expect(id[83] & ((1 << 13) | (1 << 12) | (1 << 10))).toBe((1 << 13) | (1 << 12) | (1 << 10)); // flush ext, flush, 48-bit
    expect(id[86] & ((1 << 13) | (1 << 12) | (1 << 10))).toBe((1 << 13) | (1 << 12) | (1 << 10));
    // Integrity word: signature and a checksum making all bytes sum to zero.
    expect(id[255] & 0xff).toBe(0xa5);
    const bytes = new Uint8Array(id.buffer, id.byteOffset, 512);
    expect(bytes.reduce((s, b) => s + b, 0) & 0xff).toBe(0);
    // The serial is stable for the same image.
    const again = diskRig(new MemoryBackend(new Uint8Array(size), { path: '/vm/disk.img' }));
    expect(ataString(await identify(again.rig), 10, 10)).toBe(ataString(id, 10, 10));
  });

  it('caps the LBA28 capacity at 0x0FFFFFFF and the CHS geometry at 16383/16/63', async () => {
    const sectors = 2 ** 29;
    const backend = new MemoryBackend(new Uint8Array(512), { path: 'big' });
    Object.defineProperty(backend, 'size', { value: sectors * 512 });
    const { rig } = diskRig(backend);
    const id = await identify(rig);
    expect(id[60] | (id[61] << 16)).toBe(0x0fffffff);
    expect(id[100] + id[101] * 0x10000).toBe(sectors);
    expect([id[1], id[3], id[6]]).toEqual([16383, 16, 63]);
  });

  it('SET FEATURES changes write cache and transfer mode as IDENTIFY reports them', async () => {
    const { rig, disk } = diskRig(new MemoryBackend(new Uint8Array(1 << 20)));
    rig.issue(0, 0, CMD.SET_FEATURES, { feature: 0x82 });
    await rig.waitNotBusy(0);
    expect(rig.status(0) & ST_ERR).toBe(0);
    expect(disk.writeCacheEnabled).toBe(false);
    expect((await identify(rig))[85] & (1 << 5)).toBe(0);
    rig.issue(0, 0, CMD.SET_FEATURES, { feature: 0x03, count: 0x22 }); // MWDMA 2
    await rig.waitNotBusy(0);
    expect((await identify(rig))[63] >>> 8).toBe(0x04);
    rig.issue(0, 0, CMD.SET_FEATURES, { feature: 0x03, count: 0x44 }); // UDMA 4
    await rig.waitNotBusy(0);
    const id = await identify(rig);
    expect(id[88] >>> 8).toBe(0x10);
    expect(id[63] >>> 8).toBe(0);
    rig.issue(0, 0, CMD.SET_FEATURES, { feature: 0x03, count: 0x47 }); // UDMA 7: not supported
    await rig.waitNotBusy(0);
    expect(rig.status(0) & ST_ERR).toBe(ST_ERR);
    expect(rig.error(0)).toBe(ER_ABRT);
    rig.issue(0, 0, CMD.SET_FEATURES, { feature: 0x02 });
    await rig.waitNotBusy(0);
    expect(disk.writeCacheEnabled).toBe(true);
    rig.issue(0, 0, CMD.SET_FEATURES, { feature: 0x77 });
    await rig.waitNotBusy(0);
    expect(rig.error(0)).toBe(ER_ABRT);
  });
});

async function pioRoundTrip(backend: BlockBackend): Promise<void> {
  const { rig } = diskRig(backend);
  // 300 sectors cross the 128 KiB request size, so two backend requests serve one command.
  const count = 300;
  const lba = 1000;
  const data = new Uint8Array(count * 512);
  for (let s = 0; s < count; s++) data.set(pattern(lba + s, 512), s * 512);
  // 28-bit commands move at most 256 sectors; use two.
  rig.issue(0, 0, CMD.WRITE_SECTORS, { lba, count: 256 });
  await rig.pioOut(0, data.subarray(0, 256 * 512), 512);
  let st = await rig.waitNotBusy(0);
  expect(st & (ST_ERR | ST_DRQ)).toBe(0);
  rig.issue(0, 0, CMD.WRITE_SECTORS_EXT, { lba: lba + 256, count: count - 256, lba48: true });
  await rig.pioOut(0, data.subarray(256 * 512), 512);
  st = await rig.waitNotBusy(0);
  expect(st & (ST_ERR | ST_DRQ)).toBe(0);

  rig.issue(0, 0, CMD.READ_SECTORS_EXT, { lba, count, lba48: true });
  const got = await rig.pioIn(0, count * 512, 512);
  expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
  expect(rig.status(0) & (ST_BSY | ST_DRQ | ST_ERR)).toBe(0);
  rig.issue(0, 0, CMD.READ_SECTORS, { lba: lba + 255, count: 2 });
  const two = await rig.pioIn(0, 1024, 512);
  expect(Buffer.from(two).equals(Buffer.from(data.subarray(255 * 512, 257 * 512)))).toBe(true);
}

describe('ATA disk: PIO', () => {
  it('round trips on a raw image', async () => {
    const path = fresh('pio.raw');
    await createDisk({ path, sizeBytes: 8 << 20, format: 'raw' });
    const backend = await openDisk(path, { format: 'raw' });
    await pioRoundTrip(backend);
    await backend.close();
    const reopened = await openDisk(path, { format: 'raw' });
    expect(Buffer.from(await reopened.read(1000 * 512, 512)).equals(Buffer.from(pattern(1000, 512)))).toBe(true);
    await reopened.close();
  });

  it('round trips on a qcow2 image', async () => {
    const path = fresh('pio.qcow2');
    await createDisk({ path, sizeBytes: 8 << 20, format: 'qcow2' });
    const backend = await openDisk(path, { format: 'qcow2' });
    await pioRoundTrip(backend);
    await backend.close();
    const reopened = await openDisk(path, { format: 'qcow2' });
    expect(Buffer.from(await reopened.read(1299 * 512, 512)).equals(Buffer.from(pattern(1299, 512)))).toBe(true);
    await reopened.close();
  });

  it('interrupts before every read block and not after the last; one backend request per command', async () => {
    const backend = new MemoryBackend(new Uint8Array(1 << 20));
    for (let s = 0; s < 64; s++) backend.data.set(pattern(s, 512), s * 512);
    const { rig } = diskRig(backend);
    const edges = rig.edges[14];
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 10, count: 8 });
    expect(rig.altStatus(0) & ST_BSY).toBe(ST_BSY); // fetching from the backend
    const got = await rig.pioIn(0, 8 * 512, 512);
    expect(rig.edges[14] - edges).toBe(8);
    expect(rig.altStatus(0)).toBe(ST_DRDY | ST_DSC);
    expect(backend.log).toEqual(['read 10+8']);
    for (let s = 0; s < 8; s++) expect(got[s * 512]).toBe(10 + s);
    // The registers point past the last sector, as QEMU leaves them.
    expect([rig.reg(0, 2), rig.reg(0, 3)]).toEqual([0, 18]);
  });

  it('write: no interrupt before the first block, one after each later block and at completion', async () => {
    const backend = new MemoryBackend(new Uint8Array(1 << 20));
    const { rig } = diskRig(backend);
    const edges = rig.edges[14];
    rig.issue(0, 0, CMD.WRITE_SECTORS, { lba: 3, count: 4 });
    expect(rig.altStatus(0) & ST_DRQ).toBe(ST_DRQ);
    expect(rig.edges[14]).toBe(edges);
    const data = new Uint8Array(4 * 512).map((_, i) => i & 0xff);
    await rig.pioOut(0, data, 512);
    await rig.waitNotBusy(0);
    expect(rig.edges[14] - edges).toBe(4);
    expect(backend.log).toEqual(['write 3+4']);
    expect(Buffer.from(backend.data.subarray(3 * 512, 7 * 512)).equals(Buffer.from(data))).toBe(true);
  });

  it('32-bit data port accesses move two words at a time', async () => {
    const backend = new MemoryBackend(new Uint8Array(1 << 20));
    backend.data.set(pattern(5, 512), 5 * 512);
    const { rig } = diskRig(backend);
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 5, count: 1 });
    await rig.waitNotBusy(0);
    expect(Buffer.from(rig.readData(0, 512, true)).equals(Buffer.from(pattern(5, 512)))).toBe(true);
    rig.issue(0, 0, CMD.WRITE_SECTORS, { lba: 6, count: 1 });
    await rig.waitNotBusy(0);
    rig.writeData(0, pattern(66, 512), true);
    await rig.waitNotBusy(0);
    expect(Buffer.from(backend.data.subarray(6 * 512, 7 * 512)).equals(Buffer.from(pattern(66, 512)))).toBe(true);
  });

  it('READ/WRITE MULTIPLE use the SET MULTIPLE MODE block size', async () => {
    const backend = new MemoryBackend(new Uint8Array(1 << 20));
    const { rig } = diskRig(backend);
    rig.issue(0, 0, CMD.SET_MULTIPLE_MODE, { count: 3 }); // not a power of two
    await rig.waitNotBusy(0);
    expect(rig.error(0)).toBe(ER_ABRT);
    rig.issue(0, 0, CMD.SET_MULTIPLE_MODE, { count: 4 });
    await rig.waitNotBusy(0);
    expect(rig.status(0) & ST_ERR).toBe(0);
    expect((await identify(rig))[59]).toBe(0x0104);

    const data = new Uint8Array(10 * 512).map((_, i) => (i * 13) & 0xff);
    let edges = rig.edges[14];
    rig.issue(0, 0, CMD.WRITE_MULTIPLE, { lba: 20, count: 10 });
    await rig.pioOut(0, data, 4 * 512); // blocks of 4, 4, 2 sectors
    await rig.waitNotBusy(0);
    expect(rig.edges[14] - edges).toBe(3);
    expect(rig.status(0) & ST_ERR).toBe(0);

    edges = rig.edges[14];
    rig.issue(0, 0, CMD.READ_MULTIPLE_EXT, { lba: 20, count: 10, lba48: true });
    const got = await rig.pioIn(0, 10 * 512, 4 * 512);
    expect(rig.edges[14] - edges).toBe(3);
    expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);

    rig.issue(0, 0, CMD.SET_MULTIPLE_MODE, { count: 0 }); // off: MULTIPLE commands abort
    await rig.waitNotBusy(0);
    rig.issue(0, 0, CMD.READ_MULTIPLE, { lba: 0, count: 1 });
    await rig.waitNotBusy(0);
    expect(rig.error(0)).toBe(ER_ABRT);
  });

  it('CHS addressing follows INITIALIZE DEVICE PARAMETERS', async () => {
    const backend = new MemoryBackend(new Uint8Array(4 << 20));
    for (let s = 0; s < 8192; s++) backend.data.set(pattern(s, 512), s * 512);
    const { rig } = diskRig(backend);
    // Default translation 16 heads x 63 sectors: C=1 H=2 S=5 is LBA (1*16+2)*63+4.
    rig.outb(0x1f5, 0);
    rig.issue(0, 0, CMD.READ_SECTORS, { count: 1, chs: true, lba: 0 });
    await rig.waitNotBusy(0);
    expect(rig.error(0)).toBe(ER_IDNF); // sector number 0 does not exist
    rig.outb(0x1f6, 0xa0 | 2);
    rig.outb(0x1f2, 1);
    rig.outb(0x1f3, 5);
    rig.outb(0x1f4, 1);
    rig.outb(0x1f5, 0);
    rig.outb(0x1f7, CMD.READ_SECTORS);
    let got = await rig.pioIn(0, 512, 512);
    expect(got[0] | (got[1] << 8)).toBe((1 * 16 + 2) * 63 + 4);
    // 4 heads, 17 sectors per track (head count - 1 in the device register).
    rig.outb(0x1f6, 0xa0 | 3);
    rig.outb(0x1f2, 17);
    rig.outb(0x1f7, CMD.INITIALIZE_DEVICE_PARAMETERS);
    await rig.waitNotBusy(0);
    expect(rig.status(0) & ST_ERR).toBe(0);
    const id = await identify(rig);
    expect([id[55], id[56]]).toEqual([4, 17]);
    rig.outb(0x1f6, 0xa0 | 2);
    rig.outb(0x1f2, 1);
    rig.outb(0x1f3, 5);
    rig.outb(0x1f4, 1);
    rig.outb(0x1f5, 0);
    rig.outb(0x1f7, CMD.READ_SECTORS);
    got = await rig.pioIn(0, 512, 512);
    expect(got[0] | (got[1] << 8)).toBe((1 * 4 + 2) * 17 + 4);
  });
});

describe('ATA disk: 48-bit addressing', () => {
  it('reads and writes beyond 128 GiB on a sparse raw image', async () => {
    const path = fresh('big.raw');
    const size = 200 * 1024 ** 3;
    await createDisk({ path, sizeBytes: size, format: 'raw' });
    const backend = await openDisk(path, { format: 'raw' });
    const { rig } = diskRig(backend);
    const id = await identify(rig);
    expect(id[100] + id[101] * 0x10000 + id[102] * 0x100000000).toBe(size / 512);
    const lba = 2 ** 28 + 12345; // past the 28-bit limit (128 GiB)
    const data = new Uint8Array(3 * 512);
    for (let s = 0; s < 3; s++) data.set(pattern(lba + s, 512), s * 512);
    rig.issue(0, 0, CMD.WRITE_SECTORS_EXT, { lba, count: 3, lba48: true });
    await rig.pioOut(0, data, 512);
    expect((await rig.waitNotBusy(0)) & ST_ERR).toBe(0);
    rig.issue(0, 0, CMD.READ_SECTORS_EXT, { lba, count: 3, lba48: true });
    expect(Buffer.from(await rig.pioIn(0, 3 * 512, 512)).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(await backend.read(lba * 512, 3 * 512)).equals(Buffer.from(data))).toBe(true);
    // The HOB registers hold the upper address bytes after the command (next sector).
    rig.outb(0x3f6, 0x80);
    expect(rig.reg(0, 3)).toBe(Math.floor((lba + 3) / 0x1000000) & 0xff);
    rig.outb(0x3f6, 0x00);
    // The last sector of the disk, and one past it.
    const last = size / 512 - 1;
    rig.issue(0, 0, CMD.READ_SECTORS_EXT, { lba: last, count: 1, lba48: true });
    await rig.pioIn(0, 512, 512);
    rig.issue(0, 0, CMD.READ_SECTORS_EXT, { lba: last, count: 2, lba48: true });
    const st = await rig.waitNotBusy(0);
    expect(st & ST_ERR).toBe(ST_ERR);
    expect(rig.error(0)).toBe(ER_IDNF);
    await backend.close();
  });

  it('READ NATIVE MAX ADDRESS (EXT) returns the last sector', async () => {
    const sectors = 2 ** 28 + 100;
    const backend = new MemoryBackend(new Uint8Array(512));
    Object.defineProperty(backend, 'size', { value: sectors * 512 });
    const { rig } = diskRig(backend);
    rig.issue(0, 0, CMD.READ_NATIVE_MAX_EXT, { lba48: true });
    await rig.waitNotBusy(0);
    expect(rig.status(0) & ST_ERR).toBe(0);
    const low = rig.reg(0, 3) | (rig.reg(0, 4) << 8) | (rig.reg(0, 5) << 16);
    rig.outb(0x3f6, 0x80);
    const high = rig.reg(0, 3) | (rig.reg(0, 4) << 8) | (rig.reg(0, 5) << 16);
    rig.outb(0x3f6, 0);
    expect(high * 0x1000000 + low).toBe(sectors - 1);
    rig.issue(0, 0, CMD.READ_NATIVE_MAX);
    await rig.waitNotBusy(0);
    const lba28 = rig.reg(0, 3) | (rig.reg(0, 4) << 8) | (rig.reg(0, 5) << 16) | ((rig.reg(0, 6) & 0x0f) << 24);
    expect(lba28).toBe(0x0fffffff);
  });
});

describe('ATA disk: flush and write cache', () => {
  it('FLUSH CACHE completes only after the backend flush resolves, after the writes before it', async () => {
    const backend = new MemoryBackend(new Uint8Array(1 << 20));
    const { rig } = diskRig(backend);
    rig.issue(0, 0, CMD.WRITE_SECTORS, { lba: 1, count: 1 });
    await rig.pioOut(0, pattern(1, 512), 512);
    await rig.waitNotBusy(0);
    backend.hold = true;
    const edges = rig.edges[14];
    rig.issue(0, 0, CMD.FLUSH_CACHE_EXT);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(rig.altStatus(0) & ST_BSY).toBe(ST_BSY);
    expect(rig.edges[14]).toBe(edges);
    expect(rig.ctrl.pendingIo).toBe(1);
    // The guest may poll; commands are ignored while busy.
    rig.issue(0, 0, CMD.IDENTIFY_DEVICE);
    expect(rig.altStatus(0) & ST_BSY).toBe(ST_BSY);
    backend.hold = false;
    backend.release();
    const st = await rig.waitNotBusy(0);
    expect(st & ST_ERR).toBe(0);
    expect(rig.edges[14]).toBe(edges + 1);
    expect(backend.log).toEqual(['write 1+1', 'flush', 'flushed']);
    expect(rig.ctrl.pendingIo).toBe(0);
  });

  it('with the write cache off every write is flushed before it completes', async () => {
    const backend = new MemoryBackend(new Uint8Array(1 << 20));
    const { rig } = diskRig(backend, { writeCache: false });
    rig.issue(0, 0, CMD.WRITE_SECTORS, { lba: 7, count: 2 });
    await rig.pioOut(0, new Uint8Array(1024).fill(9), 512);
    await rig.waitNotBusy(0);
    rig.memory.u8.fill(0x5a, 0x10000, 0x10000 + 4096);
    rig.writePrd(0x8000, [[0x10000, 4096]]);
    rig.setupDma(0, 0x8000, false);
    rig.issue(0, 0, CMD.WRITE_DMA, { lba: 20, count: 8 });
    rig.startDma(0);
    await rig.waitNotBusy(0);
    rig.stopDma(0);
    expect(backend.log).toEqual(['write 7+2', 'flush', 'flushed', 'write 20+8', 'flush', 'flushed']);
    expect(backend.data[20 * 512]).toBe(0x5a);
  });

  it('turning the write cache off flushes what it held', async () => {
    const backend = new MemoryBackend(new Uint8Array(1 << 20));
    const { rig } = diskRig(backend);
    rig.issue(0, 0, CMD.WRITE_SECTORS, { lba: 1, count: 1 });
    await rig.pioOut(0, pattern(1, 512), 512);
    await rig.waitNotBusy(0);
    rig.issue(0, 0, CMD.SET_FEATURES, { feature: 0x82 });
    await rig.waitNotBusy(0);
    expect(backend.log).toEqual(['write 1+1', 'flush', 'flushed']);
  });

  it('a failing flush reports ABRT and the disk keeps working', async () => {
    const backend = new MemoryBackend(new Uint8Array(1 << 20), { fault: (op) => (op === 'flush' ? eio('fdatasync') : null) });
    const { rig } = diskRig(backend);
    rig.issue(0, 0, CMD.FLUSH_CACHE);
    const st = await rig.waitNotBusy(0);
    expect(st & ST_ERR).toBe(ST_ERR);
    expect(rig.error(0)).toBe(ER_ABRT);
    expect(rig.hostErrors.map((e) => e.site.op)).toEqual(['flush']);
    rig.issue(0, 0, CMD.IDENTIFY_DEVICE);
    await rig.pioIn(0, 512, 512);
  });

  it('writes reach the backend in issue order, even across a reset while one is in flight', async () => {
    const backend = new MemoryBackend(new Uint8Array(1 << 20), { hold: true });
    const { rig } = diskRig(backend);
    rig.issue(0, 0, CMD.WRITE_SECTORS, { lba: 50, count: 1 });
    rig.writeData(0, new Uint8Array(512).fill(1));
    expect(rig.altStatus(0) & ST_BSY).toBe(ST_BSY);
    await new Promise((r) => setImmediate(r));
    expect(backend.heldCount).toBe(1);
    // The driver gives up and resets the channel; the first write is still in flight.
    rig.outb(0x3f6, 0x04);
    rig.outb(0x3f6, 0x00);
    expect(rig.altStatus(0) & ST_BSY).toBe(0);
    rig.issue(0, 0, CMD.WRITE_SECTORS, { lba: 50, count: 1 });
    rig.writeData(0, new Uint8Array(512).fill(2));
    await new Promise((r) => setImmediate(r));
    // The second request waits for the first to settle before it reaches the backend.
    expect(backend.log).toEqual(['write 50+1']);
    expect(rig.ctrl.pendingIo).toBe(2);
    backend.release();
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(backend.log).toEqual(['write 50+1', 'write 50+1']);
    backend.release();
    await rig.idle();
    expect(backend.data[50 * 512]).toBe(2);
    expect(rig.status(0) & ST_ERR).toBe(0);
  });
});

describe('ATA disk: errors', () => {
  it('out-of-range LBAs fail with IDNF and the failing address', async () => {
    const backend = new MemoryBackend(new Uint8Array(1 << 20)); // 2048 sectors
    const { rig } = diskRig(backend);
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 2040, count: 16 });
    const st = await rig.waitNotBusy(0);
    expect(st).toBe(ST_DRDY | ST_ERR);
    expect(rig.error(0)).toBe(ER_IDNF);
    expect(rig.reg(0, 3) | (rig.reg(0, 4) << 8)).toBe(2048);
    rig.issue(0, 0, CMD.WRITE_DMA_EXT, { lba: 5000, count: 1, lba48: true });
    await rig.waitNotBusy(0);
    expect(rig.error(0)).toBe(ER_IDNF);
    rig.issue(0, 0, CMD.READ_VERIFY, { lba: 2047, count: 2 });
    await rig.waitNotBusy(0);
    expect(rig.error(0)).toBe(ER_IDNF);
    rig.issue(0, 0, CMD.READ_VERIFY, { lba: 2040, count: 8 });
    await rig.waitNotBusy(0);
    expect(rig.status(0) & ST_ERR).toBe(0);
    expect(backend.log).toEqual([]);
  });

  it('a host read error is UNC with the failing sector; the next command works', async () => {
    let failures = 1;
    const backend = new MemoryBackend(new Uint8Array(1 << 20), {
      fault: (op) => (op === 'read' && failures-- > 0 ? eio('pread') : null),
    });
    backend.data.set(pattern(30, 512), 30 * 512);
    const { rig } = diskRig(backend);
    const edges = rig.edges[14];
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 30, count: 4 });
    const st = await rig.waitNotBusy(0);
    expect(st).toBe(ST_DRDY | ST_ERR);
    expect(rig.error(0)).toBe(ER_UNC);
    expect(rig.reg(0, 3)).toBe(30);
    expect(rig.edges[14]).toBe(edges + 1);
    expect(rig.hostErrors).toHaveLength(1);
    expect(rig.hostErrors[0].site).toEqual({ channel: 0, unit: 0, op: 'read' });
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 30, count: 1 });
    expect((await rig.pioIn(0, 512, 512))[0]).toBe(30);
  });

  it('a host write error is ABRT; read-only backends refuse writes up front', async () => {
    const backend = new MemoryBackend(new Uint8Array(1 << 20), { fault: (op) => (op === 'write' ? eio('pwrite') : null) });
    const { rig } = diskRig(backend);
    rig.issue(0, 0, CMD.WRITE_SECTORS, { lba: 2, count: 1 });
    await rig.pioOut(0, new Uint8Array(512), 512);
    expect(await rig.waitNotBusy(0)).toBe(ST_DRDY | ST_ERR);
    expect(rig.error(0)).toBe(ER_ABRT);

    const ro = diskRig(new MemoryBackend(new Uint8Array(1 << 20), { readOnly: true }));
    ro.rig.issue(0, 0, CMD.WRITE_SECTORS, { lba: 2, count: 1 });
    expect(await ro.rig.waitNotBusy(0)).toBe(ST_DRDY | ST_ERR);
    expect(ro.rig.error(0)).toBe(ER_ABRT);
  });

  it('a backend that throws synchronously or rejects with a non-Error still ends the command', async () => {
    const backend = new MemoryBackend(new Uint8Array(1 << 20));
    backend.read = (): Promise<Uint8Array> => {
      throw new Error('boom');
    };
    const { rig } = diskRig(backend);
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 0, count: 1 });
    expect(await rig.waitNotBusy(0)).toBe(ST_DRDY | ST_ERR);
    expect(rig.error(0)).toBe(ER_UNC);
    backend.read = (): Promise<Uint8Array> => Promise.reject(undefined);
    rig.issue(0, 0, CMD.READ_DMA, { lba: 0, count: 1 });
    rig.writePrd(0x8000, [[0x10000, 512]]);
    rig.setupDma(0, 0x8000, true);
    rig.startDma(0);
    expect(await rig.waitNotBusy(0)).toBe(ST_DRDY | ST_ERR);
    expect(rig.error(0)).toBe(ER_UNC);
  });

  it('unsupported and packet commands abort', async () => {
    const { rig } = diskRig(new MemoryBackend(new Uint8Array(1 << 20)));
    for (const cmd of [CMD.NOP, CMD.PACKET, CMD.IDENTIFY_PACKET_DEVICE, CMD.DEVICE_RESET, 0xb0, 0xff]) {
      rig.issue(0, 0, cmd);
      expect(await rig.waitNotBusy(0)).toBe(ST_DRDY | ST_ERR);
      expect(rig.error(0)).toBe(ER_ABRT);
      // The signature stays ATA: no LBA mid/high change for a disk.
      expect(rig.reg(0, 5)).not.toBe(0xeb);
    }
  });
});

describe('ATA disk: power and misc commands', () => {
  it('CHECK POWER MODE follows STANDBY and IDLE; SEEK and RECALIBRATE complete', async () => {
    const { rig } = diskRig(new MemoryBackend(new Uint8Array(1 << 20)));
    const power = async (): Promise<number> => {
      rig.issue(0, 0, CMD.CHECK_POWER_MODE);
      await rig.waitNotBusy(0);
      return rig.reg(0, 2);
    };
    expect(await power()).toBe(0xff);
    rig.issue(0, 0, CMD.STANDBY_IMMEDIATE);
    await rig.waitNotBusy(0);
    expect(await power()).toBe(0x00);
    rig.issue(0, 0, CMD.IDLE_IMMEDIATE);
    await rig.waitNotBusy(0);
    expect(await power()).toBe(0x80);
    rig.issue(0, 0, CMD.READ_VERIFY, { lba: 0, count: 1 });
    await rig.waitNotBusy(0);
    expect(await power()).toBe(0xff);
    rig.issue(0, 0, 0x70, { lba: 100 });
    expect((await rig.waitNotBusy(0)) & ST_ERR).toBe(0);
    rig.issue(0, 0, 0x70, { lba: 99999 });
    await rig.waitNotBusy(0);
    expect(rig.error(0)).toBe(ER_IDNF);
    rig.issue(0, 0, 0x10);
    expect((await rig.waitNotBusy(0)) & ST_ERR).toBe(0);
  });
});

describe('ATA disk: REP INSW/OUTSW through the bulk data-port path', () => {
  it('reads and writes sectors in whole runs, the same bytes as word accesses', async () => {
    const image = new Uint8Array(1024 * 1024);
    for (let s = 0; s < 8; s++) image.set(pattern(s, 512), s * 512);
    const { rig } = diskRig(new MemoryBackend(image));
    const port = 0x1f0;
    // Read 4 sectors: the first 100 words one at a time, the rest as REP INSW would.
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 2, count: 4 });
    const got = new Uint8Array(2048);
    for (let sector = 0; sector < 4; sector++) {
      await rig.waitNotBusy(0);
      expect(rig.status(0) & ST_DRQ).toBe(ST_DRQ);
      let off = sector * 512;
      if (sector === 0) {
        for (let i = 0; i < 100; i++, off += 2) new DataView(got.buffer).setUint16(off, rig.inw(port), true);
      }
      // A run stops at the end of the DRQ block, as the protocol requires.
      const n = rig.io.readString(port, 2, got, off, 10_000);
      expect(n).toBe((sector * 512 + 512 - off) / 2);
    }
    await rig.waitNotBusy(0);
    expect(rig.status(0) & (ST_DRQ | ST_ERR)).toBe(0);
    for (let s = 0; s < 4; s++) expect(got.subarray(s * 512, s * 512 + 512)).toEqual(pattern(s + 2, 512));

    // Write 2 sectors with REP OUTSD-style runs; read them back through the single-word path.
    const data = new Uint8Array(1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    rig.issue(0, 0, CMD.WRITE_SECTORS, { lba: 6, count: 2 });
    for (let sector = 0; sector < 2; sector++) {
      await rig.waitNotBusy(0);
      expect(rig.io.writeString(port, 4, data, sector * 512, 128)).toBe(128);
    }
    await rig.waitNotBusy(0);
    await rig.idle();
    expect(rig.status(0) & ST_ERR).toBe(0);
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 6, count: 2 });
    expect(await rig.pioIn(0, 1024, 512)).toEqual(data);
  });
});
