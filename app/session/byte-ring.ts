/** The last N bytes of a stream (serial history for a terminal opened late). */
export class ByteRing {
  private readonly buffer: Uint8Array;
  private start = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    this.buffer = new Uint8Array(capacity);
  }

  push(bytes: Uint8Array): void {
    const src = bytes.length > this.capacity ? bytes.subarray(bytes.length - this.capacity) : bytes;
    for (let i = 0; i < src.length; i++) this.buffer[(this.start + this.length + i) % this.capacity] = src[i]!;
    const total = this.length + src.length;
    if (total > this.capacity) {
      this.start = (this.start + total - this.capacity) % this.capacity;
      this.length = this.capacity;
    } else {
      this.length = total;
    }
  }

  contents(): Uint8Array {
    const out = new Uint8Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.buffer[(this.start + i) % this.capacity]!;
    return out;
  }
}
