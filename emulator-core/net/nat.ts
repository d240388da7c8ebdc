/**
 * User-mode networking (QEMU's "-nic user", VirtualBox's NAT): the guest sees a router at
 * 10.0.2.2 and a DNS server at 10.0.2.3 on 10.0.2.0/24; its TCP and UDP leave through host
 * sockets. This class dispatches the guest's frames to the protocol modules beside it and
 * owns their lifetimes; the path back to the guest is GuestLink.
 */
import type { NetBackend, NetPort } from './link.js';
import type { NetStatus, PortForward } from '../machine/types.js';
import type { TcpEngineOptions, TcpEngineStats, TcpHostStream, TcpTimers } from './tcp/api.js';
import type { HostNetwork } from './host-network.js';
import { handleArp } from './arp.js';
import {
  DNS_IP,
  FIRST_GUEST_IP,
  GATEWAY_IP,
  LIMITED_BROADCAST,
  NAT_BROADCAST,
  formatIpv4,
  isGuestSideAddress,
  isNeverRoutable,
} from './addresses.js';
import { ETH_HEADER_LENGTH, ETHERTYPE_ARP, ETHERTYPE_IPV4, etherType, isBroadcastMac } from './ethernet.js';
import { Ipv4Header, PROTO_ICMP, PROTO_TCP, PROTO_UDP } from './ipv4.js';
import { Ipv4Reassembler, type ReassemblyLimits } from './ipv4-reassembly.js';
import { GuestLink, type GuestLinkCounters } from './guest-link.js';
import { ICMP_DEST_UNREACHABLE, ICMP_TIME_EXCEEDED, UNREACH_ADMIN_PROHIBITED, UNREACH_PORT, echoReply, icmpError } from './icmp.js';
import { UDP_HEADER_LENGTH, checkUdp, writeUdpHeader } from './udp.js';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DhcpServer } from './dhcp-server.js';
import { DnsForwarder, type DnsForwarderCounters } from './dns-forwarder.js';
import type { DnsServer } from './dns-message.js';
import { DestinationPolicy } from './destination-policy.js';
import { UdpFlows, type UdpFlowCounters } from './udp-flows.js';
import { NatTcpConnector } from './tcp-connector.js';
import { PortForwarder } from './port-forwards.js';
import { macBytes } from './forward-rules.js';
import { systemTimers } from './timers.js';

/** What the NAT needs of a TCP engine (tcp/engine.ts's TcpEngine). */
export interface NatTcpEngine {
  input(srcIp: number, dstIp: number, segment: Uint8Array): void;
  openToGuest(stream: TcpHostStream, guestIp: number, guestPort: number, fromIp: number, fromPort: number): void;
  stats(): TcpEngineStats;
  close(): void;
}

export interface NatOptions {
  /** The NIC's MAC, "52:54:00:xx:xx:xx". */
  mac: string;
  blockHostAccess: boolean;
  /** Upstream resolvers for 10.0.2.3 (already parsed; none: every query gets SERVFAIL). */
  dnsServers: readonly DnsServer[];
  host: HostNetwork;
  createTcpEngine: (options: TcpEngineOptions) => NatTcpEngine;
  timers?: TcpTimers;
  /** The guest's lease or the active forwards changed. */
  onStatus?: (status: NetStatus) => void;
  log?: (line: string) => void;
  /** Bytes of frames queued for a guest that has no receive buffers (default 2 MiB). */
  rxQueueBytes?: number;
  udpIdleMs?: number;
  maxUdpFlows?: number;
  dnsAttemptTimeoutMs?: number;
  reassembly?: ReassemblyLimits;
}

export interface NatCounters {
  framesFromGuest: number;
  bytesFromGuest: number;
  /** Frames dropped as malformed (bad lengths or checksums). */
  malformed: number;
  /** Well-formed frames nothing here serves (IPv6, other hosts' MACs, unknown protocols). */
  ignored: number;
  arpReplies: number;
  echoReplies: number;
  dhcpReplies: number;
  datagramsReassembled: number;
  fragmentsDropped: number;
  link: GuestLinkCounters;
  udp: UdpFlowCounters & { flows: number };
  dns: DnsForwarderCounters;
  tcp: TcpEngineStats & { refused: number };
}

