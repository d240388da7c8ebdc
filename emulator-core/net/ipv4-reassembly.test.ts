import { describe, expect, it } from 'vitest';
import { Ipv4Reassembler } from './ipv4-reassembly.js';

const bytes = (n: number, seed: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 255);

describe('IPv4 reassembly', () => {
  it('rebuilds a datagram from fragments in any order, ignoring exact duplicates', () => {
    const r = new Ipv4Reassembler();
    const whole = bytes(4000, 1);
    const parts: [number, boolean][] = [
      [2400, false],
      [0, true],
      [0, true],
      [1200, true],
    ];
    let out: Uint8Array | null = null;
    for (const [off, more] of parts) out = r.add(1, 2, 17, 7, off, more, whole.subarray(off, more ? off + 1200 : whole.length), 0);
    expect(out).toEqual(whole);
    expect(r.size).toBe(0);
  });

  it('drops a datagram whose fragments overlap (a guest cannot rewrite bytes already seen)', () => {
    const r = new Ipv4Reassembler();
    expect(r.add(1, 2, 17, 8, 0, true, bytes(16, 0), 0)).toBeNull();
    expect(r.add(1, 2, 17, 8, 8, false, bytes(16, 1), 0)).toBeNull();
    expect(r.add(1, 2, 17, 8, 16, false, bytes(8, 2), 0)).toBeNull(); // the datagram is gone
    expect(r.dropped).toBe(1);
  });

  it('holds a bounded number of datagrams and bytes, and forgets them after the timeout', () => {
    const r = new Ipv4Reassembler({ maxDatagrams: 4, maxBytes: 8192, timeoutMs: 1000 });
    for (let id = 0; id < 100; id++) r.add(1, 2, 17, id, 0, true, bytes(1000, id), 0);
    expect(r.size).toBeLessThanOrEqual(4);
    r.expire(999);
    expect(r.size).toBeGreaterThan(0);
    r.expire(1000);
    expect(r.size).toBe(0);
    // Bytes: 9 KiB in one datagram is over the 8 KiB budget.
    for (let off = 0; off < 9216; off += 1024) r.add(1, 2, 17, 500, off, true, bytes(1024, 0), 2000);
    expect(r.size).toBe(0);
  });

  it('gives up on a datagram cut into thousands of tiny fragments', () => {
    const r = new Ipv4Reassembler();
    let out: Uint8Array | null = null;
    for (let off = 0; off < 8 * 2000; off += 8) out = r.add(1, 2, 17, 9, off, off + 8 < 8 * 2000, bytes(8, off), 0);
    expect(out).toBeNull();
    expect(r.dropped).toBeGreaterThan(0);
    expect(r.size).toBeLessThanOrEqual(1);
  });
});
