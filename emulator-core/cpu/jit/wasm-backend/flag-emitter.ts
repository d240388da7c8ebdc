/**
 * The lazy-flag ALU of compiled regions, for both compilers: results and flags of the ALU
 * group, INC/DEC, TEST and of operations that set CF/OF/AF themselves, and conditions, over
 * operand locals of the region's width (i32 in 16/32-bit regions, i64 in 64-bit regions).
 * The lazy state it keeps in the region's locals is the interpreter's (Cpu.add/sub/logic/
 * inc/dec/adc/sbb/setResultFlags, cpu.ts) with `lfShift` = width - operand bits; flags-lib.ts
 * evaluates it with the same width.
 */
import { ARITH_FLAGS, CF, OF, PF, SF, ZF } from '../../constants.js';
import { K_ADC, K_ADD, K_LOGIC, K_SBB, K_SUB } from '../../cpu.js';
import type { CodeBuilder } from '../wasm/code-builder.js';
import { WIDTH_OPS, type FlagsLib, type FlagsWidth } from './flags-lib.js';

/** What produced the lazy flags earlier in this block (conditions then test the locals directly). */
export type FlagSrc = 'sub' | 'logic' | null;

/** The region's flag locals: FL, LM, LK i32; LA, LB, LR, LS of the width. */
export interface FlagLocals {
  FL: number;
  LM: number;
  LK: number;
  LA: number;
  LB: number;
  LR: number;
  LS: number;
}

export class FlagEmitter {
  flagSrc: FlagSrc = null;
  private readonly o;

  constructor(
    private readonly f: CodeBuilder,
    private readonly lib: FlagsLib,
    readonly width: FlagsWidth,
    private readonly l: FlagLocals,
    /** Scratch locals: an i32 and one of the width. */
    private readonly tmp32: number,
    private readonly tmpW: number,
  ) {
    this.o = WIDTH_OPS[width];
  }

  /** Push the lazy state's five locals (kind, a, b, res, sh). */
  private lazyArgs(): void {
    const l = this.l;
    for (const x of [l.LK, l.LA, l.LB, l.LR, l.LS]) this.f.localGet(x);
  }

  /** Push the flags, the lazy ones evaluated (i32 EFLAGS). */
  eflags(): void {
    this.f.localGet(this.l.FL);
    this.f.localGet(this.l.LM);
    this.lazyArgs();
    this.f.call(this.lib.eflags);
  }

  /** FL = the flags, the lazy ones evaluated (LM = 0). */
  materialize(): void {
    this.eflags();
    this.f.localSet(this.l.FL);
    this.f.i32Const(0);
    this.f.localSet(this.l.LM);
  }

  setLazy(kind: number, a: number | null, b: number | null, res: number, bits: number, mask: number): void {
    const f = this.f;
    const o = this.o;
    const l = this.l;
    if (a === null) o.konst(f, 0);
    else f.localGet(a);
    f.localSet(l.LA);
    if (b === null) o.konst(f, 0);
    else f.localGet(b);
    f.localSet(l.LB);
    f.localGet(res);
    f.localSet(l.LR);
    f.i32Const(kind);
    f.localSet(l.LK);
    o.konst(f, this.width - bits);
    f.localSet(l.LS);
    f.i32Const(mask);
    f.localSet(l.LM);
  }

  /** Push CF (0/1, i32) of the current flag state (Cpu.getCF). */
  getCF(): void {
    const f = this.f;
    this.lazyArgs();
    f.call(this.lib.lazyCF);
    f.localGet(this.l.FL);
    f.i32Const(CF);
    f.i32And();
    f.localGet(this.l.LM);
    f.i32Const(CF);
    f.i32And();
    f.select();
  }

  /** ADC (g 2) / SBB (g 3): res = a +/- b +/- CF, lfKind K_ADC/K_SBB when CF was set (Cpu.adc/sbb). */
  private carryOp(g: number, bits: number, a: number, b: number, res: number): void {
    const f = this.f;
    const o = this.o;
    const l = this.l;
    const c = this.tmp32;
    this.getCF();
    f.localSet(c);
    f.localGet(a);
    f.localGet(b);
    if (g === 2) o.add(f);
    else o.sub(f);
    f.localGet(c);
    o.fromI32(f);
    if (g === 2) o.add(f);
    else o.sub(f);
    f.localSet(res);
    f.localGet(a);
    f.localSet(l.LA);
    f.localGet(b);
    f.localSet(l.LB);
    f.localGet(res);
    f.localSet(l.LR);
    f.i32Const(g === 2 ? K_ADC : K_SBB);
    f.i32Const(g === 2 ? K_ADD : K_SUB);
    f.localGet(c);
    f.select();
    f.localSet(l.LK);
    o.konst(f, this.width - bits);
    f.localSet(l.LS);
    f.i32Const(ARITH_FLAGS);
    f.localSet(l.LM);
    this.flagSrc = null;
  }

