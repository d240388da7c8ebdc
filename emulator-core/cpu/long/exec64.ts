/**
 * The 64-bit mode executor: decodes and runs one instruction (one-byte map here, 0F map
 * in exec64-0f.ts). 8/16/32-bit operations use the CPU's lazy-flag ALU; 64-bit ones
 * alu64.ts. Opcodes removed in 64-bit mode raise #UD. x87 and MMX run through the
 * existing unit for operands below 4 GiB (#UD above: the unit addresses 32-bit memory).
 */
import { AC, AF, CF, DF, ID, IF, IOPL, NT, OF, PF, SF, TF, VM, ZF } from '../constants.js';
import { shiftRotate } from '../arith.js';
import type { Cpu } from '../cpu.js';
import { alu64, divS128, divU128, incDec64, mulS64, mulU64, setArith, shift64, szp } from './alu64.js';
import { lockValid, type DecodedInsn } from '../decoder/decoded-insn.js';
import { computeEa, decode64, getReg, immS8, immZ, jumpRel, readE, readEForWrite, segAddr, setReg, setRip, writeE } from './decode.js';
import { exec0f } from './exec64-0f.js';
import '../sse/index.js';
import { stringOp } from './string64.js';
import { addRsp, deliverInterrupt64, loadSegment64, farCall64, farJump64, farRet64, iret64, pop, push, stackRead } from './system64.js';
import { readSized, writeSized } from './memory.js';

/** ALU on any size: 64-bit through alu64, else the lazy-flag ALU. High half in `c.lm.aluHi`. */
export function aluSized(c: Cpu, op: number, size: number, al: number, ah: number, bl: number, bh: number): number {
  if (size === 8) {
    const r = alu64(c, op, al, ah, bl, bh);
    c.lm.aluHi = c.lm.resHi;
    return r;
  }
  c.lm.aluHi = 0;
  return c.alu(op, al, bl, 32 - size * 8);
}

function sizeB(ins: DecodedInsn, op: number): number {
  return (op & 1) === 0 ? 1 : ins.opSize;
}

function canChangeIf(c: Cpu): boolean {
  return c.cpl <= (c.flags & IOPL) >>> 12;
}

/** Near push/pop operand size: 8, or 2 with 0x66. */
function stackSize(ins: DecodedInsn): number {
  return ins.p66 ? 2 : 8;
}

/** Execute one instruction in 64-bit mode. */
export function step64(c: Cpu): void {
  c.instrStart = c.ip;
  c.lm.instrStartHi = c.lm.ripHi;
  // The whole instruction is fetched here; RIP is after it from now on.
  const ins = decode64(c);
  if (ins.lock && !lockValid(ins)) c.undefinedOpcode();
  if (ins.op < 0x100) exec(c, ins.op);
  else if (c.sse.handles(ins)) c.sse.exec(ins, c.sseLong);
  else if (ins.op < 0x200) exec0f(c, ins.op & 0xff);
  else c.undefinedOpcode(); // 0F 38 / 0F 3A without SSE
}

