/**
 * 64-bit differential tests: one batch of cases is assembled by nasm at CODE (one case per
 * CASE_STRIDE bytes), run natively by harness64.c (built with plain gcc on this x86-64
 * host) and on Terrarium's 64-bit executor in the same address layout (CPL 3, 4-level
 * paging with the same permissions, NX on data), and compared: 16 registers, RIP, the
 * defined flags, exception vector, error code and CR2, the data and stack regions.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IoBus } from '../../../emulator-core/bus/io-bus.js';
import { ManualClock } from '../../../emulator-core/machine/clock.js';
import { GuestMemory } from '../../../emulator-core/memory/guest-memory.js';
import { AR_G, AR_L, AR_P, AR_S, AR_UNUSABLE, AR_DB, CR4_OSFXSR, CR4_OSXMMEXCPT, CS, DS, ES, FS, GS, SS, TR } from '../../../emulator-core/cpu/constants.js';
import { Cpu, FAULT } from '../../../emulator-core/cpu/cpu.js';
import { step64 } from '../../../emulator-core/cpu/long/exec64.js';
import { nasmAvailable } from '../../support/nasm.js';
import { describeMxcsr } from '../sse-state.js';
import { FXSAVE_UNDEFINED } from '../masks.js';
import { a32RepRcxHighComparable, fxsaveFaultCr2Comparable, fxsaveVendorMasked, hostCpuVendor, MODELLED_VENDOR, vendorMaskNotice } from '../vendor.js';

export const CODE = 0x10000000;
export const CASE_STRIDE = 0x400;
export const DATA = 0x20000000;
export const DATA_SIZE = 0x2000;
export const STACK = 0x30000000;
export const STACK_SIZE = 0x1000;
/** Physical placement on Terrarium. */
const CODE_PHYS = 0x100000;
const DATA_PHYS = 0x400000;
const STACK_PHYS = 0x410000;
const MAX_CASES = 512;
/** struct result (21 u64, u32 sse_valid, u32 mxcsr, XMM0-15), then the data and stack regions. */
const SSE_OFFSET = 21 * 8;
const HEAD_BYTES = SSE_OFFSET + 8 + 256;
const RESULT_BYTES = HEAD_BYTES + DATA_SIZE + STACK_SIZE;
/** Where XMM0-15 are loaded from when a case gives no values: the last 256 bytes of its data fill. */
const XMM_FILL_OFFSET = DATA_SIZE - 256;
export const MXCSR_DEFAULT = 0x1f80;

export interface Case64 {
  family: string;
  /** Body assembly (after the register set-up, before INT3). */
  body: string;
  /** Initial RAX..R15 (RSP is set by the harness layout) and RFLAGS. */
  regs: bigint[];
  rflags: number;
  /** Flags (CF PF AF ZF SF OF DF) the SDM defines after the body; others are not compared. */
  flagMask: number;
  /** Initial XMM0-15 (256 bytes, embedded in the case's code); default: the data fill's last 256 bytes. */
  xmm?: Uint8Array;
  /** Initial MXCSR (default 0x1F80). */
  mxcsr?: number;
  /** XMM register -> 128-bit mask of bits the SDM leaves undefined after the body. */
  xmmUndefined?: Partial<Record<number, bigint>>;
  /** MXCSR bits the SDM leaves undefined after the body. */
  mxcsrUndefined?: number;
  /** Data-region offsets of FXSAVE images the body stores (model/vendor-specific bytes not compared). */
  fxsaveImages?: number[];
}

export interface Outcome64 {
  gpr: bigint[];
  rip: bigint;
  rflags: number;
  /** Exception vector, or -1 when the case reached its INT3. */
  vector: number;
  errorCode: number;
  cr2: bigint;
  /** XMM0-15 (256 bytes), or null if the host's signal frame had no FXSAVE data. */
  xmm: Uint8Array | null;
  mxcsr: number;
  data: Uint8Array;
  stack: Uint8Array;
}

export const RSP_INIT = BigInt(STACK + 0x800);

/** The initial contents of the data/stack regions for case `i` (same as harness64.c fill). */
export function fillRegion(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (Math.imul(seed, 2654435761) + 12345) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = (x >>> 16) & 0xff;
  }
  return out;
}

const REGS64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/**
 * The SSE part of a case's prologue: MXCSR, then XMM0-15 from the case's own values
 * (embedded in the code) or from the end of the data fill (RIP-relative either way).
 */
