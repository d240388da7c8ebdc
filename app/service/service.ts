/**
 * The contract's implementation: every handler of TerrariumApi, on top of the library,
 * the session manager and the media folder. Transports (Electron IPC, WebSocket) call
 * dispatch() with untrusted input; events go to each Connection's sink.
 */
import { existsSync, promises as fsp, watch, type FSWatcher } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { ApiEvent, HostInfo, MethodName, Params, Result, SessionInfo, VmInfo, VmSettings } from '../contract/api.js';
import { Connection, type EventSink } from '../contract/connection.js';
import { paramSchemas } from '../contract/schemas.js';
import { AppError, toAppError } from '../errors.js';
import type { DataPaths } from '../host/paths.js';
import { describeIssues, type PortForwardSetting, type VmConfig } from '../library/config-schema.js';
import { LAST_FRAME, Library, type LibraryEntry, type NewVm, type OkEntry } from '../library/library.js';
import { presetFor } from '../library/os-types.js';
import { inspectIso } from '../media/iso.js';
import { liveLock } from '../session/lock.js';
import { SessionManager, type SessionStatus } from '../session/manager.js';
import { toPortForward } from '../session/machine-config.js';
import { encodePng } from '../session/screen-mirror.js';
import { checkNewVm, checkSettings, forwardProblems, throwIfAny, type CheckContext } from './checks.js';
import { hostInfo, maxVmMemoryMiB } from './host-info.js';
import { detectDiskFormat, diskVirtualSize, listMedia } from './media.js';
import type { PathPolicy } from './path-policy.js';
import { ScreenPump } from './screen-pump.js';

export type Handlers = { [M in MethodName]: (params: Params<M>, conn: Connection) => Promise<Result<M>> };

export interface ServiceOptions {
  paths: DataPaths;
  transport: HostInfo['transport'];
  version: string;
  /** Who holds VM locks taken here ("web host", "desktop app"). */
  owner: string;
  /** The session worker; tests use a test double's. */
  workerUrl?: URL;
  maxMemoryMiB?: number;
}

export class TerrariumService {
  readonly library: Library;
  readonly sessions: SessionManager;
  private readonly connections = new Set<Connection>();
  private readonly pump: ScreenPump;
  private watcher: FSWatcher | null = null;
  private libraryTimer: NodeJS.Timeout | null = null;
  private readonly maxMemoryMiB: number;

  constructor(readonly options: ServiceOptions) {
    this.library = new Library(options.paths.library);
    this.maxMemoryMiB = options.maxMemoryMiB ?? maxVmMemoryMiB();
    this.sessions = new SessionManager({
      owner: options.owner,
      ...(options.workerUrl === undefined ? {} : { workerUrl: options.workerUrl }),
      listener: {
        status: (id, status) => this.broadcast({ type: 'session', id, session: toSessionInfo(status) }),
        screen: (id, rect) => this.pump.dirty(id, rect),
        serial: (id, data) => {
          for (const c of this.connections) if (c.serials.has(id)) c.send({ type: 'serial', id, data });
        },
      },
    });
    this.pump = new ScreenPump(this.connections, (id) => this.sessions.session(id)?.screen ?? null);
  }

  /** Create the folders and watch the library for changes made elsewhere (the CLI). */
  async open(options: { watch: boolean } = { watch: true }): Promise<void> {
    await this.library.ensureRoot();
    await fsp.mkdir(this.options.paths.media, { recursive: true });
    if (!options.watch) return;
    try {
      this.watcher = watch(this.library.root, { recursive: false }, () => this.libraryChanged());
      this.watcher.on('error', () => undefined);
    } catch {
      // No file watching here: the UI still refreshes after its own changes.
    }
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.pump.stop();
    if (this.libraryTimer !== null) clearTimeout(this.libraryTimer);
    await this.sessions.shutdownAll();
  }

  connect(sink: EventSink, paths: PathPolicy): Connection {
    const conn = new Connection(sink, paths);
    this.connections.add(conn);
    return conn;
  }

  disconnect(conn: Connection): void {
    conn.closed = true;
    this.connections.delete(conn);
  }

  /** Validate untrusted input and run one call. Errors come back as AppError. */
  async dispatch(method: unknown, params: unknown, conn: Connection): Promise<unknown> {
    if (typeof method !== 'string' || !Object.hasOwn(paramSchemas, method)) {
      throw new AppError('BAD_INPUT', `Unknown method ${JSON.stringify(method)}.`);
    }
    const name = method as MethodName;
    const parsed = paramSchemas[name].safeParse(params ?? {});
    if (!parsed.success) {
      throw new AppError('BAD_INPUT', describeIssues(parsed.error), { field: parsed.error.issues[0]?.path.join('.') });
    }
    const handler = this.handlers[name] as (p: unknown, c: Connection) => Promise<unknown>;
    try {
      return await handler(parsed.data, conn);
    } catch (error) {
      throw toAppError(error);
    }
  }

