/**
 * Lazy-flag evaluation as wasm functions inside each region module: the same semantics as
 * Cpu.lazyCF / lazyOF / getEflags (cpu.ts), over the lazy state a region keeps in locals
 * (flags, lazyMask, lfKind, lfA, lfB, lfRes, lfShift), at 32 bits (the interpreter's state) or
 * 64 bits (64-bit regions).
 */
import { AF, CF, OF, PF, SF, ZF } from '../../constants.js';
import { K_ADC, K_ADD, K_LOGIC, K_SBB, K_SUB } from '../../cpu.js';
import type { CodeBuilder } from '../wasm/code-builder.js';
import type { ModuleBuilder } from '../wasm/module-builder.js';
import { BlockType, ValType } from '../wasm/opcodes.js';

export interface FlagsLib {
  /** (kind, a, b, res, sh) -> CF as 0/1. */
  lazyCF: number;
  /** (flags, lazyMask, kind, a, b, res, sh) -> EFLAGS, the lazy bits materialized. */
  eflags: number;
}

const I = ValType.I32;

/**
 * The operand width the functions work on: 32 (the interpreter's lazy state: a, b, res
 * and sh int32) or 64 (64-bit regions: a, b, res and sh i64; sh = 64 - operand bits, so
 * `x << sh` puts the operand's sign at bit 63).
 */
export type FlagsWidth = 32 | 64;

/** The opcodes of one operand width, for code written once for both. */
export interface WidthOps {
  t: ValType;
  /** A constant of the width. */
  konst(f: CodeBuilder, v: number): void;
  add(f: CodeBuilder): void;
  sub(f: CodeBuilder): void;
  or(f: CodeBuilder): void;
  shl(f: CodeBuilder): void;
  ltU(f: CodeBuilder): void;
  leU(f: CodeBuilder): void;
  ltS(f: CodeBuilder): void;
  leS(f: CodeBuilder): void;
  xor(f: CodeBuilder): void;
  and(f: CodeBuilder): void;
  eqz(f: CodeBuilder): void;
  /** An i32 (zero-extended) as the width. */
  fromI32(f: CodeBuilder): void;
  /** The value's low 32 bits as i32. */
  low(f: CodeBuilder): void;
  /** The sign bit of the value as i32 0/1. */
  sign(f: CodeBuilder): void;
}

export const WIDTH_OPS: Record<FlagsWidth, WidthOps> = {
  32: {
    t: ValType.I32,
    konst: (f, v) => f.i32Const(v),
    add: (f) => f.i32Add(),
    sub: (f) => f.i32Sub(),
    or: (f) => f.i32Or(),
    ltS: (f) => f.i32LtS(),
    leS: (f) => f.i32LeS(),
    fromI32: () => undefined,
    shl: (f) => f.i32Shl(),
    ltU: (f) => f.i32LtU(),
    leU: (f) => f.i32LeU(),
    xor: (f) => f.i32Xor(),
    and: (f) => f.i32And(),
    eqz: (f) => f.i32Eqz(),
    low: () => undefined,
    sign: (f) => (f.i32Const(31), f.i32ShrU()),
  },
  64: {
    t: ValType.I64,
    konst: (f, v) => f.i64Const(v),
    add: (f) => f.i64Add(),
    sub: (f) => f.i64Sub(),
    or: (f) => f.i64Or(),
    ltS: (f) => f.i64LtS(),
    leS: (f) => f.i64LeS(),
    fromI32: (f) => f.i64ExtendI32U(),
    shl: (f) => f.i64Shl(),
    ltU: (f) => f.i64LtU(),
    leU: (f) => f.i64LeU(),
    xor: (f) => f.i64Xor(),
    and: (f) => f.i64And(),
    eqz: (f) => f.i64Eqz(),
    low: (f) => f.i32WrapI64(),
    sign: (f) => (f.i64Const(63), f.i64ShrU(), f.i32WrapI64()),
  },
};

/** The value on the stack (i32), or 0 when local `kind` is K_LOGIC (logic results clear AF and OF). */
function zeroIfLogic(f: CodeBuilder, kind: number): void {
  f.i32Const(0);
  f.localGet(kind);
  f.i32Const(K_LOGIC);
  f.i32Ne();
  f.select();
}

