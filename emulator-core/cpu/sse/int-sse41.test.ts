import { describe, expect, it } from 'vitest';
import { FlatHarness } from '../../../test/support/cpu/flat-harness.js';
import { assemble, nasmAvailable } from '../../../test/support/nasm.js';
import { CF, CR4_OSFXSR, OF, PF, SF, ZF } from '../constants.js';

const CODE = 0x1000;
const DATA = 0x100000;
/** Bytes at DATA: a pattern with every sign and magnitude of byte, word and dword. */
const BYTES = Uint8Array.from({ length: 64 }, (_, i) => (i * 0x2d + 0x81) & 0xff);

function run(src: string) {
  const h = new FlatHarness();
  h.cpu.sse.enabled = true;
  h.cpu.cr4 |= CR4_OSFXSR;
  const code = assemble(src + '\nend_marker:', 32, CODE);
  h.writeMemory(CODE, code);
  h.writeMemory(DATA, BYTES);
  h.setRegs({ esp: 0x80000, eip: CODE, eflags: 0x202 | OF | SF | PF });
  const res = h.run(CODE + code.length);
  return { h, res, regs: h.getRegs() };
}

function xmm(h: FlatHarness, r: number): number[] {
  return [...h.cpu.sse.x.u8.subarray(r * 16, r * 16 + 16)];
}

/** Little-endian elements of `size` bytes (signed or not) from `b`. */
function elems(b: ArrayLike<number>, size: number, signed: boolean, count: number, at = 0): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[at + i * size + k]!);
    out.push(signed ? BigInt.asIntN(size * 8, v) : v);
  }
  return out;
}

