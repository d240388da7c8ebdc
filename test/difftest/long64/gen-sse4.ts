/**
 * 64-bit cases for SSE4.1 integer and SSE4.2 instructions: XMM0-15, RIP-relative and
 * register-based memory operands, the REX.W forms (PCMPESTRx lengths from RAX/RDX,
 * CRC32 r64 with r/m64 and a 64-bit destination zero-extended, POPCNT r64, MOVBE r64),
 * the byte registers SPL..DIL and R8B..R15B as CRC32 sources (and AH..BH without REX),
 * and faults: operands crossing into the unmapped page after the data region (#PF),
 * misaligned 16-byte operands (#GP(0)), operands running off the lower canonical half
 * (#GP(0)) and MOVBE stores into the read-only code page.
 *
 * Crafted memory operands live in the case's own code (read through RIP-relative or
 * register addresses); operands near the data region's end read its seeded fill.
 */
import { pickOp } from '../gen/sse-sse41.js';
import { explicitLength, lanes, mixLanes, ptestPair, stringImm, stringOperands } from '../gen/sse4-data.js';
import { dbText, xmmBits, xmmFile, xmmInt } from '../gen/sse-values.js';
import { Rng } from '../prng.js';
import { DATA, DATA_SIZE, RSP_INIT, type Case64 } from './run.js';

