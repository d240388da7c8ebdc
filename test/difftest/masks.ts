/**
 * What the Intel SDM (vol. 2, each instruction's "Flags Affected" section) leaves undefined.
 * This is the only place the differential tests are allowed to look away: everything not
 * listed here is compared exactly, including behaviour the SDM defines only by omission
 * (unaffected flags must stay unchanged). Quotes are from the SDM.
 */
import { AF, CF, OF, PF, SF, ZF } from '../../emulator-core/cpu/constants.js';

const ALL = CF | PF | AF | ZF | SF | OF;

/** Operation kinds whose undefined flags do not depend on operands. */
export const UNDEFINED_FLAGS = {
  /** ADD ADC SUB SBB CMP NEG INC DEC XADD CMPXCHG CMPS SCAS: every flag is defined. */
  arith: 0,
  /** AND OR XOR TEST: "The state of the AF flag is undefined." */
  logic: AF,
  /** MUL, IMUL (all forms): "The SF, ZF, AF, and PF flags are undefined." */
  mul: SF | ZF | AF | PF,
  /** DIV, IDIV: "The CF, OF, SF, ZF, AF, and PF flags are undefined." */
  div: ALL,
  /** BT BTS BTR BTC: "The ZF flag is unaffected. The OF, SF, AF, and PF flags are undefined." */
  bitTest: OF | SF | AF | PF,
  /** BSF BSR: "The CF, OF, SF, AF, and PF flags are undefined." (ZF is defined.) */
  bitScan: CF | OF | SF | AF | PF,
  /** DAA DAS: "The OF flag is undefined." */
  daa: OF,
  /** AAA AAS: "The OF, SF, ZF, and PF flags are undefined." */
  aaa: OF | SF | ZF | PF,
  /** AAM AAD: "The OF, AF, and CF flags are undefined." */
  aam: OF | AF | CF,
  /** Instructions that define or leave alone every flag (MOV, SETcc, CMOVcc, LAHF, ...). */
  none: 0,
} as const;

/**
 * SAL/SHL/SHR/SAR by `count` (before masking) on a `bits`-wide operand:
 * "If the count is 0, the flags are not affected. For a non-zero count, the AF flag is
 * undefined." "The OF flag is affected only for 1-bit shifts; otherwise, it is undefined."
 * "[CF] is undefined for SHL and SHR instructions where the count is greater than or equal
 * to the size (in bits) of the destination operand."
 */
export function shiftUndefined(op: 'shl' | 'shr' | 'sar', count: number, bits: number): number {
  const n = count & 0x1f;
  if (n === 0) return 0;
  let m = AF;
  if (n !== 1) m |= OF;
  if (op !== 'sar' && n >= bits) m |= CF;
  return m;
}

/**
 * ROL/ROR/RCL/RCR: "If the masked count is 0, the flags are not affected. If the masked
 * count is 1, then the OF flag is affected, otherwise (masked count is greater than 1) the
 * OF flag is undefined." SF, ZF, AF, PF are always unaffected (so they are compared).
 */
export function rotateUndefined(count: number): number {
  const n = count & 0x1f;
  return n > 1 ? OF : 0;
}

/**
 * SHLD/SHRD: "For shifts greater than 1 bit, the OF flag is undefined. If a shift occurs,
 * the AF flag is undefined. If the count operand is 0, the flags are not affected. If the
 * count is greater than the operand size, the flags are undefined." (The result is then
 * undefined too: see doubleShiftResultUndefined.)
 */
export function doubleShiftUndefined(count: number, bits: number): number {
  const n = count & 0x1f;
  if (n === 0) return 0;
  if (n > bits) return ALL;
  return n === 1 ? AF : AF | OF;
}

/** SHLD/SHRD: "If the count is greater than the operand size, the result is undefined." */
export function doubleShiftResultUndefined(count: number, bits: number): boolean {
  return (count & 0x1f) > bits;
}

// ---------------------------------------------------------------------------- at a fault

