/**
 * The NAT's TCP engine: terminates the guest's TCP connections and splices each onto a host
 * byte stream (as libslirp and VirtualBox's NAT do), and opens connections toward the guest
 * for port forwards. It sees only segments and streams; the NAT does IPv4 and sockets.
 */
import { BadInputError } from '../../errors.js';
import type { TcpEngineOptions, TcpEngineStats, TcpHostStream, TcpTimers } from './api.js';
import { type ConnectionHost, TcpConnection } from './connection.js';
import { ACK, EMPTY_BYTES, FIN, ParsedSegment, RST, SYN, SYN_OPTION_BYTES, TCP_HEADER_BYTES, checksumOk, fillChecksum, parseSegment, writeHeader } from './segment.js';
import { seqAdd } from './seq.js';

export const DEFAULT_MSS = 1460;
export const DEFAULT_SEND_BUFFER_BYTES = 256 * 1024;
export const DEFAULT_RECEIVE_WINDOW_BYTES = 64 * 1024;
/** Beyond this many connections, new guest SYNs are refused with RST. */
export const MAX_CONNECTIONS = 8192;

/** TcpEngineOptions plus what tests need to steer. */
export interface TcpEngineConfig extends TcpEngineOptions {
  /** Our initial sequence number for each connection (default random); tests start near 2^32. */
  initialSequence?: () => number;
}

