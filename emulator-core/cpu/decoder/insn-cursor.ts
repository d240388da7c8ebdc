/**
 * The decoder's position in the instruction being decoded. It enforces the 15-byte limit
 * and remembers why reading stopped, so decoding reports a status instead of throwing
 * (the JIT meets truncated instructions at every page end; that is no exception).
 */
import type { CodeReader } from './code-reader.js';
import { DecodeStatus } from './decoded-insn.js';

/** Architectural limit on an instruction's length; one byte more is #GP(0). */
export const MAX_INSN_LEN = 15;

const NO_BYTES: CodeReader = { byteAt: () => -1 };

export class InsnCursor {
  reader: CodeReader = NO_BYTES;
  /** Bytes consumed so far. */
  pos = 0;
  /** Ok while bytes keep coming; once a read fails, why. */
  status: DecodeStatus = DecodeStatus.Ok;

  start(reader: CodeReader): void {
    this.reader = reader;
    this.pos = 0;
    this.status = DecodeStatus.Ok;
  }

  /** The next byte, or -1 with `status` saying why there is none. */
  u8(): number {
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
