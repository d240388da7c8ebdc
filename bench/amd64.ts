/**
 * The amd64 kernel boot to the marker: Debian 12's amd64 kernel with the static busybox
 * initramfs (test/fixtures/build.sh), direct boot with console=ttyS0, on Terrarium's software
 * CPU (SSE and APICs on, as by default) beside `qemu-system-x86_64 -accel tcg` on the same
 * files, timed from process start to the marker line as the i386 Linux entry is, with the
 * guest uptime each reports; then the same with 2 CPUs (--cpus 2 beside -smp 2). v86 has no
 * x86-64, so it is no peer here. 64-bit code runs interpreted (the JIT covers 32-bit code),
 * so Terrarium needs minutes: its limit is 25 min per run, and a miss is reported as such.
 * bench/run.ts calls bench(); `node dist/bench/amd64.js [1] [2]` runs it alone, for the CPU
 * counts named (none: 1 then 2).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, MARKER, fmt, mips, qemuArgs, qemuVersion, runTerrarium, timeline } from './common.js';

const KERNEL = join(FIXTURES, 'vmlinuz-amd64');
const INITRD = join(FIXTURES, 'initrd-amd64.gz');
const APPEND = 'console=ttyS0 panic=-1';
const MEMORY = 256;
const QEMU_LIMIT_MS = 600_000;
const TERRARIUM_LIMIT_MS = 1_500_000;

/** What the marker line says: the guest's own uptime (first field of /proc/uptime), CPU count and model. */
function guestLine(output: string): string {
  const line = MARKER.exec(output)?.[0] ?? '';
  const uptime = /uptime=(\S+)/.exec(line)?.[1];
  const cpus = /cpus=(\d+)/.exec(line)?.[1];
  const model = /model=(.*?) cpus=/.exec(line)?.[1];
  if (uptime === undefined) return `(marker line without uptime: ${line.trim()})`;
  return `guest uptime ${uptime} s, cpus=${cpus ?? '?'}, ${model ?? '?'}`;
}

/** Serial output as plain lines: no CRs, no terminal escapes. */
export function serialLines(output: string): string[] {
  // eslint-disable-next-line no-control-regex -- terminal escapes start with ESC
  return output.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').replace(/\r/g, '').split('\n');
}

/** The last non-empty serial line (for "did not reach …" reports). */
export function lastLine(output: string): string {
  return serialLines(output).reverse().find((l) => l.trim() !== '') ?? '(no output)';
}

async function bootSection(cpus: number): Promise<void> {
  console.log(`amd64 kernel boot to the marker (Debian 12 amd64 kernel + busybox initramfs, ${cpus} CPU${cpus > 1 ? 's' : ''}, ${MEMORY} MiB, "${APPEND}")`);
  if (!existsSync(KERNEL) || !existsSync(INITRD)) {
    console.log('  *** SKIPPED: test/fixtures/out/vmlinuz-amd64 or initrd-amd64.gz missing; run `npm run fixtures` first ***');
    return;
  }
  let qemuMs: number | null = null;
  const qv = qemuVersion('qemu-system-x86_64');
  if (qv === null) console.log('  *** QEMU TCG SKIPPED: qemu-system-x86_64 not installed (apt install qemu-system-x86); no ratio ***');
  else {
    const smp = cpus > 1 ? ['-smp', String(cpus)] : [];
    const q = await timeline('qemu-system-x86_64', qemuArgs(MEMORY, [...smp, '-kernel', KERNEL, '-initrd', INITRD, '-append', APPEND]), { marker: MARKER }, 'marker', QEMU_LIMIT_MS);
    if (!q.ok) console.log(`  *** QEMU TCG: no marker within ${QEMU_LIMIT_MS / 1000} s (last line: ${lastLine(q.output)}); no ratio ***`);
    else {
      qemuMs = q.at.get('marker')!;
      console.log(`  QEMU TCG (${qv}${cpus > 1 ? `, -smp ${cpus}` : ''}): ${fmt(qemuMs)}   ${guestLine(q.output)}`);
    }
  }
  const t = await runTerrarium({
    config: { memoryMiB: MEMORY, cpus, accel: 'interpreter', kernel: KERNEL, initrd: INITRD, cmdline: APPEND, onTripleFault: 'crash' },
    marks: { marker: MARKER.source },
    last: 'marker',
    timeoutMs: TERRARIUM_LIMIT_MS,
  });
  const at = t.at.marker;
  if (!t.ok || at === undefined) {
    console.log(`  Terrarium: did not reach the marker (${t.exit}); last line: ${lastLine(t.output)}`);
    process.exitCode = 1;
    return;
  }
  console.log(`  Terrarium (software CPU${cpus > 1 ? `, --cpus ${cpus}` : ''}): ${fmt(at.ms)}   ${mips(at.instructions, at.ms)}   ${guestLine(t.output)}`);
  if (qemuMs !== null) console.log(`  ratio Terrarium / QEMU TCG: ${(at.ms / qemuMs).toFixed(2)}x`);
}

export async function bench(cpuCounts: number[] = [1, 2]): Promise<void> {
  for (const [i, cpus] of cpuCounts.entries()) {
    if (i > 0) console.log('');
    await bootSection(cpus);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const counts = process.argv.slice(2).map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) throw new Error('give CPU counts from 1 to 16, e.g. `node dist/bench/amd64.js 1 2`');
  await bench(counts.length > 0 ? counts : undefined);
}
