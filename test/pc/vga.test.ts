/**
 * The display end to end: SeaBIOS and its VGA BIOS drive the standard VGA, a boot-sector
 * guest prints in text mode (read back from the screen, and each glyph checked against
 * the font the VGA BIOS loaded into plane 2) and, after a key press through the PS/2
 * keyboard, draws a pattern in a VBE linear-framebuffer mode (compared pixel by pixel in
 * the screenshot).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveFirmware } from '../../emulator-core/boot/firmware.js';
import { nasmAvailable } from '../support/nasm.js';
import { Machine } from '../../emulator-core/machine/machine.js';
import type { ScreenUpdate } from '../../emulator-core/machine/types.js';
import { screenToPng } from '../../app/cli/commands/run.js';
import { buildVgaGuestDisk, patternAt, TEXT_LINE, VBE_HEIGHT, VBE_WIDTH } from './vga-guest.js';
import { readFileSync } from 'node:fs';
import { tail, terrarium } from './cli-run.js';

function firmwarePresent(): boolean {
  try {
    return resolveFirmware({ wantVga: true }).vgaBios !== null;
  } catch {
    return false;
  }
}

const haveFirmware = firmwarePresent();
const haveNasm = nasmAvailable();
if (!haveFirmware) console.warn('\n*** SKIPPING PC display test: SeaBIOS not installed (apt install seabios) ***\n');
if (!haveNasm) console.warn('\n*** SKIPPING PC display test: nasm not installed ***\n');

const dir = mkdtempSync(join(tmpdir(), 'terrarium-vga-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!haveFirmware || !haveNasm)('SeaBIOS + VGA BIOS on the standard VGA', () => {
  it('shows text-mode characters and a VBE framebuffer pattern', async () => {
    const disk = join(dir, 'vga-guest.img');
    writeFileSync(disk, buildVgaGuestDisk());
    let serial = '';
    let text: { lines: string[]; shot: ScreenUpdate; font: Uint8Array; chars: Uint8Array; attrs: Uint8Array; cols: number } | null = null;
    let machine: Machine | null = null;
    let updates = 0;
    let updatedPixels = 0;
    machine = await Machine.create(
      { memoryMiB: 32, accel: 'interpreter', disks: [{ path: disk, format: 'raw' }], boot: 'disk', onTripleFault: 'crash' },
      {
        screenUpdate: (u) => {
          updates++;
          updatedPixels += u.w * u.h;
          expect(u.rgba.length).toBeGreaterThanOrEqual(u.w * u.h * 4);
        },
        serialOutput: (bytes) => {
          serial += Buffer.from(bytes).toString('latin1');
          if (text === null && serial.includes('TEXT\n') && machine !== null) {
            const vga = machine.pci!.vga;
            const screen = vga.textScreen()!;
            // Plane 2 of VRAM: font map A, 32 bytes per character.
            const font = new Uint8Array(256 * 32);
            for (let i = 0; i < font.length; i++) font[i] = vga.mem.vram[i * 4 + 2]!;
            text = { lines: screen.lines, shot: machine.screenshot()!, font, chars: screen.chars.slice(), attrs: screen.attrs.slice(), cols: screen.cols };
            machine.sendKey('Enter', true);
            machine.sendKey('Enter', false);
          }
        },
      },
    );
    const timer = setTimeout(() => machine?.powerOff(), 120_000);
    const exit = await machine.run();
    clearTimeout(timer);
    expect(serial, `guest serial output: ${serial}`).toContain('VBE\n');
    expect(exit.kind).toBe('halt');
    // The display's changes reached the listener while the guest ran.
    expect(updates).toBeGreaterThan(0);
    expect(updatedPixels).toBeGreaterThan(0);

    // Text mode: the line is on the screen, and every pixel of its cells is foreground
    // exactly where the glyph in plane 2 has a bit set (9-dot cells, 16 lines).
    expect(text).not.toBeNull();
    const t = text!;
    const row = t.lines.findIndex((l) => l.includes(TEXT_LINE));
    expect(row, t.lines.join('\n')).toBeGreaterThanOrEqual(0);
    const col0 = t.lines[row]!.indexOf(TEXT_LINE);
    const shot = t.shot;
    expect([shot.width, shot.height]).toEqual([720, 400]);
    const px = (x: number, y: number): number => {
      const o = (y * shot.width + x) * 4;
      return (shot.rgba[o]! << 16) | (shot.rgba[o + 1]! << 8) | shot.rgba[o + 2]!;
    };
    let fgPixels = 0;
    for (let i = 0; i < TEXT_LINE.length; i++) {
      const cell = row * t.cols + col0 + i;
      expect(t.chars[cell]).toBe(TEXT_LINE.charCodeAt(i));
      expect(t.attrs[cell]).toBe(0x07);
      for (let line = 0; line < 16; line++) {
        const bits = t.font[t.chars[cell]! * 32 + line]!;
        for (let dot = 0; dot < 9; dot++) {
          const on = dot < 8 && ((bits >> (7 - dot)) & 1) === 1;
          const c = px((col0 + i) * 9 + dot, row * 16 + line);
          expect(c, `char ${i} line ${line} dot ${dot}`).toBe(on ? 0xaaaaaa : 0x000000);
          if (on) fgPixels++;
        }
      }
    }
    expect(fgPixels).toBeGreaterThan(TEXT_LINE.length * 10);

    // VBE: the whole 640x480 framebuffer holds the pattern.
    const vbe = machine.screenshot()!;
    expect([vbe.width, vbe.height]).toEqual([VBE_WIDTH, VBE_HEIGHT]);
    let bad = 0;
    for (let y = 0; y < VBE_HEIGHT; y++) {
      for (let x = 0; x < VBE_WIDTH; x++) {
        const o = (y * VBE_WIDTH + x) * 4;
        const [r, g, b] = patternAt(x, y);
        if (vbe.rgba[o] !== r || vbe.rgba[o + 1] !== g || vbe.rgba[o + 2] !== b) bad++;
      }
    }
    expect(bad).toBe(0);

    // The PNG the CLI writes decodes to the same pixels.
    const png = PNG.sync.read(screenToPng(vbe));
    expect([png.width, png.height]).toEqual([VBE_WIDTH, VBE_HEIGHT]);
    expect(Buffer.compare(png.data.subarray(0, 4 * VBE_WIDTH), Buffer.from(vbe.rgba.subarray(0, 4 * VBE_WIDTH)))).toBe(0);
  }, 180_000);

  it('terrarium run --keys presses Enter at a guest second, --exit-after stops, --screenshot writes the PNG', async () => {
    const disk = join(dir, 'vga-guest-cli.img');
    writeFileSync(disk, buildVgaGuestDisk());
    const shot = join(dir, 'cli.png');
    const r = await terrarium(['run', '--disk', disk, '--boot', 'disk', '--memory', '32', '--accel', 'interpreter', '--keys', 'Enter@3', '--exit-after', '30', '--screenshot', shot]);
    expect(r.code, tail(r)).toBe(0);
    // Firmware text reaches COM1 too (sercon), then the guest's own lines.
    expect(r.stdout).toContain('SeaBIOS');
    expect(r.stdout.indexOf('TEXT\n')).toBeLessThan(r.stdout.indexOf('VBE\n'));
    const png = PNG.sync.read(readFileSync(shot));
    expect([png.width, png.height]).toEqual([VBE_WIDTH, VBE_HEIGHT]);
    const [r0, g0, b0] = patternAt(300, 200);
    const o = (200 * VBE_WIDTH + 300) * 4;
    expect([png.data[o], png.data[o + 1], png.data[o + 2]]).toEqual([r0, g0, b0]);
  }, 120_000);

  it('--exit-after stops a guest that never finishes, at that guest second, exit 0', async () => {
    const disk = join(dir, 'vga-guest-wait.img');
    writeFileSync(disk, buildVgaGuestDisk());
    const shot = join(dir, 'wait.png');
    const r = await terrarium(['run', '--disk', disk, '--boot', 'disk', '--memory', '32', '--accel', 'interpreter', '--exit-after', '8', '--screenshot', shot]);
    expect(r.code, tail(r)).toBe(0);
    expect(r.stdout).toContain('TEXT\n');
    expect(r.stdout).not.toContain('VBE\n');
    const png = PNG.sync.read(readFileSync(shot));
    expect([png.width, png.height]).toEqual([720, 400]);
  }, 120_000);
});
