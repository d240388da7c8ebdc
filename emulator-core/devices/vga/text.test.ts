import { describe, expect, it } from 'vitest';
import { loadDac, loadFont, setStandardMode, STANDARD_MODES } from './modes.js';
import { CHAR_BLINK_NS, CURSOR_BLINK_NS } from './text.js';
import { dac6Rgba, pixelAt, rig, syntheticFont, testDacBytes, testDacEntry, type TestRig } from '../../../test/support/vga.js';

const FONT = syntheticFont(16);
const AC3 = STANDARD_MODES[3].ac;

function mode3(): TestRig {
  const r = rig();
  setStandardMode(r.vga, 3);
  loadDac(r.vga, 0, testDacBytes());
  loadFont(r.vga, r.vga.window, FONT, 16);
  setCursor(r, 24 * 80 + 79);
  return r;
}

function setCursor(r: TestRig, cell: number): void {
  r.vga.ioWrite(0x3d4, 2, 0x0e | ((cell >> 8) << 8));
  r.vga.ioWrite(0x3d4, 2, 0x0f | ((cell & 0xff) << 8));
}

function put(r: TestRig, col: number, row: number, text: string, attr: number): void {
  for (let i = 0; i < text.length; i++) {
    const a = 0xb8000 + (row * 80 + col + i) * 2;
    r.memory.write8(a, text.charCodeAt(i));
    r.memory.write8(a + 1, attr);
  }
}

/** Colour of 4-bit attribute colour c in mode 3 with the test DAC. */
function colour(c: number): number {
  return dac6Rgba(testDacEntry(AC3[c]));
}

/** Check a 9x16 cell's pixels against the font bits. */
function expectGlyph(r: TestRig, col: number, row: number, ch: number, fg: number, bg: number): void {
  for (let line = 0; line < 16; line++) {
    const bits = FONT[ch * 16 + line];
    for (let x = 0; x < 9; x++) {
      let on: boolean;
      if (x < 8) on = ((bits >> (7 - x)) & 1) === 1;
      else on = ch >= 0xc0 && ch <= 0xdf && (bits & 1) === 1;
      const got = pixelAt(r.vga, col * 9 + x, row * 16 + line);
      if (got !== (on ? fg : bg)) {
        throw new Error(`cell ${col},${row} char ${ch.toString(16)} line ${line} x ${x}: got ${got.toString(16)}, want ${(on ? fg : bg).toString(16)}`);
      }
    }
  }
}

