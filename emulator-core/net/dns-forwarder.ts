/**
 * The DNS forwarder behind 10.0.2.3:53. Each guest query is relayed unchanged except for its
 * id (a fresh random one, so queries from several guest sockets never collide and a forged
 * answer must guess it), to the upstream servers one after another until one answers; the
 * answer goes back with the guest's id. When none answers, the guest gets SERVFAIL at once
 * instead of waiting out its own timeout.
 */
import { randomInt } from 'node:crypto';
import type { TcpTimers } from './tcp/api.js';
import type { HostNetwork, HostUdpSocket } from './host-network.js';
import { DNS_HEADER_LENGTH, servfailFor, type DnsServer } from './dns-message.js';
import { copyBytes } from './bytes.js';

export interface DnsForwarderOptions {
  servers: readonly DnsServer[];
  host: HostNetwork;
  timers: TcpTimers;
  /** Send a DNS message to the guest from 10.0.2.3:53. */
  reply: (guestIp: number, guestPort: number, message: Uint8Array) => void;
  /** How long one upstream server gets before the next is tried (default 2 s). */
  attemptTimeoutMs?: number;
  /** Queries relayed at once; more get SERVFAIL (default 512). */
  maxPending?: number;
}

export interface DnsForwarderCounters {
  queries: number;
  answers: number;
  servfails: number;
}

interface PendingQuery {
  guestIp: number;
  guestPort: number;
  guestId: number;
  /** The query with the relay id. */
  message: Uint8Array;
  /** Index of the server being tried; answers from earlier ones still count. */
  server: number;
  timer: unknown;
}

export class DnsForwarder {
  private readonly pending = new Map<number, PendingQuery>();
  private readonly sockets = new Map<4 | 6, Promise<HostUdpSocket | null>>();
  private readonly attemptTimeoutMs: number;
  private readonly maxPending: number;
  private closed = false;
  readonly counters: DnsForwarderCounters = { queries: 0, answers: 0, servfails: 0 };

  constructor(private readonly options: DnsForwarderOptions) {
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 2_000;
    this.maxPending = options.maxPending ?? 512;
  }

  /** The server TCP queries to 10.0.2.3:53 go to (truncated answers make resolvers retry over TCP). */
  tcpUpstream(): DnsServer | null {
    return this.options.servers[0] ?? null;
  }

  /** A DNS message the guest sent to 10.0.2.3:53. */
  query(guestIp: number, guestPort: number, message: Uint8Array): void {
    if (this.closed || message.length < DNS_HEADER_LENGTH || message[2] & 0x80) return;
    this.counters.queries++;
    if (this.options.servers.length === 0 || this.pending.size >= this.maxPending) {
      this.fail(guestIp, guestPort, message);
      return;
    }
    let relayId: number;
    do relayId = randomInt(0, 0x10000);
    while (this.pending.has(relayId));
    const relayed = copyBytes(message);
    relayed[0] = relayId >>> 8;
    relayed[1] = relayId & 0xff;
    const entry: PendingQuery = { guestIp, guestPort, guestId: (message[0] << 8) | message[1], message: relayed, server: 0, timer: null };
    this.pending.set(relayId, entry);
    this.attempt(relayId, entry);
  }

  close(): void {
    this.closed = true;
    for (const entry of this.pending.values()) this.options.timers.clearTimeout(entry.timer);
    this.pending.clear();
    for (const socket of this.sockets.values()) void socket.then((s) => s?.close());
    this.sockets.clear();
  }

  private attempt(relayId: number, entry: PendingQuery): void {
    const server = this.options.servers[entry.server];
    entry.timer = this.options.timers.setTimeout(() => this.timedOut(relayId, entry), this.attemptTimeoutMs);
    void this.socket(server.family).then((socket) => {
      if (socket && this.pending.get(relayId) === entry) socket.send(entry.message, server.port, server.address);
    });
  }

  private timedOut(relayId: number, entry: PendingQuery): void {
    if (this.pending.get(relayId) !== entry) return;
    entry.server++;
    if (entry.server < this.options.servers.length) {
      this.attempt(relayId, entry);
      return;
    }
    this.pending.delete(relayId);
    this.fail(entry.guestIp, entry.guestPort, entry.message, entry.guestId);
  }

  private fail(guestIp: number, guestPort: number, query: Uint8Array, guestId?: number): void {
    const answer = servfailFor(query);
    if (!answer) return;
    if (guestId !== undefined) {
      answer[0] = guestId >>> 8;
      answer[1] = guestId & 0xff;
    }
    this.counters.servfails++;
    this.options.reply(guestIp, guestPort, answer);
  }

  private answer(data: Uint8Array, address: string, port: number): void {
    if (data.length < DNS_HEADER_LENGTH || !(data[2] & 0x80)) return;
    const relayId = (data[0] << 8) | data[1];
    const entry = this.pending.get(relayId);
    if (!entry) return;
    // Only a server this query went to may answer it.
    let asked = false;
    for (let i = 0; i <= entry.server && !asked; i++) {
      const server = this.options.servers[i];
      asked = server.port === port && sameAddress(server.address, address);
    }
    if (!asked) return;
    this.pending.delete(relayId);
    this.options.timers.clearTimeout(entry.timer);
    const answer = copyBytes(data);
    answer[0] = entry.guestId >>> 8;
    answer[1] = entry.guestId & 0xff;
    this.counters.answers++;
    this.options.reply(entry.guestIp, entry.guestPort, answer);
  }

  private socket(family: 4 | 6): Promise<HostUdpSocket | null> {
    let socket = this.sockets.get(family);
    if (!socket) {
      socket = this.options.host.bindUdp(family, family === 6 ? '::' : '0.0.0.0', 0).then(
        (bound) => {
          if (this.closed) {
            bound.close();
            return null;
          }
          bound.onMessage = (data, address, port) => this.answer(data, address, port);
          return bound;
        },
        // This attempt times out and the next server (or SERVFAIL) follows; the next query binds again.
        () => {
          this.sockets.delete(family);
          return null;
        },
      );
      this.sockets.set(family, socket);
    }
    return socket;
  }
}

/** IPv6 answers may come back with a different spelling of the same address. */
function sameAddress(configured: string, seen: string): boolean {
  if (configured === seen) return true;
  const strip = (a: string): string => a.toLowerCase().replace(/^::ffff:/, '').replace(/%.*$/, '');
  return strip(configured) === strip(seen);
}
