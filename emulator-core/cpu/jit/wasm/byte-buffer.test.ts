import { describe, expect, it } from 'vitest';
import { ByteBuffer, readSleb32, readSleb64, readUleb32, readUleb64 } from './byte-buffer.js';

function hex(b: ByteBuffer): string {
  return Array.from(b.view(), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** Reference encoders over BigInt, straight from the spec's definition. */
function refSleb(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function refUleb(v: bigint): number[] {
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v !== 0n ? byte | 0x80 : byte);
  } while (v !== 0n);
  return out;
}

function halves(v: bigint): [number, number] {
  return [Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n))];
}

/** xorshift64*: deterministic test values across all magnitudes. */
function* randomInt64(n: number): Generator<bigint> {
  let s = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < n; i++) {
    s ^= s >> 12n;
    s ^= BigInt.asUintN(64, s << 25n);
    s ^= s >> 27n;
    const r = BigInt.asUintN(64, s * 0x2545f4914f6cdd1dn);
    // Spread over magnitudes: shift right by 0..63 bits, keep the sign sometimes.
    yield BigInt.asIntN(64, r) >> BigInt(i % 64);
  }
}

describe('LEB128', () => {
  const sleb32Vectors: [number, string][] = [
    [0, '00'],
    [1, '01'],
    [63, '3f'],
    [64, 'c0 00'],
    [127, 'ff 00'],
    [128, '80 01'],
    [-1, '7f'],
    [-64, '40'],
    [-65, 'bf 7f'],
    [-128, '80 7f'],
    [2 ** 31 - 1, 'ff ff ff ff 07'],
    [-(2 ** 31), '80 80 80 80 78'],
  ];
  it.each(sleb32Vectors)('signed 32-bit %d', (v, expected) => {
    const b = new ByteBuffer(16);
    b.sleb32(v);
    expect(hex(b)).toBe(expected);
    expect(readSleb32(b.bytes, 0)).toEqual({ value: v, length: b.pos });
  });

  const uleb32Vectors: [number, string][] = [
    [0, '00'],
    [127, '7f'],
    [128, '80 01'],
    [300, 'ac 02'],
    [16383, 'ff 7f'],
    [16384, '80 80 01'],
    [2 ** 31 - 1, 'ff ff ff ff 07'],
    [2 ** 32 - 1, 'ff ff ff ff 0f'],
  ];
  it.each(uleb32Vectors)('unsigned 32-bit %d', (v, expected) => {
    const b = new ByteBuffer(16);
    b.uleb32(v);
    expect(hex(b)).toBe(expected);
    expect(readUleb32(b.bytes, 0)).toEqual({ value: v, length: b.pos });
  });

  const sleb64Vectors: [bigint, string][] = [
    [0n, '00'],
    [127n, 'ff 00'],
    [128n, '80 01'],
    [-1n, '7f'],
    [-64n, '40'],
    [-65n, 'bf 7f'],
    [2n ** 31n - 1n, 'ff ff ff ff 07'],
    [-(2n ** 31n), '80 80 80 80 78'],
    [2n ** 31n, '80 80 80 80 08'],
    [2n ** 32n, '80 80 80 80 10'],
    [-(2n ** 32n), '80 80 80 80 70'],
    [2n ** 63n - 1n, 'ff ff ff ff ff ff ff ff ff 00'],
    [-(2n ** 63n), '80 80 80 80 80 80 80 80 80 7f'],
  ];
  it.each(sleb64Vectors)('signed 64-bit %s (two int32 halves and BigInt)', (v, expected) => {
    const b = new ByteBuffer(16);
    const [lo, hi] = halves(v);
    b.sleb64(lo, hi);
    expect(hex(b)).toBe(expected);
    expect(readSleb64(b.bytes, 0)).toEqual({ value: v, length: b.pos });
    const big = new ByteBuffer(16);
    big.sleb64Big(v);
    expect(hex(big)).toBe(expected);
  });

  const uleb64Vectors: [bigint, string][] = [
    [0n, '00'],
    [128n, '80 01'],
    [2n ** 32n, '80 80 80 80 10'],
    [2n ** 63n - 1n, 'ff ff ff ff ff ff ff ff 7f'],
    [2n ** 63n, '80 80 80 80 80 80 80 80 80 01'],
    [2n ** 64n - 1n, 'ff ff ff ff ff ff ff ff ff 01'],
  ];
  it.each(uleb64Vectors)('unsigned 64-bit %s', (v, expected) => {
    const b = new ByteBuffer(16);
    b.uleb64(Number(BigInt.asUintN(32, v)), Number(BigInt.asUintN(32, v >> 32n)));
    expect(hex(b)).toBe(expected);
    expect(readUleb64(b.bytes, 0)).toEqual({ value: v, length: b.pos });
    const big = new ByteBuffer(16);
    big.uleb64Big(v);
    expect(hex(big)).toBe(expected);
  });

  it('round-trips 4,000 pseudo-random values of every magnitude against a BigInt reference', () => {
    const b = new ByteBuffer(16);
    for (const v of randomInt64(4_000)) {
      const [lo, hi] = halves(v);
      b.reset();
      b.sleb64(lo, hi);
      expect(Array.from(b.view())).toEqual(refSleb(v));
      expect(readSleb64(b.bytes, 0).value).toBe(v);

      const u = BigInt.asUintN(64, v);
      b.reset();
      b.uleb64(lo, hi);
      expect(Array.from(b.view())).toEqual(refUleb(u));
      expect(readUleb64(b.bytes, 0).value).toBe(u);

      b.reset();
      b.sleb32(lo);
      expect(Array.from(b.view())).toEqual(refSleb(BigInt(lo)));
      b.reset();
      b.uleb32(lo);
      expect(Array.from(b.view())).toEqual(refUleb(BigInt(lo >>> 0)));
    }
  });

  it('decoders reject overlong and truncated input', () => {
    expect(() => readUleb32(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), 0)).toThrow(/longer than 5/);
    expect(() => readUleb32(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x1f]), 0)).toThrow(/too large/);
    expect(() => readUleb32(new Uint8Array([0x80]), 0)).toThrow(/past the end/);
  });
});

