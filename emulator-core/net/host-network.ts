/**
 * The host sockets the NAT uses, behind an interface so the NAT runs in tests without real
 * sockets. node-host-network.ts implements it with node:net and node:dgram.
 */
import type { TcpHostStream } from './tcp/api.js';

/** A listening TCP socket (a port forward). */
export interface HostListener {
  close(): void;
}

/** A bound UDP socket. Addresses are textual (IPv4 or IPv6, as the socket's family). */
export interface HostUdpSocket {
  /** The local port it is bound to. */
  readonly port: number;
  /** Send one datagram; the socket copies `data`. Returns false when it was dropped (send queue full). */
  send(data: Uint8Array, port: number, address: string): boolean;
  close(): void;
  onMessage: (data: Uint8Array, address: string, port: number) => void;
}

/** Why opening a host socket failed, for messages that name the rule. */
export type HostSocketErrorKind = 'in-use' | 'permission' | 'address-unavailable' | 'other';

export class HostSocketError extends Error {
  constructor(
    readonly kind: HostSocketErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'HostSocketError';
  }
}

export interface HostNetwork {
  /** Connect to host:port. Rejects when refused, unreachable, or timed out. */
  connectTcp(host: string, port: number): Promise<TcpHostStream>;
  /**
   * Listen on address:port; each accepted connection is handed over with its peer's address.
   * Rejects with HostSocketError.
   */
  listenTcp(address: string, port: number, onConnection: (stream: TcpHostStream, peerAddress: string, peerPort: number) => void): Promise<HostListener>;
  /** Bind a UDP socket (port 0: any free port). Rejects with HostSocketError. */
  bindUdp(family: 4 | 6, address: string, port: number): Promise<HostUdpSocket>;
  /** The host's own IPv4 addresses (every interface), for "block host access". */
  hostAddresses(): string[];
}
