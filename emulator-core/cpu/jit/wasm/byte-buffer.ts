/**
 * The encoding primitives of the wasm emitter: a growable byte buffer whose storage survives
 * `reset()` (the JIT builds thousands of modules with the same few buffers: no allocation per
 * instruction, amortized doubling), LEB128 for 32- and 64-bit values, and size-prefixed
 * ranges (sections, function bodies) whose size is back-patched when they end.
 *
 * 64-bit values are taken as two int32 halves (lo, hi), the form the CPU already keeps
 * 64-bit registers in; BigInt variants exist for tests and rare constants.
 */

/** Bytes reserved for a back-patched size: the longest u32 LEB128. */
const SIZE_RESERVE = 5;

const f64Scratch = new Float64Array(1);
const f64Bytes = new Uint8Array(f64Scratch.buffer);
const textEncoder = new TextEncoder();

export class ByteBuffer {
  /** The storage; bytes [0, pos) are written. Replaced (never shrunk) when it grows. */
  bytes: Uint8Array<ArrayBuffer>;
  pos = 0;

  constructor(initialCapacity = 4096) {
    this.bytes = new Uint8Array(Math.max(16, initialCapacity));
  }

  /** Forget the contents, keep the storage. */
  reset(): void {
    this.pos = 0;
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.bytes.length) this.grow(n);
  }

  private grow(n: number): void {
    let cap = this.bytes.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.bytes.subarray(0, this.pos));
    this.bytes = next;
  }

  /** The written bytes, as a view of the storage: valid until the next write or reset. */
  view(): Uint8Array<ArrayBuffer> {
    return this.bytes.subarray(0, this.pos);
  }

  u8(b: number): void {
    if (this.pos >= this.bytes.length) this.grow(1);
    this.bytes[this.pos++] = b;
  }

  /** Two bytes (an opcode and a one-byte immediate, a prefix and a sub-opcode, ...). */
  u8x2(a: number, b: number): void {
    if (this.pos + 2 > this.bytes.length) this.grow(2);
    const p = this.pos;
    this.bytes[p] = a;
    this.bytes[p + 1] = b;
    this.pos = p + 2;
  }

  /** A little-endian uint32 (the module header's version). */
  u32le(v: number): void {
    this.ensure(4);
    const p = this.pos;
    const d = this.bytes;
    d[p] = v;
    d[p + 1] = v >>> 8;
    d[p + 2] = v >>> 16;
    d[p + 3] = v >>> 24;
    this.pos = p + 4;
  }

  /** An IEEE double, little-endian (f64.const). */
  f64(v: number): void {
    this.ensure(8);
    f64Scratch[0] = v;
    this.bytes.set(f64Bytes, this.pos);
    this.pos += 8;
  }

  /** Copy `src[start, end)`. */
  append(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    this.bytes.set(start === 0 && end === src.length ? src : src.subarray(start, end), this.pos);
    this.pos += n;
  }

  /** Unsigned LEB128 of a uint32 (any number; the low 32 bits are encoded). */
  uleb32(v: number): void {
    v >>>= 0;
    if (v < 0x80) {
      this.u8(v);
      return;
    }
    this.ensure(5);
    const d = this.bytes;
    let p = this.pos;
    while (v >= 0x80) {
      d[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    d[p++] = v;
    this.pos = p;
  }

  /** Signed LEB128 of an int32 (any number; the low 32 bits, sign-extended, are encoded). */
  sleb32(v: number): void {
    v |= 0;
    if (v >= -64 && v < 64) {
      this.u8(v & 0x7f);
      return;
    }
    this.ensure(5);
    const d = this.bytes;
    let p = this.pos;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        d[p++] = b;
        break;
      }
      d[p++] = b | 0x80;
    }
    this.pos = p;
  }

  /** Signed LEB128 of the int64 whose halves are `lo` and `hi` (two's complement). */
  sleb64(lo: number, hi: number): void {
    lo |= 0;
    hi |= 0;
    if (hi === lo >> 31) {
      this.sleb32(lo);
      return;
    }
    this.ensure(10);
    const d = this.bytes;
    let p = this.pos;
    let l = lo >>> 0;
    let h = hi;
    for (;;) {
      const b = l & 0x7f;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>= 7;
      if ((h === 0 && l === 0 && (b & 0x40) === 0) || (h === -1 && l === 0xffffffff && (b & 0x40) !== 0)) {
        d[p++] = b;
        break;
      }
      d[p++] = b | 0x80;
    }
    this.pos = p;
  }

  /** Unsigned LEB128 of the uint64 whose halves are `lo` and `hi`. */
  uleb64(lo: number, hi: number): void {
    if (hi === 0) {
      this.uleb32(lo);
      return;
    }
    this.ensure(10);
    const d = this.bytes;
    let p = this.pos;
    let l = lo >>> 0;
    let h = hi >>> 0;
    while (h !== 0 || l >= 0x80) {
      d[p++] = (l & 0x7f) | 0x80;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>>= 7;
    }
    d[p++] = l;
    this.pos = p;
  }

  /** Signed LEB128 of a BigInt (taken modulo 2^64 as an int64). */
  sleb64Big(v: bigint): void {
    this.sleb64(Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n)));
  }

  /** Unsigned LEB128 of a BigInt (taken modulo 2^64). */
  uleb64Big(v: bigint): void {
    this.uleb64(Number(BigInt.asUintN(32, v)), Number(BigInt.asUintN(32, v >> 32n)));
  }

  /** A wasm name: LEB128 byte length, then UTF-8. */
  name(s: string): void {
    const n = s.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.uleb32(n);
      this.ensure(n);
      const d = this.bytes;
      const p = this.pos;
      for (let i = 0; i < n; i++) d[p + i] = s.charCodeAt(i);
      this.pos = p + n;
      return;
    }
    const utf8 = textEncoder.encode(s);
    this.uleb32(utf8.length);
    this.append(utf8);
  }

  /**
   * Start a range whose byte size is written in front of it (a section's contents, a
   * function body). Returns the mark to hand to `endSized`.
   */
  beginSized(): number {
    this.ensure(SIZE_RESERVE);
    const mark = this.pos;
    this.pos += SIZE_RESERVE;
    return mark;
  }

  /**
   * End the range begun at `mark`: write its size as a minimal LEB128 and move the
   * contents down over the unused reserve (one memmove; ranges nested inside have
   * already been closed).
   */
  endSized(mark: number): void {
    const start = mark + SIZE_RESERVE;
    const size = this.pos - start;
    if (size < 0) throw new Error(`wasm emitter: endSized(${mark}) after the buffer was rewound`);
    const lebLen = size < 1 << 7 ? 1 : size < 1 << 14 ? 2 : size < 1 << 21 ? 3 : size < 1 << 28 ? 4 : 5;
    const d = this.bytes;
    let v = size;
    let p = mark;
    for (let i = 1; i < lebLen; i++) {
      d[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    d[p++] = v;
    if (lebLen !== SIZE_RESERVE) d.copyWithin(p, start, this.pos);
    this.pos -= SIZE_RESERVE - lebLen;
  }

  /** Start a section: its id, then a back-patched size. */
  beginSection(id: number): number {
    this.u8(id);
    return this.beginSized();
  }

  endSection(mark: number): void {
    this.endSized(mark);
  }
}

/** Decoded LEB128: the value and how many bytes it took. */
export interface Leb<T> {
  value: T;
  length: number;
}

/** Read an unsigned LEB128 of up to 32 bits at `pos` (for tests and dumps). */
export function readUleb32(bytes: Uint8Array, pos: number): Leb<number> {
  let result = 0;
  let shift = 0;
  let p = pos;
  for (;;) {
    if (p >= bytes.length) throw new Error(`LEB128 runs past the end at ${pos}`);
    const b = bytes[p++];
    if (shift === 28 && (b & 0x70) !== 0) throw new Error(`u32 LEB128 too large at ${pos}`);
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) throw new Error(`u32 LEB128 longer than 5 bytes at ${pos}`);
  }
  return { value: result >>> 0, length: p - pos };
}

