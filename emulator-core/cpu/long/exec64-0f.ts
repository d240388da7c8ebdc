/**
 * The 0F opcode map in 64-bit mode: integer and system instructions, MMX through the x87
 * unit. SSE forms go to the SSE unit before this (exec64.ts); the remaining opcodes raise #UD.
 */
import { CF, FS, GS, ZF } from '../constants.js';
import { doubleShift } from '../arith.js';
import type { Cpu } from '../cpu.js';
import { FPU_OUT_GPR } from '../fpu.js';
import { X87Unit } from '../x87.js';
import { cpuid, rdmsr, writeCr0, writeCr3, writeCr4, wrmsr } from '../system.js';
import { doubleShift64, setArith } from './alu64.js';
import { computeEa, getReg, jumpRel, readE, readEForWrite, setEa, setReg, writeE } from './decode.js';
import { aluSized, imulInto } from './exec64.js';
import { checkWritable64, read64, readSized, writeSized } from './memory.js';
import { lar64, lldt64, loadSegment64, lsl64, ltr64, pop, push, swapgs, syscall, sysret, verr64, verw64 } from './system64.js';

function privileged(c: Cpu): void {
  if (c.cpl !== 0) c.gp(0);
}

export function exec0f(c: Cpu, op: number): void {
  const x = c.lm.insn;
  const ins = x.d;
  if (op >= 0x80 && op <= 0x8f) {
    if (c.cond(op & 15)) jumpRel(c, ins.imm);
    c.branched = true;
    return;
  }
  if (op >= 0x40 && op <= 0x4f) {
    computeEa(c);
    const v = readE(c, ins.opSize);
    const vh = x.vh;
    const r = ins.reg;
    if (c.cond(op & 15)) setReg(c, r, ins.opSize, v, vh);
    else if (ins.opSize === 4) c.rh[r] = 0; // a 32-bit CMOV zero-extends even when false
    return;
  }
  if (op >= 0x90 && op <= 0x9f) {
    computeEa(c);
    writeE(c, 1, c.cond(op & 15) ? 1 : 0, 0);
    return;
  }
  if ((op >= 0x60 && op <= 0x7f && (op < 0x78 || op > 0x7d)) || (op >= 0xd1 && op <= 0xfe)) {
    mmx(c, op);
    return;
  }
  if (op >= 0xc8) {
    // BSWAP
    const r = (op & 7) | ((ins.rex & 1) << 3);
    const lo = c.r32[r];
    if (ins.opSize === 8) {
      const hi = c.rh[r];
      c.r32[r] = sw(hi);
      c.rh[r] = sw(lo);
    } else if (ins.opSize === 4) setReg(c, r, 4, sw(lo), 0);
    else c.r16[r << 1] = 0;
    return;
  }
  switch (op) {
    case 0x00:
      group6(c);
      return;
    case 0x01:
      group7(c);
      return;
    case 0x02:
    case 0x03: {
      computeEa(c);
      const sel = readE(c, 2);
      const v = op === 0x02 ? lar64(c, sel) : lsl64(c, sel);
      if (v === null) c.setFlagBit(ZF, false);
      else {
        c.setFlagBit(ZF, true);
        setReg(c, ins.reg, ins.opSize === 2 ? 2 : 4, v, 0);
      }
      return;
    }
    case 0x05:
      syscall(c);
      return;
    case 0x06:
      privileged(c);
      c.cr0 &= ~8;
      return;
    case 0x07:
      sysret(c, (ins.rex & 8) !== 0);
      return;
    case 0x08:
    case 0x09:
      privileged(c);
      return;
    case 0x0d:
    case 0x18:
    case 0x19:
    case 0x1a:
    case 0x1b:
    case 0x1c:
    case 0x1d:
    case 0x1e:
    case 0x1f:
      computeEa(c);
      return;
    case 0x20:
    case 0x22:
      movCr(c, op === 0x22);
      return;
    case 0x21:
    case 0x23: {
      privileged(c);
      let n = (ins.modrm >> 3) & 7;
      if (n === 4 || n === 5) n += 2;
      if (op === 0x21) setReg(c, ins.rm, 8, c.dr[n], 0);
      else c.dr[n] = c.r32[ins.rm];
      return;
    }
    case 0x30:
      privileged(c);
      wrmsr(c);
      return;
    case 0x31:
      if ((c.cr4 & 4) !== 0 && c.cpl !== 0) c.gp(0);
      {
        const t = c.readTsc();
        setReg(c, 0, 4, t % 4294967296 | 0, 0);
        setReg(c, 2, 4, Math.floor(t / 4294967296) | 0, 0);
      }
      return;
    case 0x32:
      privileged(c);
      rdmsr(c);
      c.rh[0] = 0;
      c.rh[2] = 0;
      return;
    case 0xa0:
    case 0xa8:
      push(c, ins.opSize === 2 ? 2 : 8, c.segSel[op === 0xa0 ? FS : GS], 0);
      return;
    case 0xa1:
    case 0xa9: {
      const sz = ins.opSize === 2 ? 2 : 8;
      const rsp = c.r32[4];
      const rsph = c.rh[4];
      const v = pop(c, sz);
      try {
        loadSegment64(c, op === 0xa1 ? FS : GS, v & 0xffff);
      } catch (e) {
        c.r32[4] = rsp;
        c.rh[4] = rsph;
        throw e;
      }
      return;
    }
    case 0xa2:
      cpuid(c, c.cpuidFeatures);
      c.rh[0] = c.rh[1] = c.rh[2] = c.rh[3] = 0;
      return;
    case 0xa3:
    case 0xab:
    case 0xb3:
    case 0xbb:
      bitOp(c, op === 0xa3 ? 0 : op === 0xab ? 1 : op === 0xb3 ? 2 : 3, false);
      return;
    case 0xba:
      bitOp(c, -1, true);
      return;
    case 0xa4:
    case 0xa5:
    case 0xac:
    case 0xad: {
      computeEa(c);
      const d = readEForWrite(c, ins.opSize);
      const dh = x.vh;
      const s = getReg(c, ins.reg, ins.opSize);
      const sh = x.vh;
      const count = (op & 1) === 0 ? ins.imm : c.r8[4];
      const left = op < 0xa8;
      if (ins.opSize === 8) {
        const r = doubleShift64(c, d, dh, s, sh, count, left);
        writeE(c, 8, r, c.lm.resHi);
      } else writeE(c, ins.opSize, doubleShift(c, d, s, count, ins.opSize * 8, left), 0);
      return;
    }
    case 0xaf: {
      computeEa(c);
      const b = readE(c, ins.opSize);
      const bh = x.vh;
      const a = getReg(c, ins.reg, ins.opSize);
      imulInto(c, ins.reg, ins.opSize, a, x.vh, b, bh);
      return;
    }
    case 0xb0:
    case 0xb1: {
      const sz = op === 0xb0 ? 1 : ins.opSize;
      computeEa(c);
      const d = readEForWrite(c, sz);
      const dh = x.vh;
      const a = getReg(c, 0, sz);
      const ah = x.vh;
      aluSized(c, 7, sz, a, ah, d, dh);
      if (c.getZF()) {
        const s = getReg(c, ins.reg, sz);
        writeE(c, sz, s, x.vh);
      } else {
        // The destination is written back unchanged (memory) and the accumulator loaded.
        if (ins.mod !== 3) writeE(c, sz, d, dh);
        setReg(c, 0, sz, d, dh);
      }
      return;
    }
    case 0xb2:
    case 0xb4:
    case 0xb5: {
      computeEa(c);
      if (ins.mod === 3) c.undefinedOpcode();
      const lo = readSized(c, x.eaHi, x.eaLo, ins.opSize);
      const hi = ins.opSize === 8 ? c.lm.readHi : 0;
      const s = (x.eaLo >>> 0) + ins.opSize;
      const sel = readSized(c, s > 0xffffffff ? (x.eaHi + 1) | 0 : x.eaHi, s | 0, 2);
      loadSegment64(c, op === 0xb2 ? 2 : op === 0xb4 ? FS : GS, sel);
      setReg(c, ins.reg, ins.opSize, lo, hi);
      return;
    }
    case 0xb6:
    case 0xb7:
    case 0xbe:
    case 0xbf: {
      computeEa(c);
      const src = (op & 1) === 0 ? 1 : 2;
      let v = readE(c, src);
      if (op >= 0xbe) v = src === 1 ? (v << 24) >> 24 : (v << 16) >> 16;
      setReg(c, ins.reg, ins.opSize, v, op >= 0xbe ? v >> 31 : 0);
      return;
    }
    case 0xbc:
    case 0xbd: {
      computeEa(c);
      const v = readE(c, ins.opSize);
      const vh = ins.opSize === 8 ? x.vh : 0;
      const lo = ins.opSize === 2 ? v & 0xffff : v;
      if ((lo | vh) === 0) {
        // Source zero: ZF=1, destination unchanged (what Intel and AMD do).
        setArith(c, ZF);
        return;
      }
      let idx: number;
      if (op === 0xbc) idx = lo !== 0 ? 31 - Math.clz32(lo & -lo) : 32 + 31 - Math.clz32(vh & -vh);
      else idx = vh !== 0 ? 63 - Math.clz32(vh) : 31 - Math.clz32(lo);
      setArith(c, 0);
      setReg(c, ins.reg, ins.opSize, idx, 0);
      return;
    }
    case 0xc0:
    case 0xc1: {
      const sz = op === 0xc0 ? 1 : ins.opSize;
      computeEa(c);
      const d = readEForWrite(c, sz);
      const dh = x.vh;
      const r = ins.reg;
      const s = getReg(c, r, sz);
      const sh = x.vh;
      const sum = aluSized(c, 0, sz, d, dh, s, sh);
      const sumH = c.lm.aluHi;
      setReg(c, r, sz, d, dh);
      writeE(c, sz, sum, sumH);
      return;
    }
    case 0xc7:
      group9(c);
      return;
    case 0x0b:
    default:
      c.undefinedOpcode();
  }
}

