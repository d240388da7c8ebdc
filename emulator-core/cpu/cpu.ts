import type { IoBus } from '../bus/io-bus.js';
import type { CpuInterruptPins, InterruptController } from '../bus/irq.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { PAGE_KIND_MASK, PAGE_RAM, PAGE_ROM } from '../memory/guest-memory.js';
import type { Clock } from '../machine/clock.js';
import {
  AC,
  AF,
  AR_DB,
  AR_L,
  AR_P,
  AR_S,
  ARITH_FLAGS,
  CF,
  CR0_ET,
  CR0_PE,
  CR0_PG,
  CR0_WP,
  CR4_PAE,
  CR4_PGE,
  CR4_PSE,
  CS,
  DF,
  EFER_LMA,
  EFER_NXE,
  EXC_GP,
  EXC_PF,
  FLAGS_FIXED,
  ID,
  IF,
  IOPL,
  NT,
  OF,
  PF,
  PF_I,
  PF_P,
  PF_RSVD,
  PF_U,
  PF_W,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_PS,
  PTE_RW,
  PTE_US,
  RF,
  SF,
  SS,
  T_EXEC,
  T_EXEC_USER,
  T_GLOBAL,
  T_READ,
  T_READ_USER,
  T_VALID,
  T_WRITE,
  T_WRITE_USER,
  TF,
  VIF,
  VIP,
  VM,
  ZF,
} from './constants.js';
import type { EipTrace } from './debug-trace.js';
import type { FpuHost, FpuInstructionInfo } from './fpu-host.js';
import type { FpuState } from './state.js';
import type { CpuidFeatures } from './system.js';
import { SseUnit } from './sse/sse-unit.js';
import type { SseHost } from './sse/sse-host.js';
import { LegacySseHost } from './sse/legacy-host.js';
import { LongSseHost } from './long/sse-host64.js';
import { X87Unit } from './x87.js';
import { LongState, Tlb64 } from './long/state.js';
import { walkLong } from './long/paging.js';
import { CPU_STATE, CPU_STATE_BYTES, TLB_ENTRIES } from './state-layout.js';
import { DecodedInsn } from './decoder/decoded-insn.js';
import { InsnFetcher } from './insn-fetch.js';

/** Thrown (as this one preallocated object) to unwind an instruction that raised an exception. */
export class CpuFault {
  readonly isCpuFault = true;
}
export const FAULT = new CpuFault();

/** Lazy-flags operation kinds: how to derive CF/OF/AF from (a, b, res). */
export const K_ADD = 0;
export const K_ADC = 1; // add with carry-in 1
export const K_SUB = 2;
export const K_SBB = 3; // subtract with borrow-in 1
export const K_LOGIC = 4;

/** Run-loop exit reasons. */
export const EXIT_BUDGET = 0;
export const EXIT_HALT = 1;
export const EXIT_REQUESTED = 2;
export const EXIT_SHUTDOWN = 3; // triple fault

/** An NMI or an enabled maskable interrupt can be taken now (every run loop asks this). */
export function canTakeInterrupt(c: Cpu): boolean {
  return (c.nmiPending && !c.nmiBlocked) || (c.intr && (c.flags & IF) !== 0);
}

/** Triple fault: the CPU enters shutdown; the run loop returns EXIT_SHUTDOWN. */
export function shutdown(c: Cpu): number {
  c.shutdown = true;
  c.hooks.onShutdown();
  return EXIT_SHUTDOWN;
}

export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_EXEC = 2;

/** Physical address used for pages beyond what we model (PAE > 4 GiB): reads as all ones. */
const PHYS_NONE = -1;

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  PARITY[i] = (b & 1) === 0 ? PF : 0;
}

/** 8-bit register number (AL, CL, DL, BL, AH, CH, DH, BH) to its byte index in the register file. */
export const REG8 = new Int32Array([0, 4, 8, 12, 1, 5, 9, 13]);

export type Instruction = (c: Cpu) => void;

/**
 * What the CPU's instructions reach of its local APIC (devices/apic/local-apic.ts implements
 * it): the IA32_APIC_BASE and IA32_TSC_DEADLINE MSRs, CR8 (the TPR's priority class) and the
 * APIC ID and enable state CPUID reports. Interrupts themselves arrive through `pic`.
 */
export interface CpuApicPort {
  readonly apicId: number;
  readonly hardwareEnabled: boolean;
  readApicBase(): number;
  /** False: reserved bits, raise #GP(0). */
  writeApicBase(value: number): boolean;
  readTscDeadline(): number;
  writeTscDeadline(value: number): void;
  readCr8(): number;
  writeCr8(value: number): void;
}

/** What the CPU needs from the x87/MMX unit (fpu.ts implements it). */
export interface FpuUnit {
  reset(): void;
  /** WAIT/FWAIT and waiting instructions: report a pending unmasked exception. */
  checkPendingException(): void;
  exec(opcode: number, modrm: number, lin: number, info: FpuInstructionInfo, cpu: Cpu): void;
  execMmx(opcode: number, modrm: number, cpu: Cpu): void;
  /** x87/MMX state for snapshots (state.ts). */
  save(): FpuState;
  restore(state: FpuState): void;
}

/** A CPU without an FPU: x87 and MMX instructions are undefined. */
export class NoFpu implements FpuUnit {
  reset(): void {}
  checkPendingException(): void {}
  exec(_o: number, _m: number, _l: number, _i: FpuInstructionInfo, cpu: Cpu): void {
    cpu.undefinedOpcode();
  }
  execMmx(_o: number, _m: number, cpu: Cpu): void {
    cpu.undefinedOpcode();
  }
  save(): FpuState {
    return { control: 0x37f, status: 0, tag: 0xffff, opcode: 0, ip: 0, cs: 0, dp: 0, ds: 0, regs: new Array<string>(8).fill('0'.repeat(20)) };
  }
  restore(_state: FpuState): void {}
}

export interface CpuOptions {
  clock: Clock;
  /** Nominal TSC frequency in Hz. */
  tscHz?: number;
  /** Marketing name shown by CPUID (and /proc/cpuinfo). */
  modelName?: string;
  createFpu?: (cpu: Cpu) => FpuUnit;
}

export interface CpuHooks {
  /** Triple fault: the CPU is in shutdown state. */
  onShutdown(): void;
  /** IRQ13 (legacy FPU error reporting when CR0.NE = 0). */
  onFerr(): void;
}

/**
 * The software x86 CPU (i686 level). State lives in typed arrays and plain number fields;
 * instructions are functions in dispatch tables (ops.ts) that operate on this object.
 *
 * Addresses: linear addresses are kept as int32 (x | 0); a TLB entry per linear 4 KiB page
 * holds the backing-buffer offset of the page in its high 20 bits and permission flags
 * (T_*) in its low 12, so an access that hits costs one load, one test and one add.
 */
export class Cpu implements FpuHost, CpuInterruptPins {
  // Memory and buses
  readonly mem: GuestMemory;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly io: IoBus;
  pic: InterruptController | null = null;
  /** This vCPU's local APIC (MSRs 0x1B and 0x6E0, CR8, CPUID); null on a PIC-only machine. */
  apic: CpuApicPort | null = null;
  readonly clock: Clock;
  readonly tscHz: number;
  readonly modelName: string;
  hooks: CpuHooks = { onShutdown: () => {}, onFerr: () => {} };
  /** Post-mortem interrupt/IRET trace (TERRARIUM_TRACE_EIP, cpu/debug-trace.ts); null when off. */
  eipTrace: EipTrace | null = null;

  // General registers: one Int32Array with 8- and 16-bit views over it (little-endian).
  // 16 entries leave room for R8-R15 in long mode.
  // These arrays are views into guest memory's state area (state-layout.ts).
  readonly r32: Int32Array;
  readonly r16: Uint16Array;
  readonly r8: Uint8Array;
  /** High 32 bits of RAX..R15 (long mode; 32-bit code never reads them). */
  readonly rh: Int32Array;
  /** Long-mode state (RIP high half, 64-bit bases, MSRs, the 64-bit TLB); see long/. */
  readonly lm: LongState;