/** LOCK is allowed only on read-modify-write instructions with a memory destination (#UD otherwise). */
function exec(c: Cpu, op: number): void {
  const x = c.lm.insn;
  const ins = x.d;
  if (op < 0x40) {
    const k = op & 7;
    if (k < 6) {
      aluOp(c, op >> 3, k, op);
      return;
    }
    c.undefinedOpcode();
  }
  switch (op) {
    case 0x50:
    case 0x51:
    case 0x52:
    case 0x53:
    case 0x54:
    case 0x55:
    case 0x56:
    case 0x57: {
      const r = (op & 7) | ((ins.rex & 1) << 3);
      const sz = stackSize(ins);
      push(c, sz, sz === 2 ? c.r16[r << 1] : c.r32[r], c.rh[r]);
      return;
    }
    case 0x58:
    case 0x59:
    case 0x5a:
    case 0x5b:
    case 0x5c:
    case 0x5d:
    case 0x5e:
    case 0x5f: {
      const r = (op & 7) | ((ins.rex & 1) << 3);
      const sz = stackSize(ins);
      const v = pop(c, sz);
      if (sz === 2) c.r16[r << 1] = v;
      else {
        c.r32[r] = v;
        c.rh[r] = c.lm.popHi;
      }
      return;
    }
    case 0x63: {
      // MOVSXD (without REX.W: a plain 32/16-bit move).
      computeEa(c);
      if (ins.opSize === 8) {
        const v = readE(c, 4);
        setReg(c, ins.reg, 8, v, v >> 31);
      } else setReg(c, ins.reg, ins.opSize, readE(c, ins.opSize), 0);
      return;
    }
    case 0x68: {
      const v = immZ(c, ins.opSize === 2 ? 2 : 4);
      push(c, stackSize(ins), v, v >> 31);
      return;
    }
    case 0x6a: {
      const v = immS8(ins);
      push(c, stackSize(ins), v, v >> 31);
      return;
    }
    case 0x69:
    case 0x6b: {
      const sz = ins.opSize;
      computeEa(c);
      const a = readE(c, sz);
      const ah = x.vh;
      const b = op === 0x6b ? immS8(ins) : immZ(c, sz === 2 ? 2 : 4);
      imulInto(c, ins.reg, sz, a, ah, b, b >> 31);
      return;
    }
    case 0x6c:
    case 0x6d:
    case 0x6e:
    case 0x6f:
    case 0xa4:
    case 0xa5:
    case 0xa6:
    case 0xa7:
    case 0xaa:
    case 0xab:
    case 0xac:
    case 0xad:
    case 0xae:
    case 0xaf:
      stringOp(c, op);
      return;
    case 0x70:
    case 0x71:
    case 0x72:
    case 0x73:
    case 0x74:
    case 0x75:
    case 0x76:
    case 0x77:
    case 0x78:
    case 0x79:
    case 0x7a:
    case 0x7b:
    case 0x7c:
    case 0x7d:
    case 0x7e:
    case 0x7f: {
      const d = immS8(ins);
      if (c.cond(op & 15)) jumpRel(c, d);
      c.branched = true;
      return;
    }
    case 0x80:
    case 0x81:
    case 0x83: {
      const sz = op === 0x80 ? 1 : ins.opSize;
      computeEa(c);
      const aop = (ins.modrm >> 3) & 7;
      const a = aop === 7 ? readE(c, sz) : readEForWrite(c, sz);
      const ah = x.vh;
      let b: number;
      let bh: number;
      if (op === 0x81) {
        b = immZ(c, sz);
        bh = x.vh;
      } else {
        b = immS8(ins);
        bh = b >> 31;
        if (sz === 1) b &= 0xff;
        else if (sz === 2) b &= 0xffff;
      }
      const r = aluSized(c, aop, sz, a, ah, b, bh);
      if (aop !== 7) writeE(c, sz, r, c.lm.aluHi);
      return;
    }
    case 0x84:
    case 0x85: {
      const sz = sizeB(ins, op);
      computeEa(c);
      const a = readE(c, sz);
      const ah = x.vh;
      const b = getReg(c, ins.reg, sz);
      aluSized(c, 4, sz, a, ah, b, x.vh);
      return;
    }
    case 0x86:
    case 0x87: {
      const sz = sizeB(ins, op);
      computeEa(c);
      const a = readEForWrite(c, sz);
      const ah = x.vh;
      const r = ins.reg;
      const b = getReg(c, r, sz);
      const bh = x.vh;
      writeE(c, sz, b, bh);
      setReg(c, r, sz, a, ah);
      return;
    }
    case 0x88:
    case 0x89: {
      const sz = sizeB(ins, op);
      computeEa(c);
      const v = getReg(c, ins.reg, sz);
      writeE(c, sz, v, x.vh);
      return;
    }
    case 0x8a:
    case 0x8b: {
      const sz = sizeB(ins, op);
      computeEa(c);
      const v = readE(c, sz);
      setReg(c, ins.reg, sz, v, x.vh);
      return;
    }
    case 0x8c: {
      computeEa(c);
      const s = (ins.modrm >> 3) & 7;
      if (s > 5) c.undefinedOpcode();
      const v = c.segSel[s];
      if (ins.mod === 3) setReg(c, ins.rm, ins.opSize === 2 ? 2 : 4, v, 0);
      else writeSized(c, x.eaHi, x.eaLo, 2, v, 0);
      return;
    }
    case 0x8d: {
      computeEa(c, true);
      if (ins.mod === 3) c.undefinedOpcode();
      setReg(c, ins.reg, ins.opSize, x.eaLo, x.eaHi);
      return;
    }
    case 0x8e: {
      computeEa(c);
      const s = (ins.modrm >> 3) & 7;
      if (s === 1 || s > 5) c.undefinedOpcode();
      const v = readE(c, 2);
      loadSegment64(c, s, v);
      if (s === 2) c.irqInhibit = true;
      return;
    }
    case 0x8f: {
      // POP r/m: RSP is incremented before the address is computed.
      const sz = stackSize(ins);
      const v = stackRead(c, sz, 0);
      const vh = c.lm.readHi;
      const rsp = c.r32[4];
      const rsph = c.rh[4];
      addRsp(c, sz);
      try {
        computeEa(c);
        if (((ins.modrm >> 3) & 7) !== 0) c.undefinedOpcode();
        writeE(c, sz, v, vh);
      } catch (e) {
        c.r32[4] = rsp;
        c.rh[4] = rsph;
        throw e;
      }
      return;
    }
    case 0x90:
      // NOP / PAUSE; with REX.B it is XCHG R8, rAX. PAUSE ends the turn of a spinning CPU (Cpu.pauseExits).
      if ((ins.rex & 1) !== 0) xchgAcc(c, 8);
      else if (ins.rep !== 0 && c.pauseExits) c.exitRequested = true;
      return;
    case 0x91:
    case 0x92:
    case 0x93:
    case 0x94:
    case 0x95:
    case 0x96:
    case 0x97:
      xchgAcc(c, (op & 7) | ((ins.rex & 1) << 3));
      return;
    case 0x98:
      if (ins.opSize === 8) setReg(c, 0, 8, c.r32[0], c.r32[0] >> 31);
      else if (ins.opSize === 4) setReg(c, 0, 4, (c.r32[0] << 16) >> 16, 0);
      else c.r16[0] = (c.r32[0] << 24) >> 24;
      return;
    case 0x99:
      if (ins.opSize === 8) setReg(c, 2, 8, c.rh[0] >> 31, c.rh[0] >> 31);
      else if (ins.opSize === 4) setReg(c, 2, 4, c.r32[0] >> 31, 0);
      else c.r16[4] = (c.r32[0] << 16) >> 31;
      return;
    case 0x9b:
      if ((c.cr0 & 0xa) === 0xa) c.raise(7);
      c.fpu.checkPendingException();
      return;
    case 0x9c:
      if (ins.p66) push(c, 2, c.getEflags(), 0);
      else push(c, 8, c.getEflags() & ~(VM | 0x10000), 0);
      return;
    case 0x9d: {
      const sz = stackSize(ins);
      const v = stackRead(c, sz, 0);
      let mask = CF | PF | AF | ZF | SF | TF | DF | OF | NT | AC | ID;
      if (c.cpl === 0) mask |= IOPL;
      if (c.cpl <= (c.flags & IOPL) >>> 12) mask |= IF;
      if (sz === 2) mask &= 0xffff;
      // POPF clears RF; VM, VIF and VIP are unaffected.
      c.setEflags(v & ~0x10000, mask | 0x10000);
      addRsp(c, sz);
      return;
    }
    case 0x9e:
      c.materializeFlags();
      c.flags = (c.flags & ~(SF | ZF | AF | PF | CF)) | (c.r8[1] & (SF | ZF | AF | PF | CF));
      return;
    case 0x9f:
      c.r8[1] = c.getEflags() & 0xff;
      return;
    case 0xa0:
    case 0xa1:
    case 0xa2:
    case 0xa3: {
      const sz = sizeB(ins, op);
      let lo: number;
      let hi = 0;
      if (ins.addrSize === 8) {
        lo = ins.imm;
        hi = ins.immHi;
      } else lo = ins.imm;
      segAddr(c, ins.seg, lo, hi);
      if (op < 0xa2) {
        const v = readSized(c, x.eaHi, x.eaLo, sz);
        setReg(c, 0, sz, v, c.lm.readHi);
      } else {
        const v = getReg(c, 0, sz);
        writeSized(c, x.eaHi, x.eaLo, sz, v, x.vh);
      }
      return;
    }
    case 0xa8:
    case 0xa9: {
      const sz = sizeB(ins, op);
      const b = sz === 1 ? ins.imm : immZ(c, sz);
      const bh = sz === 8 ? x.vh : 0;
      const a = getReg(c, 0, sz);
      aluSized(c, 4, sz, a, x.vh, b, bh);
      return;
    }
    case 0xb0:
    case 0xb1:
    case 0xb2:
    case 0xb3:
    case 0xb4:
    case 0xb5:
    case 0xb6:
    case 0xb7:
      setReg(c, (op & 7) | ((ins.rex & 1) << 3), 1, ins.imm, 0);
      return;
    case 0xb8:
    case 0xb9:
    case 0xba:
    case 0xbb:
    case 0xbc:
    case 0xbd:
    case 0xbe:
    case 0xbf: {
      const r = (op & 7) | ((ins.rex & 1) << 3);
      if (ins.opSize === 8) {
        setReg(c, r, 8, ins.imm, ins.immHi);
      } else setReg(c, r, ins.opSize, ins.imm, 0);
      return;
    }
    case 0xc0:
    case 0xc1:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      const sz = sizeB(ins, op);
      computeEa(c);
      const v = readEForWrite(c, sz);
      const vh = x.vh;
      const count = op < 0xc2 ? ins.imm : op < 0xd2 ? 1 : c.r8[4];
      const sop = (ins.modrm >> 3) & 7;
      if (sz === 8) {
        const r = shift64(c, sop, v, vh, count);
        writeE(c, 8, r, c.lm.resHi);
      } else {
        const r = shiftRotate(c, sop, v, count, sz * 8);
        writeE(c, sz, r, 0);
      }
      return;
    }
    case 0xc2:
    case 0xc3: {
      const imm = op === 0xc2 ? ins.imm : 0;
      const lo = stackRead(c, 8, 0);
      setRip(c, lo, c.lm.readHi);
      addRsp(c, 8 + imm);
      return;
    }
    case 0xc6:
    case 0xc7: {
      const sz = sizeB(ins, op);
      computeEa(c);
      if (((ins.modrm >> 3) & 7) !== 0) c.undefinedOpcode();
      const v = sz === 1 ? ins.imm : immZ(c, sz);
      writeE(c, sz, v, sz === 8 ? x.vh : 0);
      return;
    }
    case 0xc8:
      enter(c);
      return;
    case 0xc9: {
      // LEAVE: RSP = RBP, then pop RBP.
      const sz = stackSize(ins);
      const bl = c.r32[5];
      const bh = c.rh[5];
      const s = (bl >>> 0) + 0;
      c.lm.stackRef = true;
      const v = readSized(c, bh, s | 0, sz);
      const vh = c.lm.readHi;
      c.r32[4] = bl;
      c.rh[4] = bh;
      addRsp(c, sz);
      if (sz === 2) c.r16[10] = v;
      else {
        c.r32[5] = v;
        c.rh[5] = vh;
      }
      return;
    }
    case 0xca:
    case 0xcb:
      farRet64(c, ins.opSize, op === 0xca ? ins.imm : 0);
      c.branched = true;
      return;
    case 0xcc:
      deliverInterrupt64(c, 3, true, -1, false);
      return;
    case 0xcd:
      deliverInterrupt64(c, ins.imm, true, -1, false);
      return;
    case 0xcf:
      iret64(c, ins.opSize);
      return;
    case 0xd7: {
      const lo = (c.r32[3] >>> 0) + c.r8[0];
      segAddr(c, ins.seg, ins.addrSize === 8 ? lo | 0 : lo | 0, ins.addrSize === 8 ? (lo > 0xffffffff ? (c.rh[3] + 1) | 0 : c.rh[3]) : 0);
      c.r8[0] = readSized(c, x.eaHi, x.eaLo, 1);
      return;
    }
    case 0xd8:
    case 0xd9:
    case 0xda:
    case 0xdb:
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf: {
      if ((c.cr0 & 0xc) !== 0) c.raise(7);
      computeEa(c);
      // The x87 unit addresses memory with 32-bit linear addresses: operands above 4 GiB
      // are not supported (#UD rather than touching the wrong memory).
      if (ins.mod !== 3 && x.eaHi !== 0) c.undefinedOpcode();
      // FSTENV/FSAVE image format: 32-bit unless 0x66.
      c.fpuExec(op, ins.modrm, x.eaLo, x.eaLo, c.segSel[3], !ins.p66);
      return;
    }
    case 0xe0:
    case 0xe1:
    case 0xe2: {
      const d = immS8(ins);
      let zero: boolean;
      if (ins.addrSize === 8) {
        const s = (c.r32[1] >>> 0) - 1;
        if (s < 0) c.rh[1] = (c.rh[1] - 1) | 0;
        c.r32[1] = s | 0;
        zero = (c.r32[1] | c.rh[1]) === 0;
      } else {
        c.r32[1] = (c.r32[1] - 1) | 0;
        c.rh[1] = 0;
        zero = c.r32[1] === 0;
      }
      const take = !zero && (op === 0xe2 || (op === 0xe1 ? c.getZF() : !c.getZF()));
      if (take) jumpRel(c, d);
      c.branched = true;
      return;
    }
    case 0xe3: {
      const d = immS8(ins);
      if ((ins.addrSize === 8 ? c.r32[1] | c.rh[1] : c.r32[1]) === 0) jumpRel(c, d);
      c.branched = true;
      return;
    }
    case 0xe4:
    case 0xe5:
    case 0xec:
    case 0xed: {
      const port = op < 0xe8 ? ins.imm : c.r16[4];
      const sz = op & 1 ? (ins.opSize === 2 ? 2 : 4) : 1;
      c.checkIo(port, sz);
      const v = c.io.read(port, sz);
      setReg(c, 0, sz, v, 0);
      return;
    }
    case 0xe6:
    case 0xe7:
    case 0xee:
    case 0xef: {
      const port = op < 0xe8 ? ins.imm : c.r16[4];
      const sz = op & 1 ? (ins.opSize === 2 ? 2 : 4) : 1;
      c.checkIo(port, sz);
      c.io.write(port, sz, sz === 1 ? c.r8[0] : sz === 2 ? c.r16[0] : c.r32[0] >>> 0);
      return;
    }
    case 0xe8: {
      // Near branches are 64-bit whatever 0x66 says (Intel behaviour).
      const d = ins.imm;
      push(c, 8, c.ip, c.lm.ripHi);
      jumpRel(c, d);
      return;
    }
    case 0xe9: {
      jumpRel(c, ins.imm);
      return;
    }
    case 0xeb: {
      jumpRel(c, immS8(ins));
      return;
    }
    case 0xf1:
      deliverInterrupt64(c, 1, false, -1, false);
      return;
    case 0xf4:
      if (c.cpl !== 0) c.gp(0);
      c.halted = true;
      c.exitRequested = true;
      return;
    case 0xf5:
      c.materializeFlags();
      c.flags ^= CF;
      return;
    case 0xf6:
    case 0xf7:
      group3(c, sizeB(ins, op));
      return;
    case 0xf8:
      c.setFlagBit(CF, false);
      return;
    case 0xf9:
      c.setFlagBit(CF, true);
      return;
    case 0xfa:
      if (!canChangeIf(c)) c.gp(0);
      c.flags &= ~IF;
      return;
    case 0xfb:
      if (!canChangeIf(c)) c.gp(0);
      if ((c.flags & IF) === 0) c.irqInhibit = true;
      c.flags |= IF;
      return;
    case 0xfc:
      c.flags &= ~DF;
      return;
    case 0xfd:
      c.flags |= DF;
      return;
    case 0xfe:
    case 0xff:
      group45(c, op);
      return;
    default:
      // 0x06/07/0E/16/17/1E/1F/27/2F/37/3F (above), 60-62, 82, 9A, C4, C5, CE, D4-D6, EA,
      // and the prefixes that cannot reach here.
      c.undefinedOpcode();
  }
}


