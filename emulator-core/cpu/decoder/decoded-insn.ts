import { A_LOCK } from './opcode-table.js';

/**
 * One decoded instruction. Consumers keep a few of these and let the decoder overwrite
 * them, so decoding allocates nothing. A decode with status Ok rewrites every field but
 * `lin`; another status only status, len, op and the prefix fields it got to.
 */

export const enum DecodeStatus {
  Ok = 0,
  /** The reader ran out of bytes (the end of a code page, for the JIT). */
  Truncated = 1,
  /** Longer than 15 bytes: #GP(0). */
  TooLong = 2,
  /** No such instruction in this mode (undefined, removed in 64-bit mode, VEX/EVEX/XOP, a register where only memory is allowed): #UD. */
  Invalid = 3,
}

/** Register numbers of 16-bit addressing's base and index (BX, BP, SI, DI). */
export const BX = 3;
export const BP = 5;
export const SI = 6;
export const DI = 7;

export class DecodedInsn {
  status: DecodeStatus = DecodeStatus.Ok;
  /**
   * Linear address of the first byte (low 32 bits). The decoder never reads or writes it:
   * bytes come through a reader, so the caller, who knows the address, fills it in.
   */
  lin = 0;
  /** Bytes, prefixes to the last immediate; with another status, how far the decoder read. */
  len = 0;
  /** Opcode and map: 0x0xx one-byte, 0x1xx 0F xx, 0x2xx 0F 38 xx, 0x3xx 0F 3A xx. */
  op = 0;
  /** The opcode's attribute word from the table, its group's attributes merged in. */
  attrs = 0;
  /** Code size the instruction was decoded for: 16, 32 or 64. */
  bits = 32;
  /** Effective operand size in bytes: 2, 4 or 8. */
  opSize = 4;
  /** Effective address size in bytes: 2, 4 or 8. */
  addrSize = 4;
  /** A 0x66 prefix was present (also a mandatory SSE prefix). */
  p66 = false;
  /**
   * Segment override (segment index), or -1. In 64-bit mode only FS and GS count: the
   * others are ignored there, as the CPU ignores them.
   */
  seg = -1;
  /** The last of F2/F3, or 0. */
  rep = 0;
  lock = false;
  /** The REX byte (64-bit mode, directly before the opcode), or 0. */
  rex = 0;
  /** Mandatory prefix as VEX.pp numbers it: 0 none, 1 66, 2 F3, 3 F2 (F2/F3 win over 66). */
  pp = 0;
  hasModrm = false;
  modrm = 0;
  /** ModRM.mod, or 3 without ModRM or where mod is ignored (MOV CRn). */
  mod = 3;
  /** ModRM.reg with REX.R (0-15). */
  reg = 0;
  /** ModRM.rm with REX.B (0-15): the register when mod = 3. */
  rm = 0;
  // Memory operand (mod != 3). Address = base + (index << scale) + disp, or, when ripRel,
  // the address of the next instruction + disp.
  /** Base register 0-15, or -1. */
  base = -1;
  /** Index register 0-15, or -1. */
  index = -1;
  /** Index scale as a shift count, 0-3. */
  scale = 0;
  /** Displacement, sign-extended to 32 bits. */
  disp = 0;
  /** 64-bit mode's mod = 00, rm = 101: relative to the next instruction. */
  ripRel = false;
  /** Default segment of the memory operand before overrides: SS (2) for SP/BP-based addresses, else DS (3). */
  defSeg = 3;
  /**
   * The first immediate as encoded: 1- and 2-byte ones zero-extended, 4-byte ones as an
   * int32, the low half of 8-byte ones. Sign extension is the executor's: it knows the
   * instruction (an 8-bit immediate is sign-extended by 83 but not by 80).
   */
  imm = 0;
  /** High 32 bits of an 8-byte immediate or offset (MOV r64, imm64; moffs64), else 0. */
  immHi = 0;
  /** Second immediate: ENTER's nesting level, a far pointer's selector. */
  imm2 = 0;
}

/**
 * A LOCK prefix is allowed on d (a read-modify-write instruction with a memory operand);
 * executors raise #UD when d.lock is set and this is false.
 */
export function lockValid(d: DecodedInsn): boolean {
  return (d.attrs & A_LOCK) !== 0 && d.mod !== 3;
}
