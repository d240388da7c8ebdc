/**
 * The adapter driven by the real SeaBIOS VGA BIOS (Debian's vgabios-stdvga.bin) on the
 * software CPU in real mode: POST, INT 10h text and graphics modes, VBE. No PC around it,
 * only what the VGA BIOS touches: an IVT, PCI configuration ports for the adapter, a stack.
 */
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { IoBus, type AccessSize, type PortIoHandler } from '../../bus/io-bus.js';
import { AR_P, AR_S, CS, DS, ES, SS } from '../../cpu/constants.js';
import { Cpu, FAULT } from '../../cpu/cpu.js';
import { step } from '../../cpu/interpreter.js';
import { ManualClock } from '../../machine/clock.js';
import { GuestMemory } from '../../memory/guest-memory.js';
import { rgba } from './palette.js';
import { StdVga } from './vga.js';

const ROM_PATH = '/usr/share/seabios/vgabios-stdvga.bin';
const haveRom = existsSync(ROM_PATH);
if (!haveRom) console.warn(`${ROM_PATH} not installed (Debian package seabios): VGA BIOS tests skipped`);

const LFB = 0xe0000000;
const STUB = 0x8000;
const BUF = 0x9000;
const AX = 0;
const CX = 1;
const DX = 2;
const BX = 3;
const DI = 7;

class BiosRig {
  readonly clock = new ManualClock();
  readonly rom = new Uint8Array(readFileSync(ROM_PATH));
  readonly vga = new StdVga({ clock: this.clock, vgaBios: this.rom });
  readonly mem = new GuestMemory(2 << 20, { romBytes: this.vga.backingBytes });
  readonly io = new IoBus();
  readonly cpu: Cpu;
  debug = '';

  constructor() {
    this.vga.attach(this.mem, this.io, { mapBars: true });
    // What SeaBIOS's PCI setup leaves: BARs assigned, I/O and memory decoding on.
    this.vga.configWrite(0x10, 4, LFB);
    this.vga.configWrite(0x18, 4, 0xfebf0000);
    this.vga.configWrite(0x04, 2, 0x0003);
    let address = 0;
    const selected = (): boolean => (address & 0x80ffff00) >>> 0 === 0x80001000; // 00:02.0
    const pci: PortIoHandler = {
      ioRead: (port: number, size: AccessSize): number => {
        if (port === 0xcf8) return address >>> 0;
        if (!selected()) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
        return this.vga.configRead((address & 0xfc) + (port & 3), size);
      },
      ioWrite: (port: number, size: AccessSize, value: number): void => {
        if (port === 0xcf8) address = value >>> 0;
        else if (selected()) this.vga.configWrite((address & 0xfc) + (port & 3), size, value);
      },
    };
    this.io.register(0xcf8, 8, pci, 'pci');
    this.io.register(0x402, 1, { ioRead: () => 0, ioWrite: (_p, _s, v) => void (this.debug += String.fromCharCode(v & 0xff)) }, 'debugcon');
    // The system BIOS has copied the option ROM to C0000 (writable until POST ends).
    this.mem.writeBytes(0xc0000, this.rom);
    // Every vector points at an IRET.
    this.mem.write8(0xfff53, 0xcf);
    for (let v = 0; v < 256; v++) {
      this.mem.write16(v * 4, 0xff53);
      this.mem.write16(v * 4 + 2, 0xf000);
    }
    this.cpu = new Cpu(this.mem, this.io, { clock: this.clock });
  }

  /** Run `code` at 0000:8000 (ending in HLT) with the given registers; returns AX. */
  run(code: number[], regs: Record<number, number>): number {
    const c = this.cpu;
    this.mem.writeBytes(STUB, new Uint8Array(code));
    c.loadRealSegmentRaw(CS, 0, 0xffff, AR_P | AR_S | 0xb);
    // SeaBIOS calls option ROMs in big real mode; its VGA BIOS relies on it during POST.
    for (const s of [DS, ES, SS]) c.loadRealSegmentRaw(s, 0, -1, AR_P | AR_S | 3);
    for (const [r, v] of Object.entries(regs)) c.r32[Number(r)] = v;
    c.r32[4] = 0x7000;
    c.setEip(STUB);
    const stop = STUB + code.length - 1;
    for (let n = 0; c.eip !== stop; n++) {
      if (n > 20_000_000) throw new Error('VGA BIOS call did not return');
      try {
        step(c);
      } catch (e) {
        if (e !== FAULT) throw e;
        throw new Error(`exception ${c.excVector} at ${c.segSel[CS].toString(16)}:${c.eip.toString(16)}`, { cause: e });
      }
    }
    return c.r32[AX] & 0xffff;
  }

  int10(regs: Record<number, number>): number {
    return this.run([0xcd, 0x10, 0xf4], regs);
  }

  post(): void {
    this.run([0x9a, 0x03, 0x00, 0x00, 0xc0, 0xf4], { [AX]: 0x0010 });
  }