describe('ByteBuffer', () => {
  it('grows by doubling and keeps its storage across reset()', () => {
    const b = new ByteBuffer(16);
    for (let i = 0; i < 1000; i++) b.u8(i & 0xff);
    expect(b.pos).toBe(1000);
    expect(b.bytes.length).toBe(1024);
    expect(b.bytes[999]).toBe(999 & 0xff);
    const storage = b.bytes;
    b.reset();
    for (let i = 0; i < 1000; i++) b.uleb32(i & 0x7f);
    expect(b.bytes).toBe(storage);
  });

  it('back-patches a size as a minimal LEB128, nested ranges included', () => {
    const b = new ByteBuffer(16);
    b.u8(0xaa);
    const outer = b.beginSection(7);
    const inner = b.beginSized();
    for (let i = 0; i < 200; i++) b.u8(i);
    b.endSized(inner);
    b.u8(0xbb);
    b.endSection(outer);
    const v = b.view();
    // aa, section id 7, outer size (2 + 200 + 1 = 203 -> cb 01), inner size (200 -> c8 01), bytes, bb
    expect(Array.from(v.subarray(0, 6))).toEqual([0xaa, 7, 0xcb, 0x01, 0xc8, 0x01]);
    expect(v[6]).toBe(0);
    expect(v[6 + 199]).toBe(199);
    expect(v[6 + 200]).toBe(0xbb);
    expect(v.length).toBe(6 + 201);
  });

  it('writes names as UTF-8 and f64 little-endian', () => {
    const b = new ByteBuffer(16);
    b.name('env');
    b.name('héllo');
    b.f64(1.5);
    expect(hex(b)).toBe('03 65 6e 76 06 68 c3 a9 6c 6c 6f 00 00 00 00 00 00 f8 3f');
  });
});
