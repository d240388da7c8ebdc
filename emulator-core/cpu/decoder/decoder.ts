/**
 * The x86 decoder for 16-, 32- and 64-bit code: prefixes, REX, opcode map, ModRM/SIB and
 * immediates into a caller-owned DecodedInsn, driven by the opcode table. Problems are
 * reported as a status (truncated, #GP for >15 bytes, #UD), never thrown, so the JIT can
 * stop a block at them and the interpreter raise the exception at the right time.
 */
import { decodeAddress } from './addressing.js';
import type { CodeReader } from './code-reader.js';
import { DecodeStatus, type DecodedInsn } from './decoded-insn.js';
import { InsnCursor } from './insn-cursor.js';
import { A_DEFAULT64, A_FORCE64, A_GROUP, A_INVALID64, A_MEM_ONLY, A_MODRM, A_REG_ONLY, A_UNDEFINED, GROUPS, groupRow, Imm, immKind, TABLE } from './opcode-table.js';

/** Code size: CS.D (16/32) or 64-bit mode. */
export type CodeBits = 16 | 32 | 64;

const FS = 4;
const GS = 5;

export class X86Decoder {
  private readonly cur = new InsnCursor();

  /** Decode the instruction whose bytes `r` gives into `d`; returns (and sets) d.status. */
  decode(r: CodeReader, bits: CodeBits, d: DecodedInsn): DecodeStatus {
    const cur = this.cur;
    cur.begin(r);
    const mode64 = bits === 64;
    let p66 = false;
    let p67 = false;
    let seg = -1;
    let rep = 0;
    let lock = false;
    let rex = 0;
    let b: number;
    for (;;) {
      b = cur.u8();
      if (b < 0) return this.stop(d, cur.status, 0);
      if (b === 0x66) p66 = true;
      else if (b === 0x67) p67 = true;
      else if (b === 0xf2 || b === 0xf3) rep = b;
      else if (b === 0xf0) lock = true;
      else if ((b & 0xe7) === 0x26) {
        // ES CS SS DS: ignored in 64-bit mode (an FS/GS override before them stays).
        if (!mode64) seg = (b >> 3) & 3;
      } else if (b === 0x64 || b === 0x65) seg = b === 0x64 ? FS : GS;
      else if (mode64 && (b & 0xf0) === 0x40) {
        rex = b;
        continue;
      } else break;
      // REX counts only as the last prefix: one followed by a legacy prefix is ignored.
      rex = 0;
    }
    let op = b;
    let map = 0;
    if (b === 0x0f) {
      b = cur.u8();
      if (b < 0) return this.stop(d, cur.status, 0);
      map = b === 0x38 ? 2 : b === 0x3a ? 3 : 1;
      if (map !== 1) {
        b = cur.u8();
        if (b < 0) return this.stop(d, cur.status, 0);
      }
      op = (map << 8) | b;
    }
    const pp = rep === 0xf3 ? 2 : rep === 0xf2 ? 3 : p66 ? 1 : 0;
    const addrSize = mode64 ? (p67 ? 4 : 8) : (bits === 32) !== p67 ? 4 : 2;
    // The prefixes' fields now, so an invalid instruction's record still shows them.
    d.bits = bits;
    d.addrSize = addrSize;
    d.p66 = p66;
    d.seg = seg;
    d.rep = rep;
    d.lock = lock;
    d.rex = rex;
    d.pp = pp;
    let attrs = TABLE[(map << 10) | (pp << 8) | b];
    if ((attrs & A_UNDEFINED) !== 0 || (mode64 && (attrs & A_INVALID64) !== 0)) return this.stop(d, DecodeStatus.Invalid, op);
    let modrm = 0;
    let mod = 3;
    if ((attrs & A_MODRM) !== 0) {
      modrm = cur.u8();
      if (modrm < 0) return this.stop(d, cur.status, op);
      if ((attrs & A_GROUP) !== 0) {
        attrs |= GROUPS[groupRow(attrs) * 8 + ((modrm >> 3) & 7)];
        if ((attrs & A_UNDEFINED) !== 0) return this.stop(d, DecodeStatus.Invalid, op);
      }
      if ((attrs & A_REG_ONLY) === 0) mod = modrm >> 6;
      if (mod === 3) {
        // Also where VEX (C4/C5) and EVEX (62) hide in 16/32-bit code.
        if ((attrs & A_MEM_ONLY) !== 0) return this.stop(d, DecodeStatus.Invalid, op);
        this.noMemory(d);
      } else {
        decodeAddress(cur, d, modrm, rex, addrSize, mode64);
        if (cur.status !== DecodeStatus.Ok) return this.stop(d, cur.status, op);
      }
      d.reg = ((modrm >> 3) & 7) | ((rex & 4) << 1);
      d.rm = (modrm & 7) | ((rex & 1) << 3);
    } else {
      this.noMemory(d);
      d.reg = 0;
      d.rm = 0;
    }
    let opSize: number;
    if (mode64) {
      if ((rex & 8) !== 0 || (attrs & A_FORCE64) !== 0) opSize = 8;
      else if (p66) opSize = 2;
      else opSize = (attrs & A_DEFAULT64) !== 0 ? 8 : 4;
    } else opSize = (bits === 32) !== p66 ? 4 : 2;

    let imm = 0;
    let immHi = 0;
    let imm2 = 0;
    switch (immKind(attrs)) {
      case Imm.None:
        break;
      case Imm.Ib:
        imm = cur.u8();
        break;
      case Imm.Iw:
        imm = cur.u16();
        break;
      case Imm.Iz:
        imm = opSize === 2 ? cur.u16() : cur.u32();
        break;
      case Imm.Iv:
        imm = opSize === 2 ? cur.u16() : cur.u32();
        if (opSize === 8) immHi = cur.u32();
        break;
      case Imm.IwIb:
        imm = cur.u16();
        imm2 = cur.u8();
        break;
      case Imm.Ap:
        imm = opSize === 2 ? cur.u16() : cur.u32();
        imm2 = cur.u16();
        break;
      case Imm.Moffs:
        imm = addrSize === 2 ? cur.u16() : cur.u32();
        if (addrSize === 8) immHi = cur.u32();
        break;
    }
    if (cur.status !== DecodeStatus.Ok) return this.stop(d, cur.status, op);

    d.status = DecodeStatus.Ok;
    d.len = cur.pos;
    d.op = op;
    d.attrs = attrs;
    d.opSize = opSize;
    d.hasModrm = (attrs & A_MODRM) !== 0;
    d.modrm = modrm;
    d.mod = mod;
    d.imm = imm;
    d.immHi = immHi;
    d.imm2 = imm2;
    return DecodeStatus.Ok;
  }

  private noMemory(d: DecodedInsn): void {
    d.base = -1;
    d.index = -1;
    d.scale = 0;
    d.disp = 0;
    d.ripRel = false;
    d.defSeg = 3;
  }

  /** A decode that ended early: status, len (bytes read), op and, once read, the prefix fields are meaningful. */
  private stop(d: DecodedInsn, status: DecodeStatus, op: number): DecodeStatus {
    d.status = status;
    d.len = this.cur.pos;
    d.op = op;
    return status;
  }
}
