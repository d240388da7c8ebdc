import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlockBackend } from '../../storage/block-backend.js';
import { openDisk } from '../../storage/create.js';
import { AtapiCdrom, MEDIA_EVENT } from './atapi-cdrom.js';
import { BM_ST_ACTIVE, BM_ST_INT } from './bmdma.js';
import { CMD, ER_ABRT, ST_BSY, ST_DRDY, ST_DRQ, ST_DSC, ST_ERR } from './constants.js';
import { IdeRig, MemoryBackend, buildIso, eio, pattern, tempDir } from '../../../test/support/ide.js';

const ISO_SECTORS = 300;
const tmp = tempDir();
let isoPath = '';
const iso = buildIso(ISO_SECTORS);
beforeAll(() => {
  isoPath = join(tmp.dir, 'test.iso');
  writeFileSync(isoPath, iso);
});
afterAll(() => tmp.cleanup());

async function openIso(): Promise<BlockBackend> {
  return openDisk(isoPath, { format: 'raw', readOnly: true });
}

/** A CD-ROM as secondary master (where PC setups put it), the ISO inserted. */
async function cdRig(medium: BlockBackend | null = null): Promise<{ rig: IdeRig; cd: AtapiCdrom }> {
  const cd = new AtapiCdrom({ medium: medium === null ? await openIso() : medium });
  return { rig: new IdeRig({ drives: [{ channel: 1, unit: 0, drive: cd }] }), cd };
}

const be32 = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const be16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
const read10 = (lba: number, count: number): number[] => [0x28, 0, lba >>> 24, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff, 0, count >>> 8, count & 0xff, 0];
const gesn = (): number[] => [0x4a, 0x01, 0, 0, 0x10, 0, 0, 0, 8, 0];

describe('ATAPI CD-ROM: identification', () => {
  it('posts the ATAPI signature; IDENTIFY DEVICE aborts with it; IDENTIFY PACKET DEVICE describes the drive', async () => {
    const { rig } = await cdRig();
    rig.select(1, 0);
    expect([rig.reg(1, 2), rig.reg(1, 3), rig.reg(1, 4), rig.reg(1, 5)]).toEqual([1, 1, 0x14, 0xeb]);
    expect(rig.altStatus(1)).toBe(0); // DRDY stays clear on packet devices after reset
    rig.issue(1, 0, CMD.IDENTIFY_DEVICE);
    expect(await rig.waitNotBusy(1)).toBe(ST_DRDY | ST_ERR);
    expect(rig.error(1)).toBe(ER_ABRT);
    expect([rig.reg(1, 4), rig.reg(1, 5)]).toEqual([0x14, 0xeb]);
    const edges = rig.edges[15];
    rig.issue(1, 0, CMD.IDENTIFY_PACKET_DEVICE);
    const id = new Uint16Array((await rig.pioIn(1, 512, 512)).buffer);
    // Plain ATA PIO: one interrupt for the block, none at the end, no byte count in LBA mid/high.
    expect(rig.edges[15]).toBe(edges + 1);
    expect(rig.altStatus(1)).toBe(ST_DRDY | ST_DSC);
    expect([rig.reg(1, 4), rig.reg(1, 5)]).toEqual([0, 0]);
    expect(id[0]).toBe(0x85c0);
    let model = '';
    for (let i = 27; i < 47; i++) model += String.fromCharCode(id[i] >>> 8, id[i] & 0xff);
    expect(model.trim()).toBe('TERRARIUM CD-ROM');
    expect(id[49] & 0x0300).toBe(0x0300);
    expect(id[82] & (1 << 4)).toBe(1 << 4);
  });

  it('INQUIRY: CD/DVD device, removable, vendor and product', async () => {
    const { rig } = await cdRig();
    const r = await rig.packet(1, 0, [0x12, 0, 0, 0, 96, 0]);
    expect(r.status & ST_ERR).toBe(0);
    expect(r.data.length).toBe(36);
    expect(r.data[0]).toBe(0x05);
    expect(r.data[1]).toBe(0x80);
    expect(new TextDecoder().decode(r.data.subarray(8, 16)).trim()).toBe('TERRA');
    expect(new TextDecoder().decode(r.data.subarray(16, 32)).trim()).toBe('TERRARIUM CD-ROM');
    // The allocation length cuts the reply.
    expect((await rig.packet(1, 0, [0x12, 0, 0, 0, 5, 0])).data.length).toBe(5);
    expect(r.reason).toBe(3); // completion: I/O and C/D
  });
});

