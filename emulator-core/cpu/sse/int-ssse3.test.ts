import { describe, expect, it } from 'vitest';
import { FlatHarness } from '../../../test/support/cpu/flat-harness.js';
import { assemble, nasmAvailable } from '../../../test/support/nasm.js';
import { CR4_OSFXSR } from '../constants.js';
import { X87Unit } from '../x87.js';

const CODE = 0x1000;

function run(src: string, setup: (h: FlatHarness) => void = (h) => (h.cpu.cr4 |= CR4_OSFXSR)) {
  const h = new FlatHarness();
  h.cpu.sse.enabled = true;
  setup(h);
  const code = assemble(`${src}\n${DATA_BLOCK}\nend_marker:`, 32, CODE);
  h.writeMemory(CODE, code);
  h.setRegs({ esp: 0x80000, eip: CODE, eflags: 0x202 });
  const res = h.run(CODE + code.length);
  const mm = (r: number): string => {
    const f = h.cpu.fpu;
    if (!(f instanceof X87Unit)) throw new Error('no x87 unit');
    return f.fpu.mmxRegister(r).toString(16).padStart(16, '0');
  };
  return { res, xmm: (r: number) => h.cpu.sse.x.hex(r), mm };
}

const DATA_BLOCK = `
      jmp end_marker
      align 16
    seq: db 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    hi16: db 16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ctl: db 0x80,0x0f,0x01,0x8f,0x10,0x23,0x7f,0x05, 0,0,0,0,0,0,0,0x0e
    w8000: times 8 dw 0x8000
    w4000: times 8 dw 0x4000
    sat: dw 0x7fff, 1, 0x8000, 0xffff, 1, 2, 0x7fff, 0x7fff
    mb: db 0x7f,0x7f,0x80,0x80,1,0xff,0,0, 0x7f,0x7f,0x80,0x80,1,0xff,0,0
    ones: times 16 db 0xff`;

describe.skipIf(!nasmAvailable())('SSSE3 (XMM and MMX forms)', () => {
  it('PSHUFB zeroes bytes whose control has bit 7 and indexes with the low 4 (XMM) or 3 (MMX) bits', () => {
    const { res, xmm, mm } = run(`
      movdqa xmm0, [seq]
      pshufb xmm0, [ctl]
      movq mm0, [seq]
      pshufb mm0, [ctl]`);
    expect(res.exception).toBeNull();
    expect(xmm(0)).toBe('0e00000000000000' + '050f030000010f00');
    expect(mm(0)).toBe('0507030000010700');
  });

  it('PALIGNR shifts the destination:source pair right by bytes, zeros beyond both', () => {
    const { res, xmm, mm } = run(`
      movdqa xmm1, [seq]
      palignr xmm1, [hi16], 5
      movdqa xmm2, [seq]
      palignr xmm2, [hi16], 20
      movdqa xmm3, [seq]
      palignr xmm3, [hi16], 32
      movq mm1, [seq]
      movq mm2, [hi16]
      palignr mm1, mm2, 3`);
    expect(res.exception).toBeNull();
    expect(xmm(1)).toBe('04030201001f1e1d1c1b1a1918171615');
    expect(xmm(2)).toBe('000000000f0e0d0c0b0a090807060504');
    expect(xmm(3)).toBe('0'.repeat(32));
    expect(mm(1)).toBe('0201001716151413');
  });

  it('horizontal adds/subtracts wrap or saturate; PMADDUBSW saturates the pair sums', () => {
    const { res, xmm } = run(`
      movdqa xmm0, [sat]
      phaddsw xmm0, xmm0
      movdqa xmm1, [sat]
      phsubw xmm1, xmm1
      movdqa xmm2, [ones]
      pmaddubsw xmm2, [mb]
      movdqa xmm3, [sat]
      phaddd xmm3, [seq]`);
    expect(res.exception).toBeNull();
    expect(xmm(0)).toBe('7fff000380007fff'.repeat(2));
    expect(xmm(1)).toBe('0000ffff80017ffe'.repeat(2));
    expect(xmm(2)).toBe('0000000080007fff'.repeat(2));
    // sat dwords 0x00017fff, 0xffff8000, 0x00020001, 0x7fff7fff; seq dwords 0x03020100...
    expect(xmm(3)).toBe('1a1816140a080604' + '800180000000ffff');
  });

  it('PSIGN, PABS and PMULHRSW at the sign boundaries (0x80, 0x8000, 0x8000^2 rounds to 0x8000)', () => {
    const { res, xmm, mm } = run(`
      movdqa xmm0, [hi16]
      psignb xmm0, [mb]
      pabsb xmm1, [mb]
      pabsd xmm2, [w8000]
      movdqa xmm3, [w8000]
      pmulhrsw xmm3, xmm3
      movdqa xmm4, [w4000]
      pmulhrsw xmm4, [w4000]
      pabsw mm3, [w8000]`);
    expect(res.exception).toBeNull();
    expect(xmm(0)).toBe('0000e31ce5e61918' + '0000eb14edee1110');
    expect(xmm(1)).toBe('0000010180807f7f'.repeat(2));
    expect(xmm(2)).toBe('7fff8000'.repeat(4));
    expect(xmm(3)).toBe('8000'.repeat(8));
    expect(xmm(4)).toBe('2000'.repeat(8));
    expect(mm(3)).toBe('8000'.repeat(4));
  });

  it('XMM forms need aligned memory and CR4.OSFXSR; MMX forms need neither', () => {
    expect(run('pshufb xmm0, [seq + 1]').res.exception).toBe(13);
    expect(run('pshufb xmm0, xmm1', () => {}).res.exception).toBe(6);
    const mmx = run('movq mm0, [seq]\npalignr mm0, [seq + 1], 1', () => {});
    expect(mmx.res.exception).toBeNull();
    expect(mmx.mm(0)).toBe('0008070605040302');
  });
});
