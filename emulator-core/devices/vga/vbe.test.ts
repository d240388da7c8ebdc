import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../errors.js';
import { loadDac, setStandardMode } from './modes.js';
import { rgba } from './palette.js';
import { encodePng, writePng } from './png.js';
import { dac6Rgba, pixelAt, rig, testDacBytes, testDacEntry, type TestRig } from '../../../test/support/vga.js';

const LFB = 0xe0000000;

function dispi(r: TestRig, index: number, value: number): void {
  r.vga.ioWrite(0x1ce, 2, index);
  r.vga.ioWrite(0x1cf, 2, value);
}

function dispiRead(r: TestRig, index: number): number {
  r.vga.ioWrite(0x1ce, 2, index);
  return r.vga.ioRead(0x1cf, 2);
}

/** Decode the LFB BAR at LFB, as firmware would. */
function mapLfb(r: TestRig): void {
  r.vga.configWrite(0x10, 4, LFB);
  r.vga.configWrite(0x04, 2, 0x0003);
}

function setMode(r: TestRig, w: number, h: number, bpp: number, flags = 0x41): void {
  r.vga.ioWrite(0x3c2, 1, 0xc3); // colour addressing, as the VGA BIOS sets up first
  dispi(r, 4, 0);
  dispi(r, 3, bpp);
  dispi(r, 1, w);
  dispi(r, 2, h);
  dispi(r, 5, 0);
  dispi(r, 4, flags);
  // The BIOS then turns the display on (attribute index PAS).
  r.vga.ioRead(0x3da, 1);
  r.vga.ioWrite(0x3c0, 1, 0x20);
}

/** Colour of the test gradient at (x, y). */
function gradient(x: number, y: number): [number, number, number] {
  return [(x + y) & 0xff, y & 0xff, x & 0xff];
}

