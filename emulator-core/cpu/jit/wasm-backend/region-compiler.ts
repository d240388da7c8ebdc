/**
 * A 16/32-bit region to one wasm function (the frame: region-frame.ts). The guest's eight
 * registers and the lazy-flag state live in locals; they are written to the state block
 * before every helper call (with instrStart of the instruction, so a fault is precise) and
 * reloaded after step().
 */
import { CF, CS, OF } from '../../constants.js';
import type { DecodedInsn } from '../../decoder/decoded-insn.js';
import { CPU_STATE } from '../../state-layout.js';
import type { Region, RegionBlock } from '../backend.js';
import type { BlockMode } from '../codegen.js';
import { ValType } from '../wasm/opcodes.js';
import { classify, flatSeg, How } from './classify.js';
import { FlagEmitter } from './flag-emitter.js';
import { defineFlagsLib, type FlagsLib } from './flags-lib.js';
import { importHelpers, type HelperName } from './helpers.js';
import { RegionFrame } from './region-frame.js';

const I = ValType.I32;


export class RegionCompiler extends RegionFrame {
  private h!: Record<HelperName, number>;
  private lib!: FlagsLib;
  private mode!: BlockMode;

  // locals
  private FL = 0;
  private LM = 0;
  private LK = 0;
  private LA = 0;
  private LB = 0;
  private LR = 0;
  private LS = 0;
  private RM = 0;
  private WM = 0;
  private T: number[] = [];
  /** An i64 temporary. */
  private W = 0;

  private fl!: FlagEmitter;

  /** The module's bytes; it imports memory env.mem and the helpers h.*, exports `run`. */
  compile(region: Region): Uint8Array<ArrayBuffer> {
    return this.twoPass(() => this.emitRegion(region));
  }

  private emitRegion(region: Region): Uint8Array<ArrayBuffer> {
    this.beginModule(region);
    this.mode = region.mode;
    this.h = importHelpers(this.mb);
    this.lib = defineFlagsLib(this.mb);
    const f = this.beginFunction(region, false);
    this.R = [];
    for (let i = 0; i < 8; i++) this.R.push(f.addLocal(I));
    [this.FL, this.LM, this.LK, this.LA, this.LB, this.LR, this.LS, this.RM, this.WM] = Array.from({ length: 9 }, () => f.addLocal(I));
    this.T = Array.from({ length: 8 }, () => f.addLocal(I));
    this.W = f.addLocal(ValType.I64);
    const { FL, LM, LK, LA, LB, LR, LS } = this;
    this.fl = new FlagEmitter(f, this.lib, 32, { FL, LM, LK, LA, LB, LR, LS }, this.T[7], this.T[7]);
    return this.emitFunction(region);
  }

  protected prologue(): void {
    this.loadAll();
    this.stateLoad(CPU_STATE.READ_MASK);
    this.f.localSet(this.RM);
    this.stateLoad(CPU_STATE.WRITE_MASK);
    this.f.localSet(this.WM);
  }

  // ------------------------------------------------------------ state block

  private scalarLocals(): [number, number][] {
    return [
      [CPU_STATE.FLAGS, this.FL],
      [CPU_STATE.LAZY_MASK, this.LM],
      [CPU_STATE.LF_KIND, this.LK],
      [CPU_STATE.LF_A, this.LA],
      [CPU_STATE.LF_B, this.LB],
      [CPU_STATE.LF_RES, this.LR],
      [CPU_STATE.LF_SHIFT, this.LS],
    ];
  }

  private loadAll(): void {
    for (let i = 0; i < 8; i++) {
      if (!this.regUsed(i)) continue;
      this.stateLoad(CPU_STATE.R32 + 4 * i);
      this.f.localSet(this.R[i]);
    }
    for (const [off, l] of this.scalarLocals()) {
      this.stateLoad(off);
      this.f.localSet(l);
    }
  }