/**
 * MMX through the x87 unit (which shares the register file), with the 64-bit effective
 * address; operands at or above 4 GiB are #UD (the unit addresses 32-bit linear memory).
 * 0x66/F2/F3 forms are SSE, not modelled: #UD.
 */
function mmx(c: Cpu, op: number): void {
  const x = c.lm.insn;
  const ins = x.d;
  if (ins.p66 || ins.rep !== 0 || !(c.fpu instanceof X87Unit)) c.undefinedOpcode();
  if ((c.cr0 & 0x4) !== 0) c.undefinedOpcode();
  if ((c.cr0 & 0x8) !== 0) c.raise(7);
  const hasImm = op >= 0x71 && op <= 0x73;
  computeEa(c);
  if (ins.mod !== 3 && x.eaHi !== 0) c.undefinedOpcode();
  const imm8 = hasImm ? ins.imm : 0;
  const rm = ins.rm;
  const rexW = (ins.rex & 8) !== 0;
  const unit = c.fpu.fpu;
  // EMMS has no ModRM: a register form keeps the unit from decoding an address.
  const r = unit.execMmx(op, op === 0x77 ? 0xc0 : ins.modrm, x.eaLo, imm8, c.r32[rm], c.rh[rm], rexW);
  if ((r & FPU_OUT_GPR) !== 0) setReg(c, rm, rexW ? 8 : 4, unit.out.gprLo, unit.out.gprHi);
}

