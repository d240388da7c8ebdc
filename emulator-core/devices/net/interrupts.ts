/**
 * Interrupt causes (ICR), the mask (IMS) and moderation. The line follows
 * "some unmasked cause pending", except that after each assertion a moderation window
 * (ITR in 256 ns units, or RADV/TADV in 1.024 us units when the driver uses them, at
 * least 128 us as the 82540EM's guaranteed ceiling of ~7800 interrupts/s) holds back the
 * next rising edge; causes arriving meanwhile are delivered together when it closes.
 * Without a timer queue there is no moderation: every edge is immediate.
 */
import type { Timer, TimerQueue } from '../../machine/timers.js';
import { ICR_RXT0, ICR_TXDW, ICR_TXQE, ICR_VALID, ITR, RADV, RDTR, TADV } from './e1000-regs.js';

/** The shortest window, in 256 ns units (QEMU uses the same floor). */
const MIN_WINDOW_UNITS = 500;
const NS_PER_UNIT = 256;

export interface InterruptSnapshot {
  icr: number;
  ims: number;
  level: boolean;
  /** Guest ns at which the moderation window closes, or null when it is open. */
  windowEnd: number | null;
  txIde: boolean;
}

export class NicInterrupts {
  icr = 0;
  ims = 0;
  private level = false;
  private readonly timer: Timer | null;
  /** A transmit descriptor asked for a delayed interrupt (IDE): TADV applies. */
  txIde = false;

  constructor(
    private readonly regs: Uint32Array,
    private readonly output: (high: boolean) => void,
    timers: TimerQueue | null,
  ) {
    this.timer = timers?.create('e1000 interrupt moderation', () => this.update()) ?? null;
  }

  get asserted(): boolean {
    return this.level;
  }

  reset(): void {
    this.icr = 0;
    this.ims = 0;
    this.txIde = false;
    this.timer?.cancel();
    this.setLevel(false);
  }

  /** ICS, or the device itself raising causes. */
  raise(causes: number): void {
    this.icr = (this.icr | causes) & ICR_VALID;
    this.update();
  }

  /** ICR read: return and clear every cause. */
  readAndClear(): number {
    const v = this.icr;
    this.icr = 0;
    this.update();
    return v;
  }

  /** ICR write: clear the causes written as ones. */
  clear(causes: number): void {
    this.icr &= ~causes;
    this.update();
  }

  setMask(bits: number): void {
    this.ims = (this.ims | bits) & ICR_VALID;
    this.update();
  }

  clearMask(bits: number): void {
    this.ims &= ~bits;
    this.update();
  }

  /** Re-evaluate the line (also when the moderation window closes). */
  update(): void {
    const pending = (this.icr & this.ims) !== 0;
    if (pending && !this.level && this.timer !== null) {
      if (this.timer.armed) return;
      this.timer.armIn(this.window(this.icr & this.ims) * NS_PER_UNIT);
      this.txIde = false;
    }
    this.setLevel(pending);
  }

  private window(pending: number): number {
    const r = this.regs;
    let units = r[ITR >>> 2] & 0xffff;
    const shorter = (v: number): void => {
      if (v !== 0 && (units === 0 || v < units)) units = v;
    };
    if (this.txIde && (pending & (ICR_TXDW | ICR_TXQE)) !== 0) shorter((r[TADV >>> 2] & 0xffff) * 4);
    if ((r[RDTR >>> 2] & 0xffff) !== 0 && (pending & ICR_RXT0) !== 0) shorter((r[RADV >>> 2] & 0xffff) * 4);
    return Math.max(units, MIN_WINDOW_UNITS);
  }

  private setLevel(high: boolean): void {
    if (high === this.level) return;
    this.level = high;
    this.output(high);
  }

  snapshot(): InterruptSnapshot {
    const t = this.timer;
    return { icr: this.icr, ims: this.ims, level: this.level, windowEnd: t !== null && t.armed ? t.deadline : null, txIde: this.txIde };
  }

  /** Apply a checked snapshot; the output is driven to the saved level. */
  restoreSnapshot(s: InterruptSnapshot): void {
    this.icr = s.icr;
    this.ims = s.ims;
    this.txIde = s.txIde;
    if (this.timer !== null) {
      if (s.windowEnd !== null) this.timer.arm(s.windowEnd);
      else this.timer.cancel();
    }
    this.level = !s.level;
    this.setLevel(s.level);
  }
}
