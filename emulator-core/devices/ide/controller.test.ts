import { describe, expect, it } from 'vitest';
import type { AccessSize, PortIoHandler } from '../../bus/io-bus.js';
import { BadInputError } from '../../errors.js';
import { AtaDisk } from './ata-disk.js';
import { AtapiCdrom } from './atapi-cdrom.js';
import { BM_ST_INT } from './bmdma.js';
import { CMD, ER_ABRT, ST_BSY, ST_DRDY, ST_DRQ, ST_DSC, ST_ERR } from './constants.js';
import { IdeController } from './controller.js';
import { IdeBusyError } from './errors.js';
import { BM_BASE, IdeRig, MemoryBackend, buildIso, pattern, tick } from '../../../test/support/ide.js';

function disk(sectors = 2048, options: { hold?: boolean } = {}): AtaDisk {
  const backend = new MemoryBackend(new Uint8Array(sectors * 512), options);
  for (let s = 0; s < sectors; s++) backend.data.set(pattern(s, 512), s * 512);
  return new AtaDisk(backend);
}

describe('PIIX IDE PCI function', () => {
  it('identifies as PIIX3 (8086:7010) or PIIX4 (8086:7111), class 01 01 80', () => {
    const rig3 = new IdeRig({ firmware: false });
    expect(rig3.ctrl.configRead(0, 4)).toBe(0x70108086);
    expect(rig3.ctrl.configRead(8, 4)).toBe(0x01018000);
    expect(rig3.ctrl.configRead(0x0e, 1)).toBe(0);
    expect(rig3.ctrl.configRead(0x06, 2)).toBe(0x0280);
    const rig4 = new IdeRig({ variant: 'piix4', firmware: false });
    expect(rig4.ctrl.configRead(0, 4)).toBe(0x71118086);
    expect(rig4.ctrl.configRead(8, 4)).toBe(0x01018001);
    // The UDMA registers exist on the PIIX4 only.
    rig4.ctrl.configWrite(0x48, 1, 0xff);
    rig3.ctrl.configWrite(0x48, 1, 0xff);
    expect(rig4.ctrl.configRead(0x48, 1)).toBe(0x0f);
    expect(rig3.ctrl.configRead(0x48, 1)).toBe(0);
  });

  it('BAR4 sizes as 16 bytes of I/O and maps the bus-master registers where the guest puts it', () => {
    const rig = new IdeRig({ firmware: false });
    rig.ctrl.configWrite(0x20, 4, 0xffffffff);
    expect(rig.ctrl.configRead(0x20, 4)).toBe(0xfffffff1);
    rig.ctrl.configWrite(0x20, 4, 0xd000);
    expect(rig.ctrl.busMasterBase).toBe(-1); // I/O decoding still off
    expect(rig.inb(0xd002)).toBe(0xff);
    rig.ctrl.configWrite(0x04, 2, 0x0001);
    expect(rig.ctrl.busMasterBase).toBe(0xd000);
    rig.outl(0xd004, 0x1234);
    expect(rig.inl(0xd004)).toBe(0x1234);
    expect(rig.io.ownerOf(0xd00f)).toBe('ide');
    rig.ctrl.configWrite(0x20, 4, 0xe000);
    expect(rig.io.ownerOf(0xd000)).toBeUndefined();
    expect(rig.inl(0xe004)).toBe(0x1234);
    rig.ctrl.configWrite(0x04, 2, 0);
    expect(rig.io.ownerOf(0xe000)).toBeUndefined();
  });

  it('refuses to map BAR4 over another device and says so', () => {
    const rig = new IdeRig({ firmware: false });
    const other: PortIoHandler = { ioRead: (_p: number, _s: AccessSize) => 0x42, ioWrite: () => {} };
    rig.io.register(0xd008, 1, other, 'other');
    rig.ctrl.configWrite(0x20, 4, 0xd000);
    rig.ctrl.configWrite(0x04, 2, 0x0001);
    expect(rig.ctrl.busMasterBase).toBe(-1);
    expect(rig.inb(0xd008)).toBe(0x42);
    expect(rig.io.ownerOf(0xd000)).toBeUndefined();
    expect(rig.hostErrors.map((e) => e.site.op)).toEqual(['map']);
  });

  it('legacy ports decode while IDETIM bit 15 is set (default on, for kernels booted without firmware)', () => {
    const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: disk() }] });
    expect(rig.ctrl.configRead(0x40, 2)).toBe(0x8000);
    expect(rig.ctrl.configRead(0x42, 2)).toBe(0x8000);
    expect(rig.altStatus(0)).toBe(ST_DRDY | ST_DSC);
    rig.ctrl.configWrite(0x40, 2, 0x0000);
    expect(rig.altStatus(0)).toBe(0xff);
    rig.outb(0x1f2, 0x55);
    rig.ctrl.configWrite(0x40, 2, 0x8000);
    expect(rig.reg(0, 2)).not.toBe(0x55);
  });
});