function ssePrologue(k: Case64): string[] {
  const out = ['jmp .dt_sse_go', '.dt_mxcsr:', `dd 0x${((k.mxcsr ?? MXCSR_DEFAULT) >>> 0).toString(16)}`];
  let from = `0x${(DATA + XMM_FILL_OFFSET).toString(16)}`;
  if (k.xmm !== undefined) {
    if (k.xmm.length !== 256) throw new Error(`${k.family}: xmm must be 256 bytes (XMM0-15)`);
    out.push('.dt_xmm:', `db ${[...k.xmm].map((b) => `0x${b.toString(16)}`).join(',')}`);
    from = '.dt_xmm';
  }
  out.push('.dt_sse_go:', 'ldmxcsr [rel .dt_mxcsr]');
  for (let r = 0; r < 16; r++) out.push(`movdqu xmm${r}, [rel ${from} + ${r * 16}]`);
  return out;
}

export function batchSource(cases: Case64[]): string {
  const out: string[] = ['bits 64', `org ${CODE}`];
  cases.forEach((k, i) => {
    out.push(`align ${CASE_STRIDE}, db 0xcc`, `case_${i}:`, ...ssePrologue(k), `mov rsp, ${RSP_INIT}`, `push ${k.rflags}`, 'popfq');
    for (let r = 0; r < 16; r++) if (r !== 4) out.push(`mov ${REGS64[r]}, 0x${BigInt.asUintN(64, k.regs[r]).toString(16)}`);
    out.push(k.body, 'int3', `%if $ - case_${i} > ${CASE_STRIDE}`, `%error case ${i} is too long`, '%endif');
  });
  out.push(`align ${CASE_STRIDE}, db 0xcc`);
  return out.join('\n') + '\n';
}

// ------------------------------------------------------------------ native

const HERE = dirname(fileURLToPath(import.meta.url));
const CACHE_DIR = join(HERE, '..', '..', 'fixtures', 'out', 'difftest');

export type Native64Status = { ok: true; harness: string } | { ok: false; reason: string };
let status: Native64Status | null = null;

export function native64Status(): Native64Status {
  if (status !== null) return status;
  if (process.arch !== 'x64' || process.platform !== 'linux') return (status = { ok: false, reason: 'the host is not x86-64 Linux' });
  if (!nasmAvailable()) return (status = { ok: false, reason: 'nasm is not installed' });
  const source = join(HERE, 'harness64.c');
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const out = join(CACHE_DIR, `harness64-${hash}`);
  if (!existsSync(out)) {
    try {
      mkdirSync(CACHE_DIR, { recursive: true });
      const tmp = `${out}.${process.pid}.tmp`;
      execFileSync('gcc', ['-O1', '-o', tmp, source], { stdio: ['ignore', 'ignore', 'pipe'] });
      renameSync(tmp, out);
    } catch (e) {
      return (status = { ok: false, reason: `cannot build the 64-bit native harness with gcc: ${String((e as Error).message).split('\n')[0]}` });
    }
  }
  return (status = { ok: true, harness: out });
}

function u64(view: DataView, off: number): bigint {
  return view.getBigUint64(off, true);
}

