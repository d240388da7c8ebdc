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

/** Host speed is sampled over at least this much running wall time (ns) ... */
const SAMPLE_WALL_NS = 20e6;
/** ... and this many instructions, so one host stall does not read as a slow CPU. */
const SAMPLE_MIN_INSTRUCTIONS = 20_000;
/** Slowest guest CPU the pacing will ever show: 1 MIPS (the bare interpreter runs ~20). */
const MAX_NS_PER_INSTRUCTION = 1000;

/**
 * Guest time that advances with executed instructions, at a rate re-tuned as the machine
 * runs so that guest time tracks the host's wall clock. Within a run slice time is a
 * linear function of instructions, so a guest calibrating one timer against another
 * (TSC against the PIT, a delay loop against jiffies) sees a steady CPU; a host hiccup
 * (a GC pause, the JS engine compiling code) does not look like the guest CPU stalling.
 * The base rate follows the host's speed measured over windows of 20 ms or more, each
 * sample within 2x of the last estimate: sampled per slice, one compile stall made the
 * guest CPU look 1000x slower for a moment, PIT ticks merged, and Linux declared its TSC
 * unstable against the PIT.
 */
export class PacedClock implements Clock {
  counter: InstructionCounter | null = null;
  /** Guest ns per instruction; starts at a guess and follows the measured speed. */
  nsPerInstruction = 10;
  private baseNs = 0;
  private baseInstructions = 0;
  private wallOrigin: number;
  private pausedAt: number | null = null;
  private lastWall = 0;
  private lastInstructions = 0;
  /** Start of the current speed-sampling window. */
  private sampleWall = 0;
  private sampleInstructions = 0;
  /** Smoothed host speed: wall ns per instruction while running. */
  private measured = 10;

  /**
   * `hostMs` reads the host's monotonic clock in ms (performance.now, or a test's own);
   * `debug` logs large corrections to stderr (TERRARIUM_CLOCK_DEBUG=1); `maxNsPerInstruction`
   * is the most guest time one instruction may take: a host slower than that makes the guest's
   * clock fall behind the wall clock for good, rather than racing to catch up.
   */
  constructor(
    private readonly hostMs: () => number = () => performance.now(),
    private readonly debug = false,
    private readonly maxNsPerInstruction = MAX_NS_PER_INSTRUCTION,
  ) {
    this.wallOrigin = hostMs();
  }

  private instructions(): number {
    const c = this.counter;
    return c === null ? 0 : c.instructionCount + c.sliceInstructions;
  }

  now(): number {
    return this.baseNs + (this.instructions() - this.baseInstructions) * this.nsPerInstruction;
  }

  /** Host time since power-on, excluding pauses, in ns. */
  wallNow(): number {
    const t = this.pausedAt ?? this.hostMs();
    return (t - this.wallOrigin) * 1e6;
  }

  private rebase(): void {
    this.baseNs = this.now();
    this.baseInstructions = this.instructions();
  }

  /**
   * Re-tune the rate between run slices: aim to close the gap to wall time over the next
   * 50 ms, never faster than 4x or slower than 1/4 of the host speed measured.
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
    if (this.debug && Math.abs(behind) > 20e6) console.error(`pace: wall ${(wall / 1e6).toFixed(1)} ms guest ${(this.baseNs / 1e6).toFixed(1)} ms behind ${(behind / 1e6).toFixed(1)} ms rate ${this.nsPerInstruction.toFixed(3)} ns/insn`);
    if (behind > 5e9) {
      // The host stalled for seconds (e.g. suspended): a jump, as after a VM pause, rather
      // than minutes of fast-forward. Shorter lags are caught up by running time faster.
      this.baseNs = wall - 50e6;
      behind = 50e6;
    }
    const sWall = wall - this.sampleWall;
    const sInsns = insns - this.sampleInstructions;
    if (sWall >= SAMPLE_WALL_NS && sInsns >= SAMPLE_MIN_INSTRUCTIONS) {
      const sample = Math.min(this.measured * 2, Math.max(this.measured / 2, sWall / sInsns));
      this.measured = this.measured * 0.7 + sample * 0.3;
      this.sampleWall = wall;
      this.sampleInstructions = insns;
    }
    if (this.measured > this.maxNsPerInstruction) {
      // The host runs the guest slower than the slowest CPU it may appear to be: the lag is
      // forgiven (the guest's clock slows) instead of caught up later by running time faster.
      // Host intervals measured so far stay what they were in the shifted wall time.
      this.wallOrigin += behind / 1e6;
      this.lastWall -= behind;
      this.sampleWall -= behind;
      behind = 0;
    }
    const factor = Math.min(4, Math.max(0.25, 1 + behind / 50e6));
    this.nsPerInstruction = Math.min(this.maxNsPerInstruction, Math.max(0.01, this.measured * factor));
  }

  /** Instructions that take guest time from now to `ns`. */
  instructionsUntil(ns: number): number {
    return (ns - this.now()) / this.nsPerInstruction;
  }

  /** Forget the interval just spent waiting (halted), so it is not taken as a slow CPU. */
  resync(): void {
    this.lastWall = this.sampleWall = this.wallNow();
    this.lastInstructions = this.sampleInstructions = this.instructions();
  }

  /** The CPU is halted until `ns`: guest time jumps there (the caller waits for the wall clock). */
  skipTo(ns: number): void {
    if (ns > this.now()) {
      this.baseNs = ns;
      this.baseInstructions = this.instructions();
    }
  }

  pause(): void {
    if (this.pausedAt === null) this.pausedAt = this.hostMs();
  }

  resume(): void {
    if (this.pausedAt !== null) {
      this.wallOrigin += this.hostMs() - this.pausedAt;
      this.pausedAt = null;
    }
  }
}
