/**
 * 64-bit cases for the SSE2 integer instructions, their MMX-register forms and SSSE3
 * (emulator-core/cpu/sse/int-sse2.ts, int-ssse3.ts): XMM0-15 (REX.R/REX.B), R8-R15 and
 * RIP-relative memory operands, REX prefixes on MMX forms (which ignore REX.R/B for the
 * MMX register), 64-bit general-register destinations of PEXTRW/PMOVMSKB (zero-extended),
 * every shift-count class, and faults: misaligned 16-byte operands (#GP(0)), operands
 * crossing into the unmapped page after the data region and stores into the code (#PF).
 * MMX results are moved to general registers (64-bit cases compare no x87 state).
 */
import { intLane, xmmFile, xmmInt } from '../gen/sse-values.js';
import { Rng } from '../prng.js';
import { CODE, DATA, DATA_SIZE, RSP_INIT, type Case64 } from './run.js';

const ARITH = 0x8d5; // CF PF AF ZF SF OF
const ALL = ARITH | 0x400;
const R64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const FREE = [0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15]; // RDI is MASKMOVQ's

export const SSE_INT_64_FAMILIES = ['SSE2 integer (XMM)', 'SSE2 shifts (XMM)', 'SSSE3 (XMM)', 'MMX-register forms', 'SSE integer faults'] as const;
type Family = (typeof SSE_INT_64_FAMILIES)[number];

const BINARY = [
  'paddb', 'paddw', 'paddd', 'paddq', 'paddsb', 'paddsw', 'paddusb', 'paddusw', 'psubb', 'psubw', 'psubd', 'psubq',
  'psubsb', 'psubsw', 'psubusb', 'psubusw', 'pmullw', 'pmulhw', 'pmulhuw', 'pmuludq', 'pmaddwd', 'pavgb', 'pavgw',
  'pminub', 'pmaxub', 'pminsw', 'pmaxsw', 'psadbw', 'packsswb', 'packssdw', 'packuswb', 'punpcklbw', 'punpcklwd',
  'punpckldq', 'punpcklqdq', 'punpckhbw', 'punpckhwd', 'punpckhdq', 'punpckhqdq', 'pcmpeqb', 'pcmpeqw', 'pcmpeqd',
  'pcmpgtb', 'pcmpgtw', 'pcmpgtd', 'pand', 'pandn', 'por', 'pxor',
] as const;
const SHIFTS = ['psrlw', 'psrld', 'psrlq', 'psraw', 'psrad', 'psllw', 'pslld', 'psllq'] as const;
const SSSE3 = [
  'pshufb', 'phaddw', 'phaddd', 'phaddsw', 'pmaddubsw', 'phsubw', 'phsubd', 'phsubsw',
  'psignb', 'psignw', 'psignd', 'pmulhrsw', 'pabsb', 'pabsw', 'pabsd',
] as const;
const MMX_NEW = ['pavgb', 'pavgw', 'pminub', 'pmaxub', 'pminsw', 'pmaxsw', 'psadbw', 'pmulhuw', 'pmuludq', 'paddq', 'psubq'] as const;

