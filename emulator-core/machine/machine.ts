import { readFileSync, statSync } from 'node:fs';
import { buildAcpiTables } from '../boot/acpi-tables.js';
import { linux32EntryState } from '../boot/entry.js';
import { loadLinux, type LinuxBootPlan } from '../boot/linux.js';
import { IF } from '../cpu/constants.js';
import { Cpu, EXIT_HALT, EXIT_SHUTDOWN } from '../cpu/cpu.js';
import { run as runInterpreter } from '../cpu/interpreter.js';
import { Jit } from '../cpu/jit/jit.js';
import { getCpuState, setCpuState } from '../cpu/state-convert.js';
import { BadInputError, EmulatorError } from '../errors.js';
import { PacedClock, type Clock } from './clock.js';
import type { MachineControl } from './control.js';
import { ACPI_PM_BASE, ACPI_SCI_IRQ, ACPI_TABLES_ADDR, DeferredPins, PcBoard } from './pc.js';
import type { MachineConfig, MachineExit, MachineListener, RunState, ScreenUpdate } from './types.js';

export const MIN_MEMORY_MIB = 4;
export const MAX_MEMORY_MIB = 3584;

/** Guest time advanced by executed instructions; idle time is skipped. Deterministic. */
export class VirtualClock implements Clock {
  cpu: Cpu | null = null;
  private offsetNs = 0;
  constructor(private readonly nsPerInstruction: number) {}
  now(): number {
    return this.offsetNs + (this.cpu === null ? 0 : (this.cpu.instructionCount + this.cpu.sliceInstructions) * this.nsPerInstruction);
  }
  instructionsUntil(ns: number): number {
    return (ns - this.now()) / this.nsPerInstruction;
  }

  /** Skip forward (the CPU is halted until then). */
  skipTo(ns: number): void {
    const now = this.now();
    if (ns > now) this.offsetNs += ns - now;
  }
}

