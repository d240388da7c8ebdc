/**
 * A scripted guest TCP endpoint for testing the NAT's TCP engine: a deliberately simple,
 * independent TCP (window-limited sender with go-back-N timeouts and fast retransmit,
 * cumulative ACKs with out-of-order buffering, a receive buffer the test can stop reading).
 * It talks to the engine only through segments, and checks every checksum it receives.
 */
import { createHash, type Hash } from 'node:crypto';
import { finishChecksum, onesSum, pseudoHeaderSum } from '../../../emulator-core/net/checksum.js';
import type { FakeClock } from './fake-clock.js';

export const FIN = 1;
export const SYN = 2;
export const RST = 4;
export const PSH = 8;
export const ACK = 16;

const lt = (a: number, b: number): boolean => ((a - b) | 0) < 0;
const add = (a: number, n: number): number => (a + n) >>> 0;
const diff = (a: number, b: number): number => (a - b) | 0;

export interface Segment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  mss: number;
  windowScale: number;
  data: Uint8Array;
}

export function parse(bytes: Uint8Array): Segment {
  const hl = (bytes[12] >> 4) * 4;
  const seg: Segment = {
    srcPort: (bytes[0] << 8) | bytes[1],
    dstPort: (bytes[2] << 8) | bytes[3],
    seq: ((bytes[4] << 24) | (bytes[5] << 16) | (bytes[6] << 8) | bytes[7]) >>> 0,
    ack: ((bytes[8] << 24) | (bytes[9] << 16) | (bytes[10] << 8) | bytes[11]) >>> 0,
    flags: bytes[13] & 0x3f,
    window: (bytes[14] << 8) | bytes[15],
    mss: 0,
    windowScale: -1,
    data: bytes.subarray(hl),
  };
  for (let i = 20; i < hl; ) {
    const kind = bytes[i];
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    if (kind === 2) seg.mss = (bytes[i + 2] << 8) | bytes[i + 3];
    if (kind === 3) seg.windowScale = bytes[i + 2];
    i += bytes[i + 1];
  }
  return seg;
}

export function build(
  srcIp: number,
  dstIp: number,
  s: { srcPort: number; dstPort: number; seq: number; ack: number; flags: number; window: number; mss?: number; windowScale?: number },
  data: Uint8Array = new Uint8Array(0),
  dataOff = 0,
  dataLen = data.length - dataOff,
): Uint8Array {
  const opts = s.mss !== undefined ? (s.windowScale !== undefined ? 8 : 4) : 0;
  const seg = new Uint8Array(20 + opts + dataLen);
  const dv = new DataView(seg.buffer);
  dv.setUint16(0, s.srcPort);
  dv.setUint16(2, s.dstPort);
  dv.setUint32(4, s.seq >>> 0);
  dv.setUint32(8, s.ack >>> 0);
  seg[12] = ((20 + opts) / 4) << 4;
  seg[13] = s.flags;
  dv.setUint16(14, s.window);
  if (s.mss !== undefined) {
    seg.set([2, 4, s.mss >> 8, s.mss & 0xff], 20);
    if (s.windowScale !== undefined) seg.set([1, 3, 3, s.windowScale], 24);
  }
  seg.set(data.subarray(dataOff, dataOff + dataLen), 20 + opts);
  const c = finishChecksum(onesSum(seg, 0, seg.length, pseudoHeaderSum(srcIp, dstIp, 6, seg.length)));
  dv.setUint16(16, c);
  return seg;
}

export interface FakeGuestOptions {
  ip: number;
  mss?: number;
  /** Window scale to offer in SYNs; null offers none. */
  windowScale?: number | null;
  /** Receive buffer per socket. */
  receiveBuffer?: number;
  /** Initial sequence numbers for the guest's connections. */
  iss?: () => number;
  /** Fixed base retransmission timeout. */
  rtoMs?: number;
}

type Listener = { mode: 'accept'; onAccept: (s: GuestSocket) => void } | { mode: 'refuse' } | { mode: 'ignore' };

