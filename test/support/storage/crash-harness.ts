/**
 * Crash-replay harness for the qcow2 tests. An injected I/O layer records every write and
 * fdatasync the qcow2 backend issues while a scenario runs (phases of guest writes, each ended by flush()). We then
 * "crash" after every recorded operation and rebuild the file as the disk could hold it:
 *
 *   prefix    every write issued so far reached the disk
 *   synced    only writes before the last completed fdatasync survived
 *   newest    of the writes since the last fdatasync, only the newest survived
 *   shuffled  writes since the last fdatasync survived in any subset, some of them torn
 *             at 512-byte sector boundaries (the kernel may write back in any order)
 *
 * Each rebuilt image must pass `qemu-img check` (exit 0, or 3 = leaked clusters only),
 * open again here, show every sector flushed before the crash, and show each other sector
 * either before or after the interrupted phase (never garbage). Some are then written
 * again and re-checked, to prove the image stays usable.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ImageFile } from '../../../emulator-core/storage/image-file.js';
import { Qcow2Backend, type Qcow2OpenOptions } from '../../../emulator-core/storage/qcow2.js';
import { Rng, qemuCheck } from './qemu-tools.js';

type Op = { kind: 'write'; pos: number; data: Uint8Array } | { kind: 'sync' } | { kind: 'mark' };
/** A write as replayed; `sectors` marks which 512-byte file sectors survive a torn write. */
type Replayed = { pos: number; data: Uint8Array; sectors?: boolean[] };

/** Passes everything through to the real file and keeps a copy of each write. */
export class RecordingFile implements ImageFile {
  readonly ops: Op[] = [];
  readonly path: string;
  constructor(private readonly inner: ImageFile) {
    this.path = inner.path;
  }
  read(target: Uint8Array, position: number): Promise<number> {
    return this.inner.read(target, position);
  }
  write(data: Uint8Array, position: number): Promise<void> {
    this.ops.push({ kind: 'write', pos: position, data: data.slice() });
    return this.inner.write(data, position);
  }
  sync(): Promise<void> {
    this.ops.push({ kind: 'sync' });
    return this.inner.sync();
  }
  size(): Promise<number> {
    return this.inner.size();
  }
  truncate(size: number): Promise<void> {
    throw new Error(`qcow2 is not expected to truncate (asked for ${size})`);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export type Phase = (disk: Qcow2Backend, write: (offset: number, data: Uint8Array) => Promise<void>, rng: Rng) => Promise<void>;

export interface Scenario {
  /** Directory holding the image (and any backing file, so relative names resolve). */
  dir: string;
  image: string;
  open?: Qcow2OpenOptions;
  phases: Phase[];
  seed: number;
}

/** Non-overlapping random writes inside one phase (a sector written twice in a phase would have three possible values). */
export function randomWrites(count: number, size: number, maxSectors: number): Phase {
  return async (_disk, write, rng) => {
    const used = new Set<number>();
    for (let i = 0; i < count; i++) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const sectors = 1 + rng.int(maxSectors);
        const first = rng.int(size / 512 - sectors);
        let free = true;
        for (let s = first; s < first + sectors && free; s++) if (used.has(s)) free = false;
        if (!free) continue;
        for (let s = first; s < first + sectors; s++) used.add(s);
        await write(first * 512, rng.bytes(sectors * 512));
        break;
      }
    }
  };
}

export function fixedWrite(offset: number, length: number): Phase {
  return async (_disk, write, rng) => write(offset, rng.bytes(length));
}

export function phases(...ps: Phase[]): Phase {
  return async (disk, write, rng) => {
    for (const p of ps) await p(disk, write, rng);
  };
}

export async function readAll(path: string): Promise<Uint8Array> {
  const d = await Qcow2Backend.open(path, { readOnly: true });
  try {
    return await d.read(0, d.size);
  } finally {
    await d.close();
  }
}

