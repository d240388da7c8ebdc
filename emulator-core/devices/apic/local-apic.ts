import type { AccessSize } from '../../bus/io-bus.js';
import type { CpuInterruptPins, InterruptController } from '../../bus/irq.js';
import { BadInputError } from '../../errors.js';
import type { Timer, TimerQueue } from '../../machine/timers.js';
import type { Device, DeviceState } from '../device.js';
import { finiteOrNull, nsAtTick, StateReader, ticksAt } from '../state.js';
import type { ApicBus, ApicBusTarget } from './apic-bus.js';
import {
  APIC_BASE_BSP,
  APIC_BASE_ENABLE,
  DM_EXTINT,
  DM_FIXED,
  DM_INIT,
  DM_LOWEST_PRIORITY,
  DM_NMI,
  DM_SMI,
  DM_STARTUP,
  ESR_ILLEGAL_REGISTER,
  ESR_RECEIVE_ILLEGAL_VECTOR,
  ESR_SEND_ILLEGAL_VECTOR,
  ICR_DEST_LOGICAL,
  ICR_LEVEL_ASSERT,
  ICR_LO_WRITE_MASK,
  ICR_TRIGGER_LEVEL,
  LAPIC_APR,
  LAPIC_BASE,
  LAPIC_DFR,
  LAPIC_EOI,
  LAPIC_ESR,
  LAPIC_ICR_HI,
  LAPIC_ICR_LO,
  LAPIC_ID,
  LAPIC_IRR,
  LAPIC_ISR,
  LAPIC_LDR,
  LAPIC_LVT_ERROR,
  LAPIC_LVT_TIMER,
  LAPIC_PPR,
  LAPIC_RRD,
  LAPIC_SVR,
  LAPIC_TIMER_CURRENT,
  LAPIC_TIMER_DIVIDE,
  LAPIC_TIMER_INITIAL,
  LAPIC_TMR,
  LAPIC_TPR,
  LAPIC_VERSION,
  LAPIC_VERSION_VALUE,
  LVT_ACTIVE_LOW,
  LVT_COUNT,
  LVT_ERROR,
  LVT_LINT0,
  LVT_LINT1,
  LVT_MASKED,
  LVT_REMOTE_IRR,
  LVT_TIMER,
  LVT_TRIGGER_LEVEL,
  LVT_WRITE_MASK,
  SVR_ENABLE,
  SVR_WRITE_MASK,
  TIMER_PERIODIC,
  TIMER_TSC_DEADLINE,
} from './constants.js';

/** QEMU's default APIC timer input: 1 GHz, so one count is one guest nanosecond at divide 1. */
export const DEFAULT_APIC_BUS_HZ = 1_000_000_000;

export interface LocalApicOptions {
  /** APIC ID after power-on (0..254); normally the vCPU index. */
  id: number;
  /** Bootstrap processor: sets IA32_APIC_BASE.BSP and wires LINT0 as ExtINT at power-on. */
  bsp: boolean;
  /** The bus it sends IPIs and EOI broadcasts on; the constructor attaches the APIC to it. */
  bus: ApicBus;
  /** Guest timers: the APIC timer and TSC-deadline timer run on guest time. */
  timers: TimerQueue;
  /** APIC timer input clock in Hz (before the divide configuration); default 1 GHz. */
  busHz?: number;
  /** Nominal TSC frequency in Hz (the CPU's tscHz): converts TSC deadlines to guest ns. */
  tscHz: number;
  /** Reads the vCPU's TSC (Cpu.readTsc), including any offset the guest wrote. */
  readTsc: () => number;
}

/** Bit `vector` of a 256-bit register held as eight 32-bit words. */
function testBit(r: Uint32Array, vector: number): boolean {
  return ((r[vector >>> 5] >>> (vector & 31)) & 1) !== 0;
}

/** The highest set bit of a 256-bit register, or -1. */
function highestBit(r: Uint32Array): number {
  for (let i = 7; i >= 0; i--) {
    const w = r[i];
    if (w !== 0) return i * 32 + 31 - Math.clz32(w);
  }
  return -1;
}

/** Divide configuration register (bits 0, 1, 3) to the divisor 1..128. */
function divisor(config: number): number {
  const v = (config & 3) | ((config >>> 1) & 4);
  return v === 7 ? 1 : 2 << v;
}