  protected storeAll(): void {
    for (let i = 0; i < 8; i++) if (this.regWritten(i)) this.stateStore(CPU_STATE.R32 + 4 * i, this.R[i]);
    for (const [off, l] of this.scalarLocals()) this.stateStore(off, l);
  }

  /** Everything a helper may need to see, with the instruction's start for a fault. */
  private spill(d: DecodedInsn): void {
    this.storeAll();
    this.f.i32Const(0);
    this.f.i32Const(d.lin);
    this.f.i32Store(this.stateBase + CPU_STATE.INSTR_START);
  }

  // ------------------------------------------------------------ blocks

  protected emitBlock(b: RegionBlock): void {
    this.fl.flagSrc = null;
    let count = 0;
    for (const d of b.insns) {
      count++;
      const how = classify(d, this.mode);
      const next = (d.lin + d.len) | 0;
      if (how === How.Step || how === How.StepEnd) {
        this.fl.flagSrc = null;
        this.step(d, count, how === How.StepEnd);
        if (how === How.StepEnd) return;
        continue;
      }
      const stored = this.native(d, count);
      if (how === How.NativeEnd) return;
      if (stored) this.smcCheck(next, count);
    }
    this.exitStatic(b.next, count);
  }

  /** step() for d: leave afterwards if it ends the block or wrote over compiled code. */
  private step(d: DecodedInsn, count: number, end: boolean): void {
    const f = this.f;
    this.spill(d);
    f.i32Const(0);
    f.i32Const(d.lin);
    f.i32Store(this.stateBase + CPU_STATE.IP);
    f.call(this.h.step);
    this.loadAll();
    const ip = (): void => this.stateLoad(CPU_STATE.IP);
    // Back to the dispatcher, wherever step() left EIP: the instruction may have halted,
    // changed modes or asked the run loop to stop.
    if (end) this.leave(count, ip);
    else this.leaveIfSmc(count, ip);
  }

  // ------------------------------------------------------------ operands

  /** Push register n of size sz (zero-extended). */
  private getReg(sz: number, n: number): void {
    const f = this.f;
    if (sz === 32) this.rget(n);
    else if (sz === 16) {
      this.rget(n);
      f.i32Const(0xffff);
      f.i32And();
    } else if (n < 4) {
      this.rget(n);
      f.i32Const(0xff);
      f.i32And();
    } else {
      this.rget(n - 4);
      f.i32Const(8);
      f.i32ShrU();
      f.i32Const(0xff);
      f.i32And();
    }
  }

  /** Set register n of size sz from local `v`. */
  private setReg(sz: number, n: number, v: number): void {
    const f = this.f;
    if (sz === 32) {
      f.localGet(v);
      this.rset(n);
      return;
    }
    const r = sz === 8 && n >= 4 ? n - 4 : n;
    const mask = sz === 16 ? 0xffff : n >= 4 ? 0xff00 : 0xff;
    this.rget(r);
    f.i32Const(~mask);
    f.i32And();
    f.localGet(v);
    if (sz === 8 && n >= 4) {
      f.i32Const(8);
      f.i32Shl();
    }
    f.i32Const(mask);
    f.i32And();
    f.i32Or();
    this.rset(r);
  }

  /** The linear address of d's memory operand (32-bit addressing) into local t: offset, segment check, base. */
  private ea(d: DecodedInsn, t: number): void {
    this.offset(d, t);
    if (flatSeg(d, this.mode)) return;
    const f = this.f;
    const seg = d.seg >= 0 ? d.seg : d.defSeg;
    f.i32Const(0);
    f.i32Load8U(this.stateBase + CPU_STATE.SEG_CHECK + seg);
    f.if();
    this.spill(d);
    f.i32Const(seg);
    f.localGet(t);
    f.call(this.h.checkSegment);
    f.end();
    f.localGet(t);
    this.stateLoad(CPU_STATE.SEG_BASE + 4 * seg);
    f.i32Add();
    f.localSet(t);
  }

