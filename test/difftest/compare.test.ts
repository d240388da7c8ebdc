/**
 * The comparison itself, on recorded host results (no native harness needed): what is
 * vendor-specific is masked only on the other vendor's hosts, everything else still counts.
 */
import { describe, expect, it } from 'vitest';
import type { FpuState } from '../../emulator-core/cpu/state.js';
import type { DiffCase, Outcome } from './case.js';
import { diffOutcomes } from './compare.js';
import { fpuStateToImage } from './fpu-image.js';
import { CODE_BASE } from './layout.js';
import { X87_UNDEFINED } from './masks.js';

const FST_EIP = CODE_BASE + 0x1c;

/** `fld1; fldpi; fst dword [ebp]` (seed 1572532573's failing case), completed. */
const tc: DiffCase = {
  family: 'FST',
  asm: 'fld1\nfldpi\nfst dword [ebp]',
  regs: [0, 0, 0, 0, 0x501800, 0x500100, 0, 0],
  eflags: 0x202,
  memSeed: 1,
  undefinedFlags: 0,
  fpu: { statusUndefined: X87_UNDEFINED.arith },
};

function fpu(ip: number, status = 0x3000): FpuState {
  const regs = new Array<string>(8).fill('0'.repeat(20));
  regs[6] = '4000c90fdaa22168c235'; // ST(0) = pi
  regs[7] = '3fff8000000000000000'; // ST(1) = 1.0
  return { control: 0x037f, status, tag: 0x0fff, opcode: 0x155, ip, cs: 0x73, dp: 0x500100, ds: 0x7b, regs };
}

function outcome(f: FpuState): Outcome {
  return {
    exception: null,
    errorCode: 0,
    eip: FST_EIP + 3,
    regs: [...tc.regs],
    eflags: 0x202,
    cr2: 0,
    segs: [0x7b, 0x73, 0x7b, 0x7b, 0, 0],
    mem: new Map([
      [0x100, 0xdb],
      [0x101, 0x0f],
      [0x102, 0x49],
      [0x103, 0x40],
    ]),
    fpu: fpuStateToImage(f),
    xmm: null,
    mxcsr: 0x1f80,
  };
}

const terrarium = outcome(fpu(FST_EIP));
// Recorded: an Intel host stores FST's address as FIP; an AMD EPYC host stores 0 (no ES).
const intelHost = outcome(fpu(FST_EIP));
const amdHost = outcome(fpu(0));

describe('difftest comparison across host vendors', () => {
  it('agrees with the recorded Intel result and with the AMD one on an AMD host', () => {
    expect(diffOutcomes(tc, intelHost, terrarium, 'GenuineIntel')).toEqual([]);
    expect(diffOutcomes(tc, amdHost, terrarium, 'AuthenticAMD')).toEqual([]);
  });

  it("still reports FIP on Intel hosts, where it is Intel's (and Terrarium's) behaviour", () => {
    const d = diffOutcomes(tc, amdHost, terrarium, 'GenuineIntel');
    expect(d).toHaveLength(1);
    expect(d[0]).toMatch(/x87 last instruction pointer \(FIP\): host 0x00000000 terrarium 0x0040001c/);
  });

  it('compares FIP on AMD too while an x87 exception is pending (ES set)', () => {
    const pending = 0x3000 | 0x80 | 0x04; // ES + ZE unmasked-pending
    const amdPending = outcome(fpu(0, pending));
    expect(diffOutcomes(tc, amdPending, outcome(fpu(FST_EIP, pending)), 'AuthenticAMD')).toHaveLength(1);
  });

  it('masks nothing else on AMD: registers, memory, x87 status and stack still count', () => {
    const ours = outcome(fpu(FST_EIP));
    ours.regs[0] = 1;
    ours.mem.set(0x103, 0x41);
    expect(diffOutcomes(tc, amdHost, ours, 'AuthenticAMD')).toHaveLength(2);
    const wrongSt = fpu(FST_EIP);
    wrongSt.regs[6] = '4000c90fdaa22168c234';
    expect(diffOutcomes(tc, amdHost, outcome(wrongSt), 'AuthenticAMD').join('\n')).toMatch(/ST\(0\)/);
    expect(diffOutcomes(tc, amdHost, outcome(fpu(FST_EIP, 0x3800)), 'AuthenticAMD').join('\n')).toMatch(/status word/);
  });
});

