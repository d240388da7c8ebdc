/**
 * One TCP connection between the guest and a host stream: the RFC 793 state machine with
 * RFC 6298 retransmission, RFC 5681/6582 congestion control (NewReno), a persist timer for
 * zero windows, and a receive window that closes while the host side is backed up.
 *
 * "Send" is toward the guest (host data), "receive" is from the guest (written to the host).
 */
import type { TcpHostStream, TcpTimers } from './api.js';
import { ByteQueue } from './byte-queue.js';
import { DeadlineTimer } from './deadline-timer.js';
import { ACK_NOW, Receiver, TOOK_FIN } from './receiver.js';
import { RtoEstimator } from './rto.js';
import {
  ACK,
  FIN,
  PSH,
  type ParsedSegment,
  RST,
  SYN,
  SYN_OPTION_BYTES,
  TCP_HEADER_BYTES,
  fillChecksum,
  writeHeader,
  writeSynOptions,
} from './segment.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';

export type TcpState =
  | 'connecting' // guest SYN seen, waiting for the connector
  | 'syn-sent' // we sent SYN to the guest (port forward)
  | 'syn-received'
  | 'established'
  | 'fin-wait-1'
  | 'fin-wait-2'
  | 'closing'
  | 'time-wait'
  | 'close-wait'
  | 'last-ack'
  | 'closed';

/** MSS assumed when the peer's SYN carries no MSS option (RFC 9293 §3.7.1). */
const DEFAULT_PEER_MSS = 536;
/** SYN or SYN-ACK transmissions before giving up: 1 + 2 + 4 s of waiting. */
const MAX_SYN_TRANSMISSIONS = 3;
/** Consecutive retransmission timeouts before the guest is presumed gone. */
const MAX_RTO_EXPIRIES = 12;
const MAX_PERSIST_MS = 5000;
/**
 * TIME_WAIT, far below 2 MSL but long enough for a guest whose ACK of its FIN was lost to
 * retransmit that FIN through a few backoffs and get an ACK instead of an RST.
 */
const TIME_WAIT_MS = 15_000;
/** A lone full-sized guest segment waits this long for a second one to share its ACK (RFC 1122 §4.2.3.2). */
const DELAYED_ACK_MS = 5;
/** cwnd never needs to exceed the largest scaled window. */
const MAX_CWND = 1 << 30;

/** What a connection needs from its engine. */
export interface ConnectionHost {
  readonly timers: TcpTimers;
  readonly mss: number;
  readonly sendBufferBytes: number;
  readonly receiveWindowBytes: number;
  readonly counters: { segmentsOut: number; retransmits: number; bytesToGuest: number; bytesFromGuest: number };
  /** Room for one outgoing segment, reused after each emit (the NAT copies what it keeps). */
  segmentBuffer(length: number): Uint8Array;
  emit(srcIp: number, dstIp: number, segment: Uint8Array): void;
  /** The connection is finished: remove it from the table. */
  forget(conn: TcpConnection): void;
}

type TimerKind = 'rtx' | 'persist' | 'time-wait';

const noop = (): void => {};

export class TcpConnection {
  state: TcpState;
  private stream: TcpHostStream | null = null;
  /** The guest RST'ed (or the engine gave up) while the connector was still working. */
  private abandoned = false;

  // Send side (toward the guest).
  private readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  /** Highest sequence number sent so far (sndNxt rewinds on a timeout). */
  private sndMax: number;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private sndScale = 0;
  private sendMss = DEFAULT_PEER_MSS;
  private readonly sendQueue = new ByteQueue(true);
  /** The host half-closed: FIN follows the queued data. */
  private finQueued = false;
  private cwnd = 0;
  private ssthresh = MAX_CWND;
  private dupAcks = 0;
  private inRecovery = false;
  private recover: number;
  private readonly rtt = new RtoEstimator();
  private timing = false;
  private timedSeq = 0;
  private timedAt = 0;
  private rtoExpiries = 0;
  private synTransmissions = 0;
  private persistMs = 0;
  private hostPaused = false;

  /** The receive side (from the guest). */
  private readonly rx: Receiver;
  private guestWantsScale = false;
  /** The host stream closed cleanly: more guest data has nowhere to go. */
  private hostGone = false;
  /** Both directions are closed; waiting only for held data to reach the host. */
  private lingering = false;

