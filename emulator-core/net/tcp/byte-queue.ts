/**
 * A FIFO of bytes kept in blocks the queue owns: data is copied in (callers may reuse their
 * buffers), read out at any offset without consuming it, and dropped from the front once
 * acknowledged. Blocks grow with the queue, so many small writes do not cost an object each.
 */

import { EmulatorError } from '../../errors.js';

const MIN_BLOCK = 4096;
const MAX_BLOCK = 65536;

export class ByteQueue {
  private blocks: Uint8Array[] = [];
  /** Absolute stream position of each block's first byte. */
  private starts: number[] = [];
  private head = 0;
  /** Absolute position of the first byte still queued. */
  private front = 0;
  /** Bytes used in the last block. */
  private tailFill = 0;
  private cursor = 0;
  length = 0;
  /** One emptied block kept for the next push, when no view of it was ever handed out. */
  private spare: Uint8Array | null = null;

  /** `recycle`: reuse emptied blocks; only for queues read with copyOut, never shift. */
  constructor(private readonly recycle = false) {}

  /** Append a copy of bytes [off, off + len) of `src`. */
  push(src: Uint8Array, off = 0, len = src.length - off): void {
    while (len > 0) {
      let last = this.blocks.length - 1;
      if (last < this.head || this.tailFill === this.blocks[last].length) {
        const size = Math.max(len, Math.min(MAX_BLOCK, Math.max(MIN_BLOCK, this.length)));
        let block: Uint8Array;
        if (this.spare !== null && this.spare.length >= size) {
          block = this.spare;
          this.spare = null;
        } else {
          block = new Uint8Array(size);
        }
        this.blocks.push(block);
        this.starts.push(this.front + this.length);
        this.tailFill = 0;
        last++;
      }
      const block = this.blocks[last];
      const n = Math.min(len, block.length - this.tailFill);
      block.set(src.subarray(off, off + n), this.tailFill);
      this.tailFill += n;
      this.length += n;
      off += n;
      len -= n;
    }
  }

  /** Copy `len` queued bytes starting `offset` bytes after the front into dst at dstOff. */
  copyOut(offset: number, len: number, dst: Uint8Array, dstOff: number): void {
    let pos = this.front + offset;
    let i = this.cursor >= this.head && this.starts[this.cursor] <= pos ? this.cursor : this.head;
    while (len > 0) {
      while (pos >= this.starts[i] + this.blockFill(i)) i++;
      const block = this.blocks[i];
      const at = pos - this.starts[i];
      const n = Math.min(len, this.blockFill(i) - at);
      dst.set(block.subarray(at, at + n), dstOff);
      dstOff += n;
      pos += n;
      len -= n;
    }
    this.cursor = i;
  }

  /** Remove and return up to `max` bytes from the front, as a view the queue will not write again. */
  shift(max: number): Uint8Array {
    if (this.recycle) throw new EmulatorError('INTERNAL', 'ByteQueue.shift on a recycling queue would hand out a block it reuses');
    const i = this.head;
    const at = this.front - this.starts[i];
    const n = Math.min(max, this.blockFill(i) - at, this.length);
    const view = this.blocks[i].subarray(at, at + n);
    this.drop(n);
    return view;
  }

  /** Forget `n` bytes from the front. */
  drop(n: number): void {
    this.front += n;
    this.length -= n;
    while (this.head < this.blocks.length && this.front >= this.starts[this.head] + this.blockFill(this.head)) {
      if (this.recycle) this.spare = this.blocks[this.head];
      if (this.head === this.blocks.length - 1) {
        // The tail block is empty now: let it go and start afresh.
        this.blocks.length = 0;
        this.starts.length = 0;
        this.head = 0;
        this.cursor = 0;
        this.tailFill = 0;
        return;
      }
      this.head++;
    }
    if (this.head > 32 && this.head * 2 > this.blocks.length) {
      this.blocks.splice(0, this.head);
      this.starts.splice(0, this.head);
      this.cursor = Math.max(0, this.cursor - this.head);
      this.head = 0;
    }
  }

  private blockFill(i: number): number {
    return i === this.blocks.length - 1 ? this.tailFill : this.blocks[i].length;
  }
}
