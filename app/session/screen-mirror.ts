/**
 * A copy of the guest screen kept on the relay side, so a viewer that opens the console
 * late (or falls behind) gets whole frames from here instead of asking the guest.
 */
import { PNG } from 'pngjs';
import type { ScreenUpdate } from '../../emulator-core/machine/types.js';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export class ScreenMirror {
  width = 0;
  height = 0;
  private pixels = new Uint8Array(0);

  get empty(): boolean {
    return this.width === 0 || this.height === 0;
  }

  /** Apply a dirty rectangle; a new resolution clears the screen. Returns the clipped rect. */
  apply(update: ScreenUpdate): Rect | null {
    if (update.width !== this.width || update.height !== this.height) this.resize(update.width, update.height);
    const x0 = Math.max(0, update.x);
    const y0 = Math.max(0, update.y);
    const x1 = Math.min(this.width, update.x + update.w);
    const y1 = Math.min(this.height, update.y + update.h);
    if (x1 <= x0 || y1 <= y0 || update.rgba.length < update.w * update.h * 4) return null;
    for (let y = y0; y < y1; y++) {
      const src = ((y - update.y) * update.w + (x0 - update.x)) * 4;
      this.pixels.set(update.rgba.subarray(src, src + (x1 - x0) * 4), (y * this.width + x0) * 4);
    }
    return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
  }

  resize(width: number, height: number): void {
    this.width = Math.max(0, Math.floor(width));
    this.height = Math.max(0, Math.floor(height));
    this.pixels = new Uint8Array(this.width * this.height * 4);
  }

  /** The pixels of one rectangle (clipped to the screen), as a standalone update. */
  region(rect: Rect): ScreenUpdate {
    const x = Math.max(0, rect.x);
    const y = Math.max(0, rect.y);
    const w = Math.max(0, Math.min(this.width, rect.x + rect.w) - x);
    const h = Math.max(0, Math.min(this.height, rect.y + rect.h) - y);
    const rgba = new Uint8Array(w * h * 4);
    for (let row = 0; row < h; row++) {
      const src = ((y + row) * this.width + x) * 4;
      rgba.set(this.pixels.subarray(src, src + w * 4), row * w * 4);
    }
    return { width: this.width, height: this.height, x, y, w, h, rgba };
  }

  full(): ScreenUpdate {
    return this.region({ x: 0, y: 0, w: this.width, h: this.height });
  }

  /** Box-filtered downscale to at most maxWidth wide (never upscaled), for thumbnails. */
  scaled(maxWidth: number): { width: number; height: number; rgba: Uint8Array } {
    const factor = Math.max(1, Math.ceil(this.width / maxWidth));
    const width = Math.max(1, Math.floor(this.width / factor));
    const height = Math.max(1, Math.floor(this.height / factor));
    const rgba = new Uint8Array(width * height * 4);
    const n = factor * factor;
    for (let ty = 0; ty < height; ty++) {
      for (let tx = 0; tx < width; tx++) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let dy = 0; dy < factor; dy++) {
          let i = ((ty * factor + dy) * this.width + tx * factor) * 4;
          for (let dx = 0; dx < factor; dx++, i += 4) {
            r += this.pixels[i]!;
            g += this.pixels[i + 1]!;
            b += this.pixels[i + 2]!;
          }
        }
        const o = (ty * width + tx) * 4;
        rgba[o] = r / n;
        rgba[o + 1] = g / n;
        rgba[o + 2] = b / n;
        rgba[o + 3] = 255;
      }
    }
    return { width, height, rgba };
  }
}

/** Opaque PNG of RGBA pixels (the guest's alpha channel means nothing). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  const png = new PNG({ width, height, colorType: 2, inputHasAlpha: true });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return new Uint8Array(PNG.sync.write(png, { colorType: 2, inputHasAlpha: true }));
}

/** The union of two rectangles (dirty regions accumulate while a viewer is busy). */
export function unionRect(a: Rect | null, b: Rect): Rect {
  if (a === null) return { ...b };
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}
