/**
 * Storage benchmark (a script, not a test): sequential 1 MiB writes then reads through
 * the raw and qcow2 backends, against plain FileHandle I/O on the same filesystem as the
 * peer. Prints MiB/s and the ratio to the host baseline.
 *
 *   npm run build && node dist/emulator-core/storage/storage-bench.js [MiB] [dir]
 *
 * Reads follow writes without dropping the page cache, for all three alike, so the
 * numbers compare our overhead (syscalls, copies, metadata) rather than the device.
 */
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockBackend } from './block-backend.js';
import { createDisk, openDisk } from './create.js';

const CHUNK = 1 << 20;

interface Result {
  name: string;
  writeMiBs: number;
  flushMs: number;
  readMiBs: number;
}

function pattern(i: number): Uint8Array {
  const buf = new Uint8Array(CHUNK);
  buf.fill(i & 0xff);
  buf[0] = i >> 8;
  return buf;
}

async function host(path: string, mib: number): Promise<Result> {
  const fh = await open(path, 'wx+');
  const buffers = Array.from({ length: 8 }, (_, i) => pattern(i));
  let t = performance.now();
  for (let i = 0; i < mib; i++) await fh.write(buffers[i % 8]!, 0, CHUNK, i * CHUNK);
  const writeS = (performance.now() - t) / 1000;
  t = performance.now();
  await fh.datasync();
  const flushMs = performance.now() - t;
  const target = new Uint8Array(CHUNK);
  t = performance.now();
  for (let i = 0; i < mib; i++) await fh.read(target, 0, CHUNK, i * CHUNK);
  const readS = (performance.now() - t) / 1000;
  await fh.close();
  return { name: 'host FileHandle', writeMiBs: mib / writeS, flushMs, readMiBs: mib / readS };
}

async function backend(name: string, disk: BlockBackend, mib: number): Promise<Result> {
  const buffers = Array.from({ length: 8 }, (_, i) => pattern(i));
  let t = performance.now();
  for (let i = 0; i < mib; i++) await disk.write(i * CHUNK, buffers[i % 8]!);
  const writeS = (performance.now() - t) / 1000;
  t = performance.now();
  await disk.flush();
  const flushMs = performance.now() - t;
  const target = new Uint8Array(CHUNK);
  t = performance.now();
  for (let i = 0; i < mib; i++) await disk.read(i * CHUNK, target);
  const readS = (performance.now() - t) / 1000;
  await disk.close();
  return { name, writeMiBs: mib / writeS, flushMs, readMiBs: mib / readS };
}

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 512);
  const dir = process.argv[3] ?? tmpdir();
  const tag = `${process.pid}-${Date.now()}`;
  const paths = ['host.bin', 'bench.raw', 'bench.qcow2', 'bench-rewrite.qcow2'].map((f) => join(dir, `terrarium-bench-${tag}-${f}`));
  const [hostPath, rawPath, qcowPath] = paths as [string, string, string, string];
  try {
    const results: Result[] = [];
    results.push(await host(hostPath, mib));
    await createDisk({ path: rawPath, sizeBytes: mib * CHUNK, format: 'raw' });
    results.push(await backend('raw backend', await openDisk(rawPath), mib));
    await createDisk({ path: qcowPath, sizeBytes: mib * CHUNK, format: 'qcow2' });
    results.push(await backend('qcow2 (allocating)', await openDisk(qcowPath), mib));
    results.push(await backend('qcow2 (overwrite)', await openDisk(qcowPath), mib));
    const base = results[0]!;
    console.log(`sequential 1 MiB requests, ${mib} MiB, in ${dir}`);
    for (const r of results) {
      console.log(
        `${r.name.padEnd(20)} write ${r.writeMiBs.toFixed(0).padStart(6)} MiB/s (${(r.writeMiBs / base.writeMiBs).toFixed(2)}x)` +
          `  flush ${r.flushMs.toFixed(1).padStart(7)} ms` +
          `  read ${r.readMiBs.toFixed(0).padStart(6)} MiB/s (${(r.readMiBs / base.readMiBs).toFixed(2)}x)`,
      );
    }
  } finally {
    for (const p of paths) await rm(p, { force: true });
  }
}

await main();
