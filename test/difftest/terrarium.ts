/**
 * Runs cases on Terrarium's software CPU, in the same environment the native harness gives
 * them: flat 32-bit segments at CPL 3 (FlatHarness), the same code and data addresses, and,
 * for software interrupts, a Linux-like IDT: INT3 and INTO reach (DPL 3) handlers, any other
 * INT n meets a DPL 0 gate and raises #GP. Exceptions are reported instead of delivered, as
 * the native harness reports the signal the kernel sent.
 */
import { AR_DB, AR_G, AR_P, AR_S, CR0_MP, CR0_NE, CR0_PG, CR0_WP, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE, CS, DS, EFER_NXE, ES, FS, GS, LDTR, RF, SS, TR } from '../../emulator-core/cpu/constants.js';
import { EXIT_SHUTDOWN, FAULT, type Cpu, type FpuUnit } from '../../emulator-core/cpu/cpu.js';
import { step } from '../../emulator-core/cpu/interpreter.js';
import { Jit } from '../../emulator-core/cpu/jit/jit.js';
import type { JitBackendName } from '../../emulator-core/machine/options.js';
import type { FpuState } from '../../emulator-core/cpu/state.js';
import { FlatHarness } from '../support/cpu/flat-harness.js';
import { initialSse, VECTORS_WITH_ERROR_CODE, type DiffCase, type Outcome } from './case.js';
import { fpuStateToImage } from './fpu-image.js';
import { CODE_BASE, DATA_BASE, DATA_SIZE, EXIT_SLOT, LDT, ldtDescriptor, RO_PAGE, RO_SEED, SYS_BASE, USER_CS, USER_DS, USER_GS } from './layout.js';
import { fillData } from './prng.js';

const GDT = SYS_BASE;
const IDT = SYS_BASE + 0x100;
const TSS = SYS_BASE + 0x1000;
const STUBS = SYS_BASE + 0x2000;
const RING0_STACK_TOP = SYS_BASE + 0x4000;
/** PDPT, then the page directory, then eight page tables (PAE). */
const PAGE_DIRECTORY = SYS_BASE + 0x5000;
const LDT_ADDR = SYS_BASE + 0x10000;
const PTE_P = 1;
const PTE_RW = 2;
const PTE_US = 4;
const TSS_SEL = 0x30;
const LDT_SEL = 0x38;
/** Vectors whose gates Linux makes reachable from user mode (INT3, INTO, INT 0x80). */
const USER_GATES = new Set([3, 4, 0x80]);
/** The x87 after FNINIT with all eight registers zero (see harness.c dt_run_case). */
const FNINIT_STATE: FpuState = { control: 0x37f, status: 0, tag: 0xffff, opcode: 0, ip: 0, cs: 0, dp: 0, ds: 0, regs: new Array<string>(8).fill('0'.repeat(20)) };
/** Where EXIT_SLOT points for Terrarium: an INT3 whose trap marks a case's end under the JIT. */
const STOP_ADDR = EXIT_SLOT + 0x10;
/** Runs of each case under the JIT: enough for its blocks to be compiled (JitOptions.hotThreshold defaults to 12). */
const JIT_RUNS = 14;
/** A case that runs longer than this is stopped and reported as a runaway. */
const MAX_INSTRUCTIONS = 200_000;
/** Pseudo-vector reported when a case did not finish. */
export const RUNAWAY = -1;

/** An FPU unit that can report its state (fpu.ts implements save()). */
interface SavingFpu {
  save(): FpuState;
}

function canSave(u: FpuUnit): u is FpuUnit & SavingFpu {
  return typeof (u as Partial<SavingFpu>).save === 'function';
}

function descriptor(base: number, limit: number, access: number, flags: number): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = (base & 0xff000000) | ((flags & 0xf) << 20) | (limit & 0xf0000) | ((access & 0xff) << 8) | ((base >>> 16) & 0xff);
  return [lo >>> 0, hi >>> 0];
}

export interface RunnerOptions {
  createFpu?: (cpu: Cpu) => FpuUnit;
  /** Run cases through the block JIT (compiled once hot) instead of stepping the interpreter. */
  jit?: boolean;
  /** The JIT's code generator (default 'js'). */
  jitBackend?: JitBackendName;
}

export class TerrariumRunner {
  readonly harness: FlatHarness;
  private readonly cpu: Cpu;
  readonly jit: Jit | null;

