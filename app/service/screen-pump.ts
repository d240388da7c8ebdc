/**
 * Sends screen updates to subscribed connections at most ~30 times a second. Dirty
 * rectangles accumulate per connection and leave as one rectangle read from the session's
 * mirror, so a slow connection (large backlog) skips frames instead of queueing them.
 */
import type { Connection } from '../contract/connection.js';
import { unionRect, type Rect, type ScreenMirror } from '../session/screen-mirror.js';

const FRAME_MS = 33;
/** Above this many unsent bytes a connection gets no new frame until it catches up. */
const MAX_BACKLOG = 8 * 1024 * 1024;

export class ScreenPump {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly connections: ReadonlySet<Connection>,
    private readonly mirrorOf: (id: string) => ScreenMirror | null,
  ) {}

  /** Mark a region dirty for every subscriber of `id` (or just `only`). */
  dirty(id: string, rect: Rect, only?: Connection): void {
    for (const conn of only ? [only] : this.connections) {
      if (conn.screens.has(id)) conn.screens.set(id, unionRect(conn.screens.get(id) ?? null, rect));
    }
    this.timer ??= setTimeout(() => this.flush(), FRAME_MS);
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private flush(): void {
    this.timer = null;
    let pending = false;
    for (const conn of this.connections) {
      for (const [id, rect] of conn.screens) {
        if (rect === null) continue;
        if (conn.sink.backlog() > MAX_BACKLOG) {
          pending = true;
          continue;
        }
        const mirror = this.mirrorOf(id);
        conn.screens.set(id, null);
        if (mirror === null || mirror.empty) continue;
        conn.send({ type: 'screen', id, rect: mirror.region(rect) });
      }
    }
    if (pending) this.timer = setTimeout(() => this.flush(), FRAME_MS);
  }
}
