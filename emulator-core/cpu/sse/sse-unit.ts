/**
 * The SSE execution unit: XMM registers and MXCSR (xmm-file.ts), the checks every SSE
 * instruction makes before it runs, operand helpers for the family modules, and the
 * state instructions of 0F AE (FXSAVE, FXRSTOR, LDMXCSR, STMXCSR, fences, CLFLUSH).
 *
 * Both modes call `exec` with the decoded instruction and their SseHost, so an
 * instruction is written once (in a family module that calls defineSse) for 16/32-bit
 * code, 64-bit code and, through the interpreter fallback, the JITs.
 */
import { CR0_EM, CR0_TS, CR4_OSFXSR, EXC_NM } from '../constants.js';
import type { DecodedInsn } from '../decoder/decoded-insn.js';
import type { FpuState, SseState } from '../state.js';
import { BadInputError } from '../../errors.js';
import type { SseHost } from './sse-host.js';
import { defineSse, SSE_FLAGS, SSE_HANDLERS, SSE_UNGATED, sseKey } from './sse-table.js';
import { MXCSR_MASK, SRC, XMM_COUNT, XmmFile } from './xmm-file.js';

const EXC_GP = 13;
const EXC_UD = 6;

/** What FXSAVE/FXRSTOR need of the x87 unit (its snapshot form), and the MMX-register forms its registers. */
export interface X87Access {
  save(): FpuState;
  restore(state: FpuState): void;
  /** The x87 register file seen as MMX registers, or null on a CPU without an FPU (MMX forms are #UD). */
  mmx(): MmxRegisters | null;
}

/**
 * The MMX registers for SSE instructions with MMX operands (PAVGB mm, PSHUFB mm, MOVQ2DQ...):
 * the x87 unit keeps them, so these forms change TOP and the tags exactly as MMX ones do.
 */
export interface MmxRegisters {
  /** Report a pending unmasked x87 exception (#MF, or IRQ 13 with CR0.NE clear), as every MMX instruction does first. */
  mmxCheckPending(): void;
  /** Copy MMr's 64 bits to u8[at..at+8). */
  mmxRead(r: number, u8: Uint8Array, at: number): void;
  /** Enter MMX mode: TOP=0, every tag valid (done by every MMX instruction but EMMS). */
  mmxEnter(): void;
  /** Write MMr from u8[at..at+8) (its exponent becomes FFFFh); call mmxEnter too. */
  mmxStore(r: number, u8: Uint8Array, at: number): void;
}

export class SseUnit {
  readonly x = new XmmFile();
  /** CPUID advertises SSE: the instructions exist. When false they keep their pre-SSE meaning (#UD, or MMX for unprefixed forms). */
  enabled = false;

  constructor(readonly x87: X87Access) {}

  reset(): void {
    this.x.reset();
  }

  /** Whether decoded instruction `d` is one of this unit's (given the unit is enabled). */
  handles(d: DecodedInsn): boolean {
    return this.enabled && SSE_HANDLERS[sseKey(d)] !== undefined;
  }

  /** Run `d`: the CR0/CR4 checks, its memory operand's address, then its family's handler. */
  exec(d: DecodedInsn, h: SseHost): void {
    const key = sseKey(d);
    const handler = SSE_HANDLERS[key];
    if (handler === undefined) h.undefinedOpcode();
    if ((SSE_FLAGS[key]! & SSE_UNGATED) === 0) this.gate(h);
    h.begin(d);
    handler(this, d, h);
  }

  /** The SDM's order: #UD for CR0.EM, #UD without CR4.OSFXSR, then #NM for CR0.TS. */
  gate(h: SseHost): void {
    const cr0 = h.cr0;
    if ((cr0 & CR0_EM) !== 0 || (h.cr4 & CR4_OSFXSR) === 0) h.raise(EXC_UD);
    if ((cr0 & CR0_TS) !== 0) h.raise(EXC_NM);
  }

  // ------------------------------------------------------------------ operand helpers

  /** ModRM.reg's XMM register (REX.R included). */
  reg(d: DecodedInsn): number {
    return d.reg;
  }

  /**
   * The slot holding the r/m source: the XMM register itself, or SRC after reading `n`
   * bytes of memory (the rest of SRC is stale). `aligned`: #GP(0) unless the address is a
   * multiple of 16 (MOVAPS and the other 128-bit forms that require it).
   */
  src(d: DecodedInsn, h: SseHost, n: number, aligned = false): number {
    if (d.mod === 3) return d.rm;
    if (aligned && (h.memLow() & 15) !== 0) h.raise(EXC_GP, 0);
    h.memRead(this.x.u8, SRC * 16, n);
    return SRC;
  }

  /** Store `n` bytes of slot `s` to the r/m memory operand (register forms are the handler's business). */
  storeMem(h: SseHost, s: number, n: number, aligned = false): void {
    if (aligned && (h.memLow() & 15) !== 0) h.raise(EXC_GP, 0);
    h.memWrite(this.x.u8, s * 16, n);
  }

  // ------------------------------------------------------------------ snapshots

  save(): SseState {
    const xmm: string[] = [];
    for (let r = 0; r < XMM_COUNT; r++) xmm.push(this.x.hex(r));
    return { mxcsr: this.x.mxcsr, xmm };
  }

