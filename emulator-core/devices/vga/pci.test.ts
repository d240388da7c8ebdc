import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../errors.js';
import { ManualClock } from '../../machine/clock.js';
import { rig } from '../../../test/support/vga.js';
import { StdVga } from './vga.js';

const SEABIOS_VGA = '/usr/share/seabios/vgabios-stdvga.bin';
const haveSeabiosVga = existsSync(SEABIOS_VGA);

/** A minimal option ROM: signature, size in 512-byte blocks, a PCI data structure for 1234:1111. */
function fakeRom(): Uint8Array {
  const rom = new Uint8Array(5000);
  rom[0] = 0x55;
  rom[1] = 0xaa;
  rom[2] = Math.ceil(rom.length / 512);
  rom[0x18] = 0x40;
  rom.set([0x50, 0x43, 0x49, 0x52, 0x34, 0x12, 0x11, 0x11], 0x40);
  for (let i = 0x60; i < rom.length; i++) rom[i] = i & 0xff;
  return rom;
}

describe('std-vga PCI function', () => {
  it("has QEMU std-vga's identity", () => {
    const v = new StdVga({ clock: new ManualClock() });
    expect(v.configRead(0x00, 2)).toBe(0x1234);
    expect(v.configRead(0x02, 2)).toBe(0x1111);
    expect(v.configRead(0x08, 4)).toBe(0x03000002); // class 03 00 00, revision 2
    expect(v.configRead(0x2c, 2)).toBe(0x1af4);
    expect(v.configRead(0x2e, 2)).toBe(0x1100);
    expect(v.configRead(0x0e, 1)).toBe(0);
    expect(v.configRead(0x3d, 1)).toBe(0);
    expect(new StdVga({ clock: new ManualClock(), mmioBar: false }).configRead(0x08, 1)).toBe(0);
  });

  it('BAR0 is prefetchable 32-bit memory of the VRAM size, BAR2 4 KiB of MMIO', () => {
    const v = new StdVga({ clock: new ManualClock(), vramSize: 8 << 20 });
    expect(v.configRead(0x10, 4)).toBe(0x08);
    v.configWrite(0x10, 4, 0xffffffff);
    expect(v.configRead(0x10, 4)).toBe((0xff800008 >>> 0));
    v.configWrite(0x18, 4, 0xffffffff);
    expect(v.configRead(0x18, 4)).toBe(0xfffff000);
    v.configWrite(0x14, 4, 0xffffffff);
    expect(v.configRead(0x14, 4)).toBe(0);
    expect(v.configRead(0x30, 4)).toBe(0); // no VGA BIOS: no ROM BAR
  });

  it('rejects VRAM sizes that are not a power of two and images that are not option ROMs', () => {
    expect(() => new StdVga({ clock: new ManualClock(), vramSize: 3 << 20 })).toThrow(BadInputError);
    expect(() => new StdVga({ clock: new ManualClock(), vramSize: 512 << 10 })).toThrow(BadInputError);
    expect(() => new StdVga({ clock: new ManualClock(), vgaBios: new Uint8Array(4096) })).toThrow(BadInputError);
  });

  it('the expansion ROM BAR serves the VGA BIOS image when enabled', () => {
    const rom = fakeRom();
    const r = rig({ vgaBios: rom });
    r.vga.configWrite(0x30, 4, 0xfffff800);
    expect(r.vga.configRead(0x30, 4)).toBe(0xffffe000); // 8 KiB
    r.vga.configWrite(0x30, 4, 0xfeb00000 | 1);
    expect(r.memory.read8(0xfeb00000)).toBe(0xff); // memory decoding still off
    r.vga.configWrite(0x04, 2, 0x0002);
    expect(r.memory.readBytes(0xfeb00000, rom.length)).toEqual(rom);
    r.memory.write8(0xfeb00000, 0); // read-only
    expect(r.memory.read8(0xfeb00000)).toBe(0x55);
    // Clearing the enable bit unmaps it.
    r.vga.configWrite(0x30, 4, 0xfeb00000);
    expect(r.memory.read8(0xfeb00000)).toBe(0xff);
  });

  it.skipIf(!haveSeabiosVga)(`SeaBIOS's VGA BIOS (${SEABIOS_VGA}) claims this vendor/device and is served whole`, () => {
    const image = new Uint8Array(readFileSync(SEABIOS_VGA));
    const r = rig({ vgaBios: image });
    r.vga.configWrite(0x30, 4, 0xfeb00001);
    r.vga.configWrite(0x04, 2, 0x0002);
    const seen = r.memory.readBytes(0xfeb00000, image.length);
    expect(Buffer.compare(Buffer.from(seen), Buffer.from(image))).toBe(0);
    const pcir = seen[0x18] | (seen[0x19] << 8);
    expect(String.fromCharCode(...seen.subarray(pcir, pcir + 4))).toBe('PCIR');
    expect(seen[pcir + 4] | (seen[pcir + 5] << 8)).toBe(0x1234);
    expect(seen[pcir + 6] | (seen[pcir + 7] << 8)).toBe(0x1111);
  });

  it('maps the LFB as RAM over VRAM, never over guest RAM, and unmaps when decoding stops', () => {
    const r = rig();
    r.vga.configWrite(0x10, 4, 0xe0000000);
    r.vga.configWrite(0x04, 2, 0x0003);
    expect(r.memory.pageMap[0xe0000] & 0xff).toBe(0);
    r.memory.write32(0xe0000010, 0xdeadbeef);
    expect(r.vga.mem.vram32[4] >>> 0).toBe(0xdeadbeef);
    r.vga.configWrite(0x04, 2, 0x0000);
    expect(r.memory.pageMap[0xe0000] & 0xff).toBe(3);
    // A BAR placed over RAM is left to the RAM.
    r.vga.configWrite(0x10, 4, 0x00100000);
    r.vga.configWrite(0x04, 2, 0x0003);
    expect(r.memory.pageMap[0x100] & 0xff).toBe(0);
    expect(r.memory.pageMap[0x100] >>> 8).toBe(0x100);
    // Nor over firmware or another BAR: BAR2 at the LFB's address stays unmapped.
    r.vga.configWrite(0x10, 4, 0xe0000000);
    r.vga.configWrite(0x18, 4, 0xe0000000);
    expect(r.memory.pageMap[0xe0000] & 0xff).toBe(0);
    expect(r.memory.read32(0xe0000010) >>> 0).toBe(0xdeadbeef);
    // reset() turns decoding off.
    r.vga.configWrite(0x10, 4, 0xe0000000);
    expect(r.memory.pageMap[0xe0000] & 0xff).toBe(0);
    r.vga.reset();
    expect(r.memory.pageMap[0xe0000] & 0xff).toBe(3);
  });

  it('serves the LFB through MMIO when VRAM is private', () => {
    const r = rig({ vramInGuestMemory: false });
    r.vga.configWrite(0x10, 4, 0xe0000000);
    r.vga.configWrite(0x04, 2, 0x0003);
    expect(r.memory.pageMap[0xe0000] & 0xff).toBe(2);
    r.memory.write32(0xe0000010, 0xcafef00d);
    expect(r.vga.mem.vram32[4] >>> 0).toBe(0xcafef00d);
    expect(r.memory.read32(0xe0000010) >>> 0).toBe(0xcafef00d);
  });

  it('BAR2 exposes the VGA ports, DISPI registers and qext registers', () => {
    const r = rig();
    const base = 0xfebf0000;
    r.vga.configWrite(0x18, 4, base);
    r.vga.configWrite(0x04, 2, 0x0002);
    expect(r.memory.read32(base + 0x600)).toBe(8);
    expect(r.memory.read32(base + 0x604) >>> 0).toBe(0x1e1e1e1e);
    expect(r.memory.read32(base)).toBe(0); // no EDID
    expect(r.memory.read16(base + 0x500)).toBe(0xb0c5);
    r.memory.write16(base + 0x500 + 2, 1024);
    expect(r.vga.dispi.xres).toBe(1024);
    expect(r.memory.read16(base + 0x500 + 0x14)).toBe(256); // VIDEO_MEMORY_64K
    r.memory.write8(base + 0x400 + 0x08, 5); // 0x3C8
    expect(r.vga.regs.dacWriteIndex).toBe(5);
    r.memory.write8(base + 0x400 + 0x02, 0xc3); // 0x3C2
    expect(r.memory.read8(base + 0x400 + 0x0c)).toBe(0xc3); // 0x3CC
  });

  it('offers backing memory and MMIO handlers in the shape the PCI bus takes', () => {
    const r = rig({ vgaBios: fakeRom() });
    const h = r.vga.barHandlers();
    expect(h.backing(0)).toMatchObject({ writable: true });
    expect(h.backing(6)).toMatchObject({ writable: false });
    expect(h.backing(2)).toBeNull();
    expect(h.mmio(2)).not.toBeNull();
    const p = new StdVga({ clock: new ManualClock() });
    expect(p.barHandlers().backing(0)).toBeNull();
    expect(p.barHandlers().mmio(0)).not.toBeNull();
  });
});