  /** Linear address of the next instruction byte (int32). EIP = ip - csBase. */
  ip = 0;
  /** Linear address where the current instruction started. */
  instrStart = 0;

  // Segments (ES, CS, SS, DS, FS, GS, LDTR, TR)
  readonly segSel: Uint16Array;
  readonly segBase: Int32Array;
  /** Effective byte limit, as int32 (0xffffffff = -1). */
  readonly segLimit: Int32Array;
  readonly segAccess: Int32Array;
  /** Non-zero when accesses through the segment need a limit or validity check. */
  readonly segCheck: Uint8Array;
  gdtBase = 0;
  gdtLimit = 0xffff;
  idtBase = 0;
  idtLimit = 0x3ff;

  // Control state
  cr0 = CR0_ET;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  efer = 0;
  readonly dr: Int32Array;
  cpl = 0;
  /** CS.D: default operand and address size is 32-bit. */
  code32 = false;
  /** SS.B: the stack pointer is ESP (else SP). */
  ss32 = false;
  /** CR0.PE=1 and not virtual-8086. */
  protectedMode = false;
  /** DS, ES and SS have base 0 and need no checks (the JIT compiles for this case). */
  flatData = false;
  /** code32 | ss32 << 1 | flatData << 2: compiled blocks are valid only under the key they were built with. */
  modeKey = 0;
  /** IA32_EFER.LMA and CS.L: 64-bit mode, run by long/run64.ts instead of the tables here. */
  mode64 = false;
  /**
   * Set with exitRequested when mode64 changes inside a run slice: the run loop returns and
   * the dispatcher (long/dispatch.ts) continues in the other mode's loop.
   */
  modeSwitch = false;
  /** Set by every control transfer; the JIT uses it to find block boundaries while interpreting. */
  branched = false;
  /** Compiled code was invalidated: a running region must return to the dispatcher. */
  smc = false;

  // Flags: `flags` holds materialized bits; bits in lazyMask come from the lazy state.
  flags = FLAGS_FIXED;
  lazyMask = 0;
  lfKind = K_LOGIC;
  lfA = 0;
  lfB = 0;
  lfRes = 0;
  /** 24, 16 or 0: shifting left by this puts the operand's sign bit at bit 31. */
  lfShift = 0;

  /**
   * The instruction the interpreter is running (prefixes, ModRM operand, immediates), from
   * the shared decoder through `fetcher`. A decode-cache entry: read it, never write it.
   */
  insn = new DecodedInsn();
  readonly fetcher: InsnFetcher;
  /** Called (after the interpreter's decode cache) when a write lands on a page flagged in mem.codePages: the JIT's invalidation. */
  onCodeWrite: ((backingPage: number) => void) | null = null;
  /** Offset and segment of the last memory operand ea() computed (the x87's FDP/FDS). */
  eaOffset = 0;
  eaSeg = 0;

  // TLB
  readonly tlb: Int32Array;
  readonly tlbPhys: Int32Array;
  private readonly tlbList = new Int32Array(8192);
  private tlbCount = 0;
  /** TLB flag required for a direct read/write at the current CPL. */
  readMask = T_READ;
  writeMask = T_WRITE;
  execMask = T_EXEC;
  a20Mask = -1;
  /** PAE page-directory-pointer entries, loaded with CR3 (low and high dwords). */
  readonly pdpte: Int32Array;

  // Fetch window: linear range [fetchBase, fetchBase + fetchSpan] maps to backing at fetchBase + fetchDelta.
  fetchBase = 0;
  fetchSpan = -1;
  fetchDelta = 0;

  // Read-modify-write: where the operand fetched by rmwRead* lives.
  rmwOff = 0;
  rmwLin = 0;

  // Interrupts and execution state
  intr = false;
  nmiPending = false;
  nmiBlocked = false;
  /** STI / MOV SS inhibit interrupts for one instruction. */
  irqInhibit = false;
  halted = false;
  /**
   * PAUSE requests an exit from the run loop: set when several CPUs take turns on one
   * thread, so one spinning on a lock yields to the CPU that holds it (as PAUSE-loop
   * exiting does under hardware virtualization). Without it a lock released and taken back
   * within one turn is never seen free by the others: SeaBIOS's AP start-up livelocked.
   */
  pauseExits = false;
  exitRequested = false;
  shutdown = false;
  instructionCount = 0;
  /** Instructions retired so far in the current run slice (read by paced clocks). */
  sliceInstructions = 0;
  /** Counts #UD exceptions, so the machine can detect an unknown-opcode storm. */
  undefinedOpcodeCount = 0;
  lastUndefinedOpcodeAt = 0;

  // Exception being raised
  excVector = 0;
  excCode = -1;
  /** Vector of the exception being delivered (for double-fault classification), or -1. */
  delivering = -1;

  // MSR state
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;
  patLo = 0x00070406;
  patHi = 0x00070406;
  apicBase = 0xfee00900;
  tscOffset = 0;
  miscEnable = 1;
  mtrrDefType = 0;
  readonly mtrrs = new Map<number, [number, number]>();

  fpu: FpuUnit;
  /** XMM registers and MXCSR; its instructions exist once sse.enabled (CPUID) is set. */
  readonly sse: SseUnit;
  /** The SSE unit's views of this CPU in legacy and in 64-bit mode. */
  readonly sseLegacy: SseHost;
  readonly sseLong: SseHost;
  readonly fpuInfo: FpuInstructionInfo = { ip: 0, cs: 0, dp: 0, ds: 0, operand32: true, realMode: true };
  cpuidFeatures: CpuidFeatures = { apic: false };

  /** Backing offset of this CPU's state block in guest memory (state-layout.ts). */
  readonly stateBase: number;

  constructor(mem: GuestMemory, io: IoBus, options: CpuOptions) {
    this.mem = mem;
    const base = (this.stateBase = mem.claimState(CPU_STATE_BYTES, 'CPU'));
    const buf = mem.buffer;
    this.r32 = new Int32Array(buf, base + CPU_STATE.R32, 16);
    this.r16 = new Uint16Array(buf, base + CPU_STATE.R32, 32);
    this.r8 = new Uint8Array(buf, base + CPU_STATE.R32, 64);
    this.rh = new Int32Array(buf, base + CPU_STATE.RH, 16);
    this.segSel = new Uint16Array(buf, base + CPU_STATE.SEG_SEL, 8);
    this.segBase = new Int32Array(buf, base + CPU_STATE.SEG_BASE, 8);
    this.segLimit = new Int32Array(buf, base + CPU_STATE.SEG_LIMIT, 8);
    this.segAccess = new Int32Array(buf, base + CPU_STATE.SEG_ACCESS, 8);
    this.segCheck = new Uint8Array(buf, base + CPU_STATE.SEG_CHECK, 8);
    this.dr = new Int32Array(buf, base + CPU_STATE.DR, 8);
    this.pdpte = new Int32Array(buf, base + CPU_STATE.PDPTE, 8);
    this.tlb = new Int32Array(buf, base + CPU_STATE.TLB, TLB_ENTRIES);
    this.tlbPhys = new Int32Array(buf, base + CPU_STATE.TLB_PHYS, TLB_ENTRIES);
    this.lm = new LongState(new Tlb64(buf, base));
    this.u8 = mem.u8;
    this.u16 = mem.u16;
    this.i32 = mem.i32;
    this.io = io;
    this.clock = options.clock;
    this.tscHz = options.tscHz ?? 1_000_000_000;
    this.modelName = options.modelName ?? 'Terrarium Virtual CPU';
    this.fpu = options.createFpu ? options.createFpu(this) : new X87Unit(this);
    this.sse = new SseUnit({
      save: () => this.fpu.save(),
      restore: (st) => this.fpu.restore(st),
      mmx: () => (this.fpu instanceof X87Unit ? this.fpu.fpu : null),
    });
    this.sseLegacy = new LegacySseHost(this);
    this.sseLong = new LongSseHost(this);
    this.fetcher = new InsnFetcher(this);
    mem.addCodeWriteListener((page) => {
      this.fetcher.pageWritten(page);
      if (this.onCodeWrite !== null) this.onCodeWrite(page);
    });
    mem.addNewCodePageListener(() => this.flushTlb(true));
    // A remapped physical page (BAR moved, shadow RAM enabled) invalidates translations.
    mem.onMapChange(() => this.flushTlb(true));
    this.reset();
  }

