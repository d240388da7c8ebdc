/** Wires a TcpEngine to a FakeGuest over a lossy Wire, with in-memory host streams, on a fake clock. */
import type { TcpHostStream } from '../../../emulator-core/net/tcp/api.js';
import { TcpEngine, type TcpEngineConfig } from '../../../emulator-core/net/tcp/engine.js';
import { FakeClock } from './fake-clock.js';
import { FakeGuest, type FakeGuestOptions } from './fake-guest.js';
import { MemoryHostStream } from './memory-stream.js';
import { Wire, type WireOptions } from './wire.js';

export const GUEST_IP = 0x0a00020f; // 10.0.2.15
export const GATEWAY_IP = 0x0a000202; // 10.0.2.2

export interface HarnessOptions {
  wire?: WireOptions;
  guest?: Partial<FakeGuestOptions>;
  engine?: Partial<Omit<TcpEngineConfig, 'output' | 'connector' | 'timers'>>;
  /** Host ports that refuse connections (the connector answers null). */
  refusedPorts?: number[];
  /** Host ports whose connector never answers until the test calls the returned function. */
  slowPorts?: number[];
  hostChunkBytes?: number;
}

export interface PendingConnect {
  dstIp: number;
  dstPort: number;
  srcPort: number;
  done: (stream: TcpHostStream | null) => void;
}

export class Harness {
  readonly clock = new FakeClock();
  readonly wire: Wire;
  readonly guest: FakeGuest;
  readonly engine: TcpEngine;
  /** Host streams the connector made, in order, and by the guest's source port. */
  readonly streams: MemoryHostStream[] = [];
  readonly streamByGuestPort = new Map<number, MemoryHostStream>();
  readonly connectCalls: { dstIp: number; dstPort: number; srcIp: number; srcPort: number }[] = [];
  readonly pending: PendingConnect[] = [];
  /** Every segment the engine sent, parsed lazily by tests that look at flags. */
  readonly toGuestLog: Uint8Array[] = [];
  logSegments = false;

  constructor(options: HarnessOptions = {}) {
    this.wire = new Wire(this.clock, options.wire);
    this.guest = new FakeGuest(
      this.clock,
      (src, dst, seg) => this.wire.carry(false, seg, () => this.engine.input(src, dst, seg)),
      { ip: GUEST_IP, ...options.guest },
    );
    const refused = new Set(options.refusedPorts ?? []);
    const slow = new Set(options.slowPorts ?? []);
    let nextIss = 0x10000000;
    this.engine = new TcpEngine({
      // Fixed sequence starts, so every run of a test is the same run.
      initialSequence: () => (nextIss += 0x01000000) >>> 0,
      ...options.engine,
      timers: this.clock,
      output: (src, dst, reused) => {
        const seg = reused.slice(); // the engine reuses its buffer
        if (this.logSegments) this.toGuestLog.push(seg);
        this.wire.carry(true, seg, () => this.guest.input(src, dst, seg));
      },
      connector: {
        connect: (dstIp, dstPort, srcIp, srcPort, done) => {
          this.connectCalls.push({ dstIp, dstPort, srcIp, srcPort });
          if (refused.has(dstPort)) {
            this.clock.setTimeout(() => done(null), 1);
          } else if (slow.has(dstPort)) {
            this.pending.push({ dstIp, dstPort, srcPort, done });
          } else {
            const stream = new MemoryHostStream(this.clock, options.hostChunkBytes);
            this.streams.push(stream);
            this.streamByGuestPort.set(srcPort, stream);
            this.clock.setTimeout(() => done(stream), 1);
          }
        },
      },
    });
  }

  newStream(): MemoryHostStream {
    return new MemoryHostStream(this.clock);
  }

  /** Run the fake clock until `done()` or `maxMs` of fake time; fails loudly when it times out. */
  run(done: () => boolean, maxMs: number, what = 'condition'): void {
    if (!this.clock.runUntil(done, maxMs)) throw new Error(`timed out after ${maxMs} ms of fake time waiting for ${what}`);
  }
}