  private readonly timer: DeadlineTimer<TimerKind>;
  /** In-order guest segments not yet acknowledged, and the delayed-ACK timer. */
  private ackPending = 0;
  private ackTimer: unknown = null;

  constructor(
    private readonly host: ConnectionHost,
    readonly guestIp: number,
    readonly guestPort: number,
    readonly farIp: number,
    readonly farPort: number,
    iss: number,
    state: 'connecting' | 'syn-sent',
  ) {
    this.iss = iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.recover = this.iss;
    this.state = state;
    this.rx = new Receiver(host.receiveWindowBytes, host.counters);
    this.timer = new DeadlineTimer(host.timers, (kind) => this.timerExpired(kind));
  }

  // ---- Opening ----

  /** A guest SYN for a new connection: remember its parameters while the connector works. */
  acceptSyn(p: ParsedSegment): void {
    this.rx.begin(p.seq);
    this.learnSynOptions(p);
    this.sndWnd = p.window; // never scaled on a SYN
  }

  /** The connector answered. */
  connected(stream: TcpHostStream | null): void {
    if (this.state !== 'connecting') {
      stream?.destroy();
      return;
    }
    if (this.abandoned || stream === null) {
      stream?.destroy();
      if (!this.abandoned) this.sendControl(this.sndNxt, RST | ACK);
      this.finish();
      return;
    }
    this.attach(stream);
    this.state = 'syn-received';
    this.sendSyn();
  }

  /** Port forward: SYN toward the guest; the stream waits (paused) until the guest answers. */
  open(stream: TcpHostStream): void {
    this.attach(stream);
    this.guestWantsScale = true; // offer scaling; dropped unless the SYN-ACK agrees
    this.rx.setScaling(true);
    this.hostPaused = true;
    stream.pause();
    this.sendSyn();
  }

  private learnSynOptions(p: ParsedSegment): void {
    this.sendMss = Math.max(64, Math.min(this.host.mss, p.mss > 0 ? p.mss : DEFAULT_PEER_MSS));
    if (p.windowScale >= 0) {
      this.guestWantsScale = true;
      this.sndScale = p.windowScale;
    } else {
      this.guestWantsScale = false;
      this.sndScale = 0;
    }
    this.rx.setScaling(this.guestWantsScale);
    this.cwnd = initialWindow(this.sendMss);
  }

  private sendSyn(): void {
    this.synTransmissions++;
    const flags = this.state === 'syn-sent' ? SYN : SYN | ACK;
    const seg = this.host.segmentBuffer(TCP_HEADER_BYTES + SYN_OPTION_BYTES);
    const window = this.rx.synWindow((flags & ACK) !== 0);
    writeHeader(seg, this.farPort, this.guestPort, this.iss, flags & ACK ? this.rx.rcvNxt : 0, flags, window, SYN_OPTION_BYTES);
    writeSynOptions(seg, this.host.mss, this.guestWantsScale ? this.rx.scale : -1);
    this.output(seg);
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    if (this.synTransmissions === 1) {
      this.timing = true;
      this.timedSeq = this.sndNxt;
      this.timedAt = this.host.timers.now();
    } else {
      this.timing = false;
    }
    this.arm('rtx', this.rtt.rto);
  }

  private attach(stream: TcpHostStream): void {
    this.stream = stream;
    stream.onData = (data) => this.onHostData(data);
    stream.onEnd = () => this.onHostEnd();
    stream.onDrain = () => this.onHostDrain();
    stream.onClose = (error) => this.onHostClose(error);
  }

  isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Lingering after a clean close: a new connection may take over its 4-tuple. */
  isTimeWait(): boolean {
    return this.state === 'time-wait';
  }

  // ---- Segments from the guest ----