  /** The offset of d's memory operand (32-bit addressing) into local t. */
  private offset(d: DecodedInsn, t: number): void {
    const f = this.f;
    let parts = 0;
    if (d.base >= 0) {
      this.rget(d.base);
      parts++;
    }
    if (d.index >= 0) {
      this.rget(d.index);
      if (d.scale !== 0) {
        f.i32Const(d.scale);
        f.i32Shl();
      }
      if (parts++ > 0) f.i32Add();
    }
    if (d.disp !== 0 || parts === 0) {
      f.i32Const(d.disp | 0);
      if (parts > 0) f.i32Add();
    }
    f.localSet(t);
  }

  /** TLB entry of linear address local `a` into local `e`; pushes whether a direct access with `maskLocal` is allowed. */
  private tlbOk(a: number, e: number, maskLocal: number, sz: number): void {
    const f = this.f;
    f.localGet(a);
    f.i32Const(12);
    f.i32ShrU();
    f.i32Const(2);
    f.i32Shl();
    f.i32Load(this.stateBase + CPU_STATE.TLB);
    f.localTee(e);
    f.localGet(maskLocal);
    f.i32And();
    f.i32Const(0);
    f.i32Ne();
    if (sz > 8) {
      // Not crossing into the next page.
      f.localGet(a);
      f.i32Const(0xfff);
      f.i32And();
      f.i32Const(0x1000 - (sz >> 3));
      f.i32LeU();
      f.i32And();
    }
  }

  /** Push the backing offset for linear local `a` through TLB entry local `e`. */
  private backing(a: number, e: number): void {
    const f = this.f;
    f.localGet(e);
    f.i32Const(-4096);
    f.i32And();
    f.localGet(a);
    f.i32Const(0xfff);
    f.i32And();
    f.i32Add();
  }

  private memLoad(sz: number): void {
    if (sz === 32) this.f.i32Load(0, 0);
    else if (sz === 16) this.f.i32Load16U(0, 0);
    else this.f.i32Load8U(0);
  }

  private memStore(sz: number): void {
    if (sz === 32) this.f.i32Store(0, 0);
    else if (sz === 16) this.f.i32Store16(0, 0);
    else this.f.i32Store8(0);
  }

  /** Load sz bits from linear local `a` into local `v` (uses T[6] for the TLB entry). */
  private load(d: DecodedInsn, sz: number, a: number, v: number): void {
    const f = this.f;
    const e = this.T[6];
    this.tlbOk(a, e, this.RM, sz);
    f.if();
    this.backing(a, e);
    this.memLoad(sz);
    f.localSet(v);
    f.else();
    this.spill(d);
    f.localGet(a);
    f.call(sz === 32 ? this.h.read32 : sz === 16 ? this.h.read16 : this.h.read8);
    f.localSet(v);
    f.end();
  }

  /** Store local `v` (sz bits) at linear local `a`. */
  private store(d: DecodedInsn, sz: number, a: number, v: number): void {
    const f = this.f;
    const e = this.T[6];
    this.tlbOk(a, e, this.WM, sz);
    f.if();
    this.backing(a, e);
    f.localGet(v);
    this.memStore(sz);
    f.else();
    this.spill(d);
    f.localGet(a);
    f.localGet(v);
    f.call(sz === 32 ? this.h.write32 : sz === 16 ? this.h.write16 : this.h.write8);
    f.end();
  }

  /** The r/m operand into local v. */
  private rmRead(d: DecodedInsn, sz: number, v: number): void {
    if (d.mod === 3) {
      this.getReg(sz, d.rm);
      this.f.localSet(v);
      return;
    }
    const a = this.T[5];
    this.ea(d, a);
    this.load(d, sz, a, v);
  }

  // ------------------------------------------------------------ instructions

  private osz(d: DecodedInsn): number {
    return d.opSize === 4 ? 32 : 16;
  }