function readInput(path: string, what: string): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new BadInputError(`${what} ${path} is not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof EmulatorError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BadInputError(`${what} ${path} does not exist`);
    if (code === 'EACCES') throw new BadInputError(`${what} ${path} is not readable (permission denied)`);
    throw new BadInputError(`${what} ${path} cannot be opened: ${(e as Error).message}`);
  }
  if (size === 0) throw new BadInputError(`${what} ${path} is empty`);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new BadInputError(`${what} ${path} cannot be read: ${(e as Error).message}`);
  }
}

/** Check a MachineConfig before allocating anything; throws BadInputError with one line. */
export function validateConfig(config: MachineConfig): void {
  const mem = config.memoryMiB;
  if (!Number.isInteger(mem) || mem < MIN_MEMORY_MIB || mem > MAX_MEMORY_MIB) {
    throw new BadInputError(`memory must be a whole number of MiB from ${MIN_MEMORY_MIB} to ${MAX_MEMORY_MIB}; got ${mem}`);
  }
  if (config.initrd !== undefined && config.kernel === undefined) throw new BadInputError('--initrd needs --kernel');
  if (config.cmdline !== undefined && config.kernel === undefined) throw new BadInputError('--append needs --kernel');
  if (config.kernel === undefined && config.bios === undefined && config.cdrom === undefined && (config.disks ?? []).length === 0) {
    throw new BadInputError('nothing to boot: give a kernel, a BIOS, a CD-ROM or a disk');
  }
}

/** Instructions per interpreter slice before timers and host events are looked at. */
const MAX_SLICE = 200_000;
const MIN_SLICE = 500;
/** Yield to the host event loop at least this often (ms of wall time). */
const YIELD_MS = 4;

/**
 * A PC assembled from a MachineConfig, running on the software CPU (the KVM backend plugs
 * in beside it). run() drives the CPU in slices between timer deadlines and host events.
 */
export class Machine implements MachineControl {
  readonly board: PcBoard;
  readonly cpu: Cpu;
  /** Compiles hot guest code; null runs the pure interpreter (TERRARIUM_JIT=0). */
  readonly jit: Jit | null;
  readonly clock: Clock;
  private readonly pins = new DeferredPins();
  private state: RunState = 'stopped';
  private a20Enabled = true;
  private resetRequested: string | null = null;
  private powerOffRequested: string | null = null;
  private stopRequested: string | null = null;
  private paused = false;
  private wake: (() => void) | null = null;
  private bootPlan: LinuxBootPlan | null = null;
  private kernelImage: Uint8Array | null = null;
  private initrdImage: Uint8Array | null = null;
  private crashReason: string | null = null;
  /** Instructions per ms of wall time, measured; sizes slices to timer deadlines. */
  private ipms = 20_000;

  private constructor(
    readonly config: MachineConfig,
    readonly listener: MachineListener,
  ) {
    const virtual = config.clock === 'virtual';
    const vclock = virtual ? new VirtualClock(1) : null;
    const paced = virtual ? null : new PacedClock();
    this.clock = vclock ?? paced!;
    this.board = new PcBoard({
      ramBytes: config.memoryMiB * 1048576,
      romBytes: 256 * 1024,
      clock: this.clock,
      pins: this.pins,
      control: this,
      serialOutput: (bytes) => this.listener.serialOutput?.(bytes),
    });
    this.cpu = new Cpu(this.board.memory, this.board.io, { clock: this.clock });
    if (vclock !== null) vclock.cpu = this.cpu;
    if (paced !== null) paced.counter = this.cpu;
    this.cpu.pic = this.board.pic;
    this.cpu.hooks = {
      onShutdown: () => {},
      onFerr: () => this.board.irq(13).pulse(),
    };
    this.pins.attach(this.cpu);
    this.jit = process.env.TERRARIUM_JIT === '0' ? null : new Jit(this.cpu);
    const timers = this.board.timers;
    this.board.io.beforeAccess = () => {
      const now = this.clock.now();
      if (timers.nextDeadline() <= now) timers.runExpired(now);
    };
  }

  /** Validate the config, load firmware/kernel/disks, wire devices. Throws typed errors on bad input. */
  static async create(config: MachineConfig, listener: MachineListener = {}): Promise<Machine> {
    validateConfig(config);
    if (config.accel === 'kvm') {
      throw new EmulatorError('HOST', 'the KVM accelerator is not available in this build; use --accel interpreter');
    }
    const kernel = config.kernel !== undefined ? readInput(config.kernel, 'kernel') : null;
    const initrd = config.initrd !== undefined ? readInput(config.initrd, 'initrd') : null;
    const m = new Machine(config, listener);
    m.kernelImage = kernel;
    m.initrdImage = initrd;
    m.loadBoot();
    listener.accelChosen?.('interpreter', config.accel === 'auto' ? 'interpreter: the KVM backend is not available' : 'interpreter: requested');
    return m;
  }

  private loadBoot(): void {
    if (this.kernelImage !== null) {
      // Without firmware, the machine describes its power management itself.
      const acpi = buildAcpiTables({ base: ACPI_TABLES_ADDR, pmBase: ACPI_PM_BASE, sciIrq: ACPI_SCI_IRQ });
      this.board.memory.loadInto(ACPI_TABLES_ADDR, acpi.bytes);
      this.bootPlan = loadLinux(this.board.memory, this.kernelImage, {
        kernelName: this.config.kernel ?? 'kernel',
        initrd: this.initrdImage ?? undefined,
        initrdName: this.config.initrd,
        cmdline: this.config.cmdline ?? '',
      });
      setCpuState(this.cpu, linux32EntryState(getCpuState(this.cpu), this.bootPlan));
    }
  }

  // MachineControl ------------------------------------------------------------

  requestReset(reason: string): void {
    this.resetRequested = reason;
    this.cpu.exitRequested = true;
  }

  requestPowerOff(reason: string): void {
    this.powerOffRequested = reason;
    this.cpu.exitRequested = true;
  }

  setA20(enabled: boolean): void {
    if (enabled === this.a20Enabled) return;
    this.a20Enabled = enabled;
    this.cpu.a20Mask = enabled ? -1 : ~(1 << 20);
    this.cpu.flushTlb(true);
  }

  get a20(): boolean {
    return this.a20Enabled;
  }

  // Lifecycle -----------------------------------------------------------------

  private setState(s: RunState): void {
    if (s === this.state) return;
    this.state = s;
    this.listener.stateChanged?.(s);
  }

  get runState(): RunState {
    return this.state;
  }

  /** Run until the guest powers off, halts for good, crashes, or stop() is called. */
  async run(): Promise<MachineExit> {
    this.setState('running');
    try {
      const exit = await this.loop();
      this.board.com1.flush();
      this.setState(exit.kind === 'crash' ? 'error' : 'stopped');
      return exit;
    } catch (e) {
      this.board.com1.flush();
      this.setState('error');
      throw e;
    }
  }

  private async loop(): Promise<MachineExit> {
    const cpu = this.cpu;
    const timers = this.board.timers;
    let lastYield = performance.now();
    let udWindowStart = 0;
    let udAtWindowStart = 0;
    for (;;) {
      if (this.stopRequested !== null) return { kind: 'stopped', reason: this.stopRequested };
      if (this.powerOffRequested !== null) return { kind: 'poweroff', reason: this.powerOffRequested };
      if (this.resetRequested !== null) {
        this.resetRequested = null;
        this.hardReset();
      }
      if (this.paused) {
        this.clockPause();
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        this.clockResume();
        continue;
      }
      let now = this.clock.now();
      timers.runExpired(now);
      const deadline = timers.nextDeadline();
      let slice = MAX_SLICE;
      if (deadline !== Infinity) {
        // Run exactly up to the next timer event in guest time.
        const clock = this.clock as PacedClock | VirtualClock;
        const wanted = Math.ceil(clock.instructionsUntil(deadline));
        slice = Math.max(MIN_SLICE, Math.min(MAX_SLICE, wanted));
      }
      const t0 = performance.now();
      const before = cpu.instructionCount;
      const exit = this.jit !== null ? this.jit.run(slice) : runInterpreter(cpu, slice);
      const t1 = performance.now();
      const ran = cpu.instructionCount - before;
      if (ran > 10_000 && t1 > t0) this.ipms = this.ipms * 0.8 + (ran / (t1 - t0)) * 0.2;
      if (this.clock instanceof PacedClock) this.clock.pace();

      if (exit === EXIT_SHUTDOWN) {
        this.board.com1.flush();
        if (this.config.onTripleFault === 'reset') {
          this.hardReset();
          continue;
        }
        return { kind: 'crash', reason: `triple fault at ${this.whereString()}` };
      }
      if (this.crashReason !== null) return { kind: 'crash', reason: this.crashReason };

      // An unknown-opcode storm: thousands of #UD in a second of guest time.
      now = this.clock.now();
      if (now - udWindowStart > 1e9) {
        if (cpu.undefinedOpcodeCount - udAtWindowStart > 10_000) {
          return { kind: 'crash', reason: `unknown opcode storm (${cpu.undefinedOpcodeCount - udAtWindowStart} invalid opcodes in one second) at ${this.whereString()}` };
        }
        udWindowStart = now;
        udAtWindowStart = cpu.undefinedOpcodeCount;
      }

      if (exit === EXIT_HALT) {
        if ((cpu.flags & IF) === 0 && !cpu.nmiPending) {
          return { kind: 'halt', reason: `the guest halted with interrupts disabled at ${this.whereString()}` };
        }
        // Wait for the next timer or a host event.
        this.board.com1.flush();
        const next = timers.nextDeadline();
        if (this.clock instanceof VirtualClock) {
          if (next === Infinity) {
            await this.sleep(50);
          } else {
            this.clock.skipTo(next);
          }
        } else if (this.clock instanceof PacedClock) {
          // Guest time jumps to the next event; the host waits until wall time gets there.
          const target = next === Infinity ? this.clock.wallNow() + 50e6 : next;
          this.clock.skipTo(target);
          const waitMs = (target - this.clock.wallNow()) / 1e6;
          if (waitMs > 0.05) await this.sleep(Math.min(waitMs, 50));
          this.clock.resync();
        }
        lastYield = performance.now();
        continue;
      }
      if (t1 - lastYield > YIELD_MS) {
        this.board.com1.flush();
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private wakeUp(): void {
    this.wake?.();
  }

  private clockPause(): void {
    if (this.clock instanceof PacedClock) this.clock.pause();
  }

  private clockResume(): void {
    if (this.clock instanceof PacedClock) this.clock.resume();
  }

  private whereString(): string {
    const c = this.cpu;
    return `${c.segSel[1].toString(16).padStart(4, '0')}:${(c.eip >>> 0).toString(16).padStart(8, '0')}`;
  }

  private hardReset(): void {
    this.jit?.clear();
    this.board.reset();
    this.cpu.reset();
    this.setA20(true);
    this.loadBoot();
  }

  pause(): void {
    if (this.state !== 'running') return;
    this.paused = true;
    this.cpu.exitRequested = true;
    this.setState('paused');
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.setState('running');
    this.wakeUp();
  }

  /** Hardware reset (the guest reboots). */
  reset(): void {
    this.requestReset('reset requested');
    this.wakeUp();
  }

  /** Pull the plug: run() resolves with { kind: 'stopped' }. */
  powerOff(): void {
    this.stopRequested = 'powered off by the user';
    this.cpu.exitRequested = true;
    this.paused = false;
    this.wakeUp();
  }

  /** Press the ACPI power button so the guest can shut down cleanly. */
  acpiShutdown(): void {
    this.board.acpi.pressPowerButton();
    this.wakeUp();
  }

  /** Bytes typed into COM1. */
  sendSerial(bytes: Uint8Array): void {
    this.board.com1.receive(bytes);
    this.wakeUp();
  }

  /** A key by its KeyboardEvent.code (e.g. "KeyA", "Enter", "ControlLeft"). */
  sendKey(code: string, down: boolean): void {
    this.board.i8042.keyEvent(code, down);
    this.wakeUp();
  }

  /** Relative mouse motion and button state (bit 0 left, 1 right, 2 middle). */
  sendPointer(dx: number, dy: number, buttons: number): void {
    this.board.i8042.pointerEvent(dx, dy, buttons);
    this.wakeUp();
  }

  /** Insert (path) or eject (null) the CD-ROM medium. */
  changeCdrom(_path: string | null): void {}

  /** The whole current screen, or null when there is no display. */
  screenshot(): ScreenUpdate | null {
    return null;
  }
}