  // ---------------------------------------------------------------- reset & mode

  /** Power-on / RESET state: real mode at F000:FFF0. */
  /** Power-on or RESET: every register, the TSC and the decode cache's trust start over. */
  reset(): void {
    this.resetRegisters();
    this.tscOffset = -this.clockTsc();
    this.mtrrDefType = 0;
    this.mtrrs.clear();
    this.fetcher.reset();
  }

  /**
   * INIT (an IPI from another processor's local APIC): the registers go to their reset
   * values as with RESET, but the TSC and the MTRRs keep running and memory is untouched, so
   * what other CPUs decoded stays trusted (SDM vol. 3 §9.1.1).
   */
  init(): void {
    this.resetRegisters();
  }

  /**
   * Start-up IPI to a processor waiting after INIT: real mode at vector:0000, the page at
   * physical vector << 12 (SDM vol. 3 §8.4.4.1).
   */
  startup(vector: number): void {
    this.loadRealSegmentRaw(CS, (vector & 0xff) << 8, 0xffff, AR_P | AR_S | 0xb);
    this.ip = this.segBase[CS];
    this.fetchSpan = -1;
    this.halted = false;
    this.updateMode();
  }

  private resetRegisters(): void {
    this.r32.fill(0);
    this.rh.fill(0);
    this.lm.reset();
    this.mode64 = false;
    this.r32[2] = 0x00000633; // EDX: family 6 model 3 stepping 3 signature
    this.flags = FLAGS_FIXED;
    this.lazyMask = 0;
    this.cr0 = CR0_ET | (1 << 30) | (1 << 29); // CD and NW set at reset
    this.cr2 = 0;
    this.cr3 = 0;
    this.cr4 = 0;
    this.efer = 0;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0 | 0;
    this.dr[7] = 0x400;
    for (let s = 0; s < 6; s++) this.loadRealSegmentRaw(s, 0, 0xffff, AR_P | AR_S | 3);
    this.loadRealSegmentRaw(CS, 0xf000, 0xffff, AR_P | AR_S | 0xb);
    this.segBase[CS] = 0xffff0000 | 0;
    this.segSel[6] = 0;
    this.segBase[6] = 0;
    this.segLimit[6] = 0xffff;
    this.segAccess[6] = AR_P | 2;
    this.segSel[7] = 0;
    this.segBase[7] = 0;
    this.segLimit[7] = 0xffff;
    this.segAccess[7] = AR_P | 11;
    this.gdtBase = 0;
    this.gdtLimit = 0xffff;
    this.idtBase = 0;
    this.idtLimit = 0x3ff;
    this.ip = (this.segBase[CS] + 0xfff0) | 0;
    this.sysenterCs = 0;
    this.sysenterEsp = 0;
    this.sysenterEip = 0;
    this.patLo = 0x00070406;
    this.patHi = 0x00070406;
    this.apicBase = 0xfee00900 | 0;
    this.miscEnable = 1;
    this.intr = false;
    this.nmiPending = false;
    this.nmiBlocked = false;
    this.irqInhibit = false;
    this.halted = false;
    this.shutdown = false;
    this.delivering = -1;
    this.fpu.reset();
    this.sse.reset();
    this.updateMode();
    this.flushTlb(true);
  }

  /** Recompute cached mode bits after CR0, EFLAGS.VM, CS or SS change. */
  updateMode(): void {
    const pe = (this.cr0 & CR0_PE) !== 0;
    const vm = (this.flags & VM) !== 0;
    this.protectedMode = pe && !vm;
    if (!pe) this.cpl = 0;
    else if (vm) this.cpl = 3;
    const m64 = (this.efer & EFER_LMA) !== 0 && (this.segAccess[CS] & AR_L) !== 0;
    this.code32 = !vm && ((this.segAccess[CS] & AR_DB) !== 0 || m64);
    this.ss32 = !vm && (this.segAccess[SS] & AR_DB) !== 0;
    if (m64 !== this.mode64) {
      this.mode64 = m64;
      this.modeSwitch = true;
      this.exitRequested = true;
      this.fetchSpan = -1;
      if (!m64) this.lm.ripHi = 0;
    }
    this.updateAccessMasks();
    this.updateModeKey();
  }

  updateModeKey(): void {
    this.flatData =
      this.segCheck[0] === 0 && this.segCheck[2] === 0 && this.segCheck[3] === 0 && this.segBase[0] === 0 && this.segBase[2] === 0 && this.segBase[3] === 0;
    this.modeKey = (this.code32 ? 1 : 0) | (this.ss32 ? 2 : 0) | (this.flatData ? 4 : 0);
  }

  updateAccessMasks(): void {
    const user = this.cpl === 3;
    this.readMask = user ? T_READ_USER : T_READ;
    this.writeMask = user ? T_WRITE_USER : T_WRITE;
    this.execMask = user ? T_EXEC_USER : T_EXEC;
    this.fetchSpan = -1;
  }

  /** Load a segment register the real-mode way (also used by reset). */
  loadRealSegmentRaw(seg: number, sel: number, limit: number, access: number): void {
    this.segSel[seg] = sel;
    this.segBase[seg] = sel << 4;
    this.segLimit[seg] = limit;
    this.segAccess[seg] = access;
    this.updateSegCheck(seg);
  }

  updateSegCheck(seg: number): void {
    const a = this.segAccess[seg];
    // Checks are needed for limits below 4 GiB and expand-down data segments. Unusable
    // (null) segments in protected mode fault on use.
    const expandDown = (a & AR_S) !== 0 && (a & 0xc) === 0x4;
    this.segCheck[seg] = this.segLimit[seg] !== -1 || expandDown || (a & AR_P) === 0 ? 1 : 0;
    if (seg === CS) this.fetchSpan = -1;
    this.updateModeKey();
  }

  get eip(): number {
    return (this.ip - this.segBase[CS]) | 0;
  }

  /** Jump within the current code segment. */
  setEip(eip: number): void {
    this.ip = (this.segBase[CS] + eip) | 0;
    this.branched = true;
  }

  // ---------------------------------------------------------------- interrupt pins

  setIntr(high: boolean): void {
    this.intr = high;
  }

  raiseNmi(): void {
    this.nmiPending = true;
  }

  // ---------------------------------------------------------------- exceptions

  raise(vector: number, code = -1): never {
    this.excVector = vector;
    this.excCode = code;
    throw FAULT;
  }

  gp(code = 0): never {
    return this.raise(EXC_GP, code);
  }

  undefinedOpcode(): never {
    this.undefinedOpcodeCount++;
    this.lastUndefinedOpcodeAt = this.instrStart;
    return this.raise(6);
  }

  // ---------------------------------------------------------------- TLB and paging

  flushTlb(includeGlobal: boolean): void {
    const list = this.tlbList;
    let kept = 0;
    for (let i = 0; i < this.tlbCount; i++) {
      const page = list[i];
      if (!includeGlobal && (this.tlb[page] & T_GLOBAL) !== 0) list[kept++] = page;
      else this.tlb[page] = 0;
    }
    this.tlbCount = kept;
    this.fetchSpan = -1;
    this.lm.tlb.flush(includeGlobal);
  }

  invalidatePage(lin: number): void {
    this.tlb[lin >>> 12] = 0;
    this.fetchSpan = -1;
  }

  /** Insert a translation into the 32-bit TLB (also used by the 4-level walk, long/paging.ts). */
  tlbInsert(page: number, entry: number, phys: number): void {
    if (this.tlb[page] === 0) {
      if (this.tlbCount === this.tlbList.length) this.flushTlb(true);
      this.tlbList[this.tlbCount++] = page;
    }
    this.tlb[page] = entry;
    this.tlbPhys[page] = phys;
  }

  get pagingEnabled(): boolean {
    return (this.cr0 & CR0_PG) !== 0;
  }

