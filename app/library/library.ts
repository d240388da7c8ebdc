/**
 * The VM library: a root folder with one folder per VM, each holding
 * `<name>.terrarium.json`, its disks, Snapshots/ and Logs/. The folder name is the VM's id.
 * Broken configs are listed as error entries and never written; every write is atomic.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { AppError, toAppError, type ErrorInfo } from '../errors.js';
import { createDiskImage, type DiskFormat } from '../media/disk-image.js';
import { removeStaleTemps } from './atomic-write.js';
import { loadConfigFile, saveConfigFile } from './config-file.js';
import { CONFIG_SUFFIX, describeIssues, vmConfigSchema, type DiskEntry, type NetworkSettings, type VmConfig } from './config-schema.js';
import { randomMac } from './mac.js';
import { MIGRATIONS, type MigrationPlan } from './migrate.js';
import { nameProblem, sameName } from './names.js';
import { KeyedMutex } from './mutex.js';

export type LibraryEntry =
  | { status: 'ok'; id: string; dir: string; file: string; config: VmConfig; upgradedFrom?: number }
  | { status: 'error'; id: string; dir: string; file: string; error: ErrorInfo };

export type OkEntry = Extract<LibraryEntry, { status: 'ok' }>;

export type NewDisk = { kind: 'new'; sizeMiB: number; format: DiskFormat } | { kind: 'existing'; path: string; format: DiskFormat } | { kind: 'none' };

/**
 * A complete config minus what the library decides (version, creation time, storage); the
 * network adapter defaults to NAT with a MAC no other VM in the library has.
 */
export type NewVm = Omit<VmConfig, 'schemaVersion' | 'createdAt' | 'storage' | 'network'> & { disk: NewDisk; cdrom: string | null; network?: NetworkSettings };

export type StepProgress = (message: string, fraction: number) => void;

const MiB = 1024 * 1024;
const SNAPSHOTS = 'Snapshots';
const LOGS = 'Logs';
export const LAST_FRAME = 'last-frame.png';

export class Library {
  private readonly mutex = new KeyedMutex();

  constructor(
    readonly root: string,
    private readonly plan: MigrationPlan = MIGRATIONS,
  ) {}

