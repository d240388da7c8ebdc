/**
 * The full-PC benchmarks, beside QEMU measured in the same run:
 *   - ISO boot: SeaBIOS → isolinux → Linux → marker line, wall time from spawn, against
 *     `qemu-system-i386 -cdrom` on the same ISO (TCG), as a ratio;
 *   - sequential disk throughput inside the guest: the ATA guest writes then reads 64 MiB
 *     of /dev/sda (dd, 1 MiB blocks, fsync, caches dropped between), timed from the host by
 *     its serial lines, on a fresh qcow2 image, against QEMU's IDE on the same kind of image.
 * bench/run.ts calls bench(); `node dist/bench/pc.js` runs it alone.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/out');
const BOOT_ISO = join(FIXTURES, 'isolinux-i386.iso');
const BENCH_ISO = join(FIXTURES, 'ata-bench-i386.iso');
const BIN = join(ROOT, 'bin/terrarium.js');
const MARKER = /TERRARIUM-MARKER[^\n]*\n/;
const MEMORY = '256';

/** Host ms (from spawn) at which each awaited line appeared on the guest's serial output. */
interface Timeline {
  at: Map<string, number>;
  ok: boolean;
  output: string;
}

/** Run `cmd args`, timestamping the first appearance of each pattern on stdout. */
function timeline(cmd: string, args: string[], marks: Record<string, RegExp>, last: string, timeoutMs: number): Promise<Timeline> {
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
    child.on('exit', () => finish(at.has(last)));
  });
}

function qemuVersion(): string | null {
  try {
    return execFileSync('qemu-system-i386', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? null;
  } catch {
    return null;
  }
}

function qemuArgs(extra: string[]): string[] {
  return ['-accel', 'tcg', '-m', MEMORY, '-nographic', '-no-reboot', '-monitor', 'none', ...extra];
}

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

async function isoBootSection(qemu: string | null): Promise<void> {
  console.log('ISO boot to the marker (SeaBIOS → isolinux → Debian 12 i386 kernel → busybox marker, 256 MiB)');
  if (!existsSync(BOOT_ISO)) {
    console.log('  SKIPPED: test/fixtures/out/isolinux-i386.iso missing; run `npm run fixtures` first');
    return;
  }
  let qemuMs: number | null = null;
  if (qemu === null) console.log('  QEMU: qemu-system-i386 not installed (apt install qemu-system-x86); no ratio');
  else {
    const q = await timeline('qemu-system-i386', qemuArgs(['-cdrom', BOOT_ISO]), { marker: MARKER }, 'marker', 600_000);
    if (q.ok) {
      qemuMs = q.at.get('marker')!;
      console.log(`  QEMU TCG (${qemu}): ${fmt(qemuMs)}`);
    } else console.log(`  QEMU TCG: no marker\n${q.output.slice(-500)}`);
  }
  const t = await timeline(process.execPath, [BIN, 'run', '--cdrom', BOOT_ISO, '--memory', MEMORY, '--accel', 'interpreter'], { marker: MARKER }, 'marker', 1_200_000);
  if (!t.ok) {
    console.log(`  Terrarium: did not reach the marker\n${t.output.slice(-800)}`);
    process.exitCode = 1;
    return;
  }
  const ms = t.at.get('marker')!;
  console.log(`  Terrarium (software CPU, JIT): ${fmt(ms)}`);
  if (qemuMs !== null) console.log(`  ratio Terrarium / QEMU TCG: ${(ms / qemuMs).toFixed(2)}x`);
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
    console.log('  SKIPPED: test/fixtures/out/ata-bench-i386.iso missing; run `npm run fixtures`');
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

export async function bench(): Promise<void> {
  const qemu = qemuVersion();
  await isoBootSection(qemu);
  console.log('');
  await diskSection(qemu);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await bench();
