import { describe, expect, it } from 'vitest';
import { FPU_OUT_GPR, Fpu } from './fpu.js';
import { MEM_BASE, TestHost } from '../../test/support/cpu/fpu-oracle.js';
import { MmxAlu, isMmxOpcode } from './mmx.js';

/** Run one lane operation on 64-bit operands. */
function op(op2: number, d: bigint, s: bigint): bigint {
  const alu = new MmxAlu();
  alu.load(Number(d & 0xffffffffn), Number(d >> 32n), Number(s & 0xffffffffn), Number(s >> 32n));
  expect(alu.op(op2)).toBe(true);
  return (BigInt(alu.hi) << 32n) | BigInt(alu.lo);
}

function shiftImm(op2: number, d: bigint, count: number): bigint {
  const alu = new MmxAlu();
  alu.load(Number(d & 0xffffffffn), Number(d >> 32n), 0, 0);
  alu.shift(op2, count);
  return (BigInt(alu.hi) << 32n) | BigInt(alu.lo);
}

describe('MMX lane operations', () => {
  it('saturating adds and subtracts clamp at the lane limits', () => {
    expect(op(0xec, 0x7f80017f80017f80n, 0x01ff010180ff0101n)).toBe(0x7f80027f80007f81n); // PADDSB
    expect(op(0xed, 0x7fff800000017fffn, 0x0001ffff00010000n)).toBe(0x7fff800000027fffn); // PADDSW
    expect(op(0xdc, 0xff01fe0000000000n, 0x01ff010000000000n)).toBe(0xffffff0000000000n); // PADDUSB
    expect(op(0xdd, 0xffff000100000000n, 0x0001000200000000n)).toBe(0xffff000300000000n); // PADDUSW
    expect(op(0xe8, 0x807f000000000000n, 0x01ff000000000000n)).toBe(0x807f000000000000n); // PSUBSB
    expect(op(0xe9, 0x80007fff00000000n, 0x0001ffff00000000n)).toBe(0x80007fff00000000n); // PSUBSW
    expect(op(0xd8, 0x0110000000000000n, 0x0220000000000000n)).toBe(0n); // PSUBUSB
    expect(op(0xd9, 0x0001ffff00000000n, 0x0002000100000000n)).toBe(0x0000fffe00000000n); // PSUBUSW
  });

  it('wrapping adds and subtracts', () => {
    expect(op(0xfc, 0xff00000000000000n, 0x0101000000000000n)).toBe(0x0001000000000000n);
    expect(op(0xfe, 0xffffffff00000001n, 0x0000000100000001n)).toBe(0x0000000000000002n);
    expect(op(0xfa, 0n, 1n)).toBe(0x00000000ffffffffn);
  });

  it('packs saturate signed words/dwords to bytes/words', () => {
    // dst words (low to high): 0x7fff, 0x8000, 0x0080, 0xff7f -> 7f 80 7f 80; src: 1, -1, 0, 0
    expect(op(0x63, 0xff7f008080007fffn, 0x000000000000ffff_0001n & 0xffffffffffffffffn)).toBe(0x0000ff01807f807fn);
    // PACKUSWB: negative -> 0, > 255 -> 255
    expect(op(0x67, 0x0100ffff00ff0080n, 0n)).toBe(0x00000000ff00ff80n);
    // PACKSSDW
    expect(op(0x6b, 0x8000000000010000n, 0x0000000100007fffn)).toBe(0x00017fff80007fffn);
  });

  it('unpacks interleave the low or high halves', () => {
    expect(op(0x60, 0x0706050403020100n, 0x1716151413121110n)).toBe(0x1303120211011000n);
    expect(op(0x68, 0x0706050403020100n, 0x1716151413121110n)).toBe(0x1707160615051404n);
    expect(op(0x61, 0x0706050403020100n, 0x1716151413121110n)).toBe(0x1312030211100100n);
    expect(op(0x6a, 0x0706050403020100n, 0x1716151413121110n)).toBe(0x1716151407060504n);
  });

  it('compares produce all-ones lanes', () => {
    expect(op(0x64, 0x7f00ff0000000000n, 0x80ff000000000000n)).toBe(0xffff000000000000n); // PCMPGTB signed
    expect(op(0x76, 0x1234567800000000n, 0x1234567800000001n)).toBe(0xffffffff00000000n);
  });

  it('multiplies: PMULLW, PMULHW, PMADDWD (0x8000^2 * 2 wraps)', () => {
    expect(op(0xd5, 0x00000000ffff7fffn, 0x00000000ffff0002n)).toBe(0x000000000001fffen);
    expect(op(0xe5, 0x00000000ffff7fffn, 0x00000000ffff7fffn)).toBe(0x0000000000003fffn);
    expect(op(0xf5, 0x0000000080008000n, 0x0000000080008000n)).toBe(0x0000000080000000n);
  });

  it('logic', () => {
    expect(op(0xdf, 0xff00ff00ff00ff00n, 0xffffffff00000000n)).toBe(0x00ff00ff00000000n); // PANDN
    expect(op(0xef, 0xffn, 0x0fn)).toBe(0xf0n);
  });

  it('shifts clear (or sign-fill) past the lane width, by register and by immediate', () => {
    expect(op(0xd1, 0x8000800080008000n, 15n)).toBe(0x0001000100010001n);
    expect(op(0xd1, 0x8000800080008000n, 16n)).toBe(0n);
    expect(op(0xe1, 0x8000800080008000n, 1n << 40n)).toBe(0xffffffffffffffffn);
    expect(op(0xf3, 1n, 63n)).toBe(1n << 63n);
    expect(op(0xf3, 1n, 64n)).toBe(0n);
    expect(shiftImm(0xd3, 0x8000000000000000n, 33)).toBe(0x40000000n);
    expect(shiftImm(0xe2, 0x8000000080000000n, 200)).toBe(0xffffffffffffffffn);
  });

  it('knows its opcodes', () => {
    expect(isMmxOpcode(0xef)).toBe(true);
    expect(isMmxOpcode(0xd4)).toBe(false); // PADDQ is SSE2
  });
});

