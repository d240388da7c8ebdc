/**
 * The guest's UDP traffic on host sockets: one host socket per guest address and port (a
 * flow), so a guest socket keeps one public port whatever it talks to. Answers are accepted
 * only from addresses the flow has sent to. Idle flows close after a minute, and the number of
 * flows is capped (the least recently used one goes first).
 */
import type { TcpTimers } from './tcp/api.js';
import type { HostNetwork, HostUdpSocket } from './host-network.js';
import type { DestinationPolicy } from './destination-policy.js';
import { GATEWAY_IP, parseIpv4 } from './addresses.js';
import { copyBytes } from './bytes.js';

export interface UdpFlowsOptions {
  host: HostNetwork;
  policy: DestinationPolicy;
  timers: TcpTimers;
  /** Send a datagram to the guest. */
  toGuest(srcIp: number, srcPort: number, dstIp: number, dstPort: number, data: Uint8Array): void;
  /** Milliseconds without traffic before a flow closes (default 60 s). */
  idleMs?: number;
  /** Flows open at once (default 256). */
  maxFlows?: number;
}

export interface UdpFlowCounters {
  datagramsFromGuest: number;
  datagramsToGuest: number;
  /** Datagrams dropped: refused destinations, answers from strangers, full send queues. */
  dropped: number;
  flowsOpened: number;
}

interface Flow {
  guestIp: number;
  guestPort: number;
  socket: HostUdpSocket | null;
  /** Datagrams waiting for the socket to be bound. */
  waiting: { data: Uint8Array; port: number; address: string }[];
  /** Host addresses this flow sent to: the only ones whose answers reach the guest. */
  peers: Set<string>;
  lastActive: number;
  closed: boolean;
}

const MAX_WAITING = 16;
const MAX_PEERS = 64;

export class UdpFlows {
  private readonly flows = new Map<number, Flow>();
  private readonly idleMs: number;
  private readonly maxFlows: number;
  private sweepTimer: unknown = null;
  readonly counters: UdpFlowCounters = { datagramsFromGuest: 0, datagramsToGuest: 0, dropped: 0, flowsOpened: 0 };

  constructor(private readonly options: UdpFlowsOptions) {
    this.idleMs = options.idleMs ?? 60_000;
    this.maxFlows = options.maxFlows ?? 256;
  }

  get size(): number {
    return this.flows.size;
  }

  /** A datagram from the guest. false when the NAT refuses its destination. */
  send(guestIp: number, guestPort: number, dstIp: number, dstPort: number, data: Uint8Array): boolean {
    const address = this.options.policy.hostAddressFor(dstIp);
    if (address === null || dstPort === 0) return false;
    this.counters.datagramsFromGuest++;
    const flow = this.flowFor(guestIp, guestPort);
    flow.lastActive = this.options.timers.now();
    if (!flow.peers.has(address)) {
      if (flow.peers.size >= MAX_PEERS) flow.peers.delete(flow.peers.values().next().value as string);
      flow.peers.add(address);
    }
    if (flow.socket) {
      if (!flow.socket.send(data, dstPort, address)) this.counters.dropped++;
    } else if (flow.waiting.length < MAX_WAITING) {
      flow.waiting.push({ data: copyBytes(data), port: dstPort, address });
    } else {
      this.counters.dropped++;
    }
    return true;
  }

  close(): void {
    for (const flow of this.flows.values()) this.closeFlow(flow);
    this.flows.clear();
    if (this.sweepTimer !== null) this.options.timers.clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
  }

  private flowFor(guestIp: number, guestPort: number): Flow {
    const key = guestIp * 0x10000 + guestPort;
    const existing = this.flows.get(key);
    if (existing) return existing;
    if (this.flows.size >= this.maxFlows) this.evictLeastRecent();
    const flow: Flow = { guestIp, guestPort, socket: null, waiting: [], peers: new Set(), lastActive: 0, closed: false };
    this.flows.set(key, flow);
    this.counters.flowsOpened++;
    this.options.host.bindUdp(4, '0.0.0.0', 0).then(
      (socket) => {
        if (flow.closed) {
          socket.close();
          return;
        }
        flow.socket = socket;
        socket.onMessage = (data, address, port) => this.fromHost(flow, data, address, port);
        for (const w of flow.waiting) if (!socket.send(w.data, w.port, w.address)) this.counters.dropped++;
        flow.waiting.length = 0;
      },
      () => {
        this.counters.dropped += flow.waiting.length;
        this.flows.delete(key);
        flow.closed = true;
      },
    );
    this.scheduleSweep();
    return flow;
  }

  private fromHost(flow: Flow, data: Uint8Array, address: string, port: number): void {
    if (!flow.peers.has(address)) {
      this.counters.dropped++;
      return;
    }
    const src = address === '127.0.0.1' ? GATEWAY_IP : parseIpv4(address);
    if (src === null) return;
    flow.lastActive = this.options.timers.now();
    this.counters.datagramsToGuest++;
    this.options.toGuest(src, port, flow.guestIp, flow.guestPort, data);
  }

  private closeFlow(flow: Flow): void {
    flow.closed = true;
    flow.socket?.close();
    flow.socket = null;
    flow.waiting.length = 0;
  }

  private evictLeastRecent(): void {
    let oldestKey = -1;
    let oldest = Infinity;
    for (const [key, flow] of this.flows) {
      if (flow.lastActive < oldest) {
        oldest = flow.lastActive;
        oldestKey = key;
      }
    }
    const flow = this.flows.get(oldestKey);
    if (flow) {
      this.closeFlow(flow);
      this.flows.delete(oldestKey);
    }
  }

  private scheduleSweep(): void {
    if (this.sweepTimer !== null) return;
    this.sweepTimer = this.options.timers.setTimeout(() => {
      this.sweepTimer = null;
      const now = this.options.timers.now();
      for (const [key, flow] of this.flows) {
        if (now - flow.lastActive >= this.idleMs) {
          this.closeFlow(flow);
          this.flows.delete(key);
        }
      }
      if (this.flows.size > 0) this.scheduleSweep();
    }, this.idleMs / 4);
  }
}
