/**
 * Lazy-flag evaluation as wasm functions inside each region module: the same semantics as
 * Cpu.lazyCF / lazyOF / getEflags (cpu.ts), over the lazy state a region keeps in locals
 * (flags, lazyMask, lfKind, lfA, lfB, lfRes, lfShift).
 */
import { AF, CF, OF, PF, SF, ZF } from '../../constants.js';
import { K_ADC, K_ADD, K_LOGIC, K_SBB, K_SUB } from '../../cpu.js';
import type { CodeBuilder } from '../wasm/code-builder.js';
import type { ModuleBuilder } from '../wasm/module-builder.js';
import { BlockType, ValType } from '../wasm/opcodes.js';

export interface FlagsLib {
  /** (kind, a, b, res, sh) -> CF as 0/1. */
  lazyCF: number;
  /** (flags, lazyMask, kind, a, b, res, sh) -> EFLAGS arithmetic bits, materialized. */
  eflags: number;
}

const I = ValType.I32;

/** `x << sh` of two locals onto the stack. */
/** The value on the stack, or 0 when local `kind` is K_LOGIC (logic results clear AF and OF). */
function zeroIfLogic(f: CodeBuilder, kind: number): void {
  f.i32Const(0);
  f.localGet(kind);
  f.i32Const(K_LOGIC);
  f.i32Ne();
  f.select();
}

function shl(f: CodeBuilder, x: number, sh: number): void {
  f.localGet(x);
  f.localGet(sh);
  f.i32Shl();
}

/** Define the library's functions in `mb` (after every function import). */
export function defineFlagsLib(mb: ModuleBuilder): FlagsLib {
  const cfType = mb.type([I, I, I, I, I], [I]);
  const efType = mb.type([I, I, I, I, I, I, I], [I]);

  // lazyCF(kind, a, b, res, sh)
  const cf = mb.func(cfType);
  {
    const [kind, a, b, res, sh] = [0, 1, 2, 3, 4];
    const cases: [number, () => void][] = [
      [K_ADD, () => (shl(cf, res, sh), shl(cf, a, sh), cf.i32LtU())],
      [K_ADC, () => (shl(cf, res, sh), shl(cf, a, sh), cf.i32LeU())],
      [K_SUB, () => (shl(cf, a, sh), shl(cf, b, sh), cf.i32LtU())],
      [K_SBB, () => (shl(cf, a, sh), shl(cf, b, sh), cf.i32LeU())],
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
    f.i32Xor();
    f.localGet(res);
    f.i32Xor();
    f.i32Const(AF);
    f.i32And();
    zeroIfLogic(f, kind);
    f.i32Or();
    // ZF, SF
    shl(f, res, sh);
    f.i32Eqz();
    f.i32Const(Math.log2(ZF));
    f.i32Shl();
    f.i32Or();
    shl(f, res, sh);
    f.i32Const(31);
    f.i32ShrU();
    f.i32Const(Math.log2(SF));
    f.i32Shl();
    f.i32Or();
    // OF: add kinds ((a ^ r) & (b ^ r)), sub kinds ((a ^ b) & (a ^ r)), logic 0
    f.localGet(kind);
    f.i32Const(K_SUB);
    f.i32LtU();
    f.if(BlockType.I32);
    f.localGet(a);
    f.localGet(res);
    f.i32Xor();
    f.localGet(b);
    f.localGet(res);
    f.i32Xor();
    f.i32And();
    f.else();
    f.localGet(a);
    f.localGet(b);
    f.i32Xor();
    f.localGet(a);
    f.localGet(res);
    f.i32Xor();
    f.i32And();
    zeroIfLogic(f, kind);
    f.end();
    f.localGet(sh);
    f.i32Shl();
    f.i32Const(31);
    f.i32ShrU();
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
