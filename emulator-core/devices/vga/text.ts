/**
 * Alphanumeric (text) modes: cells of character + attribute in planes 0/1, glyphs from the
 * font the guest loaded into plane 2, colours through the attribute controller and DAC.
 *
 * Only cells whose character, attribute, cursor or blink state changed are redrawn: each
 * refresh computes a 32-bit key per cell and compares it with the key drawn last time.
 * Anything that changes every cell (font bytes, palette, geometry, start address) forces a
 * full redraw instead.
 */
import {
  AR10_BLINK,
  AR10_LINE_GRAPHICS,
  AR_MODE,
  CR_CURSOR_END,
  CR_CURSOR_HI,
  CR_CURSOR_LO,
  CR_CURSOR_START,
  CR_H_DISP_END,
  CR_LINE_COMPARE,
  CR_MAX_SCAN,
  CR_OFFSET,
  CR_OVERFLOW,
  CR_START_HI,
  CR_START_LO,
  CR_V_DISP_END,
  SR01_8DOT,
  SR01_HALF_CLOCK,
  SR_CHAR_MAP,
  SR_CLOCKING,
} from './constants.js';
import { decodeCp437 } from './cp437.js';
import type { DirtyList, Frame } from './frame.js';
import type { VgaMemory } from './memory.js';
import { fillPalette16 } from './palette.js';
import type { VgaRegisters } from './registers.js';

/** Cursor blink: 16 frames on, 16 off at 60 Hz; character blink at half that rate. */
export const CURSOR_BLINK_NS = (16 * 1e9) / 60;
export const CHAR_BLINK_NS = 2 * CURSOR_BLINK_NS;

/** Text cells wrap within the 64 Ki plane offsets the CRTC addresses. */
const CELL_MASK = 0xffff;
const FONT_BYTES = 256 * 32;

export interface TextGeometry {
  cols: number;
  rows: number;
  /** Glyph cell size in pixels (9 or 8 wide, doubled for 40-column modes). */
  cellWidth: number;
  cellHeight: number;
  /** Dots per glyph column: 8 or 9 (before doubling). */
  dots: number;
  doubleWidth: boolean;
  /** First displayed cell (plane offset). */
  start: number;
  /** Cells from one row to the next. */
  stride: number;
  /** Scanline after which the display restarts at cell 0 (split screen). */
  lineCompare: number;
}

export interface TextCursor {
  col: number;
  row: number;
  /** Enabled in CRTC register 0x0A and on screen (blink phase not considered). */
  visible: boolean;
}

export interface TextScreen {
  cols: number;
  rows: number;
  /** Character codes, row by row (cols * rows). */
  chars: Uint8Array;
  /** Attribute bytes, row by row. */
  attrs: Uint8Array;
  /** null when the cursor is outside the screen. */
  cursor: TextCursor | null;
  /** Each row decoded from code page 437 (NUL as space). */
  lines: string[];
}

/** The text layout the CRTC describes, or null if it is not a displayable one. */
export function textGeometry(regs: VgaRegisters): TextGeometry | null {
  const cr = regs.crtc;
  const ov = cr[CR_OVERFLOW];
  const cellHeight = (cr[CR_MAX_SCAN] & 0x1f) + 1;
  const dots = (regs.seq[SR_CLOCKING] & SR01_8DOT) !== 0 ? 8 : 9;
  const doubleWidth = (regs.seq[SR_CLOCKING] & SR01_HALF_CLOCK) !== 0;
  const cols = cr[CR_H_DISP_END] + 1;
  const lines = (cr[CR_V_DISP_END] | ((ov & 0x02) << 7) | ((ov & 0x40) << 3)) + 1;
  const rows = Math.floor(lines / cellHeight);
  if (rows < 1 || cols * rows < 2) return null;
  return {
    cols,
    rows,
    cellWidth: doubleWidth ? dots * 2 : dots,
    cellHeight,
    dots,
    doubleWidth,
    start: (cr[CR_START_HI] << 8) | cr[CR_START_LO],
    stride: cr[CR_OFFSET] * 2,
    lineCompare: cr[CR_LINE_COMPARE] | ((ov & 0x10) << 4) | ((cr[CR_MAX_SCAN] & 0x40) << 3),
  };
}