  constructor(options: RunnerOptions = {}) {
    this.harness = new FlatHarness({ createFpu: options.createFpu });
    this.cpu = this.harness.cpu;
    this.installSystemTables();
    this.jit = options.jit === true ? new Jit(this.cpu, { backend: options.jitBackend, background: false }) : null;
    // The trailer's jmp [EXIT_SLOT] (native only) lands on an INT3 that marks the end.
    const slot = new Uint8Array(0x14);
    new DataView(slot.buffer).setUint32(0, STOP_ADDR, true);
    slot[STOP_ADDR - EXIT_SLOT] = 0xcc;
    this.harness.writeMemory(EXIT_SLOT, slot);
  }

  private installSystemTables(): void {
    const c = this.cpu;
    const mem = new DataView(new ArrayBuffer(0x4000));
    const put = (off: number, [lo, hi]: [number, number]): void => {
      mem.setUint32(off, lo, true);
      mem.setUint32(off + 4, hi, true);
    };
    // Linux's user selectors and descriptors (accessed bit set), so selector values, LAR
    // and LSL agree with the host.
    put(0x08, descriptor(0, 0xfffff, 0x9b, 0xc)); // ring 0 code
    put(0x10, descriptor(0, 0xfffff, 0x93, 0xc)); // ring 0 data
    put(USER_CS & ~7, descriptor(0, 0xfffff, 0xfb, 0xc));
    put(USER_DS & ~7, descriptor(0, 0xfffff, 0xf3, 0xc));
    put(TSS_SEL, descriptor(TSS, 0x67, 0x8b, 0)); // busy 32-bit TSS
    put(LDT_SEL, descriptor(LDT_ADDR, LDT.length * 8 - 1, 0x82, 0));
    put(USER_GS & ~7, descriptor(0, 0xfffff, 0xf3, 0xc)); // stands in for glibc's TLS segment
    for (let v = 0; v < 256; v++) {
      const target = STUBS + v;
      const dpl = USER_GATES.has(v) ? 3 : 0;
      put(IDT - GDT + v * 8, [((0x08 << 16) | (target & 0xffff)) >>> 0, ((target & 0xffff0000) | 0x8e00 | (dpl << 13)) >>> 0]);
    }
    mem.setUint32(TSS - GDT + 4, RING0_STACK_TOP, true); // ESP0
    mem.setUint16(TSS - GDT + 8, 0x10, true); // SS0
    mem.setUint16(TSS - GDT + 0x66, 0x68, true); // I/O bitmap beyond the limit: IN/OUT at CPL 3 fault
    for (let v = 0; v < 256; v++) mem.setUint8(STUBS - GDT + v, 0xf4);
    this.harness.writeMemory(GDT, new Uint8Array(mem.buffer));
    const ldt = new DataView(new ArrayBuffer(LDT.length * 8));
    for (const e of LDT) {
      const [lo, hi] = ldtDescriptor(e);
      ldt.setUint32(e.index * 8, lo, true);
      ldt.setUint32(e.index * 8 + 4, hi, true);
    }
    this.harness.writeMemory(LDT_ADDR, new Uint8Array(ldt.buffer));
    c.gdtBase = GDT;
    c.gdtLimit = 0x67;
    c.idtBase = IDT;
    c.idtLimit = 0x7ff;
    c.segSel[TR] = TSS_SEL;
    c.segBase[TR] = TSS;
    c.segLimit[TR] = 0x67;
    c.segAccess[TR] = AR_P | 0xb;
    c.segSel[LDTR] = LDT_SEL;
    c.segBase[LDTR] = LDT_ADDR;
    c.segLimit[LDTR] = LDT.length * 8 - 1;
    c.segAccess[LDTR] = AR_P | 0x2;
    // As Linux sets them: #MF for x87 errors (NE), WAIT honours TS (MP); SSE on, with
    // FXSAVE/FXRSTOR and #XM for unmasked SIMD exceptions (OSFXSR, OSXMMEXCPT).
    c.cr0 |= CR0_NE | CR0_MP;
    c.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    c.sse.enabled = true;
    this.enablePaging();
  }

