/**
 * Where the decoder's bytes come from. The JIT reads a code page's backing memory and must
 * stop at the page end; the interpreters fetch through the TLB, which may fault (the fault
 * is thrown by the reader and passes through the decoder untouched).
 *
 * Decoding runs on every interpreted instruction, so bytes come in two ways: a window of
 * plain memory the decoder indexes directly (the common case), and one call per byte past
 * it (page ends, TLB misses).
 */

/** Bytes `buf[start]`, `buf[start + 1]`, ... are the instruction's first `count` bytes. */
export interface CodeWindow {
  buf: Uint8Array;
  start: number;
  count: number;
}

export interface CodeReader {
  /** Point `w` at the bytes that can be read directly (count may be 0). Called first, once per decode. */
  window(w: CodeWindow): void;
  /**
   * Byte `i` of the instruction, past the window, or -1 if it cannot be read here. Called
   * with i = count, count + 1, ... once each, in order, so a reader may be a stream.
   */
  byteAt(i: number): number;
}

/** Bytes of a buffer from `start`, up to (not including) `end`. Reusable: `at()` moves it. */
export class BufferReader implements CodeReader {
  private start = 0;
  private end = 0;

  constructor(private readonly buf: Uint8Array) {}

  /** Read from buf[start], never at or beyond buf[end]. */
  at(start: number, end: number): this {
    this.start = start;
    this.end = end;
    return this;
  }

  window(w: CodeWindow): void {
    w.buf = this.buf;
    w.start = this.start;
    w.count = Math.max(0, this.end - this.start);
  }

  byteAt(i: number): number {
    const p = this.start + i;
    return p < this.end ? this.buf[p] : -1;
  }
}
