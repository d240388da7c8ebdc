/**
 * SSE-SSE4.1 data movement without arithmetic (emulator-core/cpu/sse/float-moves.ts):
 * AND/ANDN/OR PS/PD, SHUFPS/PD, UNPCK*, MOVL/H PS/PD, MOVHLPS/MOVLHPS, MOVMSKPS/PD, the
 * non-temporal stores and loads, MOVNTI, LDDQU, MASKMOVDQU, MOVSLDUP/MOVSHDUP/MOVDDUP, the
 * SSE4.1 blends, INSERTPS/EXTRACTPS and PINSR/PEXTR B/W/D(/Q).
 *
 * One instruction per case, on random XMM contents (NaN payloads, signed zeros, denormals,
 * integer edges) and random immediates. Memory operands land anywhere in the data region,
 * aligned or not (#GP(0) for the forms that need 16-byte alignment), across a page boundary
 * into readable memory, or across into a page that faults (#PF with the second page's
 * address in CR2, nothing stored). Register forms that do not exist and LOCK prefixes are
 * #UD. The same generator serves 32-bit code (this file's genFloatMoves, through Draft) and
 * 64-bit code (genFloatMoves64: REX registers XMM8-15, REX.W forms, a32 MASKMOVDQU).
 */
import { EDI, ESP, REG32, type DiffCase } from '../case.js';
import { DATA_BASE, GUARD_PAGE, RO_PAGE } from '../layout.js';
import type { Rng } from '../prng.js';
import { DATA as DATA64, DATA_SIZE as DATA64_SIZE, type Case64 } from '../long64/run.js';
import { Draft, hex } from './draft.js';
import { xmmValue } from './sse-values.js';

export const FLOAT_MOVES_FAMILIES = [
  'ANDPS/ANDPD/ANDNPS/ANDNPD/ORPS/ORPD',
  'SHUFPS/SHUFPD',
  'UNPCKLPS/UNPCKHPS/UNPCKLPD/UNPCKHPD',
  'MOVLPS/MOVHPS/MOVLPD/MOVHPD/MOVHLPS/MOVLHPS',
  'MOVMSKPS/MOVMSKPD',
  'MOVNTPS/MOVNTPD/MOVNTDQ/MOVNTI',
  'LDDQU/MOVNTDQA',
  'MASKMOVDQU',
  'MOVSLDUP/MOVSHDUP/MOVDDUP',
  'BLENDPS/BLENDPD/PBLENDW/PBLENDVB/BLENDVPS/BLENDVPD',
  'INSERTPS/EXTRACTPS',
  'PINSRB/PINSRD/PINSRQ/PEXTRB/PEXTRW/PEXTRD/PEXTRQ',
  'float moves: #UD forms',
] as const;

type Family = (typeof FLOAT_MOVES_FAMILIES)[number];
type Expect = number | null | 'any';

/** Where a memory operand may go, in data-region offsets, for one mode's address layout. */
export interface MemLayout {
  /** Linear address of the data region. */
  base: number;
  /** Bytes of the data region (readable and writable). */
  size: number;
  /** Offsets of page boundaries inside readable memory a load may straddle. */
  loadCrossOk: number[];
  /** A boundary where a load straddling it faults (its second page is absent). */
  loadFault: number;
  /** A boundary where a store straddling it faults (its second page is read-only or absent). */
  storeFault: number;
}

/** What the instruction builders need from a mode (32-bit Draft or the 64-bit case). */
export interface Ctx {
  readonly rng: Rng;
  readonly long: boolean;
  /** XMM registers the mode has (8 or 16). */
  readonly nx: number;
  readonly layout: MemLayout;
  /** A memory operand (text, without size keyword) addressing data-region offset `off`. */
  memRef(off: number): string;
  /** A free general register for an operand of `bits`, not a base register or RSP/ESP. */
  gpr(bits: 32 | 64): string;
  /** Point rDI at data-region offset `off` (a16/a32 forms are the caller's), for MASKMOVDQU. */
  pointDi(off: number, form: 'plain' | 'a16' | 'a32' | 'noncanonical'): void;
  /** XMM register images to start with (the builders may shape some, e.g. masks). */
  readonly xmm: Uint8Array;
  expect: Expect;
}