describe('device presence as drivers probe it', () => {
  it('an empty channel reads 0 everywhere', () => {
    const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: disk() }] });
    for (let r = 1; r < 8; r++) expect(rig.reg(1, r)).toBe(0);
    rig.outb(0x172, 0x55);
    expect(rig.reg(1, 2)).toBe(0);
    expect(rig.altStatus(1)).toBe(0);
    rig.outb(0x177, CMD.IDENTIFY_DEVICE);
    expect(rig.levels[15]).toBe(false);
  });

  it('SeaBIOS: register echo, device register read-back, reset, IDENTIFY PACKET then IDENTIFY', async () => {
    const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: disk() }] });
    for (const unit of [0, 1] as const) {
      rig.outb(0x1f6, unit === 0 ? 0xa0 : 0xb0);
      expect(rig.reg(0, 6)).toBe(unit === 0 ? 0xa0 : 0xb0);
      rig.outb(0x1f2, 0x55);
      rig.outb(0x1f3, 0xaa);
      expect([rig.reg(0, 2), rig.reg(0, 3)]).toEqual([0x55, 0xaa]);
    }
    // ata_reset: pulse SRST with nIEN, wait for !BSY, select the master again.
    rig.outb(0x1f6, 0xa0);
    rig.outb(0x3f6, 0x0e);
    expect(rig.altStatus(0) & ST_BSY).toBe(ST_BSY);
    rig.outb(0x3f6, 0x0a);
    rig.outb(0x1f6, 0xa0);
    expect(rig.status(0)).toBe(ST_DRDY | ST_DSC);
    // IDENTIFY PACKET DEVICE to a disk aborts; IDENTIFY DEVICE then works.
    rig.issue(0, 0, CMD.IDENTIFY_PACKET_DEVICE);
    expect(await rig.waitNotBusy(0)).toBe(ST_DRDY | ST_ERR);
    rig.issue(0, 0, CMD.IDENTIFY_DEVICE);
    const id = new Uint16Array((await rig.pioIn(0, 512, 512)).buffer);
    // Word 93 says device 0 answers for a missing device 1: SeaBIOS skips the slave.
    expect(id[93] & 0xdf61).toBe(0x4041);
    // The slave position: echoes registers (shadowed) but status reads 0, commands are ignored.
    rig.select(0, 1);
    expect(rig.status(0)).toBe(0);
    rig.outb(0x1f7, CMD.IDENTIFY_PACKET_DEVICE);
    expect(rig.status(0)).toBe(0);
    expect(rig.error(0)).toBe(0);
  });

  it('Linux libata: devchk, softreset, classify by signature (ATA master, ATAPI slave)', async () => {
    const rig = new IdeRig({
      drives: [
        { channel: 0, unit: 0, drive: disk() },
        { channel: 0, unit: 1, drive: new AtapiCdrom({ medium: new MemoryBackend(buildIso(40), { readOnly: true }) }) },
      ],
    });
    const devchk = (unit: 0 | 1): boolean => {
      rig.select(0, unit);
      rig.outb(0x1f2, 0x55);
      rig.outb(0x1f3, 0xaa);
      rig.outb(0x1f2, 0xaa);
      rig.outb(0x1f3, 0x55);
      rig.outb(0x1f2, 0x55);
      rig.outb(0x1f3, 0xaa);
      return rig.reg(0, 2) === 0x55 && rig.reg(0, 3) === 0xaa;
    };
    expect([devchk(0), devchk(1)]).toEqual([true, true]);
    const edges = rig.edges[14];
    rig.outb(0x3f6, 0x08);
    rig.outb(0x3f6, 0x0c);
    rig.outb(0x3f6, 0x08);
    expect(rig.edges[14]).toBe(edges); // a reset posts no interrupt
    const classify = (unit: 0 | 1): { err: number; lbam: number; lbah: number; status: number } => {
      rig.select(0, unit);
      return { err: rig.error(0), lbam: rig.reg(0, 4), lbah: rig.reg(0, 5), status: rig.status(0) };
    };
    expect(classify(0)).toEqual({ err: 1, lbam: 0, lbah: 0, status: ST_DRDY | ST_DSC });
    expect(classify(1)).toEqual({ err: 1, lbam: 0x14, lbah: 0xeb, status: 0 });
    rig.select(0, 1);
    expect([rig.reg(0, 2), rig.reg(0, 3)]).toEqual([1, 1]);
    // IDENTIFY of each, word 93 reporting each other.
    rig.issue(0, 0, CMD.IDENTIFY_DEVICE);
    const id0 = new Uint16Array((await rig.pioIn(0, 512, 512)).buffer);
    expect(id0[93] & 0x0060).toBe(0x0020);
    rig.issue(0, 1, CMD.IDENTIFY_PACKET_DEVICE);
    const id1 = new Uint16Array((await rig.pioIn(0, 512, 512)).buffer);
    expect(id1[93] & 0x0100).toBe(0x0100);
  });

  it('Linux with a missing slave: a polled IDENTIFY finds status 0 without DRQ (a phantom)', async () => {
    const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: disk() }] });
    rig.outb(0x3f6, 0x0c);
    rig.outb(0x3f6, 0x08);
    rig.select(0, 1);
    expect([rig.reg(0, 4), rig.reg(0, 5)]).toEqual([0xff, 0xff]);
    expect(rig.error(0)).toBe(0);
    rig.outb(0x3f6, 0x0a); // polling: nIEN
    rig.outb(0x1f7, CMD.IDENTIFY_DEVICE);
    await tick();
    expect(rig.altStatus(0) & (ST_BSY | ST_DRQ)).toBe(0);
    expect(rig.levels[14]).toBe(false);
  });

  it('EXECUTE DEVICE DIAGNOSTIC posts both signatures and interrupts', async () => {
    const rig = new IdeRig({
      drives: [
        { channel: 1, unit: 0, drive: disk() },
        { channel: 1, unit: 1, drive: new AtapiCdrom() },
      ],
    });
    rig.outb(0x172, 0x33);
    const edges = rig.edges[15];
    rig.issue(1, 0, CMD.EXECUTE_DEVICE_DIAGNOSTIC);
    expect(rig.edges[15]).toBe(edges + 1);
    expect(rig.status(1)).toBe(ST_DRDY | ST_DSC);
    expect([rig.error(1), rig.reg(1, 2), rig.reg(1, 4)]).toEqual([1, 1, 0]);
    rig.select(1, 1);
    expect([rig.error(1), rig.reg(1, 4), rig.reg(1, 5)]).toEqual([1, 0x14, 0xeb]);
  });
});

