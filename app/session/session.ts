/**
 * One running VM: a worker thread that owns the Machine, and on this side the relay state
 * (run state, a mirror of the screen, recent serial output). The session enforces the state
 * machine stopped → starting → running ⇄ paused → stopping → stopped (or error).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { MachineConfig, MachineExit, RunState, ScreenUpdate } from '../../emulator-core/machine/types.js';
import { AppError, type ErrorInfo } from '../errors.js';
import { ByteRing } from './byte-ring.js';
import type { FromWorker, ToWorker } from './messages.js';
import { ScreenMirror, type Rect } from './screen-mirror.js';

export interface SessionListener {
  state(state: RunState): void;
  screen(rect: Rect): void;
  serial(bytes: Uint8Array): void;
  log?(line: string): void;
}

export interface SessionOptions {
  workerUrl: URL;
  listener: SessionListener;
  /** Append the guest's serial output here too. */
  serialLog?: string;
  /** How long a powered-off machine may take to stop before its worker is terminated. */
  powerOffGraceMs?: number;
}

const SERIAL_HISTORY = 64 * 1024;

export class Session {
  private stateValue: RunState = 'starting';
  readonly screen = new ScreenMirror();
  readonly serial = new ByteRing(SERIAL_HISTORY);
  error: ErrorInfo | null = null;
  exit: MachineExit | null = null;
  accel: { accel: 'kvm' | 'interpreter'; why: string } | null = null;
  readonly startedAt = new Date();
  /** Resolves when the session is over (stopped or error); never rejects. */
  readonly done: Promise<void>;
  private finish!: () => void;
  private readonly worker: Worker;
  private readonly serialLog: WriteStream | null;
  private nextRequest = 1;
  private readonly screenshots = new Map<number, (u: ScreenUpdate | null) => void>();
  private killTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly vmId: string,
    config: MachineConfig,
    private readonly options: SessionOptions,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
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
    }
  }

  private end(state: 'stopped' | 'error', error: ErrorInfo | null, exit: MachineExit | null = null): void {
    if (this.over) return;
    this.error = error;
    this.exit = exit;
    if (this.killTimer !== null) clearTimeout(this.killTimer);
    for (const resolve of this.screenshots.values()) resolve(null);
    this.screenshots.clear();
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