function xmmName(x: Ctx, avoid = -1): [string, number] {
  let r = x.rng.int(x.nx);
  if (r === avoid && x.rng.bool(0.7)) r = (r + 1 + x.rng.int(x.nx - 1)) % x.nx;
  return [`xmm${r}`, r];
}

/**
 * A memory operand of `size` bytes: where it goes and the exception that predicts. `align`
 * 16 for the forms that need it (#GP(0) when misaligned, checked before any page fault).
 */
function memOperand(x: Ctx, size: number, align: 1 | 16, store: boolean): string {
  const r = x.rng;
  const L = x.layout;
  const k = r.int(20);
  let off: number;
  if (k < 12) {
    // Anywhere in the data region, aligned to the operand (or to 16) or not.
    off = r.int(L.size - size + 1);
    if (r.bool(align === 16 ? 0.8 : 0.4)) off &= ~(align === 16 ? 15 : size - 1);
  } else if (k < 15 && size > 1) {
    // Straddling a page boundary inside readable (and for stores, writable) memory.
    const b = store ? 0x1000 : r.pick(L.loadCrossOk);
    off = b - 1 - r.int(size - 1);
  } else if (k < 18 && size > 1) {
    // Straddling into a page the access may not touch.
    off = (store ? L.storeFault : L.loadFault) - 1 - r.int(size - 1);
  } else {
    // Wholly inside the faulting page, or (for 16-byte forms) its first aligned slot.
    off = (store ? L.storeFault : L.loadFault) + r.pick([0, 16, 0x20, r.int(0x100)]);
  }
  const aligned = align === 1 || (off & 15) === 0;
  x.expect = !aligned ? 13 : off + size > (store ? L.storeFault : L.loadFault) ? 14 : null;
  return x.memRef(off);
}

const PTR: Record<number, string> = { 1: 'byte', 2: 'word', 4: 'dword', 8: 'qword', 16: 'oword' };

/** op xmm, xmm/m128 (aligned), with an immediate for some. */
function binary128(x: Ctx, op: string, imm: boolean, align: 1 | 16 = 16): string {
  const [dst] = xmmName(x);
  const src = x.rng.bool(0.5) ? xmmName(x)[0] : `${PTR[16]} ${memOperand(x, 16, align, false)}`;
  return `${op} ${dst}, ${src}${imm ? `, ${hex(x.rng.int(256))}` : ''}`;
}

function logic(x: Ctx): string {
  return binary128(x, x.rng.pick(['andps', 'andpd', 'andnps', 'andnpd', 'orps', 'orpd']), false);
}

function shuffle(x: Ctx): string {
  return binary128(x, x.rng.pick(['shufps', 'shufpd']), true);
}

function unpack(x: Ctx): string {
  return binary128(x, x.rng.pick(['unpcklps', 'unpckhps', 'unpcklpd', 'unpckhpd']), false);
}

function halves(x: Ctx): string {
  const r = x.rng;
  const k = r.int(3);
  const [a] = xmmName(x);
  if (k === 0) return `${r.pick(['movhlps', 'movlhps'])} ${a}, ${xmmName(x)[0]}`;
  const op = r.pick(['movlps', 'movhps', 'movlpd', 'movhpd']);
  if (k === 1) return `${op} ${a}, qword ${memOperand(x, 8, 1, false)}`;
  return `${op} qword ${memOperand(x, 8, 1, true)}, ${a}`;
}

function movmsk(x: Ctx): string {
  const op = x.rng.pick(['movmskps', 'movmskpd']);
  return `${op} ${x.gpr(x.long && x.rng.bool() ? 64 : 32)}, ${xmmName(x)[0]}`;
}

function ntStore(x: Ctx): string {
  const r = x.rng;
  if (r.bool(0.3)) {
    const bits = x.long && r.bool() ? 64 : 32;
    const g = x.gpr(bits);
    return `movnti ${bits === 64 ? 'qword' : 'dword'} ${memOperand(x, bits / 8, 1, true)}, ${g}`;
  }
  const op = r.pick(['movntps', 'movntpd', 'movntdq']);
  return `${op} oword ${memOperand(x, 16, 16, true)}, ${xmmName(x)[0]}`;
}

function loads(x: Ctx): string {
  const [a] = xmmName(x);
  if (x.rng.bool()) return `lddqu ${a}, oword ${memOperand(x, 16, 1, false)}`;
  return `movntdqa ${a}, oword ${memOperand(x, 16, 16, false)}`;
}

