/**
 * The decoder against an oracle nobody here wrote: GNU objdump. Random, edge-biased byte
 * sequences (prefixes, REX, every ModRM/SIB form, the 0F/0F38/0F3A maps) are decoded by
 * both, in one objdump run per mode, and must agree on the instruction length, and where
 * objdump's text shows them, on the memory operand (base, index, scale, displacement,
 * RIP-relative), the immediates and relative branch targets. Failures print the bytes.
 *
 * Excluded, and counted in the summary each run prints:
 * - encodings objdump prints as "(bad)" (e.g. SALC, which we run, and the SSE rows that
 *   objdump's tables do not hold for a given prefix);
 * - encodings we report as #UD: those the SDM leaves undefined or reserved and other
 *   vendors' extensions (3DNow!, SSE4a, XOP), VEX/EVEX (AVX is not modelled), and opcodes
 *   removed in 64-bit mode (objdump decodes some of them anyway, e.g. as VEX/EVEX);
 * - instructions over 15 bytes (#GP): objdump has no length limit;
 * - in 64-bit code, legacy prefixes before a REX that another prefix follows: the CPU
 *   ignores only that REX, but objdump starts a new instruction after it and forgets them;
 * - FWAIT before an x87 instruction: objdump shows the pair as one (fstsw = 9B DF E0).
 * Immediates folded into the mnemonic (CMPPS's predicate, PCLMULQDQ's lqlq) and MPX memory
 * operands (64-bit whatever 0x67 says; hint NOPs to this CPU) go unchecked.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../test/difftest/prng.js';
import { BufferReader } from './code-reader.js';
import { DecodedInsn, DecodeStatus } from './decoded-insn.js';
import { X86Decoder, type CodeBits } from './decoder.js';
import { Imm, immKind } from './opcode-table.js';

const CASES_PER_MODE = 6000;
/** Bytes handed to the decoder per case: the 15-byte limit. */
const WINDOW = 15;
/** NOPs after each case, so objdump is back in step at the next one whatever it made of the tail. */
const PAD = 32;
const STRIDE = WINDOW + PAD;

