/**
 * Guest time. Every device that measures time (PIT, RTC, UART timing, TSC, ACPI PM timer)
 * reads one Clock, in nanoseconds since the machine powered on, so the guest sees one
 * consistent timeline.
 */
export interface Clock {
  now(): number;
}

/** Follows the host's monotonic clock, stopped while the machine is paused. */
export class RealtimeClock implements Clock {
  private origin = performance.now();
  private pausedAt: number | null = null;

  now(): number {
    const t = this.pausedAt ?? performance.now();
    return (t - this.origin) * 1e6;
  }

  pause(): void {
    if (this.pausedAt === null) this.pausedAt = performance.now();
  }

  resume(): void {
    if (this.pausedAt !== null) {
      this.origin += performance.now() - this.pausedAt;
      this.pausedAt = null;
    }
  }

  /** Jump forward (e.g. to skip host time spent halted in virtual-time runs). */
  advance(ns: number): void {
    this.origin -= ns / 1e6;
  }
}

/** Time that moves only when told to: deterministic unit tests. */
export class ManualClock implements Clock {
  private t = 0;
  now(): number {
    return this.t;
  }
  advance(ns: number): void {
    this.t += ns;
  }
  set(ns: number): void {
    this.t = ns;
  }
}