const ARITH = 0x8d5; // CF PF AF ZF SF OF
const ALL = ARITH | 0x400;
const R64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
const R8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'];
const PTR: Record<number, string> = { 1: 'byte', 2: 'word', 4: 'dword', 8: 'qword', 16: 'oword' };
/** Registers free for addresses and operands: not RSP; RAX, RCX, RDX are claimed per case as needed. */
const FREE = [3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

export const SSE4_64_FAMILIES = ['SSE4.1 integer', 'PCMPxSTRx', 'PCMPxSTRx REX.W', 'PCMPGTQ', 'CRC32', 'POPCNT', 'MOVBE', 'SSE4 faults'] as const;
type Family = (typeof SSE4_64_FAMILIES)[number];

function rand64(rng: Rng): bigint {
  return (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
}

function edge(rng: Rng, bits: 8 | 16 | 32 | 64): bigint {
  const b = BigInt(bits);
  const mask = (1n << b) - 1n;
  const v = rng.bool(0.5) ? rand64(rng) : rng.pick([0n, 1n, mask, mask - 1n, 1n << (b - 1n), (1n << (b - 1n)) - 1n, 1n << BigInt(rng.int(bits)), 0xff00ff00ff00ff00n]);
  // Random upper bits above the operand: they must not leak in (or must be kept).
  return BigInt.asUintN(64, (rand64(rng) & ~mask) | (v & mask));
}

class Draft64 {
  readonly regs: bigint[];
  readonly rflags: number;
  xmm: Uint8Array;
  private readonly free: number[];
  /** Crafted bytes placed in the case's code. */
  private data: Uint8Array | null = null;

  constructor(readonly rng: Rng) {
    this.regs = Array.from({ length: 16 }, () => rand64(rng));
    this.regs[4] = RSP_INIT;
    this.rflags = (rng.u32() & ARITH) | 2;
    this.xmm = xmmFile(rng, 16, xmmBits);
    this.free = FREE.slice();
  }

  reg(): number {
    const i = this.rng.int(this.free.length);
    return this.free.splice(i, 1)[0]!;
  }

  /** Place `bytes` in the case's code, 16-byte aligned, at .s4_data. */
  place(bytes: Uint8Array): void {
    this.data = bytes;
  }

  /** A memory operand addressing `bytes` placed in the code, RIP-relative or through a register. */
  crafted(bytes: Uint8Array): { text: string; prologue: string } {
    this.place(bytes);
    if (this.rng.bool(0.5)) return { text: '[rel .s4_data]', prologue: '' };
    const r = this.reg();
    const disp = this.rng.pick([0, 8, -16, 0x100]);
    return { text: `[${R64[r]}${disp === 0 ? '' : disp > 0 ? `+${disp}` : `${disp}`}]`, prologue: `lea ${R64[r]}, [rel .s4_data - (${disp})]` };
  }

  done(family: Family, body: string, flagMask = ALL): Case64 {
    const text = this.data === null ? body : `jmp .s4_go\nalign 16, int3\n.s4_data: ${dbText(this.data)}\n.s4_go:\n${body}`;
    return { family, body: text, regs: this.regs, rflags: this.rflags, flagMask, xmm: this.xmm };
  }
}

function sse41(rng: Rng): Case64 {
  const d = new Draft64(rng);
  const op = pickOp(rng);
  d.xmm = xmmFile(rng, 16, (r) => xmmInt(r, op.bits));
  const dst = rng.int(16);
  let a = lanes(rng, op.bits);
  let b = mixLanes(rng, a, lanes(rng, op.bits), op.bits / 8);
  if (op.ptest === true) [a, b] = ptestPair(rng);
  d.xmm.set(a, dst * 16);
  const imm = op.imm === undefined ? '' : `, ${op.imm}`;
  if (rng.bool()) {
    const src = rng.bool(0.1) ? dst : rng.int(16);
    if (src !== dst) d.xmm.set(b, src * 16);
    return d.done('SSE4.1 integer', `${op.mn} xmm${dst}, xmm${src}${imm}`);
  }
  // The crafted block is 16-byte aligned, as the full-width forms require.
  const m = d.crafted(b.slice(0, op.size));
  return d.done('SSE4.1 integer', `${m.prologue}\n${op.mn} xmm${dst}, ${PTR[op.size]} ${m.text}${imm}`);
}

const STRING_OPS = ['pcmpestrm', 'pcmpestri', 'pcmpistrm', 'pcmpistri'] as const;

function strings(rng: Rng, rexW: boolean): Case64 {
  const d = new Draft64(rng);
  const k = rng.int(4);
  const mn = STRING_OPS[rexW ? rng.int(2) : k]!;
  const imm = stringImm(rng);
  const s = stringOperands(rng, imm);
  const n = (imm & 1) !== 0 ? 8 : 16;
  d.regs[0] = explicitLength(rng, s.naturalA, n, rexW);
  d.regs[2] = explicitLength(rng, s.naturalB, n, rexW);
  const r1 = rng.int(16);
  d.xmm.set(s.a, r1 * 16);
  if (rexW) {
    // 66 REX.W 0F 3A 60/61 /r ib: nasm has no spelling for the W form.
    const opcode = STRING_OPS.indexOf(mn as (typeof STRING_OPS)[number]) === 0 ? 0x60 : 0x61;
    if (rng.bool()) {
      const r2 = rng.int(16);
      if (r2 !== r1) d.xmm.set(s.b, r2 * 16);
      const rex = 0x48 | (r1 >= 8 ? 4 : 0) | (r2 >= 8 ? 1 : 0);
      return d.done('PCMPxSTRx REX.W', `db 0x66, ${rex}, 0x0f, 0x3a, ${opcode}, ${0xc0 | ((r1 & 7) << 3) | (r2 & 7)}, ${imm} ; ${mn} xmm${r1}, xmm${r2} (W)`);
    }
    // A base register whose encoding needs neither SIB nor displacement (not RSP/RBP/R12/R13).
    const base = rng.pick([3, 6, 7, 8, 9, 10, 11, 14, 15]);
    const rex = 0x48 | (r1 >= 8 ? 4 : 0) | (base >= 8 ? 1 : 0);
    d.place(s.b);
    return d.done(
      'PCMPxSTRx REX.W',
      `lea ${R64[base]}, [rel .s4_data]\ndb 0x66, ${rex}, 0x0f, 0x3a, ${opcode}, ${((r1 & 7) << 3) | (base & 7)}, ${imm} ; ${mn} xmm${r1}, [${R64[base]}] (W)`,
    );
  }
  if (rng.bool()) {
    const r2 = rng.bool(0.1) ? r1 : rng.int(16);
    if (r2 !== r1) d.xmm.set(s.b, r2 * 16);
    return d.done('PCMPxSTRx', `${mn} xmm${r1}, xmm${r2}, ${imm}`);
  }
  const m = d.crafted(s.b);
  return d.done('PCMPxSTRx', `${m.prologue}\n${mn} xmm${r1}, oword ${m.text}, ${imm}`);
}

function pcmpgtq(rng: Rng): Case64 {
  const d = new Draft64(rng);
  d.xmm = xmmFile(rng, 16, (r) => lanes(r, 64));
  const dst = rng.int(16);
  const src = rng.int(16);
  d.xmm.set(mixLanes(rng, d.xmm.slice(dst * 16, dst * 16 + 16), d.xmm.slice(src * 16, src * 16 + 16), 8), src * 16);
  return d.done('PCMPGTQ', `pcmpgtq xmm${dst}, xmm${src}`);
}

/** A general-register or memory source of `bytes` bytes; memory in the code (crafted) or the data region. */
function gpSource(d: Draft64, bytes: 1 | 2 | 4 | 8): { text: string; prologue: string } {
  const rng = d.rng;
  if (rng.bool(0.5)) {
    const r = d.reg();
    d.regs[r] = edge(rng, (bytes * 8) as 8 | 16 | 32 | 64);
    const names = bytes === 1 ? R8 : bytes === 2 ? R16 : bytes === 4 ? R32 : R64;
    return { text: names[r]!, prologue: '' };
  }
  if (rng.bool(0.5)) {
    const v = edge(rng, 64);
    const b = new Uint8Array(8);
    for (let i = 0; i < 8; i++) b[i] = Number((v >> BigInt(i * 8)) & 0xffn);
    const m = d.crafted(b.slice(0, bytes));
    return { text: `${PTR[bytes]} ${m.text}`, prologue: m.prologue };
  }
  const r = d.reg();
  d.regs[r] = BigInt(DATA + rng.int(DATA_SIZE - 8));
  return { text: `${PTR[bytes]} [${R64[r]}]`, prologue: '' };
}

function crc32(rng: Rng): Case64 {
  const d = new Draft64(rng);
  const dst = d.reg();
  d.regs[dst] = rng.bool(0.3) ? 0xffffffffn | (rand64(rng) << 32n) : rand64(rng);
  const bytes = rng.pick([1, 2, 4, 8] as const);
  if (bytes === 1 && rng.bool(0.2)) {
    // AH..BH need an instruction without REX: a legacy destination.
    const hi = rng.pick(['ah', 'ch', 'dh', 'bh']);
    d.regs[0] = rand64(rng);
    return d.done('CRC32', `crc32 ${rng.pick(['esi', 'edi', 'ebx', 'ebp'])}, ${hi}`);
  }
  const src = gpSource(d, bytes);
  // CRC32 r64 takes only r/m8 and r/m64.
  const wide = bytes === 8 || (bytes === 1 && rng.bool(0.4));
  return d.done('CRC32', `${src.prologue}\ncrc32 ${wide ? R64[dst] : R32[dst]}, ${src.text}`);
}

function popcnt(rng: Rng): Case64 {
  const d = new Draft64(rng);
  const bytes = rng.pick([2, 4, 8] as const);
  const src = gpSource(d, bytes);
  const names = bytes === 2 ? R16 : bytes === 4 ? R32 : R64;
  const dst = rng.bool(0.2) && !src.text.includes('[') ? src.text : names[d.reg()]!;
  return d.done('POPCNT', `${src.prologue}\npopcnt ${dst}, ${src.text}`);
}

function movbe(rng: Rng): Case64 {
  const d = new Draft64(rng);
  const bytes = rng.pick([2, 4, 8] as const);
  const names = bytes === 2 ? R16 : bytes === 4 ? R32 : R64;
  const r = d.reg();
  d.regs[r] = edge(rng, 64);
  const base = d.reg();
  d.regs[base] = BigInt(DATA + rng.int(DATA_SIZE - 8));
  const mem = `${PTR[bytes]} [${R64[base]}]`;
  return d.done('MOVBE', rng.bool() ? `movbe ${names[r]}, ${mem}` : `movbe ${mem}, ${names[r]}`);
}

function faults(rng: Rng): Case64 {
  const d = new Draft64(rng);
  const base = d.reg();
  const end = DATA + DATA_SIZE;
  const k = rng.int(7);
  let body: string;
  if (k === 6) {
    // The end of the lower canonical half: an operand running past it is #GP(0), not #PF.
    // Only operands that really cross: one wholly in the last page takes a #PF there, whose
    // error code Linux reports as a protection fault (it hides kernel page tables from user
    // mode at and above TASK_SIZE_MAX, 2^47 - 4096), which no CPU would report.
    const op = rng.bool() ? { mn: rng.pick(STRING_OPS), size: 16, imm: stringImm(rng) } : pickOp(rng);
    d.regs[base] = 0x0000800000000000n - BigInt(1 + rng.int(op.size - 1));
    body = `${op.mn} xmm${rng.int(16)}, ${PTR[op.size]} [${R64[base]}]${op.imm === undefined ? '' : `, ${op.imm}`}`;
  } else if (k < 2) {
    // 16-byte string operands crossing into the unmapped page; or the page boundary inside the region.
    const addr = rng.bool(0.7) ? end - rng.int(20) + rng.int(4) : DATA + 0x1000 - rng.int(16);
    d.regs[base] = BigInt(addr);
    body = `${rng.pick(STRING_OPS)} xmm${rng.int(16)}, oword [${R64[base]}], ${stringImm(rng)}`;
  } else if (k < 4) {
    const op = pickOp(rng);
    const addr = rng.pick([end - rng.int(op.size + 4) + rng.int(4), end - 16, DATA + 1 + rng.int(DATA_SIZE - 32), end - op.size]);
    d.regs[base] = BigInt(addr);
    body = `${op.mn} xmm${rng.int(16)}, ${PTR[op.size]} [${R64[base]}]${op.imm === undefined ? '' : `, ${op.imm}`}`;
  } else if (k === 4) {
    const bytes = rng.pick([1, 2, 4, 8] as const);
    d.regs[base] = BigInt(end - rng.int(bytes + 1));
    body = rng.bool() ? `crc32 ${(bytes === 2 || bytes === 4 ? R32 : R64)[d.reg()]}, ${PTR[bytes]} [${R64[base]}]` : `popcnt ${R64[d.reg()]}, qword [${R64[base]}]`;
  } else {
    // MOVBE stores: past the region's end, or into the read-only code page.
    const bytes = rng.pick([2, 4, 8] as const);
    const names = bytes === 2 ? R16 : bytes === 4 ? R32 : R64;
    if (rng.bool()) d.regs[base] = BigInt(end - rng.int(bytes + 1));
    body = `${rng.bool() ? '' : `lea ${R64[base]}, [rel $]\n`}movbe ${PTR[bytes]} [${R64[base]}], ${names[d.reg()]}`;
  }
  return d.done('SSE4 faults', body);
}

const GENERATORS: Record<Family, (rng: Rng) => Case64> = {
  'SSE4.1 integer': sse41,
  PCMPxSTRx: (rng) => strings(rng, false),
  'PCMPxSTRx REX.W': (rng) => strings(rng, true),
  PCMPGTQ: pcmpgtq,
  CRC32: crc32,
  POPCNT: popcnt,
  MOVBE: movbe,
  'SSE4 faults': faults,
};

/** Weights: the string compares and SSE4.1 get most cases. */
const WEIGHTS: [Family, number][] = [
  ['SSE4.1 integer', 5],
  ['PCMPxSTRx', 5],
  ['PCMPxSTRx REX.W', 2],
  ['PCMPGTQ', 1],
  ['CRC32', 2],
  ['POPCNT', 1],
  ['MOVBE', 1],
  ['SSE4 faults', 2],
];

export function generateSse4(seed: number, count: number): Case64[] {
  const rng = new Rng(seed);
  const bag: Family[] = [];
  for (const [f, w] of WEIGHTS) for (let i = 0; i < w; i++) bag.push(f);
  const out: Case64[] = [];
  for (let i = 0; i < count; i++) out.push(GENERATORS[bag[i % bag.length]!](rng));
  return out;
}
