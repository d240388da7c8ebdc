/**
 * The full-PC benchmarks, beside QEMU measured in the same run:
 *   - ISO boot: SeaBIOS → isolinux → Linux → marker line, wall time from process start, against
 *     `qemu-system-i386 -cdrom` on the same ISO (TCG) and v86 (npm package) on it, as ratios,
 *     with Terrarium's guest MIPS;
 *   - sequential disk throughput inside the guest: the ATA guest writes then reads 64 MiB
 *     of /dev/sda (dd, 1 MiB blocks, fsync, caches dropped between), timed from the host by
 *     its serial lines, on a fresh qcow2 image, against QEMU's IDE on the same kind of image.
 * bench/run.ts calls bench(); `node dist/bench/pc.js [iso|disk]` runs it (or one part) alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, MARKER, ROOT, fmt, mips, printRatios, qemuArgs as qemuArgsMiB, qemuPeer, qemuVersion, runTerrarium, timeline, v86Peer, type Timeline } from './common.js';

const BOOT_ISO = join(FIXTURES, 'isolinux-i386.iso');
const BENCH_ISO = join(FIXTURES, 'ata-bench-i386.iso');
const BIN = join(ROOT, 'bin/terrarium.js');
const MEMORY = '256';

function qemuArgs(extra: string[]): string[] {
  return qemuArgsMiB(Number(MEMORY), extra);
}

async function isoBootSection(): Promise<void> {
  console.log('ISO boot to the marker (SeaBIOS → isolinux → Debian 12 i386 kernel → busybox marker, 256 MiB)');
  if (!existsSync(BOOT_ISO)) {
    console.log('  *** SKIPPED: test/fixtures/out/isolinux-i386.iso missing; run `npm run fixtures` first ***');
    return;
  }
  const qemu = await qemuPeer('qemu-system-i386', qemuArgs(['-cdrom', BOOT_ISO]), 600_000);
  const v86 = await v86Peer({ cdrom: BOOT_ISO, memoryMiB: Number(MEMORY), marker: MARKER.source, timeoutMs: 600_000 });
  // As `terrarium run --cdrom` would (firmware text on COM1 too), in the bench's runner for the instruction count.
  const t = await runTerrarium({
    config: { memoryMiB: Number(MEMORY), accel: 'interpreter', cdrom: BOOT_ISO, firmwareSerialConsole: true, onTripleFault: 'crash' },
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
}

const DISK_MARKS = {
  ws: /TERRARIUM-BENCH write-start/,
  wd: /TERRARIUM-BENCH write-done/,
  rs: /TERRARIUM-BENCH read-start/,
  rd: /TERRARIUM-BENCH read-done/,
};
const DISK_MIB = 64;

interface Throughput {
  write: number;
  read: number;
}

function throughput(t: Timeline): Throughput {
  const mbps = (a: string, b: string): number => DISK_MIB / ((t.at.get(b)! - t.at.get(a)!) / 1000);
  return { write: mbps('ws', 'wd'), read: mbps('rs', 'rd') };
}

function freshImage(dir: string, name: string): string {
  const f = join(dir, name);
  const r = spawnSync(process.execPath, [BIN, 'disk', 'create', f, '--size', '128M'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`disk create failed: ${r.stderr}`);
  return f;
}

async function diskSection(qemu: string | null): Promise<void> {
  console.log(`Sequential disk throughput inside the guest (ata_piix, dd ${DISK_MIB} MiB in 1 MiB blocks, fresh qcow2)`);
  if (!existsSync(BENCH_ISO)) {
    console.log('  *** SKIPPED: test/fixtures/out/ata-bench-i386.iso missing; run `npm run fixtures` ***');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'terrarium-bench-'));
  try {
    let q: Throughput | null = null;
    if (qemu !== null) {
      const img = freshImage(dir, 'qemu.qcow2');
      const r = await timeline('qemu-system-i386', qemuArgs(['-cdrom', BENCH_ISO, '-drive', `file=${img},format=qcow2,if=ide,index=0`, '-boot', 'd']), DISK_MARKS, 'rd', 900_000);
      if (r.ok) {
        q = throughput(r);
        console.log(`  QEMU TCG: write ${q.write.toFixed(1)} MiB/s, read ${q.read.toFixed(1)} MiB/s`);
      } else console.log(`  QEMU TCG: the guest did not finish\n${r.output.slice(-500)}`);
    }
    const img = freshImage(dir, 'terrarium.qcow2');
    const r = await timeline(process.execPath, [BIN, 'run', '--cdrom', BENCH_ISO, '--disk', img, '--memory', MEMORY, '--accel', 'interpreter'], DISK_MARKS, 'rd', 1_800_000);
    if (!r.ok) {
      console.log(`  Terrarium: the guest did not finish\n${r.output.slice(-800)}`);
      process.exitCode = 1;
      return;
    }
    const t = throughput(r);
    console.log(`  Terrarium (software CPU, JIT): write ${t.write.toFixed(1)} MiB/s, read ${t.read.toFixed(1)} MiB/s`);
    if (q !== null) console.log(`  ratio Terrarium / QEMU TCG: write ${(t.write / q.write).toFixed(2)}x, read ${(t.read / q.read).toFixed(2)}x`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function bench(parts: string[] = []): Promise<void> {
  if (parts.length === 0 || parts.includes('iso')) await isoBootSection();
  if (parts.length === 0) console.log('');
  if (parts.length === 0 || parts.includes('disk')) await diskSection(qemuVersion());
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await bench(process.argv.slice(2));
