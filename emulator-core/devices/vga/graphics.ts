/**
 * All-points-addressable modes: 16-colour planar (modes 0Dh-12h, DISPI 4 bpp), CGA 4-colour
 * (modes 4/5), 256-colour chain-4 and unchained (mode 13h, mode X), and DISPI packed-pixel
 * modes of 8, 15, 16, 24 and 32 bits per pixel.
 *
 * The output is in CRTC dot space, as a monitor shows it: mode 13h is 640x400 (pixels and
 * lines doubled), mode 12h is 640x480, DISPI modes are their own resolution.
 *
 * Change detection: guest writes to a linear framebuffer mapped as RAM never reach the
 * device, so each refresh compares every displayed line's source bytes with a copy taken
 * when it was last drawn (dword compares, no allocation) and redraws only lines that differ.
 */
import {
  AR10_8BIT,
  AR_MODE,
  AR_PEL_PANNING,
  AR_PLANE_ENABLE,
  CR_H_DISP_END,
  CR_LINE_COMPARE,
  CR_MAX_SCAN,
  CR_MODE,
  CR_OFFSET,
  CR_OVERFLOW,
  CR_START_HI,
  CR_START_LO,
  CR_V_DISP_END,
  GR_MODE,
  SR01_HALF_CLOCK,
  SR_CLOCKING,
  VGA_VRAM_BYTES,
} from './constants.js';
import type { DirtyList, Frame } from './frame.js';
import type { VgaMemory } from './memory.js';
import { fillPalette16, fillPalette256, rgba } from './palette.js';
import type { VgaRegisters } from './registers.js';
import type { Dispi } from './vbe.js';

/** How source bytes become pixels. Palette formats come first (see the palette check). */
export const PixelFormat = {
  Planar4: 0,
  Cga2: 1,
  Pal8Double: 2,
  Pal8: 3,
  Rgb15: 4,
  Rgb16: 5,
  Rgb24: 6,
  Rgb32: 7,
} as const;
export type PixelFormat = (typeof PixelFormat)[keyof typeof PixelFormat];

/** Largest output the renderer accepts (DISPI's own limit is lower). */
const MAX_DIM = 4096;

export interface GraphicsMode {
  format: PixelFormat;
  /** Output size in pixels. */
  width: number;
  height: number;
  /** Source pixels per line (before horizontal doubling). */
  srcPixels: number;
  /** Each source pixel drawn twice horizontally. */
  doubleX: boolean;
  /** VRAM bytes from one source line to the next. */
  lineOffset: number;
  /** VRAM byte address of the first line. */
  start: number;
  /** Output line after which the address restarts at 0, or -1. */
  lineCompare: number;
  /** Scanlines per row of the CRTC address counter, minus one (CR09 bits 0-4). */
  maxScan: number;
  /** Every scanline shown twice (CR09 bit 7). */
  doubleScan: boolean;
  /** CRTC mode control (CR17) bits 0-1 and 6 for CGA-style interleaving; 3 = none. */
  crtcMode: number;
  /** Address wrap mask: 256 KiB for VGA modes, VRAM size for DISPI modes. */
  wrapMask: number;
  /** Horizontal pel panning (planar modes). */
  panning: number;
}

