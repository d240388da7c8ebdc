/**
 * SSE-SSE4.1 floating-point arithmetic (emulator-core/cpu/sse/float-arith.ts) in 32-bit
 * code on the whole CPU: one instruction per case, XMM0-7 filled with edge-biased binary32
 * or binary64 lanes (gen/sse-values.ts), a random MXCSR (every RC, DAZ, FTZ, sticky flags,
 * sometimes unmasked exceptions: the host's #XM, or none, is then what both must do), and
 * the source in a register or in memory: scalar forms at any address (no alignment rule),
 * packed forms aligned or, in a fifth of the cases, misaligned (#GP(0) before anything).
 * GPR conversions use a random free register; CVTSI2SS/SD also read m32.
 * genSseFloatArith64 is the same in 64-bit code. (Lane-level coverage with many more
 * cases is test/difftest/sse-float/sse-float.test.ts; the MMX-register forms are
 * unit-tested beside float-arith.ts.)
 * RCPPS/RSQRTPS results are masked by the lane-level test's bound, not here: these
 * families leave them out.
 */
import { ESP, REG32, type DiffCase } from '../case.js';
import type { Case64 } from '../long64/run.js';
import type { Rng } from '../prng.js';
import { Draft, hex } from './draft.js';
import { f32Value, f64Value, intLane, mxcsrValue, xmmF32, xmmF64, xmmFile, xmmInt } from './sse-values.js';

export const SSE_FLOAT_ARITH_FAMILIES = [
  'float arith: ADD/SUB/MUL/DIV/MIN/MAX/SQRT',
  'float arith: CMP/COMIS/UCOMIS',
  'float arith: conversions',
  'float arith: SSE3/SSE4.1 (ADDSUB HADD HSUB ROUND DP)',
  'float arith: MMX-register conversions',
] as const;
type Family = (typeof SSE_FLOAT_ARITH_FAMILIES)[number];

type Lane = 'f32' | 'f64' | 'i32';
interface Form {
  op: string;
  lane: Lane;
  /** Bytes of the memory source; 16 means the aligned 128-bit form. */
  mem: number;
  imm?: (r: Rng) => number;
  /** Destination is a general register (CVT*2SI) or the source is one (CVTSI2*). */
  gpr?: 'dst' | 'src';
}

function arithForms(): Form[] {
  const out: Form[] = [];
  for (const n of ['add', 'sub', 'mul', 'div', 'min', 'max', 'sqrt']) {
    out.push({ op: `${n}ps`, lane: 'f32', mem: 16 }, { op: `${n}ss`, lane: 'f32', mem: 4 });
    out.push({ op: `${n}pd`, lane: 'f64', mem: 16 }, { op: `${n}sd`, lane: 'f64', mem: 8 });
  }
  return out;
}
// Legacy CMPxx uses imm8[2:0] only (the host ignores bits 7:3; AVX predicates need VEX).
const pred = (r: Rng) => (r.bool(0.8) ? r.int(8) : r.int(256));
const COMPARE: Form[] = [
  { op: 'cmpps', lane: 'f32', mem: 16, imm: pred },
  { op: 'cmpss', lane: 'f32', mem: 4, imm: pred },
  { op: 'cmppd', lane: 'f64', mem: 16, imm: pred },
  { op: 'cmpsd', lane: 'f64', mem: 8, imm: pred },
  { op: 'comiss', lane: 'f32', mem: 4 },
  { op: 'ucomiss', lane: 'f32', mem: 4 },
  { op: 'comisd', lane: 'f64', mem: 8 },
  { op: 'ucomisd', lane: 'f64', mem: 8 },
];
const CONVERT: Form[] = [
  { op: 'cvtps2pd', lane: 'f32', mem: 8 },
  { op: 'cvtpd2ps', lane: 'f64', mem: 16 },
  { op: 'cvtss2sd', lane: 'f32', mem: 4 },
  { op: 'cvtsd2ss', lane: 'f64', mem: 8 },
  { op: 'cvtdq2ps', lane: 'i32', mem: 16 },
  { op: 'cvtps2dq', lane: 'f32', mem: 16 },
  { op: 'cvttps2dq', lane: 'f32', mem: 16 },
  { op: 'cvtdq2pd', lane: 'i32', mem: 8 },
  { op: 'cvtpd2dq', lane: 'f64', mem: 16 },
  { op: 'cvttpd2dq', lane: 'f64', mem: 16 },
  { op: 'cvtsi2ss', lane: 'i32', mem: 4, gpr: 'src' },
  { op: 'cvtsi2sd', lane: 'i32', mem: 4, gpr: 'src' },
  { op: 'cvtss2si', lane: 'f32', mem: 4, gpr: 'dst' },
  { op: 'cvttss2si', lane: 'f32', mem: 4, gpr: 'dst' },
  { op: 'cvtsd2si', lane: 'f64', mem: 8, gpr: 'dst' },
  { op: 'cvttsd2si', lane: 'f64', mem: 8, gpr: 'dst' },
];
const round = (r: Rng) => r.int(16);
const dp = (r: Rng) => r.int(256);
const SSE3_41: Form[] = [
  { op: 'addsubps', lane: 'f32', mem: 16 },
  { op: 'addsubpd', lane: 'f64', mem: 16 },
  { op: 'haddps', lane: 'f32', mem: 16 },
  { op: 'hsubps', lane: 'f32', mem: 16 },
  { op: 'haddpd', lane: 'f64', mem: 16 },
  { op: 'hsubpd', lane: 'f64', mem: 16 },
  { op: 'roundps', lane: 'f32', mem: 16, imm: round },
  { op: 'roundpd', lane: 'f64', mem: 16, imm: round },
  { op: 'roundss', lane: 'f32', mem: 4, imm: round },
  { op: 'roundsd', lane: 'f64', mem: 8, imm: round },
  { op: 'dpps', lane: 'f32', mem: 16, imm: dp },
  { op: 'dppd', lane: 'f64', mem: 16, imm: dp },
];
/** CVTPI2PS/PD (mm or m64 source) and CVT(T)PS2PI/CVT(T)PD2PI (mm destination). */
const MMX: Form[] = [
  { op: 'cvtpi2ps', lane: 'i32', mem: 8 },
  { op: 'cvtpi2pd', lane: 'i32', mem: 8 },
  { op: 'cvtps2pi', lane: 'f32', mem: 8 },
  { op: 'cvttps2pi', lane: 'f32', mem: 8 },
  { op: 'cvtpd2pi', lane: 'f64', mem: 16 },
  { op: 'cvttpd2pi', lane: 'f64', mem: 16 },
];
const FORMS: Record<Family, Form[]> = {
  'float arith: MMX-register conversions': MMX,
  'float arith: ADD/SUB/MUL/DIV/MIN/MAX/SQRT': arithForms(),
  'float arith: CMP/COMIS/UCOMIS': COMPARE,
  'float arith: conversions': CONVERT,
  'float arith: SSE3/SSE4.1 (ADDSUB HADD HSUB ROUND DP)': SSE3_41,
};

