/**
 * A 64-bit region to one wasm function (the frame: region-frame.ts). The sixteen registers
 * are i64 locals. Flags are lazy as in 32-bit code, but over i64 operands: lfA/lfB/lfRes
 * are i64 and lfShift = 64 - operand bits, so `x << lfShift` puts any width's sign at bit
 * 63 (flags-lib.ts at width 64). The interpreter's lazy state is 32-bit, so flags cross the
 * region boundary materialized: the prologue evaluates the interpreter's lazy state into
 * FLAGS, and every store of the state (exits, helper calls) evaluates the region's.
 *
 * Memory operands are 64-bit linear addresses (base + index << scale + disp, RIP-relative,
 * FS/GS bases; 0x67 truncates to 32 bits). `xlate` (tlb-lookup.ts), a function of the
 * module, finds the backing address through the CPU's 32-bit TLB below 4 GiB or the
 * long-mode TLB above it (both in the state block), or -1: then the helpers of helpers64.ts do the access, with
 * everything spilled so a fault is precise. Instructions without native code run the
 * 64-bit interpreter's step64 through a helper.
 */
import { CF, OF } from '../../constants.js';
import type { DecodedInsn } from '../../decoder/decoded-insn.js';
import { CPU_STATE } from '../../state-layout.js';
import type { Region, RegionBlock } from '../backend.js';
import { BlockType, ValType } from '../wasm/opcodes.js';
import { classify64, How } from './classify.js';
import { FlagEmitter } from './flag-emitter.js';
import { defineFlagsLib, type FlagsLib } from './flags-lib.js';
import { importHelpers64, type Helper64Name } from './helpers64.js';
import { RegionFrame } from './region-frame.js';
import { defineTlbEntry, defineXlate } from './tlb-lookup.js';

const I = ValType.I32;
const L = ValType.I64;
const FS = 4;
const GS = 5;


/** hi:lo + n, modulo 2^64, as [lo, hi] int32 halves. */
function add64(lo: number, hi: number, n: number): [number, number] {
  const v = ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)) + BigInt(n);
  return [Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n))];
}

export class RegionCompiler64 extends RegionFrame {
  private h!: Record<Helper64Name, number>;
  private lib32!: FlagsLib;
  private lib64!: FlagsLib;
  /** xlate(lo, hi, mask, lastOffset) -> backing address or -1. */
  private xlate = 0;

  private FL = 0;
  private LM = 0;
  private LK = 0;
  private LA = 0;
  private LB = 0;
  private LR = 0;
  private LS = 0;
  private RM = 0;
  private WM = 0;
  /** i64 temporaries. */
  private T: number[] = [];
  /** The memory operand's linear address (i64). */
  private A = 0;
  /** Backing address of the memory operand, or -1 (i32). */
  private P = 0;
  /** i32 temporaries. */
  private X: number[] = [];

  private fl!: FlagEmitter;

  compile(region: Region): Uint8Array<ArrayBuffer> {
    return this.twoPass(() => this.emitRegion(region));
  }

  private emitRegion(region: Region): Uint8Array<ArrayBuffer> {
    this.beginModule(region);
    this.h = importHelpers64(this.mb);
    this.lib32 = defineFlagsLib(this.mb, 32);
    this.lib64 = defineFlagsLib(this.mb, 64);
    this.xlate = defineXlate(this.mb, defineTlbEntry(this.mb, this.stateBase));
    const f = this.beginFunction(region, true);
    this.R = Array.from({ length: 16 }, () => f.addLocal(L));
    [this.FL, this.LM, this.LK] = [f.addLocal(I), f.addLocal(I), f.addLocal(I)];
    [this.LA, this.LB, this.LR, this.LS] = [f.addLocal(L), f.addLocal(L), f.addLocal(L), f.addLocal(L)];
    [this.RM, this.WM] = [f.addLocal(I), f.addLocal(I)];
    this.T = Array.from({ length: 6 }, () => f.addLocal(L));
    this.A = f.addLocal(L);
    this.P = f.addLocal(I);
    this.X = Array.from({ length: 3 }, () => f.addLocal(I));
    const { FL, LM, LK, LA, LB, LR, LS } = this;
    this.fl = new FlagEmitter(f, this.lib64, 64, { FL, LM, LK, LA, LB, LR, LS }, this.X[2], this.T[5]);
    return this.emitFunction(region);
  }

  // ------------------------------------------------------------ state block

  /** The i64 at state offsets lo (low half) and hi (high half). */
  private loadPair(lo: number, hi: number): void {
    const f = this.f;
    f.i32Const(0);
    f.i64Load32U(this.stateBase + lo);
    f.i32Const(0);
    f.i64Load32U(this.stateBase + hi);
    f.i64Const(32);
    f.i64Shl();
    f.i64Or();
  }