function dup(x: Ctx): string {
  const r = x.rng;
  const [a] = xmmName(x);
  if (r.bool(0.35)) return `movddup ${a}, ${r.bool() ? xmmName(x)[0] : `qword ${memOperand(x, 8, 1, false)}`}`;
  return binary128(x, r.pick(['movsldup', 'movshdup']), false);
}

/** A 16-byte mask register image for MASKMOVDQU: random, none, all, or a few bytes selected. */
function shapeMask(x: Ctx, reg: number): void {
  const r = x.rng;
  const k = r.int(6);
  if (k < 2) return; // the random contents: about half the bytes
  const m = x.xmm.subarray(reg * 16, reg * 16 + 16);
  for (let i = 0; i < 16; i++) m[i] = r.int(0x80); // top bits clear: nothing selected
  if (k === 3) for (let i = 0; i < 16; i++) m[i] |= 0x80;
  if (k === 4) m[r.pick([0, 15, r.int(16)])] |= 0x80;
  if (k === 5) for (let i = 0; i < 16; i++) if (r.bool(0.2)) m[i] |= 0x80;
}

function maskmov(x: Ctx): string {
  const r = x.rng;
  const L = x.layout;
  const [data, dr] = xmmName(x);
  const [mask, mr] = xmmName(x, dr);
  shapeMask(x, mr);
  const k = r.int(10);
  let off: number;
  if (k < 6) off = r.int(L.size - 15);
  else if (k < 8) off = 0x1000 - 1 - r.int(15);
  else off = L.storeFault - 1 - r.int(15);
  const forms = x.long ? (['plain', 'plain', 'a32', 'noncanonical'] as const) : (['plain', 'plain', 'plain', 'a16'] as const);
  const form = r.pick(forms);
  x.pointDi(off, form);
  // Which faults an unselected byte or an all-zero mask raises is the model's choice (SDM):
  // the host decides, Terrarium must agree.
  x.expect = form === 'plain' && off + 16 <= L.storeFault ? null : 'any';
  return `${form === 'a16' ? 'a16 ' : form === 'a32' ? 'a32 ' : ''}maskmovdqu ${data}, ${mask}`;
}

function blend(x: Ctx): string {
  const r = x.rng;
  const op = r.pick(['blendps', 'blendpd', 'pblendw', 'pblendvb', 'blendvps', 'blendvpd']);
  return binary128(x, op, !op.includes('v'));
}

function insertExtract(x: Ctx): string {
  const r = x.rng;
  const [a] = xmmName(x);
  const imm = hex(r.int(256));
  if (r.bool()) {
    const src = r.bool() ? xmmName(x)[0] : `dword ${memOperand(x, 4, 1, false)}`;
    return `insertps ${a}, ${src}, ${imm}`;
  }
  if (r.bool(0.4)) return `extractps dword ${memOperand(x, 4, 1, true)}, ${a}, ${imm}`;
  const g = x.gpr(x.long && r.bool() ? 64 : 32);
  return `extractps ${g}, ${a}, ${imm}`;
}

/** ModRM for two register numbers (reg field, rm field), low three bits each. */
function modrmRR(reg: number, rm: number): number {
  return 0xc0 | ((reg & 7) << 3) | (rm & 7);
}

const GPR64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

function gprNumber(name: string): number {
  const i = REG32.indexOf(name as (typeof REG32)[number]);
  if (i >= 0) return i;
  const j = GPR64.indexOf(name);
  if (j >= 0) return j;
  return Number(/^r(\d+)d$/.exec(name)?.[1] ?? -1);
}