/**
 * One xAPIC local APIC (Intel SDM vol. 3 ch. 10/11): the interrupt controller one vCPU sees.
 *
 * For the CPU: `hasInterrupt()` / `acknowledge()` replace the PIC's INTR/INTA (the PIC is
 * reached through LINT0 in ExtINT mode, `extIntAcknowledge`); `takeNmi()`, `takeInit()`,
 * `takeSipi()` consume the other signals; `onSignal` fires whenever any of them may have become
 * pending, so a halted vCPU can be woken. The timer counts on guest time, computed rather than
 * ticked: nothing runs between its expiries.
 */
export class LocalApic implements Device, ApicBusTarget, InterruptController, CpuInterruptPins {
  readonly name: string;
  /** Position on the bus (the vCPU index). */
  readonly index: number;
  /** Woken when an interrupt, NMI, INIT or SIPI may have become pending. */
  onSignal: (() => void) | null = null;
  /** INTA to the 8259 for ExtINT delivery (LINT0 in ExtINT mode, or an ExtINT message). */
  extIntAcknowledge: (() => number) | null = null;
  /** The guest moved the APIC page (IA32_APIC_BASE); the machine remaps the MMIO handler. */
  onRelocate: ((base: number) => void) | null = null;

  private readonly bus: ApicBus;
  private readonly initialId: number;
  private readonly bsp: boolean;
  private readonly busHz: number;
  private readonly tscHz: number;
  private readonly readTsc: () => number;
  private readonly clock: { now(): number };
  private readonly timer: Timer;

  private id = 0;
  private apicBase = 0;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = 0xff;
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private readonly irr = new Uint32Array(8);
  /** ESR as last latched by a write, and errors seen since. */
  private esr = 0;
  private esrPending = 0;
  private icrLo = 0;
  private icrHi = 0;
  private readonly lvt = new Uint32Array(LVT_COUNT);
  private initialCount = 0;
  private divideConfig = 0;
  /** Guest ns at which the count was last (re)loaded, and the count it was loaded with. */
  private timerStart = 0;
  private timerBase = 0;
  private tscDeadline = 0;
  /** Raw levels of the LINT0/LINT1 input pins (before polarity). */
  private lint0 = false;
  private lint1 = false;
  private extIntPending = false;
  private nmiPending = false;
  private initPending = false;
  private sipiVector = -1;

  constructor(options: LocalApicOptions) {
    if (!Number.isInteger(options.id) || options.id < 0 || options.id > 0xfe) {
      throw new BadInputError(`local APIC: ID ${options.id} is not in 0..254`, { id: options.id });
    }
    this.initialId = options.id;
    this.bsp = options.bsp;
    this.bus = options.bus;
    this.busHz = options.busHz ?? DEFAULT_APIC_BUS_HZ;
    this.tscHz = options.tscHz;
    this.readTsc = options.readTsc;
    this.clock = options.timers.clock;
    this.name = `lapic${options.id}`;
    this.timer = options.timers.create(`${this.name} timer`, (now) => this.timerExpired(now));
    this.index = options.bus.attachLocal(this);
    this.reset();
  }

  // ------------------------------------------------------------------ bus target

  get hardwareEnabled(): boolean {
    return (this.apicBase & APIC_BASE_ENABLE) !== 0;
  }

  get softwareEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  get apicId(): number {
    return this.id;
  }

  /** Base address of the APIC page from IA32_APIC_BASE. */
  get baseAddress(): number {
    return this.apicBase - (this.apicBase % 0x1000);
  }

  matchesLogical(mda: number): boolean {
    const logicalId = this.ldr >>> 24;
    if ((this.dfr >>> 28) === 0xf) return (logicalId & mda) !== 0; // flat model
    // Cluster model: high nibble is the cluster (0xF: all clusters), low nibble selects members.
    const cluster = mda >>> 4;
    if (cluster !== 0xf && cluster !== logicalId >>> 4) return false;
    return (mda & logicalId & 0xf) !== 0;
  }

