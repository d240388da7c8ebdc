/**
 * Colour lookup: attribute controller palette (16 colours) and DAC (256 colours) to RGBA
 * words as the frame stores them (little-endian r, g, b, a).
 */
import { AR10_P54S, AR_COLOR_SELECT, AR_MODE } from './constants.js';
import type { VgaRegisters } from './registers.js';

const OPAQUE = 0xff000000;

/** RGBA word of 8-bit components. */
export function rgba(r: number, g: number, b: number): number {
  return (r | (g << 8) | (b << 16) | OPAQUE) >>> 0;
}

/** DAC entry `i` as RGBA, widening 6-bit components unless the DAC is in 8-bit mode. */
export function dacColor(regs: VgaRegisters, i: number): number {
  const d = regs.dac;
  const o = (i & 0xff) * 3;
  if (regs.dac8bit) return rgba(d[o], d[o + 1], d[o + 2]);
  const r = d[o] & 0x3f;
  const g = d[o + 1] & 0x3f;
  const b = d[o + 2] & 0x3f;
  return rgba((r << 2) | (r >> 4), (g << 2) | (g >> 4), (b << 2) | (b >> 4));
}

/** DAC index the attribute controller produces for 4-bit colour `c`. */
export function attributeIndex(regs: VgaRegisters, c: number): number {
  const ac = regs.ac;
  const v = ac[c & 0x0f];
  const sel = ac[AR_COLOR_SELECT];
  // P54S: bits 5-4 come from the colour select register instead of the palette entry.
  const idx = (ac[AR_MODE] & AR10_P54S) !== 0 ? ((sel & 0x0f) << 4) | (v & 0x0f) : ((sel & 0x0c) << 4) | (v & 0x3f);
  return idx & regs.pelMask;
}

/** Fill the 16 attribute colours; true if any differs from what `out` held. */
export function fillPalette16(regs: VgaRegisters, out: Uint32Array): boolean {
  let changed = false;
  for (let i = 0; i < 16; i++) {
    const c = dacColor(regs, attributeIndex(regs, i));
    if (out[i] !== c) {
      out[i] = c;
      changed = true;
    }
  }
  return changed;
}

/** Fill the 256 DAC colours (through the pel mask); true if any changed. */
export function fillPalette256(regs: VgaRegisters, out: Uint32Array): boolean {
  let changed = false;
  const mask = regs.pelMask;
  for (let i = 0; i < 256; i++) {
    const c = dacColor(regs, i & mask);
    if (out[i] !== c) {
      out[i] = c;
      changed = true;
    }
  }
  return changed;
}
