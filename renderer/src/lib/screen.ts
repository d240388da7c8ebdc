/** Painting dirty rectangles onto a canvas. Guest alpha is meaningless: force opaque pixels. */
import type { ScreenRect } from '../../../app/contract/api';

export function paintRect(canvas: HTMLCanvasElement, rect: ScreenRect): void {
  if (canvas.width !== rect.width || canvas.height !== rect.height) {
    canvas.width = rect.width;
    canvas.height = rect.height;
  }
  if (rect.w === 0 || rect.h === 0) return;
  const ctx = canvas.getContext('2d');
  if (ctx === null) return;
  const pixels = new Uint8ClampedArray(rect.w * rect.h * 4);
  pixels.set(rect.rgba.subarray(0, pixels.length));
  for (let i = 3; i < pixels.length; i += 4) pixels[i] = 255;
  ctx.putImageData(new ImageData(pixels, rect.w, rect.h), rect.x, rect.y);
}
