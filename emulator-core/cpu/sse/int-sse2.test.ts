import { describe, expect, it } from 'vitest';
import { FlatHarness } from '../../../test/support/cpu/flat-harness.js';
import { assemble, nasmAvailable } from '../../../test/support/nasm.js';
import { CR0_EM, CR0_TS, CR4_OSFXSR } from '../constants.js';
import { X87Unit } from '../x87.js';

const CODE = 0x1000;
const DATA = 0x100000;

/** Run `src` (its data after `jmp end_marker`) with SSE on; DATA holds bytes 1, 2, 3... */
function run(src: string, setup: (h: FlatHarness) => void = (h) => (h.cpu.cr4 |= CR4_OSFXSR)) {
  const h = new FlatHarness();
  h.cpu.sse.enabled = true;
  setup(h);
  const code = assemble(src + '\nend_marker:', 32, CODE);
  h.writeMemory(CODE, code);
  h.writeMemory(DATA, Uint8Array.from({ length: 512 }, (_, i) => (i + 1) & 0xff));
  h.setRegs({ esp: 0x80000, eip: CODE, eflags: 0x202 });
  const res = h.run(CODE + code.length);
  return { h, res, regs: h.getRegs(), xmm: (r: number) => h.cpu.sse.x.hex(r), mm: (r: number) => mmx(h, r) };
}

function mmx(h: FlatHarness, r: number): string {
  const f = h.cpu.fpu;
  if (!(f instanceof X87Unit)) throw new Error('no x87 unit');
  return f.fpu.mmxRegister(r).toString(16).padStart(16, '0');
}

/** Data block: `seq` holds bytes 00..0f, then the named 16-byte constants, 16-byte aligned. */
const DATA_BLOCK = `
      jmp end_marker
      align 16
    seq: db 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    ones: times 16 db 0xff
    packd: dq 0xff7f008080007fff, 0xff000100ffff0001
    packs: dq 0x0003000200010000, 0x0007000600050004
    qa: dq 0xffffffffffffffff, 0x00000000ffffffff
    qb: dq 1, 1
    qc: dq 1, 0x100000000
    ma: dq 0x12345678ffffffff, 0x0000000900000003
    mb: dq 0x0000aaaaffffffff, 0x0000000780000000
    w8000: times 8 dw 0x8000
    signs: dq 0x8000000180000001, 0x8000000180000001
    cnt64: dq 64, 0
    cnt63: dq 63, 0xffffffff
    cntbig: dq 0x100000000, 0
    hi16: db 16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31`;

