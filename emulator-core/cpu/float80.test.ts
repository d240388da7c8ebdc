import { describe, expect, it } from 'vitest';
import {
  EX_DE,
  EX_IE,
  EX_OE,
  EX_PE,
  EX_UE,
  EX_ZE,
  type F80,
  FloatStatus,
  INDEFINITE,
  Kind,
  add,
  compare,
  CMP_EQ,
  CMP_GT,
  CMP_LT,
  CMP_UN,
  div,
  f32ToExt,
  f64ToExt,
  fromBcd,
  fromInt,
  isqrt,
  kindOf,
  mul,
  prem,
  premResult,
  roundToInt,
  scale,
  sqrt,
  toBcdBytes,
  toF32,
  toF64,
  toInteger,
} from './float80.js';
import { WORKING_CONSTANTS, fcos, fpatan, fsin, fyl2x } from './float80-transcendental.js';

const v = (se: number, sig: bigint): F80 => ({ se, sig });
const hex = (x: F80 | null): string =>
  x === null ? 'null' : `${x.se.toString(16).padStart(4, '0')}:${x.sig.toString(16).padStart(16, '0')}`;
const ONE = v(0x3fff, 1n << 63n);
const THREE = v(0x4000, 0xc000000000000000n);

/** Control word with rounding control rc and precision control pc, everything masked. */
function cw(rc: number, pc: number, masks = 0x3f): number {
  return masks | 0x40 | (pc << 8) | (rc << 10);
}

function status(control: number): FloatStatus {
  const st = new FloatStatus();
  st.begin(control);
  return st;
}

