/**
 * The x87 FPU and MMX execution unit of the software CPU.
 *
 * How the CPU uses it
 * -------------------
 *   const fpu = new Fpu(host);            // host: FpuHost (memory, #MF/IRQ13, #UD)
 *   fpu.reset();                          // power-on/RESET state (CW=0040h, TW=5555h)
 *   fpu.init();                           // INIT# state (= FNINIT)
 *
 *   // D8-DF escape opcodes. The CPU has checked CR0.EM/TS (#NM/#UD) and decoded ModRM
 *   // and the effective address; `lin` is ignored for register forms (modrm >= 0xC0).
 *   const r = fpu.exec(opcode, modrm, lin, info, eflags);
 *   if (r & FPU_OUT_AX) ax = fpu.out.ax;               // FNSTSW AX (DF E0)
 *   if (r & FPU_OUT_EFLAGS) eflags = fpu.out.eflags;   // FCOMI/FCOMIP/FUCOMI/FUCOMIP
 *
 *   fpu.wait();                           // WAIT/FWAIT (9B) after the CPU's CR0.MP/TS check
 *
 *   // MMX: 0F xx without a 66/F2/F3 prefix where isMmxOpcode(xx). `gpr` is the value
 *   // of the ModRM rm register for MOVD/MOVQ mm, r/m (0F 6E, mod=3); `rexW` selects the
 *   // 64-bit MOVQ forms of 0F 6E/7E. imm8 is the immediate of 0F 71/72/73.
 *   const r = fpu.execMmx(op2, modrm, lin, imm8, gprLo, gprHi, rexW);
 *   if (r & FPU_OUT_GPR) writeRm(fpu.out.gprLo, fpu.out.gprHi);  // MOVD/MOVQ r/m, mm (0F 7E, mod=3)
 *
 *   fpu.save(): FpuState; fpu.restore(state)   // snapshots (state.ts)
 *
 * The result channel is the preallocated `fpu.out` plus the returned bit set, so the hot
 * path allocates nothing; fpu-host.ts stays unchanged. `out.eflags` is the complete new
 * EFLAGS (ZF/PF/CF from the comparison, OF/SF/AF cleared, the rest as passed in).
 *
 * Exceptions: waiting instructions (everything except FNINIT, FNCLEX, FNSTSW, FNSTCW,
 * FNSTENV, FNSAVE and the FNENI/FNDISI/FNSETPM no-ops) and MMX instructions call
 * host.fpuError() first when an unmasked exception is pending (ES). Encodings that do not
 * exist call host.undefinedOpcode(); FISTTP (SSE3) is treated as undefined. All memory
 * reads happen before any state changes, and stores are checked with host.checkWritable()
 * before anything changes, so a faulting instruction can be restarted.
 *
 * FIP/FCS/FOP (and FDP/FDS for memory forms) are updated by every non-control
 * instruction, as the classic x87 does (recent Intel CPUs update FOP/FDP only on unmasked
 * exceptions and store FCS/FDS as 0; the FSAVE/FSTENV images here carry the values).
 *
 * Arithmetic is exact in software (float80.ts); transcendentals are described in
 * float80-transcendental.ts. fpu-oracle.test.ts compares every instruction form with the
 * host x87. Details that follow the hardware rather than the SDM's prose, all confirmed
 * there: ES/B always equal "some flag unmasked" (FLDCW, FLDENV, FRSTOR and FNSTENV's
 * masking recompute them); FCOMI leaves C0-C3 alone except that a stack fault clears C1;
 * compares set the condition codes and EFLAGS even when the exception is unmasked; FCMOVcc
 * with an empty operand writes the indefinite even when the condition is false; FLD ST(i)
 * reports an empty source before a full stack; FLD m32/m64 of a denormal loads even with
 * DE unmasked; D9 D8+i (FSTP1) with an empty ST0 just pops; FPREM on NaNs/invalid clears
 * C1 and C2 and keeps C0/C3; EMMS also sets TOP to 0; FNSAVE/FSTENV write 0xFFFF in the
 * reserved halves of the 32-bit protected-mode image.
 */

import type { FpuHost, FpuInstructionInfo } from './fpu-host.js';
import type { FpuState } from './state.js';
import { BadInputError, EmulatorError } from '../errors.js';
import {
  CMP_EQ,
  CMP_GT,
  CMP_LT,
  CMP_UN,
  type F80,
  FloatStatus,
  INDEFINITE,
  Kind,
  add,
  bcdIndefinite,
  compare,
  div,
  extract,
  f32ToExt,
  f64ToExt,
  fromBcd,
  fromInt,
  isNegative,
  kindOf,
  loadConverted,
  loadInfo,
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
  topExp,
} from './float80.js';
import { f2xm1, fcos, fpatan, fsin, fsincos, ftan, fyl2x, fyl2xp1 } from './float80-transcendental.js';
import { MmxAlu } from './mmx.js';

/** exec()/execMmx() result bits: which fields of `Fpu.out` the CPU must apply. */
export const FPU_OUT_AX = 1;
export const FPU_OUT_EFLAGS = 2;
export const FPU_OUT_GPR = 4;

/** Values an instruction hands back to the CPU (valid when the matching bit is returned). */
export class FpuOutput {
  /** New AX (FNSTSW AX). */
  ax = 0;
  /** Complete new EFLAGS (FCOMI family). */
  eflags = 0;
  /** Value for the ModRM rm general register (MOVD/MOVQ r/m, mm); gprHi only with REX.W. */
  gprLo = 0;
  gprHi = 0;
}

// Status word bits.
const SW_IE = 0x0001;
const SW_SF = 0x0040;
const SW_ES = 0x0080;
const SW_C0 = 0x0100;
const SW_C1 = 0x0200;
const SW_C2 = 0x0400;
const SW_C3 = 0x4000;
const SW_B = 0x8000;
const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;

// EFLAGS bits written by FCOMI.
const EFL_CF = 0x001;
const EFL_PF = 0x004;
const EFL_AF = 0x010;
const EFL_ZF = 0x040;
const EFL_SF = 0x080;
const EFL_OF = 0x800;

const ONE: F80 = { se: 0x3fff, sig: 1n << 63n };
const F32_INDEFINITE = 0xffc00000;
const BCD_MAX = 999999999999999999n;

/** Constants of FLD1..FLDZ: exponent, 64-bit significand, and whether the 66-bit value
 * lies above it (+1 when rounding up) or below it (-1 when rounding down or to zero). */
const CONSTANTS: readonly (readonly [number, bigint, number])[] = [
  [0x3fff, 0x8000000000000000n, 0], // FLD1
  [0x4000, 0xd49a784bcd1b8afen, 1], // FLDL2T
  [0x3fff, 0xb8aa3b295c17f0bcn, -1], // FLDL2E
  [0x4000, 0xc90fdaa22168c235n, -1], // FLDPI
  [0x3ffd, 0x9a209a84fbcff799n, -1], // FLDLG2
  [0x3ffe, 0xb17217f7d1cf79acn, -1], // FLDLN2
  [0x0000, 0n, 0], // FLDZ
];

export class Fpu {
  /** Result channel for FNSTSW AX, FCOMI and MOVD r32, mm (see the return bits). */
  readonly out = new FpuOutput();

