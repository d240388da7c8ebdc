/**
 * Picks the renderer for the adapter's current state (blank, text, graphics) and keeps the
 * changes since the machine last asked, so a screenshot in between loses nothing.
 */
import type { Clock } from '../../machine/clock.js';
import type { ScreenUpdate } from '../../machine/types.js';
import { AR_INDEX_PAS, GR06_GRAPHICS, GR_MISC, SR01_SCREEN_OFF, SR_CLOCKING } from './constants.js';
import { DirtyList, Frame, type DirtyRect } from './frame.js';
import { GraphicsRenderer } from './graphics.js';
import type { VgaMemory } from './memory.js';
import type { VgaRegisters } from './registers.js';
import { TextRenderer } from './text.js';
import type { Dispi } from './vbe.js';

export interface RenderResult {
  /** Size of the whole screen (the frame). */
  width: number;
  height: number;
  /** Areas that changed since the previous render(); the whole frame after a resize. */
  dirty: DirtyRect[];
}

export interface Screenshot {
  width: number;
  height: number;
  /** A copy of the frame, RGBA row by row. */
  rgba: Uint8Array;
}

type ScreenKind = 'none' | 'blank' | 'text' | 'graphics';

/** Size shown before the guest programs any mode (the BIOS's 80x25 text). */
const BLANK_WIDTH = 720;
const BLANK_HEIGHT = 400;
const BLACK = 0xff000000;

export class VgaRenderer {
  readonly frame = new Frame();
  private readonly dirty = new DirtyList();
  private readonly text = new TextRenderer();
  private readonly graphics = new GraphicsRenderer();
  private kind: ScreenKind = 'none';

  constructor(
    private readonly regs: VgaRegisters,
    private readonly mem: VgaMemory,
    private readonly dispi: Dispi,
    private readonly clock: Clock,
  ) {}

  /** Redraw everything on the next refresh (after a restore or reset). */
  invalidate(): void {
    this.kind = 'none';
    this.text.invalidate();
    this.graphics.invalidate();
  }

  /** Bring the frame up to date with VRAM and registers, accumulating changed areas. */
  refresh(): void {
    const regs = this.regs;
    const blank = (regs.acIndex & AR_INDEX_PAS) === 0 || (regs.seq[SR_CLOCKING] & SR01_SCREEN_OFF) !== 0;
    let kind: ScreenKind = blank ? 'blank' : this.dispi.enabled || (regs.gc[GR_MISC] & GR06_GRAPHICS) !== 0 ? 'graphics' : 'text';
    if (kind !== this.kind) {
      this.text.invalidate();
      this.graphics.invalidate();
    }
    const before = this.frame.width * 65536 + this.frame.height;
    let ok = true;
    if (kind === 'text') ok = this.text.render(regs, this.mem, this.frame, this.dirty, this.clock.now());
    else if (kind === 'graphics') ok = this.graphics.render(regs, this.mem, this.dispi, this.frame, this.dirty);
    if (!ok) kind = 'blank';
    if (kind === 'blank' && this.kind !== 'blank') {
      if (this.frame.width === 0) this.frame.resize(BLANK_WIDTH, BLANK_HEIGHT);
      this.frame.px.fill(BLACK);
      this.dirty.addFull();
    }
    if (this.frame.width * 65536 + this.frame.height !== before) this.dirty.addFull();
    this.kind = kind;
  }

  /** Refresh and return what changed since the previous render(). */
  render(): RenderResult {
    this.refresh();
    const f = this.frame;
    return { width: f.width, height: f.height, dirty: this.dirty.take(f.width, f.height) };
  }

  /** Refresh and return the changes as ScreenUpdates (RGBA copies) for a MachineListener. */
  screenUpdates(): ScreenUpdate[] {
    const r = this.render();
    const f = this.frame;
    return r.dirty.map((d) => {
      const rgba = new Uint8Array(d.w * d.h * 4);
      for (let row = 0; row < d.h; row++) {
        const from = ((d.y + row) * f.width + d.x) * 4;
        rgba.set(f.rgba.subarray(from, from + d.w * 4), row * d.w * 4);
      }
      return { width: f.width, height: f.height, x: d.x, y: d.y, w: d.w, h: d.h, rgba };
    });
  }

  /** The whole current screen (a copy); pending changes stay for the next render(). */
  screenshot(): Screenshot {
    this.refresh();
    const f = this.frame;
    return { width: f.width, height: f.height, rgba: f.rgba.slice() };
  }
}
