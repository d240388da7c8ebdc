import { describe, expect, it } from 'vitest';
import { loadDac, programMode, setStandardMode, STANDARD_MODES, type StandardMode } from './modes.js';
import { dac6Rgba, pixelAt, rig, testDacBytes, testDacEntry, type TestRig } from '../../../test/support/vga.js';

function gr(r: TestRig, index: number, value: number): void {
  r.vga.ioWrite(0x3ce, 2, index | (value << 8));
}

function sr(r: TestRig, index: number, value: number): void {
  r.vga.ioWrite(0x3c4, 2, index | (value << 8));
}

function cr(r: TestRig, index: number, value: number): void {
  r.vga.ioWrite(0x3d4, 2, index | (value << 8));
}

function ar(r: TestRig, index: number, value: number): void {
  r.vga.ioRead(0x3da, 1);
  r.vga.ioWrite(0x3c0, 1, index);
  r.vga.ioWrite(0x3c0, 1, value);
  r.vga.ioWrite(0x3c0, 1, 0x20);
}

function mode(m: number, options: { vramInGuestMemory?: boolean } = {}): TestRig {
  const r = rig(options);
  setStandardMode(r.vga, m);
  loadDac(r.vga, 0, testDacBytes());
  return r;
}

const dac = (i: number): number => dac6Rgba(testDacEntry(i));

/** Plot a 16-colour pixel in mode 12h through write mode 2. */
function plot16(r: TestRig, x: number, y: number, c: number): void {
  gr(r, 5, 0x02);
  gr(r, 8, 0x80 >> (x & 7));
  const a = 0xa0000 + y * 80 + (x >> 3);
  r.memory.read8(a);
  r.memory.write8(a, c);
}

