/**
 * What a differential test case is, and what running one produced. A case is a short
 * instruction sequence (nasm text) with its initial state; the same assembled bytes run on
 * the host CPU and on Terrarium and their outcomes are compared.
 */
import { AC, AF, CF, DF, ID, IF, IOPL, NT, OF, PF, SF, TF, ZF } from '../../emulator-core/cpu/constants.js';
import type { KnownBugId } from './known-bugs.js';
import { fillData } from './prng.js';

export const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'] as const;
export const REG8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'] as const;
export const EAX = 0;
export const ECX = 1;
export const EDX = 2;
export const EBX = 3;
export const ESP = 4;
export const EBP = 5;
export const ESI = 6;
export const EDI = 7;

/** Bytes of the data region (offsets from DATA_BASE) set explicitly over the seeded fill. */
export interface MemPatch {
  offset: number;
  bytes: Uint8Array;
}

/** x87/MMX state to compare after the case (from the FNSAVE image). */
export interface FpuCheck {
  /** Status-word bits the SDM leaves undefined after the case's last x87 instruction. */
  statusUndefined: number;
  /** Registers (stack order ST0..ST7) whose content is undefined, as a bit mask. */
  stUndefined?: number;
}

/** Masks that apply only when the host stopped at an exception (see masks.ts AT_FAULT). */
export interface FaultMasks {
  undefinedFlags?: number;
  undefinedRegBits?: Partial<Record<number, number>>;
  undefinedMem?: [number, number][];
  /** The faulting address of a multi-part store depends on the implementation's store order. */
  cr2?: boolean;
}

export interface DiffCase {
  /** Instruction family for grouping and reporting, e.g. 'ADD' or 'FDIV'. */
  family: string;
  /** nasm source of the case body (32-bit code); the instruction under test comes last. */
  asm: string;
  /** Initial EAX..EDI. */
  regs: number[];
  /** Initial EFLAGS (arithmetic flags and DF; IF is always set, as in a user process). */
  eflags: number;
  /** Seed of the data region's fill. */
  memSeed: number;
  patch?: MemPatch;
  /** EFLAGS bits the SDM leaves undefined after this case (from masks.ts). */
  undefinedFlags: number;
  /** Register index -> bits the SDM leaves undefined. */
  undefinedRegBits?: Partial<Record<number, number>>;
  /** Data-region byte ranges [offset, length) whose content the SDM leaves undefined. */
  undefinedMem?: [number, number][];
  fpu?: FpuCheck;
  onFault?: FaultMasks;
  /** Reported, unfixed Terrarium bugs this case may run into (known-bugs.ts). */
  knownBugs?: KnownBugId[];
  /** Initial XMM0-7 (128 bytes, XMM0 first, little-endian lanes); default: a fill from memSeed (initialSse). */
  xmm?: Uint8Array;
  /** Initial MXCSR (default 0x1F80: all exceptions masked, round to nearest). */
  mxcsr?: number;
  /** XMM register -> bits (a 128-bit mask, lane 0 lowest) the SDM leaves undefined after the case. */
  xmmUndefined?: Partial<Record<number, bigint>>;
  /** MXCSR bits the SDM leaves undefined after the case. */
  mxcsrUndefined?: number;
  /**
   * Data-region offsets of FXSAVE images the case stores: their model- and vendor-specific
   * bytes (masks.ts FXSAVE_UNDEFINED, vendor.ts fxsaveVendorMasked) are not compared.
   */
  fxsaveImages?: number[];
  /**
   * What the host must do with this case: complete (null, the default), raise this vector,
   * or 'any' when the generator does not predict it. A host outcome that contradicts the
   * prediction means the generator or the native harness is wrong, and fails the test.
   */
  expect?: number | null | 'any';
}

export interface Outcome {
  /** Vector of the exception that stopped the case, or null if it reached its end. */
  exception: number | null;
  /** Error code (0 when the vector has none). */
  errorCode: number;
  /** EIP at the end, or of the faulting instruction (after it, for traps like INT3/INTO). */
  eip: number;
  regs: number[];
  eflags: number;
  /** The faulting linear address of a page fault (0 otherwise). */
  cr2: number;
  /** Segment selectors ES CS SS DS FS GS. */
  segs: number[];
  /** Data-region bytes that changed: offset -> new value. */
  mem: Map<number, number>;
  /** The 108-byte FNSAVE image (32-bit protected-mode layout), or null if unavailable. */
  fpu: Uint8Array | null;
  /** XMM0-7 (128 bytes), or null if unavailable (a signal frame without FXSAVE data). */
  xmm: Uint8Array | null;
  /** MXCSR (meaningful when xmm is not null). */
  mxcsr: number;
}

/** MXCSR after reset and in a new Linux process: all exceptions masked, round to nearest. */
export const MXCSR_DEFAULT = 0x1f80;
/** The seed of the default XMM fill is derived from memSeed with this (so XMM and memory differ). */
const XMM_FILL_SALT = 0x5ce55e11;

/** XMM0-7 and MXCSR a case starts with: its own, or a fill derived from its memSeed and 0x1F80. */
export function initialSse(tc: DiffCase): { xmm: Uint8Array; mxcsr: number } {
  const xmm = tc.xmm ?? fillData((tc.memSeed ^ XMM_FILL_SALT) >>> 0, 128);
  if (xmm.length !== 128) throw new Error(`${tc.family}: xmm must be 128 bytes (XMM0-7), got ${xmm.length}`);
  return { xmm, mxcsr: tc.mxcsr ?? MXCSR_DEFAULT };
}

/** EFLAGS bits compared after every case. RF is left out: the CPU sets it in fault frames. */
export const EFLAGS_COMPARED = CF | PF | AF | ZF | SF | TF | IF | DF | OF | IOPL | NT | AC | ID;
/** Bits a case may start with: the arithmetic flags and DF (never TF, and IF stays set). */
export const EFLAGS_INPUT = CF | PF | AF | ZF | SF | DF | OF;

const FLAG_NAMES: [number, string][] = [
  [CF, 'CF'],
  [PF, 'PF'],
  [AF, 'AF'],
  [ZF, 'ZF'],
  [SF, 'SF'],
  [TF, 'TF'],
  [IF, 'IF'],
  [DF, 'DF'],
  [OF, 'OF'],
  [NT, 'NT'],
  [AC, 'AC'],
  [ID, 'ID'],
];

/** EFLAGS as hex plus the names of the set flags, e.g. "0x00000283 [CF IF SF]". */
export function describeFlags(v: number, mask = 0xffffffff): string {
  const names = FLAG_NAMES.filter(([bit]) => (v & bit & mask) !== 0).map(([, n]) => n);
  return `0x${hex32(v)} [${names.join(' ')}]`;
}

export function hex32(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}

export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;

/** Vectors that push an error code (the others compare as 0). */
export const VECTORS_WITH_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17]);

export const VECTOR_NAMES: Record<number, string> = {
  0: '#DE',
  1: '#DB',
  3: '#BP',
  4: '#OF',
  5: '#BR',
  6: '#UD',
  7: '#NM',
  10: '#TS',
  11: '#NP',
  12: '#SS',
  13: '#GP',
  14: '#PF',
  16: '#MF',
  17: '#AC',
  19: '#XM',
};