  async ensureRoot(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true }).catch((e: unknown) => {
      throw toAppError(e);
    });
  }

  async list(): Promise<LibraryEntry[]> {
    await this.ensureRoot();
    const dirents = await fsp.readdir(this.root, { withFileTypes: true });
    const entries: LibraryEntry[] = [];
    for (const d of dirents) {
      if (!d.isDirectory() || d.name.startsWith('.')) continue;
      const entry = await this.read(d.name);
      if (entry !== null) entries.push(entry);
    }
    return entries.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The entry for a VM folder, or null when the folder holds no config at all. */
  private async read(id: string): Promise<LibraryEntry | null> {
    const dir = path.join(this.root, id);
    const file = await findConfigFile(dir, id);
    if (file === null) return null;
    await removeStaleTemps(dir);
    const loaded = await loadConfigFile(file, this.plan);
    if (!loaded.ok) return { status: 'error', id, dir, file, error: loaded.error };
    const entry: OkEntry = { status: 'ok', id, dir, file, config: loaded.config };
    if (loaded.upgradedFrom !== undefined) entry.upgradedFrom = loaded.upgradedFrom;
    return entry;
  }

  async get(id: string): Promise<LibraryEntry> {
    checkId(id);
    const entry = await this.read(id);
    if (entry === null) throw new AppError('NOT_FOUND', `There is no VM "${id}" in the library.`, { hint: 'Refresh the list; it may have been deleted or renamed.' });
    return entry;
  }

  /** A VM that loads cleanly; broken ones are refused with the reason they are broken. */
  async getOk(id: string): Promise<OkEntry> {
    const entry = await this.get(id);
    if (entry.status === 'error') {
      throw new AppError(entry.error.code, entry.error.message, { hint: entry.error.hint ?? `Fix or remove ${entry.file}.` });
    }
    return entry;
  }

  async create(input: NewVm, progress: StepProgress = () => undefined): Promise<OkEntry> {
    const problem = nameProblem(input.name);
    if (problem !== null) throw new AppError('BAD_INPUT', problem, { field: 'name' });
    return this.mutex.run(`create:${input.name.toLowerCase()}`, async () => {
      await this.assertNameFree(input.name);
      // The library folder may have been removed since the app listed it.
      await this.ensureRoot();
      const dir = path.join(this.root, input.name);
      try {
        await fsp.mkdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw nameTaken(input.name);
        throw toAppError(error);
      }
      try {
        const disks: DiskEntry[] = [];
        if (input.disk.kind === 'new') {
          const fileName = `${input.name}.${input.disk.format === 'qcow2' ? 'qcow2' : 'img'}`;
          progress(`Creating ${fileName}`, 0);
          await createDiskImage(path.join(dir, fileName), input.disk.sizeMiB * MiB, input.disk.format, (f) => progress(`Creating ${fileName}`, f * 0.9));
          disks.push({ path: fileName, format: input.disk.format, readOnly: false });
        } else if (input.disk.kind === 'existing') {
          disks.push({ path: path.resolve(input.disk.path), format: input.disk.format, readOnly: false });
        }
        const { disk: _disk, cdrom, network, ...rest } = input;
        const config: VmConfig = {
          ...rest,
          schemaVersion: this.plan.current,
          createdAt: new Date().toISOString(),
          storage: { disks, cdrom },
          network: network ?? { mode: 'nat', mac: await this.freshMac(), blockHostAccess: false, forwards: [] },
        };
        validate(config);
        progress('Writing the configuration', 0.95);
        const file = path.join(dir, input.name + CONFIG_SUFFIX);
        await saveConfigFile(file, config);
        progress('Done', 1);
        return { status: 'ok', id: input.name, dir, file, config };
      } catch (error) {
        // Nothing of a half-made VM stays behind; the folder was ours alone (mkdir succeeded).
        await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
        throw toAppError(error);
      }
    });
  }

  /**
   * Apply a change. A new name renames the folder and the config file too (the id changes);
   * the caller makes sure the VM is not running.
   */
  async update(id: string, change: (config: VmConfig) => VmConfig): Promise<OkEntry> {
    return this.mutex.run(id, async () => {
      const entry = await this.getOk(id);
      const next = change(structuredClone(entry.config));
      validate(next);
      if (next.name === entry.config.name || next.name === id) {
        await saveConfigFile(entry.file, next, entry.upgradedFrom === undefined ? {} : { upgradedFrom: entry.upgradedFrom });
        return { status: 'ok', id, dir: entry.dir, file: entry.file, config: next };
      }
      return this.rename(entry, next);
    });
  }

  private async rename(entry: OkEntry, next: VmConfig): Promise<OkEntry> {
    if (!sameName(next.name, entry.id)) await this.assertNameFree(next.name);
    const dir = path.join(this.root, next.name);
    const file = path.join(dir, next.name + CONFIG_SUFFIX);
    // Save under the old name first so a crash mid-rename leaves a loadable VM either way.
    await saveConfigFile(entry.file, next, entry.upgradedFrom === undefined ? {} : { upgradedFrom: entry.upgradedFrom });
    await fsp.rename(entry.dir, dir).catch((e: unknown) => {
      throw toAppError(e);
    });
    await fsp.rename(path.join(dir, path.basename(entry.file)), file).catch((e: unknown) => {
      throw toAppError(e);
    });
    return { status: 'ok', id: next.name, dir, file, config: next };
  }

  async clone(id: string, name: string, progress: StepProgress = () => undefined): Promise<OkEntry> {
    const problem = nameProblem(name);
    if (problem !== null) throw new AppError('BAD_INPUT', problem, { field: 'name' });
    const source = await this.getOk(id);
    await this.assertNameFree(name);
    const dir = path.join(this.root, name);
    await fsp.mkdir(dir).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'EEXIST' ? nameTaken(name) : toAppError(e);
    });
    try {
      const disks: DiskEntry[] = [];
      const total = source.config.storage.disks.length;
      for (const [i, disk] of source.config.storage.disks.entries()) {
        const ext = disk.format === 'qcow2' ? 'qcow2' : 'img';
        const fileName = i === 0 ? `${name}.${ext}` : `${name}-${i}.${ext}`;
        progress(`Copying disk ${i + 1} of ${total}`, i / Math.max(1, total));
        // FICLONE: a copy-on-write clone where the file system can; a plain copy otherwise.
        await fsp.copyFile(this.diskPath(source, disk), path.join(dir, fileName), fsp.constants.COPYFILE_EXCL | fsp.constants.COPYFILE_FICLONE);
        disks.push({ ...disk, path: fileName });
      }
      // A clone is another machine: its own MAC, so both can share a network later.
      const network = { ...structuredClone(source.config.network), mac: await this.freshMac() };
      const config: VmConfig = { ...structuredClone(source.config), name, createdAt: new Date().toISOString(), storage: { ...source.config.storage, disks }, network };
      validate(config);
      const file = path.join(dir, name + CONFIG_SUFFIX);
      await saveConfigFile(file, config);
      progress('Done', 1);
      return { status: 'ok', id: name, dir, file, config };
    } catch (error) {
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw toAppError(error);
    }
  }

  /**
   * Remove a VM: its config, snapshots, logs and (unless kept) the disks inside its folder.
   * Disks outside the folder are never touched; nor are files Terrarium did not make.
   */
  async delete(id: string, options: { keepDisks: boolean }): Promise<{ keptFolder: boolean }> {
    return this.mutex.run(id, async () => {
      const entry = await this.get(id);
      if (entry.status === 'error') {
        throw new AppError('CORRUPT', `"${id}" has a config Terrarium cannot read, so it will not delete it.`, {
          hint: `Look at ${entry.file}, then fix it or remove the folder ${entry.dir} yourself.`,
        });
      }
      const ours = new Set<string>([path.basename(entry.file), SNAPSHOTS, LOGS, LAST_FRAME]);
      if (!options.keepDisks) {
        for (const disk of entry.config.storage.disks) {
          const full = this.diskPath(entry, disk);
          if (path.dirname(full) === entry.dir) ours.add(path.basename(full));
        }
      }
      for (const name of await fsp.readdir(entry.dir)) {
        // .terrarium.* are Terrarium's own bookkeeping (lock, CLI state); .v<N>.bak are upgrade backups.
        if (ours.has(name) || name.startsWith('.terrarium.') || name.startsWith(path.basename(entry.file) + '.v')) await fsp.rm(path.join(entry.dir, name), { recursive: true, force: true });
      }
      const keptFolder = await fsp.rmdir(entry.dir).then(
        () => false,
        () => true,
      );
      return { keptFolder };
    });
  }

  /** Create a new empty disk in the VM's folder and attach it. */
  async addDisk(id: string, sizeMiB: number, format: DiskFormat, progress: StepProgress = () => undefined): Promise<OkEntry> {
    const entry = await this.getOk(id);
    const ext = format === 'qcow2' ? 'qcow2' : 'img';
    const taken = new Set(await fsp.readdir(entry.dir));
    let fileName = `${entry.id}.${ext}`;
    for (let i = 1; taken.has(fileName); i++) fileName = `${entry.id}-${i}.${ext}`;
    progress(`Creating ${fileName}`, 0);
    await createDiskImage(path.join(entry.dir, fileName), sizeMiB * MiB, format, (f) => progress(`Creating ${fileName}`, f * 0.9));
    try {
      return await this.update(id, (c) => ({ ...c, storage: { ...c.storage, disks: [...c.storage.disks, { path: fileName, format, readOnly: false }] } }));
    } catch (error) {
      await fsp.unlink(path.join(entry.dir, fileName)).catch(() => undefined);
      throw error;
    }
  }

  diskPath(entry: OkEntry, disk: DiskEntry): string {
    return path.resolve(entry.dir, disk.path);
  }

  logsDir(entry: { dir: string }): string {
    return path.join(entry.dir, LOGS);
  }

  /** A random MAC that no VM of the library uses (a clash is unlikely, 1 in 16 million, but free to rule out). */
  async freshMac(): Promise<string> {
    const taken = new Set((await this.list()).flatMap((e) => (e.status === 'ok' ? [e.config.network.mac] : [])));
    for (;;) {
      const mac = randomMac();
      if (!taken.has(mac)) return mac;
    }
  }

  private async assertNameFree(name: string): Promise<void> {
    const names = await fsp.readdir(this.root).catch(() => [] as string[]);
    if (names.some((n) => sameName(n, name))) throw nameTaken(name);
  }
}

function nameTaken(name: string): AppError {
  return new AppError('CONFLICT', `A VM named "${name}" already exists.`, { field: 'name', hint: 'Choose another name.' });
}

function validate(config: VmConfig): void {
  const checked = vmConfigSchema.safeParse(config);
  if (!checked.success) {
    throw new AppError('BAD_INPUT', describeIssues(checked.error), { field: checked.error.issues[0]?.path.join('.') });
  }
}

/** Ids are folder names inside the root: nothing that could escape it. */
function checkId(id: string): void {
  if (id === '' || id === '.' || id === '..' || /[/\\\0]/.test(id)) throw new AppError('BAD_INPUT', `"${id}" is not a VM id.`, { field: 'id' });
}

async function findConfigFile(dir: string, id: string): Promise<string | null> {
  const preferred = path.join(dir, id + CONFIG_SUFFIX);
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  if (names.includes(id + CONFIG_SUFFIX)) return preferred;
  const other = names.find((n) => n.endsWith(CONFIG_SUFFIX) && !n.startsWith('.'));
  return other === undefined ? null : path.join(dir, other);
}
