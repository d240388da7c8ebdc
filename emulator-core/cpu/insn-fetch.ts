/**
 * The interpreters' front end: the instruction at CS:EIP (RIP in 64-bit mode), decoded by
 * the shared decoder (cpu/decoder) into the DecodedInsn that the handlers (ops.ts,
 * ops-0f.ts, long/exec64.ts, ...) read their prefixes, ModRM operand and immediates
 * from. Recently run instructions come from a decode cache (loops run the same bytes over
 * and over, and comparing them costs less than decoding them again).
 *
 * The pages instructions are cached from are write-protected the way the JIT protects its
 * code pages (GuestMemory.codePages, here bit CODE_PAGE_DECODED): a write to one reaches
 * pageWritten, which bumps the page's generation and drops the protection, so until then
 * the cache can trust its entries without comparing their bytes. A page written again and
 * again while it also runs code stops being protected (each protection flushes the TLB);
 * its entries are compared byte by byte instead.
 */
import type { Cpu } from './cpu.js';
import type { CodeReader, CodeWindow } from './decoder/code-reader.js';
import { DecodeCache } from './decoder/decode-cache.js';
import { type DecodedInsn, DecodeStatus } from './decoder/decoded-insn.js';
import { X86Decoder } from './decoder/decoder.js';
import { fetchByte } from './long/memory.js';

/** GuestMemory.codePages bits: the JIT compiled code from the page; the interpreter cached instructions from it. */
export const CODE_PAGE_JIT = 1;
export const CODE_PAGE_DECODED = 2;

/** Protections a page may lose to writes before it is left unprotected for good (until reset). */
const MAX_UNPROTECTS = 16;

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
  private readonly cache: DecodeCache;
  /** Write generation of each backing page (indexed like GuestMemory.codePages). */
  private readonly pageGen: Int32Array;
  private readonly unprotects: Uint8Array;

  constructor(private readonly cpu: Cpu) {
    this.reader = new EipReader(cpu);
    const pages = cpu.mem.codePages.length;
    this.pageGen = new Int32Array(pages);
    this.unprotects = new Uint8Array(pages);
    this.cache = new DecodeCache(this.pageGen);
  }

  /** A write is about to land on a backing page flagged in codePages. */
  pageWritten(page: number): void {
    this.pageGen[page]++;
    const cp = this.cpu.mem.codePages;
    if ((cp[page] & CODE_PAGE_DECODED) !== 0) {
      cp[page] &= ~CODE_PAGE_DECODED;
      if (this.unprotects[page] < 255) this.unprotects[page]++;
    }
  }

  /** Forget every trusted entry and protection (CPU reset: loaders may write memory unseen). */
  reset(): void {
    const cp = this.cpu.mem.codePages;
    for (let p = 0; p < cp.length; p++) {
      if ((cp[p] & CODE_PAGE_DECODED) !== 0) cp[p] &= ~CODE_PAGE_DECODED;
      this.pageGen[p]++;
    }
    this.unprotects.fill(0);
  }

  /** Write-protect the backing page of a cached instruction; false if it is left unprotected. */
  private protect(c: Cpu, page: number): boolean {
    const cp = c.mem.codePages;
    if (page >= cp.length) return false;
    const flags = cp[page];
    if ((flags & CODE_PAGE_DECODED) !== 0) return true;
    if (this.unprotects[page] >= MAX_UNPROTECTS) return false;
    // The first flag on a page drops every CPU's direct-write translations to it.
    c.mem.flagCodePage(page, CODE_PAGE_DECODED);
    return true;
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
      const hi = mode64 ? c.lm.ripHi : 0;
      const bits = mode64 ? 64 : c.code32 ? 32 : 16;
      const start = ip + c.fetchDelta;
      const count = c.fetchSpan - off + 1;
      const hit = this.cache.trusted(ip, hi, bits, start, count) ?? this.cache.lookup(ip, hi, bits, c.u8, start, count);
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
      if (status === DecodeStatus.Ok) this.cache.remember(ip, hi, bits, c.u8, start, this.protect(c, start >>> 12));
    }
    if (status !== DecodeStatus.Ok) {
      if (status === DecodeStatus.TooLong) c.gp(0);
      c.undefinedOpcode();
    }
    return d;
  }
}
