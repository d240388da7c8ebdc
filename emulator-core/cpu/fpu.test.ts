import { describe, expect, it } from 'vitest';
import type { FpuInstructionInfo } from './fpu-host.js';
import { FPU_OUT_AX, FPU_OUT_EFLAGS, Fpu } from './fpu.js';
import { MEM_BASE, TestHost } from '../../test/support/cpu/fpu-oracle.js';

const PM32: FpuInstructionInfo = { ip: 0x1234, cs: 0x08, dp: 0x5678, ds: 0x10, operand32: true, realMode: false };
const M = MEM_BASE;

/** A unit over 256 bytes of memory at MEM_BASE. */
function setup(): { fpu: Fpu; host: TestHost; mem: Uint8Array; dv: DataView } {
  const mem = new Uint8Array(256);
  const host = new TestHost(mem);
  const fpu = new Fpu(host);
  fpu.init();
  return { fpu, host, mem, dv: new DataView(mem.buffer) };
}

/** ModRM for a memory operand with reg field `reg` (the address is passed separately). */
const mrm = (reg: number): number => (reg << 3) | 1;

function st(fpu: Fpu, i: number): string {
  const s = fpu.save();
  const top = (s.status >> 11) & 7;
  const r = s.regs[(top + i) & 7];
  return `${r.slice(0, 4)}:${r.slice(4)}`;
}

function fld64(f: { fpu: Fpu; dv: DataView }, x: number, at = 0x80): void {
  f.dv.setFloat64(at, x, true);
  f.fpu.exec(0xdd, mrm(0), M + at, PM32, 0);
}