  /** Load the PAE PDPTEs (on CR3 write and when enabling PAE paging). */
  loadPdptes(): void {
    const base = this.cr3 & ~0x1f;
    for (let i = 0; i < 8; i++) this.pdpte[i] = this.mem.read32((base + i * 4) >>> 0);
    for (let i = 0; i < 4; i++) {
      const lo = this.pdpte[i * 2];
      const hi = this.pdpte[i * 2 + 1];
      // Reserved bits 1-2, 5-8, and above bit 35 (we model 36-bit physical addresses).
      if ((lo & PTE_P) !== 0 && ((lo & 0x1e6) !== 0 || (hi & ~0xf) !== 0)) this.gp(0);
    }
  }

  /**
   * Translate a linear address for an access, filling the TLB. Raises #PF on failure.
   * `user` is the privilege of the access (CPL 3, unless it is an implicit system access).
   * Returns the physical address (PHYS_NONE for addresses beyond 4 GiB).
   */
  translate(lin: number, access: number, user: boolean): number {
    const page = lin >>> 12;
    if ((this.cr0 & CR0_PG) === 0) {
      const phys = lin & this.a20Mask & ~0xfff;
      this.fillTlb(page, phys, T_READ | T_READ_USER | T_WRITE | T_WRITE_USER | T_EXEC | T_EXEC_USER);
      return (phys | (lin & 0xfff)) >>> 0;
    }
    if ((this.efer & EFER_LMA) !== 0) return walkLong(this, 0, lin, access, user);
    return (this.cr4 & CR4_PAE) !== 0 ? this.walkPae(lin, access, user) : this.walk32(lin, access, user);
  }

  private pageFault(lin: number, code: number): never {
    this.cr2 = lin;
    return this.raise(EXC_PF, code);
  }

  private faultCode(present: boolean, access: number, user: boolean): number {
    let code = present ? PF_P : 0;
    if (access === ACCESS_WRITE) code |= PF_W;
    if (user) code |= PF_U;
    if (access === ACCESS_EXEC && (this.efer & EFER_NXE) !== 0 && (this.cr4 & CR4_PAE) !== 0) code |= PF_I;
    return code;
  }