describe.skipIf(!nasmAvailable())('SSE4.1 integer instructions', () => {
  it('PMOVSX/PMOVZX extend every element width from memory and from a register, in place too', () => {
    const forms = [
      ['bw', 1, 2],
      ['bd', 1, 4],
      ['bq', 1, 8],
      ['wd', 2, 4],
      ['wq', 2, 8],
      ['dq', 4, 8],
    ] as const;
    for (const [name, from, to] of forms) {
      for (const sx of [true, false]) {
        const mn = `pmov${sx ? 'sx' : 'zx'}${name}`;
        // Unaligned memory (DATA + 3); a register source; the register extended into itself.
        const { h, res } = run(`
          ${mn} xmm1, [${DATA + 3}]
          movdqu xmm2, [${DATA + 3}]
          ${mn} xmm3, xmm2
          ${mn} xmm2, xmm2`);
        expect(res.exception).toBeNull();
        const count = 16 / to;
        const want = elems(BYTES, from, sx, count, 3).map((v) => BigInt.asUintN(to * 8, v));
        for (const r of [1, 3, 2]) expect(elems(xmm(h, r), to, false, count), `${mn} xmm${r}`).toEqual(want);
      }
    }
  });

  it('PMULDQ multiplies signed dwords 0 and 2 into quadwords; PMULLD keeps each low dword', () => {
    const { h, res } = run(`
      movdqu xmm0, [a]
      movdqu xmm1, [b]
      movdqa xmm2, xmm0
      pmuldq xmm0, xmm1
      pmulld xmm2, [b]
      jmp end_marker
      align 16
    a: dd -7, 5, 0x7fffffff, 9
    b: dd 0x12345678, 3, -0x80000000, 11`);
    expect(res.exception).toBeNull();
    expect(elems(xmm(h, 0), 8, true, 2)).toEqual([-7n * 0x12345678n, 0x7fffffffn * -0x80000000n]);
    const lo = (v: bigint): bigint => BigInt.asUintN(32, v);
    expect(elems(xmm(h, 2), 4, false, 4)).toEqual([lo(-7n * 0x12345678n), 15n, lo(0x7fffffffn * -0x80000000n), 99n]);
  });

  it('PCMPEQQ, PACKUSDW saturate and compare whole lanes', () => {
    const { h, res } = run(`
      movdqu xmm0, [a]
      movdqu xmm1, [b]
      pcmpeqq xmm0, xmm1
      movdqu xmm2, [c]
      packusdw xmm2, [d]
      jmp end_marker
      align 16
    a: dq 0x1122334455667788, 0x1122334455667788
    b: dq 0x1122334455667788, 0x1122334455667789
    c: dd -1, 0x10000, 0xffff, 0x7fffffff
    d: dd 0, 1, -0x80000000, 0x1234`);
    expect(res.exception).toBeNull();
    expect(elems(xmm(h, 0), 8, true, 2)).toEqual([-1n, 0n]);
    expect(elems(xmm(h, 2), 2, false, 8)).toEqual([0n, 0xffffn, 0xffffn, 0xffffn, 0n, 1n, 0n, 0x1234n]);
  });

  it('PMINSB/PMINSD/PMINUW/PMINUD/PMAXSB/PMAXSD/PMAXUW/PMAXUD pick per lane with the right signedness', () => {
    const ops = [
      ['pminsb', 1, true, false],
      ['pminsd', 4, true, false],
      ['pminuw', 2, false, false],
      ['pminud', 4, false, false],
      ['pmaxsb', 1, true, true],
      ['pmaxsd', 4, true, true],
      ['pmaxuw', 2, false, true],
      ['pmaxud', 4, false, true],
    ] as const;
    for (const [mn, size, signed, max] of ops) {
      const { h, res } = run(`
        movdqu xmm4, [${DATA}]
        ${mn} xmm4, [${DATA + 16}]`);
      expect(res.exception).toBeNull();
      const n = 16 / size;
      const a = elems(BYTES, size, signed, n, 0);
      const b = elems(BYTES, size, signed, n, 16);
      const want = a.map((v, i) => BigInt.asUintN(size * 8, (max ? v > b[i]! : v < b[i]!) ? v : b[i]!));
      expect(elems(xmm(h, 4), size, false, n), mn).toEqual(want);
    }
  });

  it('PTEST sets ZF and CF from AND and ANDN and clears the other arithmetic flags', () => {
    const cases = [
      // dest, src, ZF, CF
      ['dq 0xff00, 0', 'dq 0x00ff, 0', true, false],
      ['dq 0xff00, 0', 'dq 0x0f00, 0', false, true],
      ['dq 0, 1', 'dq 0, 1', false, true],
      ['dq 0, 0', 'dq 0, 0', true, true],
      ['dq -1, 0', 'dq 0, 1 << 63', true, false],
    ] as const;
    for (const [dst, src, zf, cf] of cases) {
      const { regs, res } = run(`
        movdqu xmm0, [a]
        ptest xmm0, [b]
        jmp end_marker
        align 16
      a: ${dst}
      b: ${src}`);
      expect(res.exception).toBeNull();
      expect(regs.eflags & (CF | PF | 0x10 | ZF | SF | OF), `${dst} / ${src}`).toBe((zf ? ZF : 0) | (cf ? CF : 0));
    }
  });

  it('PHMINPOSUW finds the smallest unsigned word, the first on ties, and zeroes the rest', () => {
    const { h, res } = run(`
      movdqu xmm5, [a]
      movdqu xmm6, [b]
      phminposuw xmm5, xmm5
      phminposuw xmm6, [b]
      jmp end_marker
      align 16
    a: dw 0x8000, 0x7fff, 0xffff, 0x0300, 0x0200, 0x0200, 0x9000, 0x0201
    b: dw 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff`);
    expect(res.exception).toBeNull();
    expect(elems(xmm(h, 5), 2, false, 8)).toEqual([0x200n, 4n, 0n, 0n, 0n, 0n, 0n, 0n]);
    expect(elems(xmm(h, 6), 2, false, 8)).toEqual([0xffffn, 0n, 0n, 0n, 0n, 0n, 0n, 0n]);
  });

  it('MPSADBW sums absolute byte differences for every block selection in imm8', () => {
    for (let imm = 0; imm < 8; imm++) {
      const { h, res } = run(`
        movdqu xmm1, [${DATA}]
        mpsadbw xmm1, [${DATA + 32}], ${imm | 0xf8}`);
      expect(res.exception).toBeNull();
      const want: bigint[] = [];
      for (let i = 0; i < 8; i++) {
        let sum = 0;
        for (let j = 0; j < 4; j++) sum += Math.abs(BYTES[(imm & 4) + i + j]! - BYTES[32 + (imm & 3) * 4 + j]!);
        want.push(BigInt(sum));
      }
      expect(elems(xmm(h, 1), 2, false, 8), `imm ${imm}`).toEqual(want);
    }
  });

  it('16-byte memory operands must be aligned (#GP(0)), the narrower PMOVSX sources need not be', () => {
    for (const insn of ['pminsb xmm0, [ebx]', 'pmulld xmm0, [ebx]', 'ptest xmm0, [ebx]', 'mpsadbw xmm0, [ebx], 1', 'phminposuw xmm0, [ebx]']) {
      const { res, h } = run(`mov ebx, ${DATA + 4}\nmovdqu xmm0, [${DATA}]\n${insn}`);
      expect(res.exception, insn).toBe(13);
      expect(res.errorCode, insn).toBe(0);
      expect(xmm(h, 0), insn).toEqual([...BYTES.subarray(0, 16)]);
    }
    expect(run(`pmovsxbw xmm0, [${DATA + 1}]`).res.exception).toBeNull();
  });
});