function xchgAcc(c: Cpu, r: number): void {
  const x = c.lm.insn;
  const ins = x.d;
  const a = getReg(c, 0, ins.opSize);
  const ah = x.vh;
  const b = getReg(c, r, ins.opSize);
  setReg(c, 0, ins.opSize, b, x.vh);
  setReg(c, r, ins.opSize, a, ah);
}

function aluOp(c: Cpu, aop: number, form: number, op: number): void {
  const x = c.lm.insn;
  const ins = x.d;
  const sz = (form & 1) === 0 ? 1 : ins.opSize;
  if (form >= 4) {
    const b = sz === 1 ? ins.imm : immZ(c, sz);
    const bh = sz === 8 ? x.vh : 0;
    const a = getReg(c, 0, sz);
    const r = aluSized(c, aop, sz, a, x.vh, b, bh);
    if (aop !== 7) setReg(c, 0, sz, r, c.lm.aluHi);
    return;
  }
  computeEa(c);
  if (form < 2) {
    // E op= G
    const a = aop === 7 ? readE(c, sz) : readEForWrite(c, sz);
    const ah = x.vh;
    const b = getReg(c, ins.reg, sz);
    const r = aluSized(c, aop, sz, a, ah, b, x.vh);
    if (aop !== 7) writeE(c, sz, r, c.lm.aluHi);
  } else {
    const reg = ins.reg;
    const b = readE(c, sz);
    const bh = x.vh;
    const a = getReg(c, reg, sz);
    const r = aluSized(c, aop, sz, a, x.vh, b, bh);
    if (aop !== 7) setReg(c, reg, sz, r, c.lm.aluHi);
  }
  void op;
}