  /**
   * PAE paging with NXE, as the host's kernel runs (so a fetch fault reports the I/D bit):
   * the first 16 MiB identity-mapped as user read/write, except what the native harness maps
   * differently: the data region and RO_PAGE are not executable, RO_PAGE is read-only and
   * GUARD_PAGE is absent. Page faults (CR2, error code, the progress of string
   * instructions) are then compared too.
   */
  private enablePaging(): void {
    const c = this.cpu;
    const tables = 8; // 2 MiB each
    const buf = new DataView(new ArrayBuffer(0x1000 * (2 + tables)));
    const pd = 0x1000;
    buf.setUint32(0, (PAGE_DIRECTORY + pd) | PTE_P, true); // PDPTE 0 (RW/US are reserved there)
    for (let t = 0; t < tables; t++) buf.setUint32(pd + t * 8, (PAGE_DIRECTORY + 0x2000 + t * 0x1000) | PTE_P | PTE_RW | PTE_US, true);
    for (let page = 0; page < tables * 512; page++) {
      const addr = page * 0x1000;
      // User pages exactly where the native harness maps them; the system area is
      // supervisor-only; everything else is absent, as in the host process.
      let flags = 0;
      if (addr === EXIT_SLOT || (addr >= CODE_BASE && addr < DATA_BASE + DATA_SIZE)) flags = PTE_P | PTE_RW | PTE_US;
      if (addr === RO_PAGE) flags = PTE_P | PTE_US;
      if (addr >= SYS_BASE) flags = PTE_P | PTE_RW;
      const noExec = addr >= DATA_BASE && addr <= RO_PAGE;
      buf.setUint32(0x2000 + page * 8, addr | flags, true);
      buf.setUint32(0x2000 + page * 8 + 4, noExec ? 0x80000000 : 0, true);
    }
    this.harness.writeMemory(PAGE_DIRECTORY, new Uint8Array(buf.buffer));
    this.harness.writeMemory(RO_PAGE, fillData(RO_SEED, 0x1000));
    c.cr4 |= CR4_PAE;
    c.efer |= EFER_NXE;
    c.cr3 = PAGE_DIRECTORY;
    c.loadPdptes();
    c.cr0 |= CR0_PG | CR0_WP;
    c.flushTlb(true);
  }

  loadCode(code: Uint8Array): void {
    this.harness.writeMemory(CODE_BASE, code);
    this.jit?.clear();
  }

  /** Back to flat CPL 3 (a software interrupt leaves the CPU in ring 0). */
  private enterUserMode(): void {
    const c = this.cpu;
    const code = AR_P | AR_S | (3 << 5) | 0xb | AR_DB | AR_G;
    const data = AR_P | AR_S | (3 << 5) | 0x3 | AR_DB | AR_G;
    for (const seg of [ES, SS, DS, FS, GS, CS]) {
      c.segSel[seg] = seg === CS ? USER_CS : seg === GS ? USER_GS : USER_DS;
      c.segBase[seg] = 0;
      c.segLimit[seg] = -1;
      c.segAccess[seg] = seg === CS ? code : data;
      c.updateSegCheck(seg);
    }
    c.cpl = 3;
    c.halted = false;
    c.irqInhibit = false;
    c.updateMode();
  }

  /** Put the CPU, the x87 and the data region in the case's initial state. */
  private prepare(tc: DiffCase, entry: number, initial: Uint8Array): void {
    const c = this.cpu;
    this.enterUserMode();
    // What the native harness does before each case: FLDZ x8 then FNINIT.
    c.fpu.restore(FNINIT_STATE);
    // What it does next: MXCSR and XMM0-7 from the case record.
    const sse = initialSse(tc);
    c.sse.x.u8.set(sse.xmm, 0);
    c.sse.x.mxcsr = sse.mxcsr;
    this.harness.writeMemory(DATA_BASE, initial);
    this.harness.setRegs({
      eax: tc.regs[0],
      ecx: tc.regs[1],
      edx: tc.regs[2],
      ebx: tc.regs[3],
      esp: tc.regs[4],
      ebp: tc.regs[5],
      esi: tc.regs[6],
      edi: tc.regs[7],
      eflags: tc.eflags,
      eip: entry,
    });
  }

  run(tc: DiffCase, entry: number, end: number): Outcome {
    const initial = fillData(tc.memSeed);
    if (tc.patch !== undefined) initial.set(tc.patch.bytes, tc.patch.offset);
    let stop: Stop;
    if (this.jit === null) {
      this.prepare(tc, entry, initial);
      stop = this.interpret(end);
    } else {
      // Run the case until its blocks are hot and compiled, from the same state each time;
      // the last run (compiled code) is the one compared.
      for (let i = 1; i < JIT_RUNS; i++) {
        this.prepare(tc, entry, initial);
        this.runCompiled();
      }
      this.prepare(tc, entry, initial);
      stop = this.runCompiled();
      // The trap at STOP_ADDR means the case completed; its frame holds the final state.
      if (stop.exception === 3 && stop.frame !== null && stop.frame.eip === STOP_ADDR + 1) stop = { exception: null, errorCode: 0, frame: stop.frame, end };
    }
    return this.collect(stop, initial);
  }