  private loadAll(): void {
    const f = this.f;
    for (let i = 0; i < 16; i++) {
      if (!this.regUsed(i)) continue;
      this.loadPair(CPU_STATE.R32 + 4 * i, CPU_STATE.RH + 4 * i);
      f.localSet(this.R[i]);
    }
    // The interpreter's (32-bit) lazy flags, evaluated.
    for (const off of [CPU_STATE.FLAGS, CPU_STATE.LAZY_MASK, CPU_STATE.LF_KIND, CPU_STATE.LF_A, CPU_STATE.LF_B, CPU_STATE.LF_RES, CPU_STATE.LF_SHIFT]) this.stateLoad(off);
    f.call(this.lib32.eflags);
    f.localSet(this.FL);
    f.i32Const(0);
    f.localSet(this.LM);
  }

  protected prologue(): void {
    this.loadAll();
    this.stateLoad(CPU_STATE.READ_MASK);
    this.f.localSet(this.RM);
    this.stateLoad(CPU_STATE.WRITE_MASK);
    this.f.localSet(this.WM);
  }

  protected storeAll(): void {
    const f = this.f;
    for (let i = 0; i < 16; i++) {
      if (!this.regWritten(i)) continue;
      f.i32Const(0);
      f.localGet(this.R[i]);
      f.i64Store32(this.stateBase + CPU_STATE.R32 + 4 * i);
      f.i32Const(0);
      f.localGet(this.R[i]);
      f.i64Const(32);
      f.i64ShrU();
      f.i64Store32(this.stateBase + CPU_STATE.RH + 4 * i);
    }
    this.fl.materialize();
    this.stateStore(CPU_STATE.FLAGS, this.FL);
    this.stateStore(CPU_STATE.LAZY_MASK, this.LM);
  }

  /** Everything a helper may need to see, with the instruction's start for a fault. */
  private spill(d: DecodedInsn): void {
    const f = this.f;
    this.storeAll();
    f.i32Const(0);
    f.i32Const(d.lin);
    f.i32Store(this.stateBase + CPU_STATE.INSTR_START);
    f.i32Const(0);
    f.i32Const(this.regionHi);
    f.i32Store(this.stateBase + CPU_STATE.INSTR_START_HI);
  }

  // ------------------------------------------------------------ blocks

  protected emitBlock(b: RegionBlock): void {
    this.fl.flagSrc = null;
    let count = 0;
    for (const d of b.insns) {
      count++;
      const how = classify64(d);
      if (how === How.Step || how === How.StepEnd) {
        this.fl.flagSrc = null;
        this.step(d, count, how === How.StepEnd);
        if (how === How.StepEnd) return;
        continue;
      }
      const stored = this.native(d, count);
      if (how === How.NativeEnd) return;
      const [nextLo, nextHi] = add64(d.lin, this.regionHi, d.len);
      if (stored) this.smcCheck(nextLo, count, nextHi);
    }
    const [lo, hi] = this.after(b.insns[b.insns.length - 1], 0);
    this.exitStatic(lo, count, hi);
  }

  /** RIP after d plus `disp`, as [lo, hi]. */
  private after(d: DecodedInsn, disp: number): [number, number] {
    return add64(d.lin, this.regionHi, d.len + disp);
  }

  /** step64() for d: leave afterwards if it ends the block or wrote over compiled code. */
  private step(d: DecodedInsn, count: number, end: boolean): void {
    const f = this.f;
    this.spill(d);
    f.i32Const(0);
    f.i32Const(d.lin);
    f.i32Store(this.stateBase + CPU_STATE.IP);
    f.i32Const(0);
    f.i32Const(this.regionHi);
    f.i32Store(this.stateBase + CPU_STATE.RIP_HI);
    f.call(this.h.step);
    this.loadAll();
    const ip = (): void => this.stateLoad(CPU_STATE.IP);
    const ipHi = (): void => this.stateLoad(CPU_STATE.RIP_HI);
    if (end) this.leave(count, ip, ipHi);
    else this.leaveIfSmc(count, ip, ipHi);
  }

  // ------------------------------------------------------------ operands

  /** An 8-bit register number names AH..BH (no REX prefix). */
  private static highByte(d: DecodedInsn, n: number): boolean {
    return d.rex === 0 && n >= 4 && n < 8;
  }

  /** Push register n of `bits` (zero-extended to i64). */
  private getReg(d: DecodedInsn, bits: number, n: number): void {
    const f = this.f;
    if (bits === 8 && RegionCompiler64.highByte(d, n)) {
      this.rget(n - 4);
      f.i64Const(8);
      f.i64ShrU();
      f.i64Const(0xff);
      f.i64And();
      return;
    }
    this.rget(n);
    if (bits === 64) return;
    f.i64Const(bits === 32 ? -1 : (1 << bits) - 1, 0);
    f.i64And();
  }

  /** Set register n (`bits` wide; 32-bit writes zero the high half) from i64 local `v`. */
  private setReg(d: DecodedInsn, bits: number, n: number, v: number): void {
    const f = this.f;
    if (bits === 64) {
      f.localGet(v);
      this.rset(n);
      return;
    }
    if (bits === 32) {
      f.localGet(v);
      f.i64Const(-1, 0);
      f.i64And();
      this.rset(n);
      return;
    }
    const high = bits === 8 && RegionCompiler64.highByte(d, n);
    const r = high ? n - 4 : n;
    const mask = bits === 16 ? 0xffff : high ? 0xff00 : 0xff;
    this.rget(r);
    f.i64Const(~mask);
    f.i64And();
    f.localGet(v);
    if (high) {
      f.i64Const(8);
      f.i64Shl();
    }
    f.i64Const(mask);
    f.i64And();
    f.i64Or();
    this.rset(r);
  }

