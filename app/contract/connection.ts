/**
 * One client of the contract (a window, a browser tab): where its events go and what it
 * subscribed to. Screen updates are coalesced per connection, so a slow client gets fewer,
 * larger rectangles instead of an ever-growing queue.
 */
import type { Rect } from '../session/screen-mirror.js';
import type { ApiEvent } from './api.js';
import type { PathPolicy } from '../service/path-policy.js';

export interface EventSink {
  send(event: ApiEvent): void;
  /** Bytes queued for this client and not yet sent (0 when the transport cannot tell). */
  backlog(): number;
}

export class Connection {
  /** Per subscribed VM: the dirty region not yet sent. */
  readonly screens = new Map<string, Rect | null>();
  readonly serials = new Set<string>();
  closed = false;

  constructor(
    readonly sink: EventSink,
    readonly paths: PathPolicy,
  ) {}

  send(event: ApiEvent): void {
    if (!this.closed) this.sink.send(event);
  }
}
