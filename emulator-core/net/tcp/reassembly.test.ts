import { describe, expect, it } from 'vitest';
import { Reassembly } from './reassembly.js';

describe('Reassembly', () => {
  it('returns overlapping pieces in order, trimmed, across the 2^32 wrap', () => {
    const r = new Reassembly(8);
    const base = 0xfffffff0;
    r.insert((base + 20) >>> 0, Uint8Array.of(20, 21, 22, 23), false);
    r.insert((base + 10) >>> 0, Uint8Array.of(10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21), true);
    let next = (base + 10) >>> 0;
    const got: number[] = [];
    let fin = false;
    for (let p = r.next(next); p !== null; p = r.next(next)) {
      got.push(...p.data);
      next = (next + p.data.length) >>> 0;
      fin ||= p.fin;
    }
    expect(got).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
    expect(next).toBe((base + 24) >>> 0);
    expect(fin).toBe(true);
    expect(r.bytes).toBe(0);
  });

  it('refuses pieces beyond its bound', () => {
    const r = new Reassembly(2);
    expect(r.insert(100, new Uint8Array(10), false)).toBe(true);
    expect(r.insert(200, new Uint8Array(10), false)).toBe(true);
    expect(r.insert(300, new Uint8Array(10), false)).toBe(false);
    expect(r.size).toBe(2);
  });
});
