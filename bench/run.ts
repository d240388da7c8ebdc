/**
 * `npm run bench`: Terrarium beside its peers, measured in the same invocation.
 *   Linux boot to the marker: Terrarium (software CPU + JIT) vs qemu-system-i386 (TCG),
 *   as a wall-time ratio, with Terrarium's guest instructions per second.
 * Sections from other modules (KVM, full PC) run when present.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { BootResult } from './linux-boot.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/out');
const KERNEL = join(FIXTURES, 'vmlinuz-i386');
const INITRD = join(FIXTURES, 'initrd-i386.gz');
const APPEND = 'console=ttyS0 quiet panic=-1';
const MARKER = /TERRARIUM-MARKER[^\n]*\n/;

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function runTerrarium(): Promise<BootResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/bench/linux-boot.js'), KERNEL, INITRD, APPEND, '256'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as BootResult);
      } catch {
        reject(new Error(`Terrarium boot run failed (exit ${code}): ${out.slice(-500)}`));
      }
    });
  });
}

/** Wall time from spawning QEMU to the marker line on its serial console. */
function runQemu(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('qemu-system-i386', ['-accel', 'tcg', '-m', '256', '-kernel', KERNEL, '-initrd', INITRD, '-append', APPEND, '-nographic', '-no-reboot', '-monitor', 'none'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let done = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (!done && MARKER.test(out)) {
        done = true;
        resolve(performance.now() - t0);
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      if (!done) reject(new Error(`QEMU did not reach the marker:\n${out.slice(-500)}`));
    });
  });
}

function qemuVersion(): string | null {
  try {
    return execFileSync('qemu-system-i386', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return null;
  }
}

async function linuxBootSection(): Promise<void> {
  console.log('Linux boot to the marker (Debian 12 i386 kernel + busybox initramfs, 256 MiB, "console=ttyS0 quiet panic=-1")');
  if (!existsSync(KERNEL) || !existsSync(INITRD)) {
    console.log('  SKIPPED: fixtures missing; run `npm run fixtures` first');
    return;
  }
  const qv = qemuVersion();
  let qemuMs: number | null = null;
  if (qv === null) console.log('  QEMU TCG: not installed (apt install qemu-system-x86); no ratio');
  else {
    qemuMs = await runQemu();
    console.log(`  QEMU TCG (${qv}): ${fmt(qemuMs)}`);
  }
  const t = await runTerrarium();
  if (t.markerMs < 0) {
    console.log(`  Terrarium: did not reach the marker (${t.exit})`);
    process.exitCode = 1;
    return;
  }
  const mips = t.instructions / (t.markerMs / 1000) / 1e6;
  console.log(`  Terrarium (software CPU, JIT): ${fmt(t.markerMs)}   guest instructions ${(t.instructions / 1e9).toFixed(2)} G at ${mips.toFixed(0)} MIPS`);
  if (qemuMs !== null) console.log(`  ratio Terrarium / QEMU TCG: ${(t.markerMs / qemuMs).toFixed(2)}x`);
  console.log(`  guest: ${t.marker}`);
}

/** Optional sections contributed by other modules: `export async function bench(): Promise<void>`. */
async function optionalSection(file: string): Promise<void> {
  const path = join(ROOT, 'dist/bench', file);
  if (!existsSync(path)) return;
  const mod = (await import(path)) as { bench?: () => Promise<void> };
  if (typeof mod.bench === 'function') {
    console.log('');
    await mod.bench();
  }
}

await linuxBootSection();
await optionalSection('pc.js');
await optionalSection('kvm.js');
