/**
 * The adapter's output: an RGBA frame it owns, and the rectangles that changed since the
 * machine last asked.
 */

export interface DirtyRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** RGBA pixels (bytes r, g, b, a), row by row; `px` views them as little-endian words. */
export class Frame {
  width = 0;
  height = 0;
  rgba = new Uint8Array(0);
  px = new Uint32Array(0);

  /** Reallocate for a new size (the old arrays are left to whoever still holds them). */
  resize(width: number, height: number): boolean {
    if (width === this.width && height === this.height) return false;
    this.width = width;
    this.height = height;
    this.rgba = new Uint8Array(width * height * 4);
    this.px = new Uint32Array(this.rgba.buffer);
    return true;
  }
}

/** Beyond this many rectangles a frame's changes are sent as their bounding box. */
const MAX_RECTS = 48;

/** Changed areas accumulated between two takes. */
export class DirtyList {
  private rects: DirtyRect[] = [];
  private full = false;

  get empty(): boolean {
    return !this.full && this.rects.length === 0;
  }

  /** Everything changed (resize, palette, mode switch). */
  addFull(): void {
    this.full = true;
    this.rects.length = 0;
  }

  add(x: number, y: number, w: number, h: number): void {
    if (this.full || w <= 0 || h <= 0) return;
    const last = this.rects.length > 0 ? this.rects[this.rects.length - 1] : null;
    // Rows of one band (same columns, touching vertically) become one rectangle.
    if (last !== null && last.x === x && last.w === w && last.y + last.h === y) {
      last.h += h;
      return;
    }
    this.rects.push({ x, y, w, h });
  }

  /** The changes since the last take, clipped to the frame, and forget them. */
  take(width: number, height: number): DirtyRect[] {
    let out: DirtyRect[];
    if (this.full) out = width > 0 && height > 0 ? [{ x: 0, y: 0, w: width, h: height }] : [];
    else {
      out = [];
      for (const r of this.rects) {
        const x = Math.max(0, r.x);
        const y = Math.max(0, r.y);
        const w = Math.min(width, r.x + r.w) - x;
        const h = Math.min(height, r.y + r.h) - y;
        if (w > 0 && h > 0) out.push({ x, y, w, h });
      }
      if (out.length > MAX_RECTS) {
        let x0 = width;
        let y0 = height;
        let x1 = 0;
        let y1 = 0;
        for (const r of out) {
          x0 = Math.min(x0, r.x);
          y0 = Math.min(y0, r.y);
          x1 = Math.max(x1, r.x + r.w);
          y1 = Math.max(y1, r.y + r.h);
        }
        out = [{ x: x0, y: y0, w: x1 - x0, h: y1 - y0 }];
      }
    }
    this.full = false;
    this.rects = [];
    return out;
  }
}
