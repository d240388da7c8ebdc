/**
 * SSE floating-point instructions as a guest sees them: memory operand forms and their
 * alignment rules, #XM versus #UD for unmasked exceptions, destinations left unchanged by a
 * fault, MXCSR flags, and conversions to general registers. (The lane arithmetic is
 * compared with the host CPU by test/difftest/sse-float/sse-float.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { FlatHarness } from '../../../test/support/cpu/flat-harness.js';
import { assemble, nasmAvailable } from '../../../test/support/nasm.js';
import { CR4_OSFXSR, CR4_OSXMMEXCPT } from '../constants.js';

const CODE = 0x1000;

function run(src: string, osxmmexcpt = true) {
  const h = new FlatHarness();
  h.cpu.sse.enabled = true;
  h.cpu.cr4 |= CR4_OSFXSR | (osxmmexcpt ? CR4_OSXMMEXCPT : 0);
  const code = assemble(src + '\nend_marker:', 32, CODE);
  h.writeMemory(CODE, code);
  h.setRegs({ esp: 0x80000, eip: CODE, eflags: 0x202 });
  const res = h.run(CODE + code.length);
  const x = h.cpu.sse.x;
  return { h, res, regs: h.getRegs(), x, mem: (a: number, n: number) => h.readMemory(a, n) };
}

/** A data block at DATA (16-byte aligned) the programs load from. */
const DATA_BLOCK = `
      jmp end_marker
      align 16
    d:`;

