/**
 * The instruction the 64-bit executor is running: decoded from RIP by the shared decoder
 * (cpu/decoder), plus what the executor derives from it (the memory operand's linear
 * address, the high half of the last value read). One per CPU (cpu.lm.insn), reused for
 * every instruction, so the per-instruction path allocates nothing.
 */
import type { Cpu } from '../cpu.js';
import type { CodeReader, CodeWindow } from '../decoder/code-reader.js';
import { DecodeCache } from '../decoder/decode-cache.js';
import { DecodedInsn, DecodeStatus } from '../decoder/decoded-insn.js';
import { X86Decoder } from '../decoder/decoder.js';
import { fetchByte } from './memory.js';

/**
 * The bytes at RIP: straight from the CPU's fetch window (the page RIP is on), then byte
 * by byte through fetchByte, which translates, faults and carries into RIP's high half.
 */
class RipReader implements CodeReader {
  // Set by each decode: the reader is built with the CPU's state, before the CPU exists.
  cpu!: Cpu;
  startIp = 0;
  /** fetchByte ran, so it has already moved RIP past the bytes it read. */
  fetched = false;

  window(w: CodeWindow): void {
    const c = this.cpu;
    const ip = c.ip;
    this.startIp = ip;
    this.fetched = false;
    const off = (ip - c.fetchBase) >>> 0;
    w.buf = c.u8;
    w.start = ip + c.fetchDelta;
    // The fetch window never reaches the top of a 4 GiB block, so no carry into ripHi here.
    w.count = off <= c.fetchSpan ? c.fetchSpan - off + 1 : 0;
  }

  byteAt(i: number): number {
    const c = this.cpu;
    c.ip = (this.startIp + i) | 0;
    this.fetched = true;
    return fetchByte(c);
  }
}

export class Insn64 {
  /** The current instruction (a decode-cache entry: read it, never write it). */
  d = new DecodedInsn();
  /** Linear address (hi:lo) of the memory operand, from computeEa or segAddr. */
  eaLo = 0;
  eaHi = 0;
  /** High half of the last 64-bit value read by getReg, readE or immZ. */
  vh = 0;
  private readonly decoder = new X86Decoder();
  private readonly reader = new RipReader();
  // Loops run the same instructions over and over; decoding each time costs more than checking the bytes.
  private readonly cache = new DecodeCache();

  /** Decode the instruction at RIP into `d`, leaving RIP (cpu.ip, lm.ripHi) after it. */
  decode(c: Cpu): DecodeStatus {
    const ip = c.ip;
    const hi = c.lm.ripHi;
    const off = (ip - c.fetchBase) >>> 0;
    const start = ip + c.fetchDelta;
    if (off <= c.fetchSpan) {
      const hit = this.cache.lookup(ip, hi, 64, c.u8, start, c.fetchSpan - off + 1);
      if (hit !== null) {
        this.d = hit;
        c.ip = (ip + hit.len) | 0;
        return DecodeStatus.Ok;
      }
    }
    const d = this.cache.claim(ip);
    this.d = d;
    const r = this.reader;
    r.cpu = c;
    const status = this.decoder.decode(r, 64, d);
    if (!r.fetched) {
      c.ip = (ip + d.len) | 0;
      if (status === DecodeStatus.Ok) this.cache.remember(ip, hi, 64, c.u8, start);
    }
    return status;
  }
}
