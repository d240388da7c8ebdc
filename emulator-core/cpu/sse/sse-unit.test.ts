import { describe, expect, it } from 'vitest';
import { FlatHarness } from '../../../test/support/cpu/flat-harness.js';
import { assemble, nasmAvailable } from '../../../test/support/nasm.js';
import { CR0_TS, CR4_OSFXSR } from '../constants.js';

const CODE = 0x1000;
const DATA = 0x100000;

function run(src: string, setup: (h: FlatHarness) => void = (h) => (h.cpu.cr4 |= CR4_OSFXSR)) {
  const h = new FlatHarness();
  h.cpu.sse.enabled = true;
  setup(h);
  const code = assemble(src + '\nend_marker:', 32, CODE);
  h.writeMemory(CODE, code);
  h.writeMemory(DATA, Uint8Array.from({ length: 64 }, (_, i) => i + 1));
  h.setRegs({ esp: 0x80000, eip: CODE, eflags: 0x202 });
  const res = h.run(CODE + code.length);
  return { h, res, regs: h.getRegs() };
}

describe.skipIf(!nasmAvailable())('SSE unit (16/32-bit code)', () => {
  it('moves 128 bits through XMM registers and stores them aligned and unaligned', () => {
    const { h, res, regs } = run(`
      movdqu xmm0, [${DATA + 1}]
      movaps [${DATA + 0x40}], xmm0
      pxor xmm1, xmm1
      movd eax, xmm0
      movq xmm2, [${DATA}]
      movdqu [${DATA + 0x51}], xmm2`);
    expect(res.exception).toBeNull();
    expect([...h.readMemory(DATA + 0x40, 16)]).toEqual(Array.from({ length: 16 }, (_, i) => i + 2));
    expect(regs.eax >>> 0).toBe(0x05040302);
    expect([...h.readMemory(DATA + 0x51, 16)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(h.cpu.sse.x.u32[4]).toBe(0);
  });

  it('raises #GP(0) for a misaligned MOVAPS and leaves the destination alone', () => {
    const { res } = run(`movaps xmm0, [${DATA + 8}]`);
    expect(res.exception).toBe(13);
  });

  it('raises #UD without CR4.OSFXSR and #NM with CR0.TS, in that order', () => {
    expect(run('pxor xmm0, xmm0', () => {}).res.exception).toBe(6);
    expect(run('pxor xmm0, xmm0', (h) => (h.cpu.cr0 |= CR0_TS)).res.exception).toBe(6);
    expect(run('pxor xmm0, xmm0', (h) => ((h.cpu.cr4 |= CR4_OSFXSR), (h.cpu.cr0 |= CR0_TS))).res.exception).toBe(7);
  });

  it('keeps the pre-SSE meaning while SSE is not advertised', () => {
    const { res } = run('movaps xmm0, [0x100000]', (h) => {
      h.cpu.sse.enabled = false;
      h.cpu.cr4 |= CR4_OSFXSR;
    });
    expect(res.exception).toBe(6);
  });

  it('FXSAVE/FXRSTOR round-trip x87, MXCSR and XMM state', () => {
    const { h, res } = run(`
      fninit
      fld1
      fldpi
      movdqu xmm7, [${DATA}]
      ldmxcsr [mx]
      fxsave [${DATA + 0x200}]
      fninit
      pxor xmm7, xmm7
      fxrstor [${DATA + 0x200}]
      stmxcsr [${DATA + 0x100}]
      fstp qword [${DATA + 0x108}]
      jmp end_marker
      align 4
    mx: dd 0x3f80`);
    expect(res.exception).toBeNull();
    const img = h.readMemory(DATA + 0x200, 512);
    const v = new DataView(img.buffer, img.byteOffset);
    expect(v.getUint16(0, true)).toBe(0x037f); // FCW
    expect((v.getUint16(2, true) >> 11) & 7).toBe(6); // TOP after two loads
    expect(img[4]).toBe(0xc0); // abridged tags: R6, R7 in use
    expect(v.getUint32(24, true)).toBe(0x3f80);
    expect([...img.subarray(160 + 7 * 16, 160 + 8 * 16)]).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(h.cpu.sse.x.u8[7 * 16 + 15]).toBe(16);
    const after = h.readMemory(DATA + 0x100, 16);
    const w = new DataView(after.buffer, after.byteOffset);
    expect(w.getUint32(0, true)).toBe(0x3f80);
    expect(w.getFloat64(8, true)).toBeCloseTo(Math.PI, 15);
  });

  it('refuses reserved MXCSR bits with #GP(0)', () => {
    const { res } = run(`ldmxcsr [mx]
      jmp end_marker
      align 4
    mx: dd 0x10000`);
    expect(res.exception).toBe(13);
  });
});