describe('register file', () => {
  it('HOB reads the previous value of each 48-bit register; any register write clears HOB', () => {
    const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: disk() }] });
    for (let r = 2; r <= 5; r++) {
      rig.outb(0x1f0 + r, 0x10 + r);
      rig.outb(0x1f0 + r, 0x20 + r);
    }
    rig.outb(0x3f6, 0x80);
    expect([2, 3, 4, 5].map((r) => rig.reg(0, r))).toEqual([0x12, 0x13, 0x14, 0x15]);
    rig.outb(0x1f1, 0);
    expect([2, 3, 4, 5].map((r) => rig.reg(0, r))).toEqual([0x22, 0x23, 0x24, 0x25]);
  });

  it('writes are ignored while the selected device is busy or has DRQ set', async () => {
    const d = disk(2048, { hold: true });
    const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: d }] });
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 5, count: 1 });
    expect(rig.altStatus(0) & ST_BSY).toBe(ST_BSY);
    rig.outb(0x1f3, 0x99);
    rig.outb(0x1f6, 0xb0); // cannot switch devices either
    (d.backend as MemoryBackend).releaseAll();
    await rig.idle();
    expect(rig.altStatus(0) & ST_DRQ).toBe(ST_DRQ);
    rig.outb(0x1f3, 0x99);
    rig.outb(0x1f7, CMD.IDENTIFY_DEVICE); // ignored: DRQ
    expect(rig.readData(0, 512)[0]).toBe(5);
    expect(rig.reg(0, 3)).toBe(6);
  });

  it('a bug in a drive ends the command with ABRT and is reported; the machine goes on', async () => {
    class BuggyDisk extends AtaDisk {
      override transferDone(): void {
        throw new Error('bug in transferDone');
      }
    }
    const backend = new MemoryBackend(new Uint8Array(1 << 20));
    const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: new BuggyDisk(backend) }] });
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 0, count: 1 });
    await rig.waitNotBusy(0);
    rig.status(0);
    expect(() => rig.readData(0, 512)).not.toThrow();
    expect(rig.altStatus(0)).toBe(ST_DRDY | ST_ERR);
    expect(rig.error(0)).toBe(ER_ABRT);
    expect(rig.hostErrors.map((e) => e.site.op)).toEqual(['command']);
    rig.writePrd(0x8000, [[0x20000, 512]]);
    rig.setupDma(0, 0x8000, true);
    rig.issue(0, 0, CMD.READ_DMA, { lba: 0, count: 1 });
    rig.startDma(0);
    await rig.idle();
    expect(rig.status(0)).toBe(ST_DRDY | ST_ERR);
    expect(rig.hostErrors).toHaveLength(2);
  });

  it('a command clears the pending interrupt; status reads acknowledge it, alternate status does not', async () => {
    const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: disk() }] });
    rig.issue(0, 0, CMD.CHECK_POWER_MODE);
    expect(rig.levels[14]).toBe(true);
    rig.altStatus(0);
    expect(rig.levels[14]).toBe(true);
    rig.issue(0, 0, CMD.SET_FEATURES, { feature: 0x99 }); // aborts, interrupts again
    expect(rig.levels[14]).toBe(true);
    expect(rig.status(0)).toBe(ST_DRDY | ST_ERR);
    expect(rig.levels[14]).toBe(false);
    expect(rig.error(0)).toBe(ER_ABRT);
  });
});