/** Ports 10.0.2.2 uses toward the guest for forwarded connections. */
const FORWARD_PORT_FIRST = 49152;
const FORWARD_PORT_COUNT = 16384;
const REASSEMBLY_SWEEP_MS = 5_000;
const EMPTY = new Uint8Array(0);

export class NatBackend implements NetBackend {
  private readonly link: GuestLink;
  private readonly timers: TcpTimers;
  private readonly header = new Ipv4Header();
  private readonly udpHeader = new Uint8Array(UDP_HEADER_LENGTH);
  private readonly reassembler: Ipv4Reassembler;
  private reassemblySweep: unknown = null;
  private readonly dhcp: DhcpServer;
  private readonly dns: DnsForwarder;
  private readonly udp: UdpFlows;
  private readonly connector: NatTcpConnector;
  private readonly tcp: NatTcpEngine;
  private readonly forwarder: PortForwarder;
  private readonly mac: string;
  private guestAddress: number | null = null;
  private nextForwardPort = 0;
  private closed = false;
  private readonly counts = {
    framesFromGuest: 0,
    bytesFromGuest: 0,
    malformed: 0,
    ignored: 0,
    arpReplies: 0,
    echoReplies: 0,
    dhcpReplies: 0,
    datagramsReassembled: 0,
  };

  constructor(private readonly options: NatOptions) {
    this.mac = options.mac.toLowerCase();
    this.timers = options.timers ?? systemTimers;
    this.link = new GuestLink({ guestMac: macBytes(this.mac), queueBytes: options.rxQueueBytes });
    this.reassembler = new Ipv4Reassembler(options.reassembly);
    const policy = new DestinationPolicy({ blockHostAccess: options.blockHostAccess, hostAddresses: () => options.host.hostAddresses(), now: () => this.timers.now() });
    this.dhcp = new DhcpServer(() => this.timers.now(), {
      bound: (ip) => this.setGuestAddress(ip),
      released: (ip) => {
        if (this.guestAddress === ip) this.setGuestAddress(null);
      },
    });
    this.dns = new DnsForwarder({
      servers: options.dnsServers,
      host: options.host,
      timers: this.timers,
      reply: (guestIp, guestPort, message) => this.sendUdp(DNS_IP, 53, guestIp, guestPort, message),
      attemptTimeoutMs: options.dnsAttemptTimeoutMs,
    });
    this.udp = new UdpFlows({
      host: options.host,
      policy,
      timers: this.timers,
      toGuest: (srcIp, srcPort, dstIp, dstPort, data) => this.sendUdp(srcIp, srcPort, dstIp, dstPort, data),
      idleMs: options.udpIdleMs,
      maxFlows: options.maxUdpFlows,
    });
    this.connector = new NatTcpConnector(options.host, policy, () => this.dns.tcpUpstream());
    this.tcp = options.createTcpEngine({
      output: (srcIp, dstIp, segment) => this.link.sendIpv4(srcIp, dstIp, PROTO_TCP, EMPTY, segment, 'stream'),
      connector: this.connector,
      timers: this.timers,
    });
    this.forwarder = new PortForwarder({
      host: options.host,
      defaultGuestIp: () => this.defaultGuestIp(),
      openToGuest: (stream, guestIp, guestPort) => {
        const fromPort = FORWARD_PORT_FIRST + this.nextForwardPort;
        this.nextForwardPort = (this.nextForwardPort + 1) % FORWARD_PORT_COUNT;
        this.tcp.openToGuest(stream, guestIp, guestPort, GATEWAY_IP, fromPort);
      },
      udpToGuest: (srcPort, guestIp, guestPort, data) => this.sendUdp(GATEWAY_IP, srcPort, guestIp, guestPort, data),
    });
  }

  attach(port: NetPort): void {
    this.link.attach(port);
  }

  rxSpace(): void {
    this.link.flush();
  }

  transmit(frame: Uint8Array): void {
    if (this.closed) return;
    this.counts.framesFromGuest++;
    this.counts.bytesFromGuest += frame.length;
    try {
      this.receive(frame);
    } catch (error) {
      // A frame must never take the machine down; a bug here shows in the log instead.
      this.counts.malformed++;
      this.options.log?.(`nat: dropped a frame: ${(error as Error).message}`);
    }
  }