export class FakeGuest {
  readonly ip: number;
  readonly mss: number;
  readonly windowScale: number | null;
  readonly receiveBuffer: number;
  readonly rtoMs: number;
  private readonly iss: () => number;
  private readonly sockets = new Map<string, GuestSocket>();
  private readonly listeners = new Map<number, Listener>();
  private nextPort = 40000;
  badChecksums = 0;
  resetsForUnknown = 0;

  constructor(
    readonly clock: FakeClock,
    readonly send: (srcIp: number, dstIp: number, segment: Uint8Array) => void,
    options: FakeGuestOptions,
  ) {
    this.ip = options.ip;
    this.mss = options.mss ?? 1460;
    this.windowScale = options.windowScale === undefined ? 7 : options.windowScale;
    this.receiveBuffer = options.receiveBuffer ?? 256 * 1024;
    this.iss = options.iss ?? (() => 1000);
    this.rtoMs = options.rtoMs ?? 200;
  }

  connect(remoteIp: number, remotePort: number, localPort = this.nextPort++): GuestSocket {
    const s = new GuestSocket(this, localPort, remoteIp, remotePort, this.iss());
    this.sockets.set(key(localPort, remoteIp, remotePort), s);
    s.sendSyn();
    return s;
  }

  listen(port: number, onAccept: (s: GuestSocket) => void): void {
    this.listeners.set(port, { mode: 'accept', onAccept });
  }

  /** RST every SYN to this port (a closed port), or drop them silently ('ignore'). */
  close(port: number, mode: 'refuse' | 'ignore' = 'refuse'): void {
    this.listeners.set(port, { mode });
  }

  socketCount(): number {
    return this.sockets.size;
  }

  /** A segment from the engine (dstIp is this guest). */
  input(srcIp: number, dstIp: number, bytes: Uint8Array): void {
    if (finishChecksum(onesSum(bytes, 0, bytes.length, pseudoHeaderSum(srcIp, dstIp, 6, bytes.length))) !== 0) {
      this.badChecksums++;
      return;
    }
    const seg = parse(bytes);
    const k = key(seg.dstPort, srcIp, seg.srcPort);
    const s = this.sockets.get(k);
    if (s !== undefined) {
      s.input(seg);
      return;
    }
    if (seg.flags & RST) return;
    const l = this.listeners.get(seg.dstPort);
    if ((seg.flags & (SYN | ACK)) === SYN && l !== undefined && l.mode !== 'refuse') {
      if (l.mode === 'ignore') return;
      const sock = new GuestSocket(this, seg.dstPort, srcIp, seg.srcPort, this.iss());
      this.sockets.set(k, sock);
      sock.accept(seg, l.onAccept);
      return;
    }
    this.resetsForUnknown++;
    const ackFlag = (seg.flags & ACK) !== 0;
    const len = seg.data.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
    this.send(
      this.ip,
      srcIp,
      build(this.ip, srcIp, {
        srcPort: seg.dstPort,
        dstPort: seg.srcPort,
        seq: ackFlag ? seg.ack : 0,
        ack: ackFlag ? 0 : add(seg.seq, len),
        flags: ackFlag ? RST : RST | ACK,
        window: 0,
      }),
    );
  }
}

function key(localPort: number, remoteIp: number, remotePort: number): string {
  return `${localPort}/${remoteIp}/${remotePort}`;
}

export class GuestSocket {
  state: 'syn-sent' | 'syn-received' | 'established' | 'closed' = 'syn-sent';
  // Sending.
  private readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  private sndWnd = 0;
  private sndScale = 0;
  private mss: number;
  private out = new Uint8Array(0);
  private outLength = 0;
  private finQueued = false;
  private dupAcks = 0;
  private recoverPoint = 0;
  private timer: unknown = null;
  private backoff = 0;
  // Receiving.
  private rcvNxt = 0;
  private rcvScale = 0;
  private unread = 0;
  private readonly ooo = new Map<number, { data: Uint8Array; fin: boolean }>();
  reading = true;
  /** When reading restarts, do not announce the opened window (only a probe will find it). */
  silentWindowOpen = false;

