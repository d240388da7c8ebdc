/**
 * PNG encoding of a screenshot (for `--screenshot FILE.png` and the app's screenshot call).
 * The frame's alpha channel is always opaque, so the file is RGB.
 */
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { BadInputError, EmulatorError } from '../../errors.js';

export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Encode RGBA pixels as an RGB PNG. */
export function encodePng(image: RgbaImage): Buffer {
  const { width, height, rgba } = image;
  if (width <= 0 || height <= 0 || rgba.length < width * height * 4) {
    throw new EmulatorError('INTERNAL', `cannot encode a ${width}x${height} PNG from ${rgba.length} bytes`);
  }
  const png = new PNG({ width, height, colorType: 2, inputHasAlpha: true });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, width * height * 4);
  return PNG.sync.write(png, { colorType: 2, inputHasAlpha: true });
}

/** Write `image` to `path` as PNG; a path that cannot be written is the user's input error. */
export function writePng(path: string, image: RgbaImage): void {
  const data = encodePng(image);
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new BadInputError(`cannot write screenshot ${path}: ${(e as Error).message}`, { path });
  }
}
