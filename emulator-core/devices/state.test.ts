import { describe, expect, it } from 'vitest';
import { BadInputError } from '../errors.js';
import { finiteOrNull, nsAtTick, StateReader, ticksAt } from './state.js';

describe('guest tick arithmetic', () => {
  it('round-trips ticks and nanoseconds exactly, even after days of uptime', () => {
    const hz = 1193182;
    for (const t of [0, 1, 2, 596591, 1193181, 1193182, 1193183, 1_000_000_000_000]) {
      const ns = nsAtTick(t, hz);
      expect(ticksAt(ns, hz)).toBe(t);
      expect(ticksAt(ns - 1, hz)).toBe(t - 1 < 0 ? -1 : t - 1);
    }
    expect(ticksAt(1e9, hz)).toBe(hz);
    expect(ticksAt(999_999_999.5, hz)).toBe(hz - 1);
  });
});

describe('StateReader', () => {
  it('reads well-formed fields and names the bad one otherwise', () => {
    const r = new StateReader('dev', { version: 1, a: 5, b: true, c: [1, 2], d: { e: 3 }, f: null });
    r.version(1);
    expect(r.int('a', 0, 10)).toBe(5);
    expect(r.bool('b')).toBe(true);
    expect(r.ints('c', 0, 9, 2)).toEqual([1, 2]);
    expect(r.obj('d').int('e', 0, 3)).toBe(3);
    expect(r.numOrInfinity('f')).toBe(Infinity);
    expect(finiteOrNull(Infinity)).toBe(null);
    expect(() => r.int('a', 0, 4)).toThrow(BadInputError);
    expect(() => r.int('missing', 0, 4)).toThrow(/dev: snapshot field missing is missing/);
    expect(() => r.obj('d').int('e', 0, 2)).toThrow(/field d\.e/);
    expect(() => r.ints('c', 0, 9, 3)).toThrow(BadInputError);
    expect(() => r.version(2)).toThrow(BadInputError);
    expect(() => new StateReader('dev', [] as never)).toThrow(BadInputError);
  });
});