describe('Fpu state and API', () => {
  it('power-on state: CW=0040h, TW=5555h (all +0.0), SW=0', () => {
    const fpu = new Fpu(new TestHost(new Uint8Array(16)));
    const s = fpu.save();
    expect(s.control).toBe(0x40);
    expect(s.status).toBe(0);
    expect(s.tag).toBe(0x5555);
    fpu.init();
    expect(fpu.save().control).toBe(0x37f);
    expect(fpu.save().tag).toBe(0xffff);
  });

  it('FNSTSW AX returns AX through the result channel', () => {
    const { fpu } = setup();
    fpu.exec(0xd9, 0xe8, 0, PM32, 0); // FLD1
    expect(fpu.exec(0xdf, 0xe0, 0, PM32, 0)).toBe(FPU_OUT_AX);
    expect(fpu.out.ax).toBe(0x3800);
  });

  it('FCOMI/FUCOMIP return the new EFLAGS (ZF/PF/CF set, OF/SF/AF cleared)', () => {
    const f = setup();
    fld64(f, 2);
    fld64(f, 1);
    expect(f.fpu.exec(0xdb, 0xf1, 0, PM32, 0x8d7)).toBe(FPU_OUT_EFLAGS);
    expect(f.fpu.out.eflags).toBe(0x003); // 1 < 2: CF; bit 1 kept
    expect(f.fpu.exec(0xdf, 0xe9, 0, PM32, 0x202)).toBe(FPU_OUT_EFLAGS); // FUCOMIP
    expect(f.fpu.out.eflags).toBe(0x203);
    expect((f.fpu.statusWord >> 11) & 7).toBe(7); // popped once
  });

  it('FCMOVcc reads the EFLAGS the CPU passes', () => {
    const f = setup();
    fld64(f, 5);
    fld64(f, 7);
    f.fpu.exec(0xda, 0xc1, 0, PM32, 0x202); // FCMOVB, CF=0: no move
    expect(st(f.fpu, 0)).toBe('4001:e000000000000000');
    f.fpu.exec(0xda, 0xc1, 0, PM32, 0x203); // CF=1: move
    expect(st(f.fpu, 0)).toBe('4001:a000000000000000');
  });

  it('stack overflow: masked response pushes the real indefinite with IE|SF|C1', () => {
    const { fpu } = setup();
    for (let i = 0; i < 8; i++) fpu.exec(0xd9, 0xe8, 0, PM32, 0);
    fpu.exec(0xd9, 0xeb, 0, PM32, 0); // FLDPI onto a full stack
    expect(st(fpu, 0)).toBe('ffff:c000000000000000');
    expect(fpu.statusWord & 0x2ff).toBe(0x241); // C1, SF, IE
  });

  it('unmasked exceptions set ES/B, leave the destination, and trap on the next waiting instruction', () => {
    const f = setup();
    f.dv.setUint16(0, 0x37e, true);
    f.fpu.exec(0xd9, mrm(5), M, PM32, 0); // FLDCW: unmask IE
    fld64(f, Infinity);
    fld64(f, Infinity);
    f.fpu.exec(0xde, 0xe9, 0, PM32, 0); // FSUBP: inf - inf
    expect(f.fpu.statusWord & 0x80ff).toBe(0x8081);
    expect((f.fpu.statusWord >> 11) & 7).toBe(6); // no pop
    expect(st(f.fpu, 1)).toBe('7fff:8000000000000000');
    // FNSTSW does not wait; FADD does.
    expect(f.fpu.exec(0xdf, 0xe0, 0, PM32, 0)).toBe(FPU_OUT_AX);
    expect(() => f.fpu.exec(0xd8, 0xc1, 0, PM32, 0)).toThrow('#MF');
    expect(() => f.fpu.wait()).toThrow('#MF');
    expect(f.host.fpuErrors).toBe(2);
    f.fpu.exec(0xdb, 0xe2, 0, PM32, 0); // FNCLEX
    f.fpu.wait();
    expect(f.fpu.statusWord & 0x80ff).toBe(0);
  });

  it('when fpuError returns (IRQ13 style), the instruction still runs', () => {
    const mem = new Uint8Array(64);
    let calls = 0;
    const host = new TestHost(mem);
    host.fpuError = (): void => {
      calls++;
    };
    const fpu = new Fpu(host);
    fpu.init();
    mem[0] = 0x7e;
    mem[1] = 0x03;
    fpu.exec(0xd9, mrm(5), M, PM32, 0);
    fpu.exec(0xd9, 0xe4, 0, PM32, 0); // FTST on an empty stack: unmasked IE
    fpu.exec(0xd9, 0xe8, 0, PM32, 0); // FLD1 waits first
    expect(calls).toBe(1);
    expect(st(fpu, 0)).toBe('3fff:8000000000000000');
  });

  it('undefined encodings raise #UD (including FISTTP, which is SSE3)', () => {
    const { fpu } = setup();
    for (const [op, modrm] of [
      [0xd9, 0xd1],
      [0xd9, 0xe2],
      [0xd9, 0xef],
      [0xd9, mrm(1)],
      [0xdb, mrm(1)],
      [0xdd, mrm(1)],
      [0xdf, mrm(1)],
      [0xdb, mrm(4)],
      [0xdb, 0xe5],
      [0xdb, 0xf8],
      [0xda, 0xe8],
      [0xde, 0xd8],
      [0xdd, 0xf0],
      [0xdf, 0xe1],
      [0xdf, 0xf8],
    ]) {
      expect(() => fpu.exec(op, modrm, M, PM32, 0), `${op.toString(16)} ${modrm.toString(16)}`).toThrow('#UD');
    }
  });

  it('FIP/FCS/FOP/FDP/FDS track non-control instructions only', () => {
    const f = setup();
    fld64(f, 1.5);
    let s = f.fpu.save();
    expect([s.ip, s.cs, s.dp, s.ds, s.opcode]).toEqual([0x1234, 0x08, 0x5678, 0x10, 0x501]);
    const info2: FpuInstructionInfo = { ...PM32, ip: 0x2000, dp: 0x3000 };
    f.fpu.exec(0xd9, 0xe1, 0, info2, 0); // FABS: register form keeps FDP
    s = f.fpu.save();
    expect([s.ip, s.dp, s.opcode]).toEqual([0x2000, 0x5678, 0x1e1]);
    f.fpu.exec(0xd9, mrm(7), M, { ...PM32, ip: 0x9999 }, 0); // FNSTCW: control instruction
    expect(f.fpu.save().ip).toBe(0x2000);
  });

  it('a faulting memory read leaves the unit unchanged (restartable)', () => {
    const f = setup();
    fld64(f, 3);
    const before = JSON.stringify(f.fpu.save());
    expect(() => f.fpu.exec(0xdc, mrm(0), M + 0x1000, { ...PM32, ip: 0x7777 }, 0)).toThrow('out of range');
    expect(() => f.fpu.exec(0xdd, mrm(4), M + 200, PM32, 0)).toThrow('out of range'); // FRSTOR past the end
    expect(JSON.stringify(f.fpu.save())).toBe(before);
  });

  it('a faulting multi-byte store changes nothing (checkWritable first)', () => {
    const f = setup();
    fld64(f, 3);
    const before = JSON.stringify(f.fpu.save());
    const mem0 = Array.from(f.mem);
    expect(() => f.fpu.exec(0xdb, mrm(7), M + 250, PM32, 0)).toThrow('out of range'); // FSTP m80 crossing the end
    expect(JSON.stringify(f.fpu.save())).toBe(before);
    expect(Array.from(f.mem)).toEqual(mem0);
  });

  it('save()/restore() round-trips the whole state', () => {
    const f = setup();
    fld64(f, -2.5);
    fld64(f, 1e300);
    f.fpu.exec(0xd8, 0xc9, 0, PM32, 0);
    const s = f.fpu.save();
    const g = setup();
    g.fpu.restore(s);
    expect(g.fpu.save()).toEqual(s);
    expect(() => g.fpu.restore({ ...s, regs: ['xyz'] })).toThrow('20 hex digits');
  });
});