describe('ATAPI CD-ROM: reading', () => {
  it('READ CAPACITY reports the last LBA and 2048-byte blocks', async () => {
    const { rig } = await cdRig();
    await rig.packet(1, 0, [0x00, 0, 0, 0, 0, 0]); // consume the power-on state
    const r = await rig.packet(1, 0, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(r.status & ST_ERR).toBe(0);
    expect(be32(r.data, 0)).toBe(ISO_SECTORS - 1);
    expect(be32(r.data, 4)).toBe(2048);
  });

  it('READ(10) of the ISO volume descriptor and of patterned sectors, in byte-count-limited PIO blocks', async () => {
    const { rig } = await cdRig();
    let r = await rig.packet(1, 0, read10(16, 1), { limit: 2048 });
    expect(r.status).toBe(ST_DRDY | ST_DSC);
    expect(new TextDecoder().decode(r.data.subarray(1, 6))).toBe('CD001');
    expect(new TextDecoder().decode(r.data.subarray(40, 54))).toBe('TERRARIUM_TEST');
    const edges = rig.edges[15];
    r = await rig.packet(1, 0, read10(100, 5), { limit: 2048 });
    expect(r.blocks).toEqual([2048, 2048, 2048, 2048, 2048]);
    expect(Buffer.from(r.data).equals(Buffer.from(iso.subarray(100 * 2048, 105 * 2048)))).toBe(true);
    expect(rig.edges[15] - edges).toBe(6); // one per block and one at completion
    // An odd limit is rounded down to even for all but the last block.
    r = await rig.packet(1, 0, read10(100, 2), { limit: 1001 });
    expect(r.blocks.slice(0, 3)).toEqual([1000, 1000, 1000]);
    expect(r.blocks.reduce((a, b) => a + b, 0)).toBe(4096);
    expect(Buffer.from(r.data).equals(Buffer.from(iso.subarray(100 * 2048, 102 * 2048)))).toBe(true);
    // A limit of 1 still moves words (a block of 0 bytes would never end).
    r = await rig.packet(1, 0, read10(100, 1), { limit: 1 });
    expect(r.blocks.every((n) => n === 2)).toBe(true);
    expect(Buffer.from(r.data).equals(Buffer.from(iso.subarray(100 * 2048, 101 * 2048)))).toBe(true);
    // A large limit moves many sectors per block; one backend request for the command.
    r = await rig.packet(1, 0, [0xa8, 0, 0, 0, 0, 200, 0, 0, 0, 40, 0, 0], { limit: 0xffff });
    expect(r.blocks).toEqual([65534, 65534 - 65534 + 81920 - 65534]);
    expect(Buffer.from(r.data).equals(Buffer.from(iso.subarray(200 * 2048, 240 * 2048)))).toBe(true);
  });

  it('READ(10) by DMA, and replies by DMA', async () => {
    const { rig } = await cdRig();
    const TABLE = 0x9000;
    rig.writePrd(TABLE, [[0x200000, 4 * 2048]]);
    rig.setupDma(1, TABLE, true);
    const base = 0x170;
    rig.select(1, 0);
    rig.outb(base + 1, 0x01); // DMA
    rig.outb(base + 7, 0xa0);
    await rig.waitNotBusy(1);
    rig.writeData(1, Uint8Array.from([...read10(50, 4), 0, 0]));
    expect(rig.altStatus(1)).toBe(ST_DRDY | ST_DSC | ST_DRQ); // waiting for the engine
    rig.startDma(1);
    await rig.idle();
    expect(rig.inb(rig.bm(1, 2)) & (BM_ST_ACTIVE | BM_ST_INT)).toBe(BM_ST_INT);
    rig.stopDma(1);
    expect(rig.reg(1, 2) & 3).toBe(3);
    expect(rig.status(1)).toBe(ST_DRDY | ST_DSC);
    expect(Buffer.from(rig.memory.readBytes(0x200000, 4 * 2048)).equals(Buffer.from(iso.subarray(50 * 2048, 54 * 2048)))).toBe(true);

    rig.writePrd(TABLE, [[0x300000, 36]]);
    rig.setupDma(1, TABLE, true);
    rig.outb(base + 1, 0x01);
    rig.outb(base + 7, 0xa0);
    await rig.waitNotBusy(1);
    rig.writeData(1, Uint8Array.from([0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0]));
    rig.startDma(1);
    await rig.idle();
    expect(rig.status(1)).toBe(ST_DRDY | ST_DSC);
    expect(rig.memory.read8(0x300000)).toBe(0x05);
  });

  it('out-of-range reads are ILLEGAL REQUEST / LBA OUT OF RANGE; zero-length reads complete', async () => {
    const { rig } = await cdRig();
    await rig.packet(1, 0, [0x00]);
    let r = await rig.packet(1, 0, read10(ISO_SECTORS - 1, 2));
    expect(r.status & ST_ERR).toBe(ST_ERR);
    expect(r.error >>> 4).toBe(0x5);
    expect(await rig.sense(1, 0)).toEqual([0x5, 0x21, 0x00]);
    r = await rig.packet(1, 0, read10(5, 0));
    expect(r.status).toBe(ST_DRDY | ST_DSC);
    expect(r.data.length).toBe(0);
    expect(await rig.sense(1, 0)).toEqual([0, 0, 0]);
  });

  it('a host read error is MEDIUM ERROR / UNRECOVERED READ ERROR and the drive keeps working', async () => {
    let fail = true;
    const medium = new MemoryBackend(iso.slice(), {
      readOnly: true,
      fault: (op) => (op === 'read' && fail ? eio('pread') : null),
    });
    const { rig } = await cdRig(medium);
    const r = await rig.packet(1, 0, read10(20, 1));
    expect(r.status).toBe(ST_DRDY | ST_ERR);
    expect(r.error).toBe(0x30);
    expect(r.reason).toBe(3);
    expect(await rig.sense(1, 0)).toEqual([0x3, 0x11, 0x00]);
    expect(rig.hostErrors).toHaveLength(1);
    fail = false;
    const ok = await rig.packet(1, 0, read10(20, 1));
    expect(ok.data[0]).toBe(20);
  });

  it('READ CD returns user data; raw sectors are refused', async () => {
    const { rig } = await cdRig();
    const r = await rig.packet(1, 0, [0xbe, 0, 0, 0, 0, 30, 0, 0, 2, 0x10, 0, 0]);
    expect(Buffer.from(r.data).equals(Buffer.from(iso.subarray(30 * 2048, 32 * 2048)))).toBe(true);
    const raw = await rig.packet(1, 0, [0xbe, 0, 0, 0, 0, 30, 0, 0, 1, 0xf8, 0, 0]);
    expect(raw.status & ST_ERR).toBe(ST_ERR);
  });
});

describe('ATAPI CD-ROM: disc structure', () => {
  it('READ TOC format 0 in LBA and MSF', async () => {
    const { rig } = await cdRig();
    let r = await rig.packet(1, 0, [0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0]);
    expect(Array.from(r.data.subarray(0, 4))).toEqual([0, 18, 1, 1]);
    expect(Array.from(r.data.subarray(4, 8))).toEqual([0, 0x14, 1, 0]);
    expect(be32(r.data, 8)).toBe(0);
    expect(r.data[14]).toBe(0xaa);
    expect(be32(r.data, 16)).toBe(ISO_SECTORS);
    r = await rig.packet(1, 0, [0x43, 0x02, 0, 0, 0, 0, 0, 0, 100, 0]);
    expect(Array.from(r.data.subarray(8, 12))).toEqual([0, 0, 2, 0]); // 00:02:00
    const f = ISO_SECTORS + 150;
    expect(Array.from(r.data.subarray(16, 20))).toEqual([0, Math.floor(f / 4500), Math.floor(f / 75) % 60, f % 75]);
    // Starting at the lead-out: only its descriptor.
    r = await rig.packet(1, 0, [0x43, 0, 0, 0, 0, 0, 0xaa, 0, 100, 0]);
    expect(be16(r.data, 0)).toBe(10);
    expect(r.data[6]).toBe(0xaa);
    // A track that does not exist.
    r = await rig.packet(1, 0, [0x43, 0, 0, 0, 0, 0, 2, 0, 100, 0]);
    expect(r.status & ST_ERR).toBe(ST_ERR);
    // The allocation length cuts the reply but not its length field.
    r = await rig.packet(1, 0, [0x43, 0, 0, 0, 0, 0, 0, 0, 4, 0]);
    expect(Array.from(r.data)).toEqual([0, 18, 1, 1]);
  });

  it('READ TOC format 1 (sessions), also as the SFF-8020 control-byte form Linux sends', async () => {
    const { rig } = await cdRig();
    let r = await rig.packet(1, 0, [0x43, 0, 1, 0, 0, 0, 0, 0, 12, 0]);
    expect(Array.from(r.data)).toEqual([0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0]);
    r = await rig.packet(1, 0, [0x43, 0x02, 0, 0, 0, 0, 0, 0, 12, 0x40]);
    expect(Array.from(r.data)).toEqual([0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 2, 0]);
  });

  it('READ TOC format 2 (full TOC): A0, A1, A2 and track 1', async () => {
    const { rig } = await cdRig();
    const r = await rig.packet(1, 0, [0x43, 0x02, 2, 0, 0, 0, 0, 0, 200, 0]);
    expect(be16(r.data, 0)).toBe(46);
    const points = [0, 1, 2, 3].map((i) => r.data.subarray(4 + i * 11, 15 + i * 11));
    expect(points.map((p) => p[3])).toEqual([0xa0, 0xa1, 0xa2, 0x01]);
    expect(points[0][8]).toBe(1); // first track
    expect(points[1][8]).toBe(1); // last track
    const f = ISO_SECTORS + 150;
    expect(Array.from(points[2].subarray(8, 11))).toEqual([Math.floor(f / 4500), Math.floor(f / 75) % 60, f % 75]);
    expect(Array.from(points[3].subarray(8, 11))).toEqual([0, 2, 0]);
  });

  it('READ DISC INFORMATION, MODE SENSE(10) pages 01/2A/3F, MECHANISM STATUS, SET CD SPEED', async () => {
    const { rig } = await cdRig();
    let r = await rig.packet(1, 0, [0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    expect(r.data.length).toBe(34);
    expect(r.data[2] & 0x03).toBe(0x02); // finalized
    expect([r.data[3], r.data[4]]).toEqual([1, 1]);

    r = await rig.packet(1, 0, [0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 128, 0]);
    expect(be16(r.data, 0)).toBe(r.data.length - 2);
    expect(be16(r.data, 6)).toBe(0); // no block descriptors
    const page = r.data.subarray(8);
    expect([page[0], page[1]]).toEqual([0x2a, 0x12]);
    expect(page[6] >>> 5).toBe(1); // tray
    expect(page[6] & 0x08).toBe(0x08); // can eject
    expect(page[4] & 0x01).toBe(0x01); // audio play, for Linux's automounting

    r = await rig.packet(1, 0, [0x5a, 0, 0x01, 0, 0, 0, 0, 0, 128, 0]);
    expect(Array.from(r.data.subarray(8))).toEqual([0x01, 0x06, 0, 5, 0, 0, 0, 0]);
    r = await rig.packet(1, 0, [0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 128, 0]);
    expect(r.data.length).toBe(8 + 8 + 20);
    r = await rig.packet(1, 0, [0x5a, 0, 0xc0 | 0x2a, 0, 0, 0, 0, 0, 128, 0]); // saved values
    expect(r.status & ST_ERR).toBe(ST_ERR);
    expect(await rig.sense(1, 0)).toEqual([0x5, 0x39, 0x00]);
    r = await rig.packet(1, 0, [0x5a, 0, 0x0e, 0, 0, 0, 0, 0, 128, 0]); // no audio page
    expect(r.status & ST_ERR).toBe(ST_ERR);
    expect(await rig.sense(1, 0)).toEqual([0x5, 0x24, 0x00]);

    r = await rig.packet(1, 0, [0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]);
    expect(r.data.length).toBe(8);
    expect(r.data[1] & 0x10).toBe(0);
    r = await rig.packet(1, 0, [0xbb, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0]);
    expect(r.status).toBe(ST_DRDY | ST_DSC);
  });

  it('READ TRACK INFORMATION describes the one data track', async () => {
    const { rig } = await cdRig();
    let r = await rig.packet(1, 0, [0x52, 0x01, 0, 0, 0, 1, 0, 0, 36, 0]);
    expect(r.data.length).toBe(36);
    expect([r.data[2], r.data[3]]).toEqual([1, 1]);
    expect(be32(r.data, 24)).toBe(ISO_SECTORS);
    r = await rig.packet(1, 0, [0x52, 0x01, 0, 0, 0, 2, 0, 0, 36, 0]);
    expect(r.status & ST_ERR).toBe(ST_ERR);
    expect(await rig.sense(1, 0)).toEqual([0x5, 0x24, 0x00]);
  });

  it('GET CONFIGURATION: current profile CD-ROM, profile list, one-feature requests', async () => {
    const { rig } = await cdRig();
    let r = await rig.packet(1, 0, [0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0]);
    expect(be16(r.data, 6)).toBe(0x0008); // what Linux's cdrom_mmc3_profile reads
    r = await rig.packet(1, 0, [0x46, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(be32(r.data, 0)).toBe(r.data.length - 4);
    const features: number[] = [];
    for (let o = 8; o < r.data.length; o += 4 + r.data[o + 3]) features.push(be16(r.data, o));
    expect(features).toEqual([0x0000, 0x0001, 0x0002, 0x0003, 0x0010, 0x001e, 0x0100]);
    expect(be16(r.data, 12)).toBe(0x0008); // the profile list names CD-ROM ...
    expect(r.data[14] & 1).toBe(1); // ... as current
    // RT=2: only the named feature, or none.
    r = await rig.packet(1, 0, [0x46, 0x02, 0x00, 0x03, 0, 0, 0, 0, 64, 0]);
    expect(r.data.length).toBe(8 + 8);
    expect(be16(r.data, 8)).toBe(0x0003);
    r = await rig.packet(1, 0, [0x46, 0x02, 0x00, 0x2d, 0, 0, 0, 0, 64, 0]);
    expect(r.data.length).toBe(8);
  });
});

describe('ATAPI CD-ROM: media changes', () => {
  it('no medium: NOT READY / MEDIUM NOT PRESENT; inserting gives UNIT ATTENTION and a NEW MEDIA event', async () => {
    const cd = new AtapiCdrom();
    const rig = new IdeRig({ drives: [{ channel: 1, unit: 0, drive: cd }] });
    let r = await rig.packet(1, 0, [0x00]);
    expect(r.status).toBe(ST_DRDY | ST_ERR);
    expect(r.error).toBe(0x20);
    expect(await rig.sense(1, 0)).toEqual([0x2, 0x3a, 0x00]);
    r = await rig.packet(1, 0, read10(16, 1));
    expect(r.error >>> 4).toBe(0x2);
    r = await rig.packet(1, 0, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(r.error >>> 4).toBe(0x2);
    r = await rig.packet(1, 0, [0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0]);
    expect(be16(r.data, 6)).toBe(0); // no current profile
    r = await rig.packet(1, 0, gesn());
    expect(Array.from(r.data)).toEqual([0, 6, 4, 0x10, MEDIA_EVENT.NONE, 0x00, 0, 0]);

    expect(cd.insertMedium(await openIso())).toBeNull();
    // GESN and INQUIRY run under the unit attention; the first ordinary command reports it.
    r = await rig.packet(1, 0, gesn());
    expect(r.data[4]).toBe(MEDIA_EVENT.NEW_MEDIA);
    expect(r.data[5]).toBe(0x02); // medium present
    r = await rig.packet(1, 0, gesn());
    expect(r.data[4]).toBe(MEDIA_EVENT.NONE);
    r = await rig.packet(1, 0, [0x12, 0, 0, 0, 36, 0]);
    expect(r.status & ST_ERR).toBe(0);
    r = await rig.packet(1, 0, [0x00]);
    expect(r.status & ST_ERR).toBe(ST_ERR);
    expect(r.error >>> 4).toBe(0x6);
    expect(await rig.sense(1, 0)).toEqual([0x6, 0x28, 0x00]);
    r = await rig.packet(1, 0, [0x00]);
    expect(r.status).toBe(ST_DRDY | ST_DSC);
    r = await rig.packet(1, 0, read10(16, 1));
    expect(r.data[0]).toBe(1);
  });

  it('REQUEST SENSE reports a pending UNIT ATTENTION and consumes it', async () => {
    const { rig, cd } = await cdRig();
    const previous = cd.insertMedium(await openIso());
    expect(previous).not.toBeNull();
    await previous!.close();
    expect(await rig.sense(1, 0)).toEqual([0x6, 0x28, 0x00]);
    expect((await rig.packet(1, 0, [0x00])).status).toBe(ST_DRDY | ST_DSC);
    // Swapping discs reports the removal, then the new disc.
    let r = await rig.packet(1, 0, gesn());
    expect(r.data[4]).toBe(MEDIA_EVENT.MEDIA_REMOVAL);
    r = await rig.packet(1, 0, gesn());
    expect(r.data[4]).toBe(MEDIA_EVENT.NEW_MEDIA);
  });

  it('the guest locks the tray, refuses its own eject while locked, then ejects and loads', async () => {
    const { rig, cd } = await cdRig();
    const trays: boolean[] = [];
    cd.onTrayChange = (open) => trays.push(open);
    await rig.sense(1, 0);
    let r = await rig.packet(1, 0, [0x1e, 0, 0, 0, 1, 0]); // prevent removal
    expect(r.status & ST_ERR).toBe(0);
    expect(cd.isLocked).toBe(true);
    r = await rig.packet(1, 0, [0x1b, 0, 0, 0, 0x02, 0]); // eject
    expect(r.status & ST_ERR).toBe(ST_ERR);
    expect(await rig.sense(1, 0)).toEqual([0x5, 0x53, 0x02]);
    // The user presses the button: the guest hears an eject request, the disc stays.
    expect(cd.eject()).toEqual({ ejected: false, reason: 'locked' });
    r = await rig.packet(1, 0, gesn());
    expect(r.data[4]).toBe(MEDIA_EVENT.EJECT_REQUEST);
    await rig.packet(1, 0, [0x1e, 0, 0, 0, 0, 0]); // allow
    r = await rig.packet(1, 0, [0x1b, 0, 0, 0, 0x02, 0]);
    expect(r.status & ST_ERR).toBe(0);
    expect(cd.isTrayOpen).toBe(true);
    r = await rig.packet(1, 0, [0x00]);
    expect(r.error >>> 4).toBe(0x2);
    expect(await rig.sense(1, 0)).toEqual([0x2, 0x3a, 0x02]); // tray open
    r = await rig.packet(1, 0, gesn());
    expect(r.data[4]).toBe(MEDIA_EVENT.MEDIA_REMOVAL);
    expect(r.data[5]).toBe(0x01); // tray open
    r = await rig.packet(1, 0, [0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]);
    expect(r.data[1] & 0x10).toBe(0x10);
    r = await rig.packet(1, 0, [0x1b, 0, 0, 0, 0x03, 0]); // load
    expect(r.status & ST_ERR).toBe(0);
    expect(cd.isTrayOpen).toBe(false);
    r = await rig.packet(1, 0, gesn());
    expect(r.data[4]).toBe(MEDIA_EVENT.NEW_MEDIA);
    expect(await rig.sense(1, 0)).toEqual([0x6, 0x28, 0x00]);
    expect(trays).toEqual([true, false]);
  });

  it('a forced eject empties the drive even when locked', async () => {
    const { rig, cd } = await cdRig();
    await rig.packet(1, 0, [0x1e, 0, 0, 0, 1, 0]);
    const result = cd.eject({ force: true });
    expect(result.ejected).toBe(true);
    if (result.ejected) await result.previous?.close();
    expect(cd.currentMedium).toBeNull();
    const r = await rig.packet(1, 0, [0x00]);
    expect(r.error >>> 4).toBe(0x2);
    expect(await rig.sense(1, 0)).toEqual([0x2, 0x3a, 0x00]);
  });

  it('ejecting with a read queued: the read fails NOT READY, nothing crashes', async () => {
    const medium = new MemoryBackend(iso.slice(), { readOnly: true, hold: true });
    const { rig, cd } = await cdRig(medium);
    await rig.sense(1, 0);
    const pending = rig.packet(1, 0, read10(20, 2));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(rig.altStatus(1) & ST_BSY).toBe(ST_BSY);
    cd.insertMedium(null);
    medium.fault = () => eio('pread');
    medium.release(true);
    const r = await pending;
    expect(r.status & ST_ERR).toBe(ST_ERR);
    expect((await rig.sense(1, 0))[0]).toBe(0x3);
    expect((await rig.packet(1, 0, [0x00])).error >>> 4).toBe(0x2);
  });
});

describe('ATAPI CD-ROM: protocol details', () => {
  it('unknown opcodes are ILLEGAL REQUEST / INVALID COMMAND OPERATION CODE', async () => {
    const { rig } = await cdRig();
    await rig.sense(1, 0);
    const r = await rig.packet(1, 0, [0xee]);
    expect(r.status & ST_ERR).toBe(ST_ERR);
    expect(r.error).toBe(0x50);
    expect(await rig.sense(1, 0)).toEqual([0x5, 0x20, 0x00]);
  });

  it('DEVICE RESET is accepted while DRQ is set and posts the signature', async () => {
    const { rig } = await cdRig();
    rig.select(1, 0);
    rig.outb(0x177, 0xa0);
    expect(rig.altStatus(1) & ST_DRQ).toBe(ST_DRQ);
    rig.outb(0x177, CMD.IDENTIFY_PACKET_DEVICE); // ignored: the device wants its packet
    expect(rig.reg(1, 2) & 3).toBe(1);
    rig.outb(0x177, CMD.DEVICE_RESET);
    expect(rig.altStatus(1)).toBe(0);
    expect([rig.reg(1, 4), rig.reg(1, 5)]).toEqual([0x14, 0xeb]);
    const r = await rig.packet(1, 0, [0x12, 0, 0, 0, 36, 0]);
    expect(r.data[0]).toBe(5);
  });

  it('ATA commands a packet device supports: CHECK POWER MODE, SET FEATURES transfer mode', async () => {
    const { rig } = await cdRig();
    rig.issue(1, 0, CMD.CHECK_POWER_MODE);
    expect((await rig.waitNotBusy(1)) & ST_ERR).toBe(0);
    expect(rig.reg(1, 2)).toBe(0xff);
    rig.issue(1, 0, CMD.SET_FEATURES, { feature: 0x03, count: 0x42 });
    expect((await rig.waitNotBusy(1)) & ST_ERR).toBe(0);
    rig.issue(1, 0, CMD.READ_DMA, { count: 1 });
    await rig.waitNotBusy(1);
    expect(rig.error(1)).toBe(ER_ABRT);
  });

  it('SeaBIOS-style 2048-byte blocks with nIEN set and polling', async () => {
    const { rig } = await cdRig();
    rig.outb(0x376, 0x0a); // nIEN
    await rig.sense(1, 0);
    const r = await rig.packet(1, 0, read10(18, 3), { limit: 2048 });
    expect(r.blocks).toEqual([2048, 2048, 2048]);
    expect(r.data[0] | (r.data[2048] << 8)).toBe(18 | (19 << 8));
    expect(rig.levels[15]).toBe(false);
    expect(Buffer.from(r.data.subarray(4096)).equals(Buffer.from(pattern(20, 2048, 5)))).toBe(true);
  });
});