  /** Step the interpreter until the case's end, an exception (reported, not delivered) or a handler. */
  private interpret(end: number): Stop {
    const c = this.cpu;
    let n = 0;
    for (;;) {
      const eip = c.eip >>> 0;
      if (eip === end) return { exception: null, errorCode: 0, frame: null, end };
      // A software interrupt reached its handler.
      if (c.cpl === 0 && eip >= STUBS && eip < STUBS + 256) return this.delivered(eip - STUBS);
      if (n++ >= MAX_INSTRUCTIONS) return { exception: RUNAWAY, errorCode: 0, frame: null, end };
      try {
        step(c);
      } catch (e) {
        if (e !== FAULT) throw e;
        c.ip = c.instrStart;
        const exception = c.excVector;
        return { exception, errorCode: VECTORS_WITH_ERROR_CODE.has(exception) && c.excCode >= 0 ? c.excCode >>> 0 : 0, frame: null, end };
      }
    }
  }

  /**
   * Run through the JIT, which delivers every exception through the IDT: the case ends in
   * a ring-0 stub (HLT stops the run there), either for an exception or through INT3 at
   * STOP_ADDR, where the trailer's jmp [EXIT_SLOT] leads.
   */
  private runCompiled(): Stop {
    const c = this.cpu;
    const jit = this.jit as Jit;
    c.halted = false;
    c.shutdown = false;
    for (let slice = 0; slice < MAX_INSTRUCTIONS / 1000; slice++) {
      const exit = jit.run(1000);
      const at = ((c.eip >>> 0) - (c.halted ? 1 : 0)) >>> 0;
      if (c.cpl === 0 && at >= STUBS && at < STUBS + 256) {
        c.halted = false;
        return this.delivered(at - STUBS);
      }
      if (exit === EXIT_SHUTDOWN) break;
    }
    return { exception: RUNAWAY, errorCode: 0, frame: null, end: 0 };
  }

  /** Read the ring-0 frame of a delivered interrupt or exception (error code first if it has one). */
  private delivered(vector: number): Stop {
    const c = this.cpu;
    const hasCode = this.jit !== null && VECTORS_WITH_ERROR_CODE.has(vector);
    const sp = (c.r32[4] >>> 0) + (hasCode ? 4 : 0);
    const bytes = this.harness.readMemory(sp, 20);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, 20);
    const errorCode = hasCode ? this.harness.readMemory(sp - 4, 4).reduce((v, b, i) => v | (b << (i * 8)), 0) >>> 0 : 0;
    const frame = { eip: dv.getUint32(0, true), cs: dv.getUint16(4, true), eflags: dv.getUint32(8, true), esp: dv.getUint32(12, true), ss: dv.getUint16(16, true) };
    return { exception: vector, errorCode, frame, end: 0 };
  }

  private collect(stop: Stop, initial: Uint8Array): Outcome {
    const c = this.cpu;
    const h = this.harness;
    const { exception, errorCode, frame } = stop;
    const regs = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => c.r32[i] >>> 0);
    let eflags = c.getEflags() >>> 0;
    let eip = exception === null ? stop.end : c.eip >>> 0;
    // After a delivered interrupt the CPU is in ring 0: report the interrupted state.
    const segs = [ES, CS, SS, DS, FS, GS].map((seg) => c.segSel[seg]);
    if (frame !== null) {
      regs[4] = frame.esp;
      eflags = frame.eflags;
      if (exception !== null) eip = frame.eip;
      segs[1] = frame.cs;
      segs[2] = frame.ss;
    }
    const after = h.readMemory(DATA_BASE, DATA_SIZE);
    const mem = new Map<number, number>();
    for (let i = 0; i < DATA_SIZE; i++) if (after[i] !== initial[i]) mem.set(i, after[i]);
    const fpu = canSave(c.fpu) ? fpuStateToImage(c.fpu.save()) : null;
    const cr2 = exception === 14 ? c.cr2 >>> 0 : 0;
    const xmm = c.sse.x.u8.slice(0, 128);
    return { exception, errorCode, eip, regs, eflags: eflags & ~RF, cr2, segs, mem, fpu, xmm, mxcsr: c.sse.x.mxcsr >>> 0 };
  }
}

/** Where and why a case stopped. */
interface Stop {
  exception: number | null;
  errorCode: number;
  /** The ring-0 frame of a delivered interrupt or exception. */
  frame: { eip: number; cs: number; eflags: number; esp: number; ss: number } | null;
  /** The case's end address (when it completed). */
  end: number;
}
