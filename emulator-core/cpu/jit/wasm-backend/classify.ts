/**
 * What the wasm backend does with each decoded instruction: compile it natively, run the
 * interpreter's step() for it and continue, or run step() and end the block (the
 * instruction may transfer control, change modes or segments, or do I/O).
 */
import type { DecodedInsn } from '../../decoder/decoded-insn.js';
import type { BlockMode } from '../codegen.js';
import { CONTINUE_FALLBACK } from '../codegen.js';

export const enum How {
  /** Compiled in wasm; the block continues. */
  Native,
  /** Compiled in wasm; a control transfer that ends the block. */
  NativeEnd,
  /** The interpreter's step(), then the block continues. */
  Step,
  /** The interpreter's step(), then the block ends at wherever step() left EIP. */
  StepEnd,
}

/**
 * A memory operand the backend addresses itself: 32-bit addressing, any segment (DS, ES and
 * SS add nothing in a flat mode; otherwise the segment's base is added after its check).
 */
export function memOk(d: DecodedInsn): boolean {
  return d.mod === 3 || d.addrSize === 4;
}

/** The segment needs no base or check: DS, ES or SS in a flat mode. */
export function flatSeg(d: DecodedInsn, mode: BlockMode): boolean {
  const seg = d.seg >= 0 ? d.seg : d.defSeg;
  return mode.flat && (seg === 0 || seg === 2 || seg === 3);
}

function isAluFamily(op: number): boolean {
  return op < 0x40 && (op & 7) < 6;
}

/** Instructions that never transfer control or change modes, so a block goes on after step(). */
function continues(d: DecodedInsn): boolean {
  const op = d.op;
  if (CONTINUE_FALLBACK.has(op)) return true;
  if (isAluFamily(op)) return true;
  if (op >= 0x40 && op <= 0x5f) return true;
  if ((op >= 0x80 && op <= 0x8b) || op === 0x8d || op === 0x90) return true;
  if (op >= 0x91 && op <= 0x99) return true;
  if ((op >= 0xb0 && op <= 0xbf) || op === 0xa8 || op === 0xa9) return true;
  if ((op === 0xc6 || op === 0xc7) && d.reg === 0) return true;
  if ((op === 0xfe || op === 0xff) && (d.reg < 2 || d.reg === 6)) return true;
  if (op >= 0xc0 && op <= 0xc1) return true;
  if (op >= 0xd0 && op <= 0xd3) return true;
  if (op >= 0x140 && op <= 0x14f) return true;
  if (op >= 0x190 && op <= 0x19f) return true;
  if (op === 0x1b6 || op === 0x1b7 || op === 0x1be || op === 0x1bf) return true;
  return false;
}

/** Whether the block ends after d, independent of the mode (for region discovery). */
export function endsBlock(d: DecodedInsn): boolean {
  const h = d.bits === 64 ? classify64(d) : classify(d, null);
  return h === How.NativeEnd || h === How.StepEnd;
}

/** 0F-map instructions of 64-bit code that compute without transferring control or changing modes: SSE, hints, BSWAP, POPCNT. */
function continues0f64(op: number): boolean {
  if (op >= 0x200) return true; // 0F 38 / 0F 3A
  return (
    (op >= 0x110 && op <= 0x11f) ||
    (op >= 0x128 && op <= 0x12f) ||
    (op >= 0x150 && op <= 0x17f) ||
    (op >= 0x1c2 && op <= 0x1cf) ||
    (op >= 0x1d0 && op <= 0x1fe) ||
    op === 0x1b8
  );
}

/** How to run d in 64-bit code (region-compiler64.ts). */
export function classify64(d: DecodedInsn): How {
  const op = d.op;
  const fallback = (): How => (op >= 0xa4 && op <= 0xaf && d.rep !== 0 ? How.StepEnd : continues(d) || continues0f64(op) ? How.Step : How.StepEnd);
  if (d.lock) return fallback();
  if (d.rep !== 0 && op === 0x90) return How.StepEnd; // PAUSE may end the CPU's turn
  if (d.rep !== 0 && op !== 0xc3 && op !== 0xc2) return fallback();
  // Near branches ignore 0x66 on Intel and honour it on AMD: the interpreter's business.
  const control = (op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f) || op === 0xe8 || op === 0xe9 || op === 0xeb || op === 0xc3 || op === 0xc2 || (op === 0xff && (d.reg === 2 || d.reg === 4));
  if (control) return d.p66 || (d.mod !== 3 && d.ripRel && d.addrSize === 4) ? How.StepEnd : How.NativeEnd;
  if (d.mod !== 3 && d.ripRel && d.addrSize === 4) return fallback();
  const o = d.opSize;
  if (op < 0x40 && (op & 7) < 6) return How.Native;
  if (op >= 0x50 && op <= 0x5f) return o === 8 ? How.Native : How.Step;
  if (op === 0x63) return o === 8 ? How.Native : How.Step;
  if (op === 0x68 || op === 0x6a) return o === 8 ? How.Native : How.Step;
  if (op === 0x80 || op === 0x81 || op === 0x83) return How.Native;
  if (op === 0x84 || op === 0x85 || op === 0xa8 || op === 0xa9) return How.Native;
  if (op >= 0x88 && op <= 0x8b) return How.Native;
  if (op === 0x8d) return d.mod !== 3 ? How.Native : How.Step;
  if (op >= 0x90 && op <= 0x99) return How.Native; // NOP, XCHG with rAX (90 with REX.B too), CBW.., CWD..
  if (op >= 0xb0 && op <= 0xbf) return How.Native;
  if ((op === 0xc6 || op === 0xc7) && d.reg === 0) return How.Native;
  if ((op === 0xfe || op === 0xff) && d.reg < 2) return How.Native;
  if (op === 0xff && d.reg === 6) return o === 8 ? How.Native : How.Step;
  if ((op === 0xf6 || op === 0xf7) && d.reg < 2) return How.Native;
  if ((op === 0xf6 || op === 0xf7) && d.mod === 3 && (d.reg === 2 || d.reg === 3)) return How.Native;
  if (op === 0xc9) return o === 8 ? How.Native : How.Step;
  if (op === 0x1b6 || op === 0x1b7 || op === 0x1be || op === 0x1bf || op === 0x11f) return How.Native;
  if ((op >= 0x140 && op <= 0x14f) || (op >= 0x190 && op <= 0x19f)) return How.Native;
  if ((op === 0x86 || op === 0x87) && d.mod === 3) return How.Native;
  // SHL/SHR/SAL/SAR of a register: by a constant at any width, by CL at 32 and 64 bits.
  if ((op === 0xc0 || op === 0xc1 || op === 0xd0 || op === 0xd1) && d.mod === 3 && d.reg >= 4 && (op >= 0xd0 || (d.imm & (o === 8 && op === 0xc1 ? 0x3f : 0x1f)) !== 0)) return How.Native;
  if (op === 0xd3 && d.mod === 3 && o >= 4 && d.reg >= 4) return How.Native;
  // ROL/ROR of a 32/64-bit register, by a constant or by CL.
  if ((op === 0xc1 || op === 0xd1 || op === 0xd3) && d.mod === 3 && o >= 4 && d.reg < 2 && (op !== 0xc1 || (d.imm & (o === 8 ? 0x3f : 0x1f)) !== 0)) return How.Native;
  if ((op === 0x1af || op === 0x69 || op === 0x6b) && o >= 4) return How.Native;
  return fallback();
}

