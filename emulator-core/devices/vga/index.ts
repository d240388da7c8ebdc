/** The VGA adapter's public surface (see README.md). */
export { StdVga, type AttachOptions, type StdVgaOptions, type VgaBarHandlers } from './vga.js';
export type { RenderResult, Screenshot } from './renderer.js';
export type { DirtyRect, Frame } from './frame.js';
export type { TextCursor, TextScreen } from './text.js';
export { encodePng, writePng, type RgbaImage } from './png.js';
export { loadDac, loadFont, programMode, setStandardMode, STANDARD_MODES, type StandardMode } from './modes.js';
export { decodeCp437 } from './cp437.js';
export { DEFAULT_VRAM_BYTES, VBE_MAX_XRES, VBE_MAX_YRES } from './constants.js';
