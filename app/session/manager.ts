/**
 * All sessions of this process: starts VMs (one worker each, under the VM's lock), keeps
 * the outcome of the last run for display, saves the last frame as the VM's thumbnail.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { MachineConfig, NetStatus, RunState } from '../../emulator-core/machine/types.js';
import { describeForward } from '../../emulator-core/net/forward-rules.js';
import { AppError, toAppError, type ErrorInfo } from '../errors.js';
import { findFirmware, type Firmware } from '../host/firmware.js';
import { writeFileAtomic } from '../library/atomic-write.js';
import { LAST_FRAME, type OkEntry } from '../library/library.js';
import { acquireLock, liveLock } from './lock.js';
import { toMachineConfig } from './machine-config.js';
import { encodePng, type Rect } from './screen-mirror.js';
import { Session } from './session.js';
import { VmLog } from './vm-log.js';
import { defaultWorkerUrl } from './worker-path.js';

export interface SessionStatus {
  state: RunState;
  /** Set when the VM runs in another process (the CLI, another window). */
  elsewhere?: { pid: number; owner: string };
  error?: ErrorInfo;
  accel?: { accel: 'kvm' | 'interpreter'; why: string };
  /** Why the last run ended, when it ended by itself. */
  exitReason?: string;
  startedAt?: string;
  /** While it runs here with NAT and the machine has reported: the guest's address and active forwards. */
  net?: NetStatus;
}

export interface ManagerListener {
  status(id: string, status: SessionStatus): void;
  screen(id: string, rect: Rect): void;
  serial(id: string, bytes: Uint8Array): void;
}

