/**
 * Recently decoded instructions by address, for interpreters that decode every instruction
 * they run. An entry is used only if the bytes at the address are still the bytes it was
 * decoded from, so it needs no invalidation: self-modifying code simply misses. (Decoding
 * is a function of the bytes and the code size alone.)
 */
import { DecodedInsn } from './decoded-insn.js';
import { MAX_INSN_LEN } from './insn-cursor.js';

const SLOT_BITS = 12;
const SLOTS = 1 << SLOT_BITS;
const BYTES_PER_SLOT = 16;

export class DecodeCache {
  private readonly insns = Array.from({ length: SLOTS }, () => new DecodedInsn());
  private readonly keyLo = new Int32Array(SLOTS);
  private readonly keyHi = new Int32Array(SLOTS);
  /** Code size of the entry (16, 32, 64), 0 for none. */
  private readonly keyBits = new Uint8Array(SLOTS);
  private readonly bytes = new Uint8Array(SLOTS * BYTES_PER_SLOT);

  /**
   * The record decoded at address hi:lo for `bits`, if its bytes equal buf[start..] (of
   * which `count` may be read); null otherwise.
   */
  lookup(lo: number, hi: number, bits: number, buf: Uint8Array, start: number, count: number): DecodedInsn | null {
    const slot = slotOf(lo);
    if (this.keyLo[slot] !== lo || this.keyHi[slot] !== hi || this.keyBits[slot] !== bits) return null;
    const d = this.insns[slot];
    const len = d.len;
    if (len > count) return null;
    const b = this.bytes;
    const o = slot * BYTES_PER_SLOT;
    for (let i = 0; i < len; i++) if (b[o + i] !== buf[start + i]) return null;
    return d;
  }

  /** The record to decode address lo into; its old entry is forgotten. */
  claim(lo: number): DecodedInsn {
    const slot = slotOf(lo);
    this.keyBits[slot] = 0;
    return this.insns[slot];
  }

  /** Keep the instruction just decoded (into claim(lo)) from buf[start], d.len bytes long. */
  remember(lo: number, hi: number, bits: number, buf: Uint8Array, start: number): void {
    const slot = slotOf(lo);
    const len = this.insns[slot].len;
    if (len > MAX_INSN_LEN) return;
    const o = slot * BYTES_PER_SLOT;
    for (let i = 0; i < len; i++) this.bytes[o + i] = buf[start + i];
    this.keyLo[slot] = lo;
    this.keyHi[slot] = hi;
    this.keyBits[slot] = bits;
  }
}

function slotOf(lo: number): number {
  return (lo ^ (lo >>> SLOT_BITS)) & (SLOTS - 1);
}