  private broadcast(event: ApiEvent): void {
    for (const c of this.connections) c.send(event);
  }

  private libraryChanged(): void {
    // Coalesce bursts (a rename is several fs events).
    if (this.libraryTimer !== null) return;
    this.libraryTimer = setTimeout(() => {
      this.libraryTimer = null;
      this.broadcast({ type: 'library' });
    }, 150);
  }

  private checkContext(conn: Connection): CheckContext {
    return { library: this.library, maxMemoryMiB: this.maxMemoryMiB, paths: conn.paths };
  }

  private progress(conn: Connection, opId: string | undefined) {
    return (message: string, fraction: number) => {
      if (opId !== undefined) conn.send({ type: 'progress', opId, message, fraction });
    };
  }

  async vmInfo(entry: LibraryEntry): Promise<VmInfo> {
    if (entry.status === 'error') return { status: 'error', id: entry.id, dir: entry.dir, file: entry.file, error: entry.error };
    const disks = await Promise.all(
      entry.config.storage.disks.map(async (d) => {
        const absolutePath = this.library.diskPath(entry, d);
        const sizeBytes = await diskVirtualSize(absolutePath, d.format).catch(() => null);
        return { ...d, absolutePath, sizeBytes, missing: !existsSync(absolutePath) };
      }),
    );
    const session = toSessionInfo(await this.sessions.status(entry.id, entry.dir));
    return { status: 'ok', id: entry.id, dir: entry.dir, config: entry.config, disks, session, hasLastFrame: existsSync(path.join(entry.dir, LAST_FRAME)) };
  }

  private async sessionInfo(id: string): Promise<SessionInfo> {
    const entry = await this.library.get(id);
    return toSessionInfo(await this.sessions.status(id, entry.dir));
  }

  /**
   * A VM started by `terrarium start` runs in its own process: stop it the way
   * `terrarium stop` does (SIGTERM: ACPI shutdown, SIGHUP: power off). False when the VM
   * is not such a process's.
   */
  private async signalCliSession(id: string, signal: 'SIGTERM' | 'SIGHUP'): Promise<boolean> {
    if (this.sessions.isActive(id)) return false;
    const entry = await this.library.get(id);
    const lock = await liveLock(entry.dir);
    if (lock === null || lock.owner !== 'cli' || lock.pid === process.pid || lock.host !== hostname()) return false;
    process.kill(lock.pid, signal);
    return true;
  }

  /**
   * Save a change that carries these port forwards. A VM running here with NAT takes them
   * first: if it refuses (a host port in use), nothing is saved and the error names the
   * rule's field (after `fieldPrefix`); if the save then fails, it gets its old ones back.
   * A VM stopped, or started without NAT, takes them at its next start.
   */
  private async withLiveForwards(entry: OkEntry, forwards: PortForwardSetting[], fieldPrefix: string, save: () => Promise<OkEntry>): Promise<OkEntry> {
    if (JSON.stringify(forwards) === JSON.stringify(entry.config.network.forwards)) return save();
    const session = this.sessions.session(entry.id);
    if (session === undefined || session.over) {
      const status = await this.sessions.status(entry.id, entry.dir);
      if (status.elsewhere !== undefined) {
        throw new AppError('CONFLICT', `"${entry.id}" runs in ${status.elsewhere.owner} (process ${status.elsewhere.pid}): its port forwards cannot change from here while it runs.`, {
          hint: 'Stop it first; the new forwards apply when it next starts.',
          field: `${fieldPrefix}forwards`,
        });
      }
      return save();
    }
    if (!session.hasNat) return save();
    try {
      await session.setForwards(forwards.map(toPortForward));
    } catch (error) {
      const e = toAppError(error);
      throw new AppError(e.code, e.message, { hint: e.hint, field: `${fieldPrefix}${e.field ?? 'forwards'}`, cause: error });
    }
    try {
      return await save();
    } catch (error) {
      await session.setForwards(entry.config.network.forwards.map(toPortForward)).catch(() => undefined);
      throw error;
    }
  }

  private async changed(entry: LibraryEntry): Promise<VmInfo> {
    this.broadcast({ type: 'library' });
    return this.vmInfo(entry);
  }