  private constLocal(v: number, t: number): void {
    this.f.i32Const(v);
    this.f.localSet(t);
  }

  /** An immediate sign-extended from 8 bits to the operand size. */
  private simm8(d: DecodedInsn): number {
    const v = (d.imm << 24) >> 24;
    return d.opSize === 4 ? v : v & 0xffff;
  }

  private immZ(d: DecodedInsn): number {
    return d.opSize === 4 ? d.imm | 0 : d.imm & 0xffff;
  }

  /** dst (r/m) op= local src. Returns whether memory was written. */
  private aluRm(d: DecodedInsn, g: number, sz: number, src: number): boolean {
    const f = this.f;
    const [v, res] = [this.T[0], this.T[2]];
    if (d.mod === 3) {
      this.getReg(sz, d.rm);
      f.localSet(v);
      this.fl.alu(g, sz, v, src, res);
      if (g !== 7) this.setReg(sz, d.rm, res);
      return false;
    }
    const a = this.T[5];
    this.ea(d, a);
    if (g === 7) {
      this.load(d, sz, a, v);
      this.fl.alu(g, sz, v, src, res);
      return false;
    }
    this.readModifyWrite(d, sz, a, () => this.fl.alu(g, sz, v, src, res));
    return true;
  }

  private incDecRm(d: DecodedInsn, sz: number, inc: boolean): boolean {
    const f = this.f;
    const [v, res] = [this.T[0], this.T[2]];
    if (d.mod === 3) {
      this.getReg(sz, d.rm);
      f.localSet(v);
      this.fl.incDec(sz, inc, v, res);
      this.setReg(sz, d.rm, res);
      return false;
    }
    const a = this.T[5];
    this.ea(d, a);
    this.readModifyWrite(d, sz, a, () => this.fl.incDec(sz, inc, v, res));
    return true;
  }

  /**
   * The memory operand at linear address local `a` becomes `compute`'s result: T[0] holds
   * the old value, `compute` leaves the new one in T[2]. Translated for writing first (inline
   * TLB or the rmwRead helper), so the write that follows cannot fault.
   */
  private readModifyWrite(d: DecodedInsn, sz: number, a: number, compute: () => void): void {
    const f = this.f;
    const [v, res] = [this.T[0], this.T[2]];
    const [e, off, ok] = [this.T[6], this.T[3], this.T[4]];
    this.tlbOk(a, e, this.WM, sz);
    f.localTee(ok);
    f.if();
    this.backing(a, e);
    f.localTee(off);
    this.memLoad(sz);
    f.localSet(v);
    f.else();
    this.spill(d);
    f.localGet(a);
    f.call(sz === 32 ? this.h.rmwRead32 : sz === 16 ? this.h.rmwRead16 : this.h.rmwRead8);
    f.localSet(v);
    f.end();
    compute();
    f.localGet(ok);
    f.if();
    f.localGet(off);
    f.localGet(res);
    this.memStore(sz);
    f.else();
    f.localGet(res);
    f.call(sz === 32 ? this.h.rmwWrite32 : sz === 16 ? this.h.rmwWrite16 : this.h.rmwWrite8);
    f.end();
  }