function objdumpVersion(): string | null {
  const r = spawnSync('objdump', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : null;
}

const OBJDUMP = objdumpVersion();

const MACHINE: Record<CodeBits, string[]> = {
  16: ['-m', 'i8086'],
  32: ['-m', 'i386'],
  // Intel's rules for 0x66 on near branches (AMD's differ), as the CPU model follows.
  64: ['-m', 'i386:x86-64', '-M', 'intel64'],
};

const LEGACY = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
const MANDATORY = [0x66, 0xf2, 0xf3];
// Rows of the escape maps that hold instructions, so the random opcode lands on them often.
const MAP38 = [0x00, 0x04, 0x0b, 0x10, 0x17, 0x1c, 0x20, 0x2a, 0x30, 0x37, 0x3f, 0x40, 0x41, 0x80, 0xc8, 0xdb, 0xf0, 0xf1, 0xf6];
const MAP3A = [0x08, 0x0f, 0x14, 0x17, 0x20, 0x22, 0x40, 0x44, 0x60, 0x63, 0xcc, 0xdf];

/** One instruction's worth of edge-biased bytes, padded with random ones to 15. */
function generate(rng: Rng, bits: CodeBits): number[] {
  const out: number[] = [];
  const nPrefix = rng.pick([0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 6]);
  for (let i = 0; i < nPrefix; i++) out.push(rng.pick(LEGACY));
  const mapRoll = rng.int(100);
  // Most 0F 38 / 0F 3A instructions want 66.
  if (mapRoll >= 78 ? rng.bool(0.7) : mapRoll >= 50 && rng.bool(0.5)) out.push(mapRoll >= 78 && rng.bool(0.8) ? 0x66 : rng.pick(MANDATORY));
  if (bits === 64 && rng.bool(0.5)) {
    out.push(0x40 | rng.int(16));
    // Sometimes a REX that is not the last prefix (ignored), or two of them.
    if (rng.bool(0.1)) out.push(rng.bool() ? rng.pick(LEGACY) : 0x40 | rng.int(16));
  }
  if (mapRoll < 50) out.push(rng.int(256));
  else if (mapRoll < 78) out.push(0x0f, rng.int(256));
  else if (mapRoll < 89) out.push(0x0f, 0x38, rng.bool(0.7) ? rng.pick(MAP38) + rng.int(2) : rng.int(256));
  else out.push(0x0f, 0x3a, rng.bool(0.7) ? rng.pick(MAP3A) : rng.int(256));
  // ModRM: uniform, or one of the forms with extra bytes (SIB, disp32, RIP-relative).
  let modrm = rng.int(256);
  if (rng.bool(0.3)) modrm = (modrm & 0xf8) | rng.pick([4, 5, 6]);
  if (rng.bool(0.15)) modrm &= 0x3f;
  out.push(modrm);
  let sib = rng.int(256);
  if (rng.bool(0.3)) sib = (sib & 0xf8) | 5;
  if (rng.bool(0.2)) sib = (sib & 0xc7) | (4 << 3);
  out.push(sib);
  while (out.length < WINDOW) out.push(rng.bool(0.2) ? rng.pick([0x00, 0xff, 0x80, 0x7f]) : rng.int(256));
  return out.slice(0, WINDOW);
}

interface Line {
  len: number;
  text: string;
}

function runObjdump(bits: CodeBits, bytes: Uint8Array): Map<number, Line> {
  const dir = mkdtempSync(join(tmpdir(), 'decoder-oracle-'));
  try {
    const file = join(dir, 'code.bin');
    writeFileSync(file, bytes);
    const r = spawnSync('objdump', ['-D', '-b', 'binary', ...MACHINE[bits], '--insn-width=16', file], { encoding: 'utf8', maxBuffer: 256 << 20 });
    if (r.status !== 0) throw new Error(`objdump failed: ${r.stderr}`);
    const lines = new Map<number, Line>();
    for (const raw of r.stdout.split('\n')) {
      const m = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*(?:\t(.*))?$/.exec(raw);
      if (m === null) continue;
      lines.set(parseInt(m[1], 16), { len: m[2].trim().split(' ').length, text: (m[3] ?? '').replace(/\s*#.*$/, '').trim() });
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const PREFIX_WORDS = new Set(['data16', 'data32', 'addr16', 'addr32', 'lock', 'rep', 'repz', 'repnz', 'repe', 'repne', 'cs', 'ds', 'es', 'ss', 'fs', 'gs', 'bnd', 'notrack', 'xacquire', 'xrelease']);

/** objdump prints prefixes it considers unused (a REX before a legacy prefix, a 15th 66) on lines of their own. */
function prefixOnly(text: string): boolean {
  return text !== '' && text.split(/\s+/).every((w) => PREFIX_WORDS.has(w) || /^rex(\.[WRXB]+)?$/.test(w));
}

/** The instruction objdump decoded at `addr`, prefix-only lines merged into it. */
function insnAt(lines: Map<number, Line>, addr: number): Line | null {
  let len = 0;
  const words: string[] = [];
  for (;;) {
    const l = lines.get(addr + len);
    if (l === undefined) return null;
    len += l.len;
    words.push(l.text);
    if (!prefixOnly(l.text) || len > WINDOW) return { len, text: words.join(' ') };
  }
}

/** A hex number as objdump prints it (maybe negative), reduced modulo 2^bits. */
function bitsOf(s: string, bits: number): bigint {
  const neg = s.startsWith('-');
  const v = BigInt(neg ? s.slice(1) : s);
  return BigInt.asUintN(bits, neg ? -v : v);
}

function u(v: number, bits: number): bigint {
  return BigInt.asUintN(bits, BigInt(v));
}

const REG64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];

function regName(n: number, addrSize: number): string {
  return n < 0 ? '' : (addrSize === 8 ? REG64 : addrSize === 4 ? REG32 : REG16)[n];
}

const PREFIX_BYTES = new Set(LEGACY);

/** A REX that another prefix follows comes after legacy prefixes (objdump then forgets them). */
function legacyBeforeStaleRex(bytes: Uint8Array, at: number): boolean {
  let legacy = false;
  for (let i = at; i < at + WINDOW - 1; i++) {
    const b = bytes[i];
    const next = bytes[i + 1];
    if ((b & 0xf0) === 0x40) {
      if (!PREFIX_BYTES.has(next) && (next & 0xf0) !== 0x40) return false;
      if (legacy) return true;
    } else if (PREFIX_BYTES.has(b)) legacy = true;
    else return false;
  }
  return false;
}

/** Instructions whose immediate objdump may fold into the mnemonic (cmpeqps, pclmullqlqdq). */
const IMM_IN_MNEMONIC = new Set([0x1c2, 0x344]);

/** Relative branches, whose immediate objdump shows as the target address. */
function isRelBranch(op: number): boolean {
  return (op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3) || op === 0xe8 || op === 0xe9 || op === 0xeb || (op >= 0x180 && op <= 0x18f);
}

interface Tally {
  compared: number;
  bad: number;
  ourUd: Map<number, number>;
  tooLong: number;
  objdumpQuirk: number;
  memChecked: number;
  immChecked: number;
  branchChecked: number;
}

/** Differences between our record and objdump's text for the instruction at `addr`; '' if none. */
function differences(d: DecodedInsn, o: Line, addr: number, t: Tally): string {
  if (o.len !== d.len) return `length ${d.len}, objdump ${o.len}`;
  const text = o.text;
  const width = d.bits === 64 ? 64 : 32;
  // MPX (BND*, hint NOPs to this CPU) addresses with 64 bits whatever 0x67 says.
  if (d.hasModrm && d.mod !== 3 && !text.includes('%bnd')) {
    const mem = /(?:%[a-z]s:)?(-?0x[0-9a-f]+)?\((%[a-z0-9]+)?(?:,%([a-z0-9]+))?(?:,([1248]))?\)/.exec(text);
    const abs = /(?<![$\w])(?:%[a-z]s:)?\*?(-?0x[0-9a-f]+)(?![0-9a-fx(])/.exec(text);
    let base = '';
    let index = '';
    let scale = 1;
    let disp: bigint;
    if (mem !== null) {
      base = (mem[2] ?? '').slice(1);
      index = mem[3] ?? '';
      if (index === 'eiz' || index === 'riz') index = '';
      scale = mem[4] !== undefined ? Number(mem[4]) : 1;
      disp = mem[1] !== undefined ? bitsOf(mem[1], 32) : 0n;
    } else if (abs !== null) disp = bitsOf(abs[1], 32);
    else return `no memory operand in objdump's "${text}"`;
    const wantBase = d.ripRel ? (d.addrSize === 8 ? 'rip' : 'eip') : regName(d.base, d.addrSize);
    const wantIndex = regName(d.index, d.addrSize);
    const dispBits = d.addrSize === 2 ? 16 : 32;
    if (base !== wantBase || index !== wantIndex || (index !== '' && scale !== 1 << d.scale) || BigInt.asUintN(dispBits, disp) !== u(d.disp, dispBits)) {
      return `memory operand base=${wantBase} index=${wantIndex} scale=${1 << d.scale} disp=${d.disp}, objdump "${text}"`;
    }
    t.memChecked++;
  }
  const kind = immKind(d.attrs);
  if (kind === Imm.None) return '';
  if (isRelBranch(d.op)) {
    const target = /\s(0x[0-9a-f]+)$/.exec(text);
    if (target === null) return `no branch target in objdump's "${text}"`;
    const rel = kind === Imm.Ib ? (d.imm << 24) >> 24 : d.opSize === 2 ? (d.imm << 16) >> 16 : d.imm;
    const bits = d.opSize === 2 ? 16 : width;
    if (bitsOf(target[1], bits) !== u(addr + d.len + rel, bits)) return `branch displacement ${rel}, objdump "${text}"`;
    t.branchChecked++;
    return '';
  }
  if (kind === Imm.Moffs) {
    const abs = /(?<![$\w])(?:%[a-z]s:)?(0x[0-9a-f]+)/.exec(text);
    const want = (BigInt(d.immHi >>> 0) << 32n) | BigInt(d.imm >>> 0);
    if (abs === null || bitsOf(abs[1], d.addrSize * 8) !== BigInt.asUintN(d.addrSize * 8, want)) return `offset ${want}, objdump "${text}"`;
    t.immChecked++;
    return '';
  }
  const shown = [...text.matchAll(/\$(-?0x[0-9a-f]+)/g)].map((m) => m[1]);
  if (shown.length === 0 && IMM_IN_MNEMONIC.has(d.op)) return '';
  let want: [number, number][]; // value, bits
  switch (kind) {
    case Imm.Ib:
      want = [[d.imm, 8]];
      break;
    case Imm.Iw:
      want = [[d.imm, 16]];
      break;
    case Imm.IwIb:
      want = [
        [d.imm, 16],
        [d.imm2, 8],
      ];
      break;
    case Imm.Ap:
      want = [
        [d.imm2, 16],
        [d.imm, d.opSize * 8],
      ];
      break;
    default: // Iz, Iv
      want = [[d.imm, d.opSize === 2 ? 16 : 32]];
  }
  if (kind === Imm.Iv && d.opSize === 8) {
    const v = (BigInt(d.immHi >>> 0) << 32n) | BigInt(d.imm >>> 0);
    if (shown.length !== 1 || bitsOf(shown[0], 64) !== v) return `imm64 ${v}, objdump "${text}"`;
  } else {
    if (shown.length !== want.length) return `${want.length} immediate(s), objdump "${text}"`;
    for (let i = 0; i < want.length; i++) {
      const [v, bits] = want[i];
      if (bitsOf(shown[i], bits) !== u(v, bits)) return `immediate ${v}, objdump "${text}"`;
    }
  }
  t.immChecked++;
  return '';
}

function hex(bytes: ArrayLike<number>, n: number): string {
  return Array.from({ length: n }, (_, i) => bytes[i].toString(16).padStart(2, '0')).join(' ');
}

function opName(op: number): string {
  return (op >> 8 === 0 ? '' : ['', '0f ', '0f38 ', '0f3a '][op >> 8]) + (op & 0xff).toString(16).padStart(2, '0');
}

if (OBJDUMP === null) {
  const why = 'objdump (GNU binutils) not found';
  console.warn(`\n*** decoder vs objdump: SKIPPED: ${why} ***\n`);
  describe('decoder vs objdump', () => {
    it(`SKIPPED: ${why}`, (ctx) => {
      console.warn(`*** decoder vs objdump: SKIPPED: ${why} ***`);
      ctx.skip();
    });
  });
} else {
  describe(`decoder vs objdump (${OBJDUMP})`, () => {
    const seed = (Math.random() * 0x100000000) >>> 0;
    for (const bits of [16, 32, 64] as const) {
      it(`${bits}-bit code: ${CASES_PER_MODE} random instructions have objdump's length, operands and immediates`, () => {
        const rng = new Rng(seed ^ bits);
        const image = new Uint8Array(CASES_PER_MODE * STRIDE).fill(0x90);
        for (let i = 0; i < CASES_PER_MODE; i++) image.set(generate(rng, bits), i * STRIDE);
        const lines = runObjdump(bits, image);
        const decoder = new X86Decoder();
        const reader = new BufferReader(image);
        const d = new DecodedInsn();
        const t: Tally = { compared: 0, bad: 0, ourUd: new Map(), tooLong: 0, objdumpQuirk: 0, memChecked: 0, immChecked: 0, branchChecked: 0 };
        const failures: string[] = [];
        for (let i = 0; i < CASES_PER_MODE; i++) {
          const addr = i * STRIDE;
          const status = decoder.decode(reader.at(addr, addr + WINDOW), bits, d);
          const o = insnAt(lines, addr);
          if (o === null) {
            failures.push(`${hex(image.subarray(addr), WINDOW)}: objdump out of step (no instruction starts here)`);
            continue;
          }
          if (status === DecodeStatus.TooLong) {
            t.tooLong++;
            continue;
          }
          expect(status).not.toBe(DecodeStatus.Truncated);
          if (status === DecodeStatus.Invalid) {
            t.ourUd.set(d.op, (t.ourUd.get(d.op) ?? 0) + 1);
            continue;
          }
          if (o.text.includes('(bad)')) {
            t.bad++;
            continue;
          }
          if ((bits === 64 && legacyBeforeStaleRex(image, addr)) || (d.op === 0x9b && o.len > d.len)) {
            t.objdumpQuirk++;
            continue;
          }
          t.compared++;
          const diff = differences(d, o, addr, t);
          if (diff !== '') failures.push(`${hex(image.subarray(addr), Math.max(d.len, o.len))}: ${diff}`);
        }
        const topUd = [...t.ourUd.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 12)
          .map(([op, n]) => `${opName(op)}×${n}`)
          .join(' ');
        console.info(
          `${bits}-bit vs objdump (seed ${seed}): ${t.compared} of ${CASES_PER_MODE} compared (${t.memChecked} memory operands, ${t.immChecked} immediates, ${t.branchChecked} branch targets); ` +
            `excluded: ${t.bad} objdump "(bad)", ${[...t.ourUd.values()].reduce((a, b) => a + b, 0)} our #UD (${topUd} ...), ${t.tooLong} over 15 bytes, ${t.objdumpQuirk} stale-REX/FWAIT quirks`,
        );
        expect(failures.slice(0, 30), `seed ${seed}: ${failures.length} differences`).toEqual([]);
        // The comparison must cover most cases, or the exclusions hide the decoder.
        expect(t.compared).toBeGreaterThan(CASES_PER_MODE / 2);
      });
    }
  });
}