  /** Returns false when the segment is a new SYN for a connection lingering in TIME_WAIT. */
  segmentArrived(p: ParsedSegment): boolean {
    switch (this.state) {
      case 'connecting':
        if (p.has(RST)) this.abandoned = true;
        return true; // retransmitted SYNs wait for the connector like the first one
      case 'syn-sent':
        this.synSentArrived(p);
        return true;
      case 'closed':
        return true;
      default:
    }
    const flags = p.flags;
    if (this.state === 'time-wait' && (flags & SYN) !== 0 && (flags & ACK) === 0 && seqGt(p.seq, this.rx.rcvNxt)) {
      return false;
    }
    const segLen = p.dataLength + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    if (!this.rx.acceptable(p.seq, segLen, p.dataLength)) {
      if (flags & RST) return true;
      if (flags & SYN && this.state === 'syn-received' && p.seq === this.rx.irs) {
        this.resendSyn();
        return true;
      }
      // An old duplicate, a keepalive (seq = rcvNxt - 1) or a probe of our zero window: re-ACK,
      // and still take its ACK, which a peer probing our window relies on.
      this.sendAck();
      if (flags & ACK && this.state !== 'syn-received') this.processAck(p);
      return true;
    }
    if (flags & RST) {
      this.abort(false);
      return true;
    }
    if (flags & SYN) {
      if (this.state === 'syn-received' && p.seq === this.rx.irs) this.resendSyn();
      else this.sendAck(); // RFC 5961 challenge ACK
      return true;
    }
    if ((flags & ACK) === 0) return true;
    if (this.state === 'syn-received') {
      if (p.ack !== seqAdd(this.iss, 1)) {
        this.sendControl(p.ack, RST);
        return true;
      }
      this.becomeEstablished(p);
    } else {
      this.processAck(p);
    }
    if (this.isClosed()) return true;
    if (p.dataLength > 0 || flags & FIN) this.receive(p);
    return true;
  }

  private synSentArrived(p: ParsedSegment): void {
    const flags = p.flags;
    const ackOk = (flags & ACK) !== 0 && p.ack === seqAdd(this.iss, 1);
    if (flags & ACK && !ackOk) {
      if ((flags & RST) === 0) this.sendControl(p.ack, RST);
      return;
    }
    if (flags & RST) {
      if (ackOk) this.abort(false); // the guest refused the forwarded connection
      return;
    }
    if ((flags & SYN) === 0 || !ackOk) return;
    this.rx.begin(p.seq);
    this.learnSynOptions(p);
    this.becomeEstablished(p);
    this.sendAck();
    if (this.hostPaused && this.sendQueue.length <= this.host.sendBufferBytes) {
      this.hostPaused = false;
      this.stream?.resume();
    }
    this.trySend();
  }

  private becomeEstablished(p: ParsedSegment): void {
    this.sndUna = seqAdd(this.iss, 1);
    if (this.timing && seqGe(p.ack, this.timedSeq)) this.rtt.sample(this.host.timers.now() - this.timedAt);
    this.timing = false;
    this.sndWnd = p.window << this.sndScale;
    this.sndWl1 = p.seq;
    this.sndWl2 = p.ack;
    this.disarm();
    this.state = this.finQueued ? 'fin-wait-1' : 'established';
    this.trySend();
  }

  private resendSyn(): void {
    this.sndNxt = this.iss;
    this.sendSyn();
  }

  // ---- Acknowledgements of what we sent ----

  private processAck(p: ParsedSegment): void {
    const ack = p.ack;
    if (seqGt(ack, this.sndMax)) {
      this.sendAck(); // acknowledges data never sent
      return;
    }
    if (seqLt(ack, this.sndUna)) return; // old
    let windowChanged = false;
    if (seqLt(this.sndWl1, p.seq) || (this.sndWl1 === p.seq && seqLe(this.sndWl2, ack))) {
      const wnd = p.window << this.sndScale;
      windowChanged = wnd !== this.sndWnd;
      this.sndWnd = wnd;
      this.sndWl1 = p.seq;
      this.sndWl2 = ack;
      if (wnd > 0) this.persistMs = 0;
    }
    if (ack === this.sndUna) {
      const dup = p.dataLength === 0 && !p.has(FIN) && !windowChanged && this.sndWnd > 0 && this.sndMax !== this.sndUna;
      if (dup) this.duplicateAck();
    } else {
      this.newAck(ack);
      if (this.isClosed()) return;
    }
    this.trySend();
    if (this.hostPaused && this.sendQueue.length <= this.host.sendBufferBytes / 2 && !this.finQueued) {
      this.hostPaused = false;
      this.stream?.resume();
    }
  }