  // Physical registers R0-R7: sign+exponent, and the 64-bit significands viewed both whole
  // (arithmetic) and as 32-bit halves (MMX, memory images): word 2p is the low half of
  // Rp, word 2p+1 the high half (little-endian host, checked by mmx.ts).
  private readonly regSe = new Uint16Array(8);
  private readonly sigBuffer = new ArrayBuffer(64);
  private readonly regSig = new BigUint64Array(this.sigBuffer);
  private readonly regWords = new Uint32Array(this.sigBuffer);
  /** 1 = tag "empty". The other tag values are derived from the contents when stored. */
  private readonly regEmpty = new Uint8Array(8);

  private cw = 0x0040;
  /** Status word without TOP, ES and B (TOP is `top`; ES/B follow the unmasked flags). */
  private sw = 0;
  private top = 0;
  private fip = 0;
  private fcs = 0;
  private fdp = 0;
  private fds = 0;
  private fop = 0;

  private readonly fs = new FloatStatus();
  private readonly bcd = new Uint8Array(10);
  private readonly mmx = new MmxAlu();

  constructor(private readonly host: FpuHost) {
    this.reset();
  }

  /** Power-on / RESET: CW=0040h, SW=0, TW=5555h (all +0.0), pointers 0 (SDM Table 9-1). */
  reset(): void {
    this.regSe.fill(0);
    this.regSig.fill(0n);
    this.regEmpty.fill(0);
    this.cw = 0x0040;
    this.sw = 0;
    this.top = 0;
    this.clearPointers();
  }

  /** INIT# or FNINIT: CW=037Fh, SW=0, all tags empty, pointers 0; registers unchanged. */
  init(): void {
    this.cw = 0x037f;
    this.sw = 0;
    this.top = 0;
    this.regEmpty.fill(1);
    this.clearPointers();
  }

  /** Current control word. */
  get controlWord(): number {
    return this.cw;
  }

  /** Current status word, including TOP, ES and B. */
  get statusWord(): number {
    const es = this.pending() ? SW_ES | SW_B : 0;
    return (this.sw & ~(SW_ES | SW_B | 0x3800)) | (this.top << 11) | es;
  }

  /** Full tag word (2 bits per physical register), derived from the contents. */
  get tagWord(): number {
    let tw = 0;
    for (let i = 0; i < 8; i++) tw |= this.physTag(i) << (2 * i);
    return tw;
  }

  /** WAIT/FWAIT: report a pending unmasked exception to the CPU. */
  wait(): void {
    if (this.pending()) this.host.fpuError();
  }

  // -------------------------------------------------------------------------------------
  // Snapshots

  save(): FpuState {
    const regs: string[] = [];
    for (let i = 0; i < 8; i++) {
      regs.push(
        this.regSe[i].toString(16).padStart(4, '0') +
          this.regWords[2 * i + 1].toString(16).padStart(8, '0') +
          this.regWords[2 * i].toString(16).padStart(8, '0'),
      );
    }
    return {
      control: this.cw,
      status: this.statusWord,
      tag: this.tagWord,
      opcode: this.fop,
      ip: this.fip,
      cs: this.fcs,
      dp: this.fdp,
      ds: this.fds,
      regs,
    };
  }

  restore(s: FpuState): void {
    if (s.regs.length !== 8 || s.regs.some((r) => !/^[0-9a-fA-F]{20}$/.test(r))) {
      throw new BadInputError('FPU state must have 8 registers of 20 hex digits', { registers: s.regs.length });
    }
    this.cw = (s.control & 0x1f7f) | 0x40;
    this.sw = s.status & 0xffff;
    this.top = (s.status >> 11) & 7;
    for (let i = 0; i < 8; i++) {
      const r = s.regs[i];
      this.regSe[i] = parseInt(r.slice(0, 4), 16);
      this.regSig[i] = BigInt('0x' + r.slice(4, 20));
      this.regEmpty[i] = ((s.tag >> (2 * i)) & 3) === 3 ? 1 : 0;
    }
    this.fop = s.opcode & 0x7ff;
    this.fip = s.ip >>> 0;
    this.fcs = s.cs & 0xffff;
    this.fdp = s.dp >>> 0;
    this.fds = s.ds & 0xffff;
  }

  // -------------------------------------------------------------------------------------
  // Register file helpers

  private pending(): boolean {
    return (this.sw & ~this.cw & 0x3f) !== 0;
  }

  private clearPointers(): void {
    this.fip = 0;
    this.fcs = 0;
    this.fdp = 0;
    this.fds = 0;
    this.fop = 0;
  }

  private phys(i: number): number {
    return (this.top + i) & 7;
  }

  private isEmpty(i: number): boolean {
    return this.regEmpty[(this.top + i) & 7] === 1;
  }

  private get(i: number): F80 {
    const p = (this.top + i) & 7;
    return { se: this.regSe[p], sig: this.regSig[p] };
  }

  private set(i: number, v: F80): void {
    const p = (this.top + i) & 7;
    this.regSe[p] = v.se;
    this.regSig[p] = v.sig;
    this.regEmpty[p] = 0;
  }

  private push(v: F80): void {
    this.top = (this.top - 1) & 7;
    this.set(0, v);
  }

  private pop(): void {
    this.regEmpty[this.top] = 1;
    this.top = (this.top + 1) & 7;
  }

  private physTag(p: number): number {
    if (this.regEmpty[p] === 1) return 3;
    const exp = this.regSe[p] & 0x7fff;
    const hi = this.regWords[2 * p + 1];
    if (exp === 0) return hi === 0 && this.regWords[2 * p] === 0 ? 1 : 2;
    if (exp === 0x7fff || (hi & 0x80000000) === 0) return 2;
    return 0;
  }

  private setC1(on: boolean): void {
    this.sw = on ? this.sw | SW_C1 : this.sw & ~SW_C1;
  }

  private setCC(c3: boolean, c2: boolean, c1: boolean, c0: boolean): void {
    this.sw = (this.sw & ~SW_CC) | (c3 ? SW_C3 : 0) | (c2 ? SW_C2 : 0) | (c1 ? SW_C1 : 0) | (c0 ? SW_C0 : 0);
  }

  /** Merge the FloatStatus result into the status word (flags and C1). */
  private commit(): void {
    this.sw |= this.fs.flags;
    this.setC1(this.fs.c1);
  }

  /** Stack fault: IE+SF, C1 = overflow. Returns true when IE is masked (deliver indefinite). */
  private stackFault(overflow: boolean): boolean {
    this.sw |= SW_IE | SW_SF;
    this.setC1(overflow);
    return (this.cw & SW_IE) !== 0;
  }

  /** Whether an unmasked exception stopped the current operation. */
  private unmaskedRaised(): boolean {
    return (this.fs.flags & ~this.fs.masks & 0x3f) !== 0;
  }

  private touch(opcode: number, modrm: number, info: FpuInstructionInfo): void {
    this.fop = ((opcode & 7) << 8) | modrm;
    this.fip = info.ip >>> 0;
    this.fcs = info.cs & 0xffff;
    if (modrm < 0xc0) {
      this.fdp = info.dp >>> 0;
      this.fds = info.ds & 0xffff;
    }
  }

  private checkPending(): void {
    if (this.pending()) this.host.fpuError();
  }

