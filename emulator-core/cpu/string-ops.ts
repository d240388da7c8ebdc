/**
 * String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with REP prefixes.
 * REP MOVS/STOS with DF=0 copy or fill whole page-sized runs of RAM at once (the Linux
 * kernel's memcpy/memset); everything else runs element by element with exact semantics.
 * Long REPs stop after a slice and restart the instruction so interrupts get in.
 */
import { DF, ES } from './constants.js';
import { ACCESS_READ, ACCESS_WRITE, type Cpu } from './cpu.js';

/** Iterations per slice before yielding to the run loop (interrupts, timers). */
const REP_SLICE = 16384;

function readN(c: Cpu, lin: number, size: number): number {
  return size === 1 ? c.readLin8(lin) : size === 2 ? c.readLin16(lin) : c.readLin32(lin);
}

function writeN(c: Cpu, lin: number, size: number, v: number): void {
  if (size === 1) c.writeLin8(lin, v);
  else if (size === 2) c.writeLin16(lin, v);
  else c.writeLin32(lin, v);
}

function getSi(c: Cpu): number {
  return c.insn.addrSize === 4 ? c.r32[6] : c.r16[12];
}

function getDi(c: Cpu): number {
  return c.insn.addrSize === 4 ? c.r32[7] : c.r16[14];
}

function addSi(c: Cpu, d: number): void {
  if (c.insn.addrSize === 4) c.r32[6] = c.r32[6] + d;
  else c.r16[12] = c.r16[12] + d;
}

function addDi(c: Cpu, d: number): void {
  if (c.insn.addrSize === 4) c.r32[7] = c.r32[7] + d;
  else c.r16[14] = c.r16[14] + d;
}

function getCount(c: Cpu): number {
  return c.insn.addrSize === 4 ? c.r32[1] >>> 0 : c.r16[2];
}

function setCount(c: Cpu, n: number): void {
  if (c.insn.addrSize === 4) c.r32[1] = n;
  else c.r16[2] = n;
}

function accRead(c: Cpu, size: number): number {
  return size === 1 ? c.r8[0] : size === 2 ? c.r16[0] : c.r32[0];
}

function accWrite(c: Cpu, size: number, v: number): void {
  if (size === 1) c.r8[0] = v;
  else if (size === 2) c.r16[0] = v;
  else c.r32[0] = v;
}

/** Backing offset for a direct access, or -1 if the page needs the slow path. */
function directOffset(c: Cpu, lin: number, write: boolean): number {
  const mask = write ? c.writeMask : c.readMask;
  let e = c.tlb[lin >>> 12];
  if ((e & mask) === 0) {
    c.physFor(lin, write ? ACCESS_WRITE : ACCESS_READ, c.cpl === 3);
    e = c.tlb[lin >>> 12];
    if ((e & mask) === 0) return -1;
  }
  return ((e & ~0xfff) >>> 0) + (lin & 0xfff);
}

/** Bulk path applies: 32-bit addressing, forward, segments without limit checks. */
function canBulk(c: Cpu, srcSeg: number): boolean {
  return c.insn.addrSize === 4 && (c.flags & DF) === 0 && c.segCheck[ES] === 0 && (srcSeg < 0 || c.segCheck[srcSeg] === 0);
}

export function movsOp(c: Cpu, size: number): void {
  const srcSeg = c.dataSeg();
  const step = (c.flags & DF) !== 0 ? -size : size;
  if (c.insn.rep === 0) {
    const v = readN(c, c.segAddr(srcSeg, getSi(c)), size);
    writeN(c, c.segAddr(ES, getDi(c)), size, v);
    addSi(c, step);
    addDi(c, step);
    return;
  }
  let count = getCount(c);
  if (count === 0) return;
  let budget = REP_SLICE;
  if (canBulk(c, srcSeg)) {
    const u8 = c.u8;
    while (count > 0 && budget > 0) {
      const src = (c.segBase[srcSeg] + c.r32[6]) | 0;
      const dst = (c.segBase[ES] + c.r32[7]) | 0;
      const room = Math.min(0x1000 - (src & 0xfff), 0x1000 - (dst & 0xfff));
      const n = Math.min(count, Math.floor(room / size));
      const so = n > 0 ? directOffset(c, src, false) : -1;
      const dO = so >= 0 ? directOffset(c, dst, true) : -1;
      const bytes = n * size;
      if (so < 0 || dO < 0 || (dO > so && dO < so + bytes)) {
        // Page-crossing element, MMIO, or overlapping forward copy: one element exactly.
        writeN(c, dst, size, readN(c, src, size));
        c.r32[6] = c.r32[6] + size;
        c.r32[7] = c.r32[7] + size;
        count--;
        budget--;
      } else {
        u8.copyWithin(dO, so, so + bytes);
        c.r32[6] = c.r32[6] + bytes;
        c.r32[7] = c.r32[7] + bytes;
        count -= n;
        budget -= n;
      }
      c.r32[1] = count;
    }
  } else {
    while (count > 0 && budget > 0) {
      const v = readN(c, c.segAddr(srcSeg, getSi(c)), size);
      writeN(c, c.segAddr(ES, getDi(c)), size, v);
      addSi(c, step);
      addDi(c, step);
      setCount(c, --count);
      budget--;
    }
  }
  if (count > 0) {
    c.ip = c.instrStart;
    c.branched = true;
  }
}

