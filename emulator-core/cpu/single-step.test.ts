import { describe, expect, it } from 'vitest';
import { FlatHarness } from '../../test/support/cpu/flat-harness.js';
import { assemble, nasmAvailable } from '../../test/support/nasm.js';
import { run } from './interpreter.js';
import { Jit } from './jit/jit.js';
import { CR0_PE } from './constants.js';

/**
 * TF single-stepping: with a #DB handler that counts traps, a guest that sets TF and runs N
 * instructions sees one trap per instruction, under the interpreter and under the JIT.
 */
function guest(): string {
  // Real mode: IVT entry 1 -> handler that increments BX and returns.
  return `
    bits 16
    org 0x7c00
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [4], handler
    mov word [6], 0
    xor bx, bx
    pushf
    pop ax
    or ax, 0x100
    push ax
    popf            ; TF on: the next instructions each trap
    mov cx, 5
  again:
    dec cx
    jnz again       ; 2 instructions x 5 + the mov = 11 traps
    pushf
    pop ax
    and ax, 0xfeff
    push ax
    popf            ; TF off after this one (it still traps: TF was set when it began)
    cli
    hlt
  handler:
    inc bx
    iret`;
}

describe.skipIf(!nasmAvailable())('TF single-step traps', () => {
  for (const engine of ['interpreter', 'jit'] as const) {
    it(`traps after every instruction under the ${engine}`, () => {
      const h = new FlatHarness({ mode: 'real16' });
      const code = assemble(guest(), 16, 0x7c00);
      h.writeMemory(0x7c00, code);
      const c = h.cpu;
      expect(c.cr0 & CR0_PE).toBe(0);
      c.loadRealSegmentRaw(1, 0, 0xffff, c.segAccess[1]);
      c.setEip(0x7c00);
      const jit = engine === 'jit' ? new Jit(c, { background: false }) : null;
      for (let i = 0; i < 100 && !c.halted; i++) {
        if (jit !== null) jit.run(1000);
        else run(c, 1000);
      }
      expect(c.halted).toBe(true);
      // mov cx + 5x(dec, jnz) + pushf, pop, and, push, popf = 16 traps.
      expect(c.r16[6]).toBe(16);
      expect(c.dr[6] & 0x4000).not.toBe(0);
    });
  }
});