function sw(x: number): number {
  return (x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24);
}

function bitOp(c: Cpu, kind: number, imm: boolean): void {
  const x = c.lm.insn;
  const ins = x.d;
  computeEa(c);
  let k = kind;
  let bitLo: number;
  let bitHi = 0;
  if (imm) {
    k = ((ins.modrm >> 3) & 7) - 4;
    if (k < 0) c.undefinedOpcode();
    bitLo = ins.imm;
  } else {
    bitLo = getReg(c, ins.reg, ins.opSize);
    bitHi = x.vh;
    if (ins.opSize === 2) bitLo = (bitLo << 16) >> 16;
    if (ins.opSize !== 8) bitHi = bitLo >> 31;
  }
  const bits = ins.opSize * 8;
  if (ins.mod !== 3 && !imm) {
    // Register bit offsets address memory beyond the operand: (offset >> 3) bytes, in
    // operand-size units. Offsets are taken as signed 64-bit (hi:lo); only |offset| < 2^35 matters here.
    const off = bitHi * 4294967296 + (bitLo >>> 0);
    const unit = Math.floor(off / bits) * (bits / 8);
    const s = (x.eaLo >>> 0) + unit;
    const carry = Math.floor(s / 4294967296);
    setEa(c, s | 0, (x.eaHi + carry) | 0);
  }
  const n = bitLo & (bits - 1);
  const v = k === 0 ? readE(c, ins.opSize) : readEForWrite(c, ins.opSize);
  const vh = x.vh;
  const cf = n >= 32 ? (vh >>> (n - 32)) & 1 : (v >>> n) & 1;
  c.materializeFlags();
  c.flags = (c.flags & ~CF) | cf;
  if (k === 0) return;
  let lo = v;
  let hi = vh;
  const m = n >= 32 ? 0 : 1 << n;
  const mh = n >= 32 ? 1 << (n - 32) : 0;
  if (k === 1) {
    lo |= m;
    hi |= mh;
  } else if (k === 2) {
    lo &= ~m;
    hi &= ~mh;
  } else {
    lo ^= m;
    hi ^= mh;
  }
  writeE(c, ins.opSize, lo, hi);
}