export function stosOp(c: Cpu, size: number): void {
  const step = (c.flags & DF) !== 0 ? -size : size;
  const v = accRead(c, size);
  if (c.insn.rep === 0) {
    writeN(c, c.segAddr(ES, getDi(c)), size, v);
    addDi(c, step);
    return;
  }
  let count = getCount(c);
  if (count === 0) return;
  let budget = REP_SLICE;
  if (canBulk(c, -1)) {
    while (count > 0 && budget > 0) {
      const dst = (c.segBase[ES] + c.r32[7]) | 0;
      const n = Math.min(count, Math.floor((0x1000 - (dst & 0xfff)) / size));
      const dO = n > 0 ? directOffset(c, dst, true) : -1;
      if (dO < 0) {
        writeN(c, dst, size, v);
        c.r32[7] = c.r32[7] + size;
        count--;
        budget--;
      } else {
        fill(c, dO, size, v, n);
        c.r32[7] = c.r32[7] + n * size;
        count -= n;
        budget -= n;
      }
      c.r32[1] = count;
    }
  } else {
    while (count > 0 && budget > 0) {
      writeN(c, c.segAddr(ES, getDi(c)), size, v);
      addDi(c, step);
      setCount(c, --count);
      budget--;
    }
  }
  if (count > 0) {
    c.ip = c.instrStart;
    c.branched = true;
  }
}

function fill(c: Cpu, off: number, size: number, v: number, n: number): void {
  if (size === 1) {
    c.u8.fill(v & 0xff, off, off + n);
  } else if (size === 4 && (off & 3) === 0) {
    c.i32.fill(v, off >>> 2, (off >>> 2) + n);
  } else if (size === 2 && (off & 1) === 0) {
    c.u16.fill(v & 0xffff, off >>> 1, (off >>> 1) + n);
  } else {
    const u8 = c.u8;
    for (let i = 0; i < n * size; i++) u8[off + i] = v >>> ((i % size) * 8);
  }
}

export function lodsOp(c: Cpu, size: number): void {
  const srcSeg = c.dataSeg();
  const step = (c.flags & DF) !== 0 ? -size : size;
  if (c.insn.rep === 0) {
    accWrite(c, size, readN(c, c.segAddr(srcSeg, getSi(c)), size));
    addSi(c, step);
    return;
  }
  let count = getCount(c);
  let budget = REP_SLICE;
  while (count > 0 && budget > 0) {
    accWrite(c, size, readN(c, c.segAddr(srcSeg, getSi(c)), size));
    addSi(c, step);
    setCount(c, --count);
    budget--;
  }
  if (count > 0) {
    c.ip = c.instrStart;
    c.branched = true;
  }
}

function compare(c: Cpu, a: number, b: number, size: number): void {
  c.sub(a, b, 32 - size * 8);
}

