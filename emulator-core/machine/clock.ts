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

/** Where a paced clock reads how far the CPU has got. */
export interface InstructionCounter {
  /** Instructions retired in completed run slices. */
  instructionCount: number;
  /** Instructions retired so far in the slice being run. */
  sliceInstructions: number;
}

/**
 * Guest time that advances with executed instructions, at a rate re-tuned as the machine
 * runs so that guest time tracks the host's wall clock. Within a run slice time is a
 * linear function of instructions, so a guest calibrating one timer against another
 * (TSC against the PIT, a delay loop against jiffies) sees a steady CPU; a host hiccup
 * (a GC pause, the JS engine compiling code) does not look like the guest CPU stalling.
 */
export class PacedClock implements Clock {
  counter: InstructionCounter | null = null;
  /** Guest ns per instruction; starts at a guess and follows the measured speed. */
  nsPerInstruction = 10;
  private baseNs = 0;
  private baseInstructions = 0;
  private wallOrigin = performance.now();
  private pausedAt: number | null = null;
  private lastWall = 0;
  private lastInstructions = 0;
  /** Smoothed host speed: wall ns per instruction while running. */
  private measured = 10;

  private instructions(): number {
    const c = this.counter;
    return c === null ? 0 : c.instructionCount + c.sliceInstructions;
  }

  now(): number {
    return this.baseNs + (this.instructions() - this.baseInstructions) * this.nsPerInstruction;
  }

  /** Host time since power-on, excluding pauses, in ns. */
  wallNow(): number {
    const t = this.pausedAt ?? performance.now();
    return (t - this.wallOrigin) * 1e6;
  }

  private rebase(): void {
    this.baseNs = this.now();
    this.baseInstructions = this.instructions();
  }

  /**
   * Re-tune the rate between run slices: aim to close the gap to wall time over the next
   * 50 ms, never faster than 4x or slower than 1/4 of the speed actually achieved.
   */
  pace(): void {
    const wall = this.wallNow();
    const dWall = wall - this.lastWall;
    if (dWall < 2e6) return;
    const insns = this.instructions();
    const dInsns = insns - this.lastInstructions;
    this.lastWall = wall;
    this.lastInstructions = insns;
    if (dInsns <= 0) return;
    this.rebase();
    let behind = wall - this.baseNs;
    if (process.env.TERRARIUM_CLOCK_DEBUG === '1' && Math.abs(behind) > 20e6) console.error(`pace: wall ${(wall / 1e6).toFixed(1)} ms guest ${(this.baseNs / 1e6).toFixed(1)} ms behind ${(behind / 1e6).toFixed(1)} ms rate ${this.nsPerInstruction.toFixed(3)} ns/insn`);
    if (behind > 5e9) {
      // The host stalled for seconds (e.g. suspended): a jump, as after a VM pause, rather
      // than minutes of fast-forward. Shorter lags are caught up by running time faster.
      this.baseNs = wall - 50e6;
      behind = 50e6;
    }
    this.measured = this.measured * 0.7 + (dWall / dInsns) * 0.3;
    const factor = Math.min(4, Math.max(0.25, 1 + behind / 50e6));
    this.nsPerInstruction = Math.min(1e4, Math.max(0.01, this.measured * factor));
  }

  /** Instructions that take guest time from now to `ns`. */
  instructionsUntil(ns: number): number {
    return (ns - this.now()) / this.nsPerInstruction;
  }

  /** Forget the interval just spent waiting (halted), so it is not taken as a slow CPU. */
  resync(): void {
    this.lastWall = this.wallNow();
    this.lastInstructions = this.instructions();
  }

  /** The CPU is halted until `ns`: guest time jumps there (the caller waits for the wall clock). */
  skipTo(ns: number): void {
    if (ns > this.now()) {
      this.baseNs = ns;
      this.baseInstructions = this.instructions();
    }
  }

  pause(): void {
    if (this.pausedAt === null) this.pausedAt = performance.now();
  }

  resume(): void {
    if (this.pausedAt !== null) {
      this.wallOrigin += performance.now() - this.pausedAt;
      this.pausedAt = null;
    }
  }
}