const realTimers: TcpTimers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class TcpEngine {
  private readonly output: TcpEngineOptions['output'];
  private readonly connector: TcpEngineOptions['connector'];
  private readonly initialSequence: () => number;
  private readonly host: ConnectionHost;
  /** Connections by port pair; the few that share one are told apart by address. */
  private readonly table = new Map<number, TcpConnection[]>();
  private count = 0;
  private segmentsIn = 0;
  private readonly counters = { segmentsOut: 0, retransmits: 0, bytesToGuest: 0, bytesFromGuest: 0 };
  private readonly parsed = new ParsedSegment();
  /** Every outgoing segment is built here: `output` copies what it keeps. */
  private readonly scratch: Uint8Array;
  private closed = false;

  constructor(options: TcpEngineConfig) {
    this.output = options.output;
    this.connector = options.connector;
    this.initialSequence = options.initialSequence ?? (() => (Math.random() * 0x1_0000_0000) >>> 0);
    const mss = options.mss ?? DEFAULT_MSS;
    const sendBufferBytes = options.sendBufferBytes ?? DEFAULT_SEND_BUFFER_BYTES;
    const receiveWindowBytes = options.receiveWindowBytes ?? DEFAULT_RECEIVE_WINDOW_BYTES;
    if (!(mss >= 64 && mss <= 65495) || !(sendBufferBytes >= 1) || !(receiveWindowBytes >= mss) || receiveWindowBytes > 0x3fff_ffff) {
      throw new BadInputError('TCP engine limits out of range', { mss, sendBufferBytes, receiveWindowBytes });
    }
    this.scratch = new Uint8Array(TCP_HEADER_BYTES + SYN_OPTION_BYTES + mss);
    this.host = {
      timers: options.timers ?? realTimers,
      mss,
      sendBufferBytes,
      receiveWindowBytes,
      counters: this.counters,
      segmentBuffer: (length) => this.scratch.subarray(0, length),
      emit: (src, dst, segment) => {
        if (!this.closed) this.output(src, dst, segment);
      },
      forget: (conn) => this.remove(conn),
    };
  }

  /** A TCP segment (the IPv4 payload) the guest sent from srcIp to dstIp. */
  input(srcIp: number, dstIp: number, segment: Uint8Array): void {
    if (this.closed) return;
    const p = this.parsed;
    if (!parseSegment(segment, p) || !checksumOk(srcIp, dstIp, segment)) return;
    this.segmentsIn++;
    let conn = this.find(srcIp, p.srcPort, dstIp, p.dstPort);
    if (conn !== undefined && !conn.segmentArrived(p)) {
      conn.abort(false); // a new SYN reuses a 4-tuple still in TIME_WAIT
      conn = undefined;
    }
    if (conn === undefined) {
      if (p.flags & RST) return;
      if ((p.flags & (SYN | ACK)) === SYN) this.guestConnects(srcIp, dstIp, p);
      else this.refuse(srcIp, dstIp, p);
    }
    p.bytes = EMPTY_BYTES; // keep no reference to the caller's frame
  }

  /**
   * A port forward: connect from fromIp:fromPort to the guest's guestIp:guestPort, carrying
   * `stream`. If the guest refuses (RST) or never answers (about 7 s of SYN retries), the
   * stream is destroyed.
   */
  openToGuest(stream: TcpHostStream, guestIp: number, guestPort: number, fromIp: number, fromPort: number): void {
    const old = this.find(guestIp, guestPort, fromIp, fromPort);
    if (old?.isTimeWait()) old.abort(false);
    else if (this.closed || old !== undefined) {
      stream.destroy();
      return;
    }
    const conn = new TcpConnection(this.host, guestIp >>> 0, guestPort, fromIp >>> 0, fromPort, this.initialSequence(), 'syn-sent');
    this.add(conn);
    conn.open(stream);
  }

  stats(): TcpEngineStats {
    return { connections: this.count, segmentsIn: this.segmentsIn, ...this.counters };
  }

  /** Destroy every connection and its host stream, and stop all timers. Sends nothing to the guest. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const bucket of [...this.table.values()]) for (const conn of [...bucket]) conn.abort(false);
    this.table.clear();
    this.count = 0;
  }

  private guestConnects(srcIp: number, dstIp: number, p: ParsedSegment): void {
    if (this.count >= MAX_CONNECTIONS) {
      this.refuse(srcIp, dstIp, p);
      return;
    }
    const conn = new TcpConnection(this.host, srcIp >>> 0, p.srcPort, dstIp >>> 0, p.dstPort, this.initialSequence(), 'connecting');
    conn.acceptSyn(p);
    this.add(conn);
    let answered = false;
    this.connector.connect(dstIp >>> 0, p.dstPort, srcIp >>> 0, p.srcPort, (stream) => {
      if (answered) {
        stream?.destroy();
        return;
      }
      answered = true;
      if (this.closed) stream?.destroy();
      else conn.connected(stream);
    });
  }

  /** RST for a segment that belongs to no connection (RFC 793 §3.4, "reset generation"). */
  private refuse(srcIp: number, dstIp: number, p: ParsedSegment): void {
    const seg = this.host.segmentBuffer(TCP_HEADER_BYTES);
    if (p.flags & ACK) {
      writeHeader(seg, p.dstPort, p.srcPort, p.ack, 0, RST, 0);
    } else {
      const len = p.dataLength + (p.flags & SYN ? 1 : 0) + (p.flags & FIN ? 1 : 0);
      writeHeader(seg, p.dstPort, p.srcPort, 0, seqAdd(p.seq, len), RST | ACK, 0);
    }
    fillChecksum(seg, dstIp, srcIp);
    this.counters.segmentsOut++;
    this.output(dstIp, srcIp, seg);
  }

  private find(guestIp: number, guestPort: number, farIp: number, farPort: number): TcpConnection | undefined {
    const bucket = this.table.get(guestPort * 0x10000 + farPort);
    if (bucket === undefined) return undefined;
    guestIp >>>= 0;
    farIp >>>= 0;
    for (const c of bucket) if (c.guestIp === guestIp && c.farIp === farIp) return c;
    return undefined;
  }

  private add(conn: TcpConnection): void {
    const key = conn.guestPort * 0x10000 + conn.farPort;
    const bucket = this.table.get(key);
    if (bucket === undefined) this.table.set(key, [conn]);
    else bucket.push(conn);
    this.count++;
  }

  private remove(conn: TcpConnection): void {
    if (this.closed) return;
    const key = conn.guestPort * 0x10000 + conn.farPort;
    const bucket = this.table.get(key);
    const i = bucket === undefined ? -1 : bucket.indexOf(conn);
    if (bucket === undefined || i < 0) return;
    bucket.splice(i, 1);
    if (bucket.length === 0) this.table.delete(key);
    this.count--;
  }
}
