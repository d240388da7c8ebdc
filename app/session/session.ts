/**
 * One running VM: a worker thread that owns the Machine, and on this side the relay state
 * (run state, a mirror of the screen, recent serial output). The session enforces the state
 * machine stopped → starting → running ⇄ paused → stopping → stopped (or error).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { MachineConfig, MachineExit, NetStatus, PortForward, RunState, ScreenUpdate } from '../../emulator-core/machine/types.js';
import { AppError, type ErrorInfo } from '../errors.js';
import { ByteRing } from './byte-ring.js';
import type { FromWorker, ToWorker } from './messages.js';
import { ScreenMirror, type Rect } from './screen-mirror.js';

export interface SessionListener {
  state(state: RunState): void;
  screen(rect: Rect): void;
  serial(bytes: Uint8Array): void;
  log?(line: string): void;
  /** The guest's address or the active forwards changed. */
  network?(status: NetStatus): void;
}

export interface SessionOptions {
  workerUrl: URL;
  listener: SessionListener;
  /** Append the guest's serial output here too. */
  serialLog?: string;
  /** How long a powered-off machine may take to stop before its worker is terminated. */
  powerOffGraceMs?: number;
  /** How long the machine may take to apply new port forwards before the change is reported failed. */
  forwardsTimeoutMs?: number;
}

interface PendingForwards {
  resolve(): void;
  reject(error: AppError): void;
  timer: NodeJS.Timeout;
}

const SERIAL_HISTORY = 64 * 1024;