  /** The offset of d's memory operand (no segment base) onto the stack, i64. */
  private offset(d: DecodedInsn): void {
    const f = this.f;
    if (d.ripRel) {
      const [lo, hi] = this.after(d, d.disp);
      f.i64Const(lo, hi);
    } else {
      let parts = 0;
      if (d.base >= 0) {
        this.rget(d.base);
        parts++;
      }
      if (d.index >= 0) {
        this.rget(d.index);
        if (d.scale !== 0) {
          f.i64Const(d.scale);
          f.i64Shl();
        }
        if (parts++ > 0) f.i64Add();
      }
      if (d.disp !== 0 || parts === 0) {
        f.i64Const(d.disp | 0);
        if (parts > 0) f.i64Add();
      }
    }
    if (d.addrSize === 4) {
      f.i64Const(-1, 0);
      f.i64And();
    }
  }

  /** A = the linear address of d's memory operand. */
  private ea(d: DecodedInsn): void {
    const f = this.f;
    this.offset(d);
    if (d.seg === FS || d.seg === GS) {
      this.loadPair(CPU_STATE.SEG_BASE + 4 * d.seg, d.seg === FS ? CPU_STATE.FS_HI : CPU_STATE.GS_HI);
      f.i64Add();
    }
    f.localSet(this.A);
  }

  /** RSP/RBP-based references fault with #SS instead of #GP (long/decode.ts). */
  private static stackRef(d: DecodedInsn): number {
    return d.defSeg === 2 && d.seg < 0 ? 1 : 0;
  }

  /** A's halves onto the stack (lo, hi). */
  private addrHalves(): void {
    const f = this.f;
    f.localGet(this.A);
    f.i32WrapI64();
    f.localGet(this.A);
    f.i64Const(32);
    f.i64ShrU();
    f.i32WrapI64();
  }

  /** P = backing address of A for a `bits` access with mask local `mask`; pushes whether it is direct. */
  private translate(mask: number, bits: number): void {
    const f = this.f;
    this.addrHalves();
    f.localGet(mask);
    f.i32Const(0x1000 - bits / 8);
    f.call(this.xlate);
    f.localTee(this.P);
    f.i32Const(-1);
    f.i32Ne();
  }

  private memLoad(bits: number): void {
    const f = this.f;
    if (bits === 64) f.i64Load(0, 0);
    else if (bits === 32) f.i64Load32U(0, 0);
    else if (bits === 16) f.i64Load16U(0, 0);
    else f.i64Load8U(0);
  }

  private memStore(bits: number): void {
    const f = this.f;
    if (bits === 64) f.i64Store(0, 0);
    else if (bits === 32) f.i64Store32(0, 0);
    else if (bits === 16) f.i64Store16(0, 0);
    else f.i64Store8(0);
  }

  /** Through the read helper: the value at A into the stack (i64). */
  private slowRead(bits: number, stack: number): void {
    const f = this.f;
    this.addrHalves();
    f.i32Const(bits / 8);
    f.i32Const(stack);
    f.call(this.h.read);
    f.i64ExtendI32U();
    if (bits === 64) {
      f.i32Const(0);
      f.i64Load32U(this.stateBase + CPU_STATE.VALUE_HI);
      f.i64Const(32);
      f.i64Shl();
      f.i64Or();
    }
  }

  private slowWrite(bits: number, v: number, stack: number): void {
    const f = this.f;
    this.addrHalves();
    f.i32Const(bits / 8);
    f.localGet(v);
    f.i32WrapI64();
    f.localGet(v);
    f.i64Const(32);
    f.i64ShrU();
    f.i32WrapI64();
    f.i32Const(stack);
    f.call(this.h.write);
  }

  /** Load `bits` from A into i64 local v. */
  private load(d: DecodedInsn, bits: number, v: number, stack = RegionCompiler64.stackRef(d)): void {
    const f = this.f;
    this.translate(this.RM, bits);
    f.if();
    f.localGet(this.P);
    this.memLoad(bits);
    f.localSet(v);
    f.else();
    this.spill(d);
    this.slowRead(bits, stack);
    f.localSet(v);
    f.end();
  }

  /** Store i64 local v (`bits` of it) at A. */
  private store(d: DecodedInsn, bits: number, v: number, stack = RegionCompiler64.stackRef(d)): void {
    const f = this.f;
    this.translate(this.WM, bits);
    f.if();
    f.localGet(this.P);
    f.localGet(v);
    this.memStore(bits);
    f.else();
    this.spill(d);
    this.slowWrite(bits, v, stack);
    f.end();
  }

  /** The r/m operand into i64 local v. */
  private rmRead(d: DecodedInsn, bits: number, v: number): void {
    if (d.mod === 3) {
      this.getReg(d, bits, d.rm);
      this.f.localSet(v);
      return;
    }
    this.ea(d);
    this.load(d, bits, v);
  }