describe('MMX state in the x87 register file', () => {
  function setup(): { fpu: Fpu; mem: Uint8Array; dv: DataView } {
    const mem = new Uint8Array(64);
    const fpu = new Fpu(new TestHost(mem));
    fpu.init();
    return { fpu, mem, dv: new DataView(mem.buffer) };
  }

  it('writes alias R0-R7 with exponent 0xFFFF; TOP=0 and tags valid; EMMS empties', () => {
    const { fpu, dv } = setup();
    fpu.exec(0xd9, 0xe8, 0, { ip: 0, cs: 0, dp: 0, ds: 0, operand32: true, realMode: false }, 0); // FLD1 (TOP=7)
    dv.setBigUint64(0, 0x1122334455667788n, true);
    fpu.execMmx(0x6f, (3 << 3) | 1, MEM_BASE); // MOVQ mm3, [m]
    const s = fpu.save();
    expect(s.regs[3]).toBe('ffff1122334455667788');
    expect((s.status >> 11) & 7).toBe(0);
    // Nothing empty; tags follow the contents: R3 (exponent 0xFFFF) special, R7 = 1.0 valid,
    // the others +0.0 from power-on.
    expect(s.tag).toBe(0x1595);
    expect(fpu.mmxRegister(3)).toBe(0x1122334455667788n);
    fpu.execMmx(0x77, 0, 0); // EMMS
    expect(fpu.save().tag).toBe(0xffff);
  });

  it('MOVD moves 32 bits to and from a general register through the result channel', () => {
    const { fpu } = setup();
    fpu.execMmx(0x6e, 0xc0 | (2 << 3), 0, 0, 0xdeadbeef); // MOVD mm2, eax
    expect(fpu.mmxRegister(2)).toBe(0xdeadbeefn);
    expect(fpu.execMmx(0x7e, 0xc0 | (2 << 3) | 5, 0)).toBe(FPU_OUT_GPR); // MOVD ebp, mm2
    expect(fpu.out.gprLo >>> 0).toBe(0xdeadbeef);
    fpu.execMmx(0x6e, 0xc0 | (1 << 3), 0, 0, 0x1, 0x2, true); // MOVQ mm1, rax (REX.W)
    expect(fpu.mmxRegister(1)).toBe(0x200000001n);
  });

  it('PUNPCKL* read only 32 bits of memory; shift groups need a register operand', () => {
    const { fpu, dv } = setup();
    dv.setUint32(60, 0xaabbccdd, true); // the last 4 bytes: an 8-byte read would fault
    fpu.execMmx(0x62, (0 << 3) | 1, MEM_BASE + 60);
    expect(fpu.mmxRegister(0)).toBe(0xaabbccdd00000000n);
    expect(() => fpu.execMmx(0x71, (2 << 3) | 1, MEM_BASE, 1)).toThrow('#UD');
    expect(() => fpu.execMmx(0x73, 0xc0 | (3 << 3), 0, 1)).toThrow('#UD'); // PSRLDQ is SSE2 only
  });

  it('a pending x87 exception is reported before an MMX instruction', () => {
    const mem = new Uint8Array(16);
    const host = new TestHost(mem);
    const fpu = new Fpu(host);
    fpu.init();
    mem[0] = 0x7e;
    mem[1] = 0x03;
    const info = { ip: 0, cs: 0, dp: 0, ds: 0, operand32: true, realMode: false };
    fpu.exec(0xd9, (5 << 3) | 1, MEM_BASE, info, 0); // FLDCW: IE unmasked
    fpu.exec(0xd9, 0xe4, 0, info, 0); // FTST on an empty stack
    expect(() => fpu.execMmx(0xef, 0xc0, 0)).toThrow('#MF');
  });
});