describe.skipIf(!nasmAvailable())('SSE2 integer instructions on XMM registers', () => {
  it('adds, subtracts and saturates every lane width, with carries across 64-bit lanes', () => {
    const { res, xmm } = run(`
      movdqa xmm0, [ones]
      paddusb xmm0, [seq]
      movdqa xmm1, [seq]
      psubusb xmm1, [ones]
      movdqa xmm2, [qa]
      paddq xmm2, [qb]
      pxor xmm3, xmm3
      psubq xmm3, [qc]
      movdqa xmm4, [w8000]
      paddsw xmm4, xmm4
      movdqa xmm5, [w8000]
      paddw xmm5, [w8000]
      movdqa xmm6, [seq]
      psubsb xmm6, [ones]
      ${DATA_BLOCK}`);
    expect(res.exception).toBeNull();
    expect(xmm(0)).toBe('ff'.repeat(16));
    expect(xmm(1)).toBe('00'.repeat(16));
    expect(xmm(2)).toBe('0000000100000000' + '0000000000000000');
    expect(xmm(3)).toBe('ffffffff00000000' + 'ffffffffffffffff');
    expect(xmm(4)).toBe('8000'.repeat(8));
    expect(xmm(5)).toBe('0000'.repeat(8));
    expect(xmm(6)).toBe('100f0e0d0c0b0a090807060504030201'); // x - (-1), 0x0f + 1 fits
  });

  it('multiplies: PMULUDQ to 64-bit products, PMADDWD wraps 0x8000^2*2, PMULHUW, PMULHW', () => {
    const { res, xmm } = run(`
      movdqa xmm0, [ma]
      pmuludq xmm0, [mb]
      movdqa xmm1, [w8000]
      pmaddwd xmm1, xmm1
      movdqa xmm2, [ones]
      pmulhuw xmm2, xmm2
      movdqa xmm3, [w8000]
      pmulhw xmm3, [ones]
      movdqa xmm4, [w8000]
      pmullw xmm4, [w8000]
      ${DATA_BLOCK}`);
    expect(res.exception).toBeNull();
    expect(xmm(0)).toBe('0000000180000000' + 'fffffffe00000001');
    expect(xmm(1)).toBe('80000000'.repeat(4));
    expect(xmm(2)).toBe('fffe'.repeat(8));
    expect(xmm(3)).toBe('0000'.repeat(8)); // -32768 * -1 = 0x8000: high word 0
    expect(xmm(4)).toBe('0000'.repeat(8));
  });

  it('packs with signed/unsigned saturation and interleaves all four element sizes', () => {
    const { res, xmm } = run(`
      movdqa xmm0, [packd]
      packsswb xmm0, [packs]
      movdqa xmm1, [packd]
      packuswb xmm1, [packs]
      movdqa xmm2, [seq]
      punpcklbw xmm2, [hi16]
      movdqa xmm3, [seq]
      punpckhwd xmm3, [hi16]
      movdqa xmm4, [seq]
      punpckhqdq xmm4, [hi16]
      movdqa xmm5, [seq]
      punpckldq xmm5, xmm5
      ${DATA_BLOCK}`);
    expect(res.exception).toBeNull();
    expect(xmm(0)).toBe('0706050403020100' + '807fff01807f807f');
    expect(xmm(1)).toBe('0706050403020100' + '00ff0001008000ff');
    expect(xmm(2)).toBe('1707160615051404' + '1303120211011000');
    expect(xmm(3)).toBe('1f1e0f0e1d1c0d0c' + '1b1a0b0a19180908');
    expect(xmm(4)).toBe('1f1e1d1c1b1a1918' + '0f0e0d0c0b0a0908');
    expect(xmm(5)).toBe('0706050407060504' + '0302010003020100');
  });

  it('shifts by register counts (whole low quadword, 64+ clears) and by immediates, bytes included', () => {
    const { res, xmm } = run(`
      movdqa xmm0, [signs]
      psraw xmm0, 20
      movdqa xmm1, [signs]
      psrlq xmm1, [cnt64]
      movdqa xmm2, [signs]
      psllq xmm2, [cnt63]
      movdqa xmm3, [signs]
      psrad xmm3, [cntbig]
      movdqa xmm4, [seq]
      psrldq xmm4, 3
      movdqa xmm5, [seq]
      pslldq xmm5, 1
      movdqa xmm6, [seq]
      pslldq xmm6, 17
      movdqa xmm7, [seq]
      psllq xmm7, 4
      ${DATA_BLOCK}`);
    expect(res.exception).toBeNull();
    expect(xmm(0)).toBe('ffff0000ffff0000'.repeat(2));
    expect(xmm(1)).toBe('0'.repeat(32));
    expect(xmm(2)).toBe('8000000000000000'.repeat(2)); // the count is the low quadword only
    expect(xmm(3)).toBe('ffffffff'.repeat(4)); // a count of 2^32 sign-fills
    expect(xmm(4)).toBe('0000000f0e0d0c0b0a09080706050403');
    expect(xmm(5)).toBe('0e0d0c0b0a0908070605040302010000');
    expect(xmm(6)).toBe('0'.repeat(32));
    expect(xmm(7)).toBe('f0e0d0c0b0a09080' + '7060504030201000');
  });

  it('shuffles dwords and the low or high words', () => {
    const { res, xmm } = run(`
      pshufd xmm0, [seq], 0x1b
      pshuflw xmm1, [seq], 0x1b
      pshufhw xmm2, [seq], 0x00
      movdqa xmm3, [seq]
      pshufd xmm3, xmm3, 0x55
      ${DATA_BLOCK}`);
    expect(res.exception).toBeNull();
    expect(xmm(0)).toBe('03020100070605040b0a09080f0e0d0c');
    expect(xmm(1)).toBe('0f0e0d0c0b0a0908' + '0100030205040706');
    expect(xmm(2)).toBe('0908090809080908' + '0706050403020100');
    expect(xmm(3)).toBe('07060504'.repeat(4));
  });

  it('averages, minimum/maximum, PSADBW, compares and logic', () => {
    const { res, xmm } = run(`
      movdqa xmm0, [seq]
      pavgb xmm0, [ones]
      movdqa xmm1, [signs]
      pminsw xmm1, [seq]
      movdqa xmm2, [signs]
      pmaxub xmm2, [seq]
      movdqa xmm3, [seq]
      psadbw xmm3, [hi16]
      movdqa xmm4, [signs]
      pcmpgtw xmm4, [seq]
      movdqa xmm5, [seq]
      pandn xmm5, [ones]
      ${DATA_BLOCK}`);
    expect(res.exception).toBeNull();
    expect(xmm(0)).toBe('8787868685858484' + '8383828281818080');
    expect(xmm(1)).toBe('8000000180000001'.repeat(2));
    expect(xmm(2)).toBe('800e0d0c800a0908' + '8006050480020101');
    expect(xmm(3)).toBe('0000000000000080' + '0000000000000080');
    expect(xmm(4)).toBe('0'.repeat(32));
    expect(xmm(5)).toBe('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
  });

  it('needs 16-byte aligned memory operands: #GP(0), and the destination keeps its value', () => {
    const { res, xmm } = run(`
      movdqa xmm0, [seq]
      paddb xmm0, [${DATA + 8}]
      ${DATA_BLOCK}`);
    expect(res.exception).toBe(13);
    expect(res.errorCode).toBe(0);
    expect(xmm(0)).toBe('0f0e0d0c0b0a09080706050403020100');
  });

  it('PMOVMSKB, PEXTRW and PINSRW move between lanes and general registers', () => {
    const { res, regs, xmm } = run(`
      movdqa xmm0, [signs]
      pmovmskb eax, xmm0
      movdqa xmm1, [seq]
      pextrw ecx, xmm1, 9
      mov edx, 0xabcd1234
      pinsrw xmm1, edx, 7
      pinsrw xmm1, [${DATA + 1}], 0
      ${DATA_BLOCK}`);
    expect(res.exception).toBeNull();
    expect(regs.eax >>> 0).toBe(0x8888);
    expect(regs.ecx >>> 0).toBe(0x0302);
    expect(xmm(1)).toBe('12340d0c0b0a0908' + '0706050403020302');
  });
});

describe.skipIf(!nasmAvailable())('SSE and SSE2 integer instructions on MMX registers', () => {
  const tagsAllValid = (h: FlatHarness): boolean => {
    const s = h.cpu.fpu.save();
    return ((s.status >> 11) & 7) === 0 && [0, 1, 2, 3, 4, 5, 6, 7].every((i) => ((s.tag >> (2 * i)) & 3) !== 3);
  };

  it('compute on 8-byte lanes and enter MMX mode (TOP=0, tags valid)', () => {
    const { h, res, regs, mm } = run(`
      fninit
      movq mm0, [seq]
      pavgb mm0, [ones]
      movq mm1, [seq]
      psadbw mm1, [seq + 8]
      movq mm2, [seq]
      pshufw mm2, mm2, 0x1b
      movq mm3, [qa]
      paddq mm3, [qb]
      movq mm4, [ma]
      pmuludq mm4, [mb]
      movq mm5, [signs]
      pmovmskb eax, mm5
      pextrw ecx, mm2, 5
      pinsrw mm5, [${DATA + 1}], 6
      ${DATA_BLOCK}`);
    expect(res.exception).toBeNull();
    expect(mm(0)).toBe('8383828281818080');
    expect(mm(1)).toBe('0000000000000040');
    expect(mm(2)).toBe('0100030205040706');
    expect(mm(3)).toBe('0000000000000000');
    expect(mm(4)).toBe('fffffffe00000001');
    expect(mm(5)).toBe('8000030280000001');
    expect(regs.eax >>> 0).toBe(0x88);
    expect(regs.ecx >>> 0).toBe(0x0504);
    expect(tagsAllValid(h)).toBe(true);
  });

  it('need no CR4.OSFXSR and no alignment, but raise #UD with CR0.EM and #NM with CR0.TS', () => {
    const noFxsr = run(`pavgb mm0, [${DATA + 3}]`, () => {});
    expect(noFxsr.res.exception).toBeNull();
    expect(noFxsr.mm(0)).toBe('0605050404030302');
    expect(run('pavgb xmm0, xmm1', () => {}).res.exception).toBe(6);
    expect(run('pavgb mm0, mm1', (h) => (h.cpu.cr0 |= CR0_EM)).res.exception).toBe(6);
    expect(run('pavgb mm0, mm1', (h) => (h.cpu.cr0 |= CR0_TS)).res.exception).toBe(7);
    expect(run('psadbw mm0, mm1', (h) => (h.cpu.sse.enabled = false)).res.exception).toBe(6);
  });

  it('MOVNTQ and MASKMOVQ store (the latter only the selected bytes at DS:EDI); MOVQ2DQ/MOVDQ2Q cross files', () => {
    const { h, res, xmm, mm } = run(`
      movq mm0, [hi16]
      movq mm1, [signs]
      mov edi, ${DATA + 0x101}
      maskmovq mm0, mm1
      movntq [${DATA + 0x113}], mm0
      movq2dq xmm2, mm0
      movdqa xmm3, [seq]
      movdq2q mm3, xmm3
      ${DATA_BLOCK}`);
    expect(res.exception).toBeNull();
    // mask bytes 01 00 00 80 01 00 00 80: bytes 3 and 7 of mm0 (0x13, 0x17) are stored.
    expect([...h.readMemory(DATA + 0x101, 8)]).toEqual([0x02, 0x03, 0x04, 0x13, 0x06, 0x07, 0x08, 0x17]);
    expect([...h.readMemory(DATA + 0x113, 8)]).toEqual([16, 17, 18, 19, 20, 21, 22, 23]);
    expect(xmm(2)).toBe('0000000000000000' + '1716151413121110');
    expect(mm(3)).toBe('0706050403020100');
  });
});