describe('Bochs VBE / DISPI', () => {
  it('identifies as 0xB0C5 with the VRAM size in 64 KiB units, and reports capabilities', () => {
    const r = rig();
    expect(dispiRead(r, 0)).toBe(0xb0c5);
    dispi(r, 0, 0xb0c0);
    expect(dispiRead(r, 0)).toBe(0xb0c0);
    dispi(r, 0, 0x1234); // not an ID: ignored
    expect(dispiRead(r, 0)).toBe(0xb0c0);
    expect(dispiRead(r, 0x0a)).toBe(256);
    dispi(r, 4, 0x02); // GETCAPS
    expect([dispiRead(r, 1), dispiRead(r, 2), dispiRead(r, 3)]).toEqual([2560, 1600, 32]);
    dispi(r, 4, 0x00);
    expect(dispiRead(r, 1)).toBe(0);
    // 0x1D0 is a data alias; a dword at 0x1CE writes index and data together.
    r.vga.ioWrite(0x1ce, 4, 0x0320 << 16 | 1);
    expect(dispiRead(r, 1)).toBe(0x320);
    r.vga.ioWrite(0x1ce, 2, 1);
    expect(r.vga.ioRead(0x1d0, 2)).toBe(0x320);
  });

  it('clamps impossible modes to ones that fit VRAM', () => {
    const r = rig({ vramSize: 1 << 20 });
    dispi(r, 3, 7); // no such depth
    dispi(r, 1, 1027);
    dispi(r, 2, 5000);
    dispi(r, 4, 0x01);
    expect(dispiRead(r, 3)).toBe(8);
    expect(dispiRead(r, 1)).toBe(1024);
    // 1 MiB / 1024 bytes per line.
    expect(dispiRead(r, 7)).toBe(1024);
    expect(dispiRead(r, 2)).toBe(1024);
    dispi(r, 9, 900); // panning past the end of VRAM is dropped
    expect(dispiRead(r, 9)).toBe(0);
  });

  it('800x600x32 through the linear framebuffer renders a known gradient; the PNG decodes to the same pixels', () => {
    const r = rig();
    mapLfb(r);
    // The LFB BAR is guest RAM over the VRAM backing: CPU writes never reach the device.
    expect(r.memory.pageMap[LFB >>> 12] & 0xff).toBe(0);
    setMode(r, 800, 600, 32);
    for (let y = 0; y < 600; y++) {
      for (let x = 0; x < 800; x++) {
        const [red, g, b] = gradient(x, y);
        r.memory.write32(LFB + (y * 800 + x) * 4, b | (g << 8) | (red << 16));
      }
    }
    const res = r.vga.render();
    expect([res.width, res.height]).toEqual([800, 600]);
    for (let y = 0; y < 600; y += 7) for (let x = 0; x < 800; x += 3) expect(pixelAt(r.vga, x, y)).toBe(rgba(...gradient(x, y)));

    const dir = mkdtempSync(join(tmpdir(), 'vga-png-'));
    try {
      const path = join(dir, 'shot.png');
      const shot = r.vga.screenshot();
      writePng(path, shot);
      const png = PNG.sync.read(readFileSync(path));
      expect([png.width, png.height]).toEqual([800, 600]);
      expect(Buffer.compare(png.data, Buffer.from(shot.rgba))).toBe(0);
      expect(() => writePng(join(dir, 'missing', 'x.png'), shot)).toThrow(BadInputError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dirty rectangles cover only what changed in the framebuffer', () => {
    const r = rig();
    mapLfb(r);
    setMode(r, 640, 480, 32);
    expect(r.vga.render().dirty).toEqual([{ x: 0, y: 0, w: 640, h: 480 }]);
    expect(r.vga.render().dirty).toEqual([]);
    for (let y = 200; y < 210; y++) for (let x = 100; x < 110; x++) r.memory.write32(LFB + (y * 640 + x) * 4, 0xffffff);
    expect(r.vga.render().dirty).toEqual([{ x: 100, y: 200, w: 10, h: 10 }]);
    // A screenshot in between does not swallow changes.
    r.memory.write32(LFB + (5 * 640 + 5) * 4, 0x123456);
    r.vga.screenshot();
    expect(r.vga.render().dirty).toEqual([{ x: 5, y: 5, w: 1, h: 1 }]);
    // ScreenUpdates carry the pixels of each rectangle.
    r.memory.write32(LFB + (7 * 640 + 9) * 4, 0x00ff00);
    const ups = r.vga.screenUpdates();
    expect(ups).toHaveLength(1);
    expect(ups[0]).toMatchObject({ width: 640, height: 480, x: 9, y: 7, w: 1, h: 1 });
    expect(Array.from(ups[0].rgba)).toEqual([0, 0xff, 0, 0xff]);
  });

  it('banked 8 bpp through the A0000 window uses the DAC', () => {
    const r = rig();
    loadDac(r.vga, 0, testDacBytes());
    setMode(r, 640, 480, 8, 0x01);
    dispi(r, 5, 1);
    expect(r.vga.mem.bankOffset).toBe(0x10000);
    r.memory.write8(0xa0000 + 0x1234, 0x77);
    expect(r.vga.mem.vram[0x11234]).toBe(0x77);
    r.vga.render();
    const off = 0x11234;
    expect(pixelAt(r.vga, off % 640, Math.floor(off / 640))).toBe(dac6Rgba(testDacEntry(0x77)));
    // The same through MMIO when VRAM is private.
    const p = rig({ vramInGuestMemory: false });
    setMode(p, 640, 480, 8, 0x01);
    dispi(p, 5, 2);
    p.memory.write8(0xa0000 + 3, 0x55);
    expect(p.vga.mem.vram[0x20003]).toBe(0x55);
    expect(p.memory.read8(0xa0003)).toBe(0x55);
  });

  it('8-bit DAC mode uses the full component range', () => {
    const r = rig();
    setMode(r, 640, 480, 8, 0x21);
    loadDac(r.vga, 9, [0xff, 0x80, 0x01]);
    r.vga.mem.vram[0] = 9;
    r.vga.render();
    expect(pixelAt(r.vga, 0, 0)).toBe(rgba(0xff, 0x80, 0x01));
  });

  it('15, 16 and 24 bpp pixel formats', () => {
    const r = rig();
    mapLfb(r);
    setMode(r, 64, 8, 16);
    r.memory.write16(LFB, 0xf800); // red
    r.memory.write16(LFB + 2, 0x07e0); // green
    r.memory.write16(LFB + 4, 0x001f); // blue
    r.memory.write16(LFB + 6, 0x8410); // mid grey
    r.vga.render();
    expect([0, 1, 2, 3].map((x) => pixelAt(r.vga, x, 0))).toEqual([rgba(255, 0, 0), rgba(0, 255, 0), rgba(0, 0, 255), rgba(0x84, 0x82, 0x84)]);
    setMode(r, 64, 8, 15);
    r.memory.write16(LFB, 0x7c00);
    r.memory.write16(LFB + 2, 0x03e0);
    r.vga.render();
    expect([0, 1].map((x) => pixelAt(r.vga, x, 0))).toEqual([rgba(255, 0, 0), rgba(0, 255, 0)]);
    setMode(r, 64, 8, 24);
    r.memory.writeBytes(LFB, new Uint8Array([1, 2, 3, 4, 5, 6]));
    r.memory.writeBytes(LFB + 64 * 3, new Uint8Array([7, 8, 9]));
    r.vga.render();
    expect([pixelAt(r.vga, 0, 0), pixelAt(r.vga, 1, 0), pixelAt(r.vga, 0, 1)]).toEqual([rgba(3, 2, 1), rgba(6, 5, 4), rgba(9, 8, 7)]);
  });

  it('enabling clears the visible framebuffer unless NOCLEARMEM is set', () => {
    const r = rig();
    r.vga.mem.vram.fill(0xaa, 0, 4096);
    setMode(r, 64, 8, 32, 0xc1);
    expect(r.vga.mem.vram[100]).toBe(0xaa);
    setMode(r, 64, 8, 32, 0x41);
    expect(r.vga.mem.vram[100]).toBe(0);
    expect(r.vga.mem.vram[64 * 8 * 4]).toBe(0xaa);
  });

  it('virtual width and X/Y offsets pan the display', () => {
    const r = rig();
    mapLfb(r);
    setMode(r, 640, 480, 32);
    dispi(r, 6, 1024);
    expect(dispiRead(r, 6)).toBe(1024);
    r.memory.write32(LFB + (10 * 1024 + 20) * 4, 0x0000ff);
    dispi(r, 8, 20);
    dispi(r, 9, 10);
    r.vga.render();
    expect(pixelAt(r.vga, 0, 0)).toBe(rgba(0, 0, 0xff));
  });

  it('4 bpp modes are planar with 256 KiB banks', () => {
    const r = rig();
    loadDac(r.vga, 0, testDacBytes());
    setMode(r, 800, 600, 4, 0x01);
    // Attribute palette identity (the BIOS programs it for planar modes).
    for (let i = 0; i < 16; i++) {
      r.vga.ioRead(0x3da, 1);
      r.vga.ioWrite(0x3c0, 1, i);
      r.vga.ioWrite(0x3c0, 1, i);
    }
    r.vga.ioRead(0x3da, 1);
    r.vga.ioWrite(0x3c0, 1, 0x12);
    r.vga.ioWrite(0x3c0, 1, 0x0f);
    r.vga.ioWrite(0x3c0, 1, 0x20);
    // The BIOS sets up planar addressing (its mode 6Ah) for 4 bpp modes.
    r.vga.ioWrite(0x3c4, 2, 0x0f02);
    r.vga.ioWrite(0x3c4, 2, 0x0604);
    r.vga.ioWrite(0x3ce, 2, 0x0205); // write mode 2
    r.vga.ioWrite(0x3ce, 2, 0x8008); // bit mask: leftmost pixel
    const off = 599 * 100; // line 599, x 0
    r.memory.read8(0xa0000 + off);
    r.memory.write8(0xa0000 + off, 6);
    dispi(r, 5, 1);
    expect(r.vga.mem.bankOffset).toBe(0x10000);
    r.vga.render();
    expect(pixelAt(r.vga, 0, 599)).toBe(dac6Rgba(testDacEntry(6)));
  });

  it('leaving DISPI returns to the VGA mode', () => {
    const r = rig();
    setMode(r, 640, 480, 32);
    expect(r.vga.textScreen()).toBeNull();
    r.vga.render();
    dispi(r, 4, 0);
    expect(r.vga.mem.bankOffset).toBe(0);
    setStandardMode(r.vga, 3);
    const res = r.vga.render();
    expect([res.width, res.height]).toEqual([720, 400]);
    expect(res.dirty).toEqual([{ x: 0, y: 0, w: 720, h: 400 }]);
    expect(r.vga.textScreen()?.cols).toBe(80);
  });

  it('encodePng makes an RGB PNG of the frame', () => {
    const rgbaBytes = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 1, 2, 3, 255]);
    const png = PNG.sync.read(encodePng({ width: 2, height: 2, rgba: rgbaBytes }));
    expect(Array.from(png.data)).toEqual(Array.from(rgbaBytes));
  });
});