  readonly handlers: Handlers = {
    hostInfo: async () => hostInfo(this.options.transport, this.options.paths, this.options.version),
    listVms: async () => Promise.all((await this.library.list()).map((e) => this.vmInfo(e))),
    getVm: async ({ id }) => this.vmInfo(await this.library.get(id)),
    checkNewVm: async ({ draft }, conn) => checkNewVm(draft, this.checkContext(conn)),
    checkSettings: async ({ id, settings }, conn) => checkSettings(await this.library.getOk(id), settings, this.checkContext(conn)),

    createVm: async (params, conn) => {
      throwIfAny(await checkNewVm(params, this.checkContext(conn)));
      const preset = presetFor(params.osType);
      const iso = params.iso === null ? null : await conn.paths.check(params.iso, 'iso');
      let disk: NewVm['disk'] = { kind: 'none' };
      if (params.disk.kind === 'new') disk = params.disk;
      else if (params.disk.kind === 'existing') {
        const file = await conn.paths.check(params.disk.path, 'disk.path');
        disk = { kind: 'existing', path: file, format: await detectDiskFormat(file) };
      }
      const entry = await this.library.create(
        {
          name: params.name,
          osType: params.osType,
          system: { memoryMiB: params.memoryMiB, cpus: params.cpus, accel: 'auto', bootOrder: iso !== null ? ['cdrom', 'disk'] : ['disk', 'cdrom'], kernel: null, initrd: null, cmdline: '' },
          display: { enabled: preset.display, scale: 'fit' },
          serial: { enabled: preset.serial || !preset.display, logToFile: false },
          notes: '',
          disk,
          cdrom: iso,
        },
        this.progress(conn, params.opId),
      );
      return this.changed(entry);
    },

    updateVm: async ({ id, settings }, conn) => {
      const entry = await this.library.getOk(id);
      const fields = await checkSettings(entry, settings, this.checkContext(conn));
      throwIfAny(fields);
      const s = settings as VmSettings;
      const live = this.sessions.isActive(id) || (await this.sessions.status(id, entry.dir)).state !== 'stopped';
      if (live && !onlyLiveChanges(entry.config, s)) await this.sessions.assertStopped(entry, 'change the settings of');
      const cdrom = s.storage.cdrom === null || s.storage.cdrom === entry.config.storage.cdrom ? s.storage.cdrom : await conn.paths.check(s.storage.cdrom, 'storage.cdrom');
      // A disk added here gets its real format from its header, whatever the client said.
      const disks = await Promise.all(
        s.storage.disks.map(async (d) => (entry.config.storage.disks.some((o) => o.path === d.path) ? d : { ...d, path: await conn.paths.check(d.path, 'storage.disks'), format: await detectDiskFormat(d.path) })),
      );
      const updated = await this.withLiveForwards(entry, s.network.forwards, 'network.', () => this.library.update(id, (c) => ({ ...c, ...s, storage: { ...s.storage, disks, cdrom } })));
      if (cdrom !== entry.config.storage.cdrom) this.sessions.session(id)?.changeCdrom(cdrom);
      return this.changed(updated);
    },

    setForwards: async ({ id, forwards }) => {
      const entry = await this.library.getOk(id);
      throwIfAny(await forwardProblems(forwards, entry.config.network.forwards, 'forwards.'));
      return this.changed(await this.withLiveForwards(entry, forwards, '', () => this.library.update(id, (c) => ({ ...c, network: { ...c.network, forwards } }))));
    },

    cloneVm: async ({ id, name, opId }, conn) => {
      const source = await this.library.getOk(id);
      await this.sessions.assertStopped(source, 'clone');
      return this.changed(await this.library.clone(id, name, this.progress(conn, opId)));
    },

    deleteVm: async ({ id, keepDisks }) => {
      const entry = await this.library.get(id);
      await this.sessions.assertStopped(entry, 'delete');
      const result = await this.library.delete(id, { keepDisks });
      this.sessions.clearOutcome(id);
      this.broadcast({ type: 'library' });
      return result;
    },

    startVm: async ({ id }) => {
      const entry = await this.library.getOk(id);
      await this.sessions.start(entry);
      return this.sessionInfo(id);
    },
    pauseVm: async ({ id }) => {
      this.sessions.active(id).pause();
      return this.sessionInfo(id);
    },
    resumeVm: async ({ id }) => {
      this.sessions.active(id).resume();
      return this.sessionInfo(id);
    },
    resetVm: async ({ id }) => {
      this.sessions.active(id).reset();
      return this.sessionInfo(id);
    },
    acpiShutdown: async ({ id }) => {
      if (!(await this.signalCliSession(id, 'SIGTERM'))) this.sessions.active(id).acpiShutdown();
      return this.sessionInfo(id);
    },
    powerOff: async ({ id }) => {
      if (!(await this.signalCliSession(id, 'SIGHUP'))) this.sessions.active(id).powerOff();
      return this.sessionInfo(id);
    },
    dismissError: async ({ id }) => {
      this.sessions.clearOutcome(id);
      const info = await this.sessionInfo(id);
      this.broadcast({ type: 'session', id, session: info });
      return info;
    },

    attachIso: async ({ id, path: file, bootFirst }, conn) => {
      const iso = await inspectIso(await conn.paths.check(file, 'path'));
      const entry = await this.library.getOk(id);
      const running = this.sessions.isActive(id);
      const updated = await this.library.update(id, (c) => ({
        ...c,
        storage: { ...c.storage, cdrom: iso.path },
        system: bootFirst ? { ...c.system, bootOrder: ['cdrom', ...c.system.bootOrder.filter((d) => d !== 'cdrom')] } : c.system,
      }));
      if (running) this.sessions.session(entry.id)?.changeCdrom(iso.path);
      return this.changed(updated);
    },
    ejectIso: async ({ id }) => {
      const updated = await this.library.update(id, (c) => ({ ...c, storage: { ...c.storage, cdrom: null } }));
      this.sessions.session(id)?.changeCdrom(null);
      return this.changed(updated);
    },
    createDisk: async ({ id, sizeMiB, format, opId }, conn) => {
      const entry = await this.library.getOk(id);
      await this.sessions.assertStopped(entry, 'add a disk to');
      return this.changed(await this.library.addDisk(id, sizeMiB, format, this.progress(conn, opId)));
    },
    inspectIso: async ({ path: file }, conn) => inspectIso(await conn.paths.check(file, 'path')),
    listMedia: async () => listMedia(this.options.paths.media),

    subscribeScreen: async ({ id }, conn) => {
      await this.library.get(id);
      conn.screens.set(id, null);
      const screen = this.sessions.session(id)?.screen;
      if (screen === undefined || screen.empty) return null;
      this.pump.dirty(id, { x: 0, y: 0, w: screen.width, h: screen.height }, conn);
      return { width: screen.width, height: screen.height };
    },
    unsubscribeScreen: async ({ id }, conn) => {
      conn.screens.delete(id);
      return null;
    },
    subscribeSerial: async ({ id }, conn) => {
      await this.library.get(id);
      conn.serials.add(id);
      return { history: this.sessions.serialHistory(id) };
    },
    unsubscribeSerial: async ({ id }, conn) => {
      conn.serials.delete(id);
      return null;
    },

    sendKey: async ({ id, code, down }) => {
      this.sessions.active(id).sendKey(code, down);
      return null;
    },
    sendKeyCombo: async ({ id, codes }) => {
      const session = this.sessions.active(id);
      for (const code of codes) session.sendKey(code, true);
      for (const code of [...codes].reverse()) session.sendKey(code, false);
      return null;
    },
    sendPointer: async ({ id, dx, dy, buttons }) => {
      this.sessions.active(id).sendPointer(dx, dy, buttons);
      return null;
    },
    sendSerial: async ({ id, data }) => {
      this.sessions.active(id).sendSerial(new TextEncoder().encode(data));
      return null;
    },

    screenshot: async ({ id }) => {
      const entry = await this.library.getOk(id);
      const frame = await this.sessions.active(id).screenshot();
      if (frame === null) throw new AppError('CONFLICT', `"${id}" has no screen yet.`, { hint: 'Wait until the guest shows something, or use the serial console.' });
      const png = encodePng(frame.width, frame.height, frame.rgba);
      const dir = path.join(entry.dir, 'Screenshots');
      await fsp.mkdir(dir, { recursive: true });
      const savedAs = path.join(dir, `${entry.id} ${new Date().toISOString().replace(/[:.]/g, '-')}.png`);
      await fsp.writeFile(savedAs, png);
      return { width: frame.width, height: frame.height, png, savedAs };
    },
    thumbnail: async ({ id }) => {
      const entry = await this.library.get(id);
      const screen = this.sessions.session(id)?.screen;
      if (screen !== undefined && !screen.empty) {
        const t = screen.scaled(320);
        return { width: t.width, height: t.height, png: encodePng(t.width, t.height, t.rgba) };
      }
      const file = path.join(entry.dir, LAST_FRAME);
      const png = await fsp.readFile(file).catch(() => null);
      if (png === null) return null;
      return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), png: new Uint8Array(png) };
    },
  };
}

/**
 * While a VM runs, only the CD medium, the notes, the display scale and the network may
 * change (forwards apply at once, the adapter's mode, MAC and host access at the next start).
 */
function onlyLiveChanges(old: VmConfig, next: VmSettings): boolean {
  // Both sides went through the schema, so their keys come in one order; bookkeeping is not a setting.
  const strip = ({ schemaVersion: _v, createdAt: _c, ...c }: VmSettings & Partial<Pick<VmConfig, 'schemaVersion' | 'createdAt'>>) =>
    JSON.stringify({ ...c, notes: '', display: { ...c.display, scale: 'fit' }, storage: { ...c.storage, cdrom: null }, network: null });
  return strip(old) === strip(next);
}

function toSessionInfo(status: SessionStatus): SessionInfo {
  return { ...status };
}

export type { OkEntry };
