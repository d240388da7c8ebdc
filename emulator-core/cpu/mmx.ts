/**
 * MMX arithmetic: the lane operations of the 0F-prefixed MMX instructions on 64-bit
 * values. Register state (aliasing onto the x87 registers, TOP and tags) lives in fpu.ts;
 * this module only computes `dst op src` in a scratch buffer.
 *
 * The scratch views assume a little-endian host (checked at load), which lets a 64-bit
 * MMX value be addressed as bytes, words or dwords in guest lane order.
 */

import { HostError } from '../errors.js';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new HostError('The MMX unit needs a little-endian host');
}

/** The second opcode bytes (after 0F) of the MMX instructions this unit executes. */
export const MMX_OPCODES: readonly number[] = [
  0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6e, 0x6f, 0x71, 0x72, 0x73, 0x74,
  0x75, 0x76, 0x77, 0x7e, 0x7f, 0xd1, 0xd2, 0xd3, 0xd5, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xdf, 0xe1, 0xe2, 0xe5,
  0xe8, 0xe9, 0xeb, 0xec, 0xed, 0xef, 0xf1, 0xf2, 0xf3, 0xf5, 0xf8, 0xf9, 0xfa, 0xfc, 0xfd, 0xfe,
];

const MMX_SET = new Uint8Array(256);
for (const op of MMX_OPCODES) MMX_SET[op] = 1;

/** Whether 0F `op2` (without a 66/F2/F3 prefix) is an MMX instruction of this unit. */
export function isMmxOpcode(op2: number): boolean {
  return MMX_SET[op2 & 0xff] === 1;
}

function satS8(v: number): number {
  return v > 127 ? 127 : v < -128 ? -128 : v;
}
function satU8(v: number): number {
  return v > 255 ? 255 : v < 0 ? 0 : v;
}
function satS16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
function satU16(v: number): number {
  return v > 65535 ? 65535 : v < 0 ? 0 : v;
}

/**
 * Lane ALU. Load the destination into d (dwords dLo/dHi) and the source into s, call
 * `op`, read the destination back from dLo/dHi. Allocation-free.
 */
export class MmxAlu {
  private readonly buf = new ArrayBuffer(24);
  private readonly u8 = new Uint8Array(this.buf);
  private readonly i8 = new Int8Array(this.buf);
  private readonly u16 = new Uint16Array(this.buf);
  private readonly i16 = new Int16Array(this.buf);
  private readonly u32 = new Uint32Array(this.buf);
  private readonly i32 = new Int32Array(this.buf);

  /** Destination: bytes 0-7. Source: bytes 8-15. Scratch: bytes 16-23. */
  load(dLo: number, dHi: number, sLo: number, sHi: number): void {
    this.u32[0] = dLo;
    this.u32[1] = dHi;
    this.u32[2] = sLo;
    this.u32[3] = sHi;
  }

  get lo(): number {
    return this.u32[0];
  }

  get hi(): number {
    return this.u32[1];
  }