/** Signed multiply into register `reg` (2/3-operand IMUL): low result, CF=OF=overflow. */
export function imulInto(c: Cpu, reg: number, sz: number, a: number, ah: number, b: number, bh: number): void {
  if (sz === 8) {
    const lo = mulS64(c.lm, a, ah, b, bh);
    const hi = c.lm.resHi;
    const ovf = c.lm.res2Lo !== hi >> 31 || c.lm.res2Hi !== hi >> 31;
    setArith(c, szp(lo, hi) | (ovf ? CF | OF : 0));
    setReg(c, reg, 8, lo, hi);
    return;
  }
  if (sz === 4) {
    const p = Math.imul(a, b);
    const exact = a * b;
    const ovf = exact !== p;
    c.setResultFlags(p, 0, ovf ? CF | OF : 0);
    setReg(c, reg, 4, p, 0);
    return;
  }
  const p = ((a << 16) >> 16) * ((b << 16) >> 16);
  const ovf = p !== (p << 16) >> 16;
  c.setResultFlags(p, 16, ovf ? CF | OF : 0);
  setReg(c, reg, 2, p, 0);
}

function group3(c: Cpu, sz: number): void {
  const x = c.lm.insn;
  const ins = x.d;
  computeEa(c);
  const sub = (ins.modrm >> 3) & 7;
  switch (sub) {
    case 0:
    case 1: {
      const a = readE(c, sz);
      const ah = x.vh;
      const b = sz === 1 ? ins.imm : immZ(c, sz);
      aluSized(c, 4, sz, a, ah, b, sz === 8 ? x.vh : 0);
      return;
    }
    case 2: {
      const a = readEForWrite(c, sz);
      writeE(c, sz, ~a, ~x.vh);
      return;
    }
    case 3: {
      const a = readEForWrite(c, sz);
      const ah = x.vh;
      const r = aluSized(c, 5, sz, 0, 0, a, ah);
      writeE(c, sz, r, c.lm.aluHi);
      if (sz !== 8) {
        // NEG: CF = operand != 0 (the SUB already computes that).
      }
      return;
    }
    default:
      mulDiv(c, sub, sz);
  }
}

