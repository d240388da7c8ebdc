/**
 * Test support: run x87/MMX instructions on the host CPU and on the emulated unit from
 * the same starting state, for differential tests (fpu-oracle.test.ts).
 *
 * The native side is a tiny 32-bit C program (built with `gcc -m32` into a temp
 * directory on first use). For each case it FRSTORs a 108-byte protected-mode image,
 * loads EAX/EFLAGS, executes the instruction bytes with ECX pointing at a 128-byte memory
 * operand, then FNSAVEs the state (FNSAVE does not wait, so unmasked exceptions are
 * captured rather than trapped). A case that traps anyway (SIGFPE) is reported.
 *
 * Memory operands must be encoded with mod=00, rm=001 ([ecx]); the emulated side maps
 * the same 128 bytes at MEM_BASE.
 */

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FpuHost, FpuInstructionInfo } from '../../../emulator-core/cpu/fpu-host.js';
import type { FpuState } from '../../../emulator-core/cpu/state.js';
import { FPU_OUT_AX, FPU_OUT_EFLAGS, FPU_OUT_GPR, Fpu } from '../../../emulator-core/cpu/fpu.js';

export const IMG_SIZE = 108;
export const MEM_SIZE = 128;
const CODE_SIZE = 16;
const IN_RECORD = CODE_SIZE + IMG_SIZE + MEM_SIZE + 8;
const OUT_RECORD = IMG_SIZE + MEM_SIZE + 8;
export const MEM_BASE = 0x10000;

const HARNESS_C = String.raw`
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <setjmp.h>
#include <sys/mman.h>
static unsigned char img_in[108], mem[128], img_out[108];
static unsigned eflags_in, eax_in, eax_out, eflags_out;
static sigjmp_buf jb;
static void onfpe(int s) { (void)s; siglongjmp(jb, 1); }
static void put32(unsigned char *p, unsigned v) { memcpy(p, &v, 4); }
int main(void) {
  unsigned char *code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned char rec[16 + 108 + 128 + 8];
  if (code == MAP_FAILED) { perror("mmap"); return 2; }
  signal(SIGFPE, onfpe);
  while (fread(rec, sizeof rec, 1, stdin) == 1) {
    unsigned char *p = code;
    memcpy(img_in, rec + 16, 108);
    memcpy(mem, rec + 124, 128);
    memcpy(&eflags_in, rec + 252, 4);
    memcpy(&eax_in, rec + 256, 4);
    *p++ = 0x60;                                                       /* pushad */
    *p++ = 0xDD; *p++ = 0x25; put32(p, (unsigned)img_in); p += 4;      /* frstor [img_in] */
    *p++ = 0xB9; put32(p, (unsigned)mem); p += 4;                      /* mov ecx, mem */
    *p++ = 0xA1; put32(p, (unsigned)&eax_in); p += 4;                  /* mov eax, [eax_in] */
    *p++ = 0xFF; *p++ = 0x35; put32(p, (unsigned)&eflags_in); p += 4;  /* push dword [eflags_in] */
    *p++ = 0x9D;                                                       /* popfd */
    memcpy(p, rec + 1, rec[0]); p += rec[0];                           /* the instruction */
    *p++ = 0x9C;                                                       /* pushfd */
    *p++ = 0x8F; *p++ = 0x05; put32(p, (unsigned)&eflags_out); p += 4; /* pop dword [eflags_out] */
    *p++ = 0xA3; put32(p, (unsigned)&eax_out); p += 4;                 /* mov [eax_out], eax */
    *p++ = 0xDD; *p++ = 0x35; put32(p, (unsigned)img_out); p += 4;     /* fnsave [img_out] */
    *p++ = 0x61; *p++ = 0xC3;                                          /* popad; ret */
    if (sigsetjmp(jb, 1)) {
      __asm__ volatile("fninit");
      memset(img_out, 0, 108); eax_out = 0; eflags_out = 0xFFFFFFFFu;
    } else {
      ((void (*)(void))code)();
    }
    fwrite(img_out, 108, 1, stdout);
    fwrite(mem, 128, 1, stdout);
    fwrite(&eax_out, 4, 1, stdout);
    fwrite(&eflags_out, 4, 1, stdout);
  }
  return 0;
}
`;