describe('difftest comparison of XMM registers, MXCSR and FXSAVE images', () => {
  const sseCase: DiffCase = { family: 'MOVSS', asm: 'movss xmm1, [0x500100]', regs: [...tc.regs], eflags: 0x202, memSeed: 1, undefinedFlags: 0 };
  const xmm = (): Uint8Array => Uint8Array.from({ length: 128 }, (_, i) => i);
  const sse = (x: Uint8Array, mxcsr = 0x1f80, mem = new Map<number, number>()): Outcome => ({ ...outcome(fpu(FST_EIP)), mem, xmm: x, mxcsr });

  it('reports a differing XMM lane as dwords, with the case and the register before it ran', () => {
    const ours = xmm();
    ours[16 + 9] ^= 0x80; // xmm1, dword 2
    const d = diffOutcomes(sseCase, sse(xmm()), sse(ours));
    expect(d).toHaveLength(1);
    expect(d[0]).toMatch(/^ {2}xmm1: host 1f1e1d1c_1b1a1918_17161514_13121110 terrarium 1f1e1d1c_1b1a9918_17161514_13121110 \(dwords 3\.\.0; differ in dword 2; before /);
  });

  it('leaves out only the bits a case marks undefined', () => {
    const ours = xmm();
    ours[16 + 9] ^= 0x80;
    expect(diffOutcomes({ ...sseCase, xmmUndefined: { 1: 0xffn << 72n } }, sse(xmm()), sse(ours))).toEqual([]);
    expect(diffOutcomes({ ...sseCase, xmmUndefined: { 1: 0x7fn << 72n } }, sse(xmm()), sse(ours))).toHaveLength(1);
    expect(diffOutcomes({ ...sseCase, xmmUndefined: { 2: 0xffn << 72n } }, sse(xmm()), sse(ours))).toHaveLength(1);
  });

  it('reports MXCSR with its fields named', () => {
    const d = diffOutcomes(sseCase, sse(xmm(), 0x1f81), sse(xmm(), 0x1f80));
    expect(d).toEqual([expect.stringMatching(/mxcsr: host 0x00001f81 \[IE IM DM ZM OM UM PM RC=nearest\] terrarium 0x00001f80/)]);
    expect(diffOutcomes({ ...sseCase, mxcsrUndefined: 1 }, sse(xmm(), 0x1f81), sse(xmm(), 0x1f80))).toEqual([]);
  });

  it('masks FXSAVE image bytes: FOP always, MXCSR_MASK bit 17 only on AMD hosts', () => {
    const img = 0x200;
    const fx: DiffCase = { ...sseCase, asm: 'fxsave [0x500200]', fxsaveImages: [img] };
    const host = new Map([
      [img + 6, 0x12], // FOP
      [img + 28, 0xff],
      [img + 29, 0xff],
      [img + 30, 0x02], // MXCSR_MASK 0x2FFFF (AMD)
      [img + 31, 0x00],
    ]);
    const ours = new Map([...host, [img + 6, 0x34], [img + 30, 0x00]]);
    expect(diffOutcomes(fx, sse(xmm(), 0x1f80, host), sse(xmm(), 0x1f80, ours), 'AuthenticAMD')).toEqual([]);
    const intel = diffOutcomes(fx, sse(xmm(), 0x1f80, host), sse(xmm(), 0x1f80, ours), 'GenuineIntel');
    expect(intel).toEqual([expect.stringMatching(/mem\[0x0050021e\]: host 0x02 terrarium 0x00/)]);
    // Other bits of the same byte still count on AMD.
    ours.set(img + 30, 0x01);
    expect(diffOutcomes(fx, sse(xmm(), 0x1f80, host), sse(xmm(), 0x1f80, ours), 'AuthenticAMD')).toHaveLength(1);
  });
});