/** Plane-2 offsets of font maps A (attribute bit 3 set) and B (clear), from SR3. */
function fontOffsets(regs: VgaRegisters): [number, number] {
  const v = regs.seq[SR_CHAR_MAP];
  // Map n sits at (n & 3) * 16 KiB + (n >> 2) * 8 KiB.
  const a = ((v >> 5) & 1) * 0x2000 + ((v >> 2) & 3) * 0x4000;
  const b = ((v >> 4) & 1) * 0x2000 + (v & 3) * 0x4000;
  return [a, b];
}

/** Cell index of each row's first cell, honouring the line-compare split. */
function rowStart(g: TextGeometry, row: number): number {
  // The split restarts at cell 0 on the first row that begins after the compare line.
  const splitRow = Math.floor(g.lineCompare / g.cellHeight) + 1;
  if (row >= splitRow) return (row - splitRow) * g.stride;
  return g.start + row * g.stride;
}

export function readTextScreen(regs: VgaRegisters, mem: VgaMemory): TextScreen | null {
  const g = textGeometry(regs);
  if (g === null) return null;
  const n = g.cols * g.rows;
  const chars = new Uint8Array(n);
  const attrs = new Uint8Array(n);
  const vram = mem.vram;
  const lines: string[] = [];
  for (let row = 0; row < g.rows; row++) {
    const first = rowStart(g, row);
    for (let col = 0; col < g.cols; col++) {
      const o = ((first + col) & CELL_MASK) << 2;
      chars[row * g.cols + col] = vram[o];
      attrs[row * g.cols + col] = vram[o + 1];
    }
    lines.push(decodeCp437(chars.subarray(row * g.cols, (row + 1) * g.cols)));
  }
  const cr = regs.crtc;
  const pos = (((cr[CR_CURSOR_HI] << 8) | cr[CR_CURSOR_LO]) - g.start) & CELL_MASK;
  let cursor: TextCursor | null = null;
  if (pos < n && g.stride > 0) {
    const row = Math.floor(pos / g.stride);
    const col = pos - row * g.stride;
    if (row < g.rows && col < g.cols) cursor = { col, row, visible: cursorShape(regs, g) !== null };
  }
  return { cols: g.cols, rows: g.rows, chars, attrs, cursor, lines };
}

/** First and last scanline of the cursor in a cell, or null when it is off. */
function cursorShape(regs: VgaRegisters, g: TextGeometry): [number, number] | null {
  const start = regs.crtc[CR_CURSOR_START];
  if ((start & 0x20) !== 0) return null;
  const first = start & 0x1f;
  const last = Math.min(regs.crtc[CR_CURSOR_END] & 0x1f, g.cellHeight - 1);
  if (first > last) return null;
  return [first, last];
}

const KEY_CURSOR = 1 << 16;
const KEY_HIDDEN = 1 << 17;

export class TextRenderer {
  private keys = new Int32Array(0);
  private readonly fontShadow = new Uint8Array(2 * FONT_BYTES);
  private readonly palette = new Uint32Array(16);
  private paletteSerial = -1;
  /** Everything that, when it changes, changes every cell. */
  private readonly params = new Int32Array(12).fill(-1);
  private readonly nextParams = new Int32Array(12);
  private full = true;

  invalidate(): void {
    this.full = true;
  }

