/**
 * One timer that serves several purposes in turn (retransmission, persist, TIME_WAIT) and is
 * re-armed lazily: moving its deadline later, which happens on nearly every ACK, costs no
 * timer call; an early firing just re-arms for the rest.
 */
import type { TcpTimers } from './api.js';

export class DeadlineTimer<Kind extends string> {
  /** What the timer is armed for, or null. */
  kind: Kind | null = null;
  private handle: unknown = null;
  /** When the underlying timer fires. */
  private firesAt = 0;
  private deadline = 0;

  constructor(
    private readonly timers: TcpTimers,
    private readonly expired: (kind: Kind) => void,
  ) {}

  arm(kind: Kind, ms: number): void {
    this.kind = kind;
    const at = this.timers.now() + ms;
    this.deadline = at;
    if (this.handle !== null) {
      if (this.firesAt <= at) return;
      this.timers.clearTimeout(this.handle);
    }
    this.firesAt = at;
    this.handle = this.timers.setTimeout(this.fire, ms);
  }

  /** Nothing is due; a pending underlying timer fires into nothing. */
  disarm(): void {
    this.kind = null;
  }

  /** Disarm and release the underlying timer. */
  cancel(): void {
    this.kind = null;
    if (this.handle !== null) this.timers.clearTimeout(this.handle);
    this.handle = null;
  }

  private readonly fire = (): void => {
    this.handle = null;
    const kind = this.kind;
    if (kind === null) return;
    const now = this.timers.now();
    if (now < this.deadline) {
      this.firesAt = this.deadline;
      this.handle = this.timers.setTimeout(this.fire, this.deadline - now);
      return;
    }
    this.kind = null;
    this.expired(kind);
  };
}
