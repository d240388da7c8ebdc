/**
 * `npm run bench`: Terrarium beside its peers, measured in the same invocation.
 *   Linux boot to the marker: Terrarium (software CPU + JIT) vs qemu-system-i386 (TCG) and
 *   v86 (the npm package, wasm JIT) on the same kernel and initrd, as wall-time ratios, with
 *   Terrarium's guest instructions per second.
 * Sections from other modules (full PC, 64-bit CPU-bound guest, amd64 kernel boot, KVM) run
 * when present; `npm run bench -- linux cpu64` runs only the sections named (linux, pc, cpu64,
 * amd64, kvm, net). debian64 (the Debian amd64 system to its login prompt, over an hour on
 * Terrarium) runs only when named: `npm run bench -- debian64`.
 * Every peer is timed from its process start; a missing peer or fixture is one loud line,
 * never a failure of the whole bench.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, MARKER, ROOT, fmt, mips, printRatios, qemuArgs, qemuPeer, runTerrarium, v86Peer } from './common.js';

const KERNEL = join(FIXTURES, 'vmlinuz-i386');
const INITRD = join(FIXTURES, 'initrd-i386.gz');
const APPEND = 'console=ttyS0 quiet panic=-1';
const MEMORY = 256;

async function linuxBootSection(): Promise<void> {
  console.log(`Linux boot to the marker (Debian 12 i386 kernel + busybox initramfs, ${MEMORY} MiB, "${APPEND}")`);
  if (!existsSync(KERNEL) || !existsSync(INITRD)) {
    console.log('  *** SKIPPED: fixtures missing; run `npm run fixtures` first ***');
    return;
  }
  const qemu = await qemuPeer('qemu-system-i386', qemuArgs(MEMORY, ['-kernel', KERNEL, '-initrd', INITRD, '-append', APPEND]), 300_000);
  const v86 = await v86Peer({ kernel: KERNEL, initrd: INITRD, cmdline: APPEND, memoryMiB: MEMORY, marker: MARKER.source, timeoutMs: 600_000 });
  const t = await runTerrarium({
    config: { memoryMiB: MEMORY, accel: 'interpreter', kernel: KERNEL, initrd: INITRD, cmdline: APPEND, onTripleFault: 'crash' },
    marks: { marker: MARKER.source },
    last: 'marker',
    timeoutMs: 1_200_000,
  });
  const at = t.at.marker;
  if (!t.ok || at === undefined) {
    console.log(`  Terrarium: did not reach the marker (${t.exit})\n${t.output.slice(-800)}`);
    process.exitCode = 1;
    return;
  }
  console.log(`  Terrarium (software CPU, JIT): ${fmt(at.ms)}   ${mips(at.instructions, at.ms)}`);
  printRatios(at.ms, [qemu, v86]);
  console.log(`  guest: ${MARKER.exec(t.output)?.[0].trim() ?? ''}`);
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

// `npm run bench -- linux cpu64` runs only the sections named (linux, pc, cpu64, amd64, kvm, net); none: all
// of those. Opt-in sections (debian64) run only when named.
const only = new Set(process.argv.slice(2));
const wanted = (name: string): boolean => only.size === 0 || only.has(name);
if (wanted('linux')) await linuxBootSection();
for (const name of ['pc', 'cpu64', 'amd64', 'kvm', 'net']) if (wanted(name)) await optionalSection(`${name}.js`);
for (const name of ['debian64']) if (only.has(name)) await optionalSection(`${name}.js`);