  /** res = a op b for ALU group g (ADD OR ADC SBB AND SUB XOR CMP), lazy flags as the interpreter sets them. */
  alu(g: number, bits: number, a: number, b: number, res: number): void {
    const f = this.f;
    const o = this.o;
    if (g === 2 || g === 3) {
      this.carryOp(g, bits, a, b, res);
      return;
    }
    f.localGet(a);
    f.localGet(b);
    switch (g) {
      case 0:
        o.add(f);
        break;
      case 1:
        o.or(f);
        break;
      case 4:
        o.and(f);
        break;
      case 6:
        o.xor(f);
        break;
      default:
        o.sub(f);
    }
    f.localSet(res);
    if (g === 0) {
      this.setLazy(K_ADD, a, b, res, bits, ARITH_FLAGS);
      this.flagSrc = null;
    } else if (g === 5 || g === 7) {
      this.setLazy(K_SUB, a, b, res, bits, ARITH_FLAGS);
      this.flagSrc = 'sub';
    } else {
      this.setLazy(K_LOGIC, null, null, res, bits, ARITH_FLAGS);
      this.flagSrc = 'logic';
    }
  }

  /** INC/DEC of local a into res: CF materialized and kept, the rest lazy. */
  incDec(bits: number, inc: boolean, a: number, res: number): void {
    const f = this.f;
    const o = this.o;
    const l = this.l;
    f.localGet(l.LM);
    f.i32Const(CF);
    f.i32And();
    f.if();
    f.localGet(l.FL);
    f.i32Const(~CF);
    f.i32And();
    this.lazyArgs();
    f.call(this.lib.lazyCF);
    f.i32Or();
    f.localSet(l.FL);
    f.end();
    f.localGet(a);
    o.konst(f, 1);
    if (inc) o.add(f);
    else o.sub(f);
    f.localSet(res);
    const one = this.tmpW;
    o.konst(f, 1);
    f.localSet(one);
    this.setLazy(inc ? K_ADD : K_SUB, a, one, res, bits, ARITH_FLAGS & ~CF);
    this.flagSrc = null;
  }

  /** TEST: flags from a & b into res, nothing else stored. */
  test(bits: number, a: number, b: number, res: number): void {
    this.f.localGet(a);
    this.f.localGet(b);
    this.o.and(this.f);
    this.f.localSet(res);
    this.setLazy(K_LOGIC, null, null, res, bits, ARITH_FLAGS);
    this.flagSrc = 'logic';
  }

  /**
   * Cpu.setResultFlags(res, sh, cfOfAf): CF, OF and AF given (an i32 pushed by `cfOfAf`),
   * ZF, SF and PF lazy from the result.
   */
  resultFlags(res: number, bits: number, cfOfAf: () => void): void {
    const f = this.f;
    const l = this.l;
    f.localGet(l.FL);
    f.i32Const(~ARITH_FLAGS);
    f.i32And();
    cfOfAf();
    f.i32Or();
    f.localSet(l.FL);
    f.localGet(res);
    f.localSet(l.LR);
    this.o.konst(f, this.width - bits);
    f.localSet(l.LS);
    f.i32Const(K_LOGIC);
    f.localSet(l.LK);
    f.i32Const(ZF | SF | PF);
    f.localSet(l.LM);
    this.flagSrc = null;
  }

  /** Push condition cc (0-15) as i32 0/1. */
  cond(cc: number): void {
    const f = this.f;
    const o = this.o;
    const l = this.l;
    const neg = (cc & 1) !== 0;
    const base = cc & ~1;
    const shifted = (x: number): void => {
      f.localGet(x);
      f.localGet(l.LS);
      o.shl(f);
    };
    if (this.flagSrc === 'sub' && base !== 0 && base !== 10) {
      // Operands compared directly, as Cpu.cond's CMP fast path.
      switch (base) {
        case 2:
          shifted(l.LA);
          shifted(l.LB);
          o.ltU(f);
          break;
        case 4:
          shifted(l.LR);
          o.eqz(f);
          break;
        case 6:
          shifted(l.LA);
          shifted(l.LB);
          o.leU(f);
          break;
        case 8:
          shifted(l.LR);
          o.konst(f, 0);
          o.ltS(f);
          break;
        case 12:
          shifted(l.LA);
          shifted(l.LB);
          o.ltS(f);
          break;
        default:
          shifted(l.LA);
          shifted(l.LB);
          o.leS(f);
      }
    } else if (this.flagSrc === 'logic' && base !== 10) {
      switch (base) {
        case 0:
        case 2:
          f.i32Const(0);
          break;
        case 4:
        case 6:
          shifted(l.LR);
          o.eqz(f);
          break;
        case 8:
        case 12:
          shifted(l.LR);
          o.konst(f, 0);
          o.ltS(f);
          break;
        default:
          shifted(l.LR);
          o.konst(f, 0);
          o.leS(f);
      }
    } else {
      const t = this.tmp32;
      this.eflags();
      f.localSet(t);
      const bit = (mask: number): void => {
        f.localGet(t);
        f.i32Const(mask);
        f.i32And();
        f.i32Const(0);
        f.i32Ne();
      };
      const sfNeOf = (): void => {
        f.localGet(t);
        f.i32Const(7);
        f.i32ShrU();
        f.localGet(t);
        f.i32Const(11);
        f.i32ShrU();
        f.i32Xor();
        f.i32Const(1);
        f.i32And();
      };
      switch (base) {
        case 0:
          bit(OF);
          break;
        case 2:
          bit(CF);
          break;
        case 4:
          bit(ZF);
          break;
        case 6:
          bit(CF | ZF);
          break;
        case 8:
          bit(SF);
          break;
        case 10:
          bit(PF);
          break;
        case 12:
          sfNeOf();
          break;
        default:
          bit(ZF);
          sfNeOf();
          f.i32Or();
      }
    }
    if (neg) f.i32Eqz();
  }
}