/** Describe the current graphics mode, or null if it cannot be displayed. */
export function graphicsMode(regs: VgaRegisters, dispi: Dispi, vramSize: number): GraphicsMode | null {
  if (dispi.enabled) {
    const bpp = dispi.bpp;
    const width = dispi.xres;
    const height = dispi.yres;
    if (width < 8 || height < 1 || width > MAX_DIM || height > MAX_DIM) return null;
    const format =
      bpp === 4
        ? PixelFormat.Planar4
        : bpp === 8
          ? PixelFormat.Pal8
          : bpp === 15
            ? PixelFormat.Rgb15
            : bpp === 16
              ? PixelFormat.Rgb16
              : bpp === 24
                ? PixelFormat.Rgb24
                : PixelFormat.Rgb32;
    return {
      format,
      width,
      height,
      srcPixels: width,
      doubleX: false,
      lineOffset: dispi.lineOffset,
      start: dispi.startAddr,
      lineCompare: -1,
      maxScan: 0,
      doubleScan: false,
      crtcMode: 3,
      wrapMask: vramSize - 1,
      panning: 0,
    };
  }
  const cr = regs.crtc;
  const ov = cr[CR_OVERFLOW];
  let width = (cr[CR_H_DISP_END] + 1) * 8;
  const height = (cr[CR_V_DISP_END] | ((ov & 0x02) << 7) | ((ov & 0x40) << 3)) + 1;
  const shift = (regs.gc[GR_MODE] >> 5) & 3;
  const halfClock = (regs.seq[SR_CLOCKING] & SR01_HALF_CLOCK) !== 0;
  let format: PixelFormat;
  let srcPixels: number;
  let doubleX: boolean;
  if (shift === 0 || shift === 1) {
    format = shift === 0 ? PixelFormat.Planar4 : PixelFormat.Cga2;
    srcPixels = width;
    doubleX = halfClock;
    if (halfClock) width *= 2;
  } else {
    // 256 colours: each 8-bit pixel takes two dot clocks.
    format = PixelFormat.Pal8Double;
    srcPixels = width / 2;
    doubleX = true;
  }
  if (width > MAX_DIM || height > MAX_DIM || height < 1) return null;
  return {
    format,
    width,
    height,
    srcPixels,
    doubleX,
    lineOffset: cr[CR_OFFSET] << 3,
    start: ((cr[CR_START_HI] << 8) | cr[CR_START_LO]) << 2,
    lineCompare: cr[CR_LINE_COMPARE] | ((ov & 0x10) << 4) | ((cr[CR_MAX_SCAN] & 0x40) << 3),
    maxScan: cr[CR_MAX_SCAN] & 0x1f,
    doubleScan: (cr[CR_MAX_SCAN] & 0x80) !== 0,
    crtcMode: cr[CR_MODE] & 0x43,
    wrapMask: VGA_VRAM_BYTES - 1,
    panning: format === PixelFormat.Planar4 ? regs.ac[AR_PEL_PANNING] & 7 : 0,
  };
}

/** VRAM bytes one source line consumes. */
function lineBytes(m: GraphicsMode): number {
  const groups = Math.ceil((m.srcPixels + m.panning) / 8);
  switch (m.format) {
    case PixelFormat.Planar4:
    case PixelFormat.Cga2:
      return groups * 4;
    case PixelFormat.Pal8Double:
    case PixelFormat.Pal8:
      return m.srcPixels;
    case PixelFormat.Rgb15:
    case PixelFormat.Rgb16:
      return m.srcPixels * 2;
    case PixelFormat.Rgb24:
      return m.srcPixels * 3;
    default:
      return m.srcPixels * 4;
  }
}

/** Output x of source byte offset `b` within a line (rounding up for an end). */
function pixelOf(m: GraphicsMode, b: number, up: boolean): number {
  let px: number;
  switch (m.format) {
    case PixelFormat.Planar4:
    case PixelFormat.Cga2:
      px = (up ? Math.ceil(b / 4) : Math.floor(b / 4)) * 8;
      break;
    case PixelFormat.Pal8Double:
    case PixelFormat.Pal8:
      return m.doubleX ? b * 2 : b;
    case PixelFormat.Rgb15:
    case PixelFormat.Rgb16:
      px = up ? Math.ceil(b / 2) : b >> 1;
      break;
    case PixelFormat.Rgb24:
      px = up ? Math.ceil(b / 3) : Math.floor(b / 3);
      break;
    default:
      px = up ? Math.ceil(b / 4) : b >> 2;
  }
  return m.doubleX ? px * 2 : px;
}

const MODE_FIELDS = 13;

export class GraphicsRenderer {
  /** Source address each output line was drawn from (-1: not drawn; -2: copy of the line above). */
  private lineAddr = new Int32Array(0);
  private shadow = new Int32Array(0);
  /** Shadow words per line. */
  private stride = 0;
  private readonly palette = new Uint32Array(256);
  private paletteSerial = -1;
  private paletteKind = -1;
  private readonly modeKey = new Int32Array(MODE_FIELDS).fill(-1);
  private readonly nextKey = new Int32Array(MODE_FIELDS);
  /** Colour indices of one planar line, before the palette. */
  private indices = new Uint8Array(MAX_DIM + 16);
  private full = true;
  /** Byte range of the last difference differs() found. */
  private diffLo = 0;
  private diffHi = 0;

