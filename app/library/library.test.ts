import { execFileSync } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { writeFileAtomic, type AtomicFs } from './atomic-write.js';
import { saveConfigFile } from './config-file.js';
import { CONFIG_SCHEMA_VERSION } from './config-schema.js';
import { Library } from './library.js';
import type { MigrationPlan } from './migrate.js';
import { newVm, tempDir } from './test-helpers.js';

function hasQemuImg(): boolean {
  try {
    execFileSync('qemu-img', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('Library', () => {
  it('creates a VM folder with a config and a disk, and lists it', async () => {
    const lib = new Library(tempDir());
    const created = await lib.create(newVm('Debian Test'));
    expect(readdirSync(created.dir).sort()).toEqual(['Debian Test.qcow2', 'Debian Test.terrarium.json']);
    const [entry] = await lib.list();
    expect(entry?.status).toBe('ok');
    if (entry?.status === 'ok') {
      expect(entry.config.name).toBe('Debian Test');
      expect(entry.config.schemaVersion).toBe(CONFIG_SCHEMA_VERSION);
      expect(entry.config.storage.disks).toEqual([{ path: 'Debian Test.qcow2', format: 'qcow2', readOnly: false }]);
    }
  });

  it('refuses bad and duplicate names without touching the disk', async () => {
    const lib = new Library(tempDir());
    await expect(lib.create(newVm('bad/name'))).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'name' });
    await lib.create(newVm('Alpine'));
    await expect(lib.create(newVm('ALPINE'))).rejects.toMatchObject({ code: 'CONFLICT', message: 'A VM named "ALPINE" already exists.' });
    expect(readdirSync(lib.root)).toEqual(['Alpine']);
  });

  it('lists a corrupt config as an error entry and never overwrites it', async () => {
    const lib = new Library(tempDir());
    const vm = await lib.create(newVm('Broken'));
    writeFileSync(vm.file, '{ "schemaVersion": 1, "name": ');
    const [entry] = await lib.list();
    expect(entry).toMatchObject({ status: 'error', id: 'Broken', error: { code: 'CORRUPT' } });
    if (entry?.status === 'error') expect(entry.error.message).toMatch(/Broken\.terrarium\.json is not valid JSON/);
    await expect(lib.update('Broken', (c) => ({ ...c, notes: 'x' }))).rejects.toBeInstanceOf(AppError);
    await expect(lib.delete('Broken', { keepDisks: false })).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(readFileSync(vm.file, 'utf8')).toBe('{ "schemaVersion": 1, "name": ');
    expect(existsSync(path.join(vm.dir, 'Broken.qcow2'))).toBe(true);
  });

  it('names the offending field of a config that parses but is invalid', async () => {
    const lib = new Library(tempDir());
    const vm = await lib.create(newVm('Fields'));
    const raw = JSON.parse(readFileSync(vm.file, 'utf8'));
    raw.system.memoryMiB = -5;
    writeFileSync(vm.file, JSON.stringify(raw));
    const entry = await lib.get('Fields');
    expect(entry.status).toBe('error');
    if (entry.status === 'error') {
      expect(entry.error.message).toContain('system.memoryMiB: Memory must be at least 4 MiB.');
      expect(entry.error.field).toBe('system.memoryMiB');
    }
  });

  it('shows a newer config version as unsupported and leaves it alone', async () => {
    const lib = new Library(tempDir());
    const vm = await lib.create(newVm('Future'));
    const raw = JSON.parse(readFileSync(vm.file, 'utf8'));
    raw.schemaVersion = 7;
    raw.newThing = { fancy: true };
    const text = JSON.stringify(raw);
    writeFileSync(vm.file, text);
    const [entry] = await lib.list();
    expect(entry).toMatchObject({ status: 'error', error: { code: 'UNSUPPORTED' } });
    if (entry?.status === 'error') expect(entry.error.message).toContain(`newer Terrarium (config version 7; this one reads up to ${CONFIG_SCHEMA_VERSION})`);
    await expect(lib.update('Future', (c) => c)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect(readFileSync(vm.file, 'utf8')).toBe(text);
  });

  it('upgrades an older config in memory and backs up the old file when it saves', async () => {
    // A library one layout ahead of today's, where today's layout kept memory at the top level.
    const old = CONFIG_SCHEMA_VERSION;
    const plan: MigrationPlan = {
      current: old + 1,
      migrations: new Map([
        [
          old,
          (v1) => {
            const { memory, ...rest } = v1 as { memory: number; system: Record<string, unknown> };
            return { ...rest, system: { ...rest.system, memoryMiB: memory } };
          },
        ],
      ]),
    };
    const root = tempDir();
    const current = await new Library(root).create(newVm('Old'));
    const v1 = JSON.parse(readFileSync(current.file, 'utf8'));
    v1.memory = 384;
    delete v1.system.memoryMiB;
    writeFileSync(current.file, JSON.stringify(v1));
    const lib = new Library(root, plan);
    const entry = await lib.getOk('Old');
    expect(entry.upgradedFrom).toBe(old);
    expect(entry.config.system.memoryMiB).toBe(384);
    expect(JSON.parse(readFileSync(current.file, 'utf8')).schemaVersion).toBe(old); // reading writes nothing
    await lib.update('Old', (c) => ({ ...c, notes: 'upgraded' }));
    const saved = JSON.parse(readFileSync(current.file, 'utf8'));
    expect(saved.schemaVersion).toBe(old + 1);
    expect(saved.system.memoryMiB).toBe(384);
    expect(JSON.parse(readFileSync(`${current.file}.v${old}.bak`, 'utf8')).memory).toBe(384);
  });

  it('keeps the old config when an atomic write is interrupted before the rename', async () => {
    const lib = new Library(tempDir());
    const vm = await lib.create(newVm('Atomic'));
    const before = readFileSync(vm.file, 'utf8');
    const crashingFs: AtomicFs = {
      open: fsp.open,
      unlink: fsp.unlink,
      rename: async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, rename'), { code: 'ENOSPC' });
      },
    };
    await expect(saveConfigFile(vm.file, { ...vm.config, notes: 'never lands' }, { fs: crashingFs })).rejects.toMatchObject({ code: 'HOST' });
    expect(readFileSync(vm.file, 'utf8')).toBe(before);
    expect(readdirSync(vm.dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('ignores a half-written temp file left by a writer that died, and cleans it up later', async () => {
    const lib = new Library(tempDir());
    const vm = await lib.create(newVm('Crashed'));
    const dying: AtomicFs = { open: fsp.open, rename: fsp.rename, unlink: async () => undefined };
    // The process "dies" after writing the temp file: rename fails and cleanup never runs.
    await expect(
      writeFileAtomic(vm.file, '{"half":', { ...dying, rename: async () => Promise.reject(new Error('killed')) }),
    ).rejects.toThrow('killed');
    const temps = readdirSync(vm.dir).filter((n) => n.includes('.tmp-'));
    expect(temps).toHaveLength(1);
    const entries = await lib.list();
    expect(entries).toHaveLength(1);
    expect(entries[0]?.status).toBe('ok');
    const old = new Date(Date.now() - 120_000);
    await fsp.utimes(path.join(vm.dir, temps[0]!), old, old);
    await lib.list();
    expect(readdirSync(vm.dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('renames the folder and file when the name changes', async () => {
    const lib = new Library(tempDir());
    await lib.create(newVm('First'));
    const renamed = await lib.update('First', (c) => ({ ...c, name: 'Second' }));
    expect(renamed.id).toBe('Second');
    expect(readdirSync(lib.root)).toEqual(['Second']);
    expect(readdirSync(renamed.dir).sort()).toEqual(['First.qcow2', 'Second.terrarium.json']);
    expect((await lib.getOk('Second')).config.name).toBe('Second');
  });

  it('clones a VM with copies of its disks', async () => {
    const lib = new Library(tempDir());
    await lib.create(newVm('Source'));
    const steps: string[] = [];
    const copy = await lib.clone('Source', 'Copy', (m) => steps.push(m));
    expect(copy.config.storage.disks[0]?.path).toBe('Copy.qcow2');
    expect(existsSync(path.join(copy.dir, 'Copy.qcow2'))).toBe(true);
    expect(steps).toContain('Copying disk 1 of 1');
  });

  it('deletes only what it made, and keeps disks when asked', async () => {
    const lib = new Library(tempDir());
    const vm = await lib.create(newVm('Keep'));
    writeFileSync(path.join(vm.dir, 'my-notes.txt'), 'mine');
    const result = await lib.delete('Keep', { keepDisks: true });
    expect(result.keptFolder).toBe(true);
    expect(readdirSync(vm.dir).sort()).toEqual(['Keep.qcow2', 'my-notes.txt']);
    const gone = await lib.create(newVm('Gone'));
    expect(await lib.delete('Gone', { keepDisks: false })).toEqual({ keptFolder: false });
    expect(existsSync(gone.dir)).toBe(false);
  });

  it('creates a raw disk as a sparse file of the full size', async () => {
    const lib = new Library(tempDir());
    const vm = await lib.create(newVm('Raw', { disk: { kind: 'new', sizeMiB: 64, format: 'raw' } }));
    const stat = await fsp.stat(path.join(vm.dir, 'Raw.img'));
    expect(stat.size).toBe(64 * 1024 * 1024);
  });

  it.skipIf(!hasQemuImg())('creates qcow2 images that qemu-img accepts', async () => {
    const lib = new Library(tempDir());
    const vm = await lib.create(newVm('Qcow', { disk: { kind: 'new', sizeMiB: 3 * 1024, format: 'qcow2' } }));
    const file = path.join(vm.dir, 'Qcow.qcow2');
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', file], { encoding: 'utf8' }));
    expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': 3 * 1024 * 1024 * 1024 });
    execFileSync('qemu-img', ['check', file]);
  });

  it('removes a half-made VM when disk creation fails', async () => {
    const lib = new Library(tempDir());
    await expect(lib.create(newVm('Huge', { disk: { kind: 'new', sizeMiB: Number.NaN, format: 'raw' } }))).rejects.toBeInstanceOf(AppError);
    expect(readdirSync(lib.root)).toEqual([]);
  });
});
