/**
 * Standard IBM VGA register settings for a few BIOS modes, programmed through the ports as
 * a VGA BIOS would, and a font loader. The machine's VGA BIOS normally does this; these
 * serve unit tests and machines that start a guest without running the VGA BIOS.
 */
import type { PortIoHandler } from '../../bus/io-bus.js';
import { EmulatorError } from '../../errors.js';

export interface StandardMode {
  misc: number;
  seq: readonly number[];
  crtc: readonly number[];
  gc: readonly number[];
  ac: readonly number[];
}

const PALETTE_16 = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f];
const IDENTITY_16 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/** The register sets of the IBM VGA's modes 03h (80x25 text, 9x16 cells), 12h and 13h. */
export const STANDARD_MODES: Readonly<Record<number, StandardMode>> = {
  0x03: {
    misc: 0x67,
    seq: [0x03, 0x00, 0x03, 0x00, 0x02],
    crtc: [
      0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9,
      0xa3, 0xff,
    ],
    gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff],
    ac: [...PALETTE_16, 0x0c, 0x00, 0x0f, 0x08, 0x00],
  },
  0x12: {
    misc: 0xe3,
    seq: [0x03, 0x01, 0x0f, 0x00, 0x06],
    crtc: [
      0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04,
      0xe3, 0xff,
    ],
    gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff],
    ac: [...PALETTE_16, 0x01, 0x00, 0x0f, 0x00, 0x00],
  },
  0x13: {
    misc: 0x63,
    seq: [0x03, 0x01, 0x0f, 0x00, 0x0e],
    crtc: [
      0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9,
      0xa3, 0xff,
    ],
    gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff],
    ac: [...IDENTITY_16, 0x41, 0x00, 0x0f, 0x00, 0x00],
  },
};

/** Program a standard mode's registers through the ports (VRAM and DAC untouched). */
export function setStandardMode(io: PortIoHandler, mode: number): void {
  const m = STANDARD_MODES[mode];
  if (m === undefined) throw new EmulatorError('INTERNAL', `no register table for VGA mode ${mode.toString(16)}h`);
  programMode(io, m);
}

/** Program a register set through the ports, in the order a VGA BIOS uses. */
export function programMode(io: PortIoHandler, m: StandardMode): void {
  io.ioWrite(0x3c2, 1, m.misc);
  io.ioWrite(0x3c4, 1, 0x00);
  io.ioWrite(0x3c5, 1, 0x01); // synchronous reset while the clocking changes
  for (let i = 1; i < m.seq.length; i++) io.ioWrite(0x3c4, 2, i | (m.seq[i] << 8));
  io.ioWrite(0x3c4, 2, 0x0300);
  // Unlock CR0-CR7 before writing them.
  io.ioWrite(0x3d4, 2, 0x11 | ((m.crtc[0x11] & 0x7f) << 8));
  for (let i = 0; i < m.crtc.length; i++) io.ioWrite(0x3d4, 2, i | (m.crtc[i] << 8));
  for (let i = 0; i < m.gc.length; i++) io.ioWrite(0x3ce, 2, i | (m.gc[i] << 8));
  io.ioRead(0x3da, 1);
  for (let i = 0; i < m.ac.length; i++) {
    io.ioWrite(0x3c0, 1, i);
    io.ioWrite(0x3c0, 1, m.ac[i]);
  }
  io.ioWrite(0x3c0, 1, 0x20); // palette done: display on
}

/** Write `count` DAC entries from `rgb` (3 bytes each) starting at `first`. */
export function loadDac(io: PortIoHandler, first: number, rgb: ArrayLike<number>): void {
  io.ioWrite(0x3c8, 1, first);
  for (let i = 0; i < rgb.length; i++) io.ioWrite(0x3c9, 1, rgb[i]);
}

/** Where window accesses go: the adapter's MMIO handler for 0xA0000-0xBFFFF. */
export interface WindowWriter {
  mmioWrite(addr: number, size: 1 | 2 | 4, value: number): void;
}

/**
 * Load a font (`height` bytes per glyph, 256 glyphs) into plane 2, map 0, the way the VGA BIOS
 * does: planar access to plane 2 only, then back to text-mode addressing.
 */
export function loadFont(io: PortIoHandler, window: WindowWriter, font: Uint8Array, height: number): void {
  io.ioWrite(0x3c4, 2, 0x0100);
  io.ioWrite(0x3c4, 2, 0x0402); // map mask: plane 2
  io.ioWrite(0x3c4, 2, 0x0704); // sequential addressing, extended memory
  io.ioWrite(0x3c4, 2, 0x0300);
  io.ioWrite(0x3ce, 2, 0x0204); // read map 2
  io.ioWrite(0x3ce, 2, 0x0005); // write mode 0, no odd/even
  io.ioWrite(0x3ce, 2, 0x0406); // A0000, 64 KiB, text
  for (let c = 0; c < 256; c++) {
    for (let line = 0; line < height; line++) window.mmioWrite(0xa0000 + c * 32 + line, 1, font[c * height + line]);
  }
  io.ioWrite(0x3c4, 2, 0x0100);
  io.ioWrite(0x3c4, 2, 0x0302);
  io.ioWrite(0x3c4, 2, 0x0304);
  io.ioWrite(0x3c4, 2, 0x0300);
  io.ioWrite(0x3ce, 2, 0x0004);
  io.ioWrite(0x3ce, 2, 0x1005);
  io.ioWrite(0x3ce, 2, 0x0e06);
}
