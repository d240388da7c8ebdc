/**
 * Display timing on guest time: where the beam is, for input status 1. Programs wait for
 * vertical retrace (bit 3) to pace animation and to reprogram the palette, and poll the
 * display-disabled bit (bit 0) for horizontal blanking; both follow the CRTC's programmed
 * totals and the dot clock chosen in misc output, so mode 13h runs at 70 Hz and mode 12h at
 * 60 Hz as on hardware.
 */
import {
  CR_H_DISP_END,
  CR_H_TOTAL,
  CR_OVERFLOW,
  CR_V_DISP_END,
  CR_V_SYNC_END,
  CR_V_SYNC_START,
  CR_V_TOTAL,
  SR01_8DOT,
  SR01_HALF_CLOCK,
  SR_CLOCKING,
  ST1_DISPLAY_DISABLED,
  ST1_VRETRACE,
} from './constants.js';
import type { VgaRegisters } from './registers.js';

const DOT_CLOCKS = [25_175_000, 28_322_000, 25_175_000, 25_175_000] as const;

export class DisplayTiming {
  private stale = true;
  private frameNs = 1e9 / 60;
  private lineNs = 1e9 / 60 / 525;
  private vdisp = 480;
  private vrStart = 490;
  private vrEnd = 492;
  /** Fraction of a line that is active display. */
  private hActive = 0.8;
  /**
   * Phase added when guest time did not move between two reads: a clock that stands still
   * (a paused or coarse clock) must not leave a polling loop spinning forever, so each such
   * read moves the beam on by one line.
   */
  private skewNs = 0;
  private lastNow = Number.NaN;
  /** Height of a DISPI mode, or 0 when the CRTC's timing applies. */
  vbeLines = 0;

  /** The CRTC, misc output or sequencer changed: recompute on the next read. */
  invalidate(): void {
    this.stale = true;
  }

  private recompute(regs: VgaRegisters): void {
    this.stale = false;
    if (this.vbeLines > 0) {
      // DISPI modes have no CRTC timing: a 60 Hz frame with a short blanking interval.
      const total = this.vbeLines + Math.max(8, Math.ceil(this.vbeLines / 24));
      this.frameNs = 1e9 / 60;
      this.lineNs = this.frameNs / total;
      this.vdisp = this.vbeLines;
      this.vrStart = this.vbeLines + 2;
      this.vrEnd = this.vrStart + 3;
      this.hActive = 0.8;
      return;
    }
    const cr = regs.crtc;
    const ov = cr[CR_OVERFLOW];
    const htotal = (cr[CR_H_TOTAL] + 5) << ((regs.seq[SR_CLOCKING] & SR01_HALF_CLOCK) !== 0 ? 1 : 0);
    const hdisp = (cr[CR_H_DISP_END] + 1) << ((regs.seq[SR_CLOCKING] & SR01_HALF_CLOCK) !== 0 ? 1 : 0);
    const vtotal = (cr[CR_V_TOTAL] | ((ov & 0x01) << 8) | ((ov & 0x20) << 4)) + 2;
    const vdisp = (cr[CR_V_DISP_END] | ((ov & 0x02) << 7) | ((ov & 0x40) << 3)) + 1;
    const vrStart = cr[CR_V_SYNC_START] | ((ov & 0x04) << 6) | ((ov & 0x80) << 2);
    // The retrace ends when the low four bits of the line counter match CR11's.
    let vrLen = ((cr[CR_V_SYNC_END] & 0x0f) - (vrStart & 0x0f)) & 0x0f;
    if (vrLen === 0) vrLen = 16;
    const dots = (regs.seq[SR_CLOCKING] & SR01_8DOT) !== 0 ? 8 : 9;
    const clock = DOT_CLOCKS[(regs.misc >> 2) & 3];
    if (htotal < 8 || vtotal < 16 || vdisp >= vtotal || vrStart >= vtotal) {
      // Not (yet) a sane mode: pretend 640x480 at 60 Hz so pollers still see retraces.
      this.frameNs = 1e9 / 60;
      this.lineNs = this.frameNs / 525;
      this.vdisp = 480;
      this.vrStart = 490;
      this.vrEnd = 492;
      this.hActive = 0.8;
      return;
    }
    this.lineNs = (htotal * dots * 1e9) / clock;
    this.frameNs = this.lineNs * vtotal;
    this.vdisp = vdisp;
    this.vrStart = vrStart;
    this.vrEnd = Math.min(vrStart + vrLen, vtotal);
    this.hActive = Math.min(0.95, hdisp / htotal);
  }

  /** Frame period in guest ns (for tests and for pacing refreshes). */
  frameDuration(regs: VgaRegisters): number {
    if (this.stale) this.recompute(regs);
    return this.frameNs;
  }

  /** Input status 1 bits 0 and 3 at guest time `now`. */
  status1(regs: VgaRegisters, now: number): number {
    if (this.stale) this.recompute(regs);
    if (now === this.lastNow) this.skewNs += this.lineNs;
    this.lastNow = now;
    let t = (now + this.skewNs) % this.frameNs;
    if (t < 0) t += this.frameNs;
    const line = Math.floor(t / this.lineNs);
    const inLine = t - line * this.lineNs;
    let v = 0;
    if (line >= this.vrStart && line < this.vrEnd) v |= ST1_VRETRACE;
    if (line >= this.vdisp || inLine >= this.hActive * this.lineNs) v |= ST1_DISPLAY_DISABLED;
    return v;
  }
}