  private walk32(lin: number, access: number, user: boolean): number {
    const mem = this.mem;
    const pdeAddr = ((this.cr3 & ~0xfff) | ((lin >>> 22) << 2)) >>> 0;
    const pde = mem.read32(pdeAddr);
    if ((pde & PTE_P) === 0) this.pageFault(lin, this.faultCode(false, access, user));
    let perms: number;
    let phys: number;
    let dirty: boolean;
    let global: boolean;
    if ((pde & PTE_PS) !== 0 && (this.cr4 & CR4_PSE) !== 0) {
      // 4 MiB page. PSE-36 bits 13-16 would select memory above 4 GiB, which we don't have.
      if ((pde & 0x1e000) !== 0) {
        phys = PHYS_NONE;
      } else {
        phys = (pde & 0xffc00000) | (lin & 0x3ff000);
      }
      perms = pde;
      this.checkPerms(lin, perms, access, user);
      let updated = pde | PTE_A;
      if (access === ACCESS_WRITE) updated |= PTE_D;
      if (updated !== pde) mem.write32(pdeAddr, updated);
      dirty = (updated & PTE_D) !== 0;
      global = (pde & PTE_G) !== 0;
    } else {
      const pteAddr = ((pde & ~0xfff) | (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
      const pte = mem.read32(pteAddr);
      if ((pte & PTE_P) === 0) this.pageFault(lin, this.faultCode(false, access, user));
      perms = pde & pte;
      this.checkPerms(lin, perms, access, user);
      if ((pde & PTE_A) === 0) mem.write32(pdeAddr, pde | PTE_A);
      let updated = pte | PTE_A;
      if (access === ACCESS_WRITE) updated |= PTE_D;
      if (updated !== pte) mem.write32(pteAddr, updated);
      dirty = (updated & PTE_D) !== 0;
      global = (pte & PTE_G) !== 0;
      phys = pte & ~0xfff;
    }
    return this.finishWalk(lin, phys, perms, dirty, global, true);
  }

  private walkPae(lin: number, access: number, user: boolean): number {
    const mem = this.mem;
    const nxe = (this.efer & EFER_NXE) !== 0;
    const idx = lin >>> 30;
    const pdpLo = this.pdpte[idx * 2];
    const pdpHi = this.pdpte[idx * 2 + 1];
    if ((pdpLo & PTE_P) === 0) this.pageFault(lin, this.faultCode(false, access, user));
    if ((pdpHi & ~0xf) !== 0) return this.finishWalk(lin, PHYS_NONE, PTE_RW | PTE_US, true, false, true);
    const pdeAddr = ((pdpLo & ~0xfff) + (((lin >>> 21) & 0x1ff) << 3)) >>> 0;
    const pde = mem.read32(pdeAddr);
    const pdeHi = mem.read32(pdeAddr + 4);
    if ((pde & PTE_P) === 0) this.pageFault(lin, this.faultCode(false, access, user));
    this.checkPaeReserved(lin, pdeHi, access, user, nxe);
    let exec = !(nxe && pdeHi < 0);
    let perms: number;
    let phys: number;
    let dirty: boolean;
    let global: boolean;
    if ((pde & PTE_PS) !== 0) {
      if ((pde & 0x1fe000) !== 0) this.pageFault(lin, this.faultCode(true, access, user) | PF_RSVD);
      perms = pde;
      if (access === ACCESS_EXEC && !exec) this.pageFault(lin, this.faultCode(true, access, user));
      this.checkPerms(lin, perms, access, user);
      let updated = pde | PTE_A;
      if (access === ACCESS_WRITE) updated |= PTE_D;
      if (updated !== pde) mem.write32(pdeAddr, updated);
      dirty = (updated & PTE_D) !== 0;
      global = (pde & PTE_G) !== 0;
      phys = (pdeHi & 0xf) !== 0 ? PHYS_NONE : (pde & 0xffe00000) | (lin & 0x1ff000);
    } else {
      const pteAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x1ff) << 3)) >>> 0;
      const pte = mem.read32(pteAddr);
      const pteHi = mem.read32(pteAddr + 4);
      if ((pte & PTE_P) === 0) this.pageFault(lin, this.faultCode(false, access, user));
      this.checkPaeReserved(lin, pteHi, access, user, nxe);
      if (nxe && pteHi < 0) exec = false;
      perms = pde & pte;
      if (access === ACCESS_EXEC && !exec) this.pageFault(lin, this.faultCode(true, access, user));
      this.checkPerms(lin, perms, access, user);
      if ((pde & PTE_A) === 0) mem.write32(pdeAddr, pde | PTE_A);
      let updated = pte | PTE_A;
      if (access === ACCESS_WRITE) updated |= PTE_D;
      if (updated !== pte) mem.write32(pteAddr, updated);
      dirty = (updated & PTE_D) !== 0;
      global = (pte & PTE_G) !== 0;
      phys = (pteHi & 0xf) !== 0 ? PHYS_NONE : pte & ~0xfff;
    }
    return this.finishWalk(lin, phys, perms, dirty, global, exec);
  }

  private checkPaeReserved(lin: number, hi: number, access: number, user: boolean, nxe: boolean): void {
    // Bits 36-62 reserved (36-bit physical), bit 63 reserved unless NXE.
    if ((hi & 0x7ffffff0) !== 0 || (!nxe && hi < 0)) this.pageFault(lin, this.faultCode(true, access, user) | PF_RSVD);
  }

  private checkPerms(lin: number, perms: number, access: number, user: boolean): void {
    if (user) {
      if ((perms & PTE_US) === 0) this.pageFault(lin, this.faultCode(true, access, user));
      if (access === ACCESS_WRITE && (perms & PTE_RW) === 0) this.pageFault(lin, this.faultCode(true, access, user));
    } else if (access === ACCESS_WRITE && (perms & PTE_RW) === 0 && (this.cr0 & CR0_WP) !== 0) {
      this.pageFault(lin, this.faultCode(true, access, user));
    }
  }

  private finishWalk(lin: number, phys: number, perms: number, dirty: boolean, global: boolean, exec: boolean): number {
    let flags = T_READ;
    if ((perms & PTE_US) !== 0) flags |= T_READ_USER;
    if (dirty) {
      if ((perms & PTE_RW) !== 0 || (this.cr0 & CR0_WP) === 0) flags |= T_WRITE;
      if ((perms & PTE_RW) !== 0 && (perms & PTE_US) !== 0) flags |= T_WRITE_USER;
    }
    if (exec) {
      flags |= T_EXEC;
      if ((perms & PTE_US) !== 0) flags |= T_EXEC_USER;
    }
    if (global && (this.cr4 & CR4_PGE) !== 0) flags |= T_GLOBAL;
    if (phys === PHYS_NONE) {
      this.tlbInsert(lin >>> 12, T_VALID | (flags & T_GLOBAL), PHYS_NONE);
      return PHYS_NONE;
    }
    phys &= this.a20Mask;
    this.fillTlb(lin >>> 12, phys, flags);
    return (phys | (lin & 0xfff)) >>> 0;
  }

  /** Insert a translation; direct-access flags only where the physical page has backing. */
  fillTlb(page: number, physPage: number, flags: number): void {
    this.tlbInsert(page, this.tlbEntry(physPage, flags), physPage);
  }

  /** The TLB entry (backing offset and direct-access flags) for a physical page and T_* flags. */
  tlbEntry(physPage: number, flags: number): number {
    const e = this.mem.pageMap[physPage >>> 12];
    const kind = e & PAGE_KIND_MASK;
    let entry = T_VALID | (flags & T_GLOBAL);
    if (kind === PAGE_RAM) {
      // Pages with compiled code take the slow write path, which invalidates that code.
      if (this.mem.codePages[e >>> 8] !== 0) flags &= ~(T_WRITE | T_WRITE_USER);
      entry |= ((e >>> 8) << 12) | (flags & ~T_GLOBAL);
    } else if (kind === PAGE_ROM) {
      entry |= ((e >>> 8) << 12) | (flags & (T_READ | T_READ_USER | T_EXEC | T_EXEC_USER));
    }
    return entry;
  }

  /** Physical address of a linear address for a system (supervisor) or current-privilege access. */
  physFor(lin: number, access: number, user: boolean): number {
    const e = this.tlb[lin >>> 12];
    if ((e & T_VALID) !== 0) {
      const need = access === ACCESS_WRITE ? (user ? T_WRITE_USER : T_WRITE) : access === ACCESS_EXEC ? (user ? T_EXEC_USER : T_EXEC) : user ? T_READ_USER : T_READ;
      if ((e & need) !== 0) {
        const phys = this.tlbPhys[lin >>> 12];
        return phys === PHYS_NONE ? PHYS_NONE : (phys | (lin & 0xfff)) >>> 0;
      }
    }
    return this.translate(lin, access, user);
  }

  // ---------------------------------------------------------------- linear memory access

  readLin8(lin: number): number {
    const e = this.tlb[lin >>> 12];
    if ((e & this.readMask) !== 0) return this.u8[((e & ~0xfff) >>> 0) + (lin & 0xfff)];
    return this.readSlow8(lin, this.cpl === 3);
  }

  readLin16(lin: number): number {
    if ((lin & 0xfff) !== 0xfff) {
      const e = this.tlb[lin >>> 12];
      if ((e & this.readMask) !== 0) {
        const o = ((e & ~0xfff) >>> 0) + (lin & 0xfff);
        return (o & 1) === 0 ? this.u16[o >>> 1] : this.u8[o] | (this.u8[o + 1] << 8);
      }
    }
    return this.readSlow16(lin, this.cpl === 3);
  }

  readLin32(lin: number): number {
    if ((lin & 0xfff) <= 0xffc) {
      const e = this.tlb[lin >>> 12];
      if ((e & this.readMask) !== 0) {
        const o = ((e & ~0xfff) >>> 0) + (lin & 0xfff);
        if ((o & 3) === 0) return this.i32[o >>> 2];
        const u8 = this.u8;
        return u8[o] | (u8[o + 1] << 8) | (u8[o + 2] << 16) | (u8[o + 3] << 24);
      }
    }
    return this.readSlow32(lin, this.cpl === 3);
  }

  writeLin8(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12];
    if ((e & this.writeMask) !== 0) {
      this.u8[((e & ~0xfff) >>> 0) + (lin & 0xfff)] = v;
      return;
    }
    this.writeSlow8(lin, v, this.cpl === 3);
  }

  writeLin16(lin: number, v: number): void {
    if ((lin & 0xfff) !== 0xfff) {
      const e = this.tlb[lin >>> 12];
      if ((e & this.writeMask) !== 0) {
        const o = ((e & ~0xfff) >>> 0) + (lin & 0xfff);
        if ((o & 1) === 0) this.u16[o >>> 1] = v;
        else {
          this.u8[o] = v;
          this.u8[o + 1] = v >> 8;
        }
        return;
      }
    }
    this.writeSlow16(lin, v, this.cpl === 3);
  }

  writeLin32(lin: number, v: number): void {
    if ((lin & 0xfff) <= 0xffc) {
      const e = this.tlb[lin >>> 12];
      if ((e & this.writeMask) !== 0) {
        const o = ((e & ~0xfff) >>> 0) + (lin & 0xfff);
        if ((o & 3) === 0) this.i32[o >>> 2] = v;
        else {
          const u8 = this.u8;
          u8[o] = v;
          u8[o + 1] = v >> 8;
          u8[o + 2] = v >> 16;
          u8[o + 3] = v >> 24;
        }
        return;
      }
    }
    this.writeSlow32(lin, v, this.cpl === 3);
  }

  readSlow8(lin: number, user: boolean): number {
    const phys = this.physFor(lin, ACCESS_READ, user);
    return phys === PHYS_NONE ? 0xff : this.mem.read8(phys);
  }

  readSlow16(lin: number, user: boolean): number {
    if ((lin & 0xfff) === 0xfff) {
      // Page-crossing: translate both pages before reading either.
      const p0 = this.physFor(lin, ACCESS_READ, user);
      const p1 = this.physFor((lin + 1) | 0, ACCESS_READ, user);
      return this.physRead8(p0) | (this.physRead8(p1) << 8);
    }
    const phys = this.physFor(lin, ACCESS_READ, user);
    return phys === PHYS_NONE ? 0xffff : this.mem.read16(phys);
  }

  readSlow32(lin: number, user: boolean): number {
    const off = lin & 0xfff;
    if (off > 0xffc) {
      const p0 = this.physFor(lin, ACCESS_READ, user);
      const p1 = this.physFor((lin + (0x1000 - off)) | 0, ACCESS_READ, user);
      let v = 0;
      for (let i = 0; i < 4; i++) {
        const b = off + i < 0x1000 ? this.physRead8(p0 + i) : this.physRead8(p1 + (off + i - 0x1000));
        v |= b << (i * 8);
      }
      return v;
    }
    const phys = this.physFor(lin, ACCESS_READ, user);
    return phys === PHYS_NONE ? -1 : this.mem.read32(phys);
  }

  private physRead8(phys: number): number {
    return phys === PHYS_NONE || phys < 0 ? 0xff : this.mem.read8(phys);
  }

  private physWrite8(phys: number, v: number): void {
    if (phys !== PHYS_NONE && phys >= 0) this.mem.write8(phys, v);
  }

  writeSlow8(lin: number, v: number, user: boolean): void {
    const phys = this.physFor(lin, ACCESS_WRITE, user);
    if (phys !== PHYS_NONE) this.mem.write8(phys, v);
  }

  writeSlow16(lin: number, v: number, user: boolean): void {
    if ((lin & 0xfff) === 0xfff) {
      const p0 = this.physFor(lin, ACCESS_WRITE, user);
      const p1 = this.physFor((lin + 1) | 0, ACCESS_WRITE, user);
      this.physWrite8(p0, v);
      this.physWrite8(p1, v >> 8);
      return;
    }
    const phys = this.physFor(lin, ACCESS_WRITE, user);
    if (phys !== PHYS_NONE) this.mem.write16(phys, v);
  }

  writeSlow32(lin: number, v: number, user: boolean): void {
    const off = lin & 0xfff;
    if (off > 0xffc) {
      const p0 = this.physFor(lin, ACCESS_WRITE, user);
      const p1 = this.physFor((lin + (0x1000 - off)) | 0, ACCESS_WRITE, user);
      for (let i = 0; i < 4; i++) {
        const b = (v >> (i * 8)) & 0xff;
        if (off + i < 0x1000) this.physWrite8(p0 + i, b);
        else this.physWrite8(p1 + (off + i - 0x1000), b);
      }
      return;
    }
    const phys = this.physFor(lin, ACCESS_WRITE, user);
    if (phys !== PHYS_NONE) this.mem.write32(phys, v);
  }

  /** Fault now if [lin, lin+length) is not writable at the current privilege. */
  checkWritable(lin: number, length: number): void {
    const user = this.cpl === 3;
    const last = (lin + length - 1) | 0;
    const e0 = this.tlb[lin >>> 12];
    if ((e0 & this.writeMask) === 0) this.physFor(lin, ACCESS_WRITE, user);
    if (last >>> 12 !== lin >>> 12) {
      const e1 = this.tlb[last >>> 12];
      // Translate the second page at its first byte: that is the CR2 a crossing access reports.
      if ((e1 & this.writeMask) === 0) this.physFor(last & ~0xfff, ACCESS_WRITE, user);
    }
  }

  // Read-modify-write: the read translates for writing, so the write that follows cannot fault.

  rmwRead8(lin: number): number {
    const e = this.tlb[lin >>> 12];
    if ((e & this.writeMask) !== 0) {
      const o = ((e & ~0xfff) >>> 0) + (lin & 0xfff);
      this.rmwOff = o;
      return this.u8[o];
    }
    this.checkWritable(lin, 1);
    this.rmwOff = -1;
    this.rmwLin = lin;
    return this.readSlow8(lin, this.cpl === 3);
  }

  rmwWrite8(v: number): void {
    if (this.rmwOff >= 0) this.u8[this.rmwOff] = v;
    else this.writeSlow8(this.rmwLin, v, this.cpl === 3);
  }

  rmwRead16(lin: number): number {
    if ((lin & 0xfff) !== 0xfff) {
      const e = this.tlb[lin >>> 12];
      if ((e & this.writeMask) !== 0) {
        const o = ((e & ~0xfff) >>> 0) + (lin & 0xfff);
        this.rmwOff = o;
        return this.u8[o] | (this.u8[o + 1] << 8);
      }
    }
    this.checkWritable(lin, 2);
    this.rmwOff = -1;
    this.rmwLin = lin;
    return this.readSlow16(lin, this.cpl === 3);
  }

  rmwWrite16(v: number): void {
    const o = this.rmwOff;
    if (o >= 0) {
      this.u8[o] = v;
      this.u8[o + 1] = v >> 8;
    } else this.writeSlow16(this.rmwLin, v, this.cpl === 3);
  }

  rmwRead32(lin: number): number {
    if ((lin & 0xfff) <= 0xffc) {
      const e = this.tlb[lin >>> 12];
      if ((e & this.writeMask) !== 0) {
        const o = ((e & ~0xfff) >>> 0) + (lin & 0xfff);
        this.rmwOff = o;
        if ((o & 3) === 0) return this.i32[o >>> 2];
        const u8 = this.u8;
        return u8[o] | (u8[o + 1] << 8) | (u8[o + 2] << 16) | (u8[o + 3] << 24);
      }
    }
    this.checkWritable(lin, 4);
    this.rmwOff = -1;
    this.rmwLin = lin;
    return this.readSlow32(lin, this.cpl === 3);
  }

  rmwWrite32(v: number): void {
    const o = this.rmwOff;
    if (o >= 0) {
      if ((o & 3) === 0) this.i32[o >>> 2] = v;
      else {
        const u8 = this.u8;
        u8[o] = v;
        u8[o + 1] = v >> 8;
        u8[o + 2] = v >> 16;
        u8[o + 3] = v >> 24;
      }
    } else this.writeSlow32(this.rmwLin, v, this.cpl === 3);
  }

  // System-structure accesses (GDT, IDT, TSS) are supervisor accesses regardless of CPL.

  readSys8(lin: number): number {
    return this.readSlow8(lin, false);
  }

  readSys16(lin: number): number {
    return this.readSlow16(lin, false);
  }

  readSys32(lin: number): number {
    return this.readSlow32(lin, false);
  }

  writeSys8(lin: number, v: number): void {
    this.writeSlow8(lin, v, false);
  }

  writeSys16(lin: number, v: number): void {
    this.writeSlow16(lin, v, false);
  }

  writeSys32(lin: number, v: number): void {
    this.writeSlow32(lin, v, false);
  }

  // ---------------------------------------------------------------- instruction fetch

  fetch8(): number {
    const ip = this.ip;
    if ((ip - this.fetchBase) >>> 0 > this.fetchSpan) return this.fetch8Slow();
    this.ip = (ip + 1) | 0;
    return this.u8[ip + this.fetchDelta];
  }

  private fetch8Slow(): number {
    const ip = this.ip;
    const csBase = this.segBase[CS];
    const off = (ip - csBase) >>> 0;
    const limit = this.segLimit[CS] >>> 0;
    if (off > limit) this.gp(0);
    const page = ip >>> 12;
    let e = this.tlb[page];
    if ((e & this.execMask) === 0) {
      this.translate(ip, ACCESS_EXEC, this.cpl === 3);
      e = this.tlb[page];
    }
    if ((e & this.execMask) !== 0) {
      const pageStart = ip & ~0xfff;
      this.fetchBase = pageStart;
      this.fetchDelta = ((e & ~0xfff) >>> 0) - pageStart;
      const limitLin = (csBase >>> 0) + limit;
      this.fetchSpan = Math.min(0xfff, limitLin - (pageStart >>> 0));
      this.ip = (ip + 1) | 0;
      return this.u8[ip + this.fetchDelta];
    }
    // Executing from MMIO or unmapped memory: byte by byte, uncached.
    const phys = this.physFor(ip, ACCESS_EXEC, this.cpl === 3);
    this.ip = (ip + 1) | 0;
    return phys === PHYS_NONE ? 0xff : this.mem.read8(phys);
  }

  // ---------------------------------------------------------------- lazy flags

  lazyCF(): number {
    const sh = this.lfShift;
    switch (this.lfKind) {
      case K_ADD:
        return (this.lfRes << sh) >>> 0 < (this.lfA << sh) >>> 0 ? 1 : 0;
      case K_ADC:
        return (this.lfRes << sh) >>> 0 <= (this.lfA << sh) >>> 0 ? 1 : 0;
      case K_SUB:
        return (this.lfA << sh) >>> 0 < (this.lfB << sh) >>> 0 ? 1 : 0;
      case K_SBB:
        return (this.lfA << sh) >>> 0 <= (this.lfB << sh) >>> 0 ? 1 : 0;
      default:
        return 0;
    }
  }

  lazyOF(): boolean {
    const sh = this.lfShift;
    const a = this.lfA;
    const b = this.lfB;
    const r = this.lfRes;
    switch (this.lfKind) {
      case K_ADD:
      case K_ADC:
        return (((a ^ r) & (b ^ r)) << sh) < 0;
      case K_SUB:
      case K_SBB:
        return (((a ^ b) & (a ^ r)) << sh) < 0;
      default:
        return false;
    }
  }

  getCF(): number {
    return (this.lazyMask & CF) !== 0 ? this.lazyCF() : this.flags & CF;
  }

  getZF(): boolean {
    return (this.lazyMask & ZF) !== 0 ? this.lfRes << this.lfShift === 0 : (this.flags & ZF) !== 0;
  }

  getSF(): boolean {
    return (this.lazyMask & SF) !== 0 ? this.lfRes << this.lfShift < 0 : (this.flags & SF) !== 0;
  }

  getOF(): boolean {
    return (this.lazyMask & OF) !== 0 ? this.lazyOF() : (this.flags & OF) !== 0;
  }

  getPF(): boolean {
    return (this.lazyMask & PF) !== 0 ? PARITY[this.lfRes & 0xff] !== 0 : (this.flags & PF) !== 0;
  }

  getAF(): boolean {
    if ((this.lazyMask & AF) === 0) return (this.flags & AF) !== 0;
    return this.lfKind !== K_LOGIC && ((this.lfA ^ this.lfB ^ this.lfRes) & 0x10) !== 0;
  }

  /** Full EFLAGS value. */
  getEflags(): number {
    let f = this.flags;
    const m = this.lazyMask;
    if (m !== 0) {
      f &= ~m;
      if ((m & CF) !== 0) f |= this.lazyCF();
      if ((m & PF) !== 0) f |= PARITY[this.lfRes & 0xff];
      if ((m & AF) !== 0 && this.getAF()) f |= AF;
      if ((m & ZF) !== 0 && this.lfRes << this.lfShift === 0) f |= ZF;
      if ((m & SF) !== 0 && this.lfRes << this.lfShift < 0) f |= SF;
      if ((m & OF) !== 0 && this.lazyOF()) f |= OF;
    }
    return f | FLAGS_FIXED;
  }

  /** Replace the flags selected by `mask` (everything else kept). Updates modes when VM changes. */
  setEflags(value: number, mask: number): void {
    const old = this.getEflags();
    const f = (old & ~mask) | (value & mask);
    this.flags = (f & (FLAGS_SUPPORTED_BITS | FLAGS_FIXED)) | FLAGS_FIXED;
    this.lazyMask = 0;
    if (((old ^ f) & VM) !== 0) this.updateMode();
  }

  /** Materialize CF and keep the rest lazy (before INC/DEC, which preserve CF). */
  materializeCF(): void {
    if ((this.lazyMask & CF) !== 0) {
      this.flags = (this.flags & ~CF) | this.lazyCF();
      this.lazyMask &= ~CF;
    }
  }

  /** Materialize everything (before instructions that set individual flags). */
  materializeFlags(): void {
    if (this.lazyMask !== 0) {
      this.flags = this.getEflags();
      this.lazyMask = 0;
    }
  }

  setFlagBit(bit: number, on: boolean): void {
    this.materializeFlags();
    if (on) this.flags |= bit;
    else this.flags &= ~bit;
  }

  /** Set ZF, SF, PF lazily from a result; CF, OF, AF given explicitly. */
  setResultFlags(res: number, shift: number, cfOfAf: number): void {
    // Every arithmetic flag is replaced, and the others are never lazy: nothing to materialize.
    this.flags = (this.flags & ~ARITH_FLAGS) | cfOfAf;
    this.lfRes = res;
    this.lfShift = shift;
    this.lfKind = K_LOGIC;
    this.lazyMask = ZF | SF | PF;
  }

  /** Evaluate condition code cc (0-15) as used by Jcc/SETcc/CMOVcc. */
  cond(cc: number): boolean {
    if (this.lazyMask === ARITH_FLAGS && this.lfKind === K_SUB) {
      // CMP/SUB fast path: compare the operands directly.
      const sh = this.lfShift;
      const a = this.lfA << sh;
      const b = this.lfB << sh;
      switch (cc) {
        case 2:
          return a >>> 0 < b >>> 0;
        case 3:
          return a >>> 0 >= b >>> 0;
        case 4:
          return a === b;
        case 5:
          return a !== b;
        case 6:
          return a >>> 0 <= b >>> 0;
        case 7:
          return a >>> 0 > b >>> 0;
        case 12:
          return a < b;
        case 13:
          return a >= b;
        case 14:
          return a <= b;
        case 15:
          return a > b;
      }
    }
    switch (cc) {
      case 0:
        return this.getOF();
      case 1:
        return !this.getOF();
      case 2:
        return this.getCF() !== 0;
      case 3:
        return this.getCF() === 0;
      case 4:
        return this.getZF();
      case 5:
        return !this.getZF();
      case 6:
        return this.getCF() !== 0 || this.getZF();
      case 7:
        return this.getCF() === 0 && !this.getZF();
      case 8:
        return this.getSF();
      case 9:
        return !this.getSF();
      case 10:
        return this.getPF();
      case 11:
        return !this.getPF();
      case 12:
        return this.getSF() !== this.getOF();
      case 13:
        return this.getSF() === this.getOF();
      case 14:
        return this.getZF() || this.getSF() !== this.getOF();
      default:
        return !this.getZF() && this.getSF() === this.getOF();
    }
  }

  // ---------------------------------------------------------------- ALU with lazy flags

  add(a: number, b: number, sh: number): number {
    const r = (a + b) | 0;
    this.lfA = a;
    this.lfB = b;
    this.lfRes = r;
    this.lfKind = K_ADD;
    this.lfShift = sh;
    this.lazyMask = ARITH_FLAGS;
    return r;
  }

  adc(a: number, b: number, sh: number): number {
    const c = this.getCF();
    const r = (a + b + c) | 0;
    this.lfA = a;
    this.lfB = b;
    this.lfRes = r;
    this.lfKind = c !== 0 ? K_ADC : K_ADD;
    this.lfShift = sh;
    this.lazyMask = ARITH_FLAGS;
    return r;
  }

  sub(a: number, b: number, sh: number): number {
    const r = (a - b) | 0;
    this.lfA = a;
    this.lfB = b;
    this.lfRes = r;
    this.lfKind = K_SUB;
    this.lfShift = sh;
    this.lazyMask = ARITH_FLAGS;
    return r;
  }

  sbb(a: number, b: number, sh: number): number {
    const c = this.getCF();
    const r = (a - b - c) | 0;
    this.lfA = a;
    this.lfB = b;
    this.lfRes = r;
    this.lfKind = c !== 0 ? K_SBB : K_SUB;
    this.lfShift = sh;
    this.lazyMask = ARITH_FLAGS;
    return r;
  }

  logic(r: number, sh: number): number {
    this.lfA = 0;
    this.lfB = 0;
    this.lfRes = r;
    this.lfKind = K_LOGIC;
    this.lfShift = sh;
    this.lazyMask = ARITH_FLAGS;
    return r;
  }

  inc(a: number, sh: number): number {
    this.materializeCF();
    const r = (a + 1) | 0;
    this.lfA = a;
    this.lfB = 1;
    this.lfRes = r;
    this.lfKind = K_ADD;
    this.lfShift = sh;
    this.lazyMask = ARITH_FLAGS & ~CF;
    return r;
  }

  dec(a: number, sh: number): number {
    this.materializeCF();
    const r = (a - 1) | 0;
    this.lfA = a;
    this.lfB = 1;
    this.lfRes = r;
    this.lfKind = K_SUB;
    this.lfShift = sh;
    this.lazyMask = ARITH_FLAGS & ~CF;
    return r;
  }

  /** ALU group operation 0-7 (ADD OR ADC SBB AND SUB XOR CMP). */
  alu(op: number, a: number, b: number, sh: number): number {
    switch (op) {
      case 0:
        return this.add(a, b, sh);
      case 1:
        return this.logic(a | b, sh);
      case 2:
        return this.adc(a, b, sh);
      case 3:
        return this.sbb(a, b, sh);
      case 4:
        return this.logic(a & b, sh);
      case 5:
        return this.sub(a, b, sh);
      case 6:
        return this.logic(a ^ b, sh);
      default:
        this.sub(a, b, sh);
        return a;
    }
  }

  // ---------------------------------------------------------------- operand decoding

  /** Linear address of the current instruction's memory operand (segment applied and checked). */
  ea(): number {
    const off = this.eaOff();
    const d = this.insn;
    const seg = d.seg >= 0 ? d.seg : d.defSeg;
    this.eaOffset = off;
    this.eaSeg = seg;
    if (this.segCheck[seg] !== 0) this.checkSegment(seg, off);
    return (this.segBase[seg] + off) | 0;
  }

  /** Effective offset of the current instruction's memory operand (address-size wrapped). */
  eaOff(): number {
    const d = this.insn;
    let off = d.disp;
    if (d.addrSize === 4) {
      const r = this.r32;
      if (d.base >= 0) off += r[d.base];
      if (d.index >= 0) off += r[d.index] << d.scale;
      return off | 0;
    }
    const r = this.r16;
    if (d.base >= 0) off += r[d.base << 1];
    if (d.index >= 0) off += r[d.index << 1];
    return off & 0xffff;
  }

  /** Limit and usability check for an offset in a segment (the access size is not considered). */
  checkSegment(seg: number, off: number): void {
    const a = this.segAccess[seg];
    if ((a & AR_P) === 0) {
      if (this.protectedMode) this.raise(seg === SS ? 12 : EXC_GP, 0);
      return;
    }
    const limit = this.segLimit[seg] >>> 0;
    const u = off >>> 0;
    if ((a & AR_S) !== 0 && (a & 0xc) === 0x4) {
      // Expand-down: valid offsets are (limit, top], top = 0xffff or 0xffffffff.
      const top = (a & AR_DB) !== 0 ? 0xffffffff : 0xffff;
      if (u <= limit || u > top) this.raise(seg === SS ? 12 : EXC_GP, 0);
    } else if (u > limit) {
      this.raise(seg === SS ? 12 : EXC_GP, 0);
    }
  }

  /** Linear address of seg:off for string and stack operations (with checks). */
  segAddr(seg: number, off: number): number {
    if (this.segCheck[seg] !== 0) this.checkSegment(seg, off);
    return (this.segBase[seg] + off) | 0;
  }

  /** Data segment for string sources and moffs: DS or the override. */
  dataSeg(): number {
    const seg = this.insn.seg;
    return seg >= 0 ? seg : 3;
  }

  // Register-or-memory operands. After ea(), the memory forms use the decoded address.

  readRm8(modrm: number): number {
    return modrm >= 0xc0 ? this.r8[REG8[modrm & 7]] : this.readLin8(this.ea());
  }

  readRm16(modrm: number): number {
    return modrm >= 0xc0 ? this.r16[(modrm & 7) << 1] : this.readLin16(this.ea());
  }

  readRm32(modrm: number): number {
    return modrm >= 0xc0 ? this.r32[modrm & 7] : this.readLin32(this.ea());
  }

  writeRm8(modrm: number, v: number): void {
    if (modrm >= 0xc0) this.r8[REG8[modrm & 7]] = v;
    else this.writeLin8(this.ea(), v);
  }

  writeRm16(modrm: number, v: number): void {
    if (modrm >= 0xc0) this.r16[(modrm & 7) << 1] = v;
    else this.writeLin16(this.ea(), v);
  }

  writeRm32(modrm: number, v: number): void {
    if (modrm >= 0xc0) this.r32[modrm & 7] = v;
    else this.writeLin32(this.ea(), v);
  }

  // ---------------------------------------------------------------- stack

  push16(v: number): void {
    if (this.ss32) {
      const sp = (this.r32[4] - 2) | 0;
      this.writeLin16(this.segAddr(SS, sp), v);
      this.r32[4] = sp;
    } else {
      const sp = (this.r16[8] - 2) & 0xffff;
      this.writeLin16(this.segAddr(SS, sp), v);
      this.r16[8] = sp;
    }
  }

  push32(v: number): void {
    if (this.ss32) {
      const sp = (this.r32[4] - 4) | 0;
      this.writeLin32(this.segAddr(SS, sp), v);
      this.r32[4] = sp;
    } else {
      const sp = (this.r16[8] - 4) & 0xffff;
      this.writeLin32(this.segAddr(SS, sp), v);
      this.r16[8] = sp;
    }
  }

  push(v: number): void {
    if (this.insn.opSize === 4) this.push32(v);
    else this.push16(v);
  }

  pop16(): number {
    if (this.ss32) {
      const sp = this.r32[4];
      const v = this.readLin16(this.segAddr(SS, sp));
      this.r32[4] = sp + 2;
      return v;
    }
    const sp = this.r16[8];
    const v = this.readLin16(this.segAddr(SS, sp));
    this.r16[8] = sp + 2;
    return v;
  }

  pop32(): number {
    if (this.ss32) {
      const sp = this.r32[4];
      const v = this.readLin32(this.segAddr(SS, sp));
      this.r32[4] = sp + 4;
      return v;
    }
    const sp = this.r16[8];
    const v = this.readLin32(this.segAddr(SS, sp));
    this.r16[8] = sp + 4;
    return v;
  }

  /** Current stack pointer (ESP or SP per SS.B). */
  get sp(): number {
    return this.ss32 ? this.r32[4] : this.r16[8];
  }

  set sp(v: number) {
    if (this.ss32) this.r32[4] = v;
    else this.r16[8] = v;
  }

  /** Read the stack at ESP + delta without popping. */
  stackRead16(delta: number): number {
    const sp = this.ss32 ? (this.r32[4] + delta) | 0 : (this.r16[8] + delta) & 0xffff;
    return this.readLin16(this.segAddr(SS, sp));
  }

  stackRead32(delta: number): number {
    const sp = this.ss32 ? (this.r32[4] + delta) | 0 : (this.r16[8] + delta) & 0xffff;
    return this.readLin32(this.segAddr(SS, sp));
  }

  // ---------------------------------------------------------------- I/O permission

  /** Check IOPL / TSS I/O bitmap for port access; raises #GP(0) when denied. */
  checkIo(port: number, size: number): void {
    if (!this.protectedMode && (this.flags & VM) === 0) return;
    if (this.cpl <= (this.flags & IOPL) >>> 12 && (this.flags & VM) === 0) return;
    // Consult the I/O permission bitmap of a 32-bit TSS.
    const trType = this.segAccess[7] & 0xf;
    if (trType !== 0x9 && trType !== 0xb) this.gp(0);
    const trLimit = this.segLimit[7] >>> 0;
    if (trLimit < 0x67) this.gp(0);
    const bitmapOff = this.readSys16((this.segBase[7] + 0x66) | 0);
    const byteOff = bitmapOff + (port >>> 3);
    if (byteOff + 1 > trLimit) this.gp(0);
    const bits = this.readSys16((this.segBase[7] + byteOff) | 0);
    const mask = ((1 << size) - 1) << (port & 7);
    if ((bits & mask) !== 0) this.gp(0);
  }

  // ---------------------------------------------------------------- time

  private clockTsc(): number {
    return Math.floor((this.clock.now() * this.tscHz) / 1e9);
  }

  /** Current TSC value (a double; exact below 2^53). */
  readTsc(): number {
    return this.clockTsc() + this.tscOffset;
  }

  writeTsc(value: number): void {
    this.tscOffset = value - this.clockTsc();
  }

  // ---------------------------------------------------------------- FPU glue

  /**
   * Run an x87 instruction (opcode D8-DF) whose operand address has been decoded;
   * `operand32` picks the FSTENV/FSAVE image format.
   */
  fpuExec(opcode: number, modrm: number, lin: number, dp: number, ds: number, operand32: boolean): void {
    const info = this.fpuInfo;
    info.ip = this.eip - ((this.ip - this.instrStart) | 0);
    info.cs = this.segSel[CS];
    info.dp = dp;
    info.ds = ds;
    info.operand32 = operand32;
    info.realMode = !this.protectedMode;
    this.fpu.exec(opcode, modrm, lin, info, this);
  }

  /** Run an MMX instruction (0F opcode byte, ModRM already fetched). */
  mmxExec(opcode: number, modrm: number): void {
    this.fpu.execMmx(opcode, modrm, this);
  }

  // ---------------------------------------------------------------- FpuHost

  fpuError(): void {
    if ((this.cr0 & 0x20) !== 0) this.raise(16);
    this.hooks.onFerr();
  }
}

/** Bits of EFLAGS this model implements. */
const FLAGS_SUPPORTED_BITS = CF | PF | AF | ZF | SF | TF | IF | DF | OF | IOPL | NT | RF | VM | AC | VIF | VIP | ID;

