/**
 * The interpreters' front end: the instruction at CS:EIP (RIP in 64-bit mode), decoded by
 * the shared decoder (cpu/decoder) into the DecodedInsn that the handlers (ops.ts,
 * ops-0f.ts, long/exec64.ts, ...) read their prefixes, ModRM operand and immediates
 * from. Recently run instructions come from a decode cache (loops run the same bytes over
 * and over, and comparing them costs less than decoding them again).
 */
import type { Cpu } from './cpu.js';
import type { CodeReader, CodeWindow } from './decoder/code-reader.js';
import { DecodeCache } from './decoder/decode-cache.js';
import { type DecodedInsn, DecodeStatus } from './decoder/decoded-insn.js';
import { X86Decoder } from './decoder/decoder.js';
import { fetchByte } from './long/memory.js';

/**
 * The bytes at CS:EIP: straight from the CPU's fetch window (the page EIP is on, clipped
 * to the CS limit; in 64-bit mode short of a 4 GiB boundary), then one fetch per byte
 * past it, which checks the limit, translates and faults exactly as the byte's fetch
 * would (and in 64-bit mode carries into RIP's high half).
 */
class EipReader implements CodeReader {
  startIp = 0;
  mode64 = false;
  /** A fetch ran, so it has already moved EIP past the bytes it read. */
  fetched = false;

  constructor(private readonly cpu: Cpu) {}

  window(w: CodeWindow): void {
    const c = this.cpu;
    const ip = c.ip;
    this.startIp = ip;
    this.fetched = false;
    const off = (ip - c.fetchBase) >>> 0;
    w.buf = c.u8;
    w.start = ip + c.fetchDelta;
    w.count = off <= c.fetchSpan ? c.fetchSpan - off + 1 : 0;
  }

  byteAt(i: number): number {
    const c = this.cpu;
    c.ip = (this.startIp + i) | 0;
    this.fetched = true;
    return this.mode64 ? fetchByte(c) : c.fetch8();
  }
}

export class InsnFetcher {
  private readonly decoder = new X86Decoder();
  private readonly reader: EipReader;
  private readonly cache = new DecodeCache();

  constructor(private readonly cpu: Cpu) {
    this.reader = new EipReader(cpu);
  }

  /**
   * Decode the instruction at cpu.ip (and lm.ripHi) into cpu.insn and leave cpu.ip after
   * it. Fetch faults (#PF, #GP for the CS limit or a non-canonical RIP) are thrown by the
   * fetch of the byte that raises them; a decode that finds no instruction raises #GP(0)
   * (over 15 bytes) or #UD.
   */
  next(): DecodedInsn {
    const c = this.cpu;
    const ip = c.ip;
    const off = (ip - c.fetchBase) >>> 0;
    if (off <= c.fetchSpan) {
      const mode64 = c.mode64;
      const hit = this.cache.lookup(ip, mode64 ? c.lm.ripHi : 0, mode64 ? 64 : c.code32 ? 32 : 16, c.u8, ip + c.fetchDelta, c.fetchSpan - off + 1);
      if (hit !== null) {
        c.insn = hit;
        c.ip = (ip + hit.len) | 0;
        return hit;
      }
    }
    return this.decode(c, ip);
  }

  private decode(c: Cpu, ip: number): DecodedInsn {
    const mode64 = c.mode64;
    const hi = mode64 ? c.lm.ripHi : 0;
    const bits = mode64 ? 64 : c.code32 ? 32 : 16;
    if ((ip - c.fetchBase) >>> 0 > c.fetchSpan) {
      // Open the window on EIP's page (its first byte's fetch, with that fetch's faults).
      if (mode64) {
        fetchByte(c);
        c.lm.ripHi = hi;
      } else c.fetch8();
      c.ip = ip;
      if ((ip - c.fetchBase) >>> 0 <= c.fetchSpan) {
        const hit = this.cache.lookup(ip, hi, bits, c.u8, ip + c.fetchDelta, c.fetchSpan - ((ip - c.fetchBase) >>> 0) + 1);
        if (hit !== null) {
          c.insn = hit;
          c.ip = (ip + hit.len) | 0;
          return hit;
        }
      }
    }
    const start = ip + c.fetchDelta;
    const d = this.cache.claim(ip);
    c.insn = d;
    const r = this.reader;
    r.mode64 = mode64;
    const status = this.decoder.decode(r, bits, d);
    d.lin = ip;
    if (!r.fetched) {
      c.ip = (ip + d.len) | 0;
      if (status === DecodeStatus.Ok) this.cache.remember(ip, hi, bits, c.u8, start);
    }
    if (status !== DecodeStatus.Ok) {
      if (status === DecodeStatus.TooLong) c.gp(0);
      c.undefinedOpcode();
    }
    return d;
  }
}
