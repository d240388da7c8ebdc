/**
 * The contract between the NAT and its TCP engine. The engine terminates the guest's TCP
 * connections and splices each onto a host byte stream; it never touches sockets itself, so
 * tests drive it with scripted guests and in-memory streams.
 */

/** One host-side byte stream (a node socket, or a test double). The engine sets the `on*` hooks. */
export interface TcpHostStream {
  /**
   * Send bytes to the host peer. false: the host side is backed up; wait for onDrain.
   * The stream copies what it keeps: the engine may reuse `data` after the call.
   */
  write(data: Uint8Array): boolean;
  /** Half-close toward the host peer (the guest sent FIN). */
  end(): void;
  /** Abort (the guest sent RST, or the engine gave up on the connection). */
  destroy(): void;
  /** Stop delivering onData (the guest cannot take more right now). */
  pause(): void;
  resume(): void;
  /** Bytes from the host peer; the engine copies what it keeps. */
  onData: (data: Uint8Array) => void;
  /** The host peer half-closed: the engine sends FIN to the guest after the queued data. */
  onEnd: () => void;
  onDrain: () => void;
  /** The stream is gone (after end in both directions, destroy, or a host error). */
  onClose: (error?: Error) => void;
}

/** Where the guest's outgoing connections go. */
export interface TcpConnector {
  /**
   * The guest opened a connection to dstIp:dstPort from srcIp:srcPort (IPv4 addresses as
   * unsigned 32-bit numbers). Call `done` once: with a connected stream, or with null when
   * the host refused or the NAT forbids it (the engine answers the guest with RST).
   */
  connect(dstIp: number, dstPort: number, srcIp: number, srcPort: number, done: (stream: TcpHostStream | null) => void): void;
}

/** Timer functions, injectable so tests can run the engine on a fake clock. */
export interface TcpTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface TcpEngineOptions {
  /**
   * Emit one TCP segment (header and data, checksum filled in) inside an IPv4 packet from srcIp
   * to dstIp. The engine reuses `segment` after the call: copy what you keep.
   */
  output(srcIp: number, dstIp: number, segment: Uint8Array): void;
  connector: TcpConnector;
  timers?: TcpTimers;
  /** MSS the engine announces to the guest and uses toward it (default 1460). */
  mss?: number;
  /** Bytes of host data kept per connection before the host stream is paused (default 256 KiB). */
  sendBufferBytes?: number;
  /** Receive window offered to the guest per connection (default 64 KiB, scaled when the guest offers scaling). */
  receiveWindowBytes?: number;
}

/** Numbers a benchmark or a status line may show. */
export interface TcpEngineStats {
  connections: number;
  segmentsIn: number;
  segmentsOut: number;
  retransmits: number;
  bytesToGuest: number;
  bytesFromGuest: number;
}