function mulDiv(c: Cpu, sub: number, sz: number): void {
  const x = c.lm.insn;
  const b = readE(c, sz);
  const bh = x.vh;
  if (sz === 8) {
    const al = c.r32[0];
    const ah = c.rh[0];
    if (sub === 4 || sub === 5) {
      const lo = sub === 4 ? mulU64(c.lm, al, ah, b, bh) : mulS64(c.lm, al, ah, b, bh);
      const hi = c.lm.resHi;
      const ovf = sub === 4 ? (c.lm.res2Lo | c.lm.res2Hi) !== 0 : c.lm.res2Lo !== hi >> 31 || c.lm.res2Hi !== hi >> 31;
      setArith(c, szp(lo, hi) | (ovf ? CF | OF : 0));
      setReg(c, 0, 8, lo, hi);
      setReg(c, 2, 8, c.lm.res2Lo, c.lm.res2Hi);
      return;
    }
    const ok = sub === 6 ? divU128(c.lm, c.rh[2], c.r32[2], ah, al, bh, b) : divS128(c.lm, c.rh[2], c.r32[2], ah, al, bh, b);
    if (!ok) c.raise(0);
    setReg(c, 0, 8, c.lm.quotLo, c.lm.quotHi);
    setReg(c, 2, 8, c.lm.res2Lo, c.lm.res2Hi);
    return;
  }
  // 8/16/32-bit forms: same as the 32-bit interpreter, through the register views.
  if (sz === 4) {
    const a = c.r32[0];
    if (sub === 4 || sub === 5) {
      const lo = sub === 4 ? mulU64(c.lm, a, 0, b, 0) : mulS64(c.lm, a, a >> 31, b, b >> 31);
      const hi = c.lm.resHi;
      const ovf = sub === 4 ? hi !== 0 : hi !== lo >> 31;
      c.setResultFlags(lo, 0, ovf ? CF | OF : 0);
      setReg(c, 0, 4, lo, 0);
      setReg(c, 2, 4, hi, 0);
      return;
    }
    const d = c.r32[2];
    const ok = sub === 6 ? divU128(c.lm, 0, 0, d, a, 0, b) : divS128(c.lm, d >> 31, d >> 31, d, a, b >> 31, b);
    if (!ok || (sub === 6 ? c.lm.quotHi !== 0 : c.lm.quotHi !== c.lm.quotLo >> 31)) c.raise(0);
    setReg(c, 0, 4, c.lm.quotLo, 0);
    setReg(c, 2, 4, c.lm.res2Lo, 0);
    return;
  }
  if (sz === 2) {
    const a = c.r16[0];
    if (sub === 4 || sub === 5) {
      const p = sub === 4 ? a * b : ((a << 16) >> 16) * ((b << 16) >> 16);
      const ovf = sub === 4 ? p >>> 16 !== 0 : p !== (p << 16) >> 16;
      c.setResultFlags(p, 16, ovf ? CF | OF : 0);
      c.r16[0] = p;
      c.r16[4] = p >> 16;
      return;
    }
    const n = (c.r16[4] << 16) | a;
    if (sub === 6) {
      if (b === 0) c.raise(0);
      const q = Math.floor((n >>> 0) / b);
      if (q > 0xffff) c.raise(0);
      c.r16[0] = q;
      c.r16[4] = (n >>> 0) - q * b;
    } else {
      const sb = (b << 16) >> 16;
      if (sb === 0) c.raise(0);
      const q = Math.trunc(n / sb);
      if (q !== (q << 16) >> 16) c.raise(0);
      c.r16[0] = q;
      c.r16[4] = n - q * sb;
    }
    return;
  }
  const a = c.r8[0];
  if (sub === 4 || sub === 5) {
    const p = sub === 4 ? a * b : ((a << 24) >> 24) * ((b << 24) >> 24);
    const ovf = sub === 4 ? p >>> 8 !== 0 : p !== (p << 24) >> 24;
    c.setResultFlags(p, 24, ovf ? CF | OF : 0);
    c.r16[0] = p;
    return;
  }
  const n = c.r16[0];
  if (sub === 6) {
    if (b === 0) c.raise(0);
    const q = Math.floor(n / b);
    if (q > 0xff) c.raise(0);
    c.r8[0] = q;
    c.r8[1] = n - q * b;
  } else {
    const sb = (b << 24) >> 24;
    const sn = (n << 16) >> 16;
    if (sb === 0) c.raise(0);
    const q = Math.trunc(sn / sb);
    if (q !== (q << 24) >> 24) c.raise(0);
    c.r8[0] = q;
    c.r8[1] = sn - q * sb;
  }
}