  /** Replace the port forwards live; on failure (BadInputError naming the rule) the previous ones stay. */
  async setForwards(rules: readonly PortForward[]): Promise<void> {
    try {
      await this.forwarder.setForwards(rules);
    } finally {
      this.emitStatus();
    }
  }

  status(): NetStatus {
    return {
      mode: 'nat',
      mac: this.mac,
      guestAddress: this.guestAddress === null ? null : formatIpv4(this.guestAddress),
      forwards: this.forwarder.list(),
    };
  }

  counters(): NatCounters {
    return {
      ...this.counts,
      fragmentsDropped: this.reassembler.dropped,
      link: { ...this.link.counters },
      udp: { ...this.udp.counters, flows: this.udp.size },
      dns: { ...this.dns.counters },
      tcp: { ...this.tcp.stats(), refused: this.connector.refused },
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forwarder.close();
    this.connector.close();
    this.tcp.close();
    this.udp.close();
    this.dns.close();
    this.reassembler.clear();
    if (this.reassemblySweep !== null) this.timers.clearTimeout(this.reassemblySweep);
    this.link.clear();
  }

  private receive(frame: Uint8Array): void {
    const length = frame.length;
    if (length < ETH_HEADER_LENGTH) {
      this.counts.malformed++;
      return;
    }
    // Only broadcasts and frames to the NAT's own MACs (52:55:0a:00:02:xx) are ours.
    if (!isBroadcastMac(frame, 0) && !(frame[0] === 0x52 && frame[1] === 0x55 && frame[2] === 0x0a && frame[3] === 0 && frame[4] === 2)) {
      this.counts.ignored++;
      return;
    }
    const type = etherType(frame);
    if (type === ETHERTYPE_ARP) this.receiveArp(frame);
    else if (type === ETHERTYPE_IPV4) this.receiveIpv4(frame);
    else this.counts.ignored++;
  }

  private receiveArp(frame: Uint8Array): void {
    const result = handleArp(frame, frame.length);
    if (!result) {
      this.counts.malformed++;
      return;
    }
    if (result.learnedIp !== 0) this.link.learn(result.learnedIp, frame, result.learnedMacOffset);
    if (result.reply) {
      this.counts.arpReplies++;
      this.link.sendFrame(result.reply, 'datagram');
    }
  }

  private receiveIpv4(frame: Uint8Array): void {
    const h = this.header;
    if (!h.parse(frame, ETH_HEADER_LENGTH, frame.length - ETH_HEADER_LENGTH)) {
      this.counts.malformed++;
      return;
    }
    const src = h.src;
    const dst = h.dst;
    // Only the guest's own addresses (or 0.0.0.0 for DHCP) may send: nothing spoofs the NAT or the host.
    if (!isGuestSideAddress(src) && !(src === 0 && h.protocol === PROTO_UDP)) {
      this.counts.ignored++;
      return;
    }
    if (src !== 0) this.link.learn(src, frame, 6);
    const packet = frame.subarray(ETH_HEADER_LENGTH, ETH_HEADER_LENGTH + h.totalLength);
    let payload = packet.subarray(h.headerLength);
    if (h.isFragment) {
      const whole = this.reassembler.add(src, dst, h.protocol, h.id, h.fragmentOffset, h.moreFragments, payload, this.timers.now());
      this.scheduleReassemblySweep();
      if (!whole) return;
      this.counts.datagramsReassembled++;
      payload = whole;
    }
    const local = dst === GATEWAY_IP || dst === DNS_IP;
    const broadcast = dst === LIMITED_BROADCAST || dst === NAT_BROADCAST;
    if (!local && !broadcast && h.ttl <= 1) {
      this.sendIcmpError(src, ICMP_TIME_EXCEEDED, 0, packet, h.headerLength, payload);
      return;
    }
    switch (h.protocol) {
      case PROTO_UDP:
        this.receiveUdp(src, dst, broadcast, packet, h.headerLength, payload);
        return;
      case PROTO_TCP:
        if (src === 0 || broadcast || isNeverRoutable(dst)) this.counts.ignored++;
        else this.tcp.input(src, dst, payload);
        return;
      case PROTO_ICMP:
        this.receiveIcmp(src, dst, payload);
        return;
      default:
        this.counts.ignored++;
    }
  }

  private receiveIcmp(src: number, dst: number, message: Uint8Array): void {
    // Echo is answered for the NAT's own addresses; the host cannot send ICMP for the guest without privileges.
    const reply = dst === GATEWAY_IP || dst === DNS_IP ? echoReply(message) : null;
    if (!reply) {
      this.counts.ignored++;
      return;
    }
    this.counts.echoReplies++;
    this.link.sendIpv4(dst, src, PROTO_ICMP, EMPTY, reply, 'datagram');
  }

  private receiveUdp(src: number, dst: number, broadcast: boolean, packet: Uint8Array, headerLength: number, datagram: Uint8Array): void {
    const dataLength = checkUdp(datagram, src, dst);
    if (dataLength < 0) {
      this.counts.malformed++;
      return;
    }
    const srcPort = (datagram[0] << 8) | datagram[1];
    const dstPort = (datagram[2] << 8) | datagram[3];
    const data = datagram.subarray(UDP_HEADER_LENGTH, UDP_HEADER_LENGTH + dataLength);
    if (dstPort === DHCP_SERVER_PORT && (broadcast || dst === GATEWAY_IP)) {
      const reply = this.dhcp.handle(data);
      if (reply) {
        this.counts.dhcpReplies++;
        writeUdpHeader(this.udpHeader, GATEWAY_IP, DHCP_SERVER_PORT, reply.dstIp, DHCP_CLIENT_PORT, reply.message);
        this.link.sendIpv4(GATEWAY_IP, reply.dstIp, PROTO_UDP, this.udpHeader, reply.message, 'datagram', false, reply.dstMac);
      }
      return;
    }
    if (src === 0 || broadcast || isNeverRoutable(dst)) {
      this.counts.ignored++;
      return;
    }
    if (dst === DNS_IP) {
      if (dstPort === 53) this.dns.query(src, srcPort, data);
      else this.sendIcmpError(src, ICMP_DEST_UNREACHABLE, UNREACH_PORT, packet, headerLength, datagram);
      return;
    }
    if (this.forwarder.udpFromGuest(src, srcPort, dst, dstPort, data)) return;
    if (!this.udp.send(src, srcPort, dst, dstPort, data)) {
      this.sendIcmpError(src, ICMP_DEST_UNREACHABLE, UNREACH_ADMIN_PROHIBITED, packet, headerLength, datagram);
    }
  }

  /** An ICMP error from the gateway quoting the offending packet's header and its first 8 payload bytes. */
  private sendIcmpError(to: number, type: number, code: number, packet: Uint8Array, headerLength: number, payload: Uint8Array): void {
    const quoted = new Uint8Array(headerLength + Math.min(8, payload.length));
    quoted.set(packet.subarray(0, headerLength));
    quoted.set(payload.subarray(0, quoted.length - headerLength), headerLength);
    this.link.sendIpv4(GATEWAY_IP, to, PROTO_ICMP, EMPTY, icmpError(type, code, quoted, headerLength), 'datagram');
  }

  private sendUdp(srcIp: number, srcPort: number, dstIp: number, dstPort: number, data: Uint8Array): void {
    if (this.closed) return;
    writeUdpHeader(this.udpHeader, srcIp, srcPort, dstIp, dstPort, data);
    this.link.sendIpv4(srcIp, dstIp, PROTO_UDP, this.udpHeader, data, 'datagram');
  }

  private setGuestAddress(ip: number | null): void {
    if (this.guestAddress === ip) return;
    this.guestAddress = ip;
    this.emitStatus();
  }

  private emitStatus(): void {
    if (!this.closed) this.options.onStatus?.(this.status());
  }

  /** Where forwards without a guest address go: this NIC's lease, else the last lease, else 10.0.2.15. */
  private defaultGuestIp(): number {
    return this.dhcp.boundAddress(this.mac) ?? this.guestAddress ?? FIRST_GUEST_IP;
  }

  private scheduleReassemblySweep(): void {
    if (this.reassemblySweep !== null || this.reassembler.size === 0) return;
    this.reassemblySweep = this.timers.setTimeout(() => {
      this.reassemblySweep = null;
      this.reassembler.expire(this.timers.now());
      this.scheduleReassemblySweep();
    }, REASSEMBLY_SWEEP_MS);
  }
}