describe('VGA text mode', () => {
  it('mode 3 renders 720x400 glyphs from the font in plane 2', () => {
    const r = mode3();
    put(r, 0, 0, 'Hello, VGA', 0x1e);
    put(r, 10, 3, '\xc4\xb3\xdb', 0x07);
    const res = r.vga.render();
    expect(res.width).toBe(720);
    expect(res.height).toBe(400);
    expect(res.dirty).toEqual([{ x: 0, y: 0, w: 720, h: 400 }]);
    const text = 'Hello, VGA';
    for (let i = 0; i < text.length; i++) expectGlyph(r, i, 0, text.charCodeAt(i), colour(0x0e), colour(0x01));
    // Line-drawing characters (C0-DF) extend into the ninth column; others leave it blank.
    expectGlyph(r, 10, 3, 0xc4, colour(7), colour(0));
    expectGlyph(r, 11, 3, 0xb3, colour(7), colour(0));
    expectGlyph(r, 12, 3, 0xdb, colour(7), colour(0));
  });

  it('textScreen() reads back characters, attributes and the cursor', () => {
    const r = mode3();
    put(r, 0, 0, 'C:\\> dir', 0x07);
    put(r, 5, 12, 'middle', 0x4f);
    setCursor(r, 12 * 80 + 11);
    const t = r.vga.textScreen();
    expect(t).not.toBeNull();
    expect(t!.cols).toBe(80);
    expect(t!.rows).toBe(25);
    expect(t!.lines[0].trimEnd()).toBe('C:\\> dir');
    expect(t!.lines[12].slice(5, 11)).toBe('middle');
    expect(t!.attrs[12 * 80 + 5]).toBe(0x4f);
    expect(t!.chars[0]).toBe(0x43);
    expect(t!.cursor).toEqual({ col: 11, row: 12, visible: true });
    // CP437 box drawing decodes to Unicode.
    put(r, 0, 1, '\xc9\xcd\xbb', 0x07);
    expect(r.vga.textScreen()!.lines[1].slice(0, 3)).toBe('╔═╗');
  });

  it('follows the CRTC start address', () => {
    const r = mode3();
    put(r, 0, 1, 'second row', 0x07);
    r.vga.ioWrite(0x3d4, 2, 0x0c | (0 << 8));
    r.vga.ioWrite(0x3d4, 2, 0x0d | (80 << 8));
    expect(r.vga.textScreen()!.lines[0].trimEnd()).toBe('second row');
  });

  it('draws the cursor from CRTC start/end lines in the foreground colour, blinking with guest time', () => {
    const r = mode3();
    put(r, 3, 2, ' ', 0x1a);
    setCursor(r, 2 * 80 + 3);
    r.vga.render();
    const fg = colour(0x0a);
    const bg = colour(0x01);
    for (let line = 0; line < 16; line++) {
      const want = line >= 0x0d && line <= 0x0e ? fg : bg;
      expect(pixelAt(r.vga, 3 * 9 + 4, 2 * 16 + line)).toBe(want);
    }
    // Half a blink period later the cursor is off: only that cell is redrawn.
    r.clock.set(CURSOR_BLINK_NS + 1);
    const res = r.vga.render();
    expect(res.dirty).toEqual([{ x: 27, y: 32, w: 9, h: 16 }]);
    expect(pixelAt(r.vga, 3 * 9 + 4, 2 * 16 + 0x0d)).toBe(bg);
    // CR0A bit 5 turns it off for good.
    r.clock.set(0);
    r.vga.ioWrite(0x3d4, 2, 0x0a | (0x2d << 8));
    r.vga.render();
    expect(pixelAt(r.vga, 3 * 9 + 4, 2 * 16 + 0x0d)).toBe(bg);
    expect(r.vga.textScreen()!.cursor!.visible).toBe(false);
  });

  it('attribute bit 7 blinks the character, or selects a bright background when blinking is off', () => {
    const r = mode3();
    put(r, 0, 0, 'B', 0xc2); // blink, background 4 (or 12), foreground 2
    r.vga.render();
    expectGlyph(r, 0, 0, 0x42, colour(2), colour(4));
    r.clock.set(CHAR_BLINK_NS + 1);
    r.vga.render();
    expectGlyph(r, 0, 0, 0x00, colour(2), colour(4)); // hidden: all background
    // AR10 bit 3 off: bit 7 is background intensity, nothing blinks.
    r.vga.ioRead(0x3da, 1);
    r.vga.ioWrite(0x3c0, 1, 0x10);
    r.vga.ioWrite(0x3c0, 1, 0x04);
    r.vga.ioWrite(0x3c0, 1, 0x20);
    r.vga.render();
    expectGlyph(r, 0, 0, 0x42, colour(2), colour(12));
  });

  it('reports only changed cells as dirty', () => {
    const r = mode3();
    put(r, 0, 0, 'static text', 0x07);
    r.vga.render();
    expect(r.vga.render().dirty).toEqual([]);
    put(r, 40, 10, 'X', 0x07);
    expect(r.vga.render().dirty).toEqual([{ x: 360, y: 160, w: 9, h: 16 }]);
    // Two cells on adjacent rows in the same column merge into one rectangle.
    put(r, 5, 3, 'a', 0x07);
    put(r, 5, 4, 'b', 0x07);
    expect(r.vga.render().dirty).toEqual([{ x: 45, y: 48, w: 9, h: 32 }]);
    // Rewriting the same bytes changes nothing.
    put(r, 5, 3, 'a', 0x07);
    expect(r.vga.render().dirty).toEqual([]);
  });

  it('redraws everything when the font or the palette changes', () => {
    const r = mode3();
    put(r, 0, 0, 'A', 0x07);
    r.vga.render();
    const font2 = FONT.slice();
    font2[0x41 * 16 + 3] ^= 0xff;
    loadFont(r.vga, r.vga.window, font2, 16);
    expect(r.vga.render().dirty).toEqual([{ x: 0, y: 0, w: 720, h: 400 }]);
    expect(pixelAt(r.vga, 0, 3)).toBe((font2[0x41 * 16 + 3] & 0x80) !== 0 ? colour(7) : colour(0));
    loadDac(r.vga, 7, [63, 0, 0]);
    expect(r.vga.render().dirty).toEqual([{ x: 0, y: 0, w: 720, h: 400 }]);
  });

  it('8-dot and 40-column geometries come from the sequencer', () => {
    const r = mode3();
    put(r, 0, 0, 'W', 0x07);
    r.vga.ioWrite(0x3c4, 2, 0x01 | (0x01 << 8)); // 8-dot characters
    let res = r.vga.render();
    expect(res.width).toBe(640);
    for (let x = 0; x < 8; x++) expect(pixelAt(r.vga, x, 5)).toBe((FONT[0x57 * 16 + 5] >> (7 - x)) & 1 ? colour(7) : colour(0));
    r.vga.ioWrite(0x3c4, 2, 0x01 | (0x09 << 8)); // half dot clock: 16-pixel cells
    r.vga.ioWrite(0x3d4, 2, 0x01 | (39 << 8)); // ignored: CR0-CR7 are write-protected
    expect(r.vga.render().width).toBe(80 * 16);
    r.vga.ioWrite(0x3d4, 2, 0x11 | (0x0e << 8));
    r.vga.ioWrite(0x3d4, 2, 0x01 | (39 << 8));
    res = r.vga.render();
    expect(res.width).toBe(40 * 16);
    expect(r.vga.textScreen()!.cols).toBe(40);
  });

  it('odd/even addressing puts characters in plane 0 and attributes in plane 1', () => {
    const r = mode3();
    put(r, 0, 0, 'Z', 0x5a);
    const vram = r.vga.mem.vram;
    expect(vram[0]).toBe(0x5a);
    expect(vram[1]).toBe(0x5a);
    // Reading back through the window returns the same bytes.
    expect(r.memory.read8(0xb8000)).toBe(0x5a);
    expect(r.memory.read16(0xb8000)).toBe(0x5a5a);
    // Plane 2 (the font) is untouched by text writes.
    expect(vram[2]).toBe(FONT[0]);
  });
});