describe.skipIf(!nasmAvailable())('SSE floating-point arithmetic (guest view)', () => {
  it('adds packed singles from an aligned memory operand and scalar doubles from an unaligned one', () => {
    const { res, x } = run(`
      movups xmm0, [ones]
      addps xmm0, [vals]
      movsd xmm1, [pi]
      addsd xmm1, [odd + 1]
      ${DATA_BLOCK}
    vals: dd 1.5, -2.0, 0.25, 1e30
    ones: dd 1.0, 1.0, 1.0, 1.0
    pi:   dq 3.0
    odd:  db 0
          dq 0.5`);
    expect(res.exception).toBeNull();
    expect([...x.f32.subarray(0, 4)]).toEqual([2.5, -1, 1.25, Math.fround(1e30)]);
    expect(x.f64[2]).toBe(3.5);
    expect(x.mxcsr & 0x3f).toBe(0x20); // 1e30 + 1 is inexact
  });

  it('raises #GP(0) for a misaligned packed memory operand before touching MXCSR', () => {
    const { res, x } = run(`
      movups xmm0, [ones]
      divps xmm0, [zeros + 4]
      ${DATA_BLOCK}
    ones:  dd 1.0, 1.0, 1.0, 1.0
    zeros: dd 0, 0, 0, 0, 0`);
    expect(res.exception).toBe(13);
    expect(x.mxcsr).toBe(0x1f80);
    expect(x.f32[0]).toBe(1);
  });

  it('an unmasked divide-by-zero raises #XM, sets ZE, and leaves every lane of the destination unchanged', () => {
    const { res, x } = run(`
      ldmxcsr [mx]
      movups xmm0, [nums]
      divps xmm0, [dens]
      ${DATA_BLOCK}
    nums: dd 1.0, 6.0, 1.0, 8.0
    dens: dd 0.0, 3.0, 3.0, 2.0
    mx:   dd 0x1d80`);
    expect(res.exception).toBe(19);
    // Lane 2 (1/3) is inexact, but a pre-computation fault stops before PE is detected.
    expect(x.mxcsr).toBe(0x1d84);
    expect([...x.f32.subarray(0, 4)]).toEqual([1, 6, 1, 8]);
  });

  it('the same fault is #UD without CR4.OSXMMEXCPT', () => {
    const { res } = run(
      `
      ldmxcsr [mx]
      movss xmm0, [one]
      divss xmm0, [zero]
      ${DATA_BLOCK}
    one:  dd 1.0
    zero: dd 0.0
    mx:   dd 0x1d80`,
      false,
    );
    expect(res.exception).toBe(6);
  });

  it('an unmasked overflow faults with OE only and writes nothing; masked it rounds by RC', () => {
    const unmasked = run(`
      ldmxcsr [mx]
      movss xmm0, [big]
      mulss xmm0, [big]
      ${DATA_BLOCK}
    big: dd 0x7f000000
    mx:  dd 0x1b80`);
    expect(unmasked.res.exception).toBe(19);
    expect(unmasked.x.mxcsr & 0x3f).toBe(0x08);
    expect(unmasked.x.u32[0]).toBe(0x7f000000);
    const towardZero = run(`
      ldmxcsr [mx]
      movss xmm0, [big]
      mulss xmm0, [big]
      ${DATA_BLOCK}
    big: dd 0x7f000000
    mx:  dd 0x7f80`);
    expect(towardZero.res.exception).toBeNull();
    expect(towardZero.x.u32[0]).toBe(0x7f7fffff); // the largest finite single
    expect(towardZero.x.mxcsr & 0x3f).toBe(0x28);
  });

  it('rounds in all four RC modes and detects tininess after rounding, FTZ included', () => {
    // 1/3 in each mode: nearest and down give ...aaab/...aaaa.
    const modes = [0x1f80, 0x3f80, 0x5f80, 0x7f80].map((mx) =>
      run(`
      ldmxcsr [mx]
      movss xmm0, [one]
      divss xmm0, [three]
      ${DATA_BLOCK}
    one:   dd 1.0
    three: dd 3.0
    mx:    dd ${mx}`).x.u32[0],
    );
    expect(modes).toEqual([0x3eaaaaab, 0x3eaaaaaa, 0x3eaaaaab, 0x3eaaaaaa]);
    // (1 - 2^-23) * 2^-126 * (1 + 2^-23) is below 2^-126 but rounds to it: PE, no UE, not flushed.
    const edge = run(`
      ldmxcsr [mx]
      movss xmm0, [a]
      mulss xmm0, [b]
      ${DATA_BLOCK}
    a:  dd 0x3f7ffffe
    b:  dd 0x00800001
    mx: dd 0x9f80`);
    expect(edge.x.u32[0]).toBe(0x00800000);
    expect(edge.x.mxcsr & 0x3f).toBe(0x20);
    // Toward zero the same product is tiny: FTZ flushes it and raises UE and PE.
    const flushed = run(`
      ldmxcsr [mx]
      movss xmm0, [a]
      mulss xmm0, [b]
      ${DATA_BLOCK}
    a:  dd 0x3f7ffffe
    b:  dd 0x00800001
    mx: dd 0xff80`);
    expect(flushed.x.u32[0]).toBe(0);
    expect(flushed.x.mxcsr & 0x3f).toBe(0x30);
  });

  it('propagates the first source NaN quieted, and the default NaN for invalid operations', () => {
    const { x } = run(`
      movups xmm0, [a]
      addps xmm0, [b]
      ${DATA_BLOCK}
    a: dd 0x7f800001, 0x3f800000, 0x7f800000, 0x7fc00001
    b: dd 0xffc00005, 0xff800002, 0xff800000, 0xff800005`);
    expect([...x.u32.subarray(0, 4)]).toEqual([0x7fc00001, 0xffc00002, 0xffc00000, 0x7fc00001]);
    expect(x.mxcsr & 0x3f).toBe(0x01);
  });

  it('COMISS sets ZF PF CF and clears OF SF AF; UCOMISS does not signal on QNaNs but COMISS does', () => {
    const less = run(`
      movss xmm0, [one]
      comiss xmm0, [two]
      ${DATA_BLOCK}
    one: dd 1.0
    two: dd 2.0`);
    expect(less.regs.eflags & 0x8d5).toBe(0x01);
    const quietOnly = run(`
      movss xmm0, [qnan]
      ucomiss xmm0, [two]
      ${DATA_BLOCK}
    qnan: dd 0x7fc00000
    two:  dd 2.0`);
    expect(quietOnly.regs.eflags & 0x8d5).toBe(0x45);
    expect(quietOnly.x.mxcsr & 0x3f).toBe(0);
    const signaling = run(`
      movss xmm0, [qnan]
      comiss xmm0, [two]
      ${DATA_BLOCK}
    qnan: dd 0x7fc00000
    two:  dd 2.0`);
    expect(signaling.regs.eflags & 0x8d5).toBe(0x45);
    expect(signaling.x.mxcsr & 0x3f).toBe(0x01);
  });

  it('CVTSS2SI and CVTTSD2SI write general registers; out of range gives the integer indefinite', () => {
    const { regs, x } = run(`
      cvtss2si eax, [a]
      cvttsd2si ebx, [b]
      cvtsd2si ecx, [c]
      mov edx, -7
      cvtsi2sd xmm3, edx
      ${DATA_BLOCK}
    a: dd 2.5
    b: dq -3.99
    c: dq 3e9`);
    expect(regs.eax).toBe(2); // ties to even
    expect(regs.ebx | 0).toBe(-3);
    expect(regs.ecx >>> 0).toBe(0x80000000);
    expect(x.f64[6]).toBe(-7);
    expect(x.mxcsr & 0x3f).toBe(0x21);
  });

  it('CMPPS writes lane masks; CMPSD keeps the upper lane', () => {
    const { x } = run(`
      movups xmm0, [a]
      cmpltps xmm0, [b]
      movups xmm1, [c]
      cmpunordsd xmm1, [nan]
      ${DATA_BLOCK}
    a: dd 1.0, 2.0, 3.0, 0x7fc00000
    b: dd 2.0, 2.0, 1.0, 1.0
    c: dq 1.0, 5.0
    nan: dq 0x7ff8000000000000`);
    expect([...x.u32.subarray(0, 4)]).toEqual([0xffffffff, 0, 0, 0]);
    expect([x.u32[4], x.u32[5]]).toEqual([0xffffffff, 0xffffffff]);
    expect(x.f64[3]).toBe(5);
    expect(x.mxcsr & 0x3f).toBe(0x01); // CMPLTPS signals on the QNaN
  });

  it('ROUNDSD honours the immediate rounding mode and the precision-suppression bit; DPPS sums selected lanes', () => {
    const { x } = run(`
      movsd xmm0, [v]
      roundsd xmm0, [v], 1
      movsd xmm1, [v]
      roundsd xmm1, [v], 0xa
      movups xmm2, [a]
      dpps xmm2, [b], 0x75
      ${DATA_BLOCK}
    a: dd 1.0, 2.0, 3.0, 4.0
    b: dd 10.0, 100.0, 1000.0, 10000.0
    v: dq -2.5`);
    expect(x.f64[0]).toBe(-3);
    expect(x.f64[2]).toBe(-2);
    expect([...x.f32.subarray(8, 12)]).toEqual([3210, 0, 3210, 0]);
    expect(x.mxcsr & 0x3f).toBe(0x20); // only the first ROUNDSD reported inexact
  });

  it('HADDPS and ADDSUBPD combine lanes in the SDM order', () => {
    const { x } = run(`
      movups xmm0, [a]
      haddps xmm0, [b]
      movups xmm1, [c]
      addsubpd xmm1, [e]
      ${DATA_BLOCK}
    a: dd 1.0, 2.0, 3.0, 4.0
    b: dd 10.0, 20.0, 30.0, 40.0
    c: dq 5.0, 5.0
    e: dq 1.0, 1.0`);
    expect([...x.f32.subarray(0, 4)]).toEqual([3, 7, 30, 70]);
    expect([x.f64[2], x.f64[3]]).toEqual([4, 6]);
  });

  it('CVTPI2PS and CVTPS2PI go through MMX registers and switch the x87 unit to MMX state', () => {
    const { regs, x, res } = run(`
      fninit
      fld1
      fld1
      movq mm1, [ints]
      movups xmm0, [keep]
      cvtpi2ps xmm0, mm1
      cvttps2pi mm2, [vals]
      fnstsw ax
      mov ebx, eax
      fnstenv [esp - 32]
      mov ecx, [esp - 32 + 8]
      movd esi, mm2
      psrlq mm2, 32
      movd edi, mm2
      ${DATA_BLOCK}
    keep: dd 9.0, 9.0, 9.0, 9.0
    ints: dd -3, 16777217
    vals: dd -2.75, 1e10`);
    expect(res.exception).toBeNull();
    expect([...x.f32.subarray(0, 4)]).toEqual([-3, 16777216, 9, 9]); // upper half kept, 2^24+1 rounded
    expect((regs.ebx >> 11) & 7).toBe(0); // TOP = 0
    // No register is empty (tag 11); FNSTENV derives the rest of each tag from the contents.
    for (let r = 0; r < 8; r++) expect((regs.ecx >> (2 * r)) & 3).not.toBe(3);
    expect(regs.esi | 0).toBe(-2);
    expect(regs.edi >>> 0).toBe(0x80000000); // 1e10 is out of range: the integer indefinite
    expect(x.mxcsr & 0x3f).toBe(0x21);
  });

  it('CVTPI2PD and CVTPI2PS from memory leave the x87 stack alone; from an MMX register they enter MMX state', () => {
    const mem = run(`
      fninit
      fld1
      cvtpi2pd xmm0, [ints]
      cvtpi2ps xmm1, [ints]
      fnstsw ax
      ${DATA_BLOCK}
    ints: dd -5, 7`);
    expect([mem.x.f64[0], mem.x.f64[1]]).toEqual([-5, 7]);
    expect([mem.x.f32[4], mem.x.f32[5]]).toEqual([-5, 7]);
    expect((mem.regs.eax >> 11) & 7).toBe(7);
    const reg = run(`
      fninit
      fld1
      movq mm3, [ints]
      cvtpi2pd xmm0, mm3
      fnstsw ax
      ${DATA_BLOCK}
    ints: dd -5, 7`);
    expect([reg.x.f64[0], reg.x.f64[1]]).toEqual([-5, 7]);
    expect((reg.regs.eax >> 11) & 7).toBe(0);
  });
});
