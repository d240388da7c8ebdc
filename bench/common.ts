/**
 * What the bench sections share: fixture paths, running each peer in a child process (QEMU
 * timed from spawn by its serial output, Terrarium and v86 by their runner scripts, which
 * time from their own process start), and printing a line beside its peers with the ratios
 * Terrarium / peer, all measured in the same invocation.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TerrariumRunResult, TerrariumRunSpec } from './terrarium-run.js';
import type { V86BootResult, V86BootSpec } from './v86-boot.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = join(ROOT, 'test/fixtures/out');
export const MARKER = /TERRARIUM-MARKER[^\n]*\n/;

export function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function mips(instructions: number, ms: number): string {
  return `${(instructions / 1e9).toFixed(2)} G guest instructions, ${(instructions / (ms / 1000) / 1e6).toFixed(0)} MIPS`;
}

/** Host ms (from spawn) at which each awaited line appeared on the guest's serial output. */
export interface Timeline {
  at: Map<string, number>;
  ok: boolean;
  output: string;
}

/** Run `cmd args`, timestamping the first appearance of each pattern on stdout; killed after `last` or the timeout. */
export function timeline(cmd: string, args: string[], marks: Record<string, RegExp>, last: string, timeoutMs: number): Promise<Timeline> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const at = new Map<string, number>();
    let output = '';
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve({ at, ok, output });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString('latin1');
      const now = performance.now() - t0;
      for (const [name, re] of Object.entries(marks)) if (!at.has(name) && re.test(output)) at.set(name, now);
      if (at.has(last)) finish(true);
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString('latin1')));
    child.on('error', (e) => ((output += `\n${e.message}`), finish(false)));
    child.on('exit', () => finish(at.has(last)));
  });
}

/** First line of `binary --version`, or null when it is not installed. */
export function qemuVersion(binary = 'qemu-system-i386'): string | null {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? null;
  } catch {
    return null;
  }
}

/** The usual QEMU TCG arguments: no display, serial on stdio, no reboot. */
export function qemuArgs(memoryMiB: number, extra: string[]): string[] {
  return ['-accel', 'tcg', '-m', String(memoryMiB), '-nographic', '-no-reboot', '-monitor', 'none', ...extra];
}

/** Run a runner script (dist/bench/NAME.js) with a JSON argument; its last stdout line is the JSON result. */
function runJson<T>(script: string, spec: unknown, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/bench', script), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 60_000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as T);
      } catch {
        const why = err.split('\n').find((l) => /^\w*Error\b/.test(l)) ?? (out + err).trim().split('\n').pop() ?? '';
        reject(new Error(`${script} failed (exit ${code ?? signal}): ${why}`));
      }
    });
  });
}

export function runTerrarium(spec: TerrariumRunSpec): Promise<TerrariumRunResult> {
  return runJson<TerrariumRunResult>('terrarium-run.js', spec, spec.timeoutMs);
}

export function runV86(spec: V86BootSpec): Promise<V86BootResult> {
  return runJson<V86BootResult>('v86-boot.js', spec, spec.timeoutMs);
}

/** A peer's time for one line (null: not measured, the reason already printed). */
export interface PeerTime {
  name: string;
  ms: number | null;
}

/** Print "ratio Terrarium / PEER" for every peer that was measured. */
export function printRatios(terrariumMs: number, peers: PeerTime[]): void {
  for (const p of peers) if (p.ms !== null) console.log(`  ratio Terrarium / ${p.name}: ${(terrariumMs / p.ms).toFixed(2)}x`);
}

/** QEMU on one line: its time, or a loud reason it is missing. */
export async function qemuPeer(binary: string, args: string[], timeoutMs: number, label = 'QEMU TCG'): Promise<PeerTime> {
  const version = qemuVersion(binary);
  if (version === null) {
    console.log(`  *** ${label} SKIPPED: ${binary} not installed (apt install qemu-system-x86); no ratio ***`);
    return { name: label, ms: null };
  }
  const q = await timeline(binary, args, { marker: MARKER }, 'marker', timeoutMs);
  if (!q.ok) {
    console.log(`  *** ${label}: no marker; no ratio ***\n${q.output.slice(-500)}`);
    return { name: label, ms: null };
  }
  const ms = q.at.get('marker')!;
  console.log(`  ${label} (${version}): ${fmt(ms)}`);
  return { name: label, ms };
}

/** v86 on one line: its time, or a loud one-line reason it is missing. */
export async function v86Peer(spec: V86BootSpec): Promise<PeerTime> {
  let r: V86BootResult;
  try {
    r = await runV86(spec);
  } catch (e) {
    console.log(`  *** v86 SKIPPED: ${(e as Error).message.split('\n')[0]} ***`);
    return { name: 'v86', ms: null };
  }
  if ('skip' in r) {
    console.log(`  *** v86 SKIPPED: ${r.skip} ***`);
    return { name: 'v86', ms: null };
  }
  if (!r.ok) {
    console.log(`  *** v86: ${r.reason}; no ratio ***\n${r.output.slice(-500)}`);
    return { name: 'v86', ms: null };
  }
  console.log(`  v86 ${r.version} (wasm JIT): ${fmt(r.ms)}   ${mips(r.instructions, r.ms)}`);
  return { name: 'v86', ms: r.ms };
}