  /**
   * The memory operand at A becomes `compute`'s result: T[0] holds the old value, `compute`
   * leaves the new one in T[2]. Checked for writing first, so the write cannot fault.
   */
  private readModifyWrite(d: DecodedInsn, bits: number, compute: () => void): void {
    const f = this.f;
    const [v, res] = [this.T[0], this.T[2]];
    const ok = this.X[0];
    const stack = RegionCompiler64.stackRef(d);
    this.translate(this.WM, bits);
    f.localTee(ok);
    f.if();
    f.localGet(this.P);
    this.memLoad(bits);
    f.localSet(v);
    f.else();
    this.spill(d);
    this.addrHalves();
    f.i32Const(bits / 8);
    f.i32Const(stack);
    f.call(this.h.checkWrite);
    this.slowRead(bits, stack);
    f.localSet(v);
    f.end();
    compute();
    f.localGet(ok);
    f.if();
    f.localGet(this.P);
    f.localGet(res);
    this.memStore(bits);
    f.else();
    this.slowWrite(bits, res, stack);
    f.end();
  }

  // ------------------------------------------------------------ instructions

  private osz(d: DecodedInsn): number {
    return d.opSize * 8;
  }

  private constLocal(lo: number, hi: number, t: number): void {
    this.f.i64Const(lo, hi);
    this.f.localSet(t);
  }

  /** An immediate of an operand of `bits`: imm8 sign-extended (83, 6B) or the encoded one (imm32 sign-extended at 64 bits). */
  private imm(d: DecodedInsn, bits: number, signed8: boolean): [number, number] {
    if (bits === 8) return [d.imm & 0xff, 0];
    let v = signed8 ? (d.imm << 24) >> 24 : d.imm | 0;
    if (bits === 16) v &= 0xffff;
    if (bits === 64) return [v, v >> 31];
    return [v, 0];
  }

  /** dst (r/m) op= local src. Returns whether memory was written. */
  private aluRm(d: DecodedInsn, g: number, bits: number, src: number): boolean {
    const f = this.f;
    const [v, res] = [this.T[0], this.T[2]];
    if (d.mod === 3) {
      this.getReg(d, bits, d.rm);
      f.localSet(v);
      this.fl.alu(g, bits, v, src, res);
      if (g !== 7) this.setReg(d, bits, d.rm, res);
      return false;
    }
    this.ea(d);
    if (g === 7) {
      this.load(d, bits, v);
      this.fl.alu(g, bits, v, src, res);
      return false;
    }
    this.readModifyWrite(d, bits, () => this.fl.alu(g, bits, v, src, res));
    return true;
  }

  private incDecRm(d: DecodedInsn, bits: number, inc: boolean): boolean {
    const f = this.f;
    const [v, res] = [this.T[0], this.T[2]];
    if (d.mod === 3) {
      this.getReg(d, bits, d.rm);
      f.localSet(v);
      this.fl.incDec(bits, inc, v, res);
      this.setReg(d, bits, d.rm, res);
      return false;
    }
    this.ea(d);
    this.readModifyWrite(d, bits, () => this.fl.incDec(bits, inc, v, res));
    return true;
  }

  /** SHL/SAL/SHR/SAR of a register by a constant 1-63 or by CL (arith.ts / alu64.ts results and flags). */
  private shift(d: DecodedInsn, bits: number, constCount: number | null): void {
    const f = this.f;
    const [v, res, n, cf] = [this.T[0], this.T[2], this.T[3], this.T[4]];
    const op = d.reg;
    const mask = bits === 64 ? -1n : (1n << BigInt(bits)) - 1n;
    const k = (x: number | bigint): void => f.i64ConstBig(BigInt(x));
    const get = (l: number): void => f.localGet(l);
    this.getReg(d, bits, d.rm);
    f.localSet(v);
    if (constCount === null) {
      this.getReg(d, 8, 1);
      k(bits === 64 ? 0x3f : 0x1f);
      f.i64And();
      f.localTee(n);
      f.i64Eqz();
      f.if();
      // A count of 0 changes no flags; a 32-bit destination still loses its high half.
      this.setReg(d, bits, d.rm, v);
      f.else();
    } else {
      k(constCount);
      f.localSet(n);
    }
    const c = constCount ?? 1; // a runtime count is within 1..bits-1 for 32/64-bit operands
    if (op === 4 || op === 6) {
      if (c <= bits) {
        if (constCount === bits) {
          get(v);
          k(1);
          f.i64And();
        } else {
          get(v);
          k(bits);
          get(n);
          f.i64Sub();
          f.i64ShrU();
          k(1);
          f.i64And();
        }
        f.localSet(cf);
        get(v);
        get(n);
        f.i64Shl();
        k(mask);
        f.i64And();
        f.localSet(res);
      } else {
        k(0);
        f.localSet(cf);
        k(0);
        f.localSet(res);
      }
    } else if (op === 5) {
      if (c <= bits) {
        get(v);
        get(n);
        k(1);
        f.i64Sub();
        f.i64ShrU();
        k(1);
        f.i64And();
        f.localSet(cf);
        get(v);
        get(n);
        f.i64ShrU();
        f.localSet(res);
      } else {
        k(0);
        f.localSet(cf);
        k(0);
        f.localSet(res);
      }
    } else {
      // SAR on the sign-extended operand
      const sv = this.T[1];
      get(v);
      if (bits === 8) f.i64Extend8S();
      else if (bits === 16) f.i64Extend16S();
      else if (bits === 32) f.i64Extend32S();
      f.localSet(sv);
      if (c < bits) {
        get(sv);
        get(n);
        k(1);
        f.i64Sub();
        f.i64ShrS();
        k(1);
        f.i64And();
        f.localSet(cf);
        get(sv);
        get(n);
        f.i64ShrS();
        k(mask);
        f.i64And();
        f.localSet(res);
      } else {
        get(sv);
        k(63);
        f.i64ShrU();
        f.localSet(cf);
        get(sv);
        k(63);
        f.i64ShrS();
        k(mask);
        f.i64And();
        f.localSet(res);
      }
    }
    this.fl.resultFlags(res, bits, () => {
      get(cf);
      f.i32WrapI64();
      if (op === 7) {
        f.i32Const(0x10);
        f.i32Or();
        return;
      }
      // OF: SHL: the result's top bit ^ CF; SHR: the operand's top bit.
      if (op === 5) {
        get(v);
        k(bits - 1);
        f.i64ShrU();
      } else {
        get(res);
        k(bits - 1);
        f.i64ShrU();
        get(cf);
        f.i64Xor();
      }
      f.i32WrapI64();
      f.i32Const(1);
      f.i32And();
      f.i32Const(11);
      f.i32Shl();
      f.i32Or();
      f.i32Const(0x10);
      f.i32Or();
    });
    this.setReg(d, bits, d.rm, res);
    if (constCount === null) f.end();
  }

