/**
 * Where the decoder's bytes come from. The JIT reads a code page's backing memory and must
 * stop at the page end; the interpreter will fetch through the TLB, which may fault (the
 * fault is thrown by the reader and passes through the decoder untouched).
 */
export interface CodeReader {
  /** Byte `i` of the instruction (0 is its first), or -1 if it cannot be read here. */
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

  byteAt(i: number): number {
    const p = this.start + i;
    return p < this.end ? this.buf[p] : -1;
  }
}