function rand64(rng: Rng): bigint {
  return (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
}

function intReg(rng: Rng): Uint8Array {
  return xmmInt(rng, rng.pick([8, 16, 32, 64] as const));
}

class Draft64 {
  readonly regs: bigint[];
  readonly rflags: number;
  readonly xmm: Uint8Array;
  private readonly free = FREE.slice();

  constructor(readonly rng: Rng) {
    this.regs = Array.from({ length: 16 }, () => (rng.bool(0.5) ? intLane(rng, 64) : rand64(rng)));
    this.regs[4] = RSP_INIT;
    this.rflags = (rng.u32() & ARITH) | 2;
    this.xmm = xmmFile(rng, 16, intReg);
  }

  reg(): number {
    return this.free.splice(this.rng.int(this.free.length), 1)[0]!;
  }

  /**
   * A memory operand of `n` bytes in the data region (its seeded fill): 16-aligned when
   * `align16` (sometimes not: `misaligned` says so), RIP-relative or through a register,
   * sometimes across the region's inner page boundary.
   */
  mem(n: number, align16: boolean): { text: string; misaligned: boolean } {
    let off = 0x100 + this.rng.int(DATA_SIZE - 0x200);
    off &= ~15;
    if (!align16 && this.rng.bool(0.15)) off = 0x1000 - 1 - this.rng.int(n - 1);
    else if (this.rng.bool(align16 ? 0.08 : 0.5)) off += 1 + this.rng.int(15);
    const misaligned = (off & 15) !== 0;
    if (this.rng.bool(0.3)) return { text: `[rel 0x${(DATA + off).toString(16)}]`, misaligned };
    const r = this.reg();
    const disp = this.rng.pick([0, 8, -16, 0x100]);
    this.regs[r] = BigInt(DATA + off - disp);
    return { text: `[${R64[r]}${disp === 0 ? '' : disp > 0 ? `+${disp}` : `${disp}`}]`, misaligned };
  }

  done(family: Family, body: string): Case64 {
    return { family, body, regs: this.regs, rflags: this.rflags, flagMask: ALL, xmm: this.xmm };
  }
}

function countValue(rng: Rng): bigint {
  return rng.pick([0n, 1n, 7n, 8n, 15n, 16n, 17n, 31n, 32n, 33n, 63n, 64n, 65n, 255n, 256n, BigInt(rng.int(70)), rand64(rng), 1n << 32n]);
}

function binary(rng: Rng, family: Family, ops: readonly string[]): Case64 {
  const d = new Draft64(rng);
  const op = rng.pick(ops);
  const a = rng.int(16);
  const imm = op === 'palignr' ? `, ${rng.pick([0, 1, 8, 15, 16, 17, 31, 32, 255, rng.int(256)])}` : '';
  if (rng.bool(0.5)) return d.done(family, `${op} xmm${a}, xmm${rng.int(16)}${imm}`);
  const m = d.mem(16, true);
  return d.done(family, `${op} xmm${a}, ${m.text}${imm}`);
}

function shuffles(rng: Rng, d: Draft64): string {
  const a = rng.int(16);
  const b = rng.int(16);
  const k = rng.int(5);
  if (k === 0) return `${rng.pick(['pshufd', 'pshufhw', 'pshuflw'])} xmm${a}, ${rng.bool() ? `xmm${b}` : d.mem(16, true).text}, ${rng.int(256)}`;
  const r = d.reg();
  const dst = rng.bool() ? R64[r] : R32[r];
  if (k === 1) return `pextrw ${dst}, xmm${b}, ${rng.int(256)}`;
  if (k === 2) return `pmovmskb ${R32[r]}, xmm${b}`;
  if (k === 3) return `pinsrw xmm${a}, ${R32[r]}, ${rng.int(256)}`;
  return `pinsrw xmm${a}, word ${d.mem(2, false).text}, ${rng.int(256)}`;
}

function xmmInteger(rng: Rng): Case64 {
  if (rng.bool(0.7)) return binary(rng, 'SSE2 integer (XMM)', BINARY);
  const d = new Draft64(rng);
  return d.done('SSE2 integer (XMM)', shuffles(rng, d));
}

function shifts(rng: Rng): Case64 {
  const d = new Draft64(rng);
  const a = rng.int(16);
  const k = rng.int(3);
  if (k === 0) return d.done('SSE2 shifts (XMM)', `${rng.pick([...SHIFTS, 'psrldq', 'pslldq'])} xmm${a}, ${rng.pick([0, 1, 7, 8, 15, 16, 17, 31, 32, 63, 64, 65, 128, 255, rng.int(256)])}`);
  // The count register: its low quadword from the count classes.
  const b = rng.int(16);
  const v = countValue(rng);
  for (let i = 0; i < 8; i++) d.xmm[b * 16 + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  const op = rng.pick(SHIFTS);
  return d.done('SSE2 shifts (XMM)', k === 1 ? `${op} xmm${a}, xmm${b}` : `${op} xmm${a}, ${d.mem(16, true).text}`);
}

function mmxForms(rng: Rng): Case64 {
  const d = new Draft64(rng);
  const a = rng.int(8);
  const b = rng.int(8);
  const ra = d.reg();
  const rb = d.reg();
  const lines = [`movq mm${a}, ${R64[ra]}`, `movq mm${b}, ${R64[rb]}`];
  const k = rng.int(7);
  const src = (): string => (rng.bool() ? `mm${b}` : d.mem(8, false).text);
  if (k <= 1) lines.push(`${rng.pick(MMX_NEW)} mm${a}, ${src()}`);
  else if (k === 2) {
    const op = rng.pick([...SSSE3, 'palignr']);
    lines.push(`${op} mm${a}, ${src()}${op === 'palignr' ? `, ${rng.int(256)}` : ''}`);
  } else if (k === 3) lines.push(`pshufw mm${a}, ${src()}, ${rng.int(256)}`);
  else if (k === 4) {
    const r = d.reg();
    lines.push(rng.bool() ? `pextrw ${R32[r]}, mm${b}, ${rng.int(256)}` : `pmovmskb ${R32[r]}, mm${b}`);
  } else if (k === 5) lines.push(`pinsrw mm${a}, ${rng.bool() ? R32[d.reg()] : `word ${d.mem(2, false).text}`}, ${rng.int(256)}`);
  else {
    const x = rng.int(16);
    lines.push(rng.bool() ? `movq2dq xmm${x}, mm${b}` : `movdq2q mm${a}, xmm${x}`);
  }
  if (rng.bool(0.3)) {
    d.regs[7] = BigInt(DATA + 0x100 + rng.int(DATA_SIZE - 0x200));
    lines.push(rng.bool() ? `maskmovq mm${a}, mm${b}` : `movntq [rdi], mm${a}`);
  }
  lines.push(`movq ${R64[ra]}, mm${a}`, 'emms');
  return d.done('MMX-register forms', lines.join('\n'));
}

function faults(rng: Rng): Case64 {
  const d = new Draft64(rng);
  const r = d.reg();
  const a = rng.int(16);
  const k = rng.int(4);
  let body: string;
  if (k === 0) {
    // 16-byte loads reaching the unmapped page after the data region, or misaligned.
    d.regs[r] = BigInt(DATA + DATA_SIZE - 16 * rng.int(2) + (rng.bool(0.3) ? 1 + rng.int(15) : 0));
    body = `${rng.pick([...BINARY, ...SSSE3])} xmm${a}, [${R64[r]}]`;
  } else if (k === 1) {
    d.regs[r] = BigInt(DATA + DATA_SIZE - 1 - rng.int(8));
    body = `movq mm1, ${R64[d.reg()]}\n${rng.pick([...MMX_NEW, ...SSSE3])} mm1, [${R64[r]}]\nemms`;
  } else if (k === 2) {
    d.regs[7] = rng.bool() ? BigInt(CODE + 0x10 * rng.int(64)) : BigInt(DATA + DATA_SIZE - 1 - rng.int(8));
    body = `movq mm2, ${R64[d.reg()]}\nmovq mm3, ${R64[d.reg()]}\n${rng.bool() ? 'maskmovq mm2, mm3' : 'movntq [rdi], mm2'}\nemms`;
  } else {
    d.regs[r] = BigInt(DATA + DATA_SIZE - 1);
    body = `pinsrw xmm${a}, [${R64[r]}], ${rng.int(8)}`;
  }
  return d.done('SSE integer faults', body);
}

const GENERATORS: Record<Family, (rng: Rng) => Case64> = {
  'SSE2 integer (XMM)': xmmInteger,
  'SSE2 shifts (XMM)': shifts,
  'SSSE3 (XMM)': (rng) => binary(rng, 'SSSE3 (XMM)', [...SSSE3, 'palignr']),
  'MMX-register forms': mmxForms,
  'SSE integer faults': faults,
};

/** `count` cases, the families in turn. */
export function generateSseInt64(seed: number, count: number): Case64[] {
  const rng = new Rng(seed);
  const out: Case64[] = [];
  for (let i = 0; i < count; i++) out.push(GENERATORS[SSE_INT_64_FAMILIES[i % SSE_INT_64_FAMILIES.length]!](rng));
  return out;
}