  /** Execute the two-operand MMX operation 0F `op2` (not the moves, shifts by imm, EMMS). */
  op(op2: number): boolean {
    const u8 = this.u8;
    const i8 = this.i8;
    const u16 = this.u16;
    const i16 = this.i16;
    const u32 = this.u32;
    const i32 = this.i32;
    switch (op2) {
      case 0x60: // PUNPCKLBW: interleave the low bytes
        for (let i = 0; i < 4; i++) {
          u8[16 + 2 * i] = u8[i];
          u8[17 + 2 * i] = u8[8 + i];
        }
        this.fromScratch();
        return true;
      case 0x61: // PUNPCKLWD
        u16[8] = u16[0];
        u16[9] = u16[4];
        u16[10] = u16[1];
        u16[11] = u16[5];
        this.fromScratch();
        return true;
      case 0x62: // PUNPCKLDQ
        u32[1] = u32[2];
        return true;
      case 0x68: // PUNPCKHBW
        for (let i = 0; i < 4; i++) {
          u8[16 + 2 * i] = u8[4 + i];
          u8[17 + 2 * i] = u8[12 + i];
        }
        this.fromScratch();
        return true;
      case 0x69: // PUNPCKHWD
        u16[8] = u16[2];
        u16[9] = u16[6];
        u16[10] = u16[3];
        u16[11] = u16[7];
        this.fromScratch();
        return true;
      case 0x6a: // PUNPCKHDQ
        u32[0] = u32[1];
        u32[1] = u32[3];
        return true;
      case 0x63: // PACKSSWB
        for (let i = 0; i < 4; i++) {
          i8[16 + i] = satS8(i16[i]);
          i8[20 + i] = satS8(i16[4 + i]);
        }
        this.fromScratch();
        return true;
      case 0x67: // PACKUSWB
        for (let i = 0; i < 4; i++) {
          u8[16 + i] = satU8(i16[i]);
          u8[20 + i] = satU8(i16[4 + i]);
        }
        this.fromScratch();
        return true;
      case 0x6b: // PACKSSDW
        i16[8] = satS16(i32[0]);
        i16[9] = satS16(i32[1]);
        i16[10] = satS16(i32[2]);
        i16[11] = satS16(i32[3]);
        this.fromScratch();
        return true;
      case 0x64: // PCMPGTB
        for (let i = 0; i < 8; i++) u8[i] = i8[i] > i8[8 + i] ? 0xff : 0;
        return true;
      case 0x65: // PCMPGTW
        for (let i = 0; i < 4; i++) u16[i] = i16[i] > i16[4 + i] ? 0xffff : 0;
        return true;
      case 0x66: // PCMPGTD
        for (let i = 0; i < 2; i++) u32[i] = i32[i] > i32[2 + i] ? 0xffffffff : 0;
        return true;
      case 0x74: // PCMPEQB
        for (let i = 0; i < 8; i++) u8[i] = u8[i] === u8[8 + i] ? 0xff : 0;
        return true;
      case 0x75: // PCMPEQW
        for (let i = 0; i < 4; i++) u16[i] = u16[i] === u16[4 + i] ? 0xffff : 0;
        return true;
      case 0x76: // PCMPEQD
        for (let i = 0; i < 2; i++) u32[i] = u32[i] === u32[2 + i] ? 0xffffffff : 0;
        return true;
      case 0xd1: // PSRLW mm, mm/m64
      case 0xd2: // PSRLD
      case 0xd3: // PSRLQ
      case 0xe1: // PSRAW
      case 0xe2: // PSRAD
      case 0xf1: // PSLLW
      case 0xf2: // PSLLD
      case 0xf3: {
        // PSLLQ. The count is the whole 64-bit source; anything past the lane width clears
        // the lanes (or fills them with the sign for arithmetic shifts).
        const count = u32[3] !== 0 || u32[2] > 64 ? 64 : u32[2];
        this.shift(op2, count);
        return true;
      }
      case 0xd5: // PMULLW
        for (let i = 0; i < 4; i++) u16[i] = Math.imul(i16[i], i16[4 + i]);
        return true;
      case 0xe5: // PMULHW
        for (let i = 0; i < 4; i++) u16[i] = (i16[i] * i16[4 + i]) >> 16;
        return true;
      case 0xf5: // PMADDWD (0x8000*0x8000*2 wraps to 0x80000000, as the CPU does)
        i32[0] = (i16[0] * i16[4] + i16[1] * i16[5]) | 0;
        i32[1] = (i16[2] * i16[6] + i16[3] * i16[7]) | 0;
        return true;
      case 0xd8: // PSUBUSB
        for (let i = 0; i < 8; i++) u8[i] = satU8(u8[i] - u8[8 + i]);
        return true;
      case 0xd9: // PSUBUSW
        for (let i = 0; i < 4; i++) u16[i] = satU16(u16[i] - u16[4 + i]);
        return true;
      case 0xdc: // PADDUSB
        for (let i = 0; i < 8; i++) u8[i] = satU8(u8[i] + u8[8 + i]);
        return true;
      case 0xdd: // PADDUSW
        for (let i = 0; i < 4; i++) u16[i] = satU16(u16[i] + u16[4 + i]);
        return true;
      case 0xe8: // PSUBSB
        for (let i = 0; i < 8; i++) i8[i] = satS8(i8[i] - i8[8 + i]);
        return true;
      case 0xe9: // PSUBSW
        for (let i = 0; i < 4; i++) i16[i] = satS16(i16[i] - i16[4 + i]);
        return true;
      case 0xec: // PADDSB
        for (let i = 0; i < 8; i++) i8[i] = satS8(i8[i] + i8[8 + i]);
        return true;
      case 0xed: // PADDSW
        for (let i = 0; i < 4; i++) i16[i] = satS16(i16[i] + i16[4 + i]);
        return true;
      case 0xf8: // PSUBB
        for (let i = 0; i < 8; i++) u8[i] = u8[i] - u8[8 + i];
        return true;
      case 0xf9: // PSUBW
        for (let i = 0; i < 4; i++) u16[i] = u16[i] - u16[4 + i];
        return true;
      case 0xfa: // PSUBD
        for (let i = 0; i < 2; i++) u32[i] = u32[i] - u32[2 + i];
        return true;
      case 0xfc: // PADDB
        for (let i = 0; i < 8; i++) u8[i] = u8[i] + u8[8 + i];
        return true;
      case 0xfd: // PADDW
        for (let i = 0; i < 4; i++) u16[i] = u16[i] + u16[4 + i];
        return true;
      case 0xfe: // PADDD
        for (let i = 0; i < 2; i++) u32[i] = u32[i] + u32[2 + i];
        return true;
      case 0xdb: // PAND
        u32[0] &= u32[2];
        u32[1] &= u32[3];
        return true;
      case 0xdf: // PANDN: ~dst & src
        u32[0] = ~u32[0] & u32[2];
        u32[1] = ~u32[1] & u32[3];
        return true;
      case 0xeb: // POR
        u32[0] |= u32[2];
        u32[1] |= u32[3];
        return true;
      case 0xef: // PXOR
        u32[0] ^= u32[2];
        u32[1] ^= u32[3];
        return true;
      default:
        return false;
    }
  }

