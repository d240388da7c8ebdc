/**
 * The receive side of one connection: the window offered to the guest, its in-order bytes
 * on their way to the host stream, out-of-order segments waiting for a gap to fill, and the
 * data held (at most the window advertised) while the host stream is backed up.
 */
import type { TcpHostStream } from './api.js';
import { ByteQueue } from './byte-queue.js';
import { Reassembly } from './reassembly.js';
import { FIN, MAX_WINDOW_SCALE, type ParsedSegment } from './segment.js';
import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from './seq.js';

/** Out-of-order segments kept per connection. */
const MAX_REASSEMBLY_PIECES = 64;
/** Largest write of held data to the host stream at once. */
const DRAIN_CHUNK = 65536;

/** take(): the segment completed the guest's byte stream (its FIN is now in order). */
export const TOOK_FIN = 1;
/** take(): acknowledge at once (out of order, a gap filled, a short segment, a FIN). */
export const ACK_NOW = 2;

export class Receiver {
  /** The guest's initial sequence number, and the next one expected. */
  irs = 0;
  rcvNxt = 0;
  /** Our window-scale shift, when the guest agreed to scaling. */
  scale = 0;
  /** Right edge of the window last advertised; never moves left. */
  private advRight = 0;
  private buffer: number;
  private readonly ooo = new Reassembly(MAX_REASSEMBLY_PIECES);
  /** Accepted (and acknowledged) bytes not yet written to the host stream. */
  private readonly held = new ByteQueue();
  /** The host stream's write returned false: hold data until it drains. */
  private blocked = false;
  /** The guest's FIN arrived while data was still held: end the stream after the drain. */
  private endAfterDrain = false;

  constructor(
    bufferBytes: number,
    private readonly counters: { bytesFromGuest: number },
  ) {
    this.buffer = bufferBytes;
  }

  /** With scaling, pick the smallest shift that fits the buffer; without, the window is 16 bits. */
  setScaling(enabled: boolean): void {
    if (enabled) {
      let s = 0;
      while (this.buffer >>> s > 0xffff && s < MAX_WINDOW_SCALE) s++;
      this.scale = s;
    } else {
      this.scale = 0;
      this.buffer = Math.min(this.buffer, 0xffff);
    }
  }

  /** The guest's SYN carried `irs`. */
  begin(irs: number): void {
    this.irs = irs;
    this.rcvNxt = seqAdd(irs, 1);
    this.advRight = this.rcvNxt;
  }

  /** Whether guest data or FIN is still to reach the host stream. */
  get pending(): boolean {
    return this.held.length > 0 || this.endAfterDrain;
  }

  /** The (never scaled) window of a SYN or SYN-ACK; `synchronized` once the guest's ISN is known. */
  synWindow(synchronized: boolean): number {
    const window = Math.min(0xffff, this.buffer);
    if (synchronized) this.advRight = seqAdd(this.rcvNxt, window);
    return window;
  }

  /** The window field for our next segment; moves the advertised right edge, never left. */
  windowField(): number {
    const avail = Math.max(0, this.buffer - this.held.length);
    let right = seqAdd(this.rcvNxt, avail);
    if (seqLt(right, this.advRight)) right = this.advRight;
    const field = Math.min(0xffff, seqDiff(right, this.rcvNxt) >>> this.scale);
    const edge = seqAdd(this.rcvNxt, field << this.scale);
    if (seqGt(edge, this.advRight)) this.advRight = edge;
    return field;
  }

  /** RFC 793's acceptability test, plus a bare FIN at rcvNxt even into a zero window. */
  acceptable(seq: number, segLen: number, dataLength: number): boolean {
    const wnd = seqDiff(this.advRight, this.rcvNxt);
    if (segLen === 0 || (wnd <= 0 && dataLength === 0)) return wnd <= 0 ? seq === this.rcvNxt : this.inWindow(seq);
    if (wnd <= 0) return false;
    return this.inWindow(seq) || this.inWindow(seqAdd(seq, segLen - 1));
  }

  private inWindow(seq: number): boolean {
    return seqLe(this.rcvNxt, seq) && seqLt(seq, this.advRight);
  }

  /**
   * Take an acceptable segment's data and FIN: trimmed to the window, written or held in
   * order, or queued out of order. `fullSize`: the segment length that may wait for a
   * delayed ACK. Returns TOOK_FIN | ACK_NOW flags.
   */
  take(p: ParsedSegment, stream: TcpHostStream | null, fullSize: number): number {
    let seq = p.seq;
    let off = p.dataOffset;
    let len = p.dataLength;
    let fin = p.has(FIN);
    const early = seqDiff(this.rcvNxt, seq);
    if (early > 0) {
      if (early > len) fin = false; // an old FIN
      const skip = Math.min(early, len);
      off += skip;
      len -= skip;
      seq = seqAdd(seq, skip);
    }
    const room = seqDiff(this.advRight, seq);
    if (len > room) {
      len = Math.max(0, room);
      fin = false;
    }
    if (seq !== this.rcvNxt) {
      if (len > 0 || fin) this.ooo.insert(seq, p.bytes.slice(off, off + len), fin);
      return ACK_NOW; // a duplicate ACK tells the guest what is missing
    }
    if (len > 0) this.deliver(p.bytes.subarray(off, off + len), stream);
    let filledHole = false;
    for (let piece = this.ooo.next(this.rcvNxt); piece !== null && !fin; piece = this.ooo.next(this.rcvNxt)) {
      if (piece.data.length > 0) this.deliver(piece.data, stream);
      fin = piece.fin;
      filledHole = true;
    }
    if (fin) {
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.ooo.clear();
      if (this.held.length > 0) this.endAfterDrain = true;
      else stream?.end();
      return TOOK_FIN | ACK_NOW;
    }
    return filledHole || len < fullSize || this.ooo.size > 0 ? ACK_NOW : 0;
  }

  /** In-order bytes: to the host stream (which copies what it keeps), or held while it is backed up. */
  private deliver(data: Uint8Array, stream: TcpHostStream | null): void {
    this.rcvNxt = seqAdd(this.rcvNxt, data.length);
    this.counters.bytesFromGuest += data.length;
    if (stream === null) return;
    if (this.blocked || this.held.length > 0) this.held.push(data);
    else if (!stream.write(data)) this.blocked = true;
  }

  /**
   * The host stream drained: write what was held (and end it if the guest's FIN is due).
   * Returns true when the window opened enough to be worth an update (RFC 1122 §4.2.3.3).
   */
  drain(stream: TcpHostStream, mss: number): boolean {
    this.blocked = false;
    const before = seqDiff(this.advRight, this.rcvNxt);
    while (this.held.length > 0) {
      if (!stream.write(this.held.shift(DRAIN_CHUNK))) {
        this.blocked = true;
        break;
      }
    }
    if (this.held.length === 0 && this.endAfterDrain) {
      this.endAfterDrain = false;
      stream.end();
    }
    return this.buffer - this.held.length - before >= Math.min(this.buffer / 2, mss);
  }

  clear(): void {
    this.held.drop(this.held.length);
    this.ooo.clear();
    this.endAfterDrain = false;
  }
}
