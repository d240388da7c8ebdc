import { describe, expect, it } from 'vitest';
import { AtaDisk } from './ata-disk.js';
import { BM_ST_ACTIVE, BM_ST_ERROR, BM_ST_INT } from './bmdma.js';
import { CMD, ER_ABRT, ER_UNC, ST_BSY, ST_DRDY, ST_DRQ, ST_DSC, ST_ERR } from './constants.js';
import { IdeRig, MemoryBackend, eio, pattern } from '../../../test/support/ide.js';

const TABLE = 0x8000;

function setup(backend = new MemoryBackend(new Uint8Array(8 << 20))): { rig: IdeRig; backend: MemoryBackend } {
  for (let s = 0; s < 4096; s++) backend.data.set(pattern(s, 512), s * 512);
  const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: new AtaDisk(backend) }] });
  return { rig, backend };
}

function expected(lba: number, count: number): Buffer {
  const out = Buffer.alloc(count * 512);
  for (let s = 0; s < count; s++) out.set(pattern(lba + s, 512), s * 512);
  return out;
}

describe('bus-master DMA', () => {
  it('reads through a PRD table straight into guest memory (libata order: command, then START)', async () => {
    const { rig, backend } = setup();
    // Three regions, one crossing a page boundary, one of an odd page offset.
    const regions: [number, number][] = [
      [0x20000, 4096],
      [0x30f00, 2048],
      [0x50000, 8192 - 4096 - 2048],
    ];
    rig.writePrd(TABLE, regions);
    rig.setupDma(0, TABLE, true);
    const edges = rig.edges[14];
    rig.issue(0, 0, CMD.READ_DMA, { lba: 100, count: 16 });
    expect(rig.altStatus(0)).toBe(ST_DRDY | ST_DSC | ST_DRQ); // waiting for the engine
    expect(backend.log).toEqual([]);
    rig.startDma(0);
    expect(rig.inb(rig.bm(0, 2)) & BM_ST_ACTIVE).toBe(BM_ST_ACTIVE);
    await rig.idle();
    // Completion: INTERRUPT set, ACTIVE clear (the table ended with the transfer), IRQ raised.
    expect(rig.inb(rig.bm(0, 2)) & (BM_ST_ACTIVE | BM_ST_INT | BM_ST_ERROR)).toBe(BM_ST_INT);
    expect(rig.edges[14]).toBe(edges + 1);
    rig.stopDma(0);
    expect(rig.status(0)).toBe(ST_DRDY | ST_DSC);
    expect(rig.levels[14]).toBe(false);
    const want = expected(100, 16);
    let off = 0;
    for (const [addr, len] of regions) {
      expect(Buffer.from(rig.memory.readBytes(addr, len)).equals(want.subarray(off, off + len))).toBe(true);
      off += len;
    }
    expect(backend.log).toEqual(['read 100+16']);
    // INTERRUPT is write-one-to-clear.
    rig.outb(rig.bm(0, 2), BM_ST_INT);
    expect(rig.inb(rig.bm(0, 2)) & BM_ST_INT).toBe(0);
  });

  it('starts when START came first, too, and writes from guest memory', async () => {
    const { rig, backend } = setup();
    const data = Buffer.alloc(3 * 512);
    for (let i = 0; i < data.length; i++) data[i] = (i * 3) & 0xff;
    rig.memory.writeBytes(0x40000, data);
    rig.writePrd(TABLE, [[0x40000, data.length]]);
    rig.setupDma(0, TABLE, false);
    rig.startDma(0);
    rig.issue(0, 0, CMD.WRITE_DMA_EXT, { lba: 2000, count: 3, lba48: true });
    await rig.idle();
    expect(rig.inb(rig.bm(0, 2)) & (BM_ST_ACTIVE | BM_ST_INT)).toBe(BM_ST_INT);
    expect(rig.status(0)).toBe(ST_DRDY | ST_DSC);
    expect(Buffer.from(backend.data.subarray(2000 * 512, 2003 * 512)).equals(data)).toBe(true);
  });

  it('a PRD table longer than the transfer leaves ACTIVE set; a zero count means 64 KiB', async () => {
    const { rig } = setup();
    rig.memory.write32(TABLE, 0x60000);
    rig.memory.write32(TABLE + 4, 0x80000000); // 64 KiB, end of table
    rig.setupDma(0, TABLE, true);
    rig.issue(0, 0, CMD.READ_DMA, { lba: 0, count: 8 });
    rig.startDma(0);
    await rig.idle();
    expect(rig.inb(rig.bm(0, 2)) & (BM_ST_ACTIVE | BM_ST_INT)).toBe(BM_ST_ACTIVE | BM_ST_INT);
    expect(Buffer.from(rig.memory.readBytes(0x60000, 4096)).equals(expected(0, 8))).toBe(true);
    rig.stopDma(0);
    expect(rig.inb(rig.bm(0, 2)) & BM_ST_ACTIVE).toBe(0);

    // The whole 64 KiB region, exactly: ACTIVE drops.
    rig.setupDma(0, TABLE, true);
    rig.issue(0, 0, CMD.READ_DMA, { lba: 0, count: 128 });
    rig.startDma(0);
    await rig.idle();
    expect(rig.inb(rig.bm(0, 2)) & (BM_ST_ACTIVE | BM_ST_INT)).toBe(BM_ST_INT);
    expect(Buffer.from(rig.memory.readBytes(0x60000, 65536)).equals(expected(0, 128))).toBe(true);
  });

  it('a PRD table shorter than the transfer stops the engine without an interrupt and moves nothing', async () => {
    const { rig, backend } = setup();
    rig.writePrd(TABLE, [[0x20000, 1024]]);
    rig.setupDma(0, TABLE, false);
    const edges = rig.edges[14];
    rig.issue(0, 0, CMD.WRITE_DMA, { lba: 10, count: 4 });
    rig.startDma(0);
    await rig.idle();
    expect(rig.inb(rig.bm(0, 2)) & (BM_ST_ACTIVE | BM_ST_INT)).toBe(0);
    expect(rig.edges[14]).toBe(edges);
    expect(rig.altStatus(0)).toBe(ST_DRDY | ST_ERR);
    expect(rig.error(0)).toBe(ER_ABRT);
    expect(backend.log).toEqual([]);
    // The channel accepts the next command.
    rig.stopDma(0);
    rig.writePrd(TABLE, [[0x20000, 2048]]);
    rig.setupDma(0, TABLE, true);
    rig.issue(0, 0, CMD.READ_DMA, { lba: 10, count: 4 });
    rig.startDma(0);
    await rig.idle();
    expect(rig.status(0)).toBe(ST_DRDY | ST_DSC);
  });

  it('transfers larger than one backend request go in chunks into the right places', async () => {
    const backend = new MemoryBackend(new Uint8Array(16 << 20));
    const { rig } = setup(backend);
    for (let s = 0; s < 32768; s++) backend.data.set(pattern(s, 512), s * 512);
    // 6000 sectors (about 3 MiB) in 64 KiB regions, as libata builds them.
    const count = 6000;
    const regions: [number, number][] = [];
    for (let off = 0; off < count * 512; off += 65536) regions.push([0x100000 + off, Math.min(65536, count * 512 - off)]);
    rig.writePrd(TABLE, regions);
    rig.setupDma(0, TABLE, true);
    rig.issue(0, 0, CMD.READ_DMA_EXT, { lba: 1234, count, lba48: true });
    rig.startDma(0);
    await rig.idle();
    expect(rig.status(0)).toBe(ST_DRDY | ST_DSC);
    expect(Buffer.from(rig.memory.readBytes(0x100000, count * 512)).equals(expected(1234, count))).toBe(true);
    expect(backend.log).toEqual(['read 1234+4096', 'read 5330+1904']);
  });

  it('a host read error mid-DMA ends with ERR, UNC, INTERRUPT and the IRQ', async () => {
    const backend = new MemoryBackend(new Uint8Array(8 << 20), { fault: (op) => (op === 'read' ? eio('pread') : null) });
    const { rig } = setup(backend);
    rig.writePrd(TABLE, [[0x20000, 4096]]);
    rig.setupDma(0, TABLE, true);
    const edges = rig.edges[14];
    rig.issue(0, 0, CMD.READ_DMA, { lba: 0, count: 8 });
    rig.startDma(0);
    await rig.idle();
    expect(rig.inb(rig.bm(0, 2)) & (BM_ST_ACTIVE | BM_ST_INT | BM_ST_ERROR)).toBe(BM_ST_INT);
    expect(rig.edges[14]).toBe(edges + 1);
    expect(rig.status(0)).toBe(ST_DRDY | ST_ERR);
    expect(rig.error(0)).toBe(ER_UNC);
    expect(rig.memory.readBytes(0x20000, 4096).every((b) => b === 0)).toBe(true);
  });

  it('clearing START mid-transfer lets the request finish (no partial write), as on QEMU', async () => {
    const backend = new MemoryBackend(new Uint8Array(8 << 20), { hold: true });
    const { rig } = setup(backend);
    backend.hold = true;
    rig.memory.u8.fill(0x77, 0x20000, 0x21000);
    rig.writePrd(TABLE, [[0x20000, 4096]]);
    rig.setupDma(0, TABLE, false);
    rig.issue(0, 0, CMD.WRITE_DMA, { lba: 40, count: 8 });
    rig.startDma(0);
    await new Promise((r) => setImmediate(r));
    expect(rig.altStatus(0) & ST_BSY).toBe(ST_BSY);
    rig.stopDma(0);
    expect(rig.inb(rig.bm(0, 2)) & BM_ST_ACTIVE).toBe(0);
    backend.release(true);
    await rig.idle();
    expect(backend.data.subarray(40 * 512, 48 * 512).every((b) => b === 0x77)).toBe(true);
    expect(rig.status(0)).toBe(ST_DRDY | ST_DSC);
  });

  it('INTERRUPT latches rising edges of the channel line, PIO ones too, not while nIEN masks it', async () => {
    const { rig } = setup();
    rig.outb(rig.bm(0, 2), 0x06);
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 0, count: 1 });
    await rig.waitNotBusy(0);
    expect(rig.inb(rig.bm(0, 2)) & BM_ST_INT).toBe(BM_ST_INT);
    rig.readData(0, 512);
    rig.outb(rig.bm(0, 2), 0x06);
    rig.outb(0x3f6, 0x02); // nIEN
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 0, count: 1 });
    await rig.waitNotBusy(0);
    expect(rig.inb(rig.bm(0, 2)) & BM_ST_INT).toBe(0);
    expect(rig.levels[14]).toBe(false);
    // Pending INTRQ shows once nIEN is cleared.
    rig.outb(0x3f6, 0x00);
    expect(rig.levels[14]).toBe(true);
    expect(rig.inb(rig.bm(0, 2)) & BM_ST_INT).toBe(BM_ST_INT);
    rig.status(0);
    expect(rig.levels[14]).toBe(false);
  });

  it('registers: byte, word and dword access; PRD address is dword aligned; drive-capable bits stick', () => {
    const { rig } = setup();
    rig.outl(rig.bm(1, 4), 0x12345677);
    expect(rig.inl(rig.bm(1, 4))).toBe(0x12345674);
    rig.outw(rig.bm(1, 6), 0xabcd);
    expect(rig.inl(rig.bm(1, 4))).toBe(0xabcd5674);
    rig.outb(rig.bm(1, 2), 0x60);
    expect(rig.inb(rig.bm(1, 2))).toBe(0x60);
    rig.outb(rig.bm(1, 0), 0xff);
    expect(rig.inb(rig.bm(1, 0))).toBe(0x09);
    expect(rig.inb(rig.bm(1, 2)) & BM_ST_ACTIVE).toBe(BM_ST_ACTIVE);
    expect(rig.inb(rig.bm(0, 0))).toBe(0); // channels are separate
    rig.outb(rig.bm(1, 0), 0x00);
    expect(rig.inb(rig.bm(1, 2))).toBe(0x60);
  });
});
