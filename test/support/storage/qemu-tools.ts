/**
 * Helpers shared by the storage tests: qemu-img/qemu-io discovery (tests that need them
 * skip loudly when absent), temp directories, a seeded RNG.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function probe(tool: string): boolean {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

export const HAVE_QEMU_IMG = probe('qemu-img');
export const HAVE_QEMU_IO = probe('qemu-io');
export const HAVE_QEMU = HAVE_QEMU_IMG && HAVE_QEMU_IO;

const warned = new Set<string>();
/** Say why a test is skipped, once per reason, where a developer running vitest sees it. */
export function warnSkip(what: string): void {
  const msg = `SKIPPED ${what}: qemu-img/qemu-io not found (install the qemu-utils package)`;
  if (warned.has(msg)) return;
  warned.add(msg);
  console.warn(msg);
}

export interface ToolResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function qemuImg(...args: string[]): ToolResult {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Run qemu-io commands against an image (format given explicitly, never probed). */
export function qemuIo(image: string, format: string, ...commands: string[]): ToolResult {
  const args = ['-f', format];
  for (const c of commands) args.push('-c', c);
  args.push(image);
  const r = spawnSync('qemu-io', args, { encoding: 'utf8' });
  const out = { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  // qemu-io exits 0 even when a command fails; its messages say so.
  if (/fail|error|Pattern verification failed/i.test(out.stdout + out.stderr)) out.status = out.status || 1;
  return out;
}

/** qemu-img check exit codes: 0 clean, 3 leaks only (allowed after a crash), 2 corruption. */
export function qemuCheck(image: string): ToolResult {
  return qemuImg('check', '-f', 'qcow2', image);
}

export function qemuInfo(image: string): Record<string, unknown> {
  const r = qemuImg('info', '--output=json', image);
  if (r.status !== 0) throw new Error(`qemu-img info failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** Byte-compare an image with a model of its expected content through qemu-img compare. */
export function qemuCompareWithModel(image: string, format: string, model: Uint8Array, dir: string): ToolResult {
  const rawPath = join(dir, `model-${Math.random().toString(36).slice(2)}.raw`);
  writeFileSync(rawPath, model);
  try {
    return qemuImg('compare', '-f', 'raw', '-F', format, rawPath, image);
  } finally {
    rmSync(rawPath, { force: true });
  }
}

export function makeTempDir(prefix = 'terrarium-storage-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Small deterministic PRNG (xorshift32) so failures reproduce. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 0x100000000) * n);
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.next();
      out[i] = v;
      if (i + 1 < n) out[i + 1] = v >>> 8;
      if (i + 2 < n) out[i + 2] = v >>> 16;
      if (i + 3 < n) out[i + 3] = v >>> 24;
    }
    return out;
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** First differing index, or -1: makes failures readable without dumping megabytes. */
export function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