export interface ManagerOptions {
  /** Who holds the locks this manager takes ("web host", "desktop app", "cli"). */
  owner: string;
  listener: ManagerListener;
  /** The compiled worker to run; tests pass a test double's. */
  workerUrl?: URL;
  firmware?: Firmware;
}

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly lastOutcome = new Map<string, SessionStatus>();
  /** What each VM printed on COM1 in its last run (the last 64 KiB), for a terminal opened after it ended. */
  private readonly lastSerial = new Map<string, Uint8Array>();
  /** Sessions that ended and are still saving their last frame and releasing their lock. */
  private readonly finishing = new Map<string, Promise<void>>();

  constructor(private readonly options: ManagerOptions) {}

  session(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** A running (or starting, paused, stopping) session, or a CONFLICT saying why there is none. */
  active(id: string): Session {
    const session = this.sessions.get(id);
    if (session === undefined || session.over) {
      throw new AppError('CONFLICT', `"${id}" is not running.`, { hint: 'Start it first.' });
    }
    return session;
  }

  isActive(id: string): boolean {
    const s = this.sessions.get(id);
    return s !== undefined && !s.over;
  }

  async status(id: string, dir: string): Promise<SessionStatus> {
    await this.finishing.get(id);
    const session = this.sessions.get(id);
    if (session !== undefined && !session.over) return this.statusOf(session);
    const lock = await liveLock(dir);
    if (lock !== null && lock.pid !== process.pid) return { state: 'running', elsewhere: { pid: lock.pid, owner: lock.owner }, startedAt: lock.startedAt };
    return this.lastOutcome.get(id) ?? { state: 'stopped' };
  }

  /** Refuse changes a running VM cannot take (memory, disks, rename, delete). */
  async assertStopped(entry: { id: string; dir: string }, action: string): Promise<void> {
    const status = await this.status(entry.id, entry.dir);
    if (status.state !== 'stopped' && status.state !== 'error') {
      throw new AppError('CONFLICT', `Cannot ${action} "${entry.id}" while it is ${status.state}${status.elsewhere ? ` in ${status.elsewhere.owner} (process ${status.elsewhere.pid})` : ''}.`, {
        hint: 'Stop the VM first.',
      });
    }
  }

  async start(entry: OkEntry): Promise<Session> {
    await this.finishing.get(entry.id);
    if (this.isActive(entry.id)) throw new AppError('CONFLICT', `"${entry.id}" is already running.`, { hint: 'Open its console to use it.' });
    const config = toMachineConfig(entry, this.options.firmware ?? findFirmware());
    const workerUrl = this.options.workerUrl ?? defaultWorkerUrl();
    const lock = await acquireLock(entry.dir, this.options.owner);
    const logs = path.join(entry.dir, 'Logs');
    const serialLog = entry.config.serial.logToFile ? path.join(logs, 'serial.log') : undefined;
    try {
      await fsp.mkdir(logs, { recursive: true });
    } catch (error) {
      await lock.release();
      throw toAppError(error);
    }
    const log = new VmLog(path.join(logs, 'vm.log'));
    log.line(`start by ${this.options.owner} (process ${process.pid}): ${describeConfig(config)}`);
    this.lastOutcome.delete(entry.id);
    const { listener } = this.options;
    // The session reports states from its constructor on; `ref` is set right after.
    const ref: { session?: Session } = {};
    const options = {
      workerUrl,
      listener: {
        state: (state: RunState) => {
          log.line(`state: ${state}`);
          // The final state is announced once the lock is released (see below).
          if (ref.session !== undefined && !ref.session.over) listener.status(entry.id, this.statusOf(ref.session));
        },
        log: (line: string) => log.line(line),
        network: (net: NetStatus) => {
          log.line(`network: guest ${net.guestAddress ?? 'without an address yet'}; forwards ${net.forwards.map(describeForward).join(', ') || 'none'}`);
          if (ref.session !== undefined && !ref.session.over) listener.status(entry.id, this.statusOf(ref.session));
        },
        screen: (rect: Rect) => listener.screen(entry.id, rect),
        serial: (bytes: Uint8Array) => listener.serial(entry.id, bytes),
      },
      ...(serialLog === undefined ? {} : { serialLog }),
    };
    const session = new Session(entry.id, config, options);
    ref.session = session;
    this.sessions.set(entry.id, session);
    listener.status(entry.id, this.statusOf(session));
    const started = session;
    void started.done.then(() => {
      const finished = (async () => {
        await this.saveLastFrame(entry.dir, started).catch(() => undefined);
        await lock.release();
        if (this.sessions.get(entry.id) === started) this.sessions.delete(entry.id);
        const outcome = this.statusOf(started);
        if (outcome.error !== undefined) {
          log.line(`error: ${outcome.error.message}`);
          const hint = outcome.error.hint?.replace('the VM log', log.file) ?? `See ${log.file}.`;
          outcome.error = { ...outcome.error, hint };
        } else log.line(`ended: ${outcome.exitReason ?? 'stopped'}`);
        await log.close();
        this.lastOutcome.set(entry.id, outcome);
        this.lastSerial.set(entry.id, started.serial.contents());
        this.finishing.delete(entry.id);
        listener.status(entry.id, outcome);
      })();
      this.finishing.set(entry.id, finished);
    });
    return session;
  }

  /** The serial output so far (running) or of the last run (stopped), up to 64 KiB. */
  serialHistory(id: string): Uint8Array {
    return this.sessions.get(id)?.serial.contents() ?? this.lastSerial.get(id) ?? new Uint8Array(0);
  }

  /** Forget a finished run's error (the user dismissed it). */
  clearOutcome(id: string): void {
    this.lastOutcome.delete(id);
  }

  /** Power off everything (the host is quitting) and wait, briefly, for the workers. */
  async shutdownAll(timeoutMs = 5000): Promise<void> {
    const running = [...this.sessions.values()].filter((s) => !s.over);
    for (const s of running) s.powerOff();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(running.map((s) => s.done)), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    await Promise.all(this.finishing.values());
  }

  private statusOf(session: Session): SessionStatus {
    const status: SessionStatus = { state: session.state, startedAt: session.startedAt.toISOString() };
    if (session.error !== null) status.error = session.error;
    if (session.accel !== null) status.accel = session.accel;
    if (session.exit !== null) status.exitReason = session.exit.reason;
    if (session.net !== null && !session.over) status.net = session.net;
    return status;
  }

  private async saveLastFrame(dir: string, session: Session): Promise<void> {
    if (session.screen.empty) return;
    const { width, height, rgba } = session.screen.scaled(640);
    await writeFileAtomic(path.join(dir, LAST_FRAME), encodePng(width, height, rgba));
  }
}

function describeConfig(c: MachineConfig): string {
  const cpus = c.cpus ?? 1;
  const parts = [`${c.memoryMiB} MiB`, `${cpus} CPU${cpus === 1 ? '' : 's'}`, `accel ${c.accel}`];
  if (c.kernel !== undefined) parts.push(`kernel ${c.kernel}`);
  if (c.boot !== undefined) parts.push(`boot ${c.boot}`);
  if (c.cdrom !== undefined) parts.push(`cdrom ${c.cdrom}`);
  for (const d of c.disks ?? []) parts.push(`disk ${d.path} (${d.format ?? 'auto'})`);
  if (c.net?.mode === 'nat') {
    const forwards = c.net.forwards ?? [];
    parts.push(`net nat ${c.net.mac ?? ''}${c.net.blockHostAccess === true ? ' (no host access)' : ''}${forwards.length > 0 ? `, forwards ${forwards.map(describeForward).join(', ')}` : ''}`);
  } else parts.push('net none');
  return parts.join(', ');
}
