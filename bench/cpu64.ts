/**
 * The 64-bit CPU-bound guest of our own (test/fixtures/cpu64-guest/, built by `npm run
 * fixtures`): direct boot of one bzImage into long mode, SHA-256 over 64 MiB of generated
 * data and an LZ compress/decompress round trip, result line on COM1, power off. Terrarium
 * (software CPU) beside qemu-system-x86_64 -accel tcg -kernel on the same file, as ratios of
 * the whole run and of the compute alone (start line to result line), with Terrarium's guest
 * MIPS; both digests are checked against Node's SHA-256 of the same data. v86 has no
 * x86-64, so it is no peer here.
 * bench/run.ts calls bench(); `node dist/bench/cpu64.js [SIZE]` runs it alone (SIZE as the
 * guest's size=, e.g. 4M).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CPU64_GUEST, CPU64_RESULT, cpu64Digest } from '../test/fixtures/cpu64-guest.js';
import { FIXTURES, fmt, mips, qemuArgs, qemuVersion, runTerrarium, timeline } from './common.js';

const IMAGE = join(FIXTURES, CPU64_GUEST);
const MEMORY = 256;
const MARKS = { start: /TERRARIUM-CPU64 start[^\n]*\n/, result: /TERRARIUM-CPU64 result[^\n]*\n/ };

function sizeBytes(size: string): number {
  const m = /^(\d+)([KkMm]?)$/.exec(size);
  if (m === null) throw new Error(`size ${size}: give bytes, or a number with K or M`);
  return Number(m[1]) * (m[2] === '' ? 1 : /[Kk]/.test(m[2]) ? 1024 : 1048576);
}

function label(bytes: number): string {
  if (bytes % 1048576 === 0) return `${bytes / 1048576} MiB`;
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/** "sha256=… lz=… roundtrip=…" of a result line, checked against Node's digest. */
function checkResult(output: string, expected: string): { ok: boolean; text: string } {
  const m = CPU64_RESULT.exec(output);
  if (m === null) return { ok: false, text: 'no result line' };
  const digestOk = m[2] === expected;
  const ok = digestOk && m[4] === 'ok';
  return { ok, text: `sha256=${m[2].slice(0, 16)}… (${digestOk ? "= Node's" : `MISMATCH, Node's is ${expected}`}) lz=${m[3]} bytes roundtrip=${m[4]}` };
}

export async function bench(size = '64M'): Promise<void> {
  const bytes = sizeBytes(size);
  console.log(`64-bit CPU-bound guest (freestanding C, gcc -m64: SHA-256 + LZ round trip over ${label(bytes)} of generated data; direct boot, ${MEMORY} MiB)`);
  if (!existsSync(IMAGE)) {
    console.log(`  *** SKIPPED: test/fixtures/out/${CPU64_GUEST} missing; run \`npm run fixtures\` first (needs gcc) ***`);
    return;
  }
  const expected = cpu64Digest(bytes);
  const append = `size=${size}`;
  let qemu: { total: number; compute: number } | null = null;
  const qv = qemuVersion('qemu-system-x86_64');
  if (qv === null) console.log('  *** QEMU TCG SKIPPED: qemu-system-x86_64 not installed (apt install qemu-system-x86); no ratio ***');
  else {
    const q = await timeline('qemu-system-x86_64', qemuArgs(MEMORY, ['-kernel', IMAGE, '-append', append]), MARKS, 'result', 900_000);
    const check = checkResult(q.output, expected);
    if (!q.ok || !check.ok) console.log(`  *** QEMU TCG: ${q.ok ? check.text : 'no result line'}; no ratio ***\n${q.output.slice(-500)}`);
    else {
      qemu = { total: q.at.get('result')!, compute: q.at.get('result')! - q.at.get('start')! };
      console.log(`  QEMU TCG (${qv}): ${fmt(qemu.total)}, compute ${fmt(qemu.compute)}   ${check.text}`);
    }
  }
  const t = await runTerrarium({
    config: { memoryMiB: MEMORY, accel: 'interpreter', kernel: IMAGE, cmdline: append, onTripleFault: 'crash' },
    marks: { start: MARKS.start.source, result: MARKS.result.source },
    last: 'result',
    timeoutMs: 3_600_000,
  });
  const start = t.at.start;
  const result = t.at.result;
  const check = checkResult(t.output, expected);
  if (!t.ok || start === undefined || result === undefined || !check.ok) {
    console.log(`  Terrarium: ${t.ok ? check.text : `no result line (${t.exit})`}\n${t.output.slice(-800)}`);
    process.exitCode = 1;
    return;
  }
  const compute = result.ms - start.ms;
  console.log(
    `  Terrarium (software CPU): ${fmt(result.ms)}, compute ${fmt(compute)}   ${mips(result.instructions, result.ms)}; compute ${mips(result.instructions - start.instructions, compute)}   ${check.text}`,
  );
  if (qemu !== null) console.log(`  ratio Terrarium / QEMU TCG: ${(result.ms / qemu.total).toFixed(2)}x (compute alone ${(compute / qemu.compute).toFixed(2)}x)`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await bench(process.argv[2]);