  invalidate(): void {
    this.full = true;
  }

  render(regs: VgaRegisters, mem: VgaMemory, dispi: Dispi, frame: Frame, dirty: DirtyList): boolean {
    const m = graphicsMode(regs, dispi, mem.size);
    if (m === null) return false;
    let full = this.full;
    this.full = false;
    if (frame.resize(m.width, m.height)) full = true;

    const bytes = lineBytes(m);
    const stride = (bytes + 3) >>> 2;
    if (this.lineAddr.length !== m.height || this.stride !== stride) {
      this.lineAddr = new Int32Array(m.height).fill(-1);
      this.shadow = new Int32Array(m.height * stride);
      this.stride = stride;
      full = true;
    }

    const k = this.nextKey;
    k[0] = m.format;
    k[1] = m.width;
    k[2] = m.height;
    k[3] = m.lineOffset;
    k[4] = m.start;
    k[5] = m.lineCompare;
    k[6] = m.maxScan | (m.doubleScan ? 0x100 : 0);
    k[7] = m.crtcMode;
    k[8] = m.panning;
    k[9] = m.doubleX ? 1 : 0;
    k[10] = regs.ac[AR_PLANE_ENABLE] & 0x0f;
    k[11] = regs.ac[AR_MODE] & AR10_8BIT;
    k[12] = m.srcPixels;
    for (let i = 0; i < MODE_FIELDS; i++) {
      if (k[i] !== this.modeKey[i]) {
        this.modeKey.set(k);
        full = true;
        break;
      }
    }

    const kind = m.format === PixelFormat.Planar4 || m.format === PixelFormat.Cga2 ? 16 : 256;
    if (this.paletteSerial !== regs.paletteSerial || this.paletteKind !== kind) {
      this.paletteSerial = regs.paletteSerial;
      this.paletteKind = kind;
      const changed = kind === 16 ? fillPalette16(regs, this.palette) : fillPalette256(regs, this.palette);
      // Direct-colour modes do not use the palette.
      if (changed && m.format <= PixelFormat.Pal8) full = true;
    }
    if (full) {
      this.lineAddr.fill(-1);
      dirty.addFull();
    }

    const lineAddr = this.lineAddr;
    // The CRTC's row address and row scan counter: the address advances by the offset when
    // the row scan passes the maximum scan line; CGA-style interleave takes address bits
    // from the row scan.
    let rowAddr = m.start;
    let rowScan = 0;
    let secondOfDouble = false;
    // Consecutive changed lines form a band; its columns are the union of theirs.
    let bandStart = -1;
    let bandX0 = 0;
    let bandX1 = 0;
    let prevAddr = -1;
    let prevDrawn = false;
    let x0 = 0;
    let x1 = 0;
    for (let y = 0; y < m.height; y++) {
      let addr = rowAddr;
      if ((m.crtcMode & 1) === 0) {
        // CGA compatibility: row scan bit 0 replaces address bit 13 (in dwords; 14 in byte mode).
        const bit = 14 + ((m.crtcMode >> 6) & 1);
        addr = (addr & ~(1 << bit)) | ((rowScan & 1) << bit);
      }
      if ((m.crtcMode & 2) === 0) addr = (addr & ~0x8000) | ((rowScan & 2) << 14);
      addr &= m.wrapMask;

      let drawn: boolean;
      if (y > 0 && addr === prevAddr) {
        // A repeated scanline: copy the line above when it changed or this one is stale.
        if (!prevDrawn && lineAddr[y] !== -2) {
          x0 = 0;
          x1 = m.width;
        }
        drawn = prevDrawn || lineAddr[y] !== -2;
        if (drawn) frame.px.copyWithin(y * m.width, (y - 1) * m.width, y * m.width);
        lineAddr[y] = -2;
      } else {
        if (lineAddr[y] !== addr) {
          drawn = true;
          x0 = 0;
          x1 = m.width;
        } else {
          drawn = this.differs(mem, y, addr, bytes, m.wrapMask);
          if (drawn) {
            x0 = m.panning !== 0 ? 0 : Math.max(0, Math.min(m.width, pixelOf(m, this.diffLo, false)));
            x1 = m.panning !== 0 ? m.width : Math.max(x0, Math.min(m.width, pixelOf(m, this.diffHi + 1, true)));
          }
        }
        if (drawn) {
          this.drawLine(regs, mem, frame, m, y, addr, y > m.lineCompare && m.lineCompare >= 0);
          this.keep(mem, y, addr, bytes, m.wrapMask);
          lineAddr[y] = addr;
        }
      }
      prevAddr = addr;
      prevDrawn = drawn;
      if (drawn) {
        if (bandStart < 0) {
          bandStart = y;
          bandX0 = x0;
          bandX1 = x1;
        } else {
          bandX0 = Math.min(bandX0, x0);
          bandX1 = Math.max(bandX1, x1);
        }
      } else if (bandStart >= 0) {
        dirty.add(bandX0, bandStart, bandX1 - bandX0, y - bandStart);
        bandStart = -1;
      }

      if (m.doubleScan && !secondOfDouble) {
        secondOfDouble = true;
      } else {
        secondOfDouble = false;
        if (rowScan >= m.maxScan) {
          rowScan = 0;
          rowAddr += m.lineOffset;
        } else {
          rowScan++;
        }
      }
      if (y === m.lineCompare) {
        rowAddr = 0;
        rowScan = 0;
        secondOfDouble = false;
      }
    }
    if (bandStart >= 0) dirty.add(bandX0, bandStart, bandX1 - bandX0, m.height - bandStart);
    return true;
  }

