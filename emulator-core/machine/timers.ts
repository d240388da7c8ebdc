import type { Clock } from './clock.js';

/**
 * One-shot timers on guest time. Devices arm a Timer for their next event; the run loop asks
 * the queue for the earliest deadline, runs the CPU until then and fires what expired.
 * A machine has a handful of timers, so a linear scan beats any heap.
 */
export class Timer {
  deadline = Infinity;
  constructor(
    private readonly queue: TimerQueue,
    readonly name: string,
    readonly callback: (now: number) => void,
  ) {}

  get armed(): boolean {
    return this.deadline !== Infinity;
  }

  /** Fire at absolute guest time `deadlineNs` (replaces any earlier arming). */
  arm(deadlineNs: number): void {
    this.deadline = deadlineNs;
    this.queue.changed();
    if (deadlineNs < this.queue.sliceDeadline) this.queue.onEarlierDeadline();
  }

  /** Fire `delayNs` from now. */
  armIn(delayNs: number): void {
    this.arm(this.queue.clock.now() + delayNs);
  }

  cancel(): void {
    if (this.deadline !== Infinity) {
      this.deadline = Infinity;
      this.queue.changed();
    }
  }
}

export class TimerQueue {
  private readonly timers: Timer[] = [];
  private next = Infinity;
  private dirty = false;
  /**
   * While the CPU runs a slice: the guest time the run loop planned to stop at (the earliest
   * deadline it knew of); -Infinity between slices. A timer armed earlier than that from
   * inside the slice (a guest programming its APIC timer, say) calls onEarlierDeadline so
   * the CPU stops in time: on a slow host one slice can span many milliseconds of guest time,
   * and a tick delivered that late is a tick the guest loses.
   */
  sliceDeadline = -Infinity;
  onEarlierDeadline: () => void = () => {};

  constructor(readonly clock: Clock) {}

  create(name: string, callback: (now: number) => void): Timer {
    const t = new Timer(this, name, callback);
    this.timers.push(t);
    return t;
  }

  /** @internal called by Timer when its deadline moves. */
  changed(): void {
    this.dirty = true;
  }

  /** Earliest armed deadline in guest ns, or Infinity. */
  nextDeadline(): number {
    if (this.dirty) {
      let n = Infinity;
      for (const t of this.timers) if (t.deadline < n) n = t.deadline;
      this.next = n;
      this.dirty = false;
    }
    return this.next;
  }

  /** Fire every timer whose deadline is at or before `now`, in deadline order. */
  runExpired(now: number): void {
    while (this.nextDeadline() <= now) {
      let first: Timer | null = null;
      for (const t of this.timers) if (t.deadline <= now && (first === null || t.deadline < first.deadline)) first = t;
      if (first === null) return;
      first.deadline = Infinity;
      this.dirty = true;
      first.callback(now);
    }
  }
}