  /** ROL/ROR of a 32/64-bit register by a constant 1-63 or by CL (arith.ts shiftRotate / alu64.ts shift64: CF and OF). */
  private rotate(d: DecodedInsn, bits: number, constCount: number | null): void {
    const f = this.f;
    const [v, res, n] = [this.T[0], this.T[2], this.T[3]];
    const [cf, of] = [this.X[1], this.X[2]];
    const left = d.reg === 0;
    this.getReg(d, bits, d.rm);
    f.localSet(v);
    if (constCount === null) {
      this.getReg(d, 8, 1);
      f.i64Const(bits === 64 ? 0x3f : 0x1f);
      f.i64And();
      f.localTee(n);
      f.i64Eqz();
      f.if();
      // A count of 0 changes no flags; a 32-bit destination still loses its high half.
      this.setReg(d, bits, d.rm, v);
      f.else();
    } else {
      f.i64Const(constCount);
      f.localSet(n);
    }
    f.localGet(v);
    f.localGet(n);
    if (bits === 64) {
      if (left) f.i64Rotl();
      else f.i64Rotr();
    } else {
      f.i32WrapI64();
      const t = this.X[0];
      f.localSet(t);
      f.i32WrapI64();
      f.localGet(t);
      if (left) f.i32Rotl();
      else f.i32Rotr();
      f.i64ExtendI32U();
    }
    f.localSet(res);
    const bit = (at: number): void => {
      f.localGet(res);
      f.i64Const(at);
      f.i64ShrU();
      f.i32WrapI64();
      f.i32Const(1);
      f.i32And();
    };
    // ROL: CF = the result's bit 0, OF = its top bit ^ CF; ROR: CF = the top bit, OF = the top two bits' xor.
    bit(left ? 0 : bits - 1);
    f.localSet(cf);
    bit(bits - 1);
    if (left) f.localGet(cf);
    else bit(bits - 2);
    f.i32Xor();
    f.localSet(of);
    this.fl.materialize();
    f.localGet(this.FL);
    f.i32Const(~(CF | OF));
    f.i32And();
    f.localGet(cf);
    f.i32Or();
    f.localGet(of);
    f.i32Const(11);
    f.i32Shl();
    f.i32Or();
    f.localSet(this.FL);
    this.fl.flagSrc = null;
    this.setReg(d, bits, d.rm, res);
    if (constCount === null) f.end();
  }

  private push(d: DecodedInsn, v: number): void {
    const f = this.f;
    this.rget(4);
    f.i64Const(8);
    f.i64Sub();
    f.localSet(this.A);
    this.store(d, 64, v, 1);
    f.localGet(this.A);
    this.rset(4);
  }

  private pop(d: DecodedInsn, v: number): void {
    const f = this.f;
    this.rget(4);
    f.localSet(this.A);
    this.load(d, 64, v, 1);
    this.rget(4);
    f.i64Const(8);
    f.i64Add();
    this.rset(4);
  }

  /** Push whether i64 local v is a canonical address (bits 63..47 all equal). */
  private canonical(v: number): void {
    const f = this.f;
    f.localGet(v);
    f.i64Const(16);
    f.i64Shl();
    f.i64Const(16);
    f.i64ShrS();
    f.localGet(v);
    f.i64Eq();
  }