function group6(c: Cpu): void {
  const x = c.lm.insn;
  const ins = x.d;
  computeEa(c);
  const sub = (ins.modrm >> 3) & 7;
  switch (sub) {
    case 0:
    case 1: {
      const v = c.segSel[sub === 0 ? 6 : 7];
      if (ins.mod === 3) setReg(c, ins.rm, ins.opSize === 2 ? 2 : 4, v, 0);
      else writeSized(c, x.eaHi, x.eaLo, 2, v, 0);
      return;
    }
    case 2:
      lldt64(c, readE(c, 2));
      return;
    case 3:
      ltr64(c, readE(c, 2));
      return;
    case 4:
      c.setFlagBit(ZF, verr64(c, readE(c, 2)));
      return;
    case 5:
      c.setFlagBit(ZF, verw64(c, readE(c, 2)));
      return;
    default:
      c.undefinedOpcode();
  }
}

function group7(c: Cpu): void {
  const x = c.lm.insn;
  const ins = x.d;
  computeEa(c);
  const sub = (ins.modrm >> 3) & 7;
  if (ins.mod === 3) {
    if (ins.modrm === 0xf8) {
      swapgs(c);
      return;
    }
    if (ins.modrm === 0xf9) {
      // RDTSCP
      const t = c.readTsc();
      setReg(c, 0, 4, t % 4294967296 | 0, 0);
      setReg(c, 2, 4, Math.floor(t / 4294967296) | 0, 0);
      setReg(c, 1, 4, 0, 0);
      return;
    }
    if (sub === 4) {
      setReg(c, ins.rm, ins.opSize, c.cr0 & 0xffff, 0);
      return;
    }
    if (sub === 6) {
      privileged(c);
      writeCr0(c, (c.cr0 & ~0xe) | (readE(c, 2) & 0xf) | (c.cr0 & 1));
      return;
    }
    c.undefinedOpcode();
  }
  switch (sub) {
    case 0:
    case 1: {
      const limit = sub === 0 ? c.gdtLimit : c.idtLimit;
      const lo = sub === 0 ? c.gdtBase : c.idtBase;
      const hi = sub === 0 ? c.lm.gdtHi : c.lm.idtHi;
      checkWritable64(c, x.eaHi, x.eaLo, 10, c.cpl === 3);
      writeSized(c, x.eaHi, x.eaLo, 2, limit, 0);
      const s = (x.eaLo >>> 0) + 2;
      writeSized(c, s > 0xffffffff ? (x.eaHi + 1) | 0 : x.eaHi, s | 0, 8, lo, hi);
      return;
    }
    case 2:
    case 3: {
      privileged(c);
      const limit = readSized(c, x.eaHi, x.eaLo, 2);
      const s = (x.eaLo >>> 0) + 2;
      const lo = read64(c, s > 0xffffffff ? (x.eaHi + 1) | 0 : x.eaHi, s | 0, false);
      const hi = c.lm.readHi;
      if ((hi << 16) >> 16 !== hi) c.gp(0);
      if (sub === 2) {
        c.gdtLimit = limit;
        c.gdtBase = lo;
        c.lm.gdtHi = hi;
      } else {
        c.idtLimit = limit;
        c.idtBase = lo;
        c.lm.idtHi = hi;
      }
      return;
    }
    case 4:
      writeSized(c, x.eaHi, x.eaLo, 2, c.cr0 & 0xffff, 0);
      return;
    case 6:
      privileged(c);
      writeCr0(c, (c.cr0 & ~0xe) | (readSized(c, x.eaHi, x.eaLo, 2) & 0xf) | (c.cr0 & 1));
      return;
    case 7:
      // INVLPG
      privileged(c);
      if (x.eaHi === 0) c.invalidatePage(x.eaLo);
      else c.lm.tlb.invalidate(x.eaHi, x.eaLo);
      return;
    default:
      c.undefinedOpcode();
  }
}

