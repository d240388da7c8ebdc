/** A fake clock implementing TcpTimers: time moves only when a test runs events. */
import type { TcpTimers } from '../../../emulator-core/net/tcp/api.js';

interface ClockEvent {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements TcpTimers {
  private t = 0;
  private order = 0;
  private readonly heap: ClockEvent[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const ev: ClockEvent = { at: this.t + Math.max(0, ms), order: this.order++, fn, cancelled: false };
    this.push(ev);
    return ev;
  }

  clearTimeout(handle: unknown): void {
    (handle as ClockEvent).cancelled = true;
  }

  /** Run events in time order until `done()` holds or `maxMs` of fake time pass; returns done(). */
  runUntil(done: () => boolean, maxMs: number): boolean {
    const limit = this.t + maxMs;
    while (!done()) {
      const ev = this.pop(limit);
      if (ev === undefined) {
        this.t = limit;
        return done();
      }
      this.t = ev.at;
      ev.fn();
    }
    return true;
  }

  /** Run everything due in the next `ms` and leave the clock there. */
  advance(ms: number): void {
    this.runUntil(() => false, ms);
  }

  private pop(limit: number): ClockEvent | undefined {
    const h = this.heap;
    while (h.length > 0) {
      const top = h[0];
      if (top.at > limit) return undefined;
      const last = h.pop() as ClockEvent;
      if (h.length > 0) {
        h[0] = last;
        this.down(0);
      }
      if (!top.cancelled) return top;
    }
    return undefined;
  }

  private push(ev: ClockEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l], h[m])) m = l;
      if (r < h.length && before(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

function before(a: ClockEvent, b: ClockEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}

/** A small seeded PRNG (mulberry32) so lossy runs repeat exactly. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic pseudo-random bytes. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const rand = seededRandom(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) {
    const v = (rand() * 4294967296) >>> 0;
    out[i] = v;
    if (i + 1 < length) out[i + 1] = v >>> 8;
    if (i + 2 < length) out[i + 2] = v >>> 16;
    if (i + 3 < length) out[i + 3] = v >>> 24;
  }
  return out;
}