describe('VGA graphics modes', () => {
  it('mode 13h: chain-4 bytes are DAC colours, pixels and lines doubled to 640x400', () => {
    for (const vramInGuestMemory of [true, false]) {
      const r = mode(0x13, { vramInGuestMemory });
      const pts: [number, number, number][] = [
        [0, 0, 1],
        [319, 0, 0x80],
        [100, 57, 0xfe],
        [319, 199, 0x33],
      ];
      for (const [x, y, c] of pts) r.memory.write8(0xa0000 + y * 320 + x, c);
      const res = r.vga.render();
      expect([res.width, res.height]).toEqual([640, 400]);
      for (const [x, y, c] of pts) {
        for (const [dx, dy] of [
          [0, 0],
          [1, 0],
          [0, 1],
          [1, 1],
        ]) {
          expect(pixelAt(r.vga, 2 * x + dx, 2 * y + dy)).toBe(dac(c));
        }
      }
      expect(pixelAt(r.vga, 2, 0)).toBe(dac(0));
    }
  });

  it('mode 13h: only the changed lines are dirty, also for writes that bypass the device', () => {
    const r = mode(0x13);
    r.vga.render();
    expect(r.vga.render().dirty).toEqual([]);
    // The window is RAM here: the write never reaches the adapter.
    r.memory.write8(0xa0000 + 50 * 320 + 7, 9);
    // Source dword 1 of line 50: pixels 4-7, doubled.
    expect(r.vga.render().dirty).toEqual([{ x: 8, y: 100, w: 8, h: 2 }]);
    r.memory.write8(0xa0000 + 10 * 320, 1);
    r.memory.write8(0xa0000 + 190 * 320 + 319, 1);
    expect(r.vga.render().dirty).toEqual([
      { x: 0, y: 20, w: 8, h: 2 },
      { x: 632, y: 380, w: 8, h: 2 },
    ]);
    // A palette change redraws everything.
    loadDac(r.vga, 1, [1, 2, 3]);
    expect(r.vga.render().dirty).toEqual([{ x: 0, y: 0, w: 640, h: 400 }]);
  });

  it('mode X: unchained 256 colours address four planes', () => {
    const r = mode(0x13);
    sr(r, 4, 0x06); // chain-4 off
    cr(r, 0x14, 0x00); // byte mode
    cr(r, 0x17, 0xe3);
    // Pixel x lives in plane x & 3 at offset y * 80 + x / 4.
    const put = (x: number, y: number, c: number): void => {
      sr(r, 2, 1 << (x & 3));
      r.memory.write8(0xa0000 + y * 80 + (x >> 2), c);
    };
    put(0, 0, 5);
    put(1, 0, 6);
    put(2, 0, 7);
    put(3, 0, 8);
    put(4, 0, 9);
    put(317, 123, 200);
    r.vga.render();
    for (let x = 0; x < 5; x++) expect(pixelAt(r.vga, 2 * x, 0)).toBe(dac(5 + x));
    expect(pixelAt(r.vga, 2 * 317, 2 * 123)).toBe(dac(200));
    // Page flipping through the start address.
    put(0, 100, 42);
    cr(r, 0x0c, (100 * 80) >> 8);
    cr(r, 0x0d, (100 * 80) & 0xff);
    r.vga.render();
    expect(pixelAt(r.vga, 0, 0)).toBe(dac(42));
  });

  it('mode 12h: four planes through the attribute palette and DAC at 640x480', () => {
    const r = mode(0x12);
    const pal = STANDARD_MODES[0x12].ac;
    for (let c = 0; c < 16; c++) plot16(r, c * 3, c, c);
    plot16(r, 639, 479, 15);
    const res = r.vga.render();
    expect([res.width, res.height]).toEqual([640, 480]);
    for (let c = 0; c < 16; c++) expect(pixelAt(r.vga, c * 3, c)).toBe(dac(pal[c]));
    expect(pixelAt(r.vga, 639, 479)).toBe(dac(pal[15]));
    expect(pixelAt(r.vga, 1, 0)).toBe(dac(pal[0]));
    // The colour plane enable register masks planes out.
    ar(r, 0x12, 0x01);
    r.vga.render();
    expect(pixelAt(r.vga, 15 * 3, 15)).toBe(dac(pal[1]));
  });

  it('mode 12h: palette select bits (P54S, colour select) and the pel mask', () => {
    const r = mode(0x12);
    plot16(r, 0, 0, 3);
    ar(r, 0x14, 0x0e); // bits 7-6 = 3, bits 5-4 = 2
    r.vga.render();
    expect(pixelAt(r.vga, 0, 0)).toBe(dac(0xc0 | STANDARD_MODES[0x12].ac[3]));
    ar(r, 0x10, 0x81);
    r.vga.render();
    expect(pixelAt(r.vga, 0, 0)).toBe(dac(0xe0 | (STANDARD_MODES[0x12].ac[3] & 0x0f)));
    r.vga.ioWrite(0x3c6, 1, 0x0f);
    r.vga.render();
    expect(pixelAt(r.vga, 0, 0)).toBe(dac(STANDARD_MODES[0x12].ac[3] & 0x0f));
  });

  it('line compare splits the screen and the start address scrolls the top part', () => {
    const r = mode(0x12);
    plot16(r, 0, 0, 4);
    plot16(r, 0, 10, 9);
    cr(r, 0x0c, (10 * 80) >> 8);
    cr(r, 0x0d, (10 * 80) & 0xff);
    cr(r, 0x18, 99);
    cr(r, 0x07, 0x2e); // line compare bit 8 clear (writable under CR0-7 protection)
    cr(r, 0x09, 0x00);
    r.vga.render();
    expect(pixelAt(r.vga, 0, 0)).toBe(dac(STANDARD_MODES[0x12].ac[9]));
    expect(pixelAt(r.vga, 0, 100)).toBe(dac(STANDARD_MODES[0x12].ac[4]));
  });

  it('horizontal pel panning shifts planar lines', () => {
    const r = mode(0x12);
    plot16(r, 5, 0, 12);
    ar(r, 0x13, 3);
    r.vga.render();
    expect(pixelAt(r.vga, 2, 0)).toBe(dac(STANDARD_MODES[0x12].ac[12]));
  });

  it('CGA mode 4: two bits per pixel, even and odd lines in two banks', () => {
    const m4: StandardMode = {
      misc: 0x63,
      seq: [0x03, 0x09, 0x03, 0x00, 0x02],
      crtc: [
        0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96,
        0xb9, 0xa2, 0xff,
      ],
      gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0f, 0x00, 0xff],
      ac: [0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00],
    };
    const r = rig();
    programMode(r.vga, m4);
    loadDac(r.vga, 0, testDacBytes());
    r.memory.write8(0xb8000, 0x1b); // pixels 0..3 = 0, 1, 2, 3
    r.memory.write8(0xb8001, 0xe4); // pixels 4..7 = 3, 2, 1, 0
    r.memory.write8(0xb8000 + 0x2000, 0xff); // line 1, pixels 0..3 = 3
    const res = r.vga.render();
    expect([res.width, res.height]).toEqual([640, 400]);
    const want = [0, 1, 2, 3, 3, 2, 1, 0].map((c) => dac(m4.ac[c]));
    for (let x = 0; x < 8; x++) {
      expect(pixelAt(r.vga, 2 * x, 0)).toBe(want[x]);
      expect(pixelAt(r.vga, 2 * x + 1, 1)).toBe(want[x]);
    }
    expect(pixelAt(r.vga, 0, 2)).toBe(dac(m4.ac[3]));
    expect(pixelAt(r.vga, 0, 3)).toBe(dac(m4.ac[3]));
    expect(pixelAt(r.vga, 0, 4)).toBe(dac(m4.ac[0]));
  });

  it('a cleared palette address source or screen-off bit blanks the screen', () => {
    const r = mode(0x13);
    r.memory.write8(0xa0000, 1);
    r.vga.render();
    expect(pixelAt(r.vga, 0, 0)).toBe(dac(1));
    r.vga.ioRead(0x3da, 1);
    r.vga.ioWrite(0x3c0, 1, 0x00);
    const res = r.vga.render();
    expect(res.dirty).toEqual([{ x: 0, y: 0, w: 640, h: 400 }]);
    expect(pixelAt(r.vga, 0, 0)).toBe(0xff000000);
    r.vga.ioWrite(0x3c0, 1, 0x20);
    r.vga.ioRead(0x3da, 1);
    r.vga.ioWrite(0x3c0, 1, 0x20);
    r.vga.render();
    expect(pixelAt(r.vga, 0, 0)).toBe(dac(1));
    sr(r, 1, 0x21);
    r.vga.render();
    expect(pixelAt(r.vga, 0, 0)).toBe(0xff000000);
  });
});
