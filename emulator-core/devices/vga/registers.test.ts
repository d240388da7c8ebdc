import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../machine/clock.js';
import { setStandardMode } from './modes.js';
import { StdVga } from './vga.js';

function vga(): { v: StdVga; clock: ManualClock } {
  const clock = new ManualClock();
  return { v: new StdVga({ clock }), clock };
}

describe('VGA registers', () => {
  it('attribute controller: 0x3C0 alternates index and data; reading input status 1 resets the flip-flop', () => {
    const { v } = vga();
    v.ioWrite(0x3c2, 1, 0x67);
    v.ioRead(0x3da, 1);
    v.ioWrite(0x3c0, 1, 0x05); // index 5
    v.ioWrite(0x3c0, 1, 0x2a); // data
    v.ioWrite(0x3c0, 1, 0x26); // index 6 with PAS
    expect(v.ioRead(0x3c0, 1)).toBe(0x26);
    v.ioWrite(0x3c0, 1, 0x15); // data for index 6
    expect(v.regs.ac[5]).toBe(0x2a);
    expect(v.regs.ac[6]).toBe(0x15);
    v.ioWrite(0x3c0, 1, 0x05);
    expect(v.ioRead(0x3c1, 1)).toBe(0x2a);
    // Mid-sequence (flip-flop on data), a status read makes the next write an index again.
    v.ioRead(0x3da, 1);
    v.ioWrite(0x3c0, 1, 0x10);
    v.ioWrite(0x3c0, 1, 0x0c);
    expect(v.regs.ac[0x10]).toBe(0x0c);
    expect(v.regs.ac[5]).toBe(0x2a);
    // Palette entries keep six bits; the mode register has no bit 4.
    v.ioRead(0x3da, 1);
    v.ioWrite(0x3c0, 1, 0x01);
    v.ioWrite(0x3c0, 1, 0xff);
    v.ioWrite(0x3c0, 1, 0x10);
    v.ioWrite(0x3c0, 1, 0xff);
    expect(v.regs.ac[1]).toBe(0x3f);
    expect(v.regs.ac[0x10]).toBe(0xef);
  });

  it('in monochrome addressing the flip-flop resets through 0x3BA, and 0x3Dx is not decoded', () => {
    const { v } = vga();
    v.ioWrite(0x3c2, 1, 0x66);
    v.ioWrite(0x3c0, 1, 0x07);
    v.ioRead(0x3da, 1); // not decoded in mono mode: no reset
    v.ioWrite(0x3c0, 1, 0x09);
    expect(v.regs.ac[7]).toBe(0x09);
    v.ioWrite(0x3c0, 1, 0x07);
    v.ioRead(0x3ba, 1);
    v.ioWrite(0x3c0, 1, 0x08); // an index again
    expect(v.ioRead(0x3c0, 1)).toBe(0x08);
    v.ioWrite(0x3b4, 2, 0x0a | (0x0b << 8));
    expect(v.regs.crtc[0x0a]).toBe(0x0b);
    expect(v.ioRead(0x3d5, 1)).toBe(0xff);
    v.ioWrite(0x3d4, 2, 0x0a | (0x0c << 8));
    expect(v.regs.crtc[0x0a]).toBe(0x0b);
  });

  it('DAC: read and write indices auto-increment over r, g, b', () => {
    const { v } = vga();
    v.ioWrite(0x3c8, 1, 5);
    for (const b of [1, 2, 3, 4, 5, 6, 7]) v.ioWrite(0x3c9, 1, b);
    expect(v.ioRead(0x3c8, 1)).toBe(7);
    expect(v.ioRead(0x3c7, 1)).toBe(0);
    v.ioWrite(0x3c7, 1, 5);
    expect(v.ioRead(0x3c7, 1)).toBe(3);
    expect([0, 1, 2, 3, 4, 5].map(() => v.ioRead(0x3c9, 1))).toEqual([1, 2, 3, 4, 5, 6]);
    // Entry 7 got only one component: not committed.
    expect(Array.from(v.regs.dac.subarray(21, 24))).toEqual([0, 0, 0]);
    // The index wraps from 255 to 0.
    v.ioWrite(0x3c8, 1, 255);
    for (let i = 0; i < 6; i++) v.ioWrite(0x3c9, 1, 10 + i);
    expect(Array.from(v.regs.dac.subarray(765, 768))).toEqual([10, 11, 12]);
    expect(Array.from(v.regs.dac.subarray(0, 3))).toEqual([13, 14, 15]);
  });

  it('DAC: six significant bits, or eight with the DISPI 8-bit DAC flag', () => {
    const { v } = vga();
    v.ioWrite(0x3c8, 1, 1);
    for (const b of [0xff, 0x80, 0x3f]) v.ioWrite(0x3c9, 1, b);
    v.ioWrite(0x3c7, 1, 1);
    expect([v.ioRead(0x3c9, 1), v.ioRead(0x3c9, 1), v.ioRead(0x3c9, 1)]).toEqual([0x3f, 0x00, 0x3f]);
    v.ioWrite(0x1ce, 2, 4);
    v.ioWrite(0x1cf, 2, 0x20);
    v.ioWrite(0x3c8, 1, 1);
    for (const b of [0xff, 0x80, 0x3f]) v.ioWrite(0x3c9, 1, b);
    v.ioWrite(0x3c7, 1, 1);
    expect([v.ioRead(0x3c9, 1), v.ioRead(0x3c9, 1), v.ioRead(0x3c9, 1)]).toEqual([0xff, 0x80, 0x3f]);
  });

  it('sequencer, graphics and CRTC index/data pairs; word writes set index and data', () => {
    const { v } = vga();
    v.ioWrite(0x3c2, 1, 0x67);
    v.ioWrite(0x3c4, 2, 0x0f02);
    v.ioWrite(0x3c4, 1, 0x02);
    expect(v.ioRead(0x3c5, 1)).toBe(0x0f);
    expect(v.ioRead(0x3c4, 2)).toBe(0x0f02);
    v.ioWrite(0x3ce, 2, 0xff05);
    expect(v.regs.gc[5]).toBe(0x7b); // unimplemented bits read as zero
    v.ioWrite(0x3d4, 2, 0x120f);
    expect(v.regs.crtc[0x0f]).toBe(0x12);
    expect(v.ioRead(0x3cc, 1)).toBe(0x67);
    v.ioWrite(0x3da, 1, 0x18);
    expect(v.ioRead(0x3ca, 1)).toBe(0x10);
    v.ioWrite(0x3c6, 1, 0x3c);
    expect(v.ioRead(0x3c6, 1)).toBe(0x3c);
  });

  it('CR11 bit 7 write-protects CR0-CR7 except the line compare bit', () => {
    const { v } = vga();
    setStandardMode(v, 3);
    expect(v.regs.crtc[0x11] & 0x80).toBe(0x80);
    v.ioWrite(0x3d4, 2, 0x01 | (0x20 << 8));
    expect(v.regs.crtc[0x01]).toBe(0x4f);
    v.ioWrite(0x3d4, 2, 0x07 | (0x00 << 8));
    expect(v.regs.crtc[0x07]).toBe(0x1f & ~0x10);
    v.ioWrite(0x3d4, 2, 0x11 | (0x0e << 8));
    v.ioWrite(0x3d4, 2, 0x01 | (0x20 << 8));
    expect(v.regs.crtc[0x01]).toBe(0x20);
  });

  it('vertical retrace follows guest time at the mode refresh rate', () => {
    const { v, clock } = vga();
    setStandardMode(v, 3);
    const frame = v.frameDuration();
    // 28.322 MHz / (100 x 9 dots) / 449 lines = 70.08 Hz.
    expect(1e9 / frame).toBeCloseTo(70.08, 1);
    const rises: number[] = [];
    let prev = 0;
    let retraceSamples = 0;
    let displaySamples = 0;
    const step = 5_000; // 5 us
    for (let t = 0; t < 3 * frame; t += step) {
      clock.set(t);
      const s = v.ioRead(0x3da, 1);
      const vr = s & 8;
      if (vr !== 0 && prev === 0) rises.push(t);
      if (vr !== 0) {
        retraceSamples++;
        expect(s & 1).toBe(1); // no display during retrace
      }
      if ((s & 1) === 0) displaySamples++;
      prev = vr;
    }
    expect(rises.length).toBeGreaterThanOrEqual(2);
    expect(Math.abs(rises[1] - rises[0] - frame)).toBeLessThanOrEqual(step);
    // Two lines of retrace per frame (about 64 us), display most of the time.
    expect(retraceSamples).toBeGreaterThanOrEqual(3 * 10);
    expect(retraceSamples).toBeLessThanOrEqual(3 * 15);
    expect(displaySamples / (3 * frame / step)).toBeGreaterThan(0.6);
  });

  it('a poll loop terminates even when guest time stands still', () => {
    const { v } = vga();
    setStandardMode(v, 0x13);
    // Wait for retrace end, then start, as DOS programs do.
    let n = 0;
    while ((v.ioRead(0x3da, 1) & 8) !== 0) if (++n > 10_000) throw new Error('stuck in retrace');
    while ((v.ioRead(0x3da, 1) & 8) === 0) if (++n > 10_000) throw new Error('retrace never came');
    expect(n).toBeLessThan(10_000);
  });
});