  /** Draw the text screen into `frame` (resizing it), recording changed cells in `dirty`. */
  render(regs: VgaRegisters, mem: VgaMemory, frame: Frame, dirty: DirtyList, now: number): boolean {
    const g = textGeometry(regs);
    if (g === null) return false;
    const width = g.cols * g.cellWidth;
    const height = g.rows * g.cellHeight;
    let full = this.full;
    this.full = false;
    if (frame.resize(width, height)) full = true;
    if (this.keys.length !== g.cols * g.rows) {
      this.keys = new Int32Array(g.cols * g.rows);
      full = true;
    }
    if (this.paletteSerial !== regs.paletteSerial) {
      this.paletteSerial = regs.paletteSerial;
      if (fillPalette16(regs, this.palette)) full = true;
    }
    const [fontA, fontB] = fontOffsets(regs);
    const cr = regs.crtc;
    const p = this.nextParams;
    p[0] = g.cols;
    p[1] = g.rows;
    p[2] = g.cellWidth;
    p[3] = g.cellHeight;
    p[4] = g.start;
    p[5] = g.stride;
    p[6] = g.lineCompare;
    p[7] = fontA;
    p[8] = fontB;
    p[9] = cr[CR_CURSOR_START] | (cr[CR_CURSOR_END] << 8);
    p[10] = regs.ac[AR_MODE] & (AR10_BLINK | AR10_LINE_GRAPHICS);
    p[11] = g.dots;
    for (let i = 0; i < p.length; i++) {
      if (p[i] !== this.params[i]) {
        full = true;
        this.params.set(p);
        break;
      }
    }
    // Font bytes can change behind our back (a mapped LFB aliases plane 2), so compare them.
    if (this.fontChanged(mem, fontA, 0)) full = true;
    if (fontB !== fontA && this.fontChanged(mem, fontB, FONT_BYTES)) full = true;
    if (full) dirty.addFull();

    const shape = cursorShape(regs, g);
    const cursorOn = shape !== null && Math.floor(now / CURSOR_BLINK_NS) % 2 === 0;
    const cursorCell = (((cr[CR_CURSOR_HI] << 8) | cr[CR_CURSOR_LO]) - g.start) & CELL_MASK;
    const blinkEnabled = (regs.ac[AR_MODE] & AR10_BLINK) !== 0;
    const blinkHide = blinkEnabled && Math.floor(now / CHAR_BLINK_NS) % 2 === 1;
    const vram = mem.vram;
    const keys = this.keys;
    for (let row = 0; row < g.rows; row++) {
      const first = rowStart(g, row);
      let minCol = g.cols;
      let maxCol = -1;
      for (let col = 0; col < g.cols; col++) {
        const o = ((first + col) & CELL_MASK) << 2;
        const ch = vram[o];
        const attr = vram[o + 1];
        let key = ch | (attr << 8);
        if (cursorOn && row * g.stride + col === cursorCell && first === g.start + row * g.stride) key |= KEY_CURSOR;
        if (blinkHide && (attr & 0x80) !== 0) key |= KEY_HIDDEN;
        const k = row * g.cols + col;
        if (!full && keys[k] === key) continue;
        keys[k] = key;
        this.drawCell(regs, mem, frame, g, col, row, key, (attr & 0x08) !== 0 ? fontA : fontB, shape, blinkEnabled);
        if (col < minCol) minCol = col;
        maxCol = col;
      }
      if (!full && maxCol >= 0) dirty.add(minCol * g.cellWidth, row * g.cellHeight, (maxCol - minCol + 1) * g.cellWidth, g.cellHeight);
    }
    return true;
  }

  /** Compare one font map (256 glyphs x 32 lines in plane 2) with what was drawn. */
  private fontChanged(mem: VgaMemory, offset: number, shadowAt: number): boolean {
    const vram = mem.vram;
    const shadow = this.fontShadow;
    let changed = false;
    for (let i = 0; i < FONT_BYTES; i++) {
      const b = vram[((offset + i) << 2) | 2];
      if (shadow[shadowAt + i] !== b) {
        shadow[shadowAt + i] = b;
        changed = true;
      }
    }
    return changed;
  }

  private drawCell(
    regs: VgaRegisters,
    mem: VgaMemory,
    frame: Frame,
    g: TextGeometry,
    col: number,
    row: number,
    key: number,
    font: number,
    shape: [number, number] | null,
    blinkEnabled: boolean,
  ): void {
    const ch = key & 0xff;
    const attr = (key >> 8) & 0xff;
    const fg = this.palette[attr & 0x0f];
    // With blinking enabled attribute bit 7 blinks the character; otherwise it brightens the background.
    const bg = this.palette[blinkEnabled ? (attr >> 4) & 0x07 : attr >> 4];
    const hidden = (key & KEY_HIDDEN) !== 0;
    const cursor = (key & KEY_CURSOR) !== 0 && shape !== null;
    const nineDup = g.dots === 9 && (regs.ac[AR_MODE] & AR10_LINE_GRAPHICS) !== 0 && ch >= 0xc0 && ch <= 0xdf;
    const px = frame.px;
    const vram = mem.vram;
    const fontBase = font + ch * 32;
    const step = g.doubleWidth ? 2 : 1;
    let o = row * g.cellHeight * frame.width + col * g.cellWidth;
    for (let line = 0; line < g.cellHeight; line++, o += frame.width) {
      let bits = hidden ? 0 : vram[((fontBase + line) << 2) | 2];
      // The ninth column repeats the eighth for line-drawing characters.
      if (g.dots === 9) bits = (bits << 1) | (nineDup ? bits & 1 : 0);
      if (cursor && line >= shape[0] && line <= shape[1]) bits = 0x1ff;
      let x = o;
      for (let b = g.dots - 1; b >= 0; b--) {
        const c = (bits >> b) & 1 ? fg : bg;
        px[x++] = c;
        if (step === 2) px[x++] = c;
      }
    }
  }
}
