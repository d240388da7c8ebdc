import { describe, expect, it } from 'vitest';
import { setStandardMode } from './modes.js';
import { rig, type TestRig } from '../../../test/support/vga.js';

/** Mode 12h: planar, A0000 64 KiB, all planes writable. */
function planar(): TestRig {
  const r = rig();
  setStandardMode(r.vga, 0x12);
  return r;
}

const A = 0xa0000;

function gr(r: TestRig, index: number, value: number): void {
  r.vga.ioWrite(0x3ce, 2, index | (value << 8));
}

function sr(r: TestRig, index: number, value: number): void {
  r.vga.ioWrite(0x3c4, 2, index | (value << 8));
}

/** Set the four planes at plane offset `off` directly. */
function preset(r: TestRig, off: number, p0: number, p1: number, p2: number, p3: number): void {
  r.vga.mem.vram32[off] = p0 | (p1 << 8) | (p2 << 16) | (p3 << 24);
}

function planes(r: TestRig, off: number): number[] {
  const v = r.vga.mem.vram;
  return [v[off * 4], v[off * 4 + 1], v[off * 4 + 2], v[off * 4 + 3]];
}

/** Load the latches from plane offset `off` (a read through the window). */
function latch(r: TestRig, off: number): void {
  r.memory.read8(A + off);
}

