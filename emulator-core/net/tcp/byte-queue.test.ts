import { describe, expect, it } from 'vitest';
import { ByteQueue } from './byte-queue.js';

// Bytes that depend on their absolute position, so an offset error of any size shows.
function bytes(from: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.imul(from + i, 0x9e3779b1) >>> 24;
  return out;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

describe('ByteQueue', () => {
  it('reads back any range across blocks, after drops, and owns its copy', () => {
    const q = new ByteQueue();
    const src = bytes(0, 200_000);
    for (let off = 0; off < src.length; off += 7001) q.push(src, off, Math.min(7001, src.length - off));
    src.fill(0); // the caller reuses its buffer
    const expected = bytes(0, 200_000);
    expect(q.length).toBe(200_000);
    const out = new Uint8Array(5000);
    q.copyOut(65_000, 5000, out, 0);
    expect(same(out, expected.subarray(65_000, 70_000))).toBe(true);
    q.drop(100_000);
    q.copyOut(0, 5000, out, 0);
    expect(same(out, expected.subarray(100_000, 105_000))).toBe(true);
    q.copyOut(95_000, 5000, out, 0);
    expect(same(out, expected.subarray(195_000, 200_000))).toBe(true);
  });

  it('hands out views that later pushes never overwrite', () => {
    const q = new ByteQueue();
    q.push(bytes(1, 100));
    const first = q.shift(60);
    q.push(bytes(200, 100));
    expect(first).toEqual(bytes(1, 60));
    expect(q.shift(1000)).toEqual(Uint8Array.from([...bytes(61, 40), ...bytes(200, 100)]));
    expect(q.length).toBe(0);
  });

  it('keeps data intact while recycling emptied blocks', () => {
    const q = new ByteQueue(true);
    const out = new Uint8Array(70_000);
    let written = 0;
    let read = 0;
    for (let round = 0; round < 50; round++) {
      const n = 10_000 + round * 1500;
      q.push(bytes(written, n));
      written += n;
      const take = Math.min(q.length, 12_000 + round * 1000);
      q.copyOut(0, take, out, 0);
      expect(same(out.subarray(0, take), bytes(read, take)), `round ${round}`).toBe(true);
      q.drop(take);
      read += take;
    }
    expect(q.length).toBe(written - read);
  });
});