  /**
   * SHL/SAL/SHR/SAR of a register (arith.ts shiftRotate's results and flags): by a constant
   * 1-31 at any width, or by CL at 32 bits (a count of 0 changes nothing).
   */
  private shift(d: DecodedInsn, sz: number, constCount: number | null): void {
    const f = this.f;
    const [v, res, n, cf] = [this.T[0], this.T[2], this.T[3], this.T[4]];
    const op = d.reg;
    const bits = sz;
    const mask = bits === 32 ? -1 : (1 << bits) - 1;
    const top = bits - 1;
    this.getReg(sz, d.rm);
    f.localSet(v);
    if (constCount === null) {
      this.rget(1);
      f.i32Const(0x1f);
      f.i32And();
      f.localTee(n);
      f.if();
    } else {
      f.i32Const(constCount);
      f.localSet(n);
    }
    const c = constCount ?? 1; // only 32-bit shifts take a runtime count (always within range)
    const get = (l: number): void => f.localGet(l);
    const k = (x: number): void => f.i32Const(x);
    if (op === 4 || op === 6) {
      if (c <= bits) {
        // cf = count === bits ? v & 1 : (v >>> (bits - count)) & 1; r = (v << count) & mask
        if (constCount === bits) {
          get(v);
          k(1);
          f.i32And();
        } else {
          get(v);
          k(bits);
          get(n);
          f.i32Sub();
          f.i32ShrU();
          k(1);
          f.i32And();
        }
        f.localSet(cf);
        get(v);
        get(n);
        f.i32Shl();
        k(mask);
        f.i32And();
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
        f.i32Sub();
        f.i32ShrU();
        k(1);
        f.i32And();
        f.localSet(cf);
        get(v);
        get(n);
        f.i32ShrU();
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
      if (bits === 8) f.i32Extend8S();
      else if (bits === 16) f.i32Extend16S();
      f.localSet(sv);
      if (c < bits) {
        get(sv);
        get(n);
        k(1);
        f.i32Sub();
        f.i32ShrS();
        k(1);
        f.i32And();
        f.localSet(cf);
        get(sv);
        get(n);
        f.i32ShrS();
        k(mask);
        f.i32And();
        f.localSet(res);
      } else {
        get(sv);
        k(31);
        f.i32ShrU();
        f.localSet(cf);
        get(sv);
        k(31);
        f.i32ShrS();
        k(mask);
        f.i32And();
        f.localSet(res);
      }
    }
    this.fl.resultFlags(res, bits, () => {
      get(cf);
      if (op === 7) {
        k(0x10);
        f.i32Or();
        return;
      }
      // OF: SHL: the result's top bit ^ CF; SHR: the operand's top bit.
      if (op === 5) {
        get(v);
        k(top);
        f.i32ShrU();
      } else {
        get(res);
        k(top);
        f.i32ShrU();
        get(cf);
        f.i32Xor();
      }
      k(1);
      f.i32And();
      k(11);
      f.i32Shl();
      f.i32Or();
      k(0x10);
      f.i32Or();
    });
    this.setReg(sz, d.rm, res);
    if (constCount === null) f.end();
  }

  /** NOT (no flags) / NEG (Cpu.sub(0, v)) of a register. */
  private notNeg(d: DecodedInsn, sz: number): void {
    const f = this.f;
    const T = this.T;
    this.getReg(sz, d.rm);
    f.localSet(T[1]);
    if (d.reg === 2) {
      f.localGet(T[1]);
      f.i32Const(-1);
      f.i32Xor();
      f.localSet(T[2]);
    } else {
      f.i32Const(0);
      f.localSet(T[0]);
      this.fl.alu(5, sz, T[0], T[1], T[2]);
      this.fl.flagSrc = null;
    }
    this.setReg(sz, d.rm, T[2]);
  }

  private push32(d: DecodedInsn, v: number): void {
    const f = this.f;
    const sp = this.T[4];
    this.rget(4);
    f.i32Const(4);
    f.i32Sub();
    f.localSet(sp);
    this.store(d, 32, sp, v);
    f.localGet(sp);
    this.rset(4);
  }

  private pop32(d: DecodedInsn, v: number): void {
    const f = this.f;
    const sp = this.T[4];
    this.rget(4);
    f.localSet(sp);
    this.load(d, 32, sp, v);
    f.localGet(sp);
    f.i32Const(4);
    f.i32Add();
    this.rset(4);
  }

  /** Jump to a relative target (32-bit operand size: a static exit). */
  private jump(d: DecodedInsn, disp: number, count: number): void {
    this.exitStatic((d.lin + d.len + disp) | 0, count);
  }

  /** Emit d natively (classify said Native/NativeEnd). Returns whether it may have stored to memory. */
  private native(d: DecodedInsn, count: number): boolean {
    const f = this.f;
    const op = d.op;
    const T = this.T;
    if (op < 0x40) {
      const g = op >> 3;
      const form = op & 7;
      switch (form) {
        case 0:
        case 1: {
          const sz = form === 0 ? 8 : this.osz(d);
          this.getReg(sz, d.reg);
          f.localSet(T[1]);
          return this.aluRm(d, g, sz, T[1]);
        }
        case 2:
        case 3: {
          const sz = form === 2 ? 8 : this.osz(d);
          this.rmRead(d, sz, T[1]);
          this.getReg(sz, d.reg);
          f.localSet(T[0]);
          this.fl.alu(g, sz, T[0], T[1], T[2]);
          if (g !== 7) this.setReg(sz, d.reg, T[2]);
          return false;
        }
        case 4:
        case 5: {
          const sz = form === 4 ? 8 : this.osz(d);
          this.getReg(sz, 0);
          f.localSet(T[0]);
          this.constLocal(form === 4 ? d.imm & 0xff : this.immZ(d), T[1]);
          this.fl.alu(g, sz, T[0], T[1], T[2]);
          if (g !== 7) this.setReg(sz, 0, T[2]);
          return false;
        }
      }
    }
    if (op >= 0x40 && op <= 0x4f) {
      const sz = this.osz(d);
      this.getReg(sz, op & 7);
      f.localSet(T[0]);
      this.fl.incDec(sz, op < 0x48, T[0], T[2]);
      this.setReg(sz, op & 7, T[2]);
      return false;
    }
    if (op >= 0x50 && op <= 0x57) {
      this.rget(op & 7);
      f.localSet(T[0]);
      this.push32(d, T[0]);
      return true;
    }
    if (op >= 0x58 && op <= 0x5f) {
      this.pop32(d, T[0]);
      this.setReg(32, op & 7, T[0]);
      return false;
    }
    if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) {
      const disp = op < 0x100 ? (d.imm << 24) >> 24 : d.imm | 0;
      this.fl.cond(op & 15);
      f.if();
      this.jump(d, disp, count);
      f.end();
      this.exitStatic((d.lin + d.len) | 0, count);
      return false;
    }
    if (op >= 0xb0 && op <= 0xb7) {
      this.constLocal(d.imm & 0xff, T[0]);
      this.setReg(8, op & 7, T[0]);
      return false;
    }
    if (op >= 0xb8 && op <= 0xbf) {
      this.constLocal(this.immZ(d), T[0]);
      this.setReg(this.osz(d), op & 7, T[0]);
      return false;
    }
    switch (op) {
      case 0x80:
      case 0x81:
      case 0x83: {
        const sz = op === 0x80 ? 8 : this.osz(d);
        this.constLocal(op === 0x80 ? d.imm & 0xff : op === 0x81 ? this.immZ(d) : this.simm8(d), T[1]);
        return this.aluRm(d, d.reg, sz, T[1]);
      }
      case 0x84:
      case 0x85: {
        const sz = op === 0x84 ? 8 : this.osz(d);
        this.rmRead(d, sz, T[0]);
        this.getReg(sz, d.reg);
        f.localSet(T[1]);
        this.fl.test(sz, T[0], T[1], T[2]);
        return false;
      }
      case 0xa8:
      case 0xa9: {
        const sz = op === 0xa8 ? 8 : this.osz(d);
        this.getReg(sz, 0);
        f.localSet(T[0]);
        this.constLocal(op === 0xa8 ? d.imm & 0xff : this.immZ(d), T[1]);
        this.fl.test(sz, T[0], T[1], T[2]);
        return false;
      }
      case 0xf6:
      case 0xf7: {
        if (d.reg >= 2) break;
        const sz = op === 0xf6 ? 8 : this.osz(d);
        this.rmRead(d, sz, T[0]);
        this.constLocal(op === 0xf6 ? d.imm & 0xff : this.immZ(d), T[1]);
        this.fl.test(sz, T[0], T[1], T[2]);
        return false;
      }
      case 0x88:
      case 0x89: {
        const sz = op === 0x88 ? 8 : this.osz(d);
        this.getReg(sz, d.reg);
        f.localSet(T[0]);
        if (d.mod === 3) {
          this.setReg(sz, d.rm, T[0]);
          return false;
        }
        this.ea(d, T[5]);
        this.store(d, sz, T[5], T[0]);
        return true;
      }
      case 0x8a:
      case 0x8b: {
        const sz = op === 0x8a ? 8 : this.osz(d);
        this.rmRead(d, sz, T[0]);
        this.setReg(sz, d.reg, T[0]);
        return false;
      }
      case 0x8d:
        this.offset(d, T[0]);
        this.setReg(this.osz(d), d.reg, T[0]);
        return false;
      case 0x90:
        return false;
      case 0xc6:
      case 0xc7: {
        const sz = op === 0xc6 ? 8 : this.osz(d);
        this.constLocal(op === 0xc6 ? d.imm & 0xff : this.immZ(d), T[0]);
        if (d.mod === 3) {
          this.setReg(sz, d.rm, T[0]);
          return false;
        }
        this.ea(d, T[5]);
        this.store(d, sz, T[5], T[0]);
        return true;
      }
      case 0xfe:
      case 0xff:
        if (op === 0xff && d.reg === 6) {
          this.rmRead(d, 32, T[0]);
          this.push32(d, T[0]);
          return true;
        }
        return this.incDecRm(d, op === 0xfe ? 8 : this.osz(d), d.reg === 0);
      case 0xc9:
        // LEAVE: EBP is read at [EBP] before ESP changes (a fault leaves both).
        this.rget(5);
        f.localSet(T[1]);
        this.load(d, 32, T[1], T[0]);
        f.localGet(T[1]);
        f.i32Const(4);
        f.i32Add();
        this.rset(4);
        f.localGet(T[0]);
        this.rset(5);
        return false;
      case 0xe8: {
        // CALL rel32: push EIP of the next instruction, then jump.
        this.stateLoad(CPU_STATE.SEG_BASE + 4 * CS);
        f.localSet(T[1]);
        f.i32Const((d.lin + d.len) | 0);
        f.localGet(T[1]);
        f.i32Sub();
        f.localSet(T[0]);
        this.push32(d, T[0]);
        // The push may have landed on compiled code: leave after the call completes.
        this.smcCheck((d.lin + d.len + (d.imm | 0)) | 0, count);
        this.jump(d, d.imm | 0, count);
        return true;
      }
      case 0xe9:
        this.jump(d, d.imm | 0, count);
        return false;
      case 0xeb:
        this.jump(d, (d.imm << 24) >> 24, count);
        return false;
      case 0xc2:
      case 0xc3: {
        this.pop32(d, T[0]);
        if (op === 0xc2 && (d.imm & 0xffff) !== 0) {
          this.rget(4);
          f.i32Const(d.imm & 0xffff);
          f.i32Add();
          this.rset(4);
        }
        this.stateLoad(CPU_STATE.SEG_BASE + 4 * CS);
        f.localGet(T[0]);
        f.i32Add();
        f.localSet(this.EXIT);
        this.exitDynamic(count);
        return false;
      }
    }
    if (op === 0x1b6 || op === 0x1b7 || op === 0x1be || op === 0x1bf) {
      // MOVZX / MOVSX
      const src = op === 0x1b6 || op === 0x1be ? 8 : 16;
      this.rmRead(d, src, T[0]);
      if (op >= 0x1be) {
        f.localGet(T[0]);
        if (src === 8) f.i32Extend8S();
        else f.i32Extend16S();
        f.localSet(T[0]);
      }
      this.setReg(this.osz(d), d.reg, T[0]);
      return false;
    }
    if (op >= 0x140 && op <= 0x14f) {
      // CMOVcc: the source is read (and may fault) whatever the condition.
      const sz = this.osz(d);
      this.rmRead(d, sz, T[0]);
      this.fl.cond(op & 15);
      f.if();
      this.setReg(sz, d.reg, T[0]);
      f.end();
      return false;
    }
    if (op >= 0x190 && op <= 0x19f) {
      this.fl.cond(op & 15);
      f.localSet(T[0]);
      if (d.mod === 3) {
        this.setReg(8, d.rm, T[0]);
        return false;
      }
      this.ea(d, T[5]);
      this.store(d, 8, T[5], T[0]);
      return true;
    }
    if (op === 0x86 || op === 0x87 || (op >= 0x91 && op <= 0x97)) {
      const sz = op === 0x86 ? 8 : this.osz(d);
      const [x, y] = op >= 0x91 ? [0, op & 7] : [d.rm, d.reg];
      this.getReg(sz, x);
      f.localSet(T[0]);
      this.getReg(sz, y);
      f.localSet(T[1]);
      this.setReg(sz, x, T[1]);
      this.setReg(sz, y, T[0]);
      return false;
    }
    if (op === 0x98) {
      // CWDE / CBW
      if (d.opSize === 4) {
        this.getReg(16, 0);
        f.i32Extend16S();
        f.localSet(T[0]);
        this.setReg(32, 0, T[0]);
      } else {
        this.getReg(8, 0);
        f.i32Extend8S();
        f.localSet(T[0]);
        this.setReg(16, 0, T[0]);
      }
      return false;
    }
    if (op === 0x99) {
      // CDQ / CWD
      this.getReg(this.osz(d), 0);
      if (d.opSize !== 4) f.i32Extend16S();
      f.i32Const(31);
      f.i32ShrS();
      f.localSet(T[0]);
      this.setReg(this.osz(d), 2, T[0]);
      return false;
    }
    if (op === 0xc0 || op === 0xc1 || op === 0xd0 || op === 0xd1) {
      const sz = op === 0xc0 || op === 0xd0 ? 8 : this.osz(d);
      this.shift(d, sz, op >= 0xd0 ? 1 : d.imm & 0x1f);
      return false;
    }
    if (op === 0xd3) {
      this.shift(d, 32, null);
      return false;
    }
    if ((op === 0xf6 || op === 0xf7) && (d.reg === 2 || d.reg === 3)) {
      this.notNeg(d, op === 0xf6 ? 8 : this.osz(d));
      return false;
    }
    if (op === 0x1af || op === 0x69 || op === 0x6b) {
      // IMUL r32, r/m32 (, imm): CF = OF = the product does not fit in 32 bits.
      this.rmRead(d, 32, T[0]);
      if (op === 0x1af) this.rget(d.reg);
      else f.i32Const(op === 0x69 ? d.imm | 0 : (d.imm << 24) >> 24);
      f.localSet(T[1]);
      f.localGet(T[0]);
      f.i64ExtendI32S();
      f.localGet(T[1]);
      f.i64ExtendI32S();
      f.i64Mul();
      f.localSet(this.W);
      f.localGet(this.W);
      f.i32WrapI64();
      f.localSet(T[2]);
      f.localGet(this.W);
      f.localGet(T[2]);
      f.i64ExtendI32S();
      f.i64Ne();
      f.localSet(T[3]);
      this.fl.resultFlags(T[2], 32, () => {
        f.i32Const(CF | OF);
        f.i32Const(0);
        f.localGet(T[3]);
        f.select();
      });
      this.setReg(32, d.reg, T[2]);
      return false;
    }
    throw new Error(`wasm backend: no native code for opcode 0x${op.toString(16)}`);
  }
}