const PTR: Record<number, string> = { 4: 'dword', 8: 'qword', 16: 'oword' };

function laneFill(lane: Lane): (r: Rng) => Uint8Array {
  return lane === 'f32' ? xmmF32 : lane === 'f64' ? xmmF64 : (r) => xmmInt(r, 32);
}

function case32(rng: Rng, fam: Family): DiffCase {
  const d = new Draft(rng);
  d.claim(ESP);
  const f = rng.pick(FORMS[fam]);
  d.xmm = xmmFile(rng, 8, laneFill(f.lane));
  d.mxcsr = mxcsrValue(rng);
  // With an exception unmasked the host decides whether #XM happens; Terrarium must agree.
  let expect: number | null | 'any' = (d.mxcsr & 0x1f80) !== 0x1f80 ? 'any' : null;
  const dst = rng.int(8);
  let src: string;
  if (f.gpr === 'src' && rng.bool(0.6)) {
    const g = d.reg(32);
    d.setReg(32, g, Number(intLane(rng, 32)));
    src = REG32[g]!;
  } else if (f.gpr !== 'src' && rng.bool(0.5)) {
    src = `xmm${rng.int(8)}`;
  } else {
    // Memory: lanes of the instruction's type, aligned for the 128-bit forms unless testing #GP.
    const misalign = f.mem === 16 && rng.bool(0.2);
    // Aligned here rather than by slot(), which may clamp to an unaligned end of its window.
    const base = (d.slot(f.mem + 32) + 15) & ~15;
    const off = base + (misalign ? 1 + rng.int(15) : f.mem === 16 ? 0 : rng.int(16));
    const size = f.lane === 'f64' ? 8 : 4;
    for (let at = 0; at < f.mem; at += size) {
      const v = f.lane === 'f32' ? f32Value(rng) : f.lane === 'f64' ? f64Value(rng) : intLane(rng, 32);
      d.poke(off + at, v, size);
    }
    if (misalign) expect = 13;
    // nasm takes CMPSD's memory operand only without a size (it is also the string instruction).
    src = f.op === 'cmpsd' ? d.memRef(off) : `${PTR[f.mem]} ${d.memRef(off)}`;
  }
  const dest = f.gpr === 'dst' ? REG32[d.reg(32)]! : `xmm${dst}`;
  const imm = f.imm ? `, ${hex(f.imm(rng))}` : '';
  d.expect = expect;
  if (fam === 'float arith: MMX-register conversions') {
    // x87 registers in use first, so the switch to MMX state (TOP=0, tags valid) shows.
    d.fpu = { statusUndefined: 0 };
    return d.finish(fam, mmxBody(rng, f, src));
  }
  return d.finish(fam, `${f.op} ${dest}, ${src}${imm}`);
}

