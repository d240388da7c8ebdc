/**
 * Long64Machine run through the JIT's run loop (`Jit.run`) instead of stepping `step64`: what
 * the JIT compiles of 64-bit code is then compared with the host like the interpreter is.
 * The JIT delivers exceptions through the guest's IDT (there is no catch per instruction), so
 * this machine has a 64-bit IDT whose 256 gates lead to ring-0 stubs (stub v is a HLT at
 * STUBS + v), TSS.RSP0 on a ring-0 stack, and a GDT with Linux's 64-bit kernel code segment.
 * A case ends in a stub: through INT3 (the 0xCC the harness places after the body, vector 3,
 * a DPL 3 gate as under Linux) when it completed, otherwise through its exception's gate.
 * The vector is the stub reached, the error code, RIP, RFLAGS and RSP come from the 64-bit
 * interrupt frame, and the other registers are the guest's (the stub changes nothing).
 */
import { EXIT_SHUTDOWN } from '../../../emulator-core/cpu/cpu.js';
import { RF } from '../../../emulator-core/cpu/constants.js';
import { Jit } from '../../../emulator-core/cpu/jit/jit.js';
import { DEFAULT_JIT_OPTIONS, type JitOptions } from '../../../emulator-core/machine/options.js';
import { Long64Machine, MAX_STEPS, TSS64, type Outcome64 } from './run.js';

/** Supervisor pages (linear = physical, below 2 MiB like the TSS). */
const GDT = 0x9000;
const IDT = 0xa000;
const STUBS = 0xb000;
const RING0_STACK = 0xc000;
const RING0_STACK_TOP = RING0_STACK + 0x1000;
/** Linux's __KERNEL_CS: 64-bit ring-0 code (L=1, D=0, G=1, type execute/read, accessed). */
const KERNEL_CS = 0x10;
const KERNEL_CS_DESCRIPTOR = [0x0000ffff, 0x00af9b00] as const;
/** Gates Linux makes reachable with INT n from user mode (INT3, INTO); any other INT n raises #GP. */
const USER_GATES = new Set([3, 4]);
/** The 64-bit interrupt frame: RIP, CS, RFLAGS, RSP, SS (8 bytes each), after the error code if any. */
const FRAME_BYTES = 40;
/** Instructions per Jit.run slice. */
const SLICE = 1000;
/** Reported as the vector of a case that reached no stub within MAX_STEPS (or shut down). */
export const RUNAWAY64 = -2;

export interface JitMachineOptions {
  /** The Jit's options (default: the wasm backend with hotThreshold 2, to keep the runs few). */
  jit?: Partial<JitOptions>;
}

export class Long64JitMachine extends Long64Machine {
  readonly jit: Jit;
  /** Runs of each case; the last one (compiled code once 64-bit code is compiled) is the one compared. */
  readonly runs: number;

  constructor(code: Uint8Array, options: JitMachineOptions = {}) {
    super(code);
    const jitOptions: Partial<JitOptions> = { backend: 'wasm', hotThreshold: 2, background: false, ...options.jit };
    this.jit = new Jit(this.cpu, jitOptions);
    // Enough runs for every block of the case to pass the hot threshold and then run compiled.
    this.runs = (jitOptions.hotThreshold ?? DEFAULT_JIT_OPTIONS.hotThreshold) + 2;
    this.installSystemTables();
  }

  private installSystemTables(): void {
    const m = this.mem;
    const c = this.cpu;
    for (const page of [GDT, IDT, STUBS, RING0_STACK]) this.mapSystemPage(page);
    m.write32(GDT + KERNEL_CS, KERNEL_CS_DESCRIPTOR[0]);
    m.write32(GDT + KERNEL_CS + 4, KERNEL_CS_DESCRIPTOR[1]);
    for (let v = 0; v < 256; v++) {
      const target = STUBS + v;
      const dpl = USER_GATES.has(v) ? 3 : 0;
      // 16-byte interrupt gate (type 0xE, present, IST 0): offset 15..0, selector; P DPL type, offset 31..16; offset 63..32; reserved.
      m.write32(IDT + v * 16, ((KERNEL_CS << 16) | (target & 0xffff)) >>> 0);
      m.write32(IDT + v * 16 + 4, ((target & 0xffff0000) | 0x8e00 | (dpl << 13)) >>> 0);
      m.write32(IDT + v * 16 + 8, 0);
      m.write32(IDT + v * 16 + 12, 0);
      m.write8(STUBS + v, 0xf4); // HLT
    }
    m.write32(TSS64 + 4, RING0_STACK_TOP); // RSP0
    m.write32(TSS64 + 8, 0);
    c.gdtBase = GDT;
    c.gdtLimit = KERNEL_CS + 7;
    c.lm.gdtHi = 0;
    c.idtBase = IDT;
    c.idtLimit = 256 * 16 - 1;
    c.lm.idtHi = 0;
    c.flushTlb(true);
  }

  /**
   * Run case `index` `runs` times from the same initial state (data, stack and registers
   * restored by prepare) and report the last run the way Long64Machine.run does: RIP at the
   * INT3 with vector -1 when the case completed, at the faulting instruction otherwise.
   */
  override run(index: number): Outcome64 {
    let out: Outcome64 | null = null;
    for (let i = 0; i < this.runs; i++) {
      this.prepare(index);
      out = this.runToStub();
    }
    return out as Outcome64;
  }

  /** Jit.run until the case reaches a stub (its HLT stops the run). */
  private runToStub(): Outcome64 {
    const c = this.cpu;
    c.shutdown = false;
    for (let slice = 0; slice < MAX_STEPS / SLICE; slice++) {
      const exit = this.jit.run(SLICE);
      const at = ((c.ip >>> 0) - (c.halted ? 1 : 0)) >>> 0;
      if (c.cpl === 0 && c.lm.ripHi === 0 && at >= STUBS && at < STUBS + 256) {
        c.halted = false;
        return this.delivered(at - STUBS);
      }
      if (exit === EXIT_SHUTDOWN) break;
    }
    return this.outcome(RUNAWAY64, 0);
  }

  /** The interrupted state from the ring-0 frame of `vector`'s delivery. */
  private delivered(vector: number): Outcome64 {
    const c = this.cpu;
    const sp = c.r32[4] >>> 0;
    if (c.rh[4] !== 0 || sp < RING0_STACK || sp > RING0_STACK_TOP - FRAME_BYTES) throw new Error(`stub ${vector} reached with RSP 0x${sp.toString(16)}, not on the ring-0 stack`);
    // The frame is 16-byte aligned below RSP0, so an error code is there exactly when the frame is 48 bytes.
    const hasCode = sp === RING0_STACK_TOP - FRAME_BYTES - 8;
    const view = new DataView(this.mem.u8.buffer, this.mem.u8.byteOffset + sp, RING0_STACK_TOP - sp);
    const q = (slot: number): bigint => view.getBigUint64((hasCode ? 8 : 0) + slot * 8, true);
    const completed = vector === 3;
    // INT3 is a trap: its frame holds the next instruction; Long64Machine reports the INT3 itself.
    const rip = q(0) - (completed ? 1n : 0n);
    const out = this.outcome(completed ? -1 : vector, hasCode ? Number(view.getBigUint64(0, true) & 0xffffffffn) : 0);
    out.gpr[4] = q(3);
    return { ...out, rip, rflags: Number(q(2) & 0xffffffffn) & ~RF };
  }
}
