/**
 * The decoder's position in the instruction being decoded. It enforces the 15-byte limit
 * and remembers why reading stopped, so decoding reports a status instead of throwing
 * (the JIT meets truncated instructions at every page end; that is no exception).
 */
import type { CodeReader, CodeWindow } from './code-reader.js';
import { DecodeStatus } from './decoded-insn.js';

/** Architectural limit on an instruction's length; one byte more is #GP(0). */
export const MAX_INSN_LEN = 15;

const NO_BYTES: CodeReader = {
  window: (w) => {
    w.count = 0;
  },
  byteAt: () => -1,
};

export class InsnCursor implements CodeWindow {
  reader: CodeReader = NO_BYTES;
  buf = new Uint8Array(0);
  start = 0;
  /** Bytes readable straight from buf, at most MAX_INSN_LEN (so the limit is checked only past it). */
  count = 0;
  /** Bytes consumed so far. */
  pos = 0;
  /** Ok while bytes keep coming; once a read fails, why. */
  status: DecodeStatus = DecodeStatus.Ok;

  begin(reader: CodeReader): void {
    this.reader = reader;
    reader.window(this);
    if (this.count > MAX_INSN_LEN) this.count = MAX_INSN_LEN;
    this.pos = 0;
    this.status = DecodeStatus.Ok;
  }

  /** The next byte, or -1 with `status` saying why there is none. */
  u8(): number {
    const p = this.pos;
    if (p < this.count) {
      this.pos = p + 1;
      return this.buf[this.start + p];
    }
    return this.beyondWindow();
  }

  private beyondWindow(): number {
    if (this.status !== DecodeStatus.Ok) return -1;
    if (this.pos >= MAX_INSN_LEN) {
      this.status = DecodeStatus.TooLong;
      return -1;
    }
    const b = this.reader.byteAt(this.pos);
    if (b < 0) {
      this.status = DecodeStatus.Truncated;
      return -1;
    }
    this.pos++;
    return b;
  }

  // Multi-byte reads go byte by byte, in order, so a fetch-based reader faults at the
  // first byte it cannot reach. Their value is meaningless once `status` is not Ok.

  u16(): number {
    const lo = this.u8();
    return (lo | (this.u8() << 8)) & 0xffff;
  }

  /** Four bytes as an int32. */
  u32(): number {
    const a = this.u8();
    const b = this.u8();
    const c = this.u8();
    return (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | (this.u8() << 24);
  }
}
