/**
 * The machine thread's handle on the vCPU worker: starting it, steering it through the
 * channel (mode, commands, INTR), kicking it out of KVM_RUN, and stopping it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { CpuState } from '../cpu/state.js';
import { EmulatorError } from '../errors.js';
import {
  CHANNEL_VERSION,
  CMD_GET_STATE,
  CMD_NONE,
  CMD_PROBE,
  CMD_SET_STATE,
  createChannel,
  MODE_HOLD,
  MODE_RUN,
  MODE_STOP,
  ring,
  S_CMD,
  S_DOORBELL,
  S_INTR,
  S_KICK_LOCK,
  S_MODE,
  S_VCPU,
  S_WAKE,
  VCPU_EXITED,
  VCPU_FAILED,
  VCPU_HELD,
  VCPU_READY,
  VCPU_RUNNING,
  type Channel,
  type VcpuMessage,
} from './channel.js';
import { KvmError } from './errors.js';
import type { CpuidEntry } from './kvm.js';
import { libc } from './native.js';
import type { VcpuWorkerData } from './vcpu-worker.js';

/** The real-time signal used for kicks: glibc's first free one plus this. */
const KICK_SIGNAL_OFFSET = 7;

type WaitAsync = (i32: Int32Array, index: number, value: number, timeout?: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/** Resolve when the slot's value differs from `seen`, or after `ms`. */
export function waitChange(i32: Int32Array, slot: number, seen: number, ms: number): Promise<void> {
  if (waitAsync !== undefined) {
    const r = waitAsync(i32, slot, seen, ms);
    return r.async ? (r.value as Promise<string>).then(() => undefined) : Promise.resolve();
  }
  return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 1)));
}

/** Where the compiled worker is: beside this module, or in dist/ when running from sources (vitest). */
export function vcpuWorkerUrl(): URL {
  const here = import.meta.url;
  let url = here.endsWith('.ts') ? new URL('../../dist/emulator-core/kvm/vcpu-worker.js', here) : new URL('./vcpu-worker.js', here);
  // Packaged desktop app: workers run from the unpacked copy (electron-builder asarUnpack).
  if (url.pathname.includes('/app.asar/')) url = new URL(url.href.replace('/app.asar/', '/app.asar.unpacked/'));
  if (!existsSync(fileURLToPath(url))) {
    throw new EmulatorError('INTERNAL', `the vCPU worker ${fileURLToPath(url)} is missing; run \`npm run build\` first`);
  }
  return url;
}

/**
 * One word every vCPU thread of a VM bumps (and notifies) whenever it rings its own doorbell,
 * so the machine thread can sleep until any of them wants something.
 */
export class VcpuBell {
  readonly sab = new SharedArrayBuffer(4);
  readonly i32 = new Int32Array(this.sab);

  get value(): number {
    return Atomics.load(this.i32, 0);
  }
}

export interface VcpuThreadOptions {
  vmFd: number;
  mmapSize: number;
  cpuid: CpuidEntry[];
  kernelIrqchip: boolean;
  /** KVM's vCPU id (its local APIC ID); 0 is the bootstrap processor. */
  vcpuId?: number;
  /** The VM's bell (VcpuBell), rung with this vCPU's doorbell; omitted: a bell of its own. */
  bell?: VcpuBell;
  /** The state to load; null keeps KVM's own power-on state (the reset vector). */
  state: CpuState | null;
}