  receive(mode: number, vector: number, levelTriggered: boolean): boolean {
    switch (mode) {
      case DM_FIXED:
      case DM_LOWEST_PRIORITY:
        return this.acceptInterrupt(vector, levelTriggered);
      case DM_SMI:
        return true; // no SMM: accepted and dropped
      case DM_NMI:
        this.nmiPending = true;
        this.signal();
        return true;
      case DM_INIT:
        // INIT puts the APIC back to its power-on registers (ID and base MSR kept).
        this.initReset();
        this.initPending = true;
        this.signal();
        return true;
      case DM_STARTUP:
        this.sipiVector = vector & 0xff;
        this.signal();
        return true;
      case DM_EXTINT:
        this.extIntPending = true;
        this.signal();
        return true;
      default:
        return false;
    }
  }

  // ------------------------------------------------------------------ CPU side

  private signal(): void {
    if (this.onSignal !== null) this.onSignal();
  }

  private ppr(): number {
    const isrv = highestBit(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr : isrClass;
  }

  /** The highest IRR vector the CPU may take now (priority class above PPR), or -1. */
  private deliverableVector(): number {
    if (!this.softwareEnabled) return -1;
    const v = highestBit(this.irr);
    if (v < 0 || (v & 0xf0) <= (this.ppr() & 0xf0)) return -1;
    return v;
  }

  /** LINT0 is wired to the 8259's INTR in ExtINT mode and the PIC is asking. */
  private lint0ExtInt(): boolean {
    const e = this.lvt[LVT_LINT0];
    return (e & LVT_MASKED) === 0 && ((e >>> 8) & 7) === DM_EXTINT && this.lint0 !== ((e & LVT_ACTIVE_LOW) !== 0);
  }

  /** A maskable interrupt is waiting (the CPU takes it when EFLAGS.IF allows). */
  hasInterrupt(): boolean {
    if (!this.hardwareEnabled) return this.lint0; // no APIC: INTR reaches the core directly
    return this.deliverableVector() >= 0 || this.extIntPending || this.lint0ExtInt();
  }

  /** INTA: move the highest deliverable IRR vector to ISR and return it; PIC vectors for ExtINT; else the spurious vector. */
  acknowledge(): number {
    if (!this.hardwareEnabled) return this.picAcknowledge();
    const v = this.deliverableVector();
    if (v >= 0) {
      this.irr[v >>> 5] &= ~(1 << (v & 31));
      this.isr[v >>> 5] |= 1 << (v & 31);
      return v;
    }
    if (this.extIntPending || this.lint0ExtInt()) {
      this.extIntPending = false;
      return this.picAcknowledge();
    }
    return this.svr & 0xff;
  }

  private picAcknowledge(): number {
    return this.extIntAcknowledge !== null ? this.extIntAcknowledge() : this.svr & 0xff;
  }

  /** Consume a pending NMI. */
  takeNmi(): boolean {
    const p = this.nmiPending;
    this.nmiPending = false;
    return p;
  }

  /** Consume a pending INIT (the APIC has already reset its own registers). */
  takeInit(): boolean {
    const p = this.initPending;
    this.initPending = false;
    return p;
  }

  /** Consume a pending start-up IPI: its vector (the AP starts at vector << 12), or -1. */
  takeSipi(): number {
    const v = this.sipiVector;
    this.sipiVector = -1;
    return v;
  }

  /** Peek without consuming (for a run loop deciding whether a halted vCPU wakes). */
  get nmiIsPending(): boolean {
    return this.nmiPending;
  }

  get initIsPending(): boolean {
    return this.initPending;
  }

  get sipiIsPending(): boolean {
    return this.sipiVector >= 0;
  }

  /** CR8 reads TPR[7:4]. */
  readCr8(): number {
    return this.tpr >>> 4;
  }

  /** CR8 writes set TPR[7:4] (and clear TPR[3:0]). */
  writeCr8(value: number): void {
    this.setTpr((value & 0xf) << 4);
  }

  /** The 8259's INTR output, on LINT0 (CpuInterruptPins, so the Pic can drive the APIC directly). */
  setIntr(high: boolean): void {
    this.setLint(0, high);
  }

  /** An NMI from the chipset, on LINT1 as a pulse. */
  raiseNmi(): void {
    this.setLint(1, true);
    this.setLint(1, false);
  }

  /** Drive LINT0 or LINT1. Without a hardware-enabled APIC they are the core's INTR and NMI pins. */
  setLint(pin: 0 | 1, high: boolean): void {
    const was = pin === 0 ? this.lint0 : this.lint1;
    if (was === high) return;
    if (pin === 0) this.lint0 = high;
    else this.lint1 = high;
    if (!this.hardwareEnabled) {
      if (pin === 1 && high) this.nmiPending = true;
      this.signal();
      return;
    }
    const idx = pin === 0 ? LVT_LINT0 : LVT_LINT1;
    const e = this.lvt[idx];
    if (((e >>> 8) & 7) === DM_EXTINT) {
      // ExtINT follows the level: hasInterrupt() reads the pin.
      this.signal();
      return;
    }
    const asserted = high !== ((e & LVT_ACTIVE_LOW) !== 0);
    // A level-triggered LINT waits for the EOI of its last interrupt (Remote IRR).
    if (asserted && (e & LVT_REMOTE_IRR) === 0) this.deliverLvt(idx);
  }

  // ------------------------------------------------------------------ interrupts in

  private acceptInterrupt(vector: number, levelTriggered: boolean): boolean {
    if (vector < 16) {
      this.error(ESR_RECEIVE_ILLEGAL_VECTOR);
      return false;
    }
    if (!this.softwareEnabled) return false;
    const w = vector >>> 5;
    const bit = 1 << (vector & 31);
    this.irr[w] |= bit;
    if (levelTriggered) this.tmr[w] |= bit;
    else this.tmr[w] &= ~bit;
    this.signal();
    return true;
  }

  /** Raise a local interrupt from one LVT entry (timer, LINT, error, ...). */
  private deliverLvt(idx: number): void {
    const e = this.lvt[idx];
    if ((e & LVT_MASKED) !== 0) return;
    const vector = e & 0xff;
    // The timer and error entries have no delivery-mode field: always fixed, edge.
    const mode = idx === LVT_TIMER || idx === LVT_ERROR ? DM_FIXED : (e >>> 8) & 7;
    switch (mode) {
      case DM_FIXED:
        if (idx === LVT_ERROR && vector < 16) return; // an illegal error vector must not recurse
      {
        const level = (idx === LVT_LINT0 || idx === LVT_LINT1) && (e & LVT_TRIGGER_LEVEL) !== 0;
        if (this.acceptInterrupt(vector, level) && level) this.lvt[idx] |= LVT_REMOTE_IRR;
        return;
      }
      case DM_NMI:
        this.nmiPending = true;
        this.signal();
        return;
      case DM_INIT:
        this.initReset();
        this.initPending = true;
        this.signal();
        return;
      case DM_EXTINT:
        this.extIntPending = true;
        this.signal();
        return;
      default:
        return; // SMI and reserved modes
    }
  }

  private error(bits: number): void {
    this.esrPending |= bits;
    this.deliverLvt(LVT_ERROR);
  }

  private eoi(): void {
    const v = highestBit(this.isr);
    if (v < 0) return;
    const w = v >>> 5;
    const bit = 1 << (v & 31);
    this.isr[w] &= ~bit;
    if ((this.tmr[w] & bit) !== 0) {
      this.bus.broadcastEoi(v);
      this.lintEoi(LVT_LINT0, this.lint0, v);
      this.lintEoi(LVT_LINT1, this.lint1, v);
    }
    if (this.deliverableVector() >= 0) this.signal();
  }

  /** EOI of a level-triggered LINT vector: clear its Remote IRR and redeliver if the pin is still asserted. */
  private lintEoi(idx: number, pin: boolean, vector: number): void {
    const e = this.lvt[idx];
    if ((e & LVT_REMOTE_IRR) === 0 || (e & 0xff) !== vector) return;
    this.lvt[idx] = e & ~LVT_REMOTE_IRR;
    if (pin !== ((e & LVT_ACTIVE_LOW) !== 0)) this.deliverLvt(idx);
  }

  private setTpr(value: number): void {
    this.tpr = value & 0xff;
    if (this.deliverableVector() >= 0) this.signal();
  }

  // ------------------------------------------------------------------ IPIs

  private sendIpi(): void {
    const lo = this.icrLo;
    const mode = (lo >>> 8) & 7;
    const vector = lo & 0xff;
    const levelTriggered = (lo & ICR_TRIGGER_LEVEL) !== 0;
    // INIT level de-assert (level-triggered, not asserted) only synchronised arbitration IDs on
    // old parts; Pentium 4 and later ignore it.
    if (mode === DM_INIT && levelTriggered && (lo & ICR_LEVEL_ASSERT) === 0) return;
    if ((mode === DM_FIXED || mode === DM_LOWEST_PRIORITY) && vector < 16) {
      this.error(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    this.bus.deliver(this.icrHi >>> 24, (lo & ICR_DEST_LOGICAL) !== 0, mode, vector, levelTriggered, (lo >>> 18) & 3, this);
  }

  // ------------------------------------------------------------------ timer

  private timerMode(): number {
    return (this.lvt[LVT_TIMER] >>> 17) & 3;
  }

  /** Counts elapsed since the count was loaded, at the current divisor. */
  private elapsedCounts(now: number): number {
    const dt = now - this.timerStart;
    return dt <= 0 ? 0 : Math.floor(ticksAt(dt, this.busHz) / divisor(this.divideConfig));
  }

  private currentCount(now: number): number {
    if (this.initialCount === 0 || this.timerMode() === TIMER_TSC_DEADLINE) return 0;
    const t = this.elapsedCounts(now);
    if (t < this.timerBase) return this.timerBase - t;
    if (this.timerMode() === TIMER_PERIODIC) return this.initialCount - ((t - this.timerBase) % this.initialCount);
    return 0;
  }

  /** Arm the guest timer for the next count expiry, if any (one-shot and periodic modes). */
  private scheduleCount(now: number): void {
    if (this.initialCount === 0 || this.timerMode() === TIMER_TSC_DEADLINE) {
      this.timer.cancel();
      return;
    }
    const t = this.elapsedCounts(now);
    let target: number;
    if (t < this.timerBase) target = this.timerBase;
    else if (this.timerMode() === TIMER_PERIODIC) target = this.timerBase + (Math.floor((t - this.timerBase) / this.initialCount) + 1) * this.initialCount;
    else {
      this.timer.cancel();
      return;
    }
    this.timer.arm(this.timerStart + nsAtTick(target * divisor(this.divideConfig), this.busHz));
  }

  private scheduleDeadline(now: number): void {
    if (this.tscDeadline === 0) {
      this.timer.cancel();
      return;
    }
    const tsc = this.readTsc();
    if (tsc >= this.tscDeadline) {
      this.tscDeadline = 0;
      this.timer.cancel();
      this.deliverLvt(LVT_TIMER);
      return;
    }
    this.timer.arm(now + Math.max(1, Math.ceil(((this.tscDeadline - tsc) * 1e9) / this.tscHz)));
  }

  private timerExpired(now: number): void {
    if (this.timerMode() === TIMER_TSC_DEADLINE) {
      // Re-checks the TSC, so a guest that moved its TSC meanwhile still fires at the right count.
      this.scheduleDeadline(now);
      return;
    }
    this.deliverLvt(LVT_TIMER);
    this.scheduleCount(now);
  }

  private writeLvt(idx: number, value: number): void {
    let v = value & LVT_WRITE_MASK[idx];
    if (!this.softwareEnabled) v |= LVT_MASKED;
    // Remote IRR and delivery status are read-only.
    if (idx === LVT_TIMER) {
      const oldMode = this.timerMode();
      this.lvt[idx] = v;
      const newMode = this.timerMode();
      const now = this.clock.now();
      if ((oldMode === TIMER_TSC_DEADLINE) !== (newMode === TIMER_TSC_DEADLINE)) {
        // Entering or leaving TSC-deadline mode disarms the timer (SDM 10.5.4.1).
        this.initialCount = 0;
        this.tscDeadline = 0;
        this.timer.cancel();
      } else if (newMode !== TIMER_TSC_DEADLINE) {
        this.scheduleCount(now);
      }
      return;
    }
    // Remote IRR is read-only and only exists for level-triggered LINT entries.
    if ((v & LVT_TRIGGER_LEVEL) !== 0) v |= this.lvt[idx] & LVT_REMOTE_IRR;
    this.lvt[idx] = v;
    if (idx === LVT_LINT0 && this.lint0ExtInt()) this.signal();
  }

  /** IA32_TSC_DEADLINE read: 0 unless the timer is in TSC-deadline mode and armed. */
  readTscDeadline(): number {
    return this.timerMode() === TIMER_TSC_DEADLINE ? this.tscDeadline : 0;
  }

  /** IA32_TSC_DEADLINE write: arms (non-zero) or disarms (0); ignored outside TSC-deadline mode. */
  writeTscDeadline(value: number): void {
    if (this.timerMode() !== TIMER_TSC_DEADLINE) return;
    this.tscDeadline = value;
    this.scheduleDeadline(this.clock.now());
  }

  // ------------------------------------------------------------------ IA32_APIC_BASE

  /** IA32_APIC_BASE read (a number; bits 35:12 base, 11 enable, 8 BSP). */
  readApicBase(): number {
    return this.apicBase;
  }

  /**
   * IA32_APIC_BASE write. Returns false (the CPU raises #GP) for reserved bits: 0-7, 9, 10
   * (no x2APIC) and 36-63. The BSP bit is read-only.
   */
  writeApicBase(value: number): boolean {
    if (!Number.isInteger(value) || value < 0 || value > 0xfffffffff) return false;
    if (value % 0x1000 & 0x6ff) return false;
    const oldBase = this.baseAddress;
    const wasEnabled = this.hardwareEnabled;
    const enable = (value & APIC_BASE_ENABLE) !== 0;
    if (wasEnabled && !enable) this.initReset(); // disabling loses the APIC's state
    const addr = value - (value % 0x1000);
    this.apicBase = addr + (enable ? APIC_BASE_ENABLE : 0) + (this.bsp ? APIC_BASE_BSP : 0);
    if (addr !== oldBase && this.onRelocate !== null) this.onRelocate(addr);
    if (enable !== wasEnabled) this.signal();
    return true;
  }

  // ------------------------------------------------------------------ MMIO

  private readRegister(reg: number): number {
    if (reg >= LAPIC_ISR && reg < LAPIC_ISR + 0x80) return this.isr[(reg - LAPIC_ISR) >>> 4];
    if (reg >= LAPIC_TMR && reg < LAPIC_TMR + 0x80) return this.tmr[(reg - LAPIC_TMR) >>> 4];
    if (reg >= LAPIC_IRR && reg < LAPIC_IRR + 0x80) return this.irr[(reg - LAPIC_IRR) >>> 4];
    if (reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR) return this.lvt[(reg - LAPIC_LVT_TIMER) >>> 4];
    switch (reg) {
      case LAPIC_ID:
        return (this.id << 24) >>> 0;
      case LAPIC_VERSION:
        return LAPIC_VERSION_VALUE;
      case LAPIC_TPR:
        return this.tpr;
      case LAPIC_APR:
      case LAPIC_RRD:
        return 0; // arbitration priority is not modelled; remote read is unsupported
      case LAPIC_PPR:
        return this.ppr();
      case LAPIC_EOI:
        return 0;
      case LAPIC_LDR:
        return this.ldr;
      case LAPIC_DFR:
        return this.dfr;
      case LAPIC_SVR:
        return this.svr;
      case LAPIC_ESR:
        return this.esr;
      case LAPIC_ICR_LO:
        return this.icrLo; // delivery status (bit 12) always idle: delivery is instantaneous
      case LAPIC_ICR_HI:
        return this.icrHi;
      case LAPIC_TIMER_INITIAL:
        return this.initialCount;
      case LAPIC_TIMER_CURRENT:
        return this.currentCount(this.clock.now());
      case LAPIC_TIMER_DIVIDE:
        return this.divideConfig;
      default:
        this.error(ESR_ILLEGAL_REGISTER);
        return 0;
    }
  }

  private writeRegister(reg: number, value: number): void {
    if (reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR) {
      this.writeLvt((reg - LAPIC_LVT_TIMER) >>> 4, value);
      return;
    }
    if (reg >= LAPIC_ISR && reg < LAPIC_IRR + 0x80) return; // ISR, TMR, IRR are read-only
    switch (reg) {
      case LAPIC_ID:
        this.id = value >>> 24;
        return;
      case LAPIC_TPR:
        this.setTpr(value);
        return;
      case LAPIC_EOI:
        this.eoi();
        return;
      case LAPIC_LDR:
        this.ldr = (value & 0xff000000) >>> 0;
        return;
      case LAPIC_DFR:
        this.dfr = (value | 0x0fffffff) >>> 0;
        return;
      case LAPIC_SVR: {
        this.svr = value & SVR_WRITE_MASK;
        if (!this.softwareEnabled) {
          // Software disable masks every LVT entry (and keeps them masked until re-enabled and rewritten).
          for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] |= LVT_MASKED;
        } else if (this.deliverableVector() >= 0) {
          this.signal();
        }
        return;
      }
      case LAPIC_ESR:
        // A write latches the errors seen since the last write; reads return the latched value.
        this.esr = this.esrPending;
        this.esrPending = 0;
        return;
      case LAPIC_ICR_LO:
        this.icrLo = value & ICR_LO_WRITE_MASK;
        this.sendIpi();
        return;
      case LAPIC_ICR_HI:
        this.icrHi = (value & 0xff000000) >>> 0;
        return;
      case LAPIC_TIMER_INITIAL: {
        if (this.timerMode() === TIMER_TSC_DEADLINE) return; // ignored in TSC-deadline mode
        const now = this.clock.now();
        this.initialCount = value >>> 0;
        this.timerStart = now;
        this.timerBase = this.initialCount;
        this.scheduleCount(now);
        return;
      }
      case LAPIC_TIMER_DIVIDE: {
        // The count carries on from where it is, at the new rate.
        const now = this.clock.now();
        const counting = this.initialCount !== 0 && this.timerMode() !== TIMER_TSC_DEADLINE;
        const cur = counting ? this.currentCount(now) : 0;
        const expired = counting && cur === 0;
        this.divideConfig = value & 0xb;
        if (counting) {
          this.timerStart = now;
          this.timerBase = expired ? 0 : cur;
          this.scheduleCount(now);
        }
        return;
      }
      case LAPIC_VERSION:
      case LAPIC_APR:
      case LAPIC_PPR:
      case LAPIC_RRD:
      case LAPIC_TIMER_CURRENT:
        return; // read-only
      default:
        this.error(ESR_ILLEGAL_REGISTER);
    }
  }

  /** Registers are 32 bits at 16-byte alignment; narrower reads see a slice, bytes 4-15 read 0. */
  mmioRead(addr: number, size: AccessSize): number {
    const off = addr & 0xfff;
    const sub = off & 0xf;
    if (sub >= 4) return 0;
    const v = this.readRegister(off & 0xff0);
    if (size === 4 && sub === 0) return v >>> 0;
    const bits = size * 8;
    return (v >>> (sub * 8)) & (bits === 32 ? 0xffffffff : (1 << bits) - 1);
  }

  /** Only aligned 32-bit writes reach a register (the SDM leaves others undefined; they are dropped). */
  mmioWrite(addr: number, size: AccessSize, value: number): void {
    const off = addr & 0xfff;
    if (size !== 4 || (off & 0xf) !== 0) return;
    this.writeRegister(off, value >>> 0);
  }

  // ------------------------------------------------------------------ reset and snapshots

  /** INIT (and global disable): power-on registers except the APIC ID and IA32_APIC_BASE. */
  private initReset(): void {
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.isr.fill(0);
    this.tmr.fill(0);
    this.irr.fill(0);
    this.esr = 0;
    this.esrPending = 0;
    this.icrLo = 0;
    this.icrHi = 0;
    this.lvt.fill(LVT_MASKED);
    this.initialCount = 0;
    this.divideConfig = 0;
    this.timerStart = 0;
    this.timerBase = 0;
    this.tscDeadline = 0;
    this.timer.cancel();
    this.extIntPending = false;
    this.sipiVector = -1;
  }

  reset(): void {
    this.initReset();
    this.id = this.initialId;
    this.apicBase = LAPIC_BASE + APIC_BASE_ENABLE + (this.bsp ? APIC_BASE_BSP : 0);
    // As QEMU does: the BSP's LINT0 starts in ExtINT mode, so a PIC-only guest gets its
    // interrupts through an APIC the firmware never programmed.
    if (this.bsp) this.lvt[LVT_LINT0] = DM_EXTINT << 8;
    this.lint0 = false;
    this.lint1 = false;
    this.nmiPending = false;
    this.initPending = false;
  }

  save(): DeviceState {
    return {
      version: 1,
      id: this.id,
      apicBase: this.apicBase,
      tpr: this.tpr,
      ldr: this.ldr,
      dfr: this.dfr,
      svr: this.svr,
      isr: Array.from(this.isr),
      tmr: Array.from(this.tmr),
      irr: Array.from(this.irr),
      esr: this.esr,
      esrPending: this.esrPending,
      icrLo: this.icrLo,
      icrHi: this.icrHi,
      lvt: Array.from(this.lvt),
      initialCount: this.initialCount,
      divideConfig: this.divideConfig,
      timerStart: this.timerStart,
      timerBase: this.timerBase,
      tscDeadline: this.tscDeadline,
      timerDeadline: finiteOrNull(this.timer.deadline),
      lint0: this.lint0,
      lint1: this.lint1,
      extIntPending: this.extIntPending,
      nmiPending: this.nmiPending,
      initPending: this.initPending,
      sipiVector: this.sipiVector,
    };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    // Read everything before touching the device, so a bad snapshot changes nothing.
    const id = r.int('id', 0, 0xff);
    const apicBase = r.int('apicBase', 0, 0xfffffffff);
    if (apicBase % 0x1000 & 0x6ff) r.fail('apicBase', 'has reserved bits set');
    const tpr = r.int('tpr', 0, 0xff);
    const ldr = r.int('ldr', 0, 0xffffffff);
    const dfr = r.int('dfr', 0, 0xffffffff);
    const svr = r.int('svr', 0, SVR_WRITE_MASK);
    const isr = r.ints('isr', 0, 0xffffffff, 8);
    const tmr = r.ints('tmr', 0, 0xffffffff, 8);
    const irr = r.ints('irr', 0, 0xffffffff, 8);
    const esr = r.int('esr', 0, 0xff);
    const esrPending = r.int('esrPending', 0, 0xff);
    const icrLo = r.int('icrLo', 0, ICR_LO_WRITE_MASK);
    const icrHi = r.int('icrHi', 0, 0xffffffff);
    const lvt = r.ints('lvt', 0, 0xffffffff, LVT_COUNT);
    const initialCount = r.int('initialCount', 0, 0xffffffff);
    const divideConfig = r.int('divideConfig', 0, 0xb);
    const timerStart = r.num('timerStart');
    const timerBase = r.int('timerBase', 0, 0xffffffff);
    const tscDeadline = r.int('tscDeadline', 0, Number.MAX_SAFE_INTEGER);
    const timerDeadline = r.numOrInfinity('timerDeadline');
    const lint0 = r.bool('lint0');
    const lint1 = r.bool('lint1');
    const extIntPending = r.bool('extIntPending');
    const nmiPending = r.bool('nmiPending');
    const initPending = r.bool('initPending');
    const sipiVector = r.int('sipiVector', -1, 0xff);
    const oldBase = this.baseAddress;
    this.id = id;
    this.apicBase = apicBase;
    this.tpr = tpr;
    this.ldr = (ldr & 0xff000000) >>> 0;
    this.dfr = (dfr | 0x0fffffff) >>> 0;
    this.svr = svr;
    this.isr.set(isr);
    this.tmr.set(tmr);
    this.irr.set(irr);
    this.esr = esr;
    this.esrPending = esrPending;
    this.icrLo = icrLo;
    this.icrHi = (icrHi & 0xff000000) >>> 0;
    for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] = lvt[i] & (LVT_WRITE_MASK[i] | LVT_MASKED | (i === LVT_LINT0 || i === LVT_LINT1 ? LVT_REMOTE_IRR : 0));
    this.initialCount = initialCount;
    this.divideConfig = divideConfig & 0xb;
    this.timerStart = timerStart;
    this.timerBase = timerBase;
    this.tscDeadline = tscDeadline;
    if (timerDeadline === Infinity) this.timer.cancel();
    else this.timer.arm(timerDeadline);
    this.lint0 = lint0;
    this.lint1 = lint1;
    this.extIntPending = extIntPending;
    this.nmiPending = nmiPending;
    this.initPending = initPending;
    this.sipiVector = sipiVector;
    if (this.baseAddress !== oldBase && this.onRelocate !== null) this.onRelocate(this.baseAddress);
    this.signal();
  }

  /** Whether vector `v` is set in IRR / ISR / TMR (debuggers and tests). */
  inspectVector(v: number): { irr: boolean; isr: boolean; tmr: boolean } {
    return { irr: testBit(this.irr, v), isr: testBit(this.isr, v), tmr: testBit(this.tmr, v) };
  }
}