  /**
   * Shift the destination lanes: `op2` is a register-count opcode (D1-D3, E1-E2, F1-F3);
   * count is clamped to 64 by the caller.
   */
  shift(op2: number, count: number): void {
    const u16 = this.u16;
    const i16 = this.i16;
    const u32 = this.u32;
    const i32 = this.i32;
    switch (op2) {
      case 0xd1:
        for (let i = 0; i < 4; i++) u16[i] = count > 15 ? 0 : u16[i] >>> count;
        return;
      case 0xe1:
        for (let i = 0; i < 4; i++) i16[i] = i16[i] >> (count > 15 ? 15 : count);
        return;
      case 0xf1:
        for (let i = 0; i < 4; i++) u16[i] = count > 15 ? 0 : u16[i] << count;
        return;
      case 0xd2:
        for (let i = 0; i < 2; i++) u32[i] = count > 31 ? 0 : u32[i] >>> count;
        return;
      case 0xe2:
        for (let i = 0; i < 2; i++) i32[i] = i32[i] >> (count > 31 ? 31 : count);
        return;
      case 0xf2:
        for (let i = 0; i < 2; i++) u32[i] = count > 31 ? 0 : u32[i] << count;
        return;
      case 0xd3: {
        const lo = u32[0];
        const hi = u32[1];
        if (count > 63) {
          u32[0] = 0;
          u32[1] = 0;
        } else if (count >= 32) {
          u32[0] = hi >>> (count - 32);
          u32[1] = 0;
        } else if (count > 0) {
          u32[0] = (lo >>> count) | (hi << (32 - count));
          u32[1] = hi >>> count;
        }
        return;
      }
      case 0xf3: {
        const lo = u32[0];
        const hi = u32[1];
        if (count > 63) {
          u32[0] = 0;
          u32[1] = 0;
        } else if (count >= 32) {
          u32[1] = lo << (count - 32);
          u32[0] = 0;
        } else if (count > 0) {
          u32[1] = (hi << count) | (lo >>> (32 - count));
          u32[0] = lo << count;
        }
        return;
      }
      default:
        return;
    }
  }

  private fromScratch(): void {
    this.u32[0] = this.u32[4];
    this.u32[1] = this.u32[5];
  }
}