export function genSseFloatArith(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) for (const f of SSE_FLOAT_ARITH_FAMILIES) out.push(case32(rng, f));
  return out;
}

/**
 * An MMX-register conversion with x87 registers in use beforehand. `src` is the XMM-side
 * operand the generic builder chose (an XMM register or memory); for CVTPI2PS/PD an
 * xmm source becomes MMX register MMn loaded from memory-free random contents.
 */
function mmxBody(rng: Rng, f: Form, src: string): string {
  const lines: string[] = ['fninit'];
  for (let i = rng.int(3); i > 0; i--) lines.push(rng.pick(['fld1', 'fldz', 'fldpi']));
  const m = rng.int(8);
  const x = rng.int(8);
  if (f.op.startsWith('cvtpi2')) {
    if (src.startsWith('xmm')) {
      // Integer lanes for MMn: the low quadword of an XMM register, through MOVDQ2Q.
      lines.push(`movdq2q mm${m}, ${src}`);
      src = `mm${m}`;
    }
    lines.push(`${f.op} xmm${x}, ${src}`);
  } else lines.push(`${f.op} mm${m}, ${src}`);
  return lines.join('\n');
}

// ------------------------------------------------------------------ 64-bit code

const GPR64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const R32_64 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
/** CF PF AF ZF SF OF DF: all defined after these instructions (COMIS clears OF SF AF). */
const FLAGS64 = 0xcd5;

export interface SseFloatArithCase64 {
  k: Case64;
  expect: number | null | 'any';
}

/**
 * 64-bit code: XMM0-15, REX.W conversions (CVTSI2SS/SD r64/m64, CVT(T)SS2SI/SD2SI r64),
 * 32-bit destinations zero-extending, and memory sources RIP-relative to lanes embedded in
 * the case (aligned, or misaligned for #GP(0)).
 */
export function genSseFloatArith64(rng: Rng, perFamily: number): SseFloatArithCase64[] {
  const out: SseFloatArithCase64[] = [];
  for (let i = 0; i < perFamily; i++) {
    for (const fam of SSE_FLOAT_ARITH_FAMILIES) {
      const f = rng.pick(FORMS[fam]);
      const regs: bigint[] = [];
      for (let r = 0; r < 16; r++) regs.push((BigInt(rng.u32()) << 32n) | BigInt(rng.u32()));
      const mxcsr = mxcsrValue(rng);
      let expect: number | null | 'any' = (mxcsr & 0x1f80) !== 0x1f80 ? 'any' : null;
      const wide = f.gpr !== undefined && rng.bool();
      const gpr = (): number => {
        let r = rng.int(16);
        if (r === 4) r = 0;
        return r;
      };
      let pre = '';
      let src: string;
      if (f.gpr === 'src' && rng.bool(0.6)) {
        const g = gpr();
        regs[g] = BigInt.asUintN(64, wide ? intLane(rng, 64) : intLane(rng, 32) | (BigInt(rng.u32()) << 32n));
        src = wide ? GPR64[g]! : R32_64[g]!;
      } else if (f.gpr !== 'src' && rng.bool(0.5)) {
        src = `xmm${rng.int(16)}`;
      } else {
        const mem = f.gpr === 'src' && wide ? 8 : f.mem;
        const misalign = mem === 16 && rng.bool(0.2);
        const off = misalign ? 1 + rng.int(15) : mem === 16 ? 0 : rng.int(16);
        const bytes = new Uint8Array(48);
        const size = f.lane === 'f64' || mem === 8 && f.gpr === 'src' ? 8 : 4;
        for (let at = 0; at < mem; at += size) {
          const v = f.lane === 'f32' ? f32Value(rng) : f.lane === 'f64' ? f64Value(rng) : intLane(rng, size === 8 ? 64 : 32);
          let b = BigInt.asUintN(size * 8, BigInt(v));
          for (let k = 0; k < size; k++, b >>= 8n) bytes[off + at + k] = Number(b & 0xffn);
        }
        pre = `jmp .fa_go\nalign 16, db 0\n.fa_d: db ${[...bytes].join(',')}\n.fa_go:\n`;
        if (misalign) expect = 13;
        const ptr = f.op === 'cmpsd' ? '' : `${PTR[mem]} `;
        src = `${ptr}[rel .fa_d + ${off}]`;
      }
      const dest = f.gpr === 'dst' ? (wide ? GPR64[gpr()]! : R32_64[gpr()]!) : `xmm${rng.int(16)}`;
      const imm = f.imm ? `, ${hex(f.imm(rng))}` : '';
      const rflags = (rng.u32() & FLAGS64) | 2;
      const body = fam === 'float arith: MMX-register conversions' ? `${pre}${mmxBody(rng, f, src)}` : `${pre}${f.op} ${dest}, ${src}${imm}`;
      out.push({ k: { family: fam, body, regs, rflags, flagMask: FLAGS64, xmm: xmmFile(rng, 16, laneFill(f.lane)), mxcsr }, expect });
    }
  }
  return out;
}