/** Record the scenario, then replay crashes after every operation. Returns how many images were checked. */
export async function crashTest(s: Scenario): Promise<{ ops: number; images: number }> {
  const base = readFileSync(s.image);
  const models: Uint8Array[] = [await readAll(s.image)];
  let recorder: RecordingFile | null = null;
  const disk = await Qcow2Backend.open(s.image, {
    ...s.open,
    wrapFile: (f) => (recorder = new RecordingFile(f)),
  });
  const rec = recorder as unknown as RecordingFile;
  const rng = new Rng(s.seed);
  let model = models[0]!.slice();
  for (const phase of s.phases) {
    await phase(disk, async (offset, data) => {
      await disk.write(offset, data);
      model.set(data, offset);
    }, rng);
    await disk.flush();
    rec.ops.push({ kind: 'mark' });
    models.push(model);
    model = model.slice();
  }
  await disk.close();

  const crashed = join(s.dir, 'crashed.qcow2');
  const seen = new Set<string>();
  const variantRng = new Rng(s.seed ^ 0x5eed);
  let images = 0;
  const ops = rec.ops;
  for (let n = 0; n <= ops.length; n++) {
    const prefix = ops.slice(0, n);
    const flushed = prefix.filter((o) => o.kind === 'mark').length;
    let lastSync = -1;
    prefix.forEach((o, i) => {
      if (o.kind === 'sync') lastSync = i;
    });
    const durable = prefix.slice(0, lastSync + 1);
    const tail = prefix.slice(lastSync + 1);
    const variants: { name: string; writes: Replayed[] }[] = [
      { name: 'prefix', writes: collectWrites(prefix) },
      { name: 'synced', writes: collectWrites(durable) },
    ];
    const tailWrites = collectWrites(tail);
    if (tailWrites.length >= 2) {
      // The newest write survives, the older unsynced ones do not: exposes any pair of
      // dependent writes without a barrier between them, at the cut right after the second.
      variants.push({ name: 'newest-only', writes: [...collectWrites(durable), tailWrites[tailWrites.length - 1]!] });
    }
    for (let v = 0; v < 2 && tailWrites.length > 0; v++) {
      const chosen: Replayed[] = collectWrites(durable);
      for (const w of tailWrites) {
        if (variantRng.int(2) === 0) continue;
        const torn = variantRng.int(3) === 0;
        chosen.push(torn ? { ...w, sectors: sectorMask(w.pos, w.data.length, variantRng) } : w);
      }
      variants.push({ name: `shuffled${v}`, writes: chosen });
    }
    for (const variant of variants) {
      const bytes = rebuild(base, variant.writes);
      const key = createHash('sha1').update(bytes).digest('hex');
      if (seen.has(key)) continue;
      seen.add(key);
      images++;
      writeFileSync(crashed, bytes);
      const where = `crash after op ${n}/${ops.length} (${variant.name}, ${flushed} phase(s) flushed)`;
      const check = qemuCheck(crashed);
      expect([0, 3], `${where}: qemu-img check\n${check.stdout}${check.stderr}`).toContain(check.status);
      const got = await readAll(crashed);
      expectPlausible(got, models[flushed]!, models[flushed + 1] ?? models[flushed]!, where);
      if (images % 4 === 0) {
        // Keep using the crashed image: allocate, overwrite, flush, and check again.
        const d = await Qcow2Backend.open(crashed);
        const r = new Rng(images);
        for (let i = 0; i < 4; i++) await d.write(r.int(d.size / 512 - 64) * 512, r.bytes(32 * 512));
        await d.close();
        const again = qemuCheck(crashed);
        expect([0, 3], `${where}, then written again: qemu-img check\n${again.stdout}${again.stderr}`).toContain(again.status);
      }
    }
  }
  return { ops: ops.filter((o) => o.kind !== 'mark').length, images };
}

function collectWrites(ops: Op[]): Replayed[] {
  const out: Replayed[] = [];
  for (const o of ops) if (o.kind === 'write') out.push({ pos: o.pos, data: o.data });
  return out;
}

/** Which 512-byte file sectors of a write survive a torn write. */
function sectorMask(pos: number, length: number, rng: Rng): boolean[] {
  const first = Math.floor(pos / 512);
  const last = Math.floor((pos + length - 1) / 512);
  return Array.from({ length: last - first + 1 }, () => rng.int(2) === 0);
}

function rebuild(base: Uint8Array, writes: Replayed[]): Uint8Array {
  let size = base.length;
  for (const w of writes) size = Math.max(size, w.pos + w.data.length);
  const out = new Uint8Array(size);
  out.set(base);
  for (const w of writes) {
    if (!w.sectors) {
      out.set(w.data, w.pos);
      continue;
    }
    const firstSector = Math.floor(w.pos / 512);
    for (let i = 0; i < w.data.length; ) {
      const abs = w.pos + i;
      const sector = Math.floor(abs / 512);
      const n = Math.min(w.data.length - i, (sector + 1) * 512 - abs);
      if (w.sectors[sector - firstSector]) out.set(w.data.subarray(i, i + n), abs);
      i += n;
    }
  }
  return out;
}

/** Every sector equals the last flushed state, or the state the interrupted phase was heading to. */
export function expectPlausible(got: Uint8Array, before: Uint8Array, after: Uint8Array, where: string): void {
  const chunk = 64 * 1024;
  for (let off = 0; off < got.length; off += chunk) {
    const g = Buffer.from(got.buffer, got.byteOffset + off, Math.min(chunk, got.length - off));
    const b = Buffer.from(before.buffer, before.byteOffset + off, g.length);
    const a = Buffer.from(after.buffer, after.byteOffset + off, g.length);
    if (g.equals(b) || g.equals(a)) continue;
    for (let s = 0; s < g.length; s += 512) {
      const gs = g.subarray(s, s + 512);
      if (gs.equals(b.subarray(s, s + 512)) || gs.equals(a.subarray(s, s + 512))) continue;
      const flushed = b.subarray(s, s + 512).equals(a.subarray(s, s + 512));
      throw new Error(`${where}: sector at guest offset ${off + s} ${flushed ? 'lost flushed data' : 'holds neither old nor new data'}`);
    }
  }
}

/**
 * Stale bytes in free clusters past the end of the used area, as reused clusters hold in
 * real life: a table that a crash leaves unwritten then reads as garbage, not as an empty
 * table, so a reference written before its target shows up in qemu-img check.
 */
export function appendGarbage(path: string, bytes: number, seed: number): void {
  writeFileSync(path, new Rng(seed).bytes(bytes), { flag: 'a' });
}

/** Fill the image without recording, so the recorded phases start near an interesting boundary. */
export async function preload(path: string, bytes: number, seed: number): Promise<void> {
  const d = await Qcow2Backend.open(path);
  const rng = new Rng(seed);
  for (let off = 0; off < bytes; off += 65536) await d.write(off, rng.bytes(Math.min(65536, bytes - off)));
  await d.close();
}