  pixel(x: number, y: number): number {
    const f = this.vga.renderer.frame;
    return f.px[y * f.width + x];
  }

  /** DAC entry i as the renderer shows it (6-bit DAC). */
  dac(i: number): number {
    const d = this.vga.regs.dac;
    const w = (v: number): number => (v << 2) | (v >> 4);
    return rgba(w(d[i * 3]), w(d[i * 3 + 1]), w(d[i * 3 + 2]));
  }
}

describe.skipIf(!haveRom)("SeaBIOS's VGA BIOS on the adapter", () => {
  let b: BiosRig;
  beforeAll(() => {
    b = new BiosRig();
    b.post();
  });

  it('POST finds the DISPI interface and the LFB through BAR0', () => {
    expect(b.debug).toContain('VBE DISPI: lfb_addr=e0000000, size 16 MB');
  });

  it('mode 3: teletype output appears as text and as the BIOS font\'s glyphs', () => {
    b.int10({ [AX]: 0x0003 });
    for (const ch of 'Hello from SeaBIOS\r\nline 2') b.int10({ [AX]: 0x0e00 | ch.charCodeAt(0), [BX]: 0x0007 });
    const t = b.vga.textScreen()!;
    expect([t.cols, t.rows]).toEqual([80, 25]);
    expect(t.lines[0].trimEnd()).toBe('Hello from SeaBIOS');
    expect(t.lines[1].trimEnd()).toBe('line 2');
    expect(t.cursor).toEqual({ col: 6, row: 1, visible: true });
    const res = b.vga.render();
    expect([res.width, res.height]).toEqual([720, 400]);
    // The glyph of 'H' in plane 2 is the ROM's own 8x16 font, and the screen shows it.
    const vram = b.vga.mem.vram;
    const glyph = Array.from({ length: 16 }, (_, line) => vram[((0x48 * 32 + line) << 2) | 2]);
    expect(glyph.some((v) => v !== 0)).toBe(true);
    expect(Buffer.from(b.rom).indexOf(Buffer.from(glyph))).toBeGreaterThan(0);
    const fg = b.dac(0x07);
    const bg = b.dac(0x00);
    for (let line = 0; line < 16; line++) {
      for (let x = 0; x < 8; x++) expect(b.pixel(x, line)).toBe((glyph[line] >> (7 - x)) & 1 ? fg : bg);
    }
  });

  it('mode 3: scrolling moves the text up', () => {
    b.int10({ [AX]: 0x0003 });
    for (const ch of 'top\r\nsecond') b.int10({ [AX]: 0x0e00 | ch.charCodeAt(0), [BX]: 0x0007 });
    b.int10({ [AX]: 0x0601, [BX]: 0x0700, [CX]: 0x0000, [DX]: 0x184f });
    expect(b.vga.textScreen()!.lines[0].trimEnd()).toBe('second');
  });

  it('mode 12h: INT 10h pixels and text go through the planar pipeline', () => {
    b.int10({ [AX]: 0x0012 });
    for (let x = 0; x < 16; x++) b.int10({ [AX]: 0x0c00 | x, [BX]: 0, [CX]: 200 + x, [DX]: 100 });
    for (const ch of '\r\nAB') b.int10({ [AX]: 0x0e00 | ch.charCodeAt(0), [BX]: 0x000f });
    const res = b.vga.render();
    expect([res.width, res.height]).toEqual([640, 480]);
    for (let x = 0; x < 16; x++) expect(b.pixel(200 + x, 100)).toBe(b.dac(b.vga.regs.ac[x]));
    // Read the pixel back through INT 10h (read mode 0 over four planes).
    expect(b.int10({ [AX]: 0x0d00, [BX]: 0, [CX]: 205, [DX]: 100 }) & 0xff).toBe(5);
    // Scrolling (a latch copy in write mode 1) moves the text row up by 16 lines.
    const before = Array.from({ length: 16 * 16 }, (_, i) => b.pixel(i % 16, 16 + Math.floor(i / 16)));
    expect(before.some((p) => p !== b.dac(0))).toBe(true);
    b.int10({ [AX]: 0x0601, [BX]: 0x0000, [CX]: 0x0000, [DX]: 0x1d4f });
    b.vga.render();
    const after = Array.from({ length: 16 * 16 }, (_, i) => b.pixel(i % 16, Math.floor(i / 16)));
    expect(after).toEqual(before);
  });

  it('CGA and EGA modes 04h, 06h, 0Dh: INT 10h pixels land on doubled scanlines', () => {
    for (const [mode, colour] of [
      [0x04, 2],
      [0x06, 1],
      [0x0d, 9],
    ]) {
      b.int10({ [AX]: mode });
      b.int10({ [AX]: 0x0c00 | colour, [BX]: 0, [CX]: 5, [DX]: 3 });
      b.int10({ [AX]: 0x0c00 | colour, [BX]: 0, [CX]: 6, [DX]: 4 });
      const res = b.vga.render();
      // Mode 06h is 640 pixels wide; 04h and 0Dh are 320 with each pixel two dots.
      const sx = mode === 0x06 ? 1 : 2;
      expect([res.width, res.height]).toEqual([640, 400]);
      const want = b.dac(b.vga.regs.ac[colour]);
      const black = b.dac(b.vga.regs.ac[0]);
      for (const [x, y] of [
        [5, 3],
        [6, 4],
      ]) {
        for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < sx; dx++) expect(b.pixel(x * sx + dx, y * 2 + dy)).toBe(want);
      }
      expect(b.pixel(5 * sx, 4 * 2)).toBe(black);
      expect(b.pixel(6 * sx, 3 * 2)).toBe(black);
      expect(b.int10({ [AX]: 0x0d00, [BX]: 0, [CX]: 6, [DX]: 4 }) & 0xff).toBe(colour);
    }
  });

  it('mode 13h: chain-4 pixels with the default palette', () => {
    b.int10({ [AX]: 0x0013 });
    expect(b.mem.pageMap[0xa0] & 0xff).toBe(0); // RAM alias of VRAM
    b.int10({ [AX]: 0x0c04, [BX]: 0, [CX]: 10, [DX]: 20 });
    b.mem.write8(0xa0000 + 30 * 320 + 40, 0x28);
    const res = b.vga.render();
    expect([res.width, res.height]).toEqual([640, 400]);
    expect(b.pixel(20, 40)).toBe(b.dac(4));
    expect(b.pixel(81, 61)).toBe(b.dac(0x28));
    expect(b.dac(4)).toBe(rgba(0xaa, 0, 0)); // the BIOS's red
  });

  it('VBE: controller info, mode list, and an 800x600 32 bpp LFB mode', () => {
    b.mem.writeBytes(BUF, new TextEncoder().encode('VBE2'));
    expect(b.int10({ [AX]: 0x4f00, [DI]: BUF })).toBe(0x004f);
    const info = b.mem.readBytes(BUF, 512);
    const dv = new DataView(info.buffer);
    expect(String.fromCharCode(...info.subarray(0, 4))).toBe('VESA');
    expect(dv.getUint16(0x12, true)).toBe(256); // 64 KiB blocks
    const listAt = dv.getUint16(0x0e, true) + dv.getUint16(0x10, true) * 16;
    const modes: number[] = [];
    for (let p = listAt; b.mem.read16(p) !== 0xffff && modes.length < 512; p += 2) modes.push(b.mem.read16(p));
    // SeaBIOS's Bochs mode 143h: 800x600, 32 bpp.
    const mode = 0x143;
    expect(modes).toContain(mode);
    expect(modes).toContain(0x112);
    expect(b.int10({ [AX]: 0x4f01, [CX]: mode, [DI]: BUF })).toBe(0x004f);
    const mi = new DataView(b.mem.readBytes(BUF, 256).buffer);
    expect([mi.getUint16(0x12, true), mi.getUint16(0x14, true), mi.getUint8(0x19)]).toEqual([800, 600, 32]);
    expect(mi.getUint32(0x28, true) >>> 0).toBe(LFB);
    expect(b.int10({ [AX]: 0x4f02, [BX]: 0x4000 | mode })).toBe(0x004f);
    expect([b.vga.dispi.xres, b.vga.dispi.yres, b.vga.dispi.bpp]).toEqual([800, 600, 32]);
    for (let y = 0; y < 600; y += 50) for (let x = 0; x < 800; x += 25) b.mem.write32(LFB + (y * 800 + x) * 4, (x & 0xff) | ((y & 0xff) << 8) | (0x80 << 16));
    const res = b.vga.render();
    expect([res.width, res.height]).toEqual([800, 600]);
    for (let y = 0; y < 600; y += 50) for (let x = 0; x < 800; x += 25) expect(b.pixel(x, y)).toBe(rgba(0x80, y & 0xff, x & 0xff));
    // VBE 4F08: the DAC width exists only in palette modes; switch it to 8 bits in 640x480x8.
    expect(b.int10({ [AX]: 0x4f08, [BX]: 0x0800 })).toBe(0x034f);
    expect(b.int10({ [AX]: 0x4f02, [BX]: 0x4101 })).toBe(0x004f);
    expect([b.vga.dispi.xres, b.vga.dispi.yres, b.vga.dispi.bpp]).toEqual([640, 480, 8]);
    expect(b.int10({ [AX]: 0x4f08, [BX]: 0x0800 })).toBe(0x004f);
    expect(b.vga.regs.dac8bit).toBe(true);
    // And back to text.
    b.int10({ [AX]: 0x0003 });
    expect(b.vga.dispi.enabled).toBe(false);
    expect(b.vga.render().width).toBe(720);
  });
});
