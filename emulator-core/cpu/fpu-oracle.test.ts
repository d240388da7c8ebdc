/**
 * Differential tests: every x87/MMX instruction form runs on the host CPU (through a tiny
 * gcc -m32 harness) and on the emulated unit from the same random state; control, status
 * and tag words, all registers, the memory operand, AX and EFLAGS must match bit for bit
 * (transcendentals: within one unit in the last place, C1 ignored). Skips loudly when the
 * host cannot build or run 32-bit x86 code.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CompareOptions,
  type OracleCase,
  type OracleResult,
  IMG_SIZE,
  MEM_SIZE,
  buildNativeOracle,
  compareResults,
  describeCase,
  runEmulated,
  runNative,
} from '../../test/support/cpu/fpu-oracle.js';

const oracle = buildNativeOracle();
const nativePath = 'path' in oracle ? oracle.path : null;
if (nativePath === null && 'reason' in oracle) {
  console.warn(`\n*** fpu-oracle.test.ts SKIPPED: no native x87 oracle (${oracle.reason}) ***\n`);
}

/** mulberry32: small, seedable, good enough for operand generation. */
class Rng {
  constructor(private s: number) {}
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  bit(): number {
    return this.u32() & 1;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

const J = 1n << 63n;

/** Random 80-bit values biased towards the interesting classes. */
function randValue(r: Rng): [number, bigint] {
  const s = r.bit() << 15;
  const frac = (): bigint => r.u64() & (J - 1n);
  switch (r.int(24)) {
    case 0:
      return [s, 0n];
    case 1:
      return [s | 0x7fff, J];
    case 2:
      return [s | 0x7fff, J | (1n << 62n) | (r.bit() ? frac() : 0n)];
    case 3: {
      const f = frac() & ((1n << 62n) - 1n);
      return [s | 0x7fff, J | (f === 0n ? 1n : f)];
    }
    case 4:
      return [s, r.u64() >> BigInt(1 + r.int(63))];
    case 5:
      return r.int(3) === 0 ? [s, J | frac()] : [s | (0x3fff + r.int(40) - 20), J | frac()];
    case 6: {
      // Unsupported encodings (rare): unnormal, pseudo-infinity, pseudo-NaN.
      if (r.int(3) !== 0) return [s | (0x3fff + r.int(40) - 20), J | frac()];
      const exp = r.bit() ? 0x7fff : 1 + r.int(0x7ffe);
      return [s | exp, r.u64() >> 1n];
    }
    case 7:
      return [s | (0x7ffe - r.int(70)), J | frac()];
    case 8:
      return [s | (1 + r.int(70)), J | frac()];
    case 9: {
      const v = BigInt(r.int(2000) - 1000);
      if (v === 0n) return [s, 0n];
      const m = v < 0n ? -v : v;
      const nb = m.toString(2).length;
      return [(v < 0n ? 0x8000 : 0) | (0x3fff + nb - 1), m << BigInt(64 - nb)];
    }
    case 10:
      return [s | (0x3fff + r.int(60) - 30), J | ((frac() >> 40n) << 40n)];
    case 11:
      return [s | (0x3fff + r.int(200) - 100), J | ((frac() >> 11n) << 11n)];
    case 12: {
      let m = J;
      for (let k = r.int(4); k >= 0; k--) m |= 1n << BigInt(r.int(63));
      return [s | (0x3fff + r.int(20) - 10), m];
    }
    case 13:
      return [s | (0x3fff + r.int(20) - 10), r.pick([(1n << 64n) - 1n, J | 1n, J | (1n << 40n) | (1n << 39n), J | (3n << 10n)])];
    case 14:
      // Integers of all sizes (for FIST/FBSTP).
      return [s | (0x3fff + r.int(70)), J | frac()];
    case 15:
      return [s | (0x3fff + r.int(70)), (J | frac()) & ~((1n << BigInt(r.int(64))) - 1n)];
    default:
      return [s | (0x3fff + r.int(140) - 70), J | frac()];
  }
}

interface StateOpts {
  /** Registers ST0..ST(n-1) are valid (default: random, usually 2-8). */
  valid?: number;
  /** Force all exceptions masked. */
  masked?: boolean;
  values?: (r: Rng) => [number, bigint];
}

function randImage(r: Rng, o: StateOpts = {}): Uint8Array {
  const img = new Uint8Array(IMG_SIZE);
  const dv = new DataView(img.buffer);
  const masks = o.masked || r.int(5) !== 0 ? 0x3f : r.int(64);
  const cw = masks | 0x40 | (r.int(4) << 8) | (r.int(4) << 10);
  const top = r.int(8);
  const cc = r.u32() & 0x4700;
  const flags = r.u32() & masks & 0x3f & (r.int(3) === 0 ? 0x3f : 0);
  const sw = cc | flags | (top << 11);
  const valid = o.valid ?? (r.int(6) === 0 ? r.int(9) : 2 + r.int(7));
  let tw = 0;
  for (let i = 0; i < 8; i++) {
    const p = (top + i) & 7;
    const empty = i >= valid || (r.int(20) === 0 && o.valid === undefined);
    if (empty) tw |= 3 << (2 * p);
  }
  dv.setUint32(0, (0xffff0000 | cw) >>> 0, true);
  dv.setUint32(4, (0xffff0000 | sw) >>> 0, true);
  dv.setUint32(8, (0xffff0000 | tw) >>> 0, true);
  dv.setUint32(24, 0xffff0000, true);
  const gen = o.values ?? randValue;
  for (let i = 0; i < 8; i++) {
    const [se, sig] = gen(r);
    dv.setBigUint64(28 + 10 * i, sig, true);
    dv.setUint16(36 + 10 * i, se, true);
  }
  return img;
}

function randMem(r: Rng, fill?: (m: Uint8Array, dv: DataView) => void): Uint8Array {
  const mem = new Uint8Array(MEM_SIZE);
  for (let i = 0; i < MEM_SIZE; i++) mem[i] = r.int(256);
  if (fill) fill(mem, new DataView(mem.buffer));
  return mem;
}

/** Random float32 bit patterns biased to specials. */
function randF32(r: Rng): number {
  const s = r.bit() << 31;
  switch (r.int(10)) {
    case 0:
      return s;
    case 1:
      return (s | 0x7f800000) >>> 0;
    case 2:
      return (s | 0x7f800000 | (r.u32() & 0x7fffff) | 1) >>> 0;
    case 3:
      return (s | (r.u32() & 0x7fffff)) >>> 0;
    default:
      return (s | ((0x70 + r.int(32)) << 23) | (r.u32() & 0x7fffff)) >>> 0;
  }
}

function randF64(r: Rng): bigint {
  const s = BigInt(r.bit()) << 63n;
  const f = r.u64() & ((1n << 52n) - 1n);
  switch (r.int(10)) {
    case 0:
      return s;
    case 1:
      return s | (0x7ffn << 52n);
    case 2:
      return s | (0x7ffn << 52n) | f | 1n;
    case 3:
      return s | f;
    case 4:
      return s | (BigInt(r.pick([1, 2, 0x7fe, 0x7fd, 0x3ff])) << 52n) | f;
    default:
      return s | (BigInt(0x3ff + r.int(100) - 50) << 52n) | f;
  }
}

let oracleRuns = 0;
let oracleCases = 0;

/** Run cases natively and emulated; return mismatch descriptions (at most `limit`). */
function diffCases(cases: OracleCase[], opts: CompareOptions = {}, memIgnore?: (c: OracleCase) => [number, number][]): string[] {
  if (nativePath === null) return [];
  const natives: OracleResult[] = runNative(nativePath, cases);
  oracleRuns++;
  oracleCases += cases.length;
  const out: string[] = [];
  cases.forEach((c, k) => {
    const n = natives[k];
    const e = runEmulated(c);
    const ign = memIgnore?.(c) ?? [];
    for (const [from, to] of ign) {
      for (let i = from; i < to; i++) {
        n.mem[i] = 0;
        e.mem[i] = 0;
      }
    }
    const d = compareResults(n, e, opts);
    if (d.length > 0 && out.length < 12) {
      out.push(`${describeCase(c)}\n    ${d.map((x) => `${x.field}: native ${x.native} emulated ${x.emulated}`).join('\n    ')}`);
    }
  });
  return out;
}

function expectNoDiffs(diffs: string[]): void {
  if (diffs.length > 0) expect.fail(`${diffs.length}+ mismatches vs host x87:\n  ${diffs.join('\n  ')}`);
}

const itNative = nativePath === null ? it.skip : it;

/** TERRARIUM_FPU_ORACLE_SCALE multiplies the case counts; _SEED varies the operands. */
const SCALE = Number(process.env.TERRARIUM_FPU_ORACLE_SCALE ?? '1') || 1;
const SEED = Number(process.env.TERRARIUM_FPU_ORACLE_SEED ?? '0') | 0;
function count(n: number): number {
  return Math.max(1, Math.round(n * SCALE));
}
function rng(k: number): Rng {
  return new Rng(k + SEED * 1000);
}

function regCases(r: Rng, opcode: number, modrms: readonly number[], n: number, o: StateOpts = {}): OracleCase[] {
  const cases: OracleCase[] = [];
  for (let k = 0; k < n; k++) {
    cases.push({
      code: [opcode, r.pick(modrms)],
      img: randImage(r, o),
      mem: randMem(r),
      eflags: 0x202 | (r.u32() & 0x8d5),
      eax: r.u32(),
    });
  }
  return cases;
}

function range(from: number, to: number, skip: readonly number[] = []): number[] {
  const xs: number[] = [];
  for (let i = from; i <= to; i++) if (!skip.includes(i)) xs.push(i);
  return xs;
}

/** [ecx] memory operand ModRM for reg field `reg`. */
function memModrm(reg: number): number {
  return (reg << 3) | 1;
}

describe('x87 against the host CPU', () => {
  beforeAll(() => {
    if (nativePath === null) return;
  });

  itNative('D8/DC/DE register arithmetic and compares in every RC/PC', () => {
    const r = rng(1);
    expectNoDiffs(diffCases(regCases(r, 0xd8, range(0xc0, 0xff), count(6000))));
    expectNoDiffs(diffCases(regCases(r, 0xdc, range(0xc0, 0xff), count(6000))));
    expectNoDiffs(diffCases(regCases(r, 0xde, range(0xc0, 0xff, [0xd8, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf]), count(6000))));
  });

  itNative('D9 register forms (loads, constants, FXAM, FTST, FPREM, FSQRT, FRNDINT, FSCALE, FXTRACT, ...)', () => {
    const r = rng(2);
    const ops = [
      ...range(0xc0, 0xd0),
      ...range(0xd8, 0xdf),
      0xe0,
      0xe1,
      0xe4,
      0xe5,
      ...range(0xe8, 0xee),
      0xf4,
      0xf5,
      0xf6,
      0xf7,
      0xf8,
      0xfa,
      0xfc,
      0xfd,
    ];
    expectNoDiffs(diffCases(regCases(r, 0xd9, ops, count(12000))));
  });

  itNative('DA/DB/DD/DF register forms (FCMOV, FUCOMPP, FCOMI, FFREE, FST, FUCOM, FSTSW AX, aliases)', () => {
    const r = rng(3);
    expectNoDiffs(diffCases(regCases(r, 0xda, [...range(0xc0, 0xdf), 0xe9], count(3000))));
    expectNoDiffs(diffCases(regCases(r, 0xdb, [...range(0xc0, 0xdf), 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, ...range(0xe8, 0xf7)], count(4000))));
    expectNoDiffs(diffCases(regCases(r, 0xdd, range(0xc0, 0xef), count(4000))));
    expectNoDiffs(diffCases(regCases(r, 0xdf, [...range(0xc0, 0xe0), ...range(0xe8, 0xf7)], count(4000))));
  });

  itNative('FPREM/FPREM1 across exponent differences (partial remainders, quotient bits)', () => {
    const r = rng(4);
    const cases = regCases(r, 0xd9, [0xf5, 0xf8], count(6000), {
      valid: 2,
      values: (rr) => {
        const [se, sig] = randValue(rr);
        if (rr.int(3) === 0) return [se, sig];
        return [(rr.bit() << 15) | (0x3fff + rr.int(300) - 100), J | (rr.u64() & (J - 1n))];
      },
    });
    expectNoDiffs(diffCases(cases));
  });

  itNative('arithmetic with memory operands (m32real, m64real, m32int, m16int)', () => {
    const r = rng(5);
    const cases: OracleCase[] = [];
    for (let k = 0; k < count(16000); k++) {
      const opcode = r.pick([0xd8, 0xdc, 0xda, 0xde]);
      const mem = randMem(r, (m, dv) => {
        if (opcode === 0xd8) dv.setUint32(0, randF32(r), true);
        else if (opcode === 0xdc) dv.setBigUint64(0, randF64(r), true);
        else if (r.bit()) dv.setInt32(0, r.int(2000) - 1000, true);
      });
      cases.push({ code: [opcode, memModrm(r.int(8))], img: randImage(r), mem, eflags: 0x202, eax: 0 });
    }
    expectNoDiffs(diffCases(cases));
  });

  itNative('loads and stores: FLD/FST/FSTP m32/m64/m80, FILD/FIST/FISTP m16/m32/m64, FBLD/FBSTP', () => {
    const r = rng(6);
    const forms: [number, number][] = [
      [0xd9, 0],
      [0xd9, 2],
      [0xd9, 3],
      [0xdd, 0],
      [0xdd, 2],
      [0xdd, 3],
      [0xdb, 5],
      [0xdb, 7],
      [0xdb, 0],
      [0xdb, 2],
      [0xdb, 3],
      [0xdf, 0],
      [0xdf, 2],
      [0xdf, 3],
      [0xdf, 5],
      [0xdf, 7],
      [0xdf, 4],
      [0xdf, 6],
    ];
    const cases: OracleCase[] = [];
    for (let k = 0; k < count(20000); k++) {
      const [opcode, reg] = r.pick(forms);
      const mem = randMem(r, (m, dv) => {
        if (opcode === 0xd9) dv.setUint32(0, randF32(r), true);
        else if (opcode === 0xdd) dv.setBigUint64(0, randF64(r), true);
        else if (opcode === 0xdf && reg === 4 && r.int(4) !== 0) {
          for (let i = 0; i < 9; i++) m[i] = r.int(10) * 16 + r.int(10);
          m[9] &= 0x80;
        } else if (opcode === 0xdb && reg === 5) {
          const [se, sig] = randValue(r);
          dv.setBigUint64(0, sig, true);
          dv.setUint16(8, se, true);
        }
      });
      cases.push({ code: [opcode, memModrm(reg)], img: randImage(r), mem, eflags: 0x202, eax: 0 });
    }
    expectNoDiffs(diffCases(cases));
  });

  itNative('stores and arithmetic at the format boundaries (float32/64 and int limits, BCD, underflow/overflow)', () => {
    const r = rng(10);
    /** Significands with runs of ones/zeros around every rounding position. */
    const edgeSig = (rr: Rng): bigint => {
      const k = BigInt(rr.int(64));
      switch (rr.int(5)) {
        case 0:
          return J | ((1n << k) - 1n);
        case 1:
          return J | (1n << k);
        case 2:
          return (1n << 64n) - (1n << k);
        case 3:
          return J | (((1n << k) - 1n) & (rr.u64() | (1n << (k > 0n ? k - 1n : 0n))));
        default:
          return J | (rr.u64() & (J - 1n));
      }
    };
    const edgeValue = (rr: Rng): [number, bigint] => {
      const s = rr.bit() << 15;
      const near = (e: number): number => Math.max(1, Math.min(0x7ffe, e + rr.int(7) - 3));
      switch (rr.int(10)) {
        case 0:
          return [s | near(0x3fff - 126 - rr.int(26)), edgeSig(rr)];
        case 1:
          return [s | near(0x3fff + 127), edgeSig(rr)];
        case 2:
          return [s | near(0x3fff - 1022 - rr.int(55)), edgeSig(rr)];
        case 3:
          return [s | near(0x3fff + 1023), edgeSig(rr)];
        case 4:
          return [s | near(0x3fff + rr.pick([15, 31, 63])), edgeSig(rr)];
        case 5: {
          // Around +-10^18 and the int16/32/64 limits, with fractions.
          const base = rr.pick([10n ** 18n, 1n << 15n, 1n << 31n, 1n << 63n]);
          const m = (base << 8n) + BigInt(rr.int(1024) - 512);
          const nb = m.toString(2).length;
          return [s | (0x3fff + nb - 9), m << BigInt(64 - nb)];
        }
        case 6:
          return [s | rr.int(3), edgeSig(rr)];
        case 7:
          return [s | (0x7ffe - rr.int(3)), edgeSig(rr)];
        case 8:
          return [s | (0x3ffe + rr.int(3)), edgeSig(rr)];
        default:
          return randValue(rr);
      }
    };
    const cases: OracleCase[] = [];
    const stores: [number, number][] = [
      [0xd9, 2],
      [0xd9, 3],
      [0xdd, 2],
      [0xdd, 3],
      [0xdf, 2],
      [0xdb, 2],
      [0xdf, 7],
      [0xdf, 6],
    ];
    for (let k = 0; k < count(12000); k++) {
      const [opcode, reg] = r.pick(stores);
      cases.push({ code: [opcode, memModrm(reg)], img: randImage(r, { values: edgeValue }), mem: randMem(r), eflags: 0x202, eax: 0 });
    }
    const tiny = (rr: Rng): [number, bigint] =>
      rr.bit() ? [(rr.bit() << 15) | (1 + rr.int(3)), edgeSig(rr)] : [(rr.bit() << 15) | (0x3ffd + rr.int(4)), edgeSig(rr)];
    const huge = (rr: Rng): [number, bigint] =>
      rr.bit() ? [(rr.bit() << 15) | (0x7ffe - rr.int(3)), edgeSig(rr)] : [(rr.bit() << 15) | (0x3ffd + rr.int(4)), edgeSig(rr)];
    cases.push(...regCases(r, 0xd8, [...range(0xc0, 0xcf), ...range(0xe0, 0xff)], count(8000), { values: tiny }));
    cases.push(...regCases(r, 0xd8, [...range(0xc0, 0xcf), ...range(0xe0, 0xff)], count(4000), { values: huge }));
    cases.push(...regCases(r, 0xd9, [0xfa, 0xfc, 0xfd, 0xf8, 0xf5], count(4000), { values: edgeValue }));
    expectNoDiffs(diffCases(cases));
  });

  itNative('control instructions: FLDCW/FNSTCW/FNSTSW/FNSTENV/FLDENV/FNSAVE/FRSTOR (32- and 16-bit)', () => {
    const r = rng(7);
    const cases: OracleCase[] = [];
    for (let k = 0; k < count(4000); k++) {
      const form = r.int(9);
      const o16 = r.bit() === 1;
      let code: number[];
      const mem = randMem(r);
      if (form === 0) {
        code = [0xd9, memModrm(5)];
        mem[1] &= 0x1f;
      } else if (form === 1) code = [0xd9, memModrm(7)];
      else if (form === 2) code = [0xdd, memModrm(7)];
      else if (form === 3) code = [0xd9, memModrm(6)];
      else if (form === 4) code = [0xdd, memModrm(6)];
      else if (form === 5 || form === 6) {
        // FLDENV/FRSTOR of an image the emulated unit saved itself.
        const img = randImage(r);
        code = [form === 5 ? 0xd9 : 0xdd, memModrm(4)];
        if (o16) {
          const dv = new DataView(img.buffer);
          mem.fill(0);
          const m16 = new DataView(mem.buffer);
          m16.setUint16(0, dv.getUint16(0, true), true);
          m16.setUint16(2, dv.getUint16(4, true), true);
          m16.setUint16(4, dv.getUint16(8, true), true);
          mem.set(img.subarray(28, 108), 14);
        } else {
          mem.set(img);
        }
      } else if (form === 7) code = [0xdb, 0xe2];
      else code = [0xdb, 0xe3];
      if (o16 && form >= 3 && form <= 6) code = [0x66, ...code];
      cases.push({ code, img: randImage(r), mem, eflags: 0x202, eax: r.u32() });
    }
    // Instruction/data pointers are host addresses natively: ignore them in stored images.
    expectNoDiffs(
      diffCases(cases, {}, (c) => {
        const o16 = c.code[0] === 0x66;
        return o16 ? [[6, 14]] : [[12, 28]];
      }),
    );
  });

  itNative('transcendentals: special operands exact, finite results within 1 ulp', () => {
    const r = rng(8);
    /** Operands in the instructions' domains, or special (not finite normal) values. */
    const special = (rr: Rng): [number, bigint] | null => {
      const [se, sig] = randValue(rr);
      const exp = se & 0x7fff;
      return exp === 0 || exp === 0x7fff || sig >> 63n === 0n ? [se, sig] : null;
    };
    const small = (rr: Rng): [number, bigint] => {
      if (rr.int(4) === 0) return special(rr) ?? [0x3fff | (rr.bit() << 15), J];
      return [(rr.bit() << 15) | (0x3fff - 1 - rr.int(70)), J | (rr.u64() & (J - 1n))];
    };
    const wide = (rr: Rng): [number, bigint] => {
      if (rr.int(4) === 0) return randValue(rr);
      return [(rr.bit() << 15) | (0x3fff + rr.int(80) - 20), J | (rr.u64() & (J - 1n))];
    };
    const positive = (rr: Rng): [number, bigint] => {
      const [se, sig] = wide(rr);
      return [rr.int(8) === 0 ? se : se & 0x7fff, sig];
    };
    const unit = (rr: Rng): [number, bigint] => {
      const [se, sig] = small(rr);
      return [(se & 0x8000) | Math.min(se & 0x7fff, 0x3ffd), sig];
    };
    const tol: CompareOptions = { ulpTolerance: 1, ignoreC1: true };
    const groups: [string, number[], (rr: Rng) => [number, bigint], number][] = [
      ['FSIN/FCOS/FSINCOS/FPTAN', [0xfe, 0xff, 0xfb, 0xf2], wide, 4000],
      ['F2XM1', [0xf0], small, 2000],
      ['FPATAN', [0xf3], wide, 2000],
      ['FYL2X', [0xf1], positive, 2000],
      ['FYL2XP1', [0xf9], unit, 2000],
    ];
    const rates: string[] = [];
    for (const [name, ops, values, n] of groups) {
      const cases = regCases(r, 0xd9, ops, count(n), { values });
      expectNoDiffs(diffCases(cases, tol));
      // How often the result is bit-exact (C1 aside), for the precision notes.
      const natives = nativePath === null ? [] : runNative(nativePath, cases);
      let exact = 0;
      cases.forEach((c, k) => {
        if (compareResults(natives[k], runEmulated(c), { ignoreC1: true }).length === 0) exact++;
      });
      rates.push(`${name} ${((100 * exact) / cases.length).toFixed(1)}%`);
    }
    console.log(`fpu-oracle: transcendentals bit-exact (C1 aside): ${rates.join(', ')}`);
  });

  itNative('MMX: moves, packs, unpacks, arithmetic, compares, logic, shifts, EMMS', () => {
    const r = rng(9);
    const arith = [
      0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x74, 0x75, 0x76, 0xd1, 0xd2, 0xd3, 0xd5,
      0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xdf, 0xe1, 0xe2, 0xe5, 0xe8, 0xe9, 0xeb, 0xec, 0xed, 0xef, 0xf1, 0xf2, 0xf3, 0xf5,
      0xf8, 0xf9, 0xfa, 0xfc, 0xfd, 0xfe,
    ];
    const lanes = (rr: Rng): [number, bigint] => {
      const pats = [0x8000800080008000n, 0x7fff7fff7fff7fffn, 0x8080808080808080n, 0x7f7f7f7f7f7f7f7fn, 0xffffffffffffffffn, 0n];
      const sig = rr.int(4) === 0 ? rr.pick(pats) : rr.int(4) === 0 ? BigInt(rr.int(80)) : rr.u64();
      return [rr.int(4) === 0 ? 0xffff : rr.u32() & 0xffff, sig];
    };
    const cases: OracleCase[] = [];
    for (let k = 0; k < count(12000); k++) {
      const kind = r.int(10);
      let code: number[];
      if (kind < 6) {
        const op = r.pick(arith);
        code = r.bit() ? [0x0f, op, 0xc0 | r.int(64)] : [0x0f, op, memModrm(r.int(8))];
      } else if (kind === 6) {
        const op = r.pick([0x71, 0x72, 0x73]);
        const reg = op === 0x73 ? r.pick([2, 6]) : r.pick([2, 4, 6]);
        code = [0x0f, op, 0xc0 | (reg << 3) | r.int(8), r.pick([0, 1, 7, 8, 15, 16, 31, 32, 33, 63, 64, 200, r.int(256)])];
      } else if (kind === 7) {
        const op = r.pick([0x6e, 0x7e]);
        code = r.bit() ? [0x0f, op, 0xc0 | (r.int(8) << 3)] : [0x0f, op, memModrm(r.int(8))];
      } else if (kind === 8) {
        const op = r.pick([0x6f, 0x7f]);
        code = r.bit() ? [0x0f, op, 0xc0 | r.int(64)] : [0x0f, op, memModrm(r.int(8))];
      } else {
        code = [0x0f, 0x77];
      }
      const mem = randMem(r, (m, dv) => {
        if (r.bit()) dv.setBigUint64(0, lanes(r)[1], true);
        if (r.int(3) === 0) dv.setBigUint64(0, BigInt(r.int(70)), true);
      });
      cases.push({ code, img: randImage(r, { masked: true, values: lanes }), mem, eflags: 0x202, eax: r.u32() });
    }
    expectNoDiffs(diffCases(cases));
  });

  itNative('reports how much was compared', () => {
    console.log(`fpu-oracle: ${oracleCases} cases in ${oracleRuns} native batches compared`);
    expect(oracleCases).toBeGreaterThan(0);
  });
});