  // -------------------------------------------------------------------------------------
  // Memory access

  private readU32(lin: number): number {
    return this.host.readLin32(lin) >>> 0;
  }

  private readF80(lin: number): F80 {
    const lo = this.readU32(lin);
    const hi = this.readU32(lin + 4);
    const se = this.host.readLin16(lin + 8);
    return { se, sig: (BigInt(hi) << 32n) | BigInt(lo) };
  }

  private readU64(lin: number): bigint {
    const lo = this.readU32(lin);
    const hi = this.readU32(lin + 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  private writeU64(lin: number, v: bigint): void {
    this.host.checkWritable(lin, 8);
    this.host.writeLin32(lin, Number(v & 0xffffffffn));
    this.host.writeLin32(lin + 4, Number((v >> 32n) & 0xffffffffn));
  }

  private writeF80(lin: number, v: F80): void {
    this.host.checkWritable(lin, 10);
    this.host.writeLin32(lin, Number(v.sig & 0xffffffffn));
    this.host.writeLin32(lin + 4, Number(v.sig >> 32n));
    this.host.writeLin16(lin + 8, v.se);
  }

  /** Read the memory operand of a D8/DA/DC/DE arithmetic group as an extended value. */
  private readArithOperand(opcode: number, lin: number): F80 {
    switch (opcode) {
      case 0xd8:
        return f32ToExt(this.host.readLin32(lin));
      case 0xdc:
        return f64ToExt(this.readU64(lin));
      case 0xda:
        loadInfo.denormal = false;
        return fromInt(BigInt(this.host.readLin32(lin) | 0));
      default: {
        loadInfo.denormal = false;
        const v = this.host.readLin16(lin) & 0xffff;
        return fromInt(BigInt(v >= 0x8000 ? v - 0x10000 : v));
      }
    }
  }

  // -------------------------------------------------------------------------------------
  // Instruction dispatch

  /**
   * Execute one x87 instruction (escape opcode 0xD8-0xDF). Returns a set of FPU_OUT_* bits
   * telling the CPU which `out` fields to apply (0 for most instructions).
   */
  exec(opcode: number, modrm: number, lin: number, info: FpuInstructionInfo, eflags: number): number {
    if ((opcode & 0xf8) !== 0xd8) {
      throw new EmulatorError('INTERNAL', 'x87 unit called with a non-escape opcode', { opcode });
    }
    modrm &= 0xff;
    if (modrm >= 0xc0) return this.execReg(opcode, modrm, info, eflags);
    return this.execMem(opcode, modrm, lin, info);
  }

  private execMem(opcode: number, modrm: number, lin: number, info: FpuInstructionInfo): number {
    const reg = (modrm >> 3) & 7;
    switch (opcode) {
      case 0xd8:
      case 0xdc:
      case 0xda:
      case 0xde: {
        this.checkPending();
        const b = this.readArithOperand(opcode, lin);
        const memDen = loadInfo.denormal;
        this.touch(opcode, modrm, info);
        if (reg === 2 || reg === 3) this.compareMem(b, reg === 3 ? 1 : 0, memDen);
        else this.arithST0(reg, b, memDen);
        return 0;
      }
      case 0xd9:
        switch (reg) {
          case 0: {
            this.checkPending();
            const v = f32ToExt(this.host.readLin32(lin));
            this.touch(opcode, modrm, info);
            this.loadFloat(v, loadInfo.denormal);
            return 0;
          }
          case 2:
          case 3:
            this.checkPending();
            this.host.checkWritable(lin, 4);
            this.touch(opcode, modrm, info);
            this.storeFloat(lin, 32, reg === 3);
            return 0;
          case 4:
            this.checkPending();
            this.loadEnv(lin, info, false);
            return 0;
          case 5: {
            this.checkPending();
            const v = this.host.readLin16(lin);
            this.cw = (v & 0x1f7f) | 0x40;
            return 0;
          }
          case 6:
            this.storeEnv(lin, info);
            this.cw |= 0x3f;
            return 0;
          case 7:
            this.host.writeLin16(lin, this.cw);
            return 0;
          default:
            return this.host.undefinedOpcode();
        }
      case 0xdb:
        switch (reg) {
          case 0: {
            this.checkPending();
            const v = fromInt(BigInt(this.host.readLin32(lin) | 0));
            this.touch(opcode, modrm, info);
            this.loadExact(v);
            return 0;
          }
          case 2:
          case 3:
            this.checkPending();
            this.host.checkWritable(lin, 4);
            this.touch(opcode, modrm, info);
            this.storeInt(lin, 32, reg === 3);
            return 0;
          case 5: {
            this.checkPending();
            const v = this.readF80(lin);
            this.touch(opcode, modrm, info);
            this.loadExact(v);
            return 0;
          }
          case 7:
            this.checkPending();
            this.host.checkWritable(lin, 10);
            this.touch(opcode, modrm, info);
            this.storeExtended(lin);
            return 0;
          default:
            return this.host.undefinedOpcode();
        }
      case 0xdd:
        switch (reg) {
          case 0: {
            this.checkPending();
            const v = f64ToExt(this.readU64(lin));
            this.touch(opcode, modrm, info);
            this.loadFloat(v, loadInfo.denormal);
            return 0;
          }
          case 2:
          case 3:
            this.checkPending();
            this.host.checkWritable(lin, 8);
            this.touch(opcode, modrm, info);
            this.storeFloat(lin, 64, reg === 3);
            return 0;
          case 4:
            this.checkPending();
            this.loadEnv(lin, info, true);
            return 0;
          case 6:
            this.storeEnv(lin, info, true);
            this.init();
            return 0;
          case 7:
            this.host.writeLin16(lin, this.statusWord);
            return 0;
          default:
            return this.host.undefinedOpcode();
        }
      default:
        // 0xDF
        switch (reg) {
          case 0: {
            this.checkPending();
            const raw = this.host.readLin16(lin) & 0xffff;
            this.touch(opcode, modrm, info);
            this.loadExact(fromInt(BigInt(raw >= 0x8000 ? raw - 0x10000 : raw)));
            return 0;
          }
          case 2:
          case 3:
            this.checkPending();
            this.host.checkWritable(lin, 2);
            this.touch(opcode, modrm, info);
            this.storeInt(lin, 16, reg === 3);
            return 0;
          case 4: {
            this.checkPending();
            for (let i = 0; i < 10; i++) this.bcd[i] = this.host.readLin8(lin + i);
            this.touch(opcode, modrm, info);
            this.loadExact(fromBcd(this.bcd));
            return 0;
          }
          case 5: {
            this.checkPending();
            const v = BigInt.asIntN(64, this.readU64(lin));
            this.touch(opcode, modrm, info);
            this.loadExact(fromInt(v));
            return 0;
          }
          case 6:
            this.checkPending();
            this.host.checkWritable(lin, 10);
            this.touch(opcode, modrm, info);
            this.storeBcd(lin);
            return 0;
          case 7:
            this.checkPending();
            this.host.checkWritable(lin, 8);
            this.touch(opcode, modrm, info);
            this.storeInt(lin, 64, true);
            return 0;
          default:
            return this.host.undefinedOpcode();
        }
    }
  }

  private execReg(opcode: number, modrm: number, info: FpuInstructionInfo, eflags: number): number {
    const reg = (modrm >> 3) & 7;
    const i = modrm & 7;
    switch (opcode) {
      case 0xd8:
        this.checkPending();
        this.touch(opcode, modrm, info);
        if (reg === 2 || reg === 3) this.compareRegs(i, false, reg === 3 ? 1 : 0, false, eflags);
        else this.arithRegs(reg, i, false, false);
        return 0;
      case 0xdc:
        this.checkPending();
        this.touch(opcode, modrm, info);
        // DC D0-DF are the undocumented aliases of FCOM/FCOMP.
        if (reg === 2 || reg === 3) this.compareRegs(i, false, reg === 3 ? 1 : 0, false, eflags);
        else this.arithRegs(reg, i, true, false);
        return 0;
      case 0xde:
        if (reg === 3 && i !== 1) return this.host.undefinedOpcode();
        this.checkPending();
        this.touch(opcode, modrm, info);
        if (reg === 2) this.compareRegs(i, false, 1, false, eflags); // FCOMP alias
        else if (reg === 3) this.compareRegs(1, false, 2, false, eflags); // FCOMPP
        else this.arithRegs(reg, i, true, true);
        return 0;
      case 0xd9:
        return this.execD9Reg(modrm, info);
      case 0xda:
        if (reg === 5) {
          if (i !== 1) return this.host.undefinedOpcode();
          this.checkPending();
          this.touch(opcode, modrm, info);
          this.compareRegs(1, true, 2, false, eflags); // FUCOMPP
          return 0;
        }
        if (reg > 3) return this.host.undefinedOpcode();
        this.checkPending();
        this.touch(opcode, modrm, info);
        this.fcmov(i, cmovCondition(reg, eflags));
        return 0;
      case 0xdb:
        if (reg < 4) {
          this.checkPending();
          this.touch(opcode, modrm, info);
          this.fcmov(i, !cmovCondition(reg, eflags));
          return 0;
        }
        if (reg === 4) {
          switch (i) {
            case 0: // FNENI, FNDISI, FNSETPM: no-ops since the 387
            case 1:
            case 4:
              return 0;
            case 2: // FNCLEX
              this.sw &= ~(0xff | SW_B);
              return 0;
            case 3:
              this.init();
              return 0;
            default:
              return this.host.undefinedOpcode();
          }
        }
        if (reg === 7) return this.host.undefinedOpcode();
        this.checkPending();
        this.touch(opcode, modrm, info);
        return this.compareRegs(i, reg === 5, 0, true, eflags);
      case 0xdd:
        switch (reg) {
          case 0: // FFREE
            this.checkPending();
            this.touch(opcode, modrm, info);
            this.regEmpty[this.phys(i)] = 1;
            this.setC1(false);
            return 0;
          case 1: // FXCH alias
            this.checkPending();
            this.touch(opcode, modrm, info);
            this.fxch(i);
            return 0;
          case 2:
          case 3:
            this.checkPending();
            this.touch(opcode, modrm, info);
            this.fstReg(i, reg === 3);
            return 0;
          case 4:
          case 5:
            this.checkPending();
            this.touch(opcode, modrm, info);
            this.compareRegs(i, true, reg === 5 ? 1 : 0, false, eflags);
            return 0;
          default:
            return this.host.undefinedOpcode();
        }
      default:
        // 0xDF
        switch (reg) {
          case 0: // FFREEP
            this.checkPending();
            this.touch(opcode, modrm, info);
            this.regEmpty[this.phys(i)] = 1;
            this.setC1(false);
            this.pop();
            return 0;
          case 1: // FXCH alias
            this.checkPending();
            this.touch(opcode, modrm, info);
            this.fxch(i);
            return 0;
          case 2: // FSTP aliases
          case 3:
            this.checkPending();
            this.touch(opcode, modrm, info);
            this.fstReg(i, true);
            return 0;
          case 4:
            if (i !== 0) return this.host.undefinedOpcode();
            this.out.ax = this.statusWord;
            return FPU_OUT_AX;
          case 5:
          case 6:
            this.checkPending();
            this.touch(opcode, modrm, info);
            return this.compareRegs(i, reg === 5, 1, true, eflags);
          default:
            return this.host.undefinedOpcode();
        }
    }
  }

  private execD9Reg(modrm: number, info: FpuInstructionInfo): number {
    const reg = (modrm >> 3) & 7;
    const i = modrm & 7;
    if (reg === 0) {
      this.checkPending();
      this.touch(0xd9, modrm, info);
      this.fldReg(i);
      return 0;
    }
    if (reg === 1) {
      this.checkPending();
      this.touch(0xd9, modrm, info);
      this.fxch(i);
      return 0;
    }
    if (reg === 2) {
      if (i !== 0) return this.host.undefinedOpcode();
      this.checkPending();
      this.touch(0xd9, modrm, info);
      return 0; // FNOP
    }
    if (reg === 3) {
      // D9 D8+i (undocumented FSTP1, "FSTPNCE"): like FSTP ST(i), except that an empty
      // ST0 raises nothing and only pops, as the CPU does.
      this.checkPending();
      this.touch(0xd9, modrm, info);
      if (this.isEmpty(0)) {
        this.setC1(false);
        this.pop();
      } else {
        this.fstReg(i, true);
      }
      return 0;
    }
    switch (modrm) {
      case 0xe0:
      case 0xe1:
      case 0xe4:
      case 0xe5:
      case 0xe8:
      case 0xe9:
      case 0xea:
      case 0xeb:
      case 0xec:
      case 0xed:
      case 0xee:
        break;
      default:
        if (modrm < 0xf0) return this.host.undefinedOpcode();
    }
    this.checkPending();
    this.touch(0xd9, modrm, info);
    switch (modrm) {
      case 0xe0:
      case 0xe1:
        this.signOp(modrm === 0xe0);
        return 0;
      case 0xe4:
        this.compareMem(fromInt(0n), 0, false);
        return 0;
      case 0xe5:
        this.fxam();
        return 0;
      case 0xf0:
        this.unaryOp(f2xm1);
        return 0;
      case 0xf1:
        this.binaryToST1(fyl2x);
        return 0;
      case 0xf2:
        this.fptan();
        return 0;
      case 0xf3:
        this.binaryToST1((x, y, st) => fpatan(y, x, st));
        return 0;
      case 0xf4:
        this.fxtract();
        return 0;
      case 0xf5:
      case 0xf8:
        this.fprem(modrm === 0xf5);
        return 0;
      case 0xf6:
        this.top = (this.top - 1) & 7;
        this.setC1(false);
        return 0;
      case 0xf7:
        this.top = (this.top + 1) & 7;
        this.setC1(false);
        return 0;
      case 0xf9:
        this.binaryToST1(fyl2xp1);
        return 0;
      case 0xfa:
        this.unaryOp(sqrt);
        return 0;
      case 0xfb:
        this.fsincos();
        return 0;
      case 0xfc:
        this.unaryOp(roundToInt);
        return 0;
      case 0xfd:
        this.fscale();
        return 0;
      case 0xfe:
      case 0xff:
        this.trig(modrm === 0xfe ? fsin : fcos);
        return 0;
      default:
        this.fldConst(modrm - 0xe8);
        return 0;
    }
  }

  // -------------------------------------------------------------------------------------
  // Loads and stores

  /** Push a value that needs no conversion checks (FILD, FBLD, FLD m80). */
  private loadExact(v: F80): void {
    if (!this.isEmpty(7)) {
      if (this.stackFault(true)) this.push(INDEFINITE);
      return;
    }
    this.setC1(false);
    this.push(v);
  }

  /** FLD m32/m64: SNaN raises IE, a denormal raises DE (and still loads). */
  private loadFloat(v: F80, wasDenormal: boolean): void {
    if (!this.isEmpty(7)) {
      if (this.stackFault(true)) this.push(INDEFINITE);
      return;
    }
    this.fs.begin(this.cw);
    const r = loadConverted(v, wasDenormal, this.fs);
    this.commit();
    if (r !== null) this.push(r);
  }

  private fldReg(i: number): void {
    // An empty source outranks a full stack (C1=0), as the CPU reports it.
    if (this.isEmpty(i)) {
      if (this.stackFault(false)) this.push(INDEFINITE);
      return;
    }
    if (!this.isEmpty(7)) {
      if (this.stackFault(true)) this.push(INDEFINITE);
      return;
    }
    // Copy the raw encoding (no conversion: FLD ST(i) never raises anything itself).
    const src = this.phys(i);
    this.setC1(false);
    this.top = (this.top - 1) & 7;
    this.copyPhys(src, this.top);
  }

  private fldConst(n: number): void {
    const [exp, sig, dir] = CONSTANTS[n];
    const rc = (this.cw >> 10) & 3;
    let m = sig;
    if (dir > 0 && rc === 2) m += 1n;
    else if (dir < 0 && (rc === 1 || rc === 3)) m -= 1n;
    this.loadExact({ se: exp, sig: m });
  }

  private storeFloat(lin: number, bits: 32 | 64, popAfter: boolean): void {
    if (this.isEmpty(0)) {
      if (!this.stackFault(false)) return;
      if (bits === 32) this.host.writeLin32(lin, F32_INDEFINITE | 0);
      else this.writeU64(lin, 0xfff8000000000000n);
      if (popAfter) this.pop();
      return;
    }
    this.fs.begin(this.cw);
    const v = this.get(0);
    if (bits === 32) {
      const r = toF32(v, this.fs);
      if (r !== null) this.host.writeLin32(lin, r | 0);
    } else {
      const r = toF64(v, this.fs);
      if (r !== null) this.writeU64(lin, r);
    }
    this.commit();
    if (!this.unmaskedStop() && popAfter) this.pop();
  }

  /** Unmasked IE/OE/UE (or DE/ZE) leave the stack alone; unmasked PE does not. */
  private unmaskedStop(): boolean {
    return (this.fs.flags & ~this.fs.masks & 0x1f) !== 0;
  }

  private storeExtended(lin: number): void {
    if (this.isEmpty(0)) {
      if (!this.stackFault(false)) return;
      this.writeF80(lin, INDEFINITE);
      this.pop();
      return;
    }
    this.writeF80(lin, this.get(0));
    this.setC1(false);
    this.pop();
  }

  private storeInt(lin: number, bits: 16 | 32 | 64, popAfter: boolean): void {
    const limit = 1n << BigInt(bits - 1);
    // undefined: store the integer indefinite (invalid operand or stack underflow, masked).
    let v: bigint | undefined;
    const fault = this.isEmpty(0);
    if (fault) {
      if (!this.stackFault(false)) return;
    } else {
      this.fs.begin(this.cw);
      const r = toInteger(this.get(0), -limit, limit - 1n, this.fs);
      if (r === null) {
        this.commit();
        return;
      }
      v = r;
    }
    const raw = v === undefined ? limit : BigInt.asUintN(bits, v);
    if (bits === 16) this.host.writeLin16(lin, Number(raw));
    else if (bits === 32) this.host.writeLin32(lin, Number(raw) | 0);
    else this.writeU64(lin, raw);
    if (!fault) this.commit();
    if (popAfter) this.pop();
  }

  private storeBcd(lin: number): void {
    const out = this.bcd;
    const fault = this.isEmpty(0);
    if (fault) {
      if (!this.stackFault(false)) return;
      bcdIndefinite(out);
    } else {
      this.fs.begin(this.cw);
      const st0 = this.get(0);
      const v = toInteger(st0, -BCD_MAX, BCD_MAX, this.fs);
      if (v === null) {
        this.commit();
        return;
      }
      if (v === undefined) bcdIndefinite(out);
      else toBcdBytes(v, isNegative(st0), out);
    }
    this.host.checkWritable(lin, 10);
    for (let k = 0; k < 10; k++) this.host.writeLin8(lin + k, out[k]);
    if (!fault) this.commit();
    this.pop();
  }

  private fstReg(i: number, popAfter: boolean): void {
    if (this.isEmpty(0)) {
      if (!this.stackFault(false)) return;
      this.set(i, INDEFINITE);
    } else {
      this.copyPhys(this.phys(0), this.phys(i));
      this.setC1(false);
    }
    if (popAfter) this.pop();
  }

  private fxch(i: number): void {
    const e0 = this.isEmpty(0);
    const ei = this.isEmpty(i);
    if (e0 || ei) {
      if (!this.stackFault(false)) return;
      if (e0) this.set(0, INDEFINITE);
      if (ei) this.set(i, INDEFINITE);
    } else {
      this.setC1(false);
    }
    const a = this.phys(0);
    const b = this.phys(i);
    const se = this.regSe[a];
    const sig = this.regSig[a];
    this.copyPhys(b, a);
    this.regSe[b] = se;
    this.regSig[b] = sig;
  }

  /** Copy physical register `from` to `to` bit for bit and mark it in use. */
  private copyPhys(from: number, to: number): void {
    this.regSe[to] = this.regSe[from];
    this.regSig[to] = this.regSig[from];
    this.regEmpty[to] = 0;
  }

  private fcmov(i: number, cond: boolean): void {
    if (this.isEmpty(0) || this.isEmpty(i)) {
      if (this.stackFault(false)) this.set(0, INDEFINITE);
      return;
    }
    if (cond) this.set(0, this.get(i));
  }

  // -------------------------------------------------------------------------------------
  // Arithmetic

  private binary(op: number, a: F80, b: F80, memDen: boolean): F80 | null {
    const st = this.fs;
    switch (op) {
      case 0:
        return add(a, b, false, st, memDen);
      case 1:
        return mul(a, b, st, memDen);
      case 4:
        return add(a, b, true, st, memDen);
      case 5:
        return add(b, a, true, st, memDen);
      case 6:
        return div(a, b, st, memDen);
      default:
        return div(b, a, st, memDen);
    }
  }

  /** ST0 = ST0 op m (D8/DC/DA/DE memory forms). */
  private arithST0(op: number, b: F80, memDen: boolean): void {
    if (this.isEmpty(0)) {
      if (this.stackFault(false)) this.set(0, INDEFINITE);
      return;
    }
    this.fs.begin(this.cw);
    const r = this.binary(op, this.get(0), b, memDen);
    this.commit();
    if (r !== null) this.set(0, r);
  }

  /** D8: ST0 = ST0 op ST(i); DC/DE: ST(i) = ST0 op ST(i) (DE pops). */
  private arithRegs(op: number, i: number, toSTi: boolean, popAfter: boolean): void {
    const dest = toSTi ? i : 0;
    if (this.isEmpty(0) || this.isEmpty(i)) {
      if (!this.stackFault(false)) return;
      this.set(dest, INDEFINITE);
      if (popAfter) this.pop();
      return;
    }
    this.fs.begin(this.cw);
    const r = this.binary(op, this.get(0), this.get(i), false);
    this.commit();
    if (r === null) return;
    this.set(dest, r);
    if (popAfter) this.pop();
  }

  private unaryOp(fn: (a: F80, st: FloatStatus) => F80 | null): void {
    if (this.isEmpty(0)) {
      if (this.stackFault(false)) this.set(0, INDEFINITE);
      return;
    }
    this.fs.begin(this.cw);
    const r = fn(this.get(0), this.fs);
    this.commit();
    if (r !== null) this.set(0, r);
  }

  /** FYL2X, FYL2XP1, FPATAN: ST1 = f(ST0, ST1), pop. */
  private binaryToST1(fn: (x: F80, y: F80, st: FloatStatus) => F80 | null): void {
    if (this.isEmpty(0) || this.isEmpty(1)) {
      if (!this.stackFault(false)) return;
      this.set(1, INDEFINITE);
      this.pop();
      return;
    }
    this.fs.begin(this.cw);
    const r = fn(this.get(0), this.get(1), this.fs);
    this.commit();
    if (r === null) return;
    this.set(1, r);
    this.pop();
  }

  private signOp(chs: boolean): void {
    if (this.isEmpty(0)) {
      if (this.stackFault(false)) this.set(0, INDEFINITE);
      return;
    }
    const p = this.phys(0);
    this.regSe[p] = chs ? this.regSe[p] ^ 0x8000 : this.regSe[p] & 0x7fff;
    this.setC1(false);
  }

  private fscale(): void {
    if (this.isEmpty(0) || this.isEmpty(1)) {
      if (this.stackFault(false)) this.set(0, INDEFINITE);
      return;
    }
    this.fs.begin(this.cw);
    const r = scale(this.get(0), this.get(1), this.fs);
    this.commit();
    if (r !== null) this.set(0, r);
  }

  private fprem(ieee: boolean): void {
    if (this.isEmpty(0) || this.isEmpty(1)) {
      this.sw &= ~SW_C2;
      if (this.stackFault(false)) this.set(0, INDEFINITE);
      return;
    }
    this.fs.begin(this.cw);
    const r = prem(this.get(0), this.get(1), ieee, this.fs);
    if (r === null || premResult.special) {
      // NaN, invalid or stopped: C2 and C1 cleared, C0 and C3 kept (as the CPU does).
      this.sw = (this.sw & ~(SW_C1 | SW_C2)) | this.fs.flags;
      if (r !== null) this.set(0, r);
      return;
    }
    const q = premResult.q;
    this.setCC((q & 2) !== 0, premResult.partial, false, (q & 4) !== 0);
    this.sw |= this.fs.flags;
    // C1 carries quotient bit 0 here, not the rounding direction.
    this.setC1((q & 1) !== 0);
    this.set(0, r);
  }

  private fxtract(): void {
    if (this.isEmpty(0) || !this.isEmpty(7)) {
      if (!this.stackFault(!this.isEmpty(0))) return;
      this.set(0, INDEFINITE);
      this.push(INDEFINITE);
      return;
    }
    this.fs.begin(this.cw);
    const r = extract(this.get(0), this.fs);
    this.commit();
    if (r === null) return;
    this.set(0, r[0]);
    this.push(r[1]);
  }

  /** |x| >= 2^63 for a finite x: the trig instructions leave it and set C2. */
  private outOfTrigRange(): boolean {
    const v = this.get(0);
    const k = kindOf(v);
    return (k === Kind.Normal || k === Kind.Denormal) && topExp(v) >= 63;
  }

  private trig(fn: (a: F80, st: FloatStatus) => F80 | null): void {
    this.sw &= ~SW_C2;
    if (this.isEmpty(0)) {
      if (this.stackFault(false)) this.set(0, INDEFINITE);
      return;
    }
    if (this.outOfTrigRange()) {
      this.sw |= SW_C2;
      this.setC1(false);
      return;
    }
    this.unaryOp(fn);
  }

  /** FPTAN and FSINCOS share the push and the stack checks. */
  private pushingTrig(compute: (a: F80) => [F80, F80] | null): void {
    this.sw &= ~SW_C2;
    if (this.isEmpty(0) || !this.isEmpty(7)) {
      if (!this.stackFault(!this.isEmpty(0))) return;
      this.set(0, INDEFINITE);
      this.push(INDEFINITE);
      return;
    }
    if (this.outOfTrigRange()) {
      this.sw |= SW_C2;
      this.setC1(false);
      return;
    }
    this.fs.begin(this.cw);
    const r = compute(this.get(0));
    this.commit();
    if (r === null) return;
    this.set(0, r[0]);
    this.push(r[1]);
  }

  private fptan(): void {
    this.pushingTrig((a) => {
      const t = ftan(a, this.fs);
      if (t === null) return null;
      const k = kindOf(t);
      // A NaN result is pushed twice, as the CPU does.
      return [t, k === Kind.QNaN ? t : ONE];
    });
  }

  private fsincos(): void {
    this.pushingTrig((a) => fsincos(a, this.fs));
  }

  // -------------------------------------------------------------------------------------
  // Comparisons

  /**
   * Compare ST0 with `b`. pops: 0, 1 or 2. eflagsOut: FCOMI form (set EFLAGS, leave
   * C0/C2/C3). Returns FPU_OUT_EFLAGS for the FCOMI forms.
   */
  private compareST0(b: F80, quiet: boolean, pops: number, memDen: boolean, eflagsOut: boolean, eflags = 0): number {
    this.fs.begin(this.cw);
    const res = compare(this.get(0), b, quiet, this.fs, memDen);
    this.sw |= this.fs.flags;
    return this.finishCompare(res, pops, eflagsOut, eflags, !this.unmaskedRaised());
  }

  private finishCompare(res: number, pops: number, eflagsOut: boolean, eflags: number, popOk: boolean): number {
    const gt = res === CMP_GT;
    const lt = res === CMP_LT;
    const eq = res === CMP_EQ;
    let ret = 0;
    if (eflagsOut) {
      const zf = !gt && !lt;
      const cf = !gt && !eq;
      const pf = !gt && !lt && !eq;
      this.out.eflags =
        (eflags & ~(EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF)) |
        (zf ? EFL_ZF : 0) |
        (pf ? EFL_PF : 0) |
        (cf ? EFL_CF : 0);
      ret = FPU_OUT_EFLAGS;
    } else {
      this.setCC(!gt && !lt, !gt && !lt && !eq, false, !gt && !eq);
    }
    if (popOk) for (let k = 0; k < pops; k++) this.pop();
    return ret;
  }

  /** FCOM/FICOM memory forms and FTST: ST0 against a value. */
  private compareMem(b: F80, pops: number, memDen: boolean): void {
    if (this.isEmpty(0)) {
      const masked = this.stackFault(false);
      this.finishCompare(CMP_UN, pops, false, 0, masked);
      return;
    }
    this.compareST0(b, false, pops, memDen, false);
  }

  /** Register compares: ST0 against ST(i). */
  private compareRegs(i: number, quiet: boolean, pops: number, eflagsOut: boolean, eflags: number): number {
    if (this.isEmpty(0) || this.isEmpty(i)) {
      const masked = this.stackFault(false);
      return this.finishCompare(CMP_UN, pops, eflagsOut, eflags, masked);
    }
    return this.compareST0(this.get(i), quiet, pops, false, eflagsOut, eflags);
  }

  private fxam(): void {
    const p = this.phys(0);
    const sign = (this.regSe[p] & 0x8000) !== 0;
    if (this.regEmpty[p] === 1) {
      this.setCC(true, false, sign, true);
      return;
    }
    const k = kindOf(this.get(0));
    // C3 C2 C0: 000 unsupported, 001 NaN, 010 normal, 011 infinity, 100 zero, 110 denormal.
    switch (k) {
      case Kind.Unsupported:
        this.setCC(false, false, sign, false);
        return;
      case Kind.QNaN:
      case Kind.SNaN:
        this.setCC(false, false, sign, true);
        return;
      case Kind.Normal:
        this.setCC(false, true, sign, false);
        return;
      case Kind.Infinity:
        this.setCC(false, true, sign, true);
        return;
      case Kind.Zero:
        this.setCC(true, false, sign, false);
        return;
      default:
        this.setCC(true, true, sign, false);
    }
  }

  // -------------------------------------------------------------------------------------
  // Environment

  /** Store the 14- or 28-byte environment (no state change here). */
  private storeEnv(lin: number, info: FpuInstructionInfo, withRegs = false): void {
    const h = this.host;
    const big = info.operand32;
    const envSize = big ? 28 : 14;
    h.checkWritable(lin, envSize + (withRegs ? 80 : 0));
    const sw = this.statusWord;
    const tw = this.tagWord;
    if (big) {
      h.writeLin32(lin, 0xffff0000 | this.cw);
      h.writeLin32(lin + 4, 0xffff0000 | sw);
      h.writeLin32(lin + 8, 0xffff0000 | tw);
      if (info.realMode) {
        const ip = (this.fip + (this.fcs << 4)) >>> 0;
        const dp = (this.fdp + (this.fds << 4)) >>> 0;
        h.writeLin32(lin + 12, 0xffff0000 | (ip & 0xffff));
        h.writeLin32(lin + 16, ((ip >>> 16) << 12) | this.fop);
        h.writeLin32(lin + 20, 0xffff0000 | (dp & 0xffff));
        h.writeLin32(lin + 24, (dp >>> 16) << 12);
      } else {
        h.writeLin32(lin + 12, this.fip);
        h.writeLin32(lin + 16, this.fcs | (this.fop << 16));
        h.writeLin32(lin + 20, this.fdp);
        h.writeLin32(lin + 24, 0xffff0000 | this.fds);
      }
    } else {
      h.writeLin16(lin, this.cw);
      h.writeLin16(lin + 2, sw);
      h.writeLin16(lin + 4, tw);
      if (info.realMode) {
        const ip = (this.fip + (this.fcs << 4)) >>> 0;
        const dp = (this.fdp + (this.fds << 4)) >>> 0;
        h.writeLin16(lin + 6, ip & 0xffff);
        h.writeLin16(lin + 8, (((ip >>> 16) & 0xf) << 12) | this.fop);
        h.writeLin16(lin + 10, dp & 0xffff);
        h.writeLin16(lin + 12, ((dp >>> 16) & 0xf) << 12);
      } else {
        h.writeLin16(lin + 6, this.fip & 0xffff);
        h.writeLin16(lin + 8, this.fcs);
        h.writeLin16(lin + 10, this.fdp & 0xffff);
        h.writeLin16(lin + 12, this.fds);
      }
    }
    if (!withRegs) return;
    for (let k = 0; k < 8; k++) {
      const p = (this.top + k) & 7;
      const at = lin + envSize + 10 * k;
      h.writeLin32(at, this.regWords[2 * p]);
      h.writeLin32(at + 4, this.regWords[2 * p + 1]);
      h.writeLin16(at + 8, this.regSe[p]);
    }
  }

  /** FLDENV / FRSTOR: read everything first, then load. */
  private loadEnv(lin: number, info: FpuInstructionInfo, withRegs: boolean): void {
    const h = this.host;
    const big = info.operand32;
    let cw: number;
    let sw: number;
    let tw: number;
    let fip: number;
    let fcs: number;
    let fop: number;
    let fdp: number;
    let fds: number;
    if (big) {
      cw = h.readLin16(lin);
      sw = h.readLin16(lin + 4);
      tw = h.readLin16(lin + 8);
      const d12 = h.readLin32(lin + 12) >>> 0;
      const d16 = h.readLin32(lin + 16) >>> 0;
      const d20 = h.readLin32(lin + 20) >>> 0;
      const d24 = h.readLin32(lin + 24) >>> 0;
      if (info.realMode) {
        fip = ((d12 & 0xffff) | ((d16 >>> 12) << 16)) >>> 0;
        fop = d16 & 0x7ff;
        fdp = ((d20 & 0xffff) | ((d24 >>> 12) << 16)) >>> 0;
        fcs = 0;
        fds = 0;
      } else {
        fip = d12;
        fcs = d16 & 0xffff;
        fop = (d16 >>> 16) & 0x7ff;
        fdp = d20;
        fds = d24 & 0xffff;
      }
    } else {
      cw = h.readLin16(lin);
      sw = h.readLin16(lin + 2);
      tw = h.readLin16(lin + 4);
      const w6 = h.readLin16(lin + 6);
      const w8 = h.readLin16(lin + 8);
      const w10 = h.readLin16(lin + 10);
      const w12 = h.readLin16(lin + 12);
      if (info.realMode) {
        fip = w6 | ((w8 >>> 12) << 16);
        fop = w8 & 0x7ff;
        fdp = w10 | ((w12 >>> 12) << 16);
        fcs = 0;
        fds = 0;
      } else {
        fip = w6;
        fcs = w8;
        fdp = w10;
        fds = w12;
        fop = this.fop;
      }
    }
    const regs: F80[] = [];
    if (withRegs) {
      const base = lin + (big ? 28 : 14);
      for (let k = 0; k < 8; k++) regs.push(this.readF80(base + 10 * k));
    }
    this.cw = (cw & 0x1f7f) | 0x40;
    this.sw = sw & 0xffff;
    this.top = (sw >> 11) & 7;
    for (let p = 0; p < 8; p++) this.regEmpty[p] = ((tw >> (2 * p)) & 3) === 3 ? 1 : 0;
    this.fip = fip;
    this.fcs = fcs;
    this.fop = fop;
    this.fdp = fdp;
    this.fds = fds;
    if (withRegs) {
      for (let k = 0; k < 8; k++) {
        const p = (this.top + k) & 7;
        this.regSe[p] = regs[k].se;
        this.regSig[p] = regs[k].sig;
      }
    }
  }

  // -------------------------------------------------------------------------------------
  // MMX

  /** Enter MMX mode: TOP=0 and every tag valid (every MMX instruction but EMMS). */
  mmxEnter(): void {
    this.top = 0;
    this.regEmpty.fill(0);
  }

  private mmxWrite(r: number, lo: number, hi: number): void {
    this.regWords[2 * r] = lo;
    this.regWords[2 * r + 1] = hi;
    this.regSe[r] = 0xffff;
  }

  /**
   * Execute MMX instruction 0F `op2`. For memory forms `lin` is the operand's linear
   * address; `imm8` is the immediate of 0F 71/72/73; `gprLo`/`gprHi` the rm register for
   * 0F 6E with mod=3; `rexW` selects MOVQ r/m64 for 0F 6E/7E. Returns FPU_OUT_GPR when
   * `out.gprLo`/`out.gprHi` must be written to the rm register (0F 7E, mod=3).
   */
  execMmx(op2: number, modrm: number, lin: number, imm8 = 0, gprLo = 0, gprHi = 0, rexW = false): number {
    op2 &= 0xff;
    modrm &= 0xff;
    const isReg = modrm >= 0xc0;
    const reg = (modrm >> 3) & 7;
    const rm = modrm & 7;
    const alu = this.mmx;
    switch (op2) {
      case 0x77: // EMMS: all tags empty (and TOP=0, as the CPU leaves it)
        this.checkPending();
        this.top = 0;
        this.regEmpty.fill(1);
        return 0;
      case 0x6e: {
        // MOVD/MOVQ mm, r/m
        this.checkPending();
        let lo: number;
        let hi = 0;
        if (isReg) {
          lo = gprLo >>> 0;
          if (rexW) hi = gprHi >>> 0;
        } else {
          lo = this.readU32(lin);
          if (rexW) hi = this.readU32(lin + 4);
        }
        this.mmxEnter();
        this.mmxWrite(reg, lo, hi);
        return 0;
      }
      case 0x7e: // MOVD/MOVQ r/m, mm
        this.checkPending();
        if (isReg) {
          this.mmxEnter();
          this.out.gprLo = this.regWords[2 * reg];
          this.out.gprHi = rexW ? this.regWords[2 * reg + 1] : 0;
          return FPU_OUT_GPR;
        }
        if (rexW) {
          this.host.checkWritable(lin, 8);
          this.host.writeLin32(lin, this.regWords[2 * reg] | 0);
          this.host.writeLin32(lin + 4, this.regWords[2 * reg + 1] | 0);
        } else {
          this.host.writeLin32(lin, this.regWords[2 * reg] | 0);
        }
        this.mmxEnter();
        return 0;
      case 0x6f: {
        // MOVQ mm, mm/m64
        this.checkPending();
        let lo: number;
        let hi: number;
        if (isReg) {
          lo = this.regWords[2 * rm];
          hi = this.regWords[2 * rm + 1];
        } else {
          lo = this.readU32(lin);
          hi = this.readU32(lin + 4);
        }
        this.mmxEnter();
        this.mmxWrite(reg, lo, hi);
        return 0;
      }
      case 0x7f: // MOVQ mm/m64, mm
        this.checkPending();
        if (isReg) {
          this.mmxEnter();
          this.mmxWrite(rm, this.regWords[2 * reg], this.regWords[2 * reg + 1]);
          return 0;
        }
        this.host.checkWritable(lin, 8);
        this.host.writeLin32(lin, this.regWords[2 * reg] | 0);
        this.host.writeLin32(lin + 4, this.regWords[2 * reg + 1] | 0);
        this.mmxEnter();
        return 0;
      case 0x71:
      case 0x72:
      case 0x73: {
        // Shift groups by immediate: /2 SRL, /4 SRA, /6 SLL (73: /2 PSRLQ, /6 PSLLQ).
        if (!isReg) return this.host.undefinedOpcode();
        const base = reg === 2 ? 0xd0 : reg === 4 ? 0xe0 : reg === 6 ? 0xf0 : 0;
        if (base === 0 || (op2 === 0x73 && reg === 4)) return this.host.undefinedOpcode();
        this.checkPending();
        alu.load(this.regWords[2 * rm], this.regWords[2 * rm + 1], 0, 0);
        alu.shift(base + (op2 - 0x70), imm8 & 0xff);
        this.mmxEnter();
        this.mmxWrite(rm, alu.lo, alu.hi);
        return 0;
      }
      default: {
        if (!isMmxArith(op2)) return this.host.undefinedOpcode();
        this.checkPending();
        let sLo: number;
        let sHi: number;
        if (isReg) {
          sLo = this.regWords[2 * rm];
          sHi = this.regWords[2 * rm + 1];
        } else if (op2 >= 0x60 && op2 <= 0x62) {
          // PUNPCKL* read only 32 bits from memory.
          sLo = this.readU32(lin);
          sHi = 0;
        } else {
          sLo = this.readU32(lin);
          sHi = this.readU32(lin + 4);
        }
        alu.load(this.regWords[2 * reg], this.regWords[2 * reg + 1], sLo, sHi);
        alu.op(op2);
        this.mmxEnter();
        this.mmxWrite(reg, alu.lo, alu.hi);
        return 0;
      }
    }
  }

  // The SSE unit's MMX-register forms (sse/sse-unit.ts MmxRegisters) use these.

  mmxCheckPending(): void {
    this.checkPending();
  }

  mmxRead(r: number, u8: Uint8Array, at: number): void {
    const lo = this.regWords[2 * (r & 7)];
    const hi = this.regWords[2 * (r & 7) + 1];
    for (let k = 0; k < 4; k++) {
      u8[at + k] = lo >>> (8 * k);
      u8[at + 4 + k] = hi >>> (8 * k);
    }
  }

  mmxStore(r: number, u8: Uint8Array, at: number): void {
    const lo = u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) | (u8[at + 3] << 24);
    const hi = u8[at + 4] | (u8[at + 5] << 8) | (u8[at + 6] << 16) | (u8[at + 7] << 24);
    this.mmxWrite(r & 7, lo, hi);
  }

  /** MMX register MMi as a 64-bit value (for debuggers and tests). */
  mmxRegister(i: number): bigint {
    return (BigInt(this.regWords[2 * (i & 7) + 1]) << 32n) | BigInt(this.regWords[2 * (i & 7)]);
  }
}

const MMX_ARITH = new Uint8Array(256);
for (const op of [
  0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x74, 0x75, 0x76, 0xd1, 0xd2, 0xd3, 0xd5,
  0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xdf, 0xe1, 0xe2, 0xe5, 0xe8, 0xe9, 0xeb, 0xec, 0xed, 0xef, 0xf1, 0xf2, 0xf3, 0xf5,
  0xf8, 0xf9, 0xfa, 0xfc, 0xfd, 0xfe,
]) {
  MMX_ARITH[op] = 1;
}

function isMmxArith(op2: number): boolean {
  return MMX_ARITH[op2] === 1;
}

/** FCMOVcc conditions of DA C0-DF (reg 0-3): B, E, BE, U; DB negates them. */
function cmovCondition(reg: number, eflags: number): boolean {
  switch (reg) {
    case 0:
      return (eflags & EFL_CF) !== 0;
    case 1:
      return (eflags & EFL_ZF) !== 0;
    case 2:
      return (eflags & (EFL_CF | EFL_ZF)) !== 0;
    default:
      return (eflags & EFL_PF) !== 0;
  }
}

export { isMmxOpcode, MMX_OPCODES } from './mmx.js';