/** How to run d; `mode` null asks only whether the block ends (native or not). */
export function classify(d: DecodedInsn, mode: BlockMode | null): How {
  const op = d.op;
  const fallback = (): How => (d.rep !== 0 && op >= 0xa4 && op <= 0xaf ? How.StepEnd : continues(d) ? How.Step : How.StepEnd);
  if (d.lock) return fallback();
  // PAUSE may end the CPU's turn (Cpu.pauseExits): the interpreter's, ending the block.
  if (d.rep !== 0 && op === 0x90) return How.StepEnd;
  if (d.rep !== 0 && op !== 0x90 && op !== 0xc3 && op !== 0xc2) return fallback();
  const control = (op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f) || op === 0xe8 || op === 0xe9 || op === 0xeb || op === 0xc3 || op === 0xc2;
  if (control) {
    if (mode === null) return How.NativeEnd;
    if (d.opSize !== 4) return How.StepEnd;
    const stack = op === 0xe8 || op === 0xc3 || op === 0xc2;
    if (stack && !(mode.flat && mode.ss32)) return How.StepEnd;
    return How.NativeEnd;
  }
  if (mode === null) return fallback();
  if (!memOk(d)) return fallback();
  if (isAluFamily(op)) return How.Native;
  if (op >= 0x80 && op <= 0x83) return op === 0x82 ? How.Step : How.Native;
  if (op === 0x84 || op === 0x85 || op === 0xa8 || op === 0xa9) return How.Native;
  if (op >= 0x88 && op <= 0x8b) return How.Native;
  if (op === 0x8d) return d.mod !== 3 && d.addrSize === 4 ? How.Native : How.Step;
  if (op === 0x90 || (op >= 0xb0 && op <= 0xbf)) return How.Native;
  if ((op === 0xc6 || op === 0xc7) && d.reg === 0) return How.Native;
  if (op >= 0x40 && op <= 0x4f) return How.Native;
  if ((op === 0xfe || op === 0xff) && d.reg < 2) return How.Native;
  if ((op === 0xf6 || op === 0xf7) && d.reg < 2) return How.Native;
  if (op >= 0x50 && op <= 0x5f) return d.opSize === 4 && mode.flat && mode.ss32 ? How.Native : How.Step;
  // LEAVE, PUSH r/m32
  if ((op === 0xc9 || (op === 0xff && d.reg === 6)) && d.opSize === 4 && mode.flat && mode.ss32) return How.Native;
  if (op === 0x1b6 || op === 0x1b7 || op === 0x1be || op === 0x1bf) return How.Native;
  if ((op >= 0x140 && op <= 0x14f) || (op >= 0x190 && op <= 0x19f)) return How.Native;
  if ((op === 0x86 || op === 0x87) && d.mod === 3) return How.Native;
  if ((op >= 0x91 && op <= 0x97) || op === 0x98 || op === 0x99) return How.Native;
  // SHL/SHR/SAL/SAR of a register: by a constant at any width, by CL at 32 bits.
  if ((op === 0xc0 || op === 0xc1 || op === 0xd0 || op === 0xd1) && d.mod === 3 && d.reg >= 4 && (op >= 0xd0 || (d.imm & 0x1f) !== 0)) return How.Native;
  if (op === 0xd3 && d.mod === 3 && d.opSize === 4 && d.reg >= 4) return How.Native;
  if ((op === 0xf6 || op === 0xf7) && d.mod === 3 && (d.reg === 2 || d.reg === 3)) return How.Native;
  if ((op === 0x1af || op === 0x69 || op === 0x6b) && d.opSize === 4) return How.Native;
  return fallback();
}
