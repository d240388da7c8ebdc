/** The link between the engine and the fake guest: delay, loss and reordering on the fake clock. */
import type { FakeClock } from './fake-clock.js';
import { seededRandom } from './fake-clock.js';

export interface WireOptions {
  /** Fraction of segments dropped, each direction. */
  loss?: number;
  /** Fraction of segments held back by an extra random delay, so later ones overtake them. */
  reorder?: number;
  delayMs?: number;
  /** Fraction of segments delivered twice. */
  duplicate?: number;
  seed?: number;
}

export class Wire {
  private readonly rand: () => number;
  dropped = 0;
  /** Return true to drop a particular segment (on top of random loss). */
  dropToGuest: ((segment: Uint8Array) => boolean) | null = null;
  dropToEngine: ((segment: Uint8Array) => boolean) | null = null;

  constructor(
    private readonly clock: FakeClock,
    private readonly options: WireOptions = {},
  ) {
    this.rand = seededRandom(options.seed ?? 1);
  }

  carry(toGuest: boolean, segment: Uint8Array, deliver: () => void): void {
    const filter = toGuest ? this.dropToGuest : this.dropToEngine;
    if ((filter !== null && filter(segment)) || this.rand() < (this.options.loss ?? 0)) {
      this.dropped++;
      return;
    }
    let delay = this.options.delayMs ?? 1;
    if (this.rand() < (this.options.reorder ?? 0)) delay += 1 + this.rand() * 4;
    this.clock.setTimeout(deliver, delay);
    if (this.rand() < (this.options.duplicate ?? 0)) this.clock.setTimeout(deliver, delay + this.rand() * 3);
  }
}