export function cmpsOp(c: Cpu, size: number): void {
  const srcSeg = c.dataSeg();
  const step = (c.flags & DF) !== 0 ? -size : size;
  if (c.insn.rep === 0) {
    const a = readN(c, c.segAddr(srcSeg, getSi(c)), size);
    const b = readN(c, c.segAddr(ES, getDi(c)), size);
    compare(c, a, b, size);
    addSi(c, step);
    addDi(c, step);
    return;
  }
  const repe = c.insn.rep === 0xf3;
  let count = getCount(c);
  let budget = REP_SLICE;
  while (count > 0 && budget > 0) {
    const a = readN(c, c.segAddr(srcSeg, getSi(c)), size);
    const b = readN(c, c.segAddr(ES, getDi(c)), size);
    compare(c, a, b, size);
    addSi(c, step);
    addDi(c, step);
    setCount(c, --count);
    budget--;
    if (c.getZF() !== repe) return;
  }
  if (count > 0) {
    c.ip = c.instrStart;
    c.branched = true;
  }
}

export function scasOp(c: Cpu, size: number): void {
  const step = (c.flags & DF) !== 0 ? -size : size;
  const a = accRead(c, size);
  if (c.insn.rep === 0) {
    compare(c, a, readN(c, c.segAddr(ES, getDi(c)), size), size);
    addDi(c, step);
    return;
  }
  const repe = c.insn.rep === 0xf3;
  let count = getCount(c);
  let budget = REP_SLICE;
  while (count > 0 && budget > 0) {
    compare(c, a, readN(c, c.segAddr(ES, getDi(c)), size), size);
    addDi(c, step);
    setCount(c, --count);
    budget--;
    if (c.getZF() !== repe) return;
  }
  if (count > 0) {
    c.ip = c.instrStart;
    c.branched = true;
  }
}

export function insOp(c: Cpu, size: 1 | 2 | 4): void {
  const port = c.r16[4];
  c.checkIo(port, size);
  const step = (c.flags & DF) !== 0 ? -size : size;
  if (c.insn.rep === 0) {
    const lin = c.segAddr(ES, getDi(c));
    c.checkWritable(lin, size);
    writeN(c, lin, size, c.io.read(port, size));
    addDi(c, step);
    return;
  }
  let count = getCount(c);
  let budget = REP_SLICE;
  const bulk = canBulk(c, -1);
  while (count > 0 && budget > 0) {
    if (bulk) {
      // Whole runs of the device's buffer straight into a RAM page (disk PIO reads).
      const lin = (c.segBase[ES] + c.r32[7]) | 0;
      const room = Math.floor((0x1000 - (lin & 0xfff)) / size);
      const off = room > 0 ? directOffset(c, lin, true) : -1;
      if (off >= 0) {
        const n = c.io.readString(port, size, c.u8, off, Math.min(count, room, budget));
        if (n > 0) {
          c.r32[7] = c.r32[7] + n * size;
          count -= n;
          budget -= n;
          c.r32[1] = count;
          continue;
        }
      }
    }
    const lin = c.segAddr(ES, getDi(c));
    c.checkWritable(lin, size);
    writeN(c, lin, size, c.io.read(port, size));
    addDi(c, step);
    setCount(c, --count);
    budget--;
  }
  if (count > 0) {
    c.ip = c.instrStart;
    c.branched = true;
  }
}

export function outsOp(c: Cpu, size: 1 | 2 | 4): void {
  const port = c.r16[4];
  c.checkIo(port, size);
  const srcSeg = c.dataSeg();
  const step = (c.flags & DF) !== 0 ? -size : size;
  if (c.insn.rep === 0) {
    c.io.write(port, size, readN(c, c.segAddr(srcSeg, getSi(c)), size) >>> 0);
    addSi(c, step);
    return;
  }
  let count = getCount(c);
  let budget = REP_SLICE;
  const bulk = canBulk(c, srcSeg);
  while (count > 0 && budget > 0) {
    if (bulk) {
      const lin = (c.segBase[srcSeg] + c.r32[6]) | 0;
      const room = Math.floor((0x1000 - (lin & 0xfff)) / size);
      const off = room > 0 ? directOffset(c, lin, false) : -1;
      if (off >= 0) {
        const n = c.io.writeString(port, size, c.u8, off, Math.min(count, room, budget));
        if (n > 0) {
          c.r32[6] = c.r32[6] + n * size;
          count -= n;
          budget -= n;
          c.r32[1] = count;
          continue;
        }
      }
    }
    c.io.write(port, size, readN(c, c.segAddr(srcSeg, getSi(c)), size) >>> 0);
    addSi(c, step);
    setCount(c, --count);
    budget--;
  }
  if (count > 0) {
    c.ip = c.instrStart;
    c.branched = true;
  }
}