  private newAck(ack: number): void {
    const acked = seqDiff(ack, this.sndUna);
    const finSeq = seqAdd(this.sndUna, this.sendQueue.length);
    const finAcked = this.finQueued && seqGt(ack, finSeq);
    const dataAcked = finAcked ? acked - 1 : acked;
    this.sendQueue.drop(dataAcked);
    this.host.counters.bytesToGuest += dataAcked;
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    if (this.timing && seqGe(ack, this.timedSeq)) {
      this.rtt.sample(this.host.timers.now() - this.timedAt);
      this.timing = false;
    }
    this.rtoExpiries = 0;
    if (this.inRecovery) {
      if (seqGe(ack, this.recover)) {
        this.inRecovery = false;
        this.cwnd = this.ssthresh;
        // Recovery repaired only holes, so duplicates of the very next segment mean a new loss.
        this.recover = seqAdd(ack, -1);
      } else {
        // NewReno partial ACK: the next hole is lost too.
        this.retransmitFirst();
        this.cwnd = Math.max(this.sendMss, this.cwnd - acked + this.sendMss);
      }
    } else if (this.cwnd < this.ssthresh) {
      this.cwnd = Math.min(MAX_CWND, this.cwnd + Math.min(acked, this.sendMss));
    } else {
      this.cwnd = Math.min(MAX_CWND, this.cwnd + Math.max(1, Math.floor((this.sendMss * this.sendMss) / this.cwnd)));
    }
    this.dupAcks = 0;
    if (this.sndMax === this.sndUna) this.disarm();
    else this.arm('rtx', this.rtt.rto);
    if (finAcked) {
      if (this.state === 'fin-wait-1') this.state = 'fin-wait-2';
      else if (this.state === 'closing') this.enterTimeWait();
      else if (this.state === 'last-ack') this.closeWhenDrained();
    }
  }

