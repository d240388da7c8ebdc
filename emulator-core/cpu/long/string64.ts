/**
 * String instructions in 64-bit mode (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with REP:
 * RSI/RDI/RCX (or ESI/EDI/ECX with 0x67), DS (FS/GS override) for sources, ES (base
 * ignored) for destinations. A long REP runs in chunks: the instruction restarts until
 * RCX reaches zero, so interrupts are taken between chunks.
 */
import { DF, DS } from '../constants.js';
import type { Cpu } from '../cpu.js';
import { getReg, segAddr, setReg } from './decode.js';
import { aluSized } from './exec64.js';
import { checkWritable64, readSized, writeSized } from './memory.js';

const CHUNK = 4096;

function addReg(c: Cpu, r: number, d: number): void {
  if (c.lm.insn.d.addrSize !== 8) {
    c.r32[r] = (c.r32[r] + d) | 0;
    c.rh[r] = 0;
    return;
  }
  const s = (c.r32[r] >>> 0) + d;
  if (s > 0xffffffff) c.rh[r] = (c.rh[r] + 1) | 0;
  else if (s < 0) c.rh[r] = (c.rh[r] - 1) | 0;
  c.r32[r] = s | 0;
}

function countZero(c: Cpu): boolean {
  return c.lm.insn.d.addrSize === 8 ? (c.r32[1] | c.rh[1]) === 0 : c.r32[1] === 0;
}

function src(c: Cpu): void {
  const d = c.lm.insn.d;
  segAddr(c, d.seg >= 0 ? d.seg : DS, c.r32[6], d.addrSize === 8 ? c.rh[6] : 0);
}

function dst(c: Cpu): void {
  segAddr(c, -1, c.r32[7], c.lm.insn.d.addrSize === 8 ? c.rh[7] : 0);
}

export function stringOp(c: Cpu, op: number): void {
  const { opSize: osz, rep, addrSize } = c.lm.insn.d;
  const size = (op & 1) === 0 ? 1 : osz === 2 ? 2 : osz;
  const ioSize = (op & 1) === 0 ? 1 : osz === 2 ? 2 : 4;
  const kind = op & 0xfe;
  const sz = kind === 0x6c || kind === 0x6e ? ioSize : size;
  const d = (c.flags & DF) !== 0 ? -sz : sz;
  const user = c.cpl === 3;
  if (kind === 0x6c || kind === 0x6e) c.checkIo(c.r16[4], ioSize);
  if (rep === 0) {
    once(c, kind, sz, d, user);
    return;
  }
  // With 0x67 the count is ECX, and writing it zero-extends RCX even when nothing runs.
  if (addrSize !== 8) c.rh[1] = 0;
  for (let i = 0; i < CHUNK; i++) {
    if (countZero(c)) return;
    once(c, kind, sz, d, user);
    addReg(c, 1, -1);
    if (kind === 0xa6 || kind === 0xae) {
      const zf = c.getZF();
      if ((rep === 0xf3 && !zf) || (rep === 0xf2 && zf)) return;
    }
  }
  // Not finished: run this instruction again (interrupts can come in between).
  if (!countZero(c)) {
    c.ip = c.instrStart;
    c.lm.ripHi = c.lm.instrStartHi;
  }
}

function once(c: Cpu, kind: number, sz: number, d: number, user: boolean): void {
  const x = c.lm.insn;
  switch (kind) {
    case 0xa4: {
      src(c);
      const v = readSized(c, x.eaHi, x.eaLo, sz);
      const vh = c.lm.readHi;
      dst(c);
      writeSized(c, x.eaHi, x.eaLo, sz, v, vh);
      addReg(c, 6, d);
      addReg(c, 7, d);
      return;
    }
    case 0xa6: {
      src(c);
      const a = readSized(c, x.eaHi, x.eaLo, sz);
      const ah = c.lm.readHi;
      dst(c);
      const b = readSized(c, x.eaHi, x.eaLo, sz);
      aluSized(c, 7, sz, a, ah, b, c.lm.readHi);
      addReg(c, 6, d);
      addReg(c, 7, d);
      return;
    }
    case 0xaa: {
      dst(c);
      const v = getReg(c, 0, sz);
      writeSized(c, x.eaHi, x.eaLo, sz, v, x.vh);
      addReg(c, 7, d);
      return;
    }
    case 0xac: {
      src(c);
      const v = readSized(c, x.eaHi, x.eaLo, sz);
      setReg(c, 0, sz, v, c.lm.readHi);
      addReg(c, 6, d);
      return;
    }
    case 0xae: {
      dst(c);
      const b = readSized(c, x.eaHi, x.eaLo, sz);
      const bh = c.lm.readHi;
      const a = getReg(c, 0, sz);
      aluSized(c, 7, sz, a, x.vh, b, bh);
      addReg(c, 7, d);
      return;
    }
    case 0x6c: {
      dst(c);
      checkWritable64(c, x.eaHi, x.eaLo, sz, user);
      const v = c.io.read(c.r16[4], sz as 1 | 2 | 4);
      writeSized(c, x.eaHi, x.eaLo, sz, v, 0);
      addReg(c, 7, d);
      return;
    }
    default: {
      src(c);
      const v = readSized(c, x.eaHi, x.eaLo, sz);
      c.io.write(c.r16[4], sz as 1 | 2 | 4, sz === 4 ? v >>> 0 : v);
      addReg(c, 6, d);
    }
  }
}