describe('VGA planar memory', () => {
  it('write mode 0 writes the (rotated) byte to every enabled plane', () => {
    const r = planar();
    r.memory.write8(A + 10, 0xa5);
    expect(planes(r, 10)).toEqual([0xa5, 0xa5, 0xa5, 0xa5]);
    gr(r, 3, 0x01); // rotate right by 1
    r.memory.write8(A + 11, 0x03);
    expect(planes(r, 11)).toEqual([0x81, 0x81, 0x81, 0x81]);
    gr(r, 3, 0x07);
    r.memory.write8(A + 12, 0x81);
    expect(planes(r, 12)).toEqual([0x03, 0x03, 0x03, 0x03]);
  });

  it('set/reset replaces the data for enabled planes', () => {
    const r = planar();
    gr(r, 1, 0x0f);
    gr(r, 0, 0x05);
    r.memory.write8(A + 20, 0x3c);
    expect(planes(r, 20)).toEqual([0xff, 0x00, 0xff, 0x00]);
    gr(r, 1, 0x03);
    gr(r, 0, 0x01);
    r.memory.write8(A + 21, 0x3c);
    expect(planes(r, 21)).toEqual([0xff, 0x00, 0x3c, 0x3c]);
  });

  it('the bit mask keeps latched bits', () => {
    const r = planar();
    preset(r, 30, 0x11, 0x22, 0x33, 0x44);
    latch(r, 30);
    gr(r, 8, 0x0f);
    r.memory.write8(A + 30, 0xff);
    expect(planes(r, 30)).toEqual([0x1f, 0x2f, 0x3f, 0x4f]);
  });

  it('logical operations combine data with the latches', () => {
    const r = planar();
    const cases: [number, number[]][] = [
      [0x08, [0x30, 0x30, 0x30, 0x30]], // AND
      [0x10, [0xfc, 0xfc, 0xfc, 0xfc]], // OR
      [0x18, [0xcc, 0xcc, 0xcc, 0xcc]], // XOR
    ];
    for (const [op, want] of cases) {
      preset(r, 40, 0xf0, 0xf0, 0xf0, 0xf0);
      latch(r, 40);
      gr(r, 3, op);
      r.memory.write8(A + 40, 0x3c);
      expect(planes(r, 40)).toEqual(want);
    }
  });

  it('the map mask protects disabled planes', () => {
    const r = planar();
    preset(r, 50, 1, 2, 3, 4);
    sr(r, 2, 0x05);
    r.memory.write8(A + 50, 0xee);
    expect(planes(r, 50)).toEqual([0xee, 2, 0xee, 4]);
  });

  it('write mode 1 copies all four latches', () => {
    const r = planar();
    preset(r, 60, 0x12, 0x34, 0x56, 0x78);
    gr(r, 5, 0x01);
    latch(r, 60);
    r.memory.write8(A + 61, 0x00);
    expect(planes(r, 61)).toEqual([0x12, 0x34, 0x56, 0x78]);
  });

  it('write mode 2 expands the low nibble to planes under the bit mask', () => {
    const r = planar();
    gr(r, 5, 0x02);
    r.memory.write8(A + 70, 0x0a);
    expect(planes(r, 70)).toEqual([0x00, 0xff, 0x00, 0xff]);
    preset(r, 71, 0x66, 0x66, 0x66, 0x66);
    latch(r, 71);
    gr(r, 8, 0x81);
    r.memory.write8(A + 71, 0x05);
    expect(planes(r, 71)).toEqual([0xe7, 0x66, 0xe7, 0x66]);
  });

  it('write mode 3 uses the rotated data ANDed with the bit mask and the set/reset colour', () => {
    const r = planar();
    preset(r, 80, 0x00, 0xff, 0x00, 0xff);
    latch(r, 80);
    gr(r, 5, 0x03);
    gr(r, 0, 0x0c); // colour 12: planes 2 and 3
    gr(r, 8, 0xf0);
    r.memory.write8(A + 80, 0x3c); // effective mask 0x30
    expect(planes(r, 80)).toEqual([0x00, 0xcf, 0x30, 0xff]);
  });

  it('read mode 0 returns the selected plane and read mode 1 compares colours', () => {
    const r = planar();
    // Pixels 0..7 of colours 0..7 (MSB is pixel 0).
    const p = [0, 0, 0, 0];
    for (let x = 0; x < 8; x++) for (let b = 0; b < 4; b++) if ((x >> b) & 1) p[b] |= 0x80 >> x;
    preset(r, 90, p[0], p[1], p[2], p[3]);
    for (let plane = 0; plane < 4; plane++) {
      gr(r, 4, plane);
      expect(r.memory.read8(A + 90)).toBe(p[plane]);
    }
    gr(r, 5, 0x08);
    gr(r, 2, 0x05);
    gr(r, 7, 0x0f);
    expect(r.memory.read8(A + 90)).toBe(0x80 >> 5);
    // Only plane 0 considered: odd colours match colour 5.
    gr(r, 7, 0x01);
    expect(r.memory.read8(A + 90)).toBe(0x55);
  });

  it('memory map select decodes only its part of A0000-BFFFF', () => {
    const r = planar();
    gr(r, 6, 0x05); // A0000, 64 KiB
    expect(r.memory.read8(0xb8000)).toBe(0xff);
    r.memory.write8(0xb8000, 0x12);
    gr(r, 6, 0x0d); // B8000, 32 KiB
    r.memory.write8(0xb8001, 0x34);
    expect(planes(r, 1)).toEqual([0x34, 0x34, 0x34, 0x34]);
    expect(planes(r, 0)).toEqual([0, 0, 0, 0]);
    expect(r.memory.read8(0xa0000)).toBe(0xff);
    gr(r, 6, 0x09); // B0000, 32 KiB
    expect(r.memory.read8(0xb0001)).toBe(0x34);
    gr(r, 6, 0x01); // A0000, 128 KiB
    r.memory.write8(0xb0002, 0x56);
    expect(planes(r, 0x10002)).toEqual([0x56, 0x56, 0x56, 0x56]);
  });

  it('chain-4 addresses bytes linearly; with VRAM in guest memory the window is plain RAM', () => {
    const r = rig();
    setStandardMode(r.vga, 0x13);
    // Mapped as RAM over the VRAM backing: no MMIO dispatch for mode 13h.
    expect(r.memory.pageMap[0xa0] & 0xff).toBe(0);
    r.memory.write8(0xa0000 + 5, 0x42);
    expect(r.vga.mem.vram[5]).toBe(0x42);
    // Disabling a plane puts the window back on MMIO, where the map mask applies.
    sr(r, 2, 0x0e);
    expect(r.memory.pageMap[0xa0] & 0xff).toBe(2);
    r.memory.write8(0xa0000 + 8, 0x99); // plane 0: disabled
    r.memory.write8(0xa0000 + 9, 0x77); // plane 1
    expect(r.vga.mem.vram[8]).toBe(0);
    expect(r.vga.mem.vram[9]).toBe(0x77);
    // Private VRAM: the same through MMIO.
    const p = rig({ vramInGuestMemory: false });
    setStandardMode(p.vga, 0x13);
    expect(p.memory.pageMap[0xa0] & 0xff).toBe(2);
    p.memory.write8(0xa0000 + 5, 0x42);
    expect(p.vga.mem.vram[5]).toBe(0x42);
    expect(p.memory.read8(0xa0005)).toBe(0x42);
  });

  it('word and dword window accesses are little-endian byte sequences', () => {
    const r = rig({ vramInGuestMemory: false });
    setStandardMode(r.vga, 0x13);
    r.memory.write32(0xa0010, 0x44332211);
    expect(Array.from(r.vga.mem.vram.subarray(0x10, 0x14))).toEqual([0x11, 0x22, 0x33, 0x44]);
    expect(r.memory.read16(0xa0011) >>> 0).toBe(0x3322);
    expect(r.memory.read32(0xa0010) >>> 0).toBe(0x44332211);
  });
});