function insrExtr(x: Ctx): string {
  const r = x.rng;
  const [a, ar] = xmmName(x);
  const imm = r.int(256);
  const q = x.long && r.bool(0.35);
  const k = r.int(7);
  if (k === 0) {
    // PINSRB/PINSRD/PINSRQ from a register.
    if (q) return `pinsrq ${a}, ${x.gpr(64)}, ${hex(imm)}`;
    return `${r.pick(['pinsrb', 'pinsrd'])} ${a}, ${x.gpr(32)}, ${hex(imm)}`;
  }
  if (k === 1) {
    if (q) return `pinsrq ${a}, qword ${memOperand(x, 8, 1, false)}, ${hex(imm)}`;
    return r.bool() ? `pinsrb ${a}, byte ${memOperand(x, 1, 1, false)}, ${hex(imm)}` : `pinsrd ${a}, dword ${memOperand(x, 4, 1, false)}, ${hex(imm)}`;
  }
  if (k === 2) {
    if (q) return `pextrq ${x.gpr(64)}, ${a}, ${hex(imm)}`;
    return `${r.pick(['pextrb', 'pextrd'])} ${x.gpr(32)}, ${a}, ${hex(imm)}`;
  }
  if (k === 3) {
    if (q) return `pextrq qword ${memOperand(x, 8, 1, true)}, ${a}, ${hex(imm)}`;
    const w = r.pick([1, 2, 4] as const);
    const op = w === 1 ? 'pextrb' : w === 2 ? 'pextrw' : 'pextrd';
    return `${op} ${PTR[w]} ${memOperand(x, w, 1, true)}, ${a}, ${hex(imm)}`;
  }
  if (k === 4) {
    // PEXTRW's SSE4.1 encoding (66 0F 3A 15) with a register destination (nasm picks 66 0F C5).
    const g = gprNumber(x.gpr(32));
    const rex = (ar >= 8 ? 4 : 0) | (g >= 8 ? 1 : 0) | (x.long && r.bool(0.3) ? 8 : 0);
    const pre = rex !== 0 ? `0x${(0x40 | rex).toString(16)}, ` : '';
    return `db 0x66, ${pre}0x0f, 0x3a, 0x15, ${hex(modrmRR(ar, g))}, ${hex(imm)} ; pextrw r, ${a}, imm (0F 3A 15)`;
  }
  if (k === 5 && x.long) {
    // REX.W on PEXTRB/EXTRACTPS: still a zero-extended byte/dword into the 64-bit register.
    const g = gprNumber(x.gpr(64));
    const op = r.pick([0x14, 0x17]);
    const rex = 0x48 | (ar >= 8 ? 4 : 0) | (g >= 8 ? 1 : 0);
    return `db 0x66, ${hex(rex)}, 0x0f, 0x3a, ${hex(op)}, ${hex(modrmRR(ar, g))}, ${hex(imm)} ; ${op === 0x14 ? 'pextrb' : 'extractps'} r64, ${a}, imm (REX.W)`;
  }
  return `pextrw ${x.gpr(32)}, ${a}, ${hex(imm)}`;
}

/** Encodings that are #UD: register forms of memory-only opcodes, memory forms of register-only ones, LOCK. */
function undefinedForm(x: Ctx): string {
  const r = x.rng;
  const reg = r.int(x.nx);
  const rm = r.int(x.nx);
  const rex = x.long && (reg >= 8 || rm >= 8) ? `0x${(0x40 | (reg >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0)).toString(16)}, ` : '';
  const mrr = hex(modrmRR(reg, rm));
  const k = r.int(14);
  x.expect = 6;
  const regForms: [string, string][] = [
    ['0x66, ', '0x0f, 0x12'], // MOVLPD xmm, xmm
    ['0x66, ', '0x0f, 0x16'], // MOVHPD
    ['', '0x0f, 0x13'], // MOVLPS m64, xmm
    ['0x66, ', '0x0f, 0x13'], // MOVLPD
    ['', '0x0f, 0x17'], // MOVHPS
    ['0x66, ', '0x0f, 0x17'], // MOVHPD
    ['', '0x0f, 0x2b'], // MOVNTPS
    ['0x66, ', '0x0f, 0x2b'], // MOVNTPD
    ['0x66, ', '0x0f, 0xe7'], // MOVNTDQ
    ['0xf2, ', '0x0f, 0xf0'], // LDDQU
    ['0x66, ', '0x0f, 0x38, 0x2a'], // MOVNTDQA
    ['', '0x0f, 0xc3'], // MOVNTI
  ];
  if (k < regForms.length) {
    const [pre, op] = regForms[k]!;
    return `db ${pre}${rex}${op}, ${mrr} ; register form of a memory-only encoding`;
  }
  if (k === 12) {
    // MOVMSKPS/MASKMOVDQU with a (valid, readable) memory operand: still #UD.
    const [pre, op] = r.pick([
      ['', '0x0f, 0x50'],
      ['0x66, ', '0x0f, 0x50'],
      ['0x66, ', '0x0f, 0xf7'],
    ] as const);
    return `db ${pre}${rex}${op}, ${absMem(x, reg, x.rng.int(x.layout.size - 16))} ; register-only opcode with memory`;
  }
  if (k === 13 && r.bool()) {
    // MOVNTI has no 16-bit form (66 0F C3), and the SSE4.1 opcodes no F2/F3 forms.
    if (r.bool()) return `db 0x66, ${rex}0x0f, 0xc3, ${absMem(x, reg, x.rng.int(x.layout.size - 16))} ; movnti with 66`;
    const body = r.pick([blend, insertExtract, insrExtr])(x);
    x.expect = 6;
    return `db ${r.pick(['0xf2', '0xf3'])} ; a REP prefix on a 66-only opcode\n${body}`;
  }
  // LOCK on an SSE instruction (with a register or a memory operand).
  const body = r.pick([logic, shuffle, halves, blend, insertExtract, dup])(x);
  x.expect = 6;
  return `db 0xf0 ; lock\n${body}`;
}

