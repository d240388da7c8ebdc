/** Running `terrarium` as a user would, for the PC end-to-end tests. */
import { spawn, spawnSync } from 'node:child_process';

export const BIN = new URL('../../bin/terrarium.js', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run the CLI to completion (asynchronously, so tests in other files keep running). */
export function terrarium(args: string[], timeoutMs = 600_000): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** Whether a host tool runs (qemu-img, for cross-checking images). */
export function toolAvailable(cmd: string, args: string[] = ['--version']): boolean {
  try {
    return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
}

/** The tail of a run's output for assertion messages. */
export function tail(r: CliResult): string {
  return `exit ${r.code} after ${(r.ms / 1000).toFixed(1)} s\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-1500)}`;
}
