/**
 * The host CPU as oracle: builds native/harness.c once (cached by source hash under
 * test/fixtures/out/difftest, which is gitignored) and runs a whole batch of cases in one
 * process.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AssembledBatch } from './batch.js';
import { initialSse, VECTORS_WITH_ERROR_CODE, type DiffCase, type Outcome } from './case.js';
import { LDT, PATCH_MAX } from './layout.js';
import { nasmAvailable } from '../support/nasm.js';
import { hostCpuVendor, vendorMaskNotice } from './vendor.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(HERE, 'native', 'harness.c');
const CACHE_DIR = join(HERE, '..', 'fixtures', 'out', 'difftest');

const RECORD_BYTES = 8 + 32 + 4 + 4 + 4 + 4 + PATCH_MAX + 4 + 128;
const MAGIC_IN = 0x31495444; // 'DTI1'
const MAGIC_OUT = 0x314f5444; // 'DTO1'

export type NativeStatus = { ok: true; harness: string; /** modify_ldt works (segment tests can run). */ ldt: boolean } | { ok: false; reason: string };

let status: NativeStatus | null = null;

function firstLines(e: unknown): string {
  const err = e as { stderr?: Buffer | string | null; message?: string };
  const stderr = err.stderr === undefined || err.stderr === null ? '' : String(err.stderr).trim();
  const text = stderr !== '' ? stderr : (err.message ?? String(e));
  return text.trim().split('\n').slice(0, 4).join(' | ');
}

