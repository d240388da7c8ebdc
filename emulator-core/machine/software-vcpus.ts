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
import { canTakeInterrupt, Cpu } from '../cpu/cpu.js';
import { EipTrace } from '../cpu/debug-trace.js';
import { run as runInterpreter } from '../cpu/interpreter.js';
import { Jit } from '../cpu/jit/jit.js';
import { getCpuState, setCpuState } from '../cpu/state-convert.js';
import { wireApics, type Apics } from './apic-wiring.js';
import type { EmulatorOptions } from './options.js';
import type { Clock, InstructionCounter } from './clock.js';
import type { DeferredPins, PcBoard } from './pc.js';
import { runSoftwareLoop } from './software-loop.js';
import type { MachineExit } from './types.js';
import type { EntryEdit, RunHost, Vcpus } from './vcpus.js';

/** What a local APIC's INIT and start-up IPIs do to its processor. */
export interface StartupSink {
  init(index: number): void;
  startup(index: number, vector: number): void;
}

export interface SoftwareVcpusOptions {
  count: number;
  board: PcBoard;
  clock: Clock;
  /** The PIC's output: the BSP's INTR, or its local APIC's LINT0 when there are APICs. */
  pins: DeferredPins;
  /** sse, apic, jit and traceEip are read here. */
  options: EmulatorOptions;
}

export class SoftwareVcpus implements Vcpus, InstructionCounter, StartupSink {
  readonly cpus: readonly Cpu[];
  readonly jits: readonly (Jit | null)[];
  /** The JIT's 32-bit code runs the decompressor faster than the 64-bit interpreter would. */
  readonly preferredLinuxEntry = '32';
  /** Our local APICs and I/O APIC (apic-wiring.ts); null on a PIC-only PC. */
  readonly apics: Apics | null;
  readonly madtCpus: number | null;
  /** Processors after INIT that wait for a start-up IPI (every AP at power-on). */
  private readonly waitingForSipi: boolean[];
  /** The processor running now (the one whose sliceInstructions count). */
  current = 0;
  /** Called before processor i runs (the APIC bus learns whose MMIO accesses follow). */
  onSwitch: (index: number) => void = () => {};

  constructor(o: SoftwareVcpusOptions) {
    const { board, options } = o;
    const cpus: Cpu[] = [];
    for (let i = 0; i < o.count; i++) {
      const cpu = new Cpu(board.memory, board.io, { clock: o.clock });
      cpu.sse.enabled = options.sse;
      cpu.pauseExits = o.count > 1;
      cpu.hooks = { onShutdown: () => {}, onFerr: () => board.irq(13).pulse() };
      cpus.push(cpu);
    }
    this.cpus = cpus;
    this.jits = cpus.map((cpu) => (options.jit.enabled ? new Jit(cpu, options.jit) : null));
    this.waitingForSipi = cpus.map((_, i) => i !== 0);
    const bsp = cpus[0]!;
    // Local and I/O APICs when asked, and always with more than one CPU (processors start
    // each other through their APICs).
    this.apics = options.apic || o.count > 1 ? wireApics(board, cpus, this) : null;
    this.madtCpus = this.apics === null ? null : o.count;
    if (this.apics !== null) {
      const bus = this.apics.bus;
      this.onSwitch = (i) => (bus.current = i);
    } else bsp.pic = board.pic;
    o.pins.attach(this.apics?.lapics[0] ?? bsp);
    if (options.traceEip !== null) bsp.eipTrace = new EipTrace(options.traceEip.lo, options.traceEip.hi);
  }

  get count(): number {
    return this.cpus.length;
  }

  get instructionsRetired(): number {
    return this.instructionCount + this.sliceInstructions;
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

  run(host: RunHost): Promise<MachineExit> {
    return runSoftwareLoop(host, this);
  }

  /** Run processor i for up to `budget` instructions; returns the run loop's EXIT_*. */
  runSlice(i: number, budget: number): number {
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

  reset(entry: EntryEdit | null): void {
    for (const j of this.jits) j?.clear();
    this.cpus.forEach((c, i) => {
      c.reset();
      this.waitingForSipi[i] = i !== 0;
    });
    this.current = 0;
    const bsp = this.cpus[0]!;
    if (entry !== null) setCpuState(bsp, entry(getCpuState(bsp)));
  }

  setA20(enabled: boolean): void {
    const mask = enabled ? -1 : ~(1 << 20);
    for (const c of this.cpus) {
      c.a20Mask = mask;
      c.flushTlb(true);
    }
  }

  /** CS:EIP of the BSP, for messages. */
  where(): string {
    const c = this.cpus[0]!;
    return `${c.segSel[1].toString(16).padStart(4, '0')}:${(c.eip >>> 0).toString(16).padStart(8, '0')}`;
  }

  close(): void {}

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