/** Define the library's functions for `width` in `mb` (after every function import). */
export function defineFlagsLib(mb: ModuleBuilder, width: FlagsWidth = 32): FlagsLib {
  const o = WIDTH_OPS[width];
  const W = o.t;
  const cfType = mb.type([I, W, W, W, W], [I]);
  const efType = mb.type([I, I, I, W, W, W, W], [I]);
  /** `x << sh` of two locals onto the stack. */
  const shl = (f: CodeBuilder, x: number, sh: number): void => {
    f.localGet(x);
    f.localGet(sh);
    o.shl(f);
  };

  // lazyCF(kind, a, b, res, sh)
  const cf = mb.func(cfType);
  {
    const [kind, a, b, res, sh] = [0, 1, 2, 3, 4];
    const cases: [number, () => void][] = [
      [K_ADD, () => (shl(cf, res, sh), shl(cf, a, sh), o.ltU(cf))],
      [K_ADC, () => (shl(cf, res, sh), shl(cf, a, sh), o.leU(cf))],
      [K_SUB, () => (shl(cf, a, sh), shl(cf, b, sh), o.ltU(cf))],
      [K_SBB, () => (shl(cf, a, sh), shl(cf, b, sh), o.leU(cf))],
    ];
    for (const [k, body] of cases) {
      cf.localGet(kind);
      cf.i32Const(k);
      cf.i32Eq();
      cf.if(BlockType.I32);
      body();
      cf.else();
    }
    cf.i32Const(0);
    for (let i = 0; i < cases.length; i++) cf.end();
  }

  // eflags(flags, mask, kind, a, b, res, sh)
  const ef = mb.func(efType);
  {
    const [flags, mask, kind, a, b, res, sh] = [0, 1, 2, 3, 4, 5, 6];
    const f = ef;
    // flags & ~mask
    f.localGet(flags);
    f.localGet(mask);
    f.i32Const(-1);
    f.i32Xor();
    f.i32And();
    // CF
    f.localGet(kind);
    f.localGet(a);
    f.localGet(b);
    f.localGet(res);
    f.localGet(sh);
    f.call(cf.index);
    if (CF !== 1) throw new Error('CF is bit 0');
    // PF: even parity of the low byte
    f.localGet(res);
    o.low(f);
    f.i32Const(0xff);
    f.i32And();
    f.i32Popcnt();
    f.i32Const(1);
    f.i32And();
    f.i32Const(1);
    f.i32Xor();
    f.i32Const(Math.log2(PF));
    f.i32Shl();
    f.i32Or();
    // AF: ((a ^ b ^ res) & AF): AF is bit 4, the carry out of bit 3; not for logic results
    f.localGet(a);
    f.localGet(b);
    o.xor(f);
    f.localGet(res);
    o.xor(f);
    o.low(f);
    f.i32Const(AF);
    f.i32And();
    zeroIfLogic(f, kind);
    f.i32Or();
    // ZF, SF
    shl(f, res, sh);
    o.eqz(f);
    f.i32Const(Math.log2(ZF));
    f.i32Shl();
    f.i32Or();
    shl(f, res, sh);
    o.sign(f);
    f.i32Const(Math.log2(SF));
    f.i32Shl();
    f.i32Or();
    // OF: add kinds ((a ^ r) & (b ^ r)), sub kinds ((a ^ b) & (a ^ r)), logic 0; its sign bit
    f.localGet(kind);
    f.i32Const(K_SUB);
    f.i32LtU();
    f.if(BlockType.I32);
    f.localGet(a);
    f.localGet(res);
    o.xor(f);
    f.localGet(b);
    f.localGet(res);
    o.xor(f);
    o.and(f);
    f.localGet(sh);
    o.shl(f);
    o.sign(f);
    f.else();
    f.localGet(a);
    f.localGet(b);
    o.xor(f);
    f.localGet(a);
    f.localGet(res);
    o.xor(f);
    o.and(f);
    f.localGet(sh);
    o.shl(f);
    o.sign(f);
    zeroIfLogic(f, kind);
    f.end();
    f.i32Const(Math.log2(OF));
    f.i32Shl();
    f.i32Or();
    // ... & mask, merged
    f.localGet(mask);
    f.i32And();
    f.i32Or();
  }
  return { lazyCF: cf.index, eflags: ef.index };
}