describe('float80 arithmetic', () => {
  it('1/3 in every precision and rounding mode (with C1 = rounded up)', () => {
    // [pc, rc, significand, c1]
    const table: [number, number, bigint, boolean][] = [
      [3, 0, 0xaaaaaaaaaaaaaaabn, true],
      [3, 1, 0xaaaaaaaaaaaaaaaan, false],
      [3, 2, 0xaaaaaaaaaaaaaaabn, true],
      [3, 3, 0xaaaaaaaaaaaaaaaan, false],
      [2, 0, 0xaaaaaaaaaaaaa800n, false],
      [2, 1, 0xaaaaaaaaaaaaa800n, false],
      [2, 2, 0xaaaaaaaaaaaab000n, true],
      [2, 3, 0xaaaaaaaaaaaaa800n, false],
      [0, 0, 0xaaaaab0000000000n, true],
      [0, 1, 0xaaaaaa0000000000n, false],
      [0, 2, 0xaaaaab0000000000n, true],
      [0, 3, 0xaaaaaa0000000000n, false],
      // PC=01 is reserved and rounds like 64 bits.
      [1, 0, 0xaaaaaaaaaaaaaaabn, true],
    ];
    for (const [pc, rc, sig, c1] of table) {
      const st = status(cw(rc, pc));
      expect(hex(div(ONE, THREE, st)), `pc=${pc} rc=${rc}`).toBe(hex(v(0x3ffd, sig)));
      expect(st.flags).toBe(EX_PE);
      expect(st.c1).toBe(c1);
    }
  });

  it('0.1 + 0.2 is exact in extended precision and rounds to 0.30000000000000004 as a double', () => {
    const st = status(cw(0, 3));
    const a = f64ToExt(0x3fb999999999999an);
    const b = f64ToExt(0x3fc999999999999an);
    const sum = add(a, b, false, st);
    expect(st.flags).toBe(0);
    expect(sum).not.toBeNull();
    // Exact: 0x1999999999999A * 3 * 2^-56.
    const exact = 0x1999999999999an * 3n;
    const nb = exact.toString(2).length;
    expect(hex(sum)).toBe(hex(v(0x3fff + (nb - 1 - 56), exact << BigInt(64 - nb))));
    expect(toF64(sum as F80, status(cw(0, 3)))).toBe(0x3fd3333333333334n);
  });

  it('signed zeros: x - x is +0, or -0 when rounding down', () => {
    expect(hex(add(THREE, THREE, true, status(cw(0, 3))))).toBe('0000:0000000000000000');
    expect(hex(add(THREE, THREE, true, status(cw(1, 3))))).toBe('8000:0000000000000000');
    expect(hex(add(v(0x8000, 0n), v(0x8000, 0n), false, status(cw(0, 3))))).toBe('8000:0000000000000000');
  });

  it('NaN rules: QNaN beats SNaN, larger significand wins, SNaN is quieted with IE', () => {
    const q1 = v(0x7fff, 0xc000000000000001n);
    const sBig = v(0x7fff, 0xbfffffffffffffffn);
    let st = status(cw(0, 3));
    expect(hex(add(q1, sBig, false, st))).toBe(hex(q1));
    expect(st.flags).toBe(EX_IE);
    st = status(cw(0, 3));
    expect(hex(add(v(0x7fff, 0xa000000000000001n), v(0x7fff, 0x8000000000000002n), false, st))).toBe('7fff:e000000000000001');
    st = status(cw(0, 3));
    expect(hex(mul(v(0xffff, 0xc000000000000001n), v(0x7fff, 0xc000000000000001n), st))).toBe('7fff:c000000000000001');
    expect(st.flags).toBe(0);
  });

  it('invalid operations give the real indefinite, or null when IE is unmasked', () => {
    const inf = v(0x7fff, 1n << 63n);
    const st = status(cw(0, 3));
    expect(hex(add(inf, inf, true, st))).toBe(hex(INDEFINITE));
    expect(st.flags).toBe(EX_IE);
    expect(mul(inf, v(0, 0n), status(cw(0, 3, 0x3e)))).toBeNull();
    // Unsupported encodings (unnormals) are invalid.
    expect(hex(add(v(0x4000, 1n), ONE, false, status(cw(0, 3))))).toBe(hex(INDEFINITE));
  });

  it('divide by zero outranks the denormal operand exception', () => {
    const st = status(cw(0, 3));
    expect(hex(div(v(0, 1n), v(0, 0n), st))).toBe('7fff:8000000000000000');
    expect(st.flags).toBe(EX_ZE);
  });

  it('overflow: infinity or the largest value by rounding mode; unmasked: exponent wrapped by 24576', () => {
    const big = v(0x7ffe, 0xffffffffffffffffn);
    const two = v(0x4000, 1n << 63n);
    let st = status(cw(0, 3));
    expect(hex(mul(big, two, st))).toBe('7fff:8000000000000000');
    expect(st.flags).toBe(EX_OE | EX_PE);
    expect(st.c1).toBe(true);
    st = status(cw(3, 0));
    expect(hex(mul(big, two, st))).toBe('7ffe:ffffff0000000000');
    expect(st.c1).toBe(false);
    st = status(cw(0, 3, 0x37));
    expect(hex(mul(big, two, st))).toBe('1fff:ffffffffffffffff');
    expect(st.flags).toBe(EX_OE);
  });

  it('underflow: tininess after rounding; UE only when inexact unless unmasked', () => {
    // (1 - 2^-25) * 2^-16382 rounds up to 2^-16382 at 24 bits: not tiny after rounding.
    let st = status(cw(0, 0));
    expect(hex(mul(v(0x0001, 0xffffff8000000000n), v(0x3ffe, 1n << 63n), st))).toBe('0001:8000000000000000');
    expect(st.flags).toBe(EX_PE);
    // An exact denormal result: no UE while masked, UE with a wrapped result when unmasked.
    st = status(cw(0, 3));
    expect(hex(add(v(0, 1n), v(0, 0n), false, st))).toBe('0000:0000000000000001');
    expect(st.flags).toBe(EX_DE);
    st = status(cw(0, 3, 0x2f));
    expect(hex(add(v(0, 1n), v(0, 0n), false, st))).toBe('5fc2:8000000000000000');
    expect(st.flags).toBe(EX_DE | EX_UE);
  });

  it('sqrt is correctly rounded at every precision', () => {
    const two = v(0x4000, 1n << 63n);
    expect(hex(sqrt(two, status(cw(0, 3))))).toBe('3fff:b504f333f9de6484');
    expect(hex(sqrt(two, status(cw(0, 0))))).toBe('3fff:b504f30000000000');
    expect(hex(sqrt(v(0xbfff, 1n << 63n), status(cw(0, 3))))).toBe(hex(INDEFINITE));
    expect(hex(sqrt(v(0x8000, 0n), status(cw(0, 3))))).toBe('8000:0000000000000000');
    expect(isqrt(10n ** 40n)).toBe(10n ** 20n);
    expect(isqrt(10n ** 40n - 1n)).toBe(10n ** 20n - 1n);
  });

  it('FRNDINT and FSCALE ignore precision control', () => {
    const x = v(0x403e, 0xffffffffffffffffn);
    const st = status(cw(0, 0));
    expect(hex(roundToInt(x, st))).toBe(hex(x));
    expect(hex(roundToInt(v(0x4000, 0xa000000000000000n), status(cw(0, 3))))).toBe('4000:8000000000000000'); // 2.5 -> 2
    expect(hex(scale(v(0x3fff, 0xffffffffffffffffn), THREE, status(cw(0, 0))))).toBe('4002:ffffffffffffffff');
  });

  it('FPREM: complete remainders give quotient bits, large exponent gaps reduce partially', () => {
    const seven = fromInt(7n);
    const two = fromInt(2n);
    expect(hex(prem(seven, two, false, status(cw(0, 3))))).toBe(hex(ONE));
    expect(premResult.q).toBe(3);
    expect(premResult.partial).toBe(false);
    expect(hex(prem(seven, two, true, status(cw(0, 3))))).toBe('bfff:8000000000000000');
    expect(premResult.q).toBe(4);
    const huge = v(0x3fff + 64, 0xffffffffffffffffn);
    const r = prem(huge, v(0x3fff, 0xc000000000000001n), false, status(cw(0, 3)));
    expect(premResult.partial).toBe(true);
    expect(hex(r)).toBe('401d:fffffff6aaaaaaac');
  });

  it('compare: ordered and unordered, signed zeros equal', () => {
    const st = status(cw(0, 3));
    expect(compare(ONE, THREE, false, st)).toBe(CMP_LT);
    expect(compare(THREE, ONE, false, st)).toBe(CMP_GT);
    expect(compare(v(0x8000, 0n), v(0, 0n), false, st)).toBe(CMP_EQ);
    expect(st.flags).toBe(0);
    const q = v(0x7fff, 0xc000000000000000n);
    expect(compare(q, ONE, true, st)).toBe(CMP_UN);
    expect(st.flags).toBe(0);
    expect(compare(q, ONE, false, st)).toBe(CMP_UN);
    expect(st.flags).toBe(EX_IE);
  });

  it('conversions: float32/64 loads are exact, stores round by RC', () => {
    let st = status(cw(0, 3));
    expect(hex(f32ToExt(0x3f800000))).toBe(hex(ONE));
    expect(hex(f32ToExt(0x00000001))).toBe('3f6a:8000000000000000');
    expect(toF32(div(ONE, THREE, st) as F80, st)).toBe(0x3eaaaaab);
    st = status(cw(1, 3));
    expect(toF32(div(ONE, THREE, st) as F80, status(cw(1, 3)))).toBe(0x3eaaaaaa);
    // Masked overflow to a double stores infinity; denormal results raise UE|PE.
    st = status(cw(0, 3));
    expect(toF32(f64ToExt(0x7e37e43c8800759cn), st)).toBe(0x7f800000);
    expect(st.flags).toBe(EX_OE | EX_PE);
    st = status(cw(0, 3));
    expect(toF32(f64ToExt(0x37a16c262777579cn), st)).toBe(0x000116c2);
    expect(st.flags).toBe(EX_UE | EX_PE);
    // Unmasked overflow: nothing may be stored.
    expect(toF64(v(0x7ffe, 1n << 63n), status(cw(0, 3, 0x37)))).toBeNull();
    expect(kindOf(f64ToExt(0x7ff0000000000001n))).toBe(Kind.SNaN);
  });

  it('int64 limits round-trip, one past them is invalid', () => {
    const min = -(1n << 63n);
    const max = (1n << 63n) - 1n;
    for (const x of [min, max, 0n, -1n, 123456789n]) {
      expect(toInteger(fromInt(x), min, max, status(cw(0, 3)))).toBe(x);
    }
    const st = status(cw(0, 3));
    expect(toInteger(v(0x403e, 1n << 63n), min, max, st)).toBeUndefined(); // 2^63
    expect(st.flags).toBe(EX_IE);
    expect(toInteger(v(0x403e, 1n << 63n), min, max, status(cw(0, 3, 0x3e)))).toBeNull();
    const half = v(0xbffe, 1n << 63n); // -0.5
    const rd = status(cw(1, 3));
    expect(toInteger(half, min, max, rd)).toBe(-1n);
    expect(rd.c1).toBe(true);
  });

  it('packed BCD both ways, invalid digits weigh 10^i as on the CPU', () => {
    const out = new Uint8Array(10);
    toBcdBytes(123456789n, false, out);
    expect(Array.from(out)).toEqual([0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0]);
    expect(hex(fromBcd(out))).toBe(hex(fromInt(123456789n)));
    expect(hex(fromBcd([0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x7f]))).toBe(hex(fromInt(16665n)));
    expect(hex(fromBcd([0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]))).toBe('8000:0000000000000000');
  });

  it('denormal single operands count as denormal operands in arithmetic', () => {
    const st = status(cw(0, 3));
    const d = f32ToExt(1);
    expect(kindOf(d)).toBe(Kind.Normal);
    add(ONE, d, false, st, true);
    expect(st.flags & EX_DE).toBe(EX_DE);
  });
});