export interface OracleCase {
  /** Instruction bytes (at most 15). */
  code: readonly number[];
  /** 108-byte FSAVE image (32-bit protected-mode layout). No unmasked flag may be set. */
  img: Uint8Array;
  /** 128 bytes addressed by [ecx]. */
  mem: Uint8Array;
  eflags: number;
  eax: number;
}

export interface OracleResult {
  img: Uint8Array;
  mem: Uint8Array;
  eax: number;
  eflags: number;
  /** The instruction raised a fault (native: SIGFPE; emulated: an exception thrown). */
  trapped: boolean;
}

/** The compiled native harness, or why there is none (not built, or the host cannot run it). */
export function buildNativeOracle(): { path: string } | { reason: string } {
  const built = buildHarness();
  if ('reason' in built) return built;
  // A 64-bit kernel without IA-32 support (or a hypervisor without compatibility mode) builds
  // the harness but cannot run it: an empty batch tells.
  const probe = spawnSync(built.path, { input: Buffer.alloc(0) });
  if (probe.error !== undefined || probe.status !== 0) {
    const why = probe.error?.message ?? (probe.stderr.toString().trim().split('\n')[0] || `exit status ${probe.status}`);
    return { reason: `the 32-bit harness does not run on this host (no i386 support in this kernel?): ${why}` };
  }
  return built;
}

function buildHarness(): { path: string } | { reason: string } {
  const hash = createHash('sha256').update(HARNESS_C).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `terrarium-fpu-oracle-${hash}`);
  const exe = join(dir, 'harness');
  if (existsSync(exe)) return { path: exe };
  if (process.arch !== 'x64' && process.arch !== 'ia32') return { reason: `host is ${process.arch}, not x86` };
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'harness.c');
  writeFileSync(src, HARNESS_C);
  const r = spawnSync('gcc', ['-m32', '-O1', '-o', exe + '.tmp', src], { encoding: 'utf8' });
  if (r.error) return { reason: `gcc not runnable: ${r.error.message}` };
  if (r.status !== 0) return { reason: `gcc -m32 failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}` };
  const mv = spawnSync('mv', [exe + '.tmp', exe]);
  if (mv.status !== 0) return { reason: 'could not install the harness binary' };
  return { path: exe };
}

export function runNative(exe: string, cases: readonly OracleCase[]): OracleResult[] {
  const input = Buffer.alloc(IN_RECORD * cases.length);
  cases.forEach((c, k) => {
    const o = k * IN_RECORD;
    input[o] = c.code.length;
    Buffer.from(c.code).copy(input, o + 1);
    Buffer.from(c.img).copy(input, o + CODE_SIZE);
    Buffer.from(c.mem).copy(input, o + CODE_SIZE + IMG_SIZE);
    input.writeUInt32LE(c.eflags >>> 0, o + CODE_SIZE + IMG_SIZE + MEM_SIZE);
    input.writeUInt32LE(c.eax >>> 0, o + CODE_SIZE + IMG_SIZE + MEM_SIZE + 4);
  });
  const r = spawnSync(exe, { input, maxBuffer: OUT_RECORD * cases.length + 1024 });
  if (r.status !== 0 || r.stdout.length !== OUT_RECORD * cases.length) {
    throw new Error(`native oracle failed (status ${r.status}, ${r.stdout?.length ?? 0} bytes)`);
  }
  const out: OracleResult[] = [];
  for (let k = 0; k < cases.length; k++) {
    const o = k * OUT_RECORD;
    const eflags = r.stdout.readUInt32LE(o + IMG_SIZE + MEM_SIZE + 4);
    out.push({
      img: new Uint8Array(r.stdout.subarray(o, o + IMG_SIZE)),
      mem: new Uint8Array(r.stdout.subarray(o + IMG_SIZE, o + IMG_SIZE + MEM_SIZE)),
      eax: r.stdout.readUInt32LE(o + IMG_SIZE + MEM_SIZE),
      eflags,
      trapped: eflags === 0xffffffff,
    });
  }
  return out;
}