function movCr(c: Cpu, write: boolean): void {
  const ins = c.lm.insn.d;
  privileged(c);
  // ModRM.mod is ignored (the decoder takes it as 3): always a register.
  const n = ins.reg;
  const r = ins.rm;
  if (!write) {
    let lo: number;
    let hi = 0;
    switch (n) {
      case 0:
        lo = c.cr0;
        break;
      case 2:
        lo = c.cr2;
        hi = c.lm.cr2Hi;
        break;
      case 3:
        lo = c.cr3;
        break;
      case 4:
        lo = c.cr4;
        break;
      case 8:
        lo = c.apic !== null ? c.apic.readCr8() : c.lm.cr8;
        break;
      default:
        c.undefinedOpcode();
    }
    setReg(c, r, 8, lo, hi);
    return;
  }
  const lo = c.r32[r];
  const hi = c.rh[r];
  switch (n) {
    case 0:
      if (hi !== 0) c.gp(0);
      writeCr0(c, lo);
      return;
    case 2:
      c.cr2 = lo;
      c.lm.cr2Hi = hi;
      return;
    case 3:
      // Bits above MAXPHYADDR (36) are reserved.
      if ((hi & ~0xf) !== 0) c.gp(0);
      writeCr3(c, lo);
      return;
    case 4:
      if (hi !== 0) c.gp(0);
      writeCr4(c, lo);
      return;
    case 8:
      if ((lo & ~0xf) !== 0 || hi !== 0) c.gp(0);
      c.lm.cr8 = lo;
      c.apic?.writeCr8(lo);
      return;
    default:
      c.undefinedOpcode();
  }
}

function group9(c: Cpu): void {
  const x = c.lm.insn;
  const ins = x.d;
  computeEa(c);
  const sub = (ins.modrm >> 3) & 7;
  if (ins.mod === 3 || sub !== 1) {
    if (ins.mod === 3 && sub === 6) {
      // RDRAND
      const v = (Math.random() * 4294967296) | 0;
      const vh = (Math.random() * 4294967296) | 0;
      setReg(c, ins.rm, ins.opSize, v, vh);
      setArith(c, CF);
      return;
    }
    c.undefinedOpcode();
  }
  if (ins.opSize === 8) {
    // CMPXCHG16B: the operand must be 16-byte aligned.
    if ((x.eaLo & 15) !== 0) c.gp(0);
    checkWritable64(c, x.eaHi, x.eaLo, 16, c.cpl === 3);
    const l0 = read64(c, x.eaHi, x.eaLo, c.cpl === 3);
    const h0 = c.lm.readHi;
    const l1 = read64(c, x.eaHi, (x.eaLo + 8) | 0, c.cpl === 3);
    const h1 = c.lm.readHi;
    c.materializeFlags();
    if (l0 === c.r32[0] && h0 === c.rh[0] && l1 === c.r32[2] && h1 === c.rh[2]) {
      writeSized(c, x.eaHi, x.eaLo, 8, c.r32[3], c.rh[3]);
      writeSized(c, x.eaHi, (x.eaLo + 8) | 0, 8, c.r32[1], c.rh[1]);
      c.flags |= ZF;
    } else {
      writeSized(c, x.eaHi, x.eaLo, 8, l0, h0);
      writeSized(c, x.eaHi, (x.eaLo + 8) | 0, 8, l1, h1);
      setReg(c, 0, 8, l0, h0);
      setReg(c, 2, 8, l1, h1);
      c.flags &= ~ZF;
    }
    return;
  }
  checkWritable64(c, x.eaHi, x.eaLo, 8, c.cpl === 3);
  const lo = readSized(c, x.eaHi, x.eaLo, 4);
  const hi = readSized(c, x.eaHi, (x.eaLo + 4) | 0, 4);
  c.materializeFlags();
  if (lo === c.r32[0] && hi === c.r32[2]) {
    writeSized(c, x.eaHi, x.eaLo, 4, c.r32[3], 0);
    writeSized(c, x.eaHi, (x.eaLo + 4) | 0, 4, c.r32[1], 0);
    c.flags |= ZF;
  } else {
    writeSized(c, x.eaHi, x.eaLo, 4, lo, 0);
    writeSized(c, x.eaHi, (x.eaLo + 4) | 0, 4, hi, 0);
    setReg(c, 0, 4, lo, 0);
    setReg(c, 2, 4, hi, 0);
    c.flags &= ~ZF;
  }
}