function group45(c: Cpu, op: number): void {
  const x = c.lm.insn;
  const ins = x.d;
  computeEa(c);
  const sub = (ins.modrm >> 3) & 7;
  if (op === 0xfe && sub > 1) c.undefinedOpcode();
  const sz = op === 0xfe ? 1 : ins.opSize;
  switch (sub) {
    case 0:
    case 1: {
      const a = readEForWrite(c, sz);
      if (sz === 8) {
        const r = incDec64(c, a, x.vh, sub === 1);
        writeE(c, 8, r, c.lm.resHi);
      } else {
        const r = sub === 0 ? c.inc(a, 32 - sz * 8) : c.dec(a, 32 - sz * 8);
        writeE(c, sz, r, 0);
      }
      return;
    }
    case 2:
    case 4: {
      // Near CALL/JMP r/m64 (64-bit whatever 0x66 says).
      const lo = readE(c, 8);
      const hi = x.vh;
      if ((hi << 16) >> 16 !== hi) c.gp(0);
      if (sub === 2) push(c, 8, c.ip, c.lm.ripHi);
      setRip(c, lo, hi);
      return;
    }
    case 3:
    case 5: {
      if (ins.mod === 3) c.undefinedOpcode();
      const offSize = ins.opSize === 8 ? 8 : ins.opSize;
      const lo = readSized(c, x.eaHi, x.eaLo, offSize);
      const hi = offSize === 8 ? c.lm.readHi : 0;
      const s = (x.eaLo >>> 0) + offSize;
      const sel = readSized(c, s > 0xffffffff ? (x.eaHi + 1) | 0 : x.eaHi, s | 0, 2);
      if (sub === 3) farCall64(c, sel, lo, hi, offSize);
      else farJump64(c, sel, lo, hi);
      return;
    }
    case 6: {
      const nsz = ins.p66 ? 2 : 8;
      const v = readE(c, nsz);
      push(c, nsz, v, x.vh);
      return;
    }
    default:
      c.undefinedOpcode();
  }
}

