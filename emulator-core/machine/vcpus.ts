/**
 * The software CPU's processors: N `Cpu`s over one guest memory, each with its own state
 * block (registers, TLB) in the WebAssembly memory and its own JIT, run round-robin on one
 * thread as QEMU's single-threaded TCG does. Guest time follows the instructions all of them
 * retired (one combined counter), so two CPUs each run at half the pace of one.
 *
 * Application processors start in wait-for-SIPI: the BSP's local APIC wakes them with INIT
 * and a start-up IPI (StartupSink), exactly as firmware and kernels expect.
 */
import { IF } from '../cpu/constants.js';
import { Cpu } from '../cpu/cpu.js';
import { canTakeInterrupt, run as runInterpreter } from '../cpu/interpreter.js';
import { Jit } from '../cpu/jit/jit.js';
import type { JitOptions } from './options.js';
import type { Clock, InstructionCounter } from './clock.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { IoBus } from '../bus/io-bus.js';

/** What a local APIC's INIT and start-up IPIs do to its processor. */
export interface StartupSink {
  init(index: number): void;
  startup(index: number, vector: number): void;
}

export interface VcpusOptions {
  count: number;
  memory: GuestMemory;
  io: IoBus;
  clock: Clock;
  sse: boolean;
  /** Null: the pure interpreter. */
  jit: Partial<JitOptions> | null;
}

export class Vcpus implements InstructionCounter, StartupSink {
  readonly cpus: readonly Cpu[];
  readonly jits: readonly (Jit | null)[];
  /** Processors after INIT that wait for a start-up IPI (every AP at power-on). */
  private readonly waitingForSipi: boolean[];
  /** The processor running now (the one whose sliceInstructions count). */
  current = 0;
  /** Called before processor i runs (the APIC bus learns whose MMIO accesses follow). */
  onSwitch: (index: number) => void = () => {};

  constructor(o: VcpusOptions) {
    const cpus: Cpu[] = [];
    for (let i = 0; i < o.count; i++) {
      const cpu = new Cpu(o.memory, o.io, { clock: o.clock });
      cpu.sse.enabled = o.sse;
      cpu.pauseExits = o.count > 1;
      cpus.push(cpu);
    }
    this.cpus = cpus;
    this.jits = cpus.map((cpu) => (o.jit !== null ? new Jit(cpu, o.jit) : null));
    this.waitingForSipi = cpus.map((_, i) => i !== 0);
  }

  get count(): number {
    return this.cpus.length;
  }

  /** Instructions retired in completed slices, all processors together (the clock's counter). */
  get instructionCount(): number {
    let n = 0;
    for (const c of this.cpus) n += c.instructionCount;
    return n;
  }

  get sliceInstructions(): number {
    return this.cpus[this.current]!.sliceInstructions;
  }

  get undefinedOpcodeCount(): number {
    let n = 0;
    for (const c of this.cpus) n += c.undefinedOpcodeCount;
    return n;
  }

  /** Can processor i make progress now (running, or halted with an interrupt it will take)? */
  runnable(i: number): boolean {
    if (this.waitingForSipi[i]) return false;
    const c = this.cpus[i]!;
    if (c.shutdown) return false;
    return !c.halted || canTakeInterrupt(c);
  }

  /** The next runnable processor after the current one, round-robin; -1 when all are idle. */
  next(): number {
    const n = this.cpus.length;
    for (let k = 1; k <= n; k++) {
      const i = (this.current + k) % n;
      if (this.runnable(i)) return i;
    }
    return -1;
  }

  /** Run processor i for up to `budget` instructions; returns the run loop's EXIT_*. */
  run(i: number, budget: number): number {
    this.current = i;
    this.onSwitch(i);
    const jit = this.jits[i] ?? null;
    return jit !== null ? jit.run(budget) : runInterpreter(this.cpus[i]!, budget);
  }

  /** Has every started processor halted with interrupts and NMIs shut out (the guest stopped for good)? */
  allHaltedForGood(): boolean {
    return this.cpus.every((c, i) => this.waitingForSipi[i] || (c.halted && (c.flags & IF) === 0 && !c.nmiPending));
  }

  /** Make the running processor return to the run loop at its next instruction boundary. */
  kickCurrent(): void {
    this.cpus[this.current]!.exitRequested = true;
  }

  /** Make whichever processor runs return to the run loop soon (pause, reset, a device's request). */
  kick(): void {
    for (const c of this.cpus) c.exitRequested = true;
  }

  /** Power-on or RESET: every processor resets; the APs wait for a start-up IPI again. */
  reset(): void {
    for (const j of this.jits) j?.clear();
    this.cpus.forEach((c, i) => {
      c.reset();
      this.waitingForSipi[i] = i !== 0;
    });
    this.current = 0;
  }

  flushTlbs(): void {
    for (const c of this.cpus) c.flushTlb(true);
  }

  set a20Mask(mask: number) {
    for (const c of this.cpus) c.a20Mask = mask;
  }

  // StartupSink ---------------------------------------------------------------

  /** INIT: registers to their reset values; an AP then waits for a start-up IPI, the BSP restarts at the reset vector. */
  init(index: number): void {
    const c = this.cpus[index]!;
    c.init();
    this.waitingForSipi[index] = index !== 0;
    c.exitRequested = true;
  }

  /** A start-up IPI starts a processor only while it waits for one (SDM: otherwise ignored). */
  startup(index: number, vector: number): void {
    if (!this.waitingForSipi[index]) return;
    this.waitingForSipi[index] = false;
    this.cpus[index]!.startup(vector);
  }
}