/**
 * State at a fault that the SDM does not pin down. A faulting instruction restarts from
 * scratch after the handler, so this state is visible only to the handler; the host (Intel)
 * shows partial progress that Terrarium, which makes these instructions atomic, need not
 * copy. These masks apply only to cases where the host raised an exception.
 */
export const AT_FAULT = {
  /**
   * REPE/REPNE CMPS/SCAS interrupted by a fault: Intel reports the arithmetic flags from
   * before the instruction, Terrarium those of the last completed iteration; the resumed
   * instruction recomputes them before they can be used.
   */
  repCompareFlags: ALL,
} as const;
/*
 * Also at a fault (set by the generators, as byte ranges): FST/FSTP m80 and FBSTP that
 * straddle into a non-writable page may have written the part in the writable page (Intel
 * does); FNSAVE/FNSTENV that straddle store their image in an implementation-specific order,
 * so the bytes written and the CR2 reported vary.
 */

// ---------------------------------------------------------------------------- x87

/** x87 condition-code bits of the status word. */
export const C0 = 0x0100;
export const C1 = 0x0200;
export const C2 = 0x0400;
export const C3 = 0x4000;

/**
 * Status-word bits left undefined by the last x87 instruction of a case ("FPU Flags
 * Affected"). Most arithmetic, loads and stores: "C1 Set to 0 if stack underflow occurred
 * [or] set if result was rounded up; cleared otherwise. C0, C2, C3 Undefined."
 */
export const X87_UNDEFINED = {
  /** FLD FST FSTP FILD FIST FISTP FISTTP FBLD FBSTP FADD FSUB FSUBR FMUL FDIV FDIVR FSQRT FABS FCHS FRNDINT FSCALE FXTRACT FLDconst FXCH FINCSTP FDECSTP FFREE(+P): C0 C2 C3 undefined. */
  arith: C0 | C2 | C3,
  /** FCOM FCOMP FCOMPP FUCOM* FTST FICOM*: C0 C2 C3 are the result; C1 is 0 (or 0 on underflow). */
  compare: 0,
  /** FCOMI FCOMIP FUCOMI FUCOMIP: "C0, C2, C3 not affected" (so compared); C1 defined. */
  comi: 0,
  /** FXAM: every condition bit is defined. */
  fxam: 0,
  /** FPREM FPREM1: C0 C1 C3 hold quotient bits and C2 the completion; all defined. */
  prem: 0,
  /** FNINIT FLDCW FNSTSW FNSTCW FNCLEX FWAIT: "C0, C1, C2, C3 undefined" for FLDCW (and FNSTCW/FNSTENV). */
  control: C0 | C1 | C2 | C3,
  /** FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1: C0 C3 undefined (C1/C2 defined). */
  transcendental: C0 | C3,
  /** MMX instructions do not touch the status word except TOP (set to 0), which is compared. */
  mmx: 0,
} as const;

// ---------------------------------------------------------------------------- FXSAVE

/**
 * Bytes of an FXSAVE image (SDM vol. 1 table 10-2, vol. 2 FXSAVE) whose content is model-
 * specific, as [offset, length] within the image; the rest is compared byte for byte.
 * - FOP (bytes 6-7): "the FOP is saved only if the last non-control x87 instruction
 *   incurred an unmasked exception" unless FOP code compatibility is enabled.
 * - FCS (12-13) and FDS (20-21): stored as 0 when CPUID.(EAX=07H,ECX=0):EBX[13] = 1
 *   ("FCS and FDS deprecated").
 * - FDP (16-19): updated only for x87 exceptions when CPUID.(EAX=07H,ECX=0):EBX[6] = 1.
 * FIP (8-11) is compared (vendor.ts masks it on AMD without a pending x87 exception).
 */
export const FXSAVE_UNDEFINED: readonly [number, number][] = [
  [6, 2],
  [12, 2],
  [16, 4],
  [20, 2],
];