describe('float80 transcendentals', () => {
  it('working constants match known digits', () => {
    const { pi, ln2 } = WORKING_CONSTANTS;
    // Top 64 bits of pi (as 1.xxx * 2^1) and ln 2 (as 1.xxx * 2^-1).
    const top = (x: { m: bigint; e: number }): bigint => x.m >> BigInt(x.m.toString(2).length - 64);
    expect(top(pi).toString(16)).toBe('c90fdaa22168c234');
    expect(top(ln2).toString(16)).toBe('b17217f7d1cf79ab');
  });

  it('FSIN reduces with the 66-bit pi as Intel does', () => {
    const st = status(cw(0, 3));
    // sin of the 64-bit pi is -2^-64 on Intel (the true value is about -5.0e-20).
    expect(hex(fsin(v(0x4000, 0xc90fdaa22168c235n), st))).toBe('bfbf:8000000000000000');
    expect(st.flags).toBe(EX_PE);
    expect(hex(fsin(v(0x3ffe, 1n << 63n), status(cw(0, 3))))).toBe('3ffd:f57743a2582f7f44');
    expect(hex(fcos(v(0x8000, 0n), status(cw(0, 3))))).toBe(hex(ONE));
    expect(hex(fsin(v(0x7fff, 1n << 63n), status(cw(0, 3))))).toBe(hex(INDEFINITE));
  });

  it('FPATAN special cases are correctly rounded multiples of pi', () => {
    expect(hex(fpatan(ONE, ONE, status(cw(0, 3))))).toBe('3ffe:c90fdaa22168c235');
    expect(hex(fpatan(v(0, 0n), v(0x8000, 0n), status(cw(0, 3))))).toBe('4000:c90fdaa22168c235');
    const inf = v(0x7fff, 1n << 63n);
    expect(hex(fpatan(inf, v(0xffff, 1n << 63n), status(cw(0, 3))))).toBe('4000:96cbe3f9990e91a8');
  });

  it('FYL2X: log2(10) and the divide-by-zero case', () => {
    expect(hex(fyl2x(fromInt(10n), ONE, status(cw(0, 3))))).toBe('4000:d49a784bcd1b8afe');
    const st = status(cw(0, 3));
    expect(hex(fyl2x(v(0, 0n), THREE, st))).toBe('ffff:8000000000000000');
    expect(st.flags).toBe(EX_ZE);
  });
});
