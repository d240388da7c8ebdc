/**
 * Recently decoded instructions by address, for interpreters that decode every instruction
 * they run. An entry is used only if the bytes at the address are still the bytes it was
 * decoded from, so it needs no invalidation: self-modifying code simply misses. (Decoding
 * is a function of the bytes and the code size alone.)
 *
 * Comparing the bytes on every lookup costs about as much as the rest of the lookup, so an
 * owner that can see writes (the interpreter write-protects the pages it runs, as the JIT
 * does) gives the cache a generation number per page of the buffer and bumps it whenever
 * the page is written: an entry remembered as trusted under its page's generation is used
 * without comparing while the generation stands.
 */
import { DecodedInsn } from './decoded-insn.js';
import { MAX_INSN_LEN } from './insn-cursor.js';

const SLOT_BITS = 12;
const SLOTS = 1 << SLOT_BITS;

/** A cached record with its key and its bytes as little-endian int32 words, zero-padded. */
class CachedInsn extends DecodedInsn {
  keyLo = 0;
  keyHi = 0;
  /** Code size of the entry (16, 32, 64), 0 for none. */
  keyBits = 0;
  /** Page of the buffer (offset >>> 12) whose generation vouches for the bytes, or -1. */
  genPage = -1;
  gen = 0;
  w0 = 0;
  w1 = 0;
  w2 = 0;
  w3 = 0;
}

/** Bits of the last word that hold instruction bytes, when `rest` (1-4) bytes are left. */
function restMask(rest: number): number {
  return rest >= 4 ? -1 : (1 << (rest << 3)) - 1;
}

export class DecodeCache {
  private readonly entries = Array.from({ length: SLOTS }, () => new CachedInsn());
  /**
   * The buffer last looked up in, seen as int32 words: comparing an instruction's bytes
   * four at a time is much cheaper than one by one, and it runs for every interpreted
   * instruction. (Hosts are little-endian, as typed arrays on x86 and ARM are.)
   */
  private wordsOf: Uint8Array | null = null;
  private words: Int32Array<ArrayBufferLike> = new Int32Array(0);

  /** `pageGen`: the owner's write generation of each 4 KiB page of the buffer, if it tracks writes. */
  constructor(private readonly pageGen: Int32Array | null = null) {}

  /**
   * The record decoded at address hi:lo for `bits` if its page's write generation vouches
   * for its bytes at buf[start..] (of which `count` may be read), else null (which is no
   * miss: ask lookup()). Small, so that it inlines into the interpreter's fetch.
   */
  trusted(lo: number, hi: number, bits: number, start: number, count: number): DecodedInsn | null {
    const e = this.entries[slotOf(lo)];
    const page = e.genPage;
    return e.keyLo === lo && page === start >>> 12 && e.keyBits === bits && e.keyHi === hi && e.gen === this.pageGen![page] && e.len <= count ? e : null;
  }

  /**
   * The record decoded at address hi:lo for `bits`, if its bytes equal buf[start..] (of
   * which `count` may be read); null otherwise.
   */
  lookup(lo: number, hi: number, bits: number, buf: Uint8Array, start: number, count: number): DecodedInsn | null {
    const e = this.entries[slotOf(lo)];
    if (e.keyLo !== lo || e.keyBits !== bits || e.keyHi !== hi) return null;
    const len = e.len;
    if (len > count) return null;
    const page = e.genPage;
    if (page >= 0 && page === start >>> 12 && e.gen === this.pageGen![page]) return e;
    if (buf !== this.wordsOf) this.bindWords(buf);
    const w = this.words;
    const q = start >>> 2;
    // Words q .. q + 4 hold the (at most 15) bytes wherever they start.
    if (q + 4 >= w.length) return this.sameBytes(e, buf, start) ? e : null;
    const sh = (start & 3) << 3;
    const w0 = w[q];
    const w1 = w[q + 1];
    let got = sh === 0 ? w0 : (w0 >>> sh) | (w1 << (32 - sh));
    if (len <= 4) return ((got ^ e.w0) & restMask(len)) === 0 ? e : null;
    if (got !== e.w0) return null;
    const w2 = w[q + 2];
    got = sh === 0 ? w1 : (w1 >>> sh) | (w2 << (32 - sh));
    if (len <= 8) return ((got ^ e.w1) & restMask(len - 4)) === 0 ? e : null;
    if (got !== e.w1) return null;
    const w3 = w[q + 3];
    got = sh === 0 ? w2 : (w2 >>> sh) | (w3 << (32 - sh));
    if (len <= 12) return ((got ^ e.w2) & restMask(len - 8)) === 0 ? e : null;
    if (got !== e.w2) return null;
    got = sh === 0 ? w3 : (w3 >>> sh) | (w[q + 4] << (32 - sh));
    return ((got ^ e.w3) & restMask(len - 12)) === 0 ? e : null;
  }

  /** The record to decode address lo into; its old entry is forgotten. */
  claim(lo: number): DecodedInsn {
    const e = this.entries[slotOf(lo)];
    e.keyBits = 0;
    return e;
  }

  /**
   * Keep the instruction just decoded (into claim(lo)) from buf[start], d.len bytes long.
   * `trusted`: its bytes lie in one page whose writes bump pageGen, so while that page's
   * generation stands they need no comparing.
   */
  remember(lo: number, hi: number, bits: number, buf: Uint8Array, start: number, trusted = false): void {
    const e = this.entries[slotOf(lo)];
    const len = e.len;
    if (len > MAX_INSN_LEN) return;
    const page = start >>> 12;
    const vouched = trusted && this.pageGen !== null && (start + len - 1) >>> 12 === page;
    e.genPage = vouched ? page : -1;
    e.gen = vouched ? this.pageGen![page] : 0;
    e.w0 = packWord(buf, start, len, 0);
    e.w1 = packWord(buf, start, len, 4);
    e.w2 = packWord(buf, start, len, 8);
    e.w3 = packWord(buf, start, len, 12);
    e.keyLo = lo;
    e.keyHi = hi;
    e.keyBits = bits;
  }

  private sameBytes(e: CachedInsn, buf: Uint8Array, start: number): boolean {
    const words = [e.w0, e.w1, e.w2, e.w3];
    for (let i = 0; i < e.len; i++) if (((words[i >> 2] >>> ((i & 3) << 3)) & 0xff) !== buf[start + i]) return false;
    return true;
  }

  private bindWords(buf: Uint8Array): void {
    this.wordsOf = buf;
    // A buffer that int32 words cannot view (odd offset) is compared byte by byte.
    this.words = buf.byteOffset % 4 === 0 ? new Int32Array(buf.buffer, buf.byteOffset, Math.floor(buf.length / 4)) : new Int32Array(0);
  }
}

/** Bytes from..from+3 of the instruction (those below len) as a little-endian word. */
function packWord(buf: Uint8Array, start: number, len: number, from: number): number {
  let v = 0;
  for (let i = from; i < len && i < from + 4; i++) v |= buf[start + i] << ((i - from) << 3);
  return v;
}

function slotOf(lo: number): number {
  return (lo ^ (lo >>> SLOT_BITS)) & (SLOTS - 1);
}