  /**
   * Whether VRAM at `addr` differs from the copy kept for line y; if so diffLo/diffHi hold
   * the first and last differing byte offsets (dword granular on the fast path).
   */
  private differs(mem: VgaMemory, y: number, addr: number, bytes: number, wrap: number): boolean {
    const shadow = this.shadow;
    const base = y * this.stride;
    const words = this.stride;
    if ((addr & 3) === 0 && addr + words * 4 <= wrap + 1 && addr + words * 4 <= mem.size) {
      const v = mem.vram32;
      const w0 = addr >>> 2;
      let i = 0;
      while (i < words && v[w0 + i] === shadow[base + i]) i++;
      if (i === words) return false;
      let j = words - 1;
      while (j > i && v[w0 + j] === shadow[base + j]) j--;
      this.diffLo = i * 4;
      this.diffHi = j * 4 + 3;
      return true;
    }
    const vram = mem.vram;
    let lo = -1;
    let hi = -1;
    for (let i = 0; i < bytes; i++) {
      const s = (shadow[base + (i >>> 2)] >>> ((i & 3) << 3)) & 0xff;
      if (vram[(addr + i) & wrap] !== s) {
        if (lo < 0) lo = i;
        hi = i;
      }
    }
    if (lo < 0) return false;
    this.diffLo = lo;
    this.diffHi = hi;
    return true;
  }

  /** Remember line y's source bytes. */
  private keep(mem: VgaMemory, y: number, addr: number, bytes: number, wrap: number): void {
    const shadow = this.shadow;
    const base = y * this.stride;
    const words = this.stride;
    if ((addr & 3) === 0 && addr + words * 4 <= wrap + 1 && addr + words * 4 <= mem.size) {
      const v = mem.vram32;
      const w0 = addr >>> 2;
      for (let i = 0; i < words; i++) shadow[base + i] = v[w0 + i];
      return;
    }
    const vram = mem.vram;
    for (let i = 0; i < words; i++) {
      let w = 0;
      for (let j = 0; j < 4; j++) {
        const n = i * 4 + j;
        if (n < bytes) w |= vram[(addr + n) & wrap] << (j << 3);
      }
      shadow[base + i] = w;
    }
  }