  readonly received: Hash = createHash('sha256');
  receivedBytes = 0;
  finReceived = false;
  finAcked = false;
  resetReceived = false;
  established = false;
  /** Segments that arrived while this socket advertised a zero window. */
  probesSeen = 0;
  zeroWindowsAdvertised = 0;
  /** Smallest and largest window (bytes) the engine advertised after the handshake. */
  minPeerWindow = Infinity;
  maxPeerWindow = 0;
  /** Highest sequence number this side has sent (relative to its ISS). */
  private sndMax = 0;
  onEstablished: () => void = () => {};

  constructor(
    private readonly guest: FakeGuest,
    readonly localPort: number,
    readonly remoteIp: number,
    readonly remotePort: number,
    iss: number,
  ) {
    this.iss = iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.mss = guest.mss;
  }

  /** Bytes sent and acknowledged by the engine. */
  get bytesAcked(): number {
    return Math.max(0, diff(this.sndUna, this.iss) - 1 - (this.finAcked ? 1 : 0));
  }

  /** Bytes sent at least once. */
  get bytesSent(): number {
    return Math.max(0, diff(this.sndMax, this.iss) - 1);
  }

  sendSyn(): void {
    this.emit(this.iss, SYN, undefined, 0, 0, true);
    this.sndNxt = add(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.armTimer();
  }

  accept(seg: Segment, onAccept: (s: GuestSocket) => void): void {
    this.state = 'syn-received';
    this.learn(seg);
    this.onEstablished = () => onAccept(this);
    this.emit(this.iss, SYN | ACK, undefined, 0, 0, true);
    this.sndNxt = add(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.armTimer();
  }

  private learn(seg: Segment): void {
    this.rcvNxt = add(seg.seq, 1);
    this.mss = Math.min(this.guest.mss, seg.mss || 536);
    if (seg.windowScale >= 0 && this.guest.windowScale !== null) {
      this.sndScale = seg.windowScale;
      this.rcvScale = this.guest.windowScale;
    }
    this.sndWnd = seg.window;
  }

  write(data: Uint8Array): void {
    if (this.finQueued) throw new Error('write after shutdown');
    if (this.outLength + data.length > this.out.length) {
      const bigger = new Uint8Array(Math.max(this.out.length * 2, this.outLength + data.length));
      bigger.set(this.out.subarray(0, this.outLength));
      this.out = bigger;
    }
    this.out.set(data, this.outLength);
    this.outLength += data.length;
    this.trySend();
  }

  /** Half-close: FIN after the written data. */
  shutdown(): void {
    this.finQueued = true;
    this.trySend();
  }

  /** Abort with RST. */
  reset(): void {
    this.emit(this.sndNxt, RST | ACK);
    this.die();
  }

  setReading(reading: boolean): void {
    const was = this.reading;
    this.reading = reading;
    if (reading && !was) {
      this.unread = 0;
      if (!this.silentWindowOpen) this.sendAck();
    }
  }

  /** A keepalive probe: one old byte below rcvNxt, which the peer must answer with an ACK. */
  sendKeepalive(): void {
    this.emit(add(this.sndNxt, -1), ACK);
  }

  input(seg: Segment): void {
    if (this.state === 'closed') {
      if (seg.flags & FIN) this.sendAck(); // late FIN retransmission while we linger
      return;
    }
    if (seg.flags & RST) {
      if (this.state === 'syn-sent' && (!(seg.flags & ACK) || seg.ack !== add(this.iss, 1))) return;
      this.resetReceived = true;
      this.die();
      return;
    }
    if (this.state === 'syn-sent') {
      if ((seg.flags & (SYN | ACK)) !== (SYN | ACK) || seg.ack !== add(this.iss, 1)) return;
      this.learn(seg);
      this.sndUna = seg.ack;
      this.becomeEstablished(seg);
      this.sendAck();
      this.trySend();
      return;
    }
    if (seg.flags & SYN) {
      this.sendAck(); // retransmitted SYN-ACK: our ACK was lost
      return;
    }
    if (this.state === 'syn-received') {
      if (!(seg.flags & ACK) || seg.ack !== add(this.iss, 1)) return;
      this.sndUna = seg.ack;
      this.becomeEstablished(seg);
    }
    if (seg.flags & ACK) this.takeAck(seg);
    if (this.state !== 'established') return;
    this.takeData(seg);
  }

  private becomeEstablished(seg: Segment): void {
    this.state = 'established';
    this.established = true;
    this.sndWnd = seg.flags & SYN ? seg.window : seg.window << this.sndScale; // a SYN's window is never scaled
    this.backoff = 0;
    this.clearTimer();
    this.onEstablished();
  }

  private takeAck(seg: Segment): void {
    const wnd = seg.window << this.sndScale;
    this.minPeerWindow = Math.min(this.minPeerWindow, wnd);
    this.maxPeerWindow = Math.max(this.maxPeerWindow, wnd);
    if (lt(this.sndMax, seg.ack)) return; // acks what we never sent
    if (lt(seg.ack, this.sndUna)) return;
    const windowChanged = wnd !== this.sndWnd;
    this.sndWnd = wnd;
    if (seg.ack === this.sndUna) {
      if (seg.data.length === 0 && !(seg.flags & FIN) && !windowChanged && this.sndNxt !== this.sndUna) {
        if (++this.dupAcks === 3) this.retransmitFirst();
      }
    } else {
      const inRecovery = lt(seg.ack, this.recoverPoint);
      this.sndUna = seg.ack;
      if (lt(this.sndNxt, this.sndUna)) this.sndNxt = this.sndUna;
      if (this.finQueued && seg.ack === add(this.finSeq(), 1)) this.finAcked = true;
      this.dupAcks = 0;
      this.backoff = 0;
      this.clearTimer();
      if (this.sndNxt !== this.sndUna) this.armTimer();
      if (inRecovery) this.retransmitFirst(); // partial ACK: the next hole
    }
    this.maybeFinish();
    this.trySend();
  }

  private finSeq(): number {
    return add(this.iss, 1 + this.outLength);
  }

  private takeData(seg: Segment): void {
    let fin = (seg.flags & FIN) !== 0;
    const len = seg.data.length;
    if (len === 0 && !fin) {
      if (seg.seq !== this.rcvNxt) {
        if (this.window() >>> this.rcvScale === 0) this.probesSeen++;
        this.sendAck(); // keepalive or window probe
      }
      return;
    }
    if (this.window() >>> this.rcvScale === 0 && !(len === 0 && fin && seg.seq === this.rcvNxt)) this.probesSeen++;
    const wnd = this.window();
    // Trim to [rcvNxt, rcvNxt + wnd).
    let start = diff(this.rcvNxt, seg.seq);
    if (start < 0) {
      if (-start < wnd && this.ooo.size < 256) this.ooo.set(seg.seq, { data: seg.data.slice(0, Math.min(len, wnd + start)), fin: fin && len <= wnd + start });
      this.sendAck();
      return;
    }
    if (start > len || (start === len && !fin)) {
      this.sendAck(); // entirely old
      return;
    }
    let n = Math.min(len - start, wnd);
    if (n < len - start) fin = false;
    this.consume(seg.data.subarray(start, start + n));
    if (fin) this.takeFin();
    // Pull what was waiting behind the gap.
    for (;;) {
      let progressed = false;
      for (const [seq, piece] of this.ooo) {
        const at = diff(this.rcvNxt, seq);
        if (at < 0) continue;
        this.ooo.delete(seq);
        if (at > piece.data.length || this.finReceived) continue;
        n = Math.min(piece.data.length - at, this.window());
        start = at;
        this.consume(piece.data.subarray(start, start + n));
        if (piece.fin && start + n === piece.data.length) this.takeFin();
        progressed = true;
      }
      if (!progressed) break;
    }
    this.sendAck();
  }

  private consume(data: Uint8Array): void {
    if (data.length === 0) return;
    this.received.update(data);
    this.receivedBytes += data.length;
    this.rcvNxt = add(this.rcvNxt, data.length);
    if (!this.reading) this.unread += data.length;
  }

  private takeFin(): void {
    if (this.finReceived) return;
    this.finReceived = true;
    this.rcvNxt = add(this.rcvNxt, 1);
    this.ooo.clear();
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.finReceived && this.finAcked) {
      this.state = 'closed';
      this.clearTimer();
    }
  }

  private window(): number {
    return Math.max(0, this.guest.receiveBuffer - this.unread);
  }

  private trySend(): void {
    if (this.state !== 'established') return;
    for (;;) {
      const off = diff(this.sndNxt, this.outSeq0());
      const unsent = this.outLength - off;
      const finPending = this.finQueued && unsent >= 0 && !this.finAcked;
      if (unsent <= 0 && !(finPending && unsent === 0)) break;
      const inFlight = diff(this.sndNxt, this.sndUna);
      const usable = this.sndWnd - inFlight;
      const n = Math.min(this.mss, unsent, Math.max(0, usable));
      if (unsent > 0 && n <= 0) {
        if (this.sndWnd === 0 && inFlight === 0 && this.timer === null) this.armTimer(); // our persist timer
        break;
      }
      this.sendAt(this.sndNxt, n);
      this.sndNxt = add(this.sndNxt, n + (this.finQueued && n === unsent ? 1 : 0));
      if (lt(this.sndMax, this.sndNxt)) this.sndMax = this.sndNxt;
      if (this.timer === null) this.armTimer();
    }
  }

  private outSeq0(): number {
    return add(this.iss, 1);
  }

  private sendAt(seq: number, n: number): void {
    const off = diff(seq, this.outSeq0());
    const fin = this.finQueued && off + n === this.outLength;
    this.emit(seq, ACK | (fin ? FIN : 0) | (n > 0 ? PSH : 0), this.out, off, n);
  }

  private retransmitFirst(): void {
    this.recoverPoint = this.sndMax;
    const off = diff(this.sndUna, this.outSeq0());
    if (off > this.outLength) return;
    this.sendAt(this.sndUna, Math.min(this.mss, this.outLength - off));
  }

  private sendAck(): void {
    this.emit(this.sndNxt, ACK);
  }

  private emit(seq: number, flags: number, data?: Uint8Array, off = 0, len = 0, syn = false): void {
    let window = syn ? Math.min(0xffff, this.window()) : Math.min(0xffff, this.window() >>> this.rcvScale);
    if (syn && this.guest.windowScale === null) window = Math.min(window, 0xffff);
    if (window === 0) this.zeroWindowsAdvertised++;
    const seg = build(
      this.guest.ip,
      this.remoteIp,
      {
        srcPort: this.localPort,
        dstPort: this.remotePort,
        seq,
        ack: flags & ACK ? this.rcvNxt : 0,
        flags,
        window,
        mss: syn ? this.guest.mss : undefined,
        windowScale: syn && this.guest.windowScale !== null ? this.guest.windowScale : undefined,
      },
      data,
      off,
      len,
    );
    this.guest.send(this.guest.ip, this.remoteIp, seg);
  }

  private armTimer(): void {
    this.clearTimer();
    const ms = Math.min(10_000, this.guest.rtoMs * 2 ** this.backoff);
    this.timer = this.guest.clock.setTimeout(() => this.onTimeout(), ms);
  }

  private clearTimer(): void {
    if (this.timer !== null) this.guest.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private onTimeout(): void {
    this.timer = null;
    this.backoff++;
    if (this.state === 'syn-sent') {
      this.sendSyn();
      return;
    }
    if (this.state === 'syn-received') {
      this.emit(this.iss, SYN | ACK, undefined, 0, 0, true);
      this.armTimer();
      return;
    }
    if (this.state !== 'established') return;
    if (this.sndWnd === 0 && this.sndNxt === this.sndUna) {
      this.emit(add(this.sndUna, -1), ACK); // zero-window probe
      this.armTimer();
      return;
    }
    if (this.sndNxt === this.sndUna) return;
    // Go back N.
    this.sndNxt = this.sndUna;
    this.recoverPoint = this.sndMax;
    const off = diff(this.sndUna, this.outSeq0());
    const n = Math.min(this.mss, Math.max(0, this.outLength - off), Math.max(this.sndWnd, 1));
    this.sendAt(this.sndUna, n);
    this.sndNxt = add(this.sndUna, n + (this.finQueued && off + n === this.outLength ? 1 : 0));
    this.armTimer();
  }

  private die(): void {
    this.state = 'closed';
    this.clearTimer();
  }

  /** True once both directions have closed cleanly. */
  get closedCleanly(): boolean {
    return this.finReceived && this.finAcked;
  }
}