export class Session {
  private stateValue: RunState = 'starting';
  readonly screen = new ScreenMirror();
  readonly serial = new ByteRing(SERIAL_HISTORY);
  error: ErrorInfo | null = null;
  exit: MachineExit | null = null;
  accel: { accel: 'kvm' | 'interpreter'; why: string } | null = null;
  /** The NAT adapter's latest status (null before the machine reports one, or without NAT). */
  net: NetStatus | null = null;
  /** The machine was built with a NAT adapter, so its forwards can change while it runs. */
  readonly hasNat: boolean;
  readonly startedAt = new Date();
  /** Resolves when the session is over (stopped or error); never rejects. */
  readonly done: Promise<void>;
  private finish!: () => void;
  private readonly worker: Worker;
  private readonly serialLog: WriteStream | null;
  private nextRequest = 1;
  private readonly screenshots = new Map<number, (u: ScreenUpdate | null) => void>();
  private readonly forwardChanges = new Map<number, PendingForwards>();
  private killTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly vmId: string,
    config: MachineConfig,
    private readonly options: SessionOptions,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.hasNat = config.net?.mode === 'nat';
    this.serialLog = options.serialLog === undefined ? null : createWriteStream(options.serialLog, { flags: 'a' });
    this.serialLog?.on('error', () => undefined); // a full log disk must not stop the VM
    this.worker = new Worker(options.workerUrl, { name: `vm:${vmId}` });
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (error) => this.end('error', { code: 'INTERNAL', message: `The VM's worker failed: ${error.message}`, hint: 'See the VM log; this is a bug in Terrarium.' }));
    this.worker.on('exit', (code) => {
      if (!this.over) this.end('error', { code: 'INTERNAL', message: `The VM's worker stopped unexpectedly (exit code ${code}).` });
    });
    this.post({ type: 'start', config });
    this.options.listener.state('starting');
  }

  get state(): RunState {
    return this.stateValue;
  }

  get over(): boolean {
    return this.stateValue === 'stopped' || this.stateValue === 'error';
  }

  pause(): void {
    this.require(['running'], 'pause');
    this.post({ type: 'pause' });
  }

  resume(): void {
    this.require(['paused'], 'resume');
    this.post({ type: 'resume' });
  }

  reset(): void {
    this.require(['running', 'paused'], 'reset');
    this.post({ type: 'reset' });
  }

  /** Ask the guest to shut down (ACPI power button); it may take a while, or refuse. */
  acpiShutdown(): void {
    this.require(['running', 'stopping'], 'shut down');
    this.post({ type: 'acpiShutdown' });
    this.setState('stopping');
  }

  /** Pull the plug; if the machine does not stop in time, the worker is terminated. */
  powerOff(): void {
    if (this.over) return;
    this.post({ type: 'powerOff' });
    this.setState('stopping');
    this.killTimer ??= setTimeout(() => {
      void this.worker.terminate();
      this.end('stopped', null, { kind: 'stopped', reason: 'forced off: the machine did not stop in time' });
    }, this.options.powerOffGraceMs ?? 5000);
  }

  sendKey(code: string, down: boolean): void {
    if (this.stateValue === 'running') this.post({ type: 'key', code, down });
  }

  sendPointer(dx: number, dy: number, buttons: number): void {
    if (this.stateValue === 'running') this.post({ type: 'pointer', dx, dy, buttons });
  }

  sendSerial(bytes: Uint8Array): void {
    if (this.stateValue === 'running' || this.stateValue === 'paused') this.post({ type: 'serial', bytes });
  }

  changeCdrom(path: string | null): void {
    if (!this.over) this.post({ type: 'cdrom', path });
  }

  /**
   * Replace the running machine's port forwards. Rejects with the machine's reason (a
   * BAD_INPUT whose field is `forwards.<i>.hostPort` when the rule is known), in which case
   * the previous forwards are still active.
   */
  setForwards(forwards: PortForward[]): Promise<void> {
    if (this.over) return Promise.reject(new AppError('CONFLICT', `"${this.vmId}" is not running.`));
    if (!this.hasNat) return Promise.reject(new AppError('CONFLICT', `"${this.vmId}" was started without a NAT adapter.`, { hint: 'The forwards apply when it next starts with NAT.' }));
    const requestId = this.nextRequest++;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.forwardChanges.delete(requestId)) reject(new AppError('HOST', `"${this.vmId}" did not apply the new port forwards in time.`, { hint: 'Try again; if it keeps failing, see the VM log.' }));
      }, this.options.forwardsTimeoutMs ?? 15_000);
      this.forwardChanges.set(requestId, { resolve, reject, timer });
      this.post({ type: 'setForwards', requestId, forwards });
    });
  }

  /** The whole screen: from the mirror when it has one, else asked of the machine. */
  async screenshot(): Promise<ScreenUpdate | null> {
    if (!this.screen.empty) return this.screen.full();
    if (this.over) return null;
    const requestId = this.nextRequest++;
    return new Promise((resolve) => {
      this.screenshots.set(requestId, resolve);
      this.post({ type: 'screenshot', requestId });
      setTimeout(() => {
        if (this.screenshots.delete(requestId)) resolve(null);
      }, 2000);
    });
  }

  private onMessage(message: FromWorker): void {
    switch (message.type) {
      case 'state':
        // stopped/error are decided by exit/failed, which carry the reason.
        if (!this.over && message.state !== 'stopped' && message.state !== 'error' && !(this.stateValue === 'stopping' && message.state === 'running')) {
          this.setState(message.state);
        }
        break;
      case 'accel':
        this.accel = { accel: message.accel, why: message.why };
        this.options.listener.log?.(`accelerator: ${message.accel} (${message.why})`);
        break;
      case 'screen': {
        const rect = this.screen.apply(message.update);
        if (rect !== null) this.options.listener.screen(rect);
        break;
      }
      case 'serial':
        this.serial.push(message.bytes);
        this.serialLog?.write(message.bytes);
        this.options.listener.serial(message.bytes);
        break;
      case 'log':
        this.options.listener.log?.(message.line);
        break;
      case 'exit':
        if (message.exit.kind === 'crash') this.end('error', { code: 'GUEST', message: `The guest crashed: ${message.exit.reason}`, hint: 'Reset the VM, or check its settings (memory, boot device).' }, message.exit);
        else this.end('stopped', null, message.exit);
        break;
      case 'failed':
        this.end('error', message.error);
        break;
      case 'screenshot': {
        const resolve = this.screenshots.get(message.requestId);
        this.screenshots.delete(message.requestId);
        resolve?.(message.update);
        break;
      }
      case 'net':
        this.net = message.status;
        this.options.listener.network?.(message.status);
        break;
      case 'forwardsSet': {
        const pending = this.forwardChanges.get(message.requestId);
        if (pending === undefined) break; // timed out already
        this.forwardChanges.delete(message.requestId);
        clearTimeout(pending.timer);
        if (message.error === null) pending.resolve();
        else {
          const { code, message: text, hint, field } = message.error;
          const ruleField = message.rule === undefined ? undefined : `forwards.${message.rule}.hostPort`;
          pending.reject(new AppError(code, text, { hint, field: ruleField ?? field ?? 'forwards' }));
        }
        break;
      }
    }
  }

  private end(state: 'stopped' | 'error', error: ErrorInfo | null, exit: MachineExit | null = null): void {
    if (this.over) return;
    this.error = error;
    this.exit = exit;
    if (this.killTimer !== null) clearTimeout(this.killTimer);
    for (const resolve of this.screenshots.values()) resolve(null);
    this.screenshots.clear();
    for (const pending of this.forwardChanges.values()) {
      clearTimeout(pending.timer);
      pending.reject(new AppError('CONFLICT', `"${this.vmId}" stopped before its new port forwards were applied.`, { hint: 'They apply when it next starts, once saved.' }));
    }
    this.forwardChanges.clear();
    this.serialLog?.end();
    void this.worker.terminate();
    this.setState(state);
    this.finish();
  }

  private setState(state: RunState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.options.listener.state(state);
  }

  private require(states: RunState[], action: string): void {
    if (!states.includes(this.stateValue)) {
      throw new AppError('CONFLICT', `Cannot ${action} "${this.vmId}": it is ${this.stateValue}.`, { hint: `It must be ${states.join(' or ')}.` });
    }
  }

  private post(message: ToWorker): void {
    const transfer = message.type === 'serial' ? [message.bytes.buffer as ArrayBuffer] : [];
    this.worker.postMessage(message, transfer);
  }
}