/** ModRM (and SIB) and disp32 bytes addressing data-region offset `off` absolutely, ModRM.reg = `reg`. */
function absMem(x: Ctx, reg: number, off: number): string {
  const addr = x.layout.base + off;
  const d = [0, 8, 16, 24].map((s) => hex((addr >>> s) & 0xff)).join(', ');
  // 64-bit mode: mod 00 rm 101 is RIP-relative, so SIB with no base and no index.
  return x.long ? `${hex(((reg & 7) << 3) | 4)}, 0x25, ${d}` : `${hex(((reg & 7) << 3) | 5)}, ${d}`;
}

const BUILDERS: Record<Family, (x: Ctx) => string> = {
  'ANDPS/ANDPD/ANDNPS/ANDNPD/ORPS/ORPD': logic,
  'SHUFPS/SHUFPD': shuffle,
  'UNPCKLPS/UNPCKHPS/UNPCKLPD/UNPCKHPD': unpack,
  'MOVLPS/MOVHPS/MOVLPD/MOVHPD/MOVHLPS/MOVLHPS': halves,
  'MOVMSKPS/MOVMSKPD': movmsk,
  'MOVNTPS/MOVNTPD/MOVNTDQ/MOVNTI': ntStore,
  'LDDQU/MOVNTDQA': loads,
  MASKMOVDQU: maskmov,
  'MOVSLDUP/MOVSHDUP/MOVDDUP': dup,
  'BLENDPS/BLENDPD/PBLENDW/PBLENDVB/BLENDVPS/BLENDVPD': blend,
  'INSERTPS/EXTRACTPS': insertExtract,
  'PINSRB/PINSRD/PINSRQ/PEXTRB/PEXTRW/PEXTRD/PEXTRQ': insrExtr,
  'float moves: #UD forms': undefinedForm,
};

/** XMM images for a case: mostly float/integer-shaped lanes, some with every sign bit set or clear. */
export function floatMovesXmm(rng: Rng, count: 8 | 16): Uint8Array {
  const out = new Uint8Array(count * 16);
  for (let r = 0; r < count; r++) {
    out.set(xmmValue(rng), r * 16);
    if (rng.bool(0.1)) {
      const sign = rng.bool() ? 0x80 : 0;
      for (let l = 0; l < 4; l++) out[r * 16 + l * 4 + 3] = (out[r * 16 + l * 4 + 3]! & 0x7f) | sign;
    }
  }
  return out;
}

// ------------------------------------------------------------------ 32-bit code

const LAYOUT32: MemLayout = {
  base: DATA_BASE,
  size: RO_PAGE - DATA_BASE,
  loadCrossOk: [0x1000, RO_PAGE - DATA_BASE],
  loadFault: GUARD_PAGE - DATA_BASE,
  storeFault: RO_PAGE - DATA_BASE,
};

class Ctx32 implements Ctx {
  readonly long = false;
  readonly nx = 8;
  readonly layout = LAYOUT32;
  readonly xmm: Uint8Array;
  expect: Expect = null;

  constructor(
    readonly rng: Rng,
    readonly d: Draft,
  ) {
    this.xmm = floatMovesXmm(rng, 8);
  }

  memRef(off: number): string {
    return this.d.memRef(off);
  }

  gpr(): string {
    return REG32[this.d.reg(32)]!;
  }

