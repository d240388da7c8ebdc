/** The NAT's host sockets on node:net and node:dgram. */
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import * as os from 'node:os';
import type { TcpHostStream } from './tcp/api.js';
import { HostSocketError, type HostListener, type HostNetwork, type HostSocketErrorKind, type HostUdpSocket } from './host-network.js';

/** Give up on a host connection that has not completed by then (the guest gave up long before). */
const CONNECT_TIMEOUT_MS = 75_000;
/** Datagrams waiting in a UDP socket's send queue before new ones are dropped. */
const UDP_SEND_QUEUE_LIMIT = 256;

const noop = (): void => {};

/**
 * A net.Socket as the TCP engine's host stream, with node's own backpressure: write() returns
 * false when the socket's buffer is over its high-water mark and 'drain' follows; pause()
 * stops reading, so the kernel's receive window closes toward the host peer.
 * Set the on* hooks in the same tick the stream is handed over: events start on the next I/O.
 */
export class NodeTcpStream implements TcpHostStream {
  onData: (data: Uint8Array) => void = noop;
  onEnd: () => void = noop;
  onDrain: () => void = noop;
  onClose: (error?: Error) => void = noop;

  constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    let failure: Error | undefined;
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('end', () => this.onEnd());
    socket.on('drain', () => this.onDrain());
    socket.on('error', (error: Error) => {
      failure = error;
    });
    socket.on('close', () => this.onClose(failure));
  }

  write(data: Uint8Array): boolean {
    if (this.socket.destroyed) return true;
    // Copied: node keeps a reference to what it has not sent yet, and callers reuse their buffers.
    return this.socket.write(Buffer.from(data));
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}

class NodeUdpSocket implements HostUdpSocket {
  onMessage: (data: Uint8Array, address: string, port: number) => void = noop;

  constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
  ) {
    socket.on('message', (data: Buffer, info: dgram.RemoteInfo) => this.onMessage(data, info.address, info.port));
    // Errors after binding (ICMP unreachable reports, send failures) lose one datagram, as UDP may.
    socket.on('error', noop);
  }

  send(data: Uint8Array, port: number, address: string): boolean {
    if (this.socket.getSendQueueCount() >= UDP_SEND_QUEUE_LIMIT) return false;
    this.socket.send(Buffer.from(data), port, address, noop);
    return true;
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

function socketError(error: unknown, what: string): HostSocketError {
  const code = (error as NodeJS.ErrnoException).code;
  const kind: HostSocketErrorKind =
    code === 'EADDRINUSE' ? 'in-use' : code === 'EACCES' || code === 'EPERM' ? 'permission' : code === 'EADDRNOTAVAIL' ? 'address-unavailable' : 'other';
  return new HostSocketError(kind, `${what}: ${(error as Error).message}`);
}

export class NodeHostNetwork implements HostNetwork {
  connectTcp(host: string, port: number): Promise<TcpHostStream> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, allowHalfOpen: true });
      const timer = setTimeout(() => socket.destroy(new Error(`connecting to ${host}:${port} timed out`)), CONNECT_TIMEOUT_MS);
      const failed = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      socket.once('error', failed);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', failed);
        resolve(new NodeTcpStream(socket));
      });
    });
  }

  listenTcp(address: string, port: number, onConnection: (stream: TcpHostStream, peerAddress: string, peerPort: number) => void): Promise<HostListener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true }, (socket) => {
        onConnection(new NodeTcpStream(socket), socket.remoteAddress ?? '', socket.remotePort ?? 0);
      });
      const failed = (error: Error): void => reject(socketError(error, `listen on ${address}:${port}`));
      server.once('error', failed);
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', failed);
        server.on('error', noop);
        resolve({ close: () => server.close() });
      });
    });
  }

  bindUdp(family: 4 | 6, address: string, port: number): Promise<HostUdpSocket> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
      const failed = (error: Error): void => {
        socket.close();
        reject(socketError(error, `bind UDP ${address}:${port}`));
      };
      socket.once('error', failed);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off('error', failed);
        resolve(new NodeUdpSocket(socket, socket.address().port));
      });
    });
  }

  hostAddresses(): string[] {
    const addresses: string[] = [];
    for (const entries of Object.values(os.networkInterfaces())) {
      for (const entry of entries ?? []) {
        // node 18.0-18.3 reported the family as a number
        if (entry.family === 'IPv4' || (entry.family as unknown) === 4) addresses.push(entry.address);
      }
    }
    return addresses;
  }
}
