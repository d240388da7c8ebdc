import { BadInputError } from '../errors.js';
import type { DeviceState, JsonValue } from './device.js';

/**
 * Checked access to a device snapshot. Snapshots come from disk, so every field is
 * untrusted: a wrong type or out-of-range value throws a BadInputError naming the device
 * and field instead of leaving the device half-restored with garbage.
 */
export class StateReader {
  constructor(
    readonly device: string,
    private readonly state: DeviceState,
    private readonly path = '',
  ) {
    if (typeof state !== 'object' || state === null || Array.isArray(state)) {
      throw new BadInputError(`${device}: snapshot${path === '' ? '' : ` field ${path}`} is not an object`, { device });
    }
  }

  fail(key: string, why: string): never {
    const field = this.path === '' ? key : `${this.path}.${key}`;
    throw new BadInputError(`${this.device}: snapshot field ${field} ${why}`, { device: this.device, field });
  }

  private get(key: string): JsonValue {
    const v = this.state[key];
    if (v === undefined) this.fail(key, 'is missing');
    return v;
  }

  /** Check the layout version written by save(). */
  version(expected: number): void {
    const v = this.get('version');
    if (v !== expected) this.fail('version', `is ${JSON.stringify(v)}, expected ${expected}`);
  }

  int(key: string, min: number, max: number): number {
    const v = this.get(key);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(key, `must be an integer in ${min}..${max}`);
    }
    return v;
  }

  /** Any finite number (guest-time stamps may be fractional or negative). */
  num(key: string): number {
    const v = this.get(key);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'must be a finite number');
    return v;
  }

  /** A number where save() wrote null for Infinity (JSON has no Infinity). */
  numOrInfinity(key: string): number {
    const v = this.get(key);
    if (v === null) return Infinity;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'must be a finite number or null');
    return v;
  }

  bool(key: string): boolean {
    const v = this.get(key);
    if (typeof v !== 'boolean') this.fail(key, 'must be a boolean');
    return v;
  }

  str(key: string, allowed: readonly string[]): string {
    const v = this.get(key);
    if (typeof v !== 'string' || !allowed.includes(v)) this.fail(key, `must be one of ${allowed.join(', ')}`);
    return v;
  }

  /** An array of integers in min..max whose length is in minLen..maxLen. */
  ints(key: string, min: number, max: number, minLen: number, maxLen: number = minLen): number[] {
    const v = this.get(key);
    if (!Array.isArray(v) || v.length < minLen || v.length > maxLen) {
      this.fail(key, minLen === maxLen ? `must be an array of ${minLen} integers` : `must be an array of ${minLen}..${maxLen} integers`);
    }
    for (const x of v) {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) this.fail(key, `must hold integers in ${min}..${max}`);
    }
    return v as number[];
  }

  obj(key: string): StateReader {
    const v = this.get(key);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(key, 'must be an object');
    return new StateReader(this.device, v, this.path === '' ? key : `${this.path}.${key}`);
  }

  objs(key: string, length: number): StateReader[] {
    const v = this.get(key);
    if (!Array.isArray(v) || v.length !== length) this.fail(key, `must be an array of ${length} objects`);
    return v.map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) this.fail(`${key}[${i}]`, 'must be an object');
      return new StateReader(this.device, item, `${this.path === '' ? key : `${this.path}.${key}`}[${i}]`);
    });
  }
}

/** JSON has no Infinity: save it as null (read back with numOrInfinity). */
export function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

/** Guest ticks of a fixed-frequency clock from guest nanoseconds, exact for any uptime. */
export function ticksAt(ns: number, hz: number): number {
  // Splitting off whole seconds keeps every product below 2^53, so no precision is lost
  // even after years of uptime.
  const sec = Math.floor(ns / 1e9);
  const rem = ns - sec * 1e9;
  return sec * hz + Math.floor((rem * hz) / 1e9);
}

/** The first guest nanosecond at which ticksAt() reaches `ticks`. */
export function nsAtTick(ticks: number, hz: number): number {
  const sec = Math.floor(ticks / hz);
  const rem = ticks - sec * hz;
  let ns = sec * 1e9 + Math.ceil((rem * 1e9) / hz);
  // Guard against a rounding step landing one nanosecond short of the tick.
  while (ticksAt(ns, hz) < ticks) ns++;
  return ns;
}