  pointDi(off: number, form: 'plain' | 'a16' | 'a32' | 'noncanonical'): void {
    this.d.claim(EDI);
    // a16: DS:DI, the low 16 bits only (below the data region: unmapped, a page fault).
    this.d.regs[EDI] = form === 'a16' ? ((this.rng.u32() & 0xffff0000) | (DATA_BASE + off)) >>> 0 : DATA_BASE + off;
  }
}

function case32(rng: Rng, fam: Family): DiffCase {
  const d = new Draft(rng);
  d.claim(ESP);
  const x = new Ctx32(rng, d);
  const asm = BUILDERS[fam](x);
  d.xmm = x.xmm;
  d.expect = x.expect;
  return d.finish(fam, asm);
}

/** `perFamily` cases of every family, 32-bit code. */
export function genFloatMoves(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) for (const f of FLOAT_MOVES_FAMILIES) out.push(case32(rng, f));
  return out;
}

// ------------------------------------------------------------------ 64-bit code

const LAYOUT64: MemLayout = {
  base: DATA64,
  size: DATA64_SIZE,
  loadCrossOk: [0x1000],
  loadFault: DATA64_SIZE,
  storeFault: DATA64_SIZE,
};

const R32_64 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
/** CF PF AF ZF SF OF DF: none of these instructions changes a flag, so all are compared. */
const FLAGS64 = 0xcd5;

function u64(rng: Rng): bigint {
  return (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
}

class Ctx64 implements Ctx {
  readonly long = true;
  readonly nx = 16;
  readonly layout = LAYOUT64;
  readonly xmm: Uint8Array;
  readonly regs: bigint[] = [];
  expect: Expect = null;
  private readonly used = new Set<number>([4]);

  constructor(readonly rng: Rng) {
    this.xmm = floatMovesXmm(rng, 16);
    for (let r = 0; r < 16; r++) this.regs.push(u64(rng));
  }

  private free(): number {
    for (;;) {
      const r = this.rng.int(16);
      if (!this.used.has(r)) {
        this.used.add(r);
        return r;
      }
    }
  }

  memRef(off: number): string {
    const addr = BigInt(DATA64 + off);
    const r = this.rng;
    const k = r.int(4);
    if (k === 0) return `[abs ${hex(DATA64 + off)}]`;
    if (k === 1) return `[rel ${hex(DATA64 + off)}]`;
    const disp = r.pick([0, 8, -8, 0x7f, -0x80, 0x1234]);
    const dispText = disp === 0 ? '' : disp > 0 ? ` + ${disp}` : ` - ${-disp}`;
    const base = this.free();
    if (k === 2) {
      this.regs[base] = addr - BigInt(disp);
      return `[${GPR64[base]}${dispText}]`;
    }
    const index = this.free();
    const scale = r.pick([1, 2, 4, 8]);
    const idx = BigInt(r.int(0x200) - 0x100);
    this.regs[index] = BigInt.asUintN(64, idx);
    this.regs[base] = BigInt.asUintN(64, addr - BigInt(disp) - idx * BigInt(scale));
    return `[${GPR64[base]} + ${GPR64[index]}*${scale}${dispText}]`;
  }

  gpr(bits: 32 | 64): string {
    const r = this.free();
    return bits === 64 ? GPR64[r]! : R32_64[r]!;
  }

  pointDi(off: number, form: 'plain' | 'a16' | 'a32' | 'noncanonical'): void {
    this.used.add(7);
    const addr = BigInt(DATA64 + off);
    if (form === 'a32') this.regs[7] = (u64(this.rng) & 0xffffffff00000000n) | addr;
    else if (form === 'noncanonical') this.regs[7] = 0x0000800000000000n | addr;
    else this.regs[7] = addr;
  }
}

/** A 64-bit case and the exception the generator predicts for it ('any': the host decides). */
export interface FloatMovesCase64 {
  k: Case64;
  expect: Expect;
}

/** `perFamily` cases of every family, 64-bit code. */
export function genFloatMoves64(rng: Rng, perFamily: number): FloatMovesCase64[] {
  const out: FloatMovesCase64[] = [];
  for (let i = 0; i < perFamily; i++) {
    for (const fam of FLOAT_MOVES_FAMILIES) {
      const x = new Ctx64(rng);
      const body = BUILDERS[fam](x);
      const rflags = (rng.u32() & FLAGS64) | 2;
      out.push({ k: { family: fam, body, regs: x.regs, rflags, flagMask: FLAGS64, xmm: x.xmm }, expect: x.expect });
    }
  }
  return out;
}