export function assembleBatch(cases: Case64[]): Uint8Array {
  if (cases.length > MAX_CASES) throw new Error(`at most ${MAX_CASES} cases per batch`);
  const dir = mkdtempSync(join(tmpdir(), 'terrarium-difftest64-'));
  try {
    writeFileSync(join(dir, 'b.asm'), batchSource(cases));
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'b.bin'), join(dir, 'b.asm')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const bin = new Uint8Array(readFileSync(join(dir, 'b.bin')));
    if (bin.length !== cases.length * CASE_STRIDE) throw new Error('batch layout is wrong');
    return bin;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function runNative(harness: string, bin: Uint8Array, count: number): Outcome64[] {
  const dir = mkdtempSync(join(tmpdir(), 'terrarium-difftest64-'));
  try {
    writeFileSync(join(dir, 'b.bin'), bin);
    const out = execFileSync(harness, [join(dir, 'b.bin'), String(count)], { maxBuffer: 64 << 20 });
    const res: Outcome64[] = [];
    for (let i = 0; i < count; i++) {
      const base = i * RESULT_BYTES;
      const view = new DataView(out.buffer, out.byteOffset + base, RESULT_BYTES);
      const gpr: bigint[] = [];
      for (let r = 0; r < 16; r++) gpr.push(u64(view, r * 8));
      const trap = Number(u64(view, 18 * 8));
      let rip = u64(view, 16 * 8);
      if (trap === 3) rip -= 1n; // INT3 reports the next instruction
      res.push({
        gpr,
        rip,
        rflags: Number(u64(view, 17 * 8) & 0xffffffffn),
        vector: trap === 3 ? -1 : trap,
        errorCode: trap === 3 ? 0 : Number(u64(view, 19 * 8)),
        cr2: trap === 14 ? u64(view, 20 * 8) : 0n,
        xmm: view.getUint32(SSE_OFFSET, true) !== 0 ? new Uint8Array(out.buffer.slice(out.byteOffset + base + SSE_OFFSET + 8, out.byteOffset + base + HEAD_BYTES)) : null,
        mxcsr: view.getUint32(SSE_OFFSET + 4, true),
        data: new Uint8Array(out.buffer.slice(out.byteOffset + base + HEAD_BYTES, out.byteOffset + base + HEAD_BYTES + DATA_SIZE)),
        stack: new Uint8Array(out.buffer.slice(out.byteOffset + base + HEAD_BYTES + DATA_SIZE, out.byteOffset + base + HEAD_BYTES + DATA_SIZE + STACK_SIZE)),
      });
    }
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ Terrarium

const PTE_P = 1;
const PTE_RW = 2;
const PTE_US = 4;
/** The page table of linear 0-2 MiB, where only supervisor pages are mapped (identity). */
const SYSTEM_PT = 0x8000;
/** The 64-bit TSS (linear = physical, a supervisor page). */
export const TSS64 = 0x7000;
/** Linux's __USER_CS and __USER_DS in 64-bit mode. */
const USER_CS64 = 0x33;
const USER_DS64 = 0x2b;
/** Instructions a case may run before it counts as a runaway (stopped where it is). */
export const MAX_STEPS = 20000;

/** What runs a batch's cases on Terrarium: Long64Machine (the interpreter, stepped) or another run loop. */
export interface Machine64 {
  run(index: number): Outcome64;
}

/** A CPU at CPL 3 in 64-bit mode with the native harness's address layout. */
export class Long64Machine implements Machine64 {
  readonly mem = new GuestMemory(8 * 1024 * 1024);
  readonly cpu = new Cpu(this.mem, new IoBus(), { clock: new ManualClock() });

  constructor(code: Uint8Array) {
    const m = this.mem;
    m.u8.set(code, CODE_PHYS);
    // PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PTs at 0x4000 (code), 0x5000 (data), 0x6000 (stack).
    const w64 = (addr: number, lo: number, hi: number): void => {
      m.write32(addr, lo);
      m.write32(addr + 4, hi);
    };
    w64(0x1000, 0x2000 | PTE_P | PTE_RW | PTE_US, 0);
    w64(0x2000, 0x3000 | PTE_P | PTE_RW | PTE_US, 0);
    w64(0x3000 + ((CODE >>> 21) & 511) * 8, 0x4000 | PTE_P | PTE_RW | PTE_US, 0);
    w64(0x3000 + ((DATA >>> 21) & 511) * 8, 0x5000 | PTE_P | PTE_RW | PTE_US, 0);
    w64(0x3000 + ((STACK >>> 21) & 511) * 8, 0x6000 | PTE_P | PTE_RW | PTE_US, 0);
    for (let i = 0; i < code.length / 4096; i++) w64(0x4000 + i * 8, (CODE_PHYS + i * 4096) | PTE_P | PTE_US, 0);
    for (let i = 0; i < DATA_SIZE / 4096; i++) w64(0x5000 + i * 8, (DATA_PHYS + i * 4096) | PTE_P | PTE_RW | PTE_US, 0x80000000 | 0);
    w64(0x6000, STACK_PHYS | PTE_P | PTE_RW | PTE_US, 0x80000000 | 0);
    // The first 2 MiB hold supervisor pages only (mapSystemPage): the TSS, I/O bitmap offset past the limit.
    w64(0x3000, SYSTEM_PT | PTE_P | PTE_RW, 0);
    this.mapSystemPage(TSS64);
    m.write16(TSS64 + 0x66, 0x68);
    const c = this.cpu;
    c.cr0 = 0x80010033; // PG WP NE ET PE
    c.cr4 = 0x20 | CR4_OSFXSR | CR4_OSXMMEXCPT; // PAE; SSE with FXSAVE and #XM, as Linux sets
    c.sse.enabled = true;
    c.efer = 0xd01; // NXE LMA LME SCE
    c.cr3 = 0x1000;
    // A 64-bit TSS without an I/O bitmap (IN/OUT at CPL 3 raise #GP, as under Linux).
    c.segSel[TR] = 0x40;
    c.segBase[TR] = TSS64;
    c.segLimit[TR] = 0x67;
    c.segAccess[TR] = AR_P | 0xb;
    this.enterUserMode();
    c.flushTlb(true);
  }

  /**
   * Map the supervisor page at `linear` to the same physical address, writable: the TSS, or a
   * page between the page tables (0x1000-0x8FFF) and the code (CODE_PHYS).
   */
  protected mapSystemPage(linear: number): void {
    const free = linear === TSS64 || (linear > SYSTEM_PT && linear < CODE_PHYS);
    if (!free || (linear & 0xfff) !== 0) throw new Error(`no system page at 0x${linear.toString(16)}`);
    this.mem.write32(SYSTEM_PT + (linear >>> 12) * 8, linear | PTE_P | PTE_RW);
    this.mem.write32(SYSTEM_PT + (linear >>> 12) * 8 + 4, 0);
  }

  /** Flat CPL 3 in 64-bit mode, as Linux runs a 64-bit process (an interrupt delivered to ring 0 leaves it). */
  protected enterUserMode(): void {
    const c = this.cpu;
    const seg = (s: number, sel: number, access: number): void => {
      c.segSel[s] = sel;
      c.segBase[s] = 0;
      c.segLimit[s] = -1;
      c.segAccess[s] = access;
      c.updateSegCheck(s);
    };
    seg(CS, USER_CS64, AR_P | AR_S | 0xb | AR_L | AR_G | (3 << 5));
    for (const s of [SS, DS, ES]) seg(s, USER_DS64, AR_P | AR_S | 0x3 | AR_DB | AR_G | (3 << 5));
    seg(FS, 0, AR_UNUSABLE);
    seg(GS, 0, AR_UNUSABLE);
    c.cpl = 3;
    c.halted = false;
    c.irqInhibit = false;
    c.updateMode();
  }

  /** Put the CPU (CPL 3 at case `index`'s entry) and the data and stack regions in the case's initial state. */
  prepare(index: number): void {
    const c = this.cpu;
    const m = this.mem;
    m.u8.set(fillRegion(DATA_SIZE, index), DATA_PHYS);
    m.u8.set(fillRegion(STACK_SIZE, index + 77777), STACK_PHYS);
    this.enterUserMode();
    c.flushTlb(true);
    c.r32.fill(0);
    c.rh.fill(0);
    c.lm.ripHi = 0;
    c.ip = CODE + index * CASE_STRIDE;
    c.fetchSpan = -1;
    c.flags = 0x202;
    c.lazyMask = 0;
    c.sse.reset(); // the prologue loads MXCSR and XMM0-15
  }

  /** Step case `index` until the INT3 after its body (not run) or an exception (reported, not delivered). */
  run(index: number, maxSteps = MAX_STEPS): Outcome64 {
    const c = this.cpu;
    const m = this.mem;
    this.prepare(index);
    let vector = -1;
    let errorCode = 0;
    for (let n = 0; n < maxSteps; n++) {
      const off = (c.ip >>> 0) - CODE;
      if (c.lm.ripHi === 0 && off >= 0 && off < m.u8.length - CODE_PHYS && m.u8[CODE_PHYS + off] === 0xcc) break;
      try {
        step64(c);
      } catch (e) {
        if (e !== FAULT) throw e;
        c.ip = c.instrStart;
        c.lm.ripHi = c.lm.instrStartHi;
        vector = c.excVector;
        errorCode = c.excCode < 0 ? 0 : c.excCode;
        break;
      }
    }
    return this.outcome(vector, errorCode);
  }

  /** The CPU's registers, RIP, RFLAGS, XMM state and the data and stack regions as they stand, with the exception given (-1: none). */
  protected outcome(vector: number, errorCode: number): Outcome64 {
    const c = this.cpu;
    const m = this.mem;
    const gpr: bigint[] = [];
    for (let r = 0; r < 16; r++) gpr.push((BigInt(c.rh[r] >>> 0) << 32n) | BigInt(c.r32[r] >>> 0));
    return {
      gpr,
      rip: (BigInt(c.lm.ripHi >>> 0) << 32n) | BigInt(c.ip >>> 0),
      rflags: c.getEflags(),
      vector,
      errorCode,
      cr2: vector === 14 ? (BigInt(c.lm.cr2Hi >>> 0) << 32n) | BigInt(c.cr2 >>> 0) : 0n,
      xmm: c.sse.x.u8.slice(0, 256),
      mxcsr: c.sse.x.mxcsr >>> 0,
      data: m.u8.slice(DATA_PHYS, DATA_PHYS + DATA_SIZE),
      stack: m.u8.slice(STACK_PHYS, STACK_PHYS + STACK_SIZE),
    };
  }
}

const NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** FXSAVE/FXRSTOR (vendor.ts: fxsaveFaultCr2Comparable). */
const FXSAVE_FAMILY = /\bfx(save|rstor)/;

/** REP string instructions with a 32-bit address size (vendor.ts: a32RepRcxHighComparable). */
const A32_REP = /^a32 rep/;

function xmmValue(bytes: Uint8Array, r: number): bigint {
  let v = 0n;
  for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(bytes[r * 16 + i]);
  return v;
}

function xmmLanes(v: bigint): string {
  return v.toString(16).padStart(32, '0').replace(/(.{8})(?!$)/g, '$1_');
}

/** Differences between host and Terrarium for one case (empty: they agree). */
export function compare(k: Case64, host: Outcome64, ours: Outcome64, hostVendor = MODELLED_VENDOR): string[] {
  const d: string[] = [];
  const hex = (v: bigint): string => '0x' + v.toString(16);
  if (!a32RepRcxHighComparable(hostVendor) && A32_REP.test(k.body)) {
    const low = (v: bigint): bigint => v & 0xffff_ffffn;
    if (low(host.gpr[1]) !== low(ours.gpr[1])) d.push(`ecx: host ${hex(low(host.gpr[1]))} terrarium ${hex(low(ours.gpr[1]))}`);
    host = { ...host, gpr: host.gpr.map((v, r) => (r === 1 ? ours.gpr[1] : v)) };
  }
  if (host.vector !== ours.vector) d.push(`exception: host ${host.vector} terrarium ${ours.vector}`);
  else if (host.vector >= 0) {
    if (host.errorCode !== ours.errorCode) d.push(`error code: host ${host.errorCode.toString(16)} terrarium ${ours.errorCode.toString(16)}`);
    const cr2Comparable = fxsaveFaultCr2Comparable(hostVendor) || !FXSAVE_FAMILY.test(k.body);
    if (host.cr2 !== ours.cr2 && cr2Comparable) d.push(`cr2: host ${hex(host.cr2)} terrarium ${hex(ours.cr2)}`);
  }
  for (let r = 0; r < 16; r++) if (host.gpr[r] !== ours.gpr[r]) d.push(`${NAMES[r]}: host ${hex(host.gpr[r])} terrarium ${hex(ours.gpr[r])}`);
  if (host.rip !== ours.rip) d.push(`rip: host ${hex(host.rip)} terrarium ${hex(ours.rip)}`);
  const m = k.flagMask;
  if (((host.rflags ^ ours.rflags) & m) !== 0) d.push(`rflags (mask ${m.toString(16)}): host ${(host.rflags & m).toString(16)} terrarium ${(ours.rflags & m).toString(16)}`);
  if (host.xmm !== null && ours.xmm !== null) {
    for (let r = 0; r < 16; r++) {
      const mask = k.xmmUndefined?.[r] ?? 0n;
      const e = xmmValue(host.xmm, r);
      const a = xmmValue(ours.xmm, r);
      if (((e ^ a) & ~mask) !== 0n) d.push(`xmm${r}: host ${xmmLanes(e)} terrarium ${xmmLanes(a)} (dwords 3..0${mask !== 0n ? `; undefined bits 0x${mask.toString(16)} not compared` : ''})`);
    }
    if (((host.mxcsr ^ ours.mxcsr) & ~(k.mxcsrUndefined ?? 0)) !== 0) d.push(`mxcsr: host ${describeMxcsr(host.mxcsr)} terrarium ${describeMxcsr(ours.mxcsr)}`);
  }
  const ignored = new Map<number, number>();
  for (const at of k.fxsaveImages ?? []) {
    const add = (off: number, bits: number): void => void ignored.set(off, (ignored.get(off) ?? 0) | bits);
    for (const [o, n] of FXSAVE_UNDEFINED) for (let i = 0; i < n; i++) add(at + o + i, 0xff);
    for (const [o, bits] of fxsaveVendorMasked(hostVendor, host.data[at + 2] | (host.data[at + 3] << 8))) add(at + o, bits);
  }
  for (const [name, a, b, base] of [
    ['data', host.data, ours.data, DATA],
    ['stack', host.stack, ours.stack, STACK],
  ] as const) {
    for (let i = 0; i < a.length; i++) {
      const ignore = name === 'data' ? (ignored.get(i) ?? 0) : 0;
      if (((a[i] ^ b[i]) & ~ignore & 0xff) !== 0) {
        d.push(`${name} byte at 0x${(base + i).toString(16)}: host ${a[i].toString(16)} terrarium ${b[i].toString(16)}`);
        break;
      }
    }
  }
  return d;
}

/** One case run on both sides: its index in the run, the host's outcome, and the differences (empty: they agree). */
export interface Ran64 {
  index: number;
  host: Outcome64;
  diffs: string[];
}

/**
 * Run `cases` natively in batches of `batchSize` and on Terrarium, compare each, and hand every
 * result to `each`; the suites tally families, faults and predictions their own way. Prints the
 * vendor-mask notice once when the host is not the vendor Terrarium models.
 */
export function runCases64(harness: string, cases: readonly Case64[], batchSize: number, each: (r: Ran64) => void, machine: (code: Uint8Array) => Machine64 = (code) => new Long64Machine(code)): void {
  const vendor = hostCpuVendor();
  const notice = vendorMaskNotice(vendor);
  if (notice !== null) console.warn(notice);
  for (let start = 0; start < cases.length; start += batchSize) {
    const batch = cases.slice(start, start + batchSize);
    const bin = assembleBatch(batch);
    const host = runNative(harness, bin, batch.length);
    const ours64 = machine(bin);
    for (let i = 0; i < batch.length; i++) {
      const ours = ours64.run(i);
      each({ index: start + i, host: host[i]!, diffs: compare(batch[i]!, host[i]!, ours, vendor) });
    }
  }
}

/** What a family-based suite counts per family: cases, host exceptions, differing cases. */
export interface FamilyTally {
  cases: number;
  faulted: number;
  differ: number;
}

export interface Tally64 {
  perFamily: Map<string, FamilyTally>;
  /** Host exception vector -> count. */
  raised: Map<number, number>;
  /** One line per differing case: `describe(case, index)`, then its first differences. */
  failures: string[];
}

/** A case named by its family and body. */
export function describeCase64(k: Case64): string {
  return `[${k.family}] ${JSON.stringify(k.body)}`;
}

/** A case named by its family and body, without its data-fill lines. */
export function describeCase64WithoutData(k: Case64): string {
  return `[${k.family}] ${JSON.stringify(k.body.split('\n').filter((l) => !l.includes('.s4_data:')).join('; '))}`;
}

/**
 * runCases64 with the tallies the family-based suites keep: per family (cases, host
 * exceptions, differences), host exception vectors, and a line per differing case.
 * `each` also sees every result (a suite's own checks, e.g. predicted exceptions); `machine`
 * runs each batch on Terrarium (default: Long64Machine).
 */
export function tallyCases64<C extends Case64>(
  harness: string,
  cases: readonly C[],
  batchSize: number,
  describe: (k: C, index: number) => string = describeCase64,
  each: (r: Ran64) => void = () => {},
  machine?: (code: Uint8Array) => Machine64,
): Tally64 {
  const perFamily = new Map<string, FamilyTally>();
  const raised = new Map<number, number>();
  const failures: string[] = [];
  runCases64(harness, cases, batchSize, (r) => {
    const k = cases[r.index]!;
    const f = perFamily.get(k.family) ?? { cases: 0, faulted: 0, differ: 0 };
    perFamily.set(k.family, f);
    f.cases++;
    if (r.host.vector >= 0) {
      f.faulted++;
      raised.set(r.host.vector, (raised.get(r.host.vector) ?? 0) + 1);
    }
    if (r.diffs.length > 0) {
      f.differ++;
      failures.push(`${describe(k, r.index)}: ${r.diffs.slice(0, 4).join('; ')}`);
    }
    each(r);
  }, machine);
  return { perFamily, raised, failures };
}

/**
 * A generator's prediction of a case's outcome (an exception vector, null for completion,
 * 'any' when not predicted) against the host's: a line saying how they disagree, or null.
 */
export function misprediction(k: Case64, predicted: number | null | 'any', hostVector: number): string | null {
  const host = hostVector < 0 ? null : hostVector;
  if (predicted === 'any' || predicted === host) return null;
  return `${describeCase64(k)}: predicted ${predicted ?? 'completion'}, host ${host ?? 'completion'}`;
}
