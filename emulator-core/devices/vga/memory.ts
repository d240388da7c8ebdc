/**
 * Video memory and the legacy 0xA0000-0xBFFFF window.
 *
 * Layout (the one QEMU uses, so chain-4 and DISPI modes see plain linear bytes): VRAM is an
 * array of dwords, and byte p of dword n is plane p at plane offset n. A planar access at
 * plane offset n touches dword n; chain-4 byte address a is simply vram[a] (plane a & 3,
 * offset a >> 2); odd/even byte address a is plane (a & 1) (or 2 + (a & 1)) of dword a >> 1,
 * so text cell i is bytes 4i (character) and 4i+1 (attribute), and the font lives in plane 2.
 *
 * The window path does no allocation: every access is a few typed-array operations.
 */
import {
  GR05_ODD_EVEN,
  GR05_READ_MODE1,
  GR_BIT_MASK,
  GR_COLOR_COMPARE,
  GR_COLOR_DONT_CARE,
  GR_DATA_ROTATE,
  GR_ENABLE_SET_RESET,
  GR_MISC,
  GR_MODE,
  GR_READ_MAP,
  GR_SET_RESET,
  SR04_CHAIN4,
  SR04_SEQUENTIAL,
  SR_MAP_MASK,
  SR_MEMORY_MODE,
} from './constants.js';
import type { VgaRegisters } from './registers.js';

/** A 4-bit plane mask expanded to a dword with 0xFF in each selected plane's byte. */
export const PLANE_MASK32 = new Int32Array(16);
for (let i = 0; i < 16; i++) {
  PLANE_MASK32[i] = (i & 1 ? 0xff : 0) | (i & 2 ? 0xff00 : 0) | (i & 4 ? 0xff0000 : 0) | (i & 8 ? 0xff000000 : 0);
}

export class VgaMemory {
  vram: Uint8Array;
  vram32: Int32Array;
  /** Byte and dword index masks (VRAM size is a power of two). */
  byteMask: number;
  dwordMask: number;
  /** The four plane latches, loaded by every window read. */
  latch = 0;
  /** DISPI bank: added to window offsets in the 64 KiB map (memory map mode 1). */
  bankOffset = 0;

  constructor(
    private readonly regs: VgaRegisters,
    readonly size: number,
  ) {
    this.vram = new Uint8Array(size);
    this.vram32 = new Int32Array(this.vram.buffer, 0, size >>> 2);
    this.byteMask = size - 1;
    this.dwordMask = (size >>> 2) - 1;
  }

  /** Move VRAM into `bytes` (guest backing memory, page aligned), keeping its contents. */
  relocate(bytes: Uint8Array): void {
    bytes.set(this.vram.subarray(0, bytes.length));
    this.vram = bytes;
    this.vram32 = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  }

  /** VGA memory address of window offset `off` (0..0x1FFFF), or -1 outside the mapped part. */
  private translate(off: number): number {
    switch ((this.regs.gc[GR_MISC] >> 2) & 3) {
      case 0:
        return off;
      case 1:
        return off < 0x10000 ? off + this.bankOffset : -1;
      case 2:
        return off >= 0x10000 && off < 0x18000 ? off - 0x10000 : -1;
      default:
        return off >= 0x18000 ? off - 0x18000 : -1;
    }
  }

  read(off: number): number {
    const a = this.translate(off);
    if (a < 0) return 0xff;
    const regs = this.regs;
    const gc = regs.gc;
    if ((regs.seq[SR_MEMORY_MODE] & SR04_CHAIN4) !== 0) {
      this.latch = this.vram32[(a >>> 2) & this.dwordMask];
      return this.vram[a & this.byteMask];
    }
    if ((gc[GR_MODE] & GR05_ODD_EVEN) !== 0) {
      const dword = (a >>> 1) & this.dwordMask;
      this.latch = this.vram32[dword];
      return this.vram[(dword << 2) | (gc[GR_READ_MAP] & 2) | (a & 1)];
    }
    const latch = (this.latch = this.vram32[a & this.dwordMask]);
    if ((gc[GR_MODE] & GR05_READ_MODE1) === 0) return (latch >>> ((gc[GR_READ_MAP] & 3) << 3)) & 0xff;
    // Read mode 1: a bit is set where every plane not marked "don't care" matches the colour.
    let x = (latch ^ PLANE_MASK32[gc[GR_COLOR_COMPARE] & 0x0f]) & PLANE_MASK32[gc[GR_COLOR_DONT_CARE] & 0x0f];
    x |= x >>> 16;
    x |= x >>> 8;
    return ~x & 0xff;
  }

  write(off: number, value: number): void {
    const a = this.translate(off);
    if (a < 0) return;
    const regs = this.regs;
    const seq = regs.seq;
    const mapMask = seq[SR_MAP_MASK];
    const memMode = seq[SR_MEMORY_MODE];
    if ((memMode & SR04_CHAIN4) !== 0) {
      if ((mapMask & (1 << (a & 3))) !== 0) this.vram[a & this.byteMask] = value;
      return;
    }
    if ((memMode & SR04_SEQUENTIAL) === 0) {
      // Odd/even: A0 picks planes 0/2 (even) or 1/3 (odd) among those the map mask enables.
      const planes = mapMask & ((a & 1) !== 0 ? 0x0a : 0x05);
      const base = ((a >>> 1) & this.dwordMask) << 2;
      if ((planes & 1) !== 0) this.vram[base] = value;
      if ((planes & 2) !== 0) this.vram[base | 1] = value;
      if ((planes & 4) !== 0) this.vram[base | 2] = value;
      if ((planes & 8) !== 0) this.vram[base | 3] = value;
      return;
    }
    const gc = regs.gc;
    const latch = this.latch;
    let v: number;
    let bitMask = gc[GR_BIT_MASK];
    switch (gc[GR_MODE] & 3) {
      case 0: {
        const r = gc[GR_DATA_ROTATE] & 7;
        const b = ((value >>> r) | (value << (8 - r))) & 0xff;
        v = b * 0x01010101;
        const enable = PLANE_MASK32[gc[GR_ENABLE_SET_RESET] & 0x0f];
        v = (v & ~enable) | (PLANE_MASK32[gc[GR_SET_RESET] & 0x0f] & enable);
        break;
      }
      case 1:
        // The latches go to memory unchanged (copies within VRAM).
        this.store(a, latch, mapMask);
        return;
      case 2:
        v = PLANE_MASK32[value & 0x0f];
        break;
      default: {
        const r = gc[GR_DATA_ROTATE] & 7;
        const b = ((value >>> r) | (value << (8 - r))) & 0xff;
        bitMask &= b;
        v = PLANE_MASK32[gc[GR_SET_RESET] & 0x0f];
        break;
      }
    }
    switch ((gc[GR_DATA_ROTATE] >> 3) & 3) {
      case 1:
        v &= latch;
        break;
      case 2:
        v |= latch;
        break;
      case 3:
        v ^= latch;
        break;
    }
    const bm = bitMask * 0x01010101;
    v = (v & bm) | (latch & ~bm);
    this.store(a, v, mapMask);
  }

  private store(dword: number, v: number, mapMask: number): void {
    const i = dword & this.dwordMask;
    const wm = PLANE_MASK32[mapMask & 0x0f];
    this.vram32[i] = (this.vram32[i] & ~wm) | (v & wm);
  }
}