/** A flat-memory FpuHost over `mem` at MEM_BASE; faults throw. */
export class TestHost implements FpuHost {
  fpuErrors = 0;
  constructor(
    readonly mem: Uint8Array,
    readonly base = MEM_BASE,
  ) {}
  private at(lin: number, n: number): number {
    const o = lin - this.base;
    if (o < 0 || o + n > this.mem.length) throw new Error(`test host: access ${lin.toString(16)}+${n} out of range`);
    return o;
  }
  readLin8(lin: number): number {
    return this.mem[this.at(lin, 1)];
  }
  readLin16(lin: number): number {
    const o = this.at(lin, 2);
    return this.mem[o] | (this.mem[o + 1] << 8);
  }
  readLin32(lin: number): number {
    const o = this.at(lin, 4);
    return this.mem[o] | (this.mem[o + 1] << 8) | (this.mem[o + 2] << 16) | (this.mem[o + 3] << 24);
  }
  writeLin8(lin: number, v: number): void {
    this.mem[this.at(lin, 1)] = v;
  }
  writeLin16(lin: number, v: number): void {
    const o = this.at(lin, 2);
    this.mem[o] = v;
    this.mem[o + 1] = v >> 8;
  }
  writeLin32(lin: number, v: number): void {
    const o = this.at(lin, 4);
    for (let i = 0; i < 4; i++) this.mem[o + i] = v >>> (8 * i);
  }
  checkWritable(lin: number, length: number): void {
    this.at(lin, length);
  }
  fpuError(): void {
    this.fpuErrors++;
    throw new Error('#MF');
  }
  undefinedOpcode(): never {
    throw new Error('#UD');
  }
}

function hex(bytes: Uint8Array, from: number, len: number): string {
  let s = '';
  for (let i = len - 1; i >= 0; i--) s += bytes[from + i].toString(16).padStart(2, '0');
  return s;
}

/** FpuState from a 32-bit protected-mode FSAVE image. */
export function stateFromImage(img: Uint8Array): FpuState {
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const status = dv.getUint16(4, true);
  const top = (status >> 11) & 7;
  const regs: string[] = new Array<string>(8);
  for (let i = 0; i < 8; i++) regs[(top + i) & 7] = hex(img, 28 + 10 * i, 10);
  return {
    control: dv.getUint16(0, true),
    status,
    tag: dv.getUint16(8, true),
    ip: dv.getUint32(12, true),
    cs: dv.getUint16(16, true),
    opcode: dv.getUint16(18, true) & 0x7ff,
    dp: dv.getUint32(20, true),
    ds: dv.getUint16(24, true),
    regs,
  };
}

/** A 32-bit protected-mode FSAVE image of an FpuState. */
export function imageFromState(s: FpuState): Uint8Array {
  const img = new Uint8Array(IMG_SIZE);
  const dv = new DataView(img.buffer);
  dv.setUint32(0, (0xffff0000 | s.control) >>> 0, true);
  dv.setUint32(4, (0xffff0000 | s.status) >>> 0, true);
  dv.setUint32(8, (0xffff0000 | s.tag) >>> 0, true);
  dv.setUint32(12, s.ip >>> 0, true);
  dv.setUint32(16, (s.cs | (s.opcode << 16)) >>> 0, true);
  dv.setUint32(20, s.dp >>> 0, true);
  dv.setUint32(24, (0xffff0000 | s.ds) >>> 0, true);
  const top = (s.status >> 11) & 7;
  for (let i = 0; i < 8; i++) {
    const r = s.regs[(top + i) & 7];
    for (let b = 0; b < 10; b++) img[28 + 10 * i + b] = parseInt(r.slice(18 - 2 * b, 20 - 2 * b), 16);
  }
  return img;
}

/** Run one case on the emulated unit. */
export function runEmulated(c: OracleCase): OracleResult {
  const mem = new Uint8Array(c.mem);
  const host = new TestHost(mem);
  const fpu = new Fpu(host);
  fpu.restore(stateFromImage(c.img));
  let k = 0;
  let operand32 = true;
  if (c.code[k] === 0x66) {
    operand32 = false;
    k++;
  }
  let eax = c.eax >>> 0;
  let eflags = c.eflags >>> 0;
  let trapped = false;
  try {
    if (c.code[k] === 0x0f) {
      const op2 = c.code[k + 1];
      const modrm = c.code[k + 2];
      const imm = c.code[k + 3] ?? 0;
      // MOVD with a register operand: these tests use EAX (rm=0).
      const r = fpu.execMmx(op2, modrm, MEM_BASE, imm, c.eax, 0, false);
      if (r & FPU_OUT_GPR) eax = fpu.out.gprLo >>> 0;
    } else {
      const info: FpuInstructionInfo = { ip: 0, cs: 0, dp: 0, ds: 0, operand32, realMode: false };
      const r = fpu.exec(c.code[k], c.code[k + 1], MEM_BASE, info, eflags);
      if (r & FPU_OUT_AX) eax = ((eax & 0xffff0000) | fpu.out.ax) >>> 0;
      if (r & FPU_OUT_EFLAGS) eflags = fpu.out.eflags >>> 0;
    }
  } catch {
    trapped = true;
  }
  const img = imageFromState(fpu.save());
  return { img, mem, eax, eflags, trapped };
}

