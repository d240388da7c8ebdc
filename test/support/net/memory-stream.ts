/**
 * An in-memory TcpHostStream standing in for a host socket: it hashes what the engine
 * writes, can refuse writes (a slow host reader) and produces data on the fake clock,
 * honouring pause/resume as a node socket does.
 */
import { createHash, type Hash } from 'node:crypto';
import type { TcpHostStream } from '../../../emulator-core/net/tcp/api.js';
import type { FakeClock } from './fake-clock.js';

const noop = (): void => {};

export class MemoryHostStream implements TcpHostStream {
  onData: (data: Uint8Array) => void = noop;
  onEnd: () => void = noop;
  onDrain: () => void = noop;
  onClose: (error?: Error) => void = noop;

  // What the engine wrote (guest -> host).
  readonly received: Hash = createHash('sha256');
  receivedBytes = 0;
  /** The engine called end(): the guest half-closed. */
  ended = false;
  /** receivedBytes when end() was called. */
  bytesAtEnd = -1;
  destroyed = false;
  closed = false;
  /** While false, writes are kept and write() returns false, like a full socket buffer. */
  private accepting = true;
  /** Bytes taken while not accepting and not yet drained. */
  backlog = 0;
  maxBacklog = 0;
  /** Writes made after write() had returned false and before onDrain. */
  writesWhileBlocked = 0;
  private blocked = false;

  // What the host sends (host -> guest).
  paused = false;
  pauseCount = 0;
  private source: Uint8Array = new Uint8Array(0);
  private sourceOffset = 0;
  private consumedBefore = 0;
  private endAfterSource = false;
  private hostEnded = false;
  private pumpScheduled = false;

  constructor(
    private readonly clock: FakeClock,
    private readonly chunkBytes = 16384,
  ) {}

  write(data: Uint8Array): boolean {
    if (this.destroyed || this.ended) throw new Error('write after end/destroy');
    if (this.blocked) this.writesWhileBlocked++;
    this.received.update(data);
    this.receivedBytes += data.length;
    if (this.accepting) return true;
    this.backlog += data.length;
    this.maxBacklog = Math.max(this.maxBacklog, this.backlog);
    this.blocked = true;
    return false;
  }

  end(): void {
    this.ended = true;
    this.bytesAtEnd = this.receivedBytes;
    this.closeIfDone();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.closed = true;
  }

  pause(): void {
    if (!this.paused) this.pauseCount++;
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedulePump();
  }

  /** The host reader stops (false) or starts (true) taking data; starting drains the backlog. */
  setAccepting(accepting: boolean): void {
    this.accepting = accepting;
    if (accepting && this.blocked) {
      this.backlog = 0;
      this.blocked = false;
      this.clock.setTimeout(() => {
        if (!this.destroyed) this.onDrain();
      }, 0);
    }
  }

  /** Send `data` to the guest in chunks, as the host peer would; then half-close if `end`. */
  send(data: Uint8Array, end = false): void {
    this.consumedBefore += this.sourceOffset;
    const rest = this.source.subarray(this.sourceOffset);
    const joined = new Uint8Array(rest.length + data.length);
    joined.set(rest);
    joined.set(data, rest.length);
    this.source = joined;
    this.sourceOffset = 0;
    this.endAfterSource ||= end;
    this.schedulePump();
  }

  /** The host peer fails (connection reset): onClose with an error. */
  fail(): void {
    this.clock.setTimeout(() => {
      this.closed = true;
      this.onClose(new Error('ECONNRESET'));
    }, 0);
  }

  /** Bytes handed to the engine through onData so far. */
  get bytesSent(): number {
    return this.sourceOffset + this.consumedBefore;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    this.clock.setTimeout(() => {
      this.pumpScheduled = false;
      this.pump();
    }, 0);
  }

  private pump(): void {
    while (!this.paused && !this.destroyed && this.sourceOffset < this.source.length) {
      const n = Math.min(this.chunkBytes, this.source.length - this.sourceOffset);
      const chunk = this.source.slice(this.sourceOffset, this.sourceOffset + n);
      this.sourceOffset += n;
      this.onData(chunk);
    }
    if (this.sourceOffset === this.source.length && this.endAfterSource && !this.hostEnded && !this.destroyed) {
      this.hostEnded = true;
      this.onEnd();
      this.closeIfDone();
    }
  }

  /** Like a node socket with allowHalfOpen: closed once both directions have ended. */
  private closeIfDone(): void {
    if (this.ended && this.hostEnded && !this.closed) {
      this.closed = true;
      this.clock.setTimeout(() => this.onClose(), 0);
    }
  }
}