describe('x87 memory layouts', () => {
  it('FBSTP of 123456789 and FBLD back', () => {
    const f = setup();
    fld64(f, 123456789);
    f.fpu.exec(0xdf, mrm(6), M, PM32, 0);
    expect(Array.from(f.mem.subarray(0, 10))).toEqual([0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0]);
    f.fpu.exec(0xdf, mrm(4), M, PM32, 0);
    expect(st(f.fpu, 0)).toBe('4019:eb79a2a000000000');
  });

  it('FILD/FISTP m64 round-trip the int64 limits; 2^63 stores the integer indefinite', () => {
    const f = setup();
    for (const v of [-(1n << 63n), (1n << 63n) - 1n, -1n]) {
      f.dv.setBigInt64(0, v, true);
      f.fpu.exec(0xdf, mrm(5), M, PM32, 0);
      f.dv.setBigInt64(0, 0n, true);
      f.fpu.exec(0xdf, mrm(7), M, PM32, 0);
      expect(f.dv.getBigInt64(0, true)).toBe(v);
    }
    fld64(f, 2 ** 63);
    f.fpu.exec(0xdf, mrm(7), M, PM32, 0);
    expect(f.dv.getBigUint64(0, true)).toBe(1n << 63n);
    expect(f.fpu.statusWord & 1).toBe(1);
  });

  it('FXAM classes', () => {
    const f = setup();
    const cls = (): number => {
      f.fpu.exec(0xd9, 0xe5, 0, PM32, 0);
      const sw = f.fpu.statusWord;
      return ((sw >> 14) & 1) * 8 + ((sw >> 10) & 1) * 4 + ((sw >> 9) & 1) * 2 + ((sw >> 8) & 1);
    }; // C3 C2 C1 C0
    expect(cls()).toBe(0b1001); // empty
    fld64(f, -0);
    expect(cls()).toBe(0b1010); // zero, negative
    fld64(f, 1);
    expect(cls()).toBe(0b0100); // normal
    fld64(f, -Infinity);
    expect(cls()).toBe(0b0111); // infinity, negative
    fld64(f, NaN);
    expect(cls()).toBe(0b0001); // NaN
    fld64(f, 5e-324);
    expect(cls()).toBe(0b0100); // a double denormal is normal in extended
    f.mem.set([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    f.fpu.exec(0xdb, mrm(5), M, PM32, 0); // FLD m80 of an extended denormal
    expect(cls()).toBe(0b1100);
    f.mem.set([1, 0, 0, 0, 0, 0, 0, 0, 0, 0x40]);
    f.fpu.exec(0xdb, mrm(5), M, PM32, 0); // an unnormal
    expect(cls()).toBe(0b0000);
  });

  it('FPREM reports an incomplete reduction in C2', () => {
    const f = setup();
    fld64(f, 3);
    fld64(f, 2 ** 200);
    f.fpu.exec(0xd9, 0xf8, 0, PM32, 0);
    expect(f.fpu.statusWord & 0x400).toBe(0x400);
    let guard = 0;
    while (f.fpu.statusWord & 0x400 && guard++ < 20) f.fpu.exec(0xd9, 0xf8, 0, PM32, 0);
    expect(f.fpu.statusWord & 0x400).toBe(0);
    expect(st(f.fpu, 0)).toBe('3fff:8000000000000000'); // 2^200 mod 3 = 1
  });

  it('FSIN/FCOS/FPTAN/FSINCOS leave |x| >= 2^63 alone and set C2', () => {
    const f = setup();
    fld64(f, 2 ** 63);
    for (const modrm of [0xfe, 0xff, 0xf2, 0xfb]) {
      f.fpu.exec(0xd9, modrm, 0, PM32, 0);
      expect(f.fpu.statusWord & 0x3c00, modrm.toString(16)).toBe(0x3c00); // TOP=7, C2
      expect(st(f.fpu, 0)).toBe('403e:8000000000000000');
    }
    fld64(f, 0.5);
    f.fpu.exec(0xd9, 0xf2, 0, PM32, 0); // FPTAN pushes 1.0 and clears C2
    expect(f.fpu.statusWord & 0x400).toBe(0);
    expect(st(f.fpu, 0)).toBe('3fff:8000000000000000');
    expect(st(f.fpu, 1)).toBe('3ffe:8bda7adf9a3a5219');
  });

  it('FNSAVE (32-bit protected mode): offsets, reserved 0xFFFF halves, then FNINIT', () => {
    const f = setup();
    fld64(f, 1);
    fld64(f, 2);
    f.fpu.exec(0xdd, mrm(6), M, { ...PM32, ip: 0xdead }, 0);
    const dv = f.dv;
    expect(dv.getUint32(0, true)).toBe(0xffff037f);
    expect(dv.getUint32(4, true)).toBe(0xffff3000); // TOP=6
    expect(dv.getUint32(8, true)).toBe(0xffff0fff); // R6, R7 valid
    expect(dv.getUint32(12, true)).toBe(0x1234); // FIP of the last non-control instruction
    expect(dv.getUint32(16, true)).toBe(0x0501_0008); // FOP (DD /0 [ecx]) << 16 | FCS
    expect(dv.getUint32(20, true)).toBe(0x5678);
    expect(dv.getUint32(24, true)).toBe(0xffff0010);
    expect(dv.getBigUint64(28, true)).toBe(1n << 63n); // ST0 = 2.0
    expect(dv.getUint16(36, true)).toBe(0x4000);
    expect(dv.getUint16(46, true)).toBe(0x3fff); // ST1 = 1.0 at 28 + 10
    expect(f.fpu.save().tag).toBe(0xffff);
    expect(f.fpu.save().control).toBe(0x37f);
    // FRSTOR brings it back.
    f.fpu.exec(0xdd, mrm(4), M, PM32, 0);
    expect(st(f.fpu, 0)).toBe('4000:8000000000000000');
    expect(f.fpu.save().ip).toBe(0x1234);
  });

  it('16-bit and real-mode environment layouts', () => {
    const f = setup();
    fld64(f, 1);
    const pm16: FpuInstructionInfo = { ...PM32, operand32: false };
    f.fpu.exec(0xd9, mrm(6), M, pm16, 0); // FNSTENV, 14 bytes
    const w = (o: number): number => f.dv.getUint16(o, true);
    expect([w(0), w(2), w(4), w(6), w(8), w(10), w(12)]).toEqual([0x37f, 0x3800, 0x3fff, 0x1234, 0x08, 0x5678, 0x10]);

    // Real mode: 20-bit linear pointers (CS*16 + IP) split around FOP.
    const rm: FpuInstructionInfo = { ip: 0x0010, cs: 0xf000, dp: 0x0020, ds: 0x1234, operand32: false, realMode: true };
    fld64(f, 2);
    f.fpu.exec(0xd9, 0xe1, 0, rm, 0); // FABS sets FIP/FOP, keeps FDP
    f.fpu.exec(0xdd, mrm(0), M + 0x80, rm, 0); // FLD m64 sets the data pointer too
    f.fpu.exec(0xd9, mrm(6), M, rm, 0); // FNSTENV 16-bit real
    // ip = 0xF0010, dp = 0x12360
    expect([w(6), w(8), w(10), w(12)]).toEqual([0x0010, 0xf000 | 0x500 | 0x01, 0x2360, 0x1000]);
    const rm32: FpuInstructionInfo = { ...rm, operand32: true };
    f.fpu.exec(0xd9, mrm(6), M, rm32, 0); // 28-byte real-mode layout
    const d = (o: number): number => f.dv.getUint32(o, true);
    expect([d(12), d(16), d(20), d(24)]).toEqual([0xffff0010, 0x0000f000 | 0x501, 0xffff2360, 0x00001000]);
    // FLDENV of the same image restores the linear pointers.
    f.fpu.exec(0xd9, mrm(4), M, rm32, 0);
    const s = f.fpu.save();
    expect([s.ip, s.cs, s.dp, s.ds, s.opcode]).toEqual([0xf0010, 0, 0x12360, 0, 0x501]);
  });

  it('FNSTENV masks all exceptions after storing', () => {
    const f = setup();
    f.dv.setUint16(0, 0x360, true);
    f.fpu.exec(0xd9, mrm(5), M, PM32, 0);
    f.fpu.exec(0xd9, mrm(6), M, PM32, 0);
    expect(f.dv.getUint16(0, true)).toBe(0x360);
    expect(f.fpu.save().control).toBe(0x37f);
  });
});