  /** Leave for the i64 target in local t after `count` instructions (dynamic exit). */
  private jumpTo(t: number, count: number): void {
    const f = this.f;
    f.localGet(t);
    f.i32WrapI64();
    f.localSet(this.EXIT);
    f.localGet(t);
    f.i64Const(32);
    f.i64ShrU();
    f.i32WrapI64();
    f.localSet(this.EXH);
    this.exitDynamic(count);
  }

  /** Emit d natively (classify64 said Native/NativeEnd). Returns whether it may have stored to memory. */
  private native(d: DecodedInsn, count: number): boolean {
    const f = this.f;
    const op = d.op;
    const T = this.T;
    if (op < 0x40) {
      const g = op >> 3;
      const form = op & 7;
      const bits = (form & 1) === 0 ? 8 : this.osz(d);
      switch (form) {
        case 0:
        case 1:
          this.getReg(d, bits, d.reg);
          f.localSet(T[1]);
          return this.aluRm(d, g, bits, T[1]);
        case 2:
        case 3:
          this.rmRead(d, bits, T[1]);
          this.getReg(d, bits, d.reg);
          f.localSet(T[0]);
          this.fl.alu(g, bits, T[0], T[1], T[2]);
          if (g !== 7) this.setReg(d, bits, d.reg, T[2]);
          return false;
        default: {
          this.getReg(d, bits, 0);
          f.localSet(T[0]);
          const [lo, hi] = this.imm(d, bits, false);
          this.constLocal(lo, hi, T[1]);
          this.fl.alu(g, bits, T[0], T[1], T[2]);
          if (g !== 7) this.setReg(d, bits, 0, T[2]);
          return false;
        }
      }
    }
    if (op >= 0x50 && op <= 0x57) {
      this.rget((op & 7) | ((d.rex & 1) << 3));
      f.localSet(T[0]);
      this.push(d, T[0]);
      return true;
    }
    if (op >= 0x58 && op <= 0x5f) {
      this.pop(d, T[0]);
      this.setReg(d, 64, (op & 7) | ((d.rex & 1) << 3), T[0]);
      return false;
    }
    if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) {
      const disp = op < 0x100 ? (d.imm << 24) >> 24 : d.imm | 0;
      this.fl.cond(op & 15);
      f.if();
      const [lo, hi] = this.after(d, disp);
      this.exitStatic(lo, count, hi);
      f.end();
      const [nlo, nhi] = this.after(d, 0);
      this.exitStatic(nlo, count, nhi);
      return false;
    }
    if (op >= 0xb0 && op <= 0xb7) {
      this.constLocal(d.imm & 0xff, 0, T[0]);
      this.setReg(d, 8, (op & 7) | ((d.rex & 1) << 3), T[0]);
      return false;
    }
    if (op >= 0xb8 && op <= 0xbf) {
      const bits = this.osz(d);
      const r = (op & 7) | ((d.rex & 1) << 3);
      this.constLocal(bits === 16 ? d.imm & 0xffff : d.imm | 0, bits === 64 ? d.immHi : 0, T[0]);
      this.setReg(d, bits, r, T[0]);
      return false;
    }
    switch (op) {
      case 0x63: {
        // MOVSXD r64, r/m32
        this.rmRead(d, 32, T[0]);
        f.localGet(T[0]);
        f.i64Extend32S();
        f.localSet(T[0]);
        this.setReg(d, 64, d.reg, T[0]);
        return false;
      }
      case 0x68:
      case 0x6a: {
        const v = op === 0x68 ? d.imm | 0 : (d.imm << 24) >> 24;
        this.constLocal(v, v >> 31, T[0]);
        this.push(d, T[0]);
        return true;
      }
      case 0x80:
      case 0x81:
      case 0x83: {
        const bits = op === 0x80 ? 8 : this.osz(d);
        const [lo, hi] = this.imm(d, bits, op === 0x83);
        this.constLocal(lo, hi, T[1]);
        return this.aluRm(d, d.reg, bits, T[1]);
      }
      case 0x84:
      case 0x85: {
        const bits = op === 0x84 ? 8 : this.osz(d);
        this.rmRead(d, bits, T[0]);
        this.getReg(d, bits, d.reg);
        f.localSet(T[1]);
        this.fl.test(bits, T[0], T[1], T[2]);
        return false;
      }
      case 0xa8:
      case 0xa9: {
        const bits = op === 0xa8 ? 8 : this.osz(d);
        this.getReg(d, bits, 0);
        f.localSet(T[0]);
        const [lo, hi] = this.imm(d, bits, false);
        this.constLocal(lo, hi, T[1]);
        this.fl.test(bits, T[0], T[1], T[2]);
        return false;
      }
      case 0x88:
      case 0x89: {
        const bits = op === 0x88 ? 8 : this.osz(d);
        this.getReg(d, bits, d.reg);
        f.localSet(T[0]);
        if (d.mod === 3) {
          this.setReg(d, bits, d.rm, T[0]);
          return false;
        }
        this.ea(d);
        this.store(d, bits, T[0]);
        return true;
      }
      case 0x8a:
      case 0x8b: {
        const bits = op === 0x8a ? 8 : this.osz(d);
        this.rmRead(d, bits, T[0]);
        this.setReg(d, bits, d.reg, T[0]);
        return false;
      }
      case 0x8d:
        this.offset(d);
        f.localSet(T[0]);
        this.setReg(d, this.osz(d), d.reg, T[0]);
        return false;
      case 0x90:
      case 0x11f:
        return false;
      case 0xc6:
      case 0xc7: {
        const bits = op === 0xc6 ? 8 : this.osz(d);
        const [lo, hi] = this.imm(d, bits, false);
        this.constLocal(lo, hi, T[0]);
        if (d.mod === 3) {
          this.setReg(d, bits, d.rm, T[0]);
          return false;
        }
        this.ea(d);
        this.store(d, bits, T[0]);
        return true;
      }
      case 0xf6:
      case 0xf7: {
        const bits = op === 0xf6 ? 8 : this.osz(d);
        if (d.reg < 2) {
          this.rmRead(d, bits, T[0]);
          const [lo, hi] = this.imm(d, bits, false);
          this.constLocal(lo, hi, T[1]);
          this.fl.test(bits, T[0], T[1], T[2]);
          return false;
        }
        // NOT / NEG of a register
        this.getReg(d, bits, d.rm);
        f.localSet(T[1]);
        if (d.reg === 2) {
          f.localGet(T[1]);
          f.i64Const(-1);
          f.i64Xor();
          f.localSet(T[2]);
        } else {
          f.i64Const(0);
          f.localSet(T[0]);
          this.fl.alu(5, bits, T[0], T[1], T[2]);
          this.fl.flagSrc = null;
        }
        this.setReg(d, bits, d.rm, T[2]);
        return false;
      }
      case 0xfe:
      case 0xff:
        if (op === 0xff && d.reg === 6) {
          this.rmRead(d, 64, T[0]);
          this.push(d, T[0]);
          return true;
        }
        if (op === 0xff && (d.reg === 2 || d.reg === 4)) return this.indirect(d, count);
        return this.incDecRm(d, op === 0xfe ? 8 : this.osz(d), d.reg === 0);
      case 0xc9:
        // LEAVE: RBP is read at [RBP] before RSP changes (a fault leaves both).
        this.rget(5);
        f.localSet(this.A);
        this.load(d, 64, T[0], 1);
        this.rget(5);
        f.i64Const(8);
        f.i64Add();
        this.rset(4);
        f.localGet(T[0]);
        this.rset(5);
        return false;
      case 0xe8: {
        // CALL rel32: push RIP of the next instruction, then jump.
        const [nlo, nhi] = this.after(d, 0);
        this.constLocal(nlo, nhi, T[0]);
        this.push(d, T[0]);
        const [lo, hi] = this.after(d, d.imm | 0);
        // The push may have landed on compiled code: leave after the call completes.
        this.smcCheck(lo, count, hi);
        this.exitStatic(lo, count, hi);
        return true;
      }
      case 0xe9:
      case 0xeb: {
        const [lo, hi] = this.after(d, op === 0xe9 ? d.imm | 0 : (d.imm << 24) >> 24);
        this.exitStatic(lo, count, hi);
        return false;
      }
      case 0xc2:
      case 0xc3:
        return this.ret(d, count);
    }
    if (op === 0x1b6 || op === 0x1b7 || op === 0x1be || op === 0x1bf) {
      // MOVZX / MOVSX
      const src = op === 0x1b6 || op === 0x1be ? 8 : 16;
      this.rmRead(d, src, T[0]);
      if (op >= 0x1be) {
        f.localGet(T[0]);
        if (src === 8) f.i64Extend8S();
        else f.i64Extend16S();
        f.localSet(T[0]);
      }
      this.setReg(d, this.osz(d), d.reg, T[0]);
      return false;
    }
    if (op >= 0x140 && op <= 0x14f) {
      // CMOVcc: the source is read (and may fault) whatever the condition; a 32-bit
      // destination loses its high half either way.
      const bits = this.osz(d);
      this.rmRead(d, bits, T[0]);
      this.getReg(d, bits, d.reg);
      f.localSet(T[1]);
      f.localGet(T[0]);
      f.localGet(T[1]);
      this.fl.cond(op & 15);
      f.select();
      f.localSet(T[0]);
      this.setReg(d, bits, d.reg, T[0]);
      return false;
    }
    if (op >= 0x190 && op <= 0x19f) {
      this.fl.cond(op & 15);
      f.i64ExtendI32U();
      f.localSet(T[0]);
      if (d.mod === 3) {
        this.setReg(d, 8, d.rm, T[0]);
        return false;
      }
      this.ea(d);
      this.store(d, 8, T[0]);
      return true;
    }
    if (op === 0x86 || op === 0x87 || (op >= 0x90 && op <= 0x97)) {
      const bits = op === 0x86 ? 8 : this.osz(d);
      const [x, y] = op >= 0x90 ? [0, (op & 7) | ((d.rex & 1) << 3)] : [d.rm, d.reg];
      this.getReg(d, bits, x);
      f.localSet(T[0]);
      this.getReg(d, bits, y);
      f.localSet(T[1]);
      this.setReg(d, bits, x, T[1]);
      this.setReg(d, bits, y, T[0]);
      return false;
    }
    if (op === 0x98) {
      // CBW / CWDE / CDQE
      const bits = this.osz(d);
      this.getReg(d, bits / 2, 0);
      if (bits === 16) f.i64Extend8S();
      else if (bits === 32) f.i64Extend16S();
      else f.i64Extend32S();
      f.localSet(T[0]);
      this.setReg(d, bits, 0, T[0]);
      return false;
    }
    if (op === 0x99) {
      // CWD / CDQ / CQO
      const bits = this.osz(d);
      this.getReg(d, bits, 0);
      if (bits === 16) f.i64Extend16S();
      else if (bits === 32) f.i64Extend32S();
      f.i64Const(63);
      f.i64ShrS();
      f.localSet(T[0]);
      this.setReg(d, bits, 2, T[0]);
      return false;
    }
    if (op === 0xc0 || op === 0xc1 || op === 0xd0 || op === 0xd1) {
      const bits = op === 0xc0 || op === 0xd0 ? 8 : this.osz(d);
      const count = op >= 0xd0 ? 1 : d.imm & (bits === 64 ? 0x3f : 0x1f);
      if (d.reg < 2) this.rotate(d, bits, count);
      else this.shift(d, bits, count);
      return false;
    }
    if (op === 0xd3) {
      if (d.reg < 2) this.rotate(d, this.osz(d), null);
      else this.shift(d, this.osz(d), null);
      return false;
    }
    if (op === 0x1af || op === 0x69 || op === 0x6b) return this.imul(d);
    throw new Error(`wasm backend (64-bit): no native code for opcode 0x${op.toString(16)}`);
  }

  /** IMUL r, r/m (, imm) at 32 or 64 bits: CF = OF = the product does not fit. */
  private imul(d: DecodedInsn): boolean {
    const f = this.f;
    const T = this.T;
    const bits = this.osz(d);
    const op = d.op;
    this.rmRead(d, bits, T[0]);
    if (op === 0x1af) this.getReg(d, bits, d.reg);
    else {
      const v = op === 0x69 ? d.imm | 0 : (d.imm << 24) >> 24;
      f.i64Const(v, v >> 31);
    }
    f.localSet(T[1]);
    const ovf = this.X[1];
    if (bits === 32) {
      f.localGet(T[0]);
      f.i64Extend32S();
      f.localGet(T[1]);
      f.i64Extend32S();
      f.i64Mul();
      f.localTee(T[2]);
      f.localGet(T[2]);
      f.i64Extend32S();
      f.i64Ne();
      f.localSet(ovf);
    } else {
      // The product overflows unless a * b / a gives b back (a = 0 never does; a = -1 only for b = MIN).
      f.localGet(T[0]);
      f.localGet(T[1]);
      f.i64Mul();
      f.localSet(T[2]);
      f.localGet(T[0]);
      f.i64Eqz();
      f.if(BlockType.I32);
      f.i32Const(0);
      f.else();
      f.localGet(T[0]);
      f.i64Const(-1);
      f.i64Eq();
      f.if(BlockType.I32);
      f.localGet(T[1]);
      f.i64Const(0, 0x80000000 | 0);
      f.i64Eq();
      f.else();
      f.localGet(T[2]);
      f.localGet(T[0]);
      f.i64DivS();
      f.localGet(T[1]);
      f.i64Ne();
      f.end();
      f.end();
      f.localSet(ovf);
    }
    this.fl.resultFlags(T[2], bits, () => {
      f.i32Const(CF | OF);
      f.i32Const(0);
      f.localGet(ovf);
      f.select();
    });
    this.setReg(d, bits, d.reg, T[2]);
    return false;
  }

  /** A non-canonical target is the interpreter's (#GP where the CPU raises it); nothing is committed before the check. */
  private orStep(d: DecodedInsn, count: number, target: number): void {
    const f = this.f;
    this.canonical(target);
    f.i32Eqz();
    f.if();
    this.step(d, count, true);
    f.end();
  }

  /** RET / RET imm16. */
  private ret(d: DecodedInsn, count: number): boolean {
    const f = this.f;
    const t = this.T[0];
    this.rget(4);
    f.localSet(this.A);
    this.load(d, 64, t, 1);
    this.orStep(d, count, t);
    this.rget(4);
    f.i64Const(8 + (d.op === 0xc2 ? d.imm & 0xffff : 0));
    f.i64Add();
    this.rset(4);
    this.jumpTo(t, count);
    return false;
  }

  /** CALL / JMP r/m64. */
  private indirect(d: DecodedInsn, count: number): boolean {
    const f = this.f;
    const t = this.T[1];
    this.rmRead(d, 64, t);
    this.orStep(d, count, t);
    if (d.reg === 2) {
      const [nlo, nhi] = this.after(d, 0);
      this.constLocal(nlo, nhi, this.T[0]);
      this.push(d, this.T[0]);
      // The push may have landed on compiled code: leave after the call completes.
      this.leaveIfSmc(
        count,
        () => (f.localGet(t), f.i32WrapI64()),
        () => (f.localGet(t), f.i64Const(32), f.i64ShrU(), f.i32WrapI64()),
      );
    }
    this.jumpTo(t, count);
    return d.reg === 2;
  }
}