export class VcpuThread {
  readonly ch: Channel;
  readonly i32: Int32Array;
  /** Set when the worker died or reported a fatal error. */
  failure: EmulatorError | null = null;
  readonly details: string[] = [];
  private readonly signal: number;
  private exited = false;
  private readonly exitedPromise: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    ch: Channel,
    signal: number,
  ) {
    this.ch = ch;
    this.i32 = ch.i32;
    this.signal = signal;
    this.exitedPromise = new Promise((resolve) => {
      worker.on('exit', (code) => {
        this.exited = true;
        if (this.failure === null && Atomics.load(this.i32, S_VCPU) !== VCPU_EXITED) {
          this.takeMessages();
          this.failure ??= new EmulatorError('INTERNAL', `the vCPU thread stopped unexpectedly (exit code ${code})`);
        }
        resolve();
      });
    });
    worker.on('error', (e) => {
      this.failure ??= e instanceof EmulatorError ? e : new EmulatorError('INTERNAL', `the vCPU thread failed: ${e.message}`);
    });
  }

  /** Start the worker and wait until the vCPU exists with its state loaded. */
  static async start(options: VcpuThreadOptions): Promise<VcpuThread> {
    const ch = createChannel();
    const { port1, port2 } = new MessageChannel();
    const signal = libc().sigrtmin() + KICK_SIGNAL_OFFSET;
    const data: VcpuWorkerData = {
      version: CHANNEL_VERSION,
      channel: ch.sab,
      port: port2,
      vmFd: options.vmFd,
      vcpuId: options.vcpuId ?? 0,
      bell: (options.bell ?? new VcpuBell()).sab,
      mmapSize: options.mmapSize,
      cpuid: options.cpuid,
      kernelIrqchip: options.kernelIrqchip,
      state: options.state,
      signal,
    };
    Atomics.store(ch.i32, S_MODE, MODE_HOLD);
    const worker = new Worker(vcpuWorkerUrl(), { workerData: data, transferList: [port2], name: `vcpu${data.vcpuId}` });
    const t = new VcpuThread(worker, port1, ch, signal);
    for (;;) {
      const seen = Atomics.load(ch.i32, S_DOORBELL);
      const status = Atomics.load(ch.i32, S_VCPU);
      // Ready, and perhaps already holding (it starts in MODE_HOLD).
      if (status === VCPU_READY || status === VCPU_HELD) return t;
      t.takeMessages();
      if (t.failure !== null || status === VCPU_FAILED || t.exited) {
        await t.stop();
        throw t.failure ?? new EmulatorError('INTERNAL', 'the vCPU thread failed to start');
      }
      await waitChange(ch.i32, S_DOORBELL, seen, 50);
    }
  }

  get status(): number {
    return Atomics.load(this.i32, S_VCPU);
  }

  get gone(): boolean {
    return this.exited || this.status === VCPU_EXITED || this.status === VCPU_FAILED;
  }

  /** Messages from the worker: fatal errors become `failure`, details are kept for the next report. */
  takeMessages(): VcpuMessage[] {
    const out: VcpuMessage[] = [];
    for (;;) {
      const m = receiveMessageOnPort(this.port)?.message as VcpuMessage | undefined;
      if (m === undefined) return out;
      if (m.type === 'fatal') this.failure ??= new KvmError(m.message.replace(/: \w+ failed with .*$/, ''), m.call, m.errno);
      else if (m.type === 'detail') this.details.push(m.text);
      out.push(m);
    }
  }

  /** Make KVM_RUN return now (no-op when the vCPU is not in it). */
  kick(): void {
    if (Atomics.load(this.i32, S_VCPU) !== VCPU_RUNNING) return;
    if (Atomics.compareExchange(this.i32, S_KICK_LOCK, 0, 1) !== 0) return;
    try {
      libc().pthreadKill(this.ch.thread[0], this.signal);
    } finally {
      Atomics.store(this.i32, S_KICK_LOCK, 0);
    }
  }

  /** Wake the vCPU if it sleeps on the channel, and kick it if it runs the guest. */
  poke(): void {
    ring(this.i32, S_WAKE);
    this.kick();
  }

  setMode(mode: number): void {
    Atomics.store(this.i32, S_MODE, mode);
    this.poke();
  }

  get mode(): number {
    return Atomics.load(this.i32, S_MODE);
  }

  /** The PIC's INTR output (user-space irqchip). */
  setIntr(high: boolean): void {
    const v = high ? 1 : 0;
    if (Atomics.exchange(this.i32, S_INTR, v) === v) return;
    if (high) this.poke();
  }

  /** Post a command; the vCPU clears S_CMD when done. */
  command(cmd: typeof CMD_SET_STATE | typeof CMD_GET_STATE | typeof CMD_PROBE, state?: CpuState): void {
    if (cmd === CMD_SET_STATE) {
      if (state === undefined) throw new EmulatorError('INTERNAL', 'CMD_SET_STATE without a state');
      this.port.postMessage({ type: 'state', state } satisfies VcpuMessage);
    }
    Atomics.store(this.i32, S_CMD, cmd);
    this.poke();
  }

  get commandDone(): boolean {
    return Atomics.load(this.i32, S_CMD) === CMD_NONE;
  }

  /** The state a CMD_GET_STATE produced. */
  takeState(): CpuState | null {
    let state: CpuState | null = null;
    for (const m of this.takeMessages()) if (m.type === 'state') state = m.state;
    return state;
  }

  /** Stop the vCPU loop and the worker; safe to call more than once. */
  async stop(): Promise<void> {
    if (!this.exited) {
      this.setMode(MODE_STOP);
      const deadline = performance.now() + 2000;
      while (!this.exited && performance.now() < deadline) {
        if (this.gone) break;
        const seen = Atomics.load(this.i32, S_DOORBELL);
        await waitChange(this.i32, S_DOORBELL, seen, 20);
      }
      // A vCPU stuck in the kernel cannot be joined; terminate() still ends the JS side.
      await this.worker.terminate();
    }
    await this.exitedPromise;
    this.port.close();
  }

  resume(): void {
    this.setMode(MODE_RUN);
  }
}
