import { describe, expect, it } from 'vitest';
import { FlatHarness } from '../../test/support/cpu/flat-harness.js';
import { assemble, nasmAvailable } from '../../test/support/nasm.js';

const CODE = 0x1000;
const DATA = 0x100000;

function runAsm(src: string, regs: Partial<Record<string, number>> = {}) {
  const h = new FlatHarness();
  const code = assemble(src + '\nend_marker:', 32, CODE);
  h.writeMemory(CODE, code);
  h.setRegs({ esp: 0x80000, eip: CODE, eflags: 0x202, ...regs });
  const res = h.run(CODE + code.length);
  return { h, res, regs: h.getRegs() };
}

describe.skipIf(!nasmAvailable())('software CPU basics', () => {
  if (!nasmAvailable()) console.warn('nasm not installed: CPU basic tests skipped');

  it('sums 1..100 in a loop', () => {
    const { regs, res } = runAsm(`
      xor eax, eax
      mov ecx, 100
    again:
      add eax, ecx
      loop again`);
    expect(res.exception).toBeNull();
    expect(regs.eax).toBe(5050);
  });

  it('copies a string with rep movsb and compares it with repe cmpsb', () => {
    const { h, regs } = runAsm(`
      mov esi, src
      mov edi, ${DATA}
      mov ecx, len
      cld
      rep movsb
      mov esi, src
      mov edi, ${DATA}
      mov ecx, len
      repe cmpsb
      setz bl
      jmp end_marker
    src: db "hello, terrarium"
    len equ $ - src`);
    expect(Buffer.from(h.readMemory(DATA, 16)).toString()).toBe('hello, terrarium');
    expect(regs.ebx & 0xff).toBe(1);
    expect(regs.ecx).toBe(0);
  });

  it('reports #DE on division by zero with EIP at the faulting instruction', () => {
    const { res, regs } = runAsm(`
      mov eax, 1
      xor ecx, ecx
    fault:
      div ecx`);
    expect(res.exception).toBe(0);
    expect(regs.eip).toBe(CODE + 7);
  });

  it('computes a 64-bit product and quotient exactly', () => {
    const { regs } = runAsm(`
      mov eax, 0xfedcba98
      mov ecx, 0x87654321
      mul ecx
      mov esi, eax
      mov edi, edx
      mov ecx, 0x87654321
      div ecx`);
    // 0xfedcba98 * 0x87654321 = 0x86cb3650_6541d598 (hi:lo)
    expect(regs.edi).toBe(0x86cb3650);
    expect(regs.esi).toBe(0x6541d598);
    expect(regs.eax).toBe(0xfedcba98);
    expect(regs.edx).toBe(0);
  });

  it('raises #GP for a privileged instruction at CPL 3', () => {
    const { res } = runAsm('cli');
    expect(res.exception).toBe(13);
    expect(res.errorCode).toBe(0);
  });
});
