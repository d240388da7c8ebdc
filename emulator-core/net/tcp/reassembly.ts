/**
 * Out-of-order segments from the guest, held until the gap before them fills. Bounded in
 * count; the bytes are bounded by the receive window, since only in-window data is queued.
 */
import { seqAdd, seqDiff, seqLe, seqLt } from './seq.js';

interface Piece {
  seq: number;
  data: Uint8Array;
  fin: boolean;
}

export class Reassembly {
  private pieces: Piece[] = [];
  bytes = 0;

  constructor(private readonly maxPieces: number) {}

  get size(): number {
    return this.pieces.length;
  }

  /** Queue a copy of a segment that starts after rcvNxt. false: dropped (full or duplicate). */
  insert(seq: number, data: Uint8Array, fin: boolean): boolean {
    const pieces = this.pieces;
    let i = pieces.length;
    while (i > 0 && seqLt(seq, pieces[i - 1].seq)) i--;
    const before = i > 0 ? pieces[i - 1] : undefined;
    // Already covered by the piece before (same start and at least as long): nothing new.
    if (before && before.seq === seq && before.data.length >= data.length && (before.fin || !fin)) return false;
    if (pieces.length >= this.maxPieces) return false;
    pieces.splice(i, 0, { seq, data, fin });
    this.bytes += data.length;
    return true;
  }

  /**
   * The next piece of data at rcvNxt (trimmed of what was already received), or null when
   * the gap is still open. Pieces wholly before rcvNxt are discarded on the way.
   */
  next(rcvNxt: number): Piece | null {
    const pieces = this.pieces;
    while (pieces.length > 0 && seqLe(pieces[0].seq, rcvNxt)) {
      const p = pieces.shift() as Piece;
      this.bytes -= p.data.length;
      const end = seqAdd(p.seq, p.data.length);
      const fresh = seqDiff(end, rcvNxt);
      if (fresh < 0 || (fresh === 0 && !p.fin)) continue;
      const skip = p.data.length - fresh;
      return { seq: rcvNxt, data: skip > 0 ? p.data.subarray(skip) : p.data, fin: p.fin };
    }
    return null;
  }

  clear(): void {
    this.pieces.length = 0;
    this.bytes = 0;
  }
}
