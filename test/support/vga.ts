/**
 * Helpers for the adapter's unit tests: an adapter on a manual clock, optionally attached to
 * real guest memory and a port bus, a synthetic font and palette with known bits.
 */
import { IoBus } from '../../emulator-core/bus/io-bus.js';
import { ManualClock } from '../../emulator-core/machine/clock.js';
import { GuestMemory } from '../../emulator-core/memory/guest-memory.js';
import { rgba } from '../../emulator-core/devices/vga/palette.js';
import { StdVga, type StdVgaOptions } from '../../emulator-core/devices/vga/vga.js';

export interface TestRig {
  vga: StdVga;
  clock: ManualClock;
  memory: GuestMemory;
  io: IoBus;
}

export const TEST_RAM = 2 * 1024 * 1024;

/** An adapter attached to 2 MiB of guest RAM and a port bus. */
export function rig(options: Partial<StdVgaOptions> & { vramInGuestMemory?: boolean } = {}): TestRig {
  const clock = new ManualClock();
  const vga = new StdVga({ clock, ...options });
  const memory = new GuestMemory(TEST_RAM, { romBytes: vga.backingBytes });
  const io = new IoBus();
  vga.attach(memory, io, { vramInGuestMemory: options.vramInGuestMemory ?? true, mapBars: true });
  return { vga, clock, memory, io };
}

/** Deterministic glyphs: every bit pattern differs from its neighbours; NUL and space are blank. */
export function syntheticFont(height: number): Uint8Array {
  const font = new Uint8Array(256 * height);
  let s = 0x1234567;
  for (let c = 0; c < 256; c++) {
    for (let line = 0; line < height; line++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      font[c * height + line] = c === 0 || c === 0x20 ? 0 : (s >>> 16) & 0xff;
    }
  }
  return font;
}

/** 6-bit DAC components of entry i in the test palette (all 256 entries distinct enough). */
export function testDacEntry(i: number): [number, number, number] {
  return [(i * 7 + 1) & 0x3f, (i * 13 + 5) & 0x3f, (i * 29 + 11) & 0x3f];
}

export function testDacBytes(): Uint8Array {
  const out = new Uint8Array(768);
  for (let i = 0; i < 256; i++) out.set(testDacEntry(i), i * 3);
  return out;
}

/** RGBA word a 6-bit DAC entry renders as. */
export function dac6Rgba([r, g, b]: [number, number, number]): number {
  const w = (v: number): number => (v << 2) | (v >> 4);
  return rgba(w(r), w(g), w(b));
}

/** Pixel (x, y) of the adapter's frame as an RGBA word. */
export function pixelAt(vga: StdVga, x: number, y: number): number {
  const f = vga.renderer.frame;
  return f.px[y * f.width + x];
}