function build(): string {
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const out = join(CACHE_DIR, `harness-${hash}`);
  if (existsSync(out)) return out;
  mkdirSync(CACHE_DIR, { recursive: true });
  // Build beside the target and rename, so parallel test files never see a partial binary.
  const tmp = `${out}.${process.pid}.tmp`;
  execFileSync('gcc', ['-m32', '-static', '-no-pie', '-O1', '-o', tmp, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
  renameSync(tmp, out);
  // Builds of older harness sources are dead weight now.
  for (const f of readdirSync(CACHE_DIR)) if (f.startsWith('harness-') && join(CACHE_DIR, f) !== out && !f.endsWith('.tmp')) rmSync(join(CACHE_DIR, f), { force: true });
  return out;
}

/**
 * Whether the native oracle can run here: nasm, gcc with 32-bit support (gcc-multilib) and
 * a kernel that runs i386 binaries. The reason is meant for a loud skip message.
 */
export function nativeStatus(): NativeStatus {
  if (status !== null) return status;
  warnIfNotIntel();
  if (!nasmAvailable()) return (status = { ok: false, reason: 'nasm is not installed' });
  let harness: string;
  try {
    harness = build();
  } catch (e) {
    return (status = { ok: false, reason: `cannot build the 32-bit native harness (gcc -m32 -static; install gcc-multilib): ${firstLines(e)}` });
  }
  // Probe with an empty batch (twice, so a transient spawn failure does not skip the suite).
  let failure: unknown = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const dir = mkdtempSync(join(tmpdir(), 'terrarium-difftest-'));
      try {
        const input = join(dir, 'in.bin');
        writeFileSync(input, Buffer.concat([header(0, 0), ldtTable()]));
        const out = execFileSync(harness, [input], { stdio: ['ignore', 'pipe', 'pipe'] });
        return (status = { ok: true, harness, ldt: (out.readUInt32LE(4) & 1) !== 0 });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } catch (e) {
      failure = e;
    }
  }
  return (status = { ok: false, reason: `the native harness does not run (no i386 support in this kernel?): ${firstLines(failure)}` });
}

/** Says once, loudly, what is masked because the host is not of the vendor Terrarium models. */
function warnIfNotIntel(): void {
  const notice = vendorMaskNotice(hostCpuVendor());
  if (notice !== null) console.warn(notice);
}

function header(count: number, codeSize: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(MAGIC_IN, 0);
  b.writeUInt32LE(count, 4);
  b.writeUInt32LE(codeSize, 8);
  b.writeUInt32LE(LDT.length, 12);
  return b;
}

/** The LDT entries in harness.c's struct ldt_in layout (fields of struct user_desc). */
function ldtTable(): Buffer {
  const b = Buffer.alloc(LDT.length * 32);
  LDT.forEach((e, i) => {
    const fields = [e.index, e.base, e.limit, e.seg32 ? 1 : 0, e.contents, e.readExecOnly ? 1 : 0, e.limitInPages ? 1 : 0, e.notPresent ? 1 : 0];
    fields.forEach((v, k) => b.writeUInt32LE(v >>> 0, i * 32 + k * 4));
  });
  return b;
}

function encodeCases(batch: AssembledBatch, cases: readonly DiffCase[]): Buffer {
  const recs = Buffer.alloc(RECORD_BYTES * cases.length);
  cases.forEach((c, i) => {
    let o = i * RECORD_BYTES;
    recs.writeUInt32LE(batch.entries[i].entry, o);
    recs.writeUInt32LE(batch.entries[i].end, o + 4);
    o += 8;
    for (let r = 0; r < 8; r++) recs.writeUInt32LE(c.regs[r] >>> 0, o + r * 4);
    o += 32;
    recs.writeUInt32LE(c.eflags >>> 0, o);
    recs.writeUInt32LE(c.memSeed >>> 0, o + 4);
    const patch = c.patch;
    if (patch !== undefined) {
      if (patch.bytes.length > PATCH_MAX) throw new Error(`patch too large in ${c.family}: ${c.asm}`);
      recs.writeUInt32LE(patch.offset, o + 8);
      recs.writeUInt32LE(patch.bytes.length, o + 12);
      recs.set(patch.bytes, o + 16);
    }
    const sse = initialSse(c);
    recs.writeUInt32LE(sse.mxcsr >>> 0, o + 16 + PATCH_MAX);
    recs.set(sse.xmm, o + 20 + PATCH_MAX);
  });
  return Buffer.concat([header(cases.length, batch.code.length), ldtTable(), Buffer.from(batch.code), recs]);
}

function decode(out: Buffer, count: number): Outcome[] {
  const results: Outcome[] = [];
  let o = 0;
  for (let i = 0; i < count; i++) {
    const head = [...Array(14).keys()].map((k) => out.readUInt32LE(o + k * 4));
    o += 56;
    const segs = [...Array(6).keys()].map((k) => out.readUInt16LE(o + k * 2));
    o += 12;
    const fpu = new Uint8Array(out.subarray(o, o + 108));
    o += 108;
    const sseValid = out.readUInt32LE(o) !== 0;
    const mxcsr = out.readUInt32LE(o + 4);
    const xmm = sseValid ? new Uint8Array(out.subarray(o + 8, o + 8 + 128)) : null;
    o += 8 + 128;
    const n = out.readUInt32LE(o);
    o += 4;
    const mem = new Map<number, number>();
    for (let k = 0; k < n; k++, o += 3) mem.set(out.readUInt16LE(o), out[o + 2]);
    const exception = head[0] === 0 ? null : head[1];
    results.push({
      exception,
      errorCode: exception !== null && VECTORS_WITH_ERROR_CODE.has(exception) ? head[2] : 0,
      eip: head[3],
      regs: head.slice(4, 12),
      eflags: head[12],
      cr2: head[13],
      segs,
      mem,
      fpu,
      xmm,
      mxcsr,
    });
  }
  if (out.length !== o + 8 || out.readUInt32LE(o) !== MAGIC_OUT) throw new Error('native harness output is truncated or malformed');
  return results;
}

/** Run a batch on the host CPU: one process for all of its cases. */
export function runNative(harness: string, batch: AssembledBatch, cases: readonly DiffCase[]): Outcome[] {
  const dir = mkdtempSync(join(tmpdir(), 'terrarium-difftest-'));
  try {
    const input = join(dir, 'in.bin');
    writeFileSync(input, encodeCases(batch, cases));
    const out = execFileSync(harness, [input], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    return decode(out, cases.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
