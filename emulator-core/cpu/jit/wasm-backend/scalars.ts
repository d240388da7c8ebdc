/**
 * The scalar CPU fields a wasm region works on (EIP, flags and the lazy-flag state, the
 * faulting instruction, the SMC flag, the CPL's TLB masks; RIP's, the faulting
 * instruction's and the FS/GS bases' high halves) live as properties of the Cpu
 * object, which wasm cannot see. They are exchanged through the scalar area of the state
 * block (state-layout.ts CPU_STATE.IP ..): `toArea` before a region (or after a helper call
 * that ran the interpreter), `fromArea` after it (or before such a call).
 */
import { TF } from '../../constants.js';
import { canTakeInterrupt, type Cpu } from '../../cpu.js';
import { CPU_STATE } from '../../state-layout.js';

export class ScalarArea {
  private readonly i32: Int32Array;
  private readonly ip: number;
  private readonly flags: number;
  private readonly lazyMask: number;
  private readonly lfKind: number;
  private readonly lfA: number;
  private readonly lfB: number;
  private readonly lfRes: number;
  private readonly lfShift: number;
  private readonly instrStart: number;
  private readonly smc: number;
  private readonly readMask: number;
  private readonly writeMask: number;
  private readonly ripHi: number;
  private readonly instrStartHi: number;
  private readonly fsHi: number;
  private readonly gsHi: number;
  private readonly stop: number;
  private readonly sliceN: number;
  /** At toArea: the slice's instruction count, and the mode key and exec mask the dispatcher's checks assume. */
  private sliceBase = 0;
  private modeKey = 0;
  private execMask = 0;

  constructor(c: Cpu) {
    this.i32 = c.mem.i32;
    const at = (off: number): number => (c.stateBase + off) >>> 2;
    this.ip = at(CPU_STATE.IP);
    this.flags = at(CPU_STATE.FLAGS);
    this.lazyMask = at(CPU_STATE.LAZY_MASK);
    this.lfKind = at(CPU_STATE.LF_KIND);
    this.lfA = at(CPU_STATE.LF_A);
    this.lfB = at(CPU_STATE.LF_B);
    this.lfRes = at(CPU_STATE.LF_RES);
    this.lfShift = at(CPU_STATE.LF_SHIFT);
    this.instrStart = at(CPU_STATE.INSTR_START);
    this.smc = at(CPU_STATE.SMC);
    this.readMask = at(CPU_STATE.READ_MASK);
    this.writeMask = at(CPU_STATE.WRITE_MASK);
    this.ripHi = at(CPU_STATE.RIP_HI);
    this.instrStartHi = at(CPU_STATE.INSTR_START_HI);
    this.fsHi = at(CPU_STATE.FS_HI);
    this.gsHi = at(CPU_STATE.GS_HI);
    this.stop = at(CPU_STATE.STOP);
    this.sliceN = at(CPU_STATE.SLICE_N);
  }

  /** Cpu fields into the area. */
  toArea(c: Cpu): void {
    const m = this.i32;
    m[this.ip] = c.ip;
    m[this.flags] = c.flags;
    m[this.lazyMask] = c.lazyMask;
    m[this.lfKind] = c.lfKind;
    m[this.lfA] = c.lfA;
    m[this.lfB] = c.lfB;
    m[this.lfRes] = c.lfRes;
    m[this.lfShift] = c.lfShift;
    m[this.instrStart] = c.instrStart;
    m[this.smc] = c.smc ? 1 : 0;
    m[this.readMask] = c.readMask;
    m[this.writeMask] = c.writeMask;
    const lm = c.lm;
    m[this.ripHi] = lm.ripHi;
    m[this.instrStartHi] = lm.instrStartHi;
    m[this.fsHi] = lm.fsHi;
    m[this.gsHi] = lm.gsHi;
  }

  /** Before a region or the dispatcher runs: toArea, and a fresh start for STOP, SLICE_N and checkStop's reference. */
  enter(c: Cpu): void {
    this.toArea(c);
    this.i32[this.stop] = 0;
    this.i32[this.sliceN] = 0;
    this.sliceBase = c.sliceInstructions;
    this.modeKey = c.modeKey;
    this.execMask = c.execMask;
  }

  /** Before a helper reaches devices: the slice's instructions so far (regions before this one), for the clock. */
  syncSlice(c: Cpu): void {
    c.sliceInstructions = this.sliceBase + this.i32[this.sliceN];
  }

  /**
   * After a helper: tell the dispatcher to return to the JavaScript loop if that loop has
   * something to do before the next region (it checks these between regions).
   */
  checkStop(c: Cpu): void {
    if (c.exitRequested || c.modeSwitch || c.irqInhibit || (c.flags & TF) !== 0 || canTakeInterrupt(c) || c.modeKey !== this.modeKey || c.execMask !== this.execMask) this.i32[this.stop] = 1;
  }

  /** Code was invalidated (Cpu.smc set during a helper): the region leaves after the instruction. */
  setSmc(): void {
    this.i32[this.smc] = 1;
  }

  /** The area into the Cpu fields (the masks are the Cpu's, never written by a region). */
  fromArea(c: Cpu): void {
    const m = this.i32;
    c.ip = m[this.ip];
    c.flags = m[this.flags];
    c.lazyMask = m[this.lazyMask];
    c.lfKind = m[this.lfKind];
    c.lfA = m[this.lfA];
    c.lfB = m[this.lfB];
    c.lfRes = m[this.lfRes];
    c.lfShift = m[this.lfShift];
    c.instrStart = m[this.instrStart];
    c.smc = m[this.smc] !== 0;
    c.lm.ripHi = m[this.ripHi];
    c.lm.instrStartHi = m[this.instrStartHi];
  }
}