describe('asynchronous I/O signal, reset and snapshots', () => {
  it('pendingIo, onIoSettled and whenIdle track requests; the channels run independently', async () => {
    const a = disk(2048, { hold: true });
    const b = disk(2048, { hold: true });
    const rig = new IdeRig({
      drives: [
        { channel: 0, unit: 0, drive: a },
        { channel: 1, unit: 0, drive: b },
      ],
    });
    let settled = 0;
    rig.ctrl.onIoSettled = () => settled++;
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 1, count: 1 });
    rig.issue(1, 0, CMD.READ_SECTORS, { lba: 2, count: 1 });
    expect(rig.ctrl.pendingIo).toBe(2);
    let idle = false;
    void rig.ctrl.whenIdle().then(() => (idle = true));
    (b.backend as MemoryBackend).releaseAll();
    await tick();
    await tick();
    expect([rig.ctrl.pendingIo, settled, idle]).toEqual([1, 1, false]);
    expect(rig.altStatus(1) & ST_DRQ).toBe(ST_DRQ);
    (a.backend as MemoryBackend).releaseAll();
    await rig.idle();
    expect([rig.ctrl.pendingIo, settled, idle]).toEqual([0, 2, true]);
  });

  it('save() refuses while requests are in flight, with a typed error', async () => {
    const d = disk(2048, { hold: true });
    const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: d }] });
    rig.issue(0, 0, CMD.FLUSH_CACHE);
    expect(() => rig.ctrl.save()).toThrow(IdeBusyError);
    (d.backend as MemoryBackend).releaseAll();
    await rig.ctrl.whenIdle();
    expect(() => rig.ctrl.save()).not.toThrow();
  });

  it('a snapshot in the middle of a PIO read continues in a new controller', async () => {
    const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: disk() }] });
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 40, count: 3 });
    await rig.waitNotBusy(0);
    rig.status(0);
    const first = rig.readData(0, 512 + 100);
    const state = JSON.parse(JSON.stringify(rig.ctrl.save())) as ReturnType<IdeController['save']>;

    const rig2 = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: disk() }], firmware: false });
    rig2.ctrl.restore(state);
    expect(rig2.ctrl.busMasterBase).toBe(BM_BASE);
    expect(rig2.altStatus(0) & ST_DRQ).toBe(ST_DRQ);
    const rest = rig2.readData(0, 512 - 100);
    const all = Buffer.concat([first, rest, await rig2.pioIn(0, 512, 512)]);
    const want = Buffer.concat([pattern(40, 512), pattern(41, 512), pattern(42, 512)]);
    expect(all.equals(want)).toBe(true);
  });

  it('a snapshot while a DMA command waits for START, and one in the ATAPI packet phase', async () => {
    const rig = new IdeRig({
      drives: [
        { channel: 0, unit: 0, drive: disk() },
        { channel: 1, unit: 0, drive: new AtapiCdrom({ medium: new MemoryBackend(buildIso(40), { readOnly: true }) }) },
      ],
    });
    rig.writePrd(0x8000, [[0x20000, 1024]]);
    rig.setupDma(0, 0x8000, true);
    rig.issue(0, 0, CMD.READ_DMA, { lba: 7, count: 2 });
    rig.select(1, 0);
    rig.outb(0x174, 0x00);
    rig.outb(0x175, 0x08);
    rig.outb(0x177, CMD.PACKET);
    rig.writeData(1, Uint8Array.of(0x28, 0, 0, 0, 0, 16, 0, 0)); // 8 of 12 bytes
    const state = JSON.parse(JSON.stringify(rig.ctrl.save())) as ReturnType<IdeController['save']>;

    const cd = new AtapiCdrom({ medium: new MemoryBackend(buildIso(40), { readOnly: true }) });
    const rig2 = new IdeRig({
      drives: [
        { channel: 0, unit: 0, drive: disk() },
        { channel: 1, unit: 0, drive: cd },
      ],
    });
    rig2.ctrl.restore(state);
    rig2.writePrd(0x8000, [[0x20000, 1024]]); // guest memory is the machine's to restore
    rig2.startDma(0);
    await rig2.idle();
    expect(rig2.status(0)).toBe(ST_DRDY | ST_DSC);
    expect(Buffer.from(rig2.memory.readBytes(0x20000, 1024)).equals(Buffer.concat([pattern(7, 512), pattern(8, 512)]))).toBe(true);
    rig2.writeData(1, Uint8Array.of(1, 0, 0, 0)); // transfer length 1, then the rest of the packet
    await rig2.waitNotBusy(1);
    rig2.status(1);
    const data = rig2.readData(1, 2048);
    expect(new TextDecoder().decode(data.subarray(1, 6))).toBe('CD001');
  });

  it('restore() rejects a bad snapshot with a named field and changes nothing', () => {
    const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: disk() }] });
    const good = rig.ctrl.save();
    const other = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: new AtapiCdrom() }] });
    expect(() => other.ctrl.restore(good)).toThrow(/drives\[0\]\.kind/);
    const bad = JSON.parse(JSON.stringify(good)) as { channels: { tfs: { regs: number[] }[] }[] };
    bad.channels[0].tfs[0].regs[11] = 300;
    rig.outb(0x1f2, 0x42);
    expect(() => rig.ctrl.restore(bad as unknown as ReturnType<IdeController['save']>)).toThrow(BadInputError);
    expect(rig.reg(0, 2)).toBe(0x42);
    expect(() => rig.ctrl.restore({ version: 2 })).toThrow(/version/);
  });

  it('a machine reset drops a read in flight: guest memory is not written afterwards', async () => {
    const d = disk(2048, { hold: true });
    const rig = new IdeRig({ drives: [{ channel: 0, unit: 0, drive: d }] });
    rig.writePrd(0x8000, [[0x20000, 512]]);
    rig.setupDma(0, 0x8000, true);
    rig.issue(0, 0, CMD.READ_DMA, { lba: 9, count: 1 });
    rig.startDma(0);
    await tick();
    rig.ctrl.reset();
    expect(rig.ctrl.configRead(0x04, 2)).toBe(0);
    expect(rig.altStatus(0)).toBe(ST_DRDY | ST_DSC);
    expect(rig.ctrl.pendingIo).toBe(1);
    (d.backend as MemoryBackend).releaseAll();
    await rig.idle();
    expect(rig.memory.readBytes(0x20000, 512).every((b) => b === 0)).toBe(true);
    expect(rig.levels[14]).toBe(false);
    expect(rig.inb(BM_BASE + 2)).toBe(0xff); // BAR4 unmapped by the reset
    // The disk works after the reset.
    rig.issue(0, 0, CMD.READ_SECTORS, { lba: 9, count: 1 });
    expect((await rig.pioIn(0, 512, 512))[0]).toBe(9);
  });

  it('the bus-master INTERRUPT bit and IRQ come together for each DMA completion on both channels', async () => {
    const rig = new IdeRig({
      drives: [
        { channel: 0, unit: 0, drive: disk() },
        { channel: 1, unit: 1, drive: disk() },
      ],
    });
    for (const ch of [0, 1] as const) {
      rig.writePrd(0x8000 + ch * 0x100, [[0x40000 + ch * 0x1000, 512]]);
      rig.setupDma(ch, 0x8000 + ch * 0x100, true);
      rig.issue(ch, ch, CMD.READ_DMA, { lba: 3, count: 1 });
      rig.startDma(ch);
    }
    await rig.idle();
    for (const ch of [0, 1] as const) {
      expect(rig.inb(rig.bm(ch, 2)) & BM_ST_INT).toBe(BM_ST_INT);
      expect(rig.levels[rig.irqLine(ch)]).toBe(true);
      expect(rig.memory.read8(0x40000 + ch * 0x1000)).toBe(3);
    }
  });
});