/** Fields compared between native and emulated results. */
export interface Diff {
  field: string;
  native: string;
  emulated: string;
}

export interface CompareOptions {
  /** Accept this many units of difference in the last place of differing registers. */
  ulpTolerance?: number;
  /** Ignore C1 (transcendentals: our rounding direction may differ). */
  ignoreC1?: boolean;
}

/**
 * Position of a finite normal or zero value on the number line, in units in the last place
 * (consecutive representable values differ by 1), or null for other classes.
 */
function ordinal(h: string): bigint | null {
  const se = parseInt(h.slice(0, 4), 16);
  const sig = BigInt('0x' + h.slice(4));
  const exp = se & 0x7fff;
  if (exp === 0x7fff || (exp !== 0 && sig >> 63n === 0n)) return null;
  const mag = exp === 0 ? sig : (BigInt(exp) << 63n) + (sig & ((1n << 63n) - 1n));
  return se & 0x8000 ? -mag : mag;
}

/** Compare two results: CW, SW, TW, registers, memory, EAX, arithmetic EFLAGS. */
export function compareResults(n: OracleResult, e: OracleResult, opts: CompareOptions = {}): Diff[] {
  const diffs: Diff[] = [];
  if (n.trapped || e.trapped) {
    if (n.trapped !== e.trapped) diffs.push({ field: 'trap', native: String(n.trapped), emulated: String(e.trapped) });
    return diffs;
  }
  const h16 = (img: Uint8Array, o: number): string => hex(img, o, 2);
  const word = (name: string, o: number, mask = 0xffff): void => {
    const a = (n.img[o] | (n.img[o + 1] << 8)) & mask;
    const b = (e.img[o] | (e.img[o + 1] << 8)) & mask;
    if (a !== b) diffs.push({ field: name, native: h16(n.img, o), emulated: h16(e.img, o) });
  };
  word('cw', 0);
  word('sw', 4, opts.ignoreC1 ? 0xfdff : 0xffff);
  word('tw', 8);
  for (let i = 0; i < 8; i++) {
    const a = hex(n.img, 28 + 10 * i, 10);
    const b = hex(e.img, 28 + 10 * i, 10);
    if (a === b) continue;
    if (opts.ulpTolerance !== undefined) {
      const oa = ordinal(a);
      const ob = ordinal(b);
      if (oa !== null && ob !== null) {
        const d = oa - ob;
        if ((d < 0n ? -d : d) <= BigInt(opts.ulpTolerance)) continue;
      }
    }
    diffs.push({ field: `st${i}`, native: a, emulated: b });
  }
  for (let i = 0; i < MEM_SIZE; i++) {
    if (n.mem[i] !== e.mem[i]) {
      diffs.push({ field: 'mem', native: hex(n.mem, 0, 16), emulated: hex(e.mem, 0, 16) });
      break;
    }
  }
  if (n.eax !== e.eax) diffs.push({ field: 'eax', native: n.eax.toString(16), emulated: e.eax.toString(16) });
  const fl = 0x8d5;
  if ((n.eflags & fl) !== (e.eflags & fl)) {
    diffs.push({ field: 'eflags', native: (n.eflags & fl).toString(16), emulated: (e.eflags & fl).toString(16) });
  }
  return diffs;
}

/** Readable one-line description of a case's starting state and instruction. */
export function describeCase(c: OracleCase): string {
  const s = stateFromImage(c.img);
  const top = (s.status >> 11) & 7;
  const st: string[] = [];
  for (let i = 0; i < 8; i++) {
    const p = (top + i) & 7;
    const empty = ((s.tag >> (2 * p)) & 3) === 3;
    st.push(`${empty ? '(' : ''}${s.regs[p].slice(0, 4)}:${s.regs[p].slice(4)}${empty ? ')' : ''}`);
  }
  const code = c.code.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `[${code}] cw=${s.control.toString(16)} sw=${s.status.toString(16)} efl=${c.eflags.toString(16)} mem=${hex(c.mem, 0, 10)} st=${st.join(' ')}`;
}