  private duplicateAck(): void {
    this.dupAcks++;
    if (this.inRecovery) {
      this.cwnd = Math.min(MAX_CWND, this.cwnd + this.sendMss);
      return;
    }
    // RFC 6582: no new recovery for duplicates of data sent before the last loss event.
    if (this.dupAcks === 3 && seqGt(this.sndUna, this.recover)) {
      const flight = seqDiff(this.sndMax, this.sndUna);
      this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.sendMss);
      this.recover = this.sndMax;
      this.inRecovery = true;
      this.retransmitFirst();
      this.cwnd = this.ssthresh + 3 * this.sendMss;
    }
  }

  private retransmitFirst(): void {
    this.host.counters.retransmits++;
    this.timing = false;
    const sent = this.transmit(this.sndUna, Math.min(this.sendMss, this.sendQueue.length));
    if (seqLt(this.sndNxt, seqAdd(this.sndUna, sent))) this.sndNxt = seqAdd(this.sndUna, sent);
  }

  // ---- Sending toward the guest ----

  private canSend(): boolean {
    const s = this.state;
    return s === 'established' || s === 'close-wait' || s === 'fin-wait-1' || s === 'last-ack' || s === 'closing';
  }

  private trySend(): void {
    if (!this.canSend()) return;
    const queued = this.sendQueue.length;
    for (;;) {
      const inFlight = seqDiff(this.sndNxt, this.sndUna);
      const unsent = queued - inFlight;
      const finPending = this.finQueued && unsent >= 0;
      if (unsent <= 0 && !finPending) break;
      let len = 0;
      if (unsent > 0) {
        const usable = Math.min(this.sndWnd, this.cwnd) - inFlight;
        len = Math.min(this.sendMss, unsent, usable);
        if (len <= 0) break;
        // Sender-side silly-window avoidance: with data in flight, wait for room for a full segment.
        if (len < this.sendMss && len < unsent && inFlight > 0) break;
      }
      const newData = seqGe(this.sndNxt, this.sndMax);
      const sent = this.transmit(this.sndNxt, len);
      if (newData && !this.timing) {
        this.timing = true;
        this.timedAt = this.host.timers.now();
        this.timedSeq = seqAdd(this.sndNxt, sent);
      }
      this.sndNxt = seqAdd(this.sndNxt, sent);
      if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
      if (this.timer.kind !== 'rtx') this.arm('rtx', this.rtt.rto);
    }
    const idle = this.sndMax === this.sndUna || this.timer.kind === null;
    if (this.sndWnd === 0 && queued > 0 && idle && this.timer.kind !== 'persist') {
      if (this.persistMs === 0) this.persistMs = this.rtt.rto;
      this.arm('persist', this.persistMs);
    }
  }

  /** Send data (and FIN when it reaches the end of the queue) starting at seq; returns sequence space used. */
  private transmit(seq: number, maxLen: number): number {
    const off = seqDiff(seq, this.sndUna);
    const available = this.sendQueue.length - off;
    const len = Math.max(0, Math.min(maxLen, available));
    const fin = this.finQueued && len === available;
    if (len === 0 && !fin) return 0;
    let flags = ACK;
    if (fin) flags |= FIN;
    if (len > 0 && len === available) flags |= PSH;
    const seg = this.host.segmentBuffer(TCP_HEADER_BYTES + len);
    writeHeader(seg, this.farPort, this.guestPort, seq, this.rx.rcvNxt, flags, this.rx.windowField());
    if (len > 0) this.sendQueue.copyOut(off, len, seg, TCP_HEADER_BYTES);
    this.output(seg);
    const used = len + (fin ? 1 : 0);
    // A retransmission may reach past what was sent before (a full segment after a small one).
    const end = seqAdd(seq, used);
    if (seqGt(end, this.sndMax)) this.sndMax = end;
    return used;
  }

  private sendAck(): void {
    this.sendControl(this.sndNxt, ACK);
  }

  private sendControl(seq: number, flags: number): void {
    const seg = this.host.segmentBuffer(TCP_HEADER_BYTES);
    writeHeader(seg, this.farPort, this.guestPort, seq, flags & ACK ? this.rx.rcvNxt : 0, flags, flags & RST ? 0 : this.rx.windowField());
    this.output(seg);
  }

  private output(seg: Uint8Array): void {
    if (seg[13] & ACK) this.ackPending = 0;
    fillChecksum(seg, this.farIp, this.guestIp);
    this.host.counters.segmentsOut++;
    this.host.emit(this.farIp, this.guestIp, seg);
  }

  // ---- Data from the guest ----

  private receive(p: ParsedSegment): void {
    const s = this.state;
    if (s !== 'established' && s !== 'fin-wait-1' && s !== 'fin-wait-2') {
      // The guest already sent FIN: anything more is a retransmission.
      if (s === 'time-wait') this.arm('time-wait', TIME_WAIT_MS);
      this.sendAck();
      return;
    }
    if (this.hostGone && p.dataLength > 0) {
      this.abort(true); // the host side is closed: nobody will read this
      return;
    }
    const took = this.rx.take(p, this.stream, this.host.mss);
    if (took & TOOK_FIN) this.guestFinished();
    // Every second full-sized segment is ACKed at once; anything else that could matter at once too.
    if (took & ACK_NOW || ++this.ackPending >= 2) this.sendAck();
    else if (this.ackTimer === null) this.ackTimer = this.host.timers.setTimeout(this.onAckTimer, DELAYED_ACK_MS);
  }

  private readonly onAckTimer = (): void => {
    this.ackTimer = null;
    if (this.ackPending > 0 && this.state !== 'closed') this.sendAck();
  };

  /** The guest's FIN is in order (the receiver has ended the host stream, or will after the drain). */
  private guestFinished(): void {
    if (this.state === 'established') this.state = 'close-wait';
    else if (this.state === 'fin-wait-1') this.state = 'closing';
    else if (this.state === 'fin-wait-2') this.enterTimeWait();
  }

  // ---- Host stream events ----

  private onHostData(data: Uint8Array): void {
    if (this.finQueued || this.state === 'closed' || data.length === 0) return;
    this.sendQueue.push(data);
    if (!this.hostPaused && this.sendQueue.length > this.host.sendBufferBytes) {
      this.hostPaused = true;
      this.stream?.pause();
    }
    this.trySend();
  }

  private onHostEnd(): void {
    if (this.finQueued || this.state === 'closed') return;
    this.finQueued = true;
    if (this.state === 'established') this.state = 'fin-wait-1';
    else if (this.state === 'close-wait') this.state = 'last-ack';
    this.trySend();
  }

  private onHostDrain(): void {
    if (this.state === 'closed' || this.stream === null) return;
    const opened = this.rx.drain(this.stream, this.sendMss);
    if (this.lingering) {
      this.closeWhenDrained();
      return;
    }
    const receiving = this.state === 'established' || this.state === 'fin-wait-1' || this.state === 'fin-wait-2';
    if (receiving && opened) this.sendAck(); // window update
  }

  private onHostClose(error?: Error): void {
    if (this.state === 'closed') return;
    if (error !== undefined) {
      this.abort(true);
      return;
    }
    // A clean close: whatever the host sent is queued; finish that and the FIN.
    this.hostGone = true;
    this.onHostEnd();
  }

  // ---- Timers ----

  private arm(kind: TimerKind, ms: number): void {
    this.timer.arm(kind, ms);
  }

  private disarm(): void {
    this.timer.disarm();
  }

  private timerExpired(kind: TimerKind): void {
    if (this.state === 'closed') return;
    if (kind === 'rtx') this.retransmitTimeout();
    else if (kind === 'persist') this.persistTimeout();
    else this.closeWhenDrained();
  }

  private retransmitTimeout(): void {
    this.rtt.backoff();
    this.timing = false;
    if (this.state === 'syn-sent' || this.state === 'syn-received') {
      if (this.synTransmissions >= MAX_SYN_TRANSMISSIONS) {
        if (this.state === 'syn-received') this.sendControl(this.sndNxt, RST | ACK);
        this.abort(false);
        return;
      }
      this.host.counters.retransmits++;
      this.resendSyn();
      return;
    }
    if (this.sndMax === this.sndUna) return;
    if (++this.rtoExpiries > MAX_RTO_EXPIRIES) {
      this.abort(true);
      return;
    }
    this.host.counters.retransmits++;
    if (this.rtoExpiries === 1) {
      this.ssthresh = Math.max(Math.floor(seqDiff(this.sndMax, this.sndUna) / 2), 2 * this.sendMss);
    }
    this.cwnd = this.sendMss;
    this.inRecovery = false;
    this.recover = this.sndMax;
    this.dupAcks = 0;
    this.sndNxt = this.sndUna; // go back N: resend from the first unacknowledged byte
    if (this.sndWnd === 0 && this.sendQueue.length > 0) {
      this.persistMs = this.rtt.rto;
      this.arm('persist', this.persistMs);
      return;
    }
    const sent = this.transmit(this.sndUna, Math.min(this.sendMss, this.sendQueue.length));
    this.sndNxt = seqAdd(this.sndUna, sent);
    this.arm('rtx', this.rtt.rto);
  }

  /** Zero-window probe: an ACK one byte below the window, which the guest must answer with its window. */
  private persistTimeout(): void {
    if (!this.canSend()) return;
    if (this.sndWnd > 0) {
      this.trySend();
      if (this.sndMax !== this.sndUna && this.timer.kind !== 'rtx') this.arm('rtx', this.rtt.rto);
      return;
    }
    this.sendControl(seqAdd(this.sndUna, -1), ACK);
    this.persistMs = Math.min(MAX_PERSIST_MS, this.persistMs * 2);
    this.arm('persist', this.persistMs);
  }

  private enterTimeWait(): void {
    this.state = 'time-wait';
    this.arm('time-wait', TIME_WAIT_MS);
  }

  // ---- Endings ----

  /** Both directions are done; stay only until held guest data reaches the host. */
  private closeWhenDrained(): void {
    if (this.rx.pending) {
      this.lingering = true;
      return;
    }
    this.finish();
  }

  /** Tear down abnormally: RST to the guest when `tellGuest`, and destroy the host stream. */
  abort(tellGuest: boolean): void {
    if (this.state === 'closed') return;
    if (tellGuest && this.state !== 'connecting') this.sendControl(this.sndNxt, RST | ACK);
    if (this.state === 'connecting') this.abandoned = true;
    const stream = this.stream;
    this.finish();
    stream?.destroy();
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.timer.cancel();
    if (this.ackTimer !== null) {
      this.host.timers.clearTimeout(this.ackTimer);
      this.ackTimer = null;
    }
    const stream = this.stream;
    if (stream !== null) {
      stream.onData = noop;
      stream.onEnd = noop;
      stream.onDrain = noop;
      stream.onClose = noop;
    }
    this.stream = null;
    this.sendQueue.drop(this.sendQueue.length);
    this.rx.clear();
    this.host.forget(this);
  }
}

/** RFC 5681 §3.1 initial window. */
function initialWindow(mss: number): number {
  return mss > 2190 ? 2 * mss : mss > 1095 ? 3 * mss : 4 * mss;
}