  private drawLine(regs: VgaRegisters, mem: VgaMemory, frame: Frame, m: GraphicsMode, y: number, addr: number, belowSplit: boolean): void {
    const px = frame.px;
    const o = y * m.width;
    const vram = mem.vram;
    const wrap = m.wrapMask;
    const pal = this.palette;
    switch (m.format) {
      case PixelFormat.Planar4:
      case PixelFormat.Cga2: {
        // AR10 bit 5 exempts the split-screen part from panning.
        const pan = belowSplit && (regs.ac[AR_MODE] & 0x20) !== 0 ? 0 : m.panning;
        const idx = this.indices;
        const groups = Math.ceil((m.srcPixels + pan) / 8);
        const enable = regs.ac[AR_PLANE_ENABLE] & 0x0f;
        const planar = m.format === PixelFormat.Planar4;
        for (let gi = 0, x = 0; gi < groups; gi++, x += 8) {
          const a = (addr + gi * 4) & wrap;
          const p0 = enable & 1 ? vram[a] : 0;
          const p1 = enable & 2 ? vram[a + 1] : 0;
          const p2 = enable & 4 ? vram[a + 2] : 0;
          const p3 = enable & 8 ? vram[a + 3] : 0;
          if (planar) {
            for (let b = 0; b < 8; b++) {
              const s = 7 - b;
              idx[x + b] = ((p0 >> s) & 1) | (((p1 >> s) & 1) << 1) | (((p2 >> s) & 1) << 2) | (((p3 >> s) & 1) << 3);
            }
          } else {
            // Two bits per pixel: planes 0/2 give pixels 0-3, planes 1/3 pixels 4-7.
            for (let b = 0; b < 4; b++) {
              const s = 6 - 2 * b;
              idx[x + b] = ((p0 >> s) & 3) | (((p2 >> s) & 3) << 2);
              idx[x + 4 + b] = ((p1 >> s) & 3) | (((p3 >> s) & 3) << 2);
            }
          }
        }
        if (m.doubleX) {
          for (let i = 0; i < m.srcPixels; i++) {
            const c = pal[idx[i + pan]];
            px[o + 2 * i] = c;
            px[o + 2 * i + 1] = c;
          }
        } else {
          for (let i = 0; i < m.srcPixels; i++) px[o + i] = pal[idx[i + pan]];
        }
        return;
      }
      case PixelFormat.Pal8Double:
        for (let i = 0; i < m.srcPixels; i++) {
          const c = pal[vram[(addr + i) & wrap]];
          px[o + 2 * i] = c;
          px[o + 2 * i + 1] = c;
        }
        return;
      case PixelFormat.Pal8:
        for (let i = 0; i < m.srcPixels; i++) px[o + i] = pal[vram[(addr + i) & wrap]];
        return;
      case PixelFormat.Rgb15:
        for (let i = 0; i < m.srcPixels; i++) {
          const a = (addr + 2 * i) & wrap;
          const v = vram[a] | (vram[(a + 1) & wrap] << 8);
          const r = (v >> 10) & 0x1f;
          const g = (v >> 5) & 0x1f;
          const b = v & 0x1f;
          px[o + i] = rgba((r << 3) | (r >> 2), (g << 3) | (g >> 2), (b << 3) | (b >> 2));
        }
        return;
      case PixelFormat.Rgb16:
        for (let i = 0; i < m.srcPixels; i++) {
          const a = (addr + 2 * i) & wrap;
          const v = vram[a] | (vram[(a + 1) & wrap] << 8);
          const r = v >> 11;
          const g = (v >> 5) & 0x3f;
          const b = v & 0x1f;
          px[o + i] = rgba((r << 3) | (r >> 2), (g << 2) | (g >> 4), (b << 3) | (b >> 2));
        }
        return;
      case PixelFormat.Rgb24:
        for (let i = 0; i < m.srcPixels; i++) {
          const a = addr + 3 * i;
          px[o + i] = rgba(vram[(a + 2) & wrap], vram[(a + 1) & wrap], vram[a & wrap]);
        }
        return;
      default: {
        if ((addr & 3) === 0 && addr + m.srcPixels * 4 <= mem.size) {
          // Memory holds b, g, r, x: swap r and b into the frame's r, g, b, a.
          const v = mem.vram32;
          const w0 = addr >>> 2;
          for (let i = 0; i < m.srcPixels; i++) {
            const w = v[w0 + i];
            px[o + i] = ((w >>> 16) & 0xff) | (w & 0xff00) | ((w & 0xff) << 16) | 0xff000000;
          }
        } else {
          for (let i = 0; i < m.srcPixels; i++) {
            const a = addr + 4 * i;
            px[o + i] = rgba(vram[(a + 2) & wrap], vram[(a + 1) & wrap], vram[a & wrap]);
          }
        }
      }
    }
  }
}