  restore(s: SseState): void {
    if (s.xmm.length !== XMM_COUNT || s.xmm.some((v) => !/^[0-9a-fA-F]{1,32}$/.test(v))) {
      throw new BadInputError('SSE state must have 16 XMM registers of up to 32 hex digits', { registers: s.xmm.length });
    }
    if ((s.mxcsr & ~MXCSR_MASK) !== 0) throw new BadInputError('MXCSR has reserved bits set', { mxcsr: s.mxcsr });
    for (let r = 0; r < XMM_COUNT; r++) this.x.setHex(r, s.xmm[r]!);
    this.x.mxcsr = s.mxcsr;
  }

  // ------------------------------------------------------------------ 0F AE

  /** FXSAVE m512: x87 environment and registers, MXCSR, and XMM0-7 (XMM0-15 in 64-bit mode). */
  fxsave(d: DecodedInsn, h: SseHost): void {
    if ((h.memLow() & 15) !== 0) h.raise(EXC_GP, 0);
    h.memCheckWrite(512);
    const img = this.image;
    const n = h.long ? 16 : 8;
    img.fill(0);
    const v = new DataView(img.buffer);
    const f = this.x87.save();
    v.setUint16(0, f.control, true);
    v.setUint16(2, f.status, true);
    let abridged = 0;
    for (let i = 0; i < 8; i++) if (((f.tag >> (2 * i)) & 3) !== 3) abridged |= 1 << i;
    img[4] = abridged;
    v.setUint16(6, f.opcode, true);
    v.setUint32(8, f.ip, true);
    const wide = h.long && (d.rex & 8) !== 0;
    if (!wide) v.setUint16(12, f.cs, true);
    v.setUint32(16, f.dp, true);
    if (!wide) v.setUint16(20, f.ds, true);
    v.setUint32(24, this.x.mxcsr, true);
    v.setUint32(28, MXCSR_MASK, true);
    const top = (f.status >> 11) & 7;
    for (let i = 0; i < 8; i++) {
      const r = f.regs[(top + i) & 7]!; // "SSSS" + 16 mantissa digits, most significant first
      for (let b = 0; b < 10; b++) img[32 + i * 16 + b] = parseInt(r.slice(18 - b * 2, 20 - b * 2), 16);
    }
    img.set(this.x.u8.subarray(0, n * 16), 160);
    // 288 or 416 bytes: the rest is reserved or left to software (Linux keeps a magic number at 464).
    h.memWrite(img, 0, 160 + n * 16);
  }

  /** FXRSTOR m512: the reverse; #GP(0) for reserved MXCSR bits, before anything changes. */
  fxrstor(d: DecodedInsn, h: SseHost): void {
    if ((h.memLow() & 15) !== 0) h.raise(EXC_GP, 0);
    const img = this.image;
    h.memRead(img, 0, 512);
    const v = new DataView(img.buffer);
    const mxcsr = v.getUint32(24, true);
    if ((mxcsr & ~MXCSR_MASK) !== 0) h.raise(EXC_GP, 0);
    const status = v.getUint16(2, true);
    const top = (status >> 11) & 7;
    const regs = new Array<string>(8);
    let tag = 0;
    for (let i = 0; i < 8; i++) {
      let hex = '';
      for (let b = 9; b >= 0; b--) hex += img[32 + i * 16 + b]!.toString(16).padStart(2, '0');
      const phys = (top + i) & 7;
      regs[phys] = hex;
    }
    for (let p = 0; p < 8; p++) if ((img[4]! & (1 << p)) === 0) tag |= 3 << (2 * p);
    const wide = h.long && (d.rex & 8) !== 0;
    this.x87.restore({
      control: v.getUint16(0, true),
      status,
      tag,
      opcode: v.getUint16(6, true) & 0x7ff,
      ip: v.getUint32(8, true),
      cs: wide ? 0 : v.getUint16(12, true),
      dp: v.getUint32(16, true),
      ds: wide ? 0 : v.getUint16(20, true),
      regs,
    });
    this.x.mxcsr = mxcsr;
    const n = h.long ? 16 : 8;
    this.x.u8.set(img.subarray(160, 160 + n * 16), 0);
  }

  /** The 512-byte FXSAVE image being built or read. */
  private readonly image = new Uint8Array(512);
}

// 0F AE: FXSAVE /0, FXRSTOR /1, LDMXCSR /2, STMXCSR /3; register forms /5-/7 are LFENCE,
// MFENCE, SFENCE and memory /7 is CLFLUSH: no-ops for one in-order CPU with coherent memory.
defineSse(
  1,
  '-',
  0xae,
  (u, d, h) => {
    const g = (d.modrm >> 3) & 7;
    if (d.mod === 3) {
      if (g >= 5) return;
      h.undefinedOpcode();
    }
    switch (g) {
      case 0:
      case 1: {
        const cr0 = h.cr0;
        if ((cr0 & CR0_EM) !== 0) h.undefinedOpcode();
        if ((cr0 & CR0_TS) !== 0) h.raise(EXC_NM);
        if (g === 0) u.fxsave(d, h);
        else u.fxrstor(d, h);
        return;
      }
      case 2:
      case 3: {
        u.gate(h);
        const x = u.x;
        if (g === 2) {
          h.memRead(x.u8, SRC * 16, 4);
          const v = x.u32[SRC * 4]!;
          if ((v & ~MXCSR_MASK) !== 0) h.raise(EXC_GP, 0);
          x.mxcsr = v;
        } else {
          x.u32[SRC * 4] = x.mxcsr;
          h.memWrite(x.u8, SRC * 16, 4);
        }
        return;
      }
      case 7:
        return; // CLFLUSH: the address was computed (and checked) by begin()
      default:
        h.undefinedOpcode();
    }
  },
  SSE_UNGATED,
);