function enter(c: Cpu): void {
  const ins = c.lm.insn.d;
  const size = ins.imm;
  const level = ins.imm2 & 31;
  const sz = stackSize(ins);
  const fpLo = c.r32[5];
  const fpHi = c.rh[5];
  const rsp0 = c.r32[4];
  const rsph0 = c.rh[4];
  try {
    push(c, sz, fpLo, fpHi);
    const frameLo = c.r32[4];
    const frameHi = c.rh[4];
    let bpLo = fpLo;
    let bpHi = fpHi;
    for (let i = 1; i < level; i++) {
      const s = (bpLo >>> 0) - sz;
      bpHi = s < 0 ? (bpHi - 1) | 0 : bpHi;
      bpLo = s | 0;
      c.lm.stackRef = true;
      const v = readSized(c, bpHi, bpLo, sz);
      push(c, sz, v, c.lm.readHi);
    }
    if (level > 0) push(c, sz, frameLo, frameHi);
    const s = (c.r32[4] >>> 0) - size;
    const nh = s < 0 ? (c.rh[4] - 1) | 0 : c.rh[4];
    // The new stack top must be writable.
    if (size > 0) {
      c.lm.stackRef = true;
      readSized(c, nh, s | 0, 1);
    }
    if (sz === 2) c.r16[10] = frameLo;
    else {
      c.r32[5] = frameLo;
      c.rh[5] = frameHi;
    }
    c.r32[4] = s | 0;
    c.rh[4] = nh;
  } catch (e) {
    c.r32[4] = rsp0;
    c.rh[4] = rsph0;
    throw e;
  }
}