/** Read a signed LEB128 of up to 32 bits at `pos`. */
export function readSleb32(bytes: Uint8Array, pos: number): Leb<number> {
  const r = readSleb64(bytes, pos);
  if (r.value < -(2n ** 31n) || r.value >= 2n ** 31n) throw new Error(`s32 LEB128 out of range at ${pos}`);
  return { value: Number(r.value), length: r.length };
}

/** Read a signed LEB128 of up to 64 bits at `pos`. */
export function readSleb64(bytes: Uint8Array, pos: number): Leb<bigint> {
  return readLeb64(bytes, pos, true);
}

/** Read an unsigned LEB128 of up to 64 bits at `pos`. */
export function readUleb64(bytes: Uint8Array, pos: number): Leb<bigint> {
  return readLeb64(bytes, pos, false);
}

/** The one 64-bit LEB128 reader: sign-extends from the last byte's bit 6 when `signed`. */
function readLeb64(bytes: Uint8Array, pos: number, signed: boolean): Leb<bigint> {
  let result = 0n;
  let shift = 0n;
  let p = pos;
  let b: number;
  do {
    if (p >= bytes.length) throw new Error(`LEB128 runs past the end at ${pos}`);
    if (shift >= 70n) throw new Error(`${signed ? 's' : 'u'}64 LEB128 longer than 10 bytes at ${pos}`);
    b = bytes[p++];
    result |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80);
  if (!signed) return { value: BigInt.asUintN(64, result), length: p - pos };
  if (b & 0x40) result -= 1n << shift;
  return { value: BigInt.asIntN(64, result), length: p - pos };
}
