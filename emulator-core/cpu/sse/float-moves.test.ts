/**
 * The float-moves family (float-moves.ts) on small nasm programs, 32-bit code through the
 * flat harness and 64-bit code through a long-mode CPU: the operand forms that are easy to
 * get wrong (register forms that are #UD, aligned stores, halves that must survive, the
 * implicit XMM0 and DS:rDI operands, GPR zero-extension, REX.W). Random operands against
 * the host CPU are the difftest's job (test/difftest/sse-float-moves.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { FlatHarness } from '../../../test/support/cpu/flat-harness.js';
import { assemble, nasmAvailable } from '../../../test/support/nasm.js';
import { IoBus } from '../../bus/io-bus.js';
import { ManualClock } from '../../machine/clock.js';
import { GuestMemory } from '../../memory/guest-memory.js';
import { AR_DB, AR_G, AR_L, AR_P, AR_S, CR0_TS, CR4_OSFXSR, CS, DS, ES, SS } from '../constants.js';
import { Cpu, EXIT_HALT } from '../cpu.js';
import { run as runCpu } from '../interpreter.js';

const CODE = 0x1000;
const DATA = 0x100000;

/** Bytes 1..64 at DATA (so lane values are predictable), then `src` runs from CODE. */
function run(src: string, setup: (h: FlatHarness) => void = (h) => (h.cpu.cr4 |= CR4_OSFXSR)) {
  const h = new FlatHarness();
  h.cpu.sse.enabled = true;
  setup(h);
  const code = assemble(src + '\nend_marker:', 32, CODE);
  h.writeMemory(CODE, code);
  h.writeMemory(DATA, Uint8Array.from({ length: 64 }, (_, i) => i + 1));
  h.setRegs({ esp: 0x80000, eip: CODE, eflags: 0x202 });
  const res = h.run(CODE + code.length);
  return { h, res, regs: h.getRegs(), x: h.cpu.sse.x };
}

/** The 16 bytes 1..16 shifted by `k` (what `movdqu xmmN, [DATA + k]` loads). */
function bytesFrom(k: number): number[] {
  return Array.from({ length: 16 }, (_, i) => i + 1 + k);
}

function xmmBytes(x: { u8: Uint8Array }, r: number): number[] {
  return [...x.u8.subarray(r * 16, r * 16 + 16)];
}

/** Little-endian dwords of a byte list. */
function dwords(b: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 4) out.push((b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0);
  return out;
}

describe.skipIf(!nasmAvailable())('float moves (32-bit code)', () => {
  it('ANDPS/ANDNPS/ORPS combine bits exactly, signalling NaNs included, and want aligned memory', () => {
    const { res, x } = run(`
      movdqu xmm0, [pat]
      movdqu xmm1, [pat + 16]
      movaps xmm2, xmm0
      andps xmm2, xmm1
      movaps xmm3, xmm0
      andnpd xmm3, xmm1
      movaps xmm4, xmm0
      orps xmm4, [pat + 16]
      jmp end_marker
      align 16
    pat: dd 0x7f800001, 0xffffffff, 0x12345678, 0x80000000
         dd 0x7fc00000, 0x0f0f0f0f, 0xffff0000, 0x00000001`);
    expect(res.exception).toBeNull();
    const a = [0x7f800001, 0xffffffff, 0x12345678, 0x80000000];
    const b = [0x7fc00000, 0x0f0f0f0f, 0xffff0000, 0x00000001];
    expect([...x.u32.subarray(8, 12)]).toEqual(a.map((v, i) => (v & b[i]!) >>> 0));
    expect([...x.u32.subarray(12, 16)]).toEqual(a.map((v, i) => (~v & b[i]!) >>> 0));
    expect([...x.u32.subarray(16, 20)]).toEqual(a.map((v, i) => (v | b[i]!) >>> 0));
    expect(run(`orpd xmm0, [${DATA + 4}]`).res.exception).toBe(13);
  });

  it('SHUFPS/SHUFPD take low lanes from the destination and high lanes from the source, also when they are one register', () => {
    const { res, x } = run(`
      movdqu xmm0, [${DATA}]
      movdqu xmm1, [${DATA + 16}]
      movaps xmm2, xmm0
      shufps xmm2, xmm1, 0b00_11_01_10
      movaps xmm3, xmm0
      shufps xmm3, xmm3, 0b00_01_10_11
      movaps xmm4, xmm0
      shufpd xmm4, xmm1, 0b01
      movaps xmm5, xmm1
      shufpd xmm5, [${DATA}], 0b10`);
    expect(res.exception).toBeNull();
    const d = dwords(bytesFrom(0));
    const s = dwords(bytesFrom(16));
    expect([...x.u32.subarray(8, 12)]).toEqual([d[2], d[1], s[3], s[0]]);
    expect([...x.u32.subarray(12, 16)]).toEqual([d[3], d[2], d[1], d[0]]);
    expect([...x.u32.subarray(16, 20)]).toEqual([d[2], d[3], s[0], s[1]]);
    expect([...x.u32.subarray(20, 24)]).toEqual([s[0], s[1], d[2], d[3]]);
  });

  it('UNPCKLPS/UNPCKHPS/UNPCKLPD/UNPCKHPD interleave lanes', () => {
    const { res, x } = run(`
      movdqu xmm1, [${DATA + 16}]
      movdqu xmm2, [${DATA}]
      unpcklps xmm2, xmm1
      movdqu xmm3, [${DATA}]
      unpckhps xmm3, xmm1
      movdqu xmm4, [${DATA}]
      unpcklpd xmm4, xmm1
      movdqu xmm5, [${DATA}]
      unpckhpd xmm5, [${DATA + 16}]
      movdqu xmm6, [${DATA}]
      unpckhps xmm6, xmm6`);
    expect(res.exception).toBeNull();
    const d = dwords(bytesFrom(0));
    const s = dwords(bytesFrom(16));
    expect([...x.u32.subarray(8, 12)]).toEqual([d[0], s[0], d[1], s[1]]);
    expect([...x.u32.subarray(12, 16)]).toEqual([d[2], s[2], d[3], s[3]]);
    expect([...x.u32.subarray(16, 20)]).toEqual([d[0], d[1], s[0], s[1]]);
    expect([...x.u32.subarray(20, 24)]).toEqual([d[2], d[3], s[2], s[3]]);
    expect([...x.u32.subarray(24, 28)]).toEqual([d[2], d[2], d[3], d[3]]);
  });

  it('MOVLPS/MOVHPS/MOVLPD/MOVHPD load one half and keep the other; MOVHLPS/MOVLHPS move halves between registers', () => {
    const { h, res, x } = run(`
      movdqu xmm0, [${DATA}]
      movdqu xmm1, [${DATA + 16}]
      movaps xmm2, xmm0
      movlps xmm2, [${DATA + 33}]
      movaps xmm3, xmm0
      movhpd xmm3, [${DATA + 33}]
      movaps xmm4, xmm0
      movhlps xmm4, xmm1
      movaps xmm5, xmm0
      movlhps xmm5, xmm1
      movlpd [${DATA + 0x81}], xmm1
      movhps [${DATA + 0x91}], xmm1`);
    expect(res.exception).toBeNull();
    const d = bytesFrom(0);
    const s = bytesFrom(16);
    const m = bytesFrom(33).slice(0, 8);
    expect(xmmBytes(x, 2)).toEqual([...m, ...d.slice(8)]);
    expect(xmmBytes(x, 3)).toEqual([...d.slice(0, 8), ...m]);
    expect(xmmBytes(x, 4)).toEqual([...s.slice(8), ...d.slice(8)]);
    expect(xmmBytes(x, 5)).toEqual([...d.slice(0, 8), ...s.slice(0, 8)]);
    expect([...h.readMemory(DATA + 0x80, 10)]).toEqual([0, ...s.slice(0, 8), 0]);
    expect([...h.readMemory(DATA + 0x90, 10)]).toEqual([0, ...s.slice(8), 0]);
  });

  it('raises #UD for the register forms of MOVLPD/MOVHPD loads, MOVLPS/MOVHPS stores, MOVNTPS, MOVNTDQ, MOVNTDQA, LDDQU and for MOVMSKPS/MASKMOVDQU with memory', () => {
    const forms = [
      'db 0x66, 0x0f, 0x12, 0xc1', // MOVLPD xmm0, xmm1
      'db 0x66, 0x0f, 0x16, 0xc1', // MOVHPD xmm0, xmm1
      'db 0x0f, 0x13, 0xc1', // MOVLPS xmm1, xmm0
      'db 0x66, 0x0f, 0x17, 0xc1', // MOVHPD xmm1, xmm0
      'db 0x0f, 0x2b, 0xc1', // MOVNTPS xmm1, xmm0
      'db 0x66, 0x0f, 0xe7, 0xc1', // MOVNTDQ xmm1, xmm0
      'db 0x66, 0x0f, 0x38, 0x2a, 0xc1', // MOVNTDQA xmm0, xmm1
      'db 0xf2, 0x0f, 0xf0, 0xc1', // LDDQU xmm0, xmm1
      `db 0x0f, 0x50, 0x05\ndd ${DATA}`, // MOVMSKPS eax, [DATA]
      `db 0x66, 0x0f, 0xf7, 0x05\ndd ${DATA}`, // MASKMOVDQU xmm0, [DATA]
    ];
    for (const f of forms) expect(run(f).res.exception, f).toBe(6);
    // #UD for an undefined form comes before #NM, as decoding does.
    expect(run('db 0x0f, 0x13, 0xc1', (h) => ((h.cpu.cr4 |= CR4_OSFXSR), (h.cpu.cr0 |= CR0_TS))).res.exception).toBe(6);
    expect(run('movntps [0x100000], xmm0', (h) => ((h.cpu.cr4 |= CR4_OSFXSR), (h.cpu.cr0 |= CR0_TS))).res.exception).toBe(7);
  });

  it('MOVMSKPS/MOVMSKPD gather sign bits into a zero-extended GPR', () => {
    const { res, regs } = run(`
      mov eax, -1
      mov ecx, -1
      movdqu xmm3, [pat]
      movmskps eax, xmm3
      movmskpd ecx, xmm3
      jmp end_marker
    pat: dd 0x80000000, 0x7fffffff, 0xffc00000, 0x80000000`);
    expect(res.exception).toBeNull();
    expect(regs.eax).toBe(0b1101);
    expect(regs.ecx).toBe(0b10);
  });

  it('MOVNTPS/MOVNTPD/MOVNTDQ store aligned only; MOVNTI stores a GPR without CR4.OSFXSR; LDDQU loads unaligned; MOVNTDQA loads aligned', () => {
    const { h, res, x } = run(`
      movdqu xmm1, [${DATA}]
      movntps [${DATA + 0x100}], xmm1
      movntdq [${DATA + 0x110}], xmm1
      mov eax, 0xdeadbeef
      movnti [${DATA + 0x123}], eax
      lddqu xmm2, [${DATA + 3}]
      movntdqa xmm3, [${DATA + 16}]`);
    expect(res.exception).toBeNull();
    expect([...h.readMemory(DATA + 0x100, 16)]).toEqual(bytesFrom(0));
    expect([...h.readMemory(DATA + 0x110, 16)]).toEqual(bytesFrom(0));
    expect([...h.readMemory(DATA + 0x122, 6)]).toEqual([0, 0xef, 0xbe, 0xad, 0xde, 0]);
    expect(xmmBytes(x, 2)).toEqual(bytesFrom(3));
    expect(xmmBytes(x, 3)).toEqual(bytesFrom(16));
    expect(run(`movntpd [${DATA + 8}], xmm0`).res.exception).toBe(13);
    expect(run(`movntdq [${DATA + 8}], xmm0`).res.exception).toBe(13);
    expect(run(`movntdqa xmm0, [${DATA + 8}]`).res.exception).toBe(13);
    const ungated = run(`mov eax, 7\nmovnti [${DATA}], eax`, (h) => (h.cpu.cr0 |= CR0_TS));
    expect(ungated.res.exception).toBeNull();
    expect(ungated.h.readMemory(DATA, 4)[0]).toBe(7);
    expect(run(`movntps [${DATA}], xmm0`, () => {}).res.exception).toBe(6);
  });

  it('MASKMOVDQU writes the selected bytes at DS:EDI, DS:DI under a 16-bit address size, and an override segment', () => {
    const { h, res } = run(`
      movdqu xmm1, [${DATA}]
      movdqu xmm2, [mask]
      mov edi, ${DATA + 0x201}
      maskmovdqu xmm1, xmm2
      mov edi, 0xabcd0300
      a16 maskmovdqu xmm1, xmm2
      mov edi, ${DATA + 0x281}
      pxor xmm3, xmm3
      maskmovdqu xmm1, xmm3
      jmp end_marker
    mask: db 0x80, 0, 0xff, 0x7f, 0, 0, 0, 0x81, 0, 0, 0, 0, 0, 0, 0, 0xc0`);
    expect(res.exception).toBeNull();
    const want = (base: number[]): number[] => base.map((v, i) => ([0, 2, 7, 15].includes(i) ? i + 1 : v));
    expect([...h.readMemory(DATA + 0x200, 18)]).toEqual([0, ...want(new Array<number>(16).fill(0)), 0]);
    expect([...h.readMemory(0x300, 16)]).toEqual(want(new Array<number>(16).fill(0)));
    expect([...h.readMemory(DATA + 0x280, 18)]).toEqual(new Array<number>(18).fill(0));
  });

  it('MASKMOVDQU addresses its destination even with an all-zero mask (a DS limit violation faults)', () => {
    const limitDs = (h: FlatHarness): void => {
      h.cpu.cr4 |= CR4_OSFXSR;
      h.cpu.segLimit[DS] = 0xfffff;
      h.cpu.updateSegCheck(DS);
    };
    const src = (edi: number): string => `pxor xmm3, xmm3\nmov edi, ${edi}\nmaskmovdqu xmm1, xmm3`;
    expect(run(src(0x200000), limitDs).res.exception).toBe(13);
    expect(run(src(0x80000), limitDs).res.exception).toBeNull();
    // The override segment is the one checked.
    expect(run(`pxor xmm3, xmm3\nmov edi, 0x200000\nes maskmovdqu xmm1, xmm3`, limitDs).res.exception).toBeNull();
  });

  it('MASKMOVDQU adds the base of DS, or of the override segment, to EDI', () => {
    const bases = (h: FlatHarness): void => {
      h.cpu.cr4 |= CR4_OSFXSR;
      h.cpu.segBase[DS] = 0x1000;
      h.cpu.segBase[ES] = 0x2000;
      h.cpu.updateSegCheck(DS);
      h.cpu.updateSegCheck(ES);
    };
    // The code's own absolute operands go through DS too: set EDI and the mask by register.
    const { h, res } = run(
      `pcmpeqb xmm2, xmm2
      mov eax, 0x44332211
      movd xmm1, eax
      mov edi, ${DATA}
      maskmovdqu xmm1, xmm2
      es maskmovdqu xmm1, xmm2`,
      bases,
    );
    expect(res.exception).toBeNull();
    expect([...h.readMemory(DATA + 0x1000, 6)]).toEqual([0x11, 0x22, 0x33, 0x44, 0, 0]);
    expect([...h.readMemory(DATA + 0x2000, 6)]).toEqual([0x11, 0x22, 0x33, 0x44, 0, 0]);
    expect([...h.readMemory(DATA, 4)]).toEqual([1, 2, 3, 4]);
  });

  it('MOVSLDUP/MOVSHDUP/MOVDDUP duplicate lanes; MOVSLDUP wants aligned memory, MOVDDUP reads 8 bytes anywhere', () => {
    const { res, x } = run(`
      movdqu xmm1, [${DATA}]
      movsldup xmm2, xmm1
      movshdup xmm3, [${DATA + 16}]
      movddup xmm4, [${DATA + 5}]
      movddup xmm5, xmm1`);
    expect(res.exception).toBeNull();
    const d = dwords(bytesFrom(0));
    const s = dwords(bytesFrom(16));
    const m = dwords(bytesFrom(5));
    expect([...x.u32.subarray(8, 12)]).toEqual([d[0], d[0], d[2], d[2]]);
    expect([...x.u32.subarray(12, 16)]).toEqual([s[1], s[1], s[3], s[3]]);
    expect([...x.u32.subarray(16, 20)]).toEqual([m[0], m[1], m[0], m[1]]);
    expect([...x.u32.subarray(20, 24)]).toEqual([d[0], d[1], d[0], d[1]]);
    expect(run(`movsldup xmm0, [${DATA + 4}]`).res.exception).toBe(13);
  });

  it('BLENDPS/BLENDPD/PBLENDW select by immediate; PBLENDVB/BLENDVPS/BLENDVPD by XMM0, also when XMM0 is the destination', () => {
    const { res, x } = run(`
      movdqu xmm0, [mask]
      movdqu xmm1, [${DATA + 16}]
      movdqu xmm2, [${DATA}]
      blendps xmm2, xmm1, 0b1010
      movdqu xmm3, [${DATA}]
      blendpd xmm3, [${DATA + 16}], 0b10
      movdqu xmm4, [${DATA}]
      pblendw xmm4, xmm1, 0b1000_0110
      movdqu xmm5, [${DATA}]
      pblendvb xmm5, xmm1
      movdqu xmm6, [${DATA}]
      blendvps xmm6, xmm1
      movdqu xmm7, [${DATA}]
      blendvpd xmm7, xmm1
      blendvpd xmm0, xmm1
      jmp end_marker
      align 16
    mask: db 0x80, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0x7f, 0, 0x80, 0, 0`);
    expect(res.exception).toBeNull();
    const d = bytesFrom(0);
    const s = bytesFrom(16);
    const sel = (lane: number, picks: number[]): number[] => d.map((v, i) => (picks.includes(Math.floor(i / lane)) ? s[i]! : v));
    expect(xmmBytes(x, 2)).toEqual(sel(4, [1, 3]));
    expect(xmmBytes(x, 3)).toEqual(sel(8, [1]));
    expect(xmmBytes(x, 4)).toEqual(sel(2, [1, 2, 7]));
    expect(xmmBytes(x, 5)).toEqual(sel(1, [0, 7, 13]));
    expect(xmmBytes(x, 6)).toEqual(sel(4, [1])); // dword signs: bytes 3, 7, 11, 15 are 0, 0x80, 0x7f, 0
    expect(xmmBytes(x, 7)).toEqual(sel(8, [0])); // qword signs: bytes 7 and 15
    const m = [0x80, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0x7f, 0, 0x80, 0, 0];
    expect(xmmBytes(x, 0)).toEqual([...s.slice(0, 8), ...m.slice(8)]);
  });

  it('INSERTPS picks a register lane or 32 bits of memory, places it and zeroes lanes; EXTRACTPS and PEXTRB/W/D reach memory and zero-extended GPRs', () => {
    const { h, res, x, regs } = run(`
      movdqu xmm1, [${DATA + 16}]
      movdqu xmm2, [${DATA}]
      insertps xmm2, xmm1, 0b11_01_0100
      movdqu xmm3, [${DATA}]
      insertps xmm3, [${DATA + 33}], 0b11_10_0001
      mov eax, -1
      mov ecx, -1
      mov edx, -1
      mov ebx, -1
      extractps eax, xmm1, 6
      pextrb ecx, xmm1, 0x1d
      pextrw edx, xmm1, 5
      pextrd ebx, xmm1, 3
      extractps [${DATA + 0x101}], xmm1, 1
      pextrb [${DATA + 0x111}], xmm1, 15
      pextrw [${DATA + 0x121}], xmm1, 7
      pextrd [${DATA + 0x131}], xmm1, 2
      mov esi, 0x12345678
      pinsrb xmm1, esi, 0x13
      pinsrb xmm1, [${DATA + 40}], 0
      pinsrd xmm1, esi, 6
      pinsrd xmm1, [${DATA + 41}], 1`);
    expect(res.exception).toBeNull();
    const d = dwords(bytesFrom(0));
    const s = dwords(bytesFrom(16));
    expect([...x.u32.subarray(8, 12)]).toEqual([d[0], d[1], 0, d[3]].map((v, i) => (i === 1 ? s[3] : v)));
    const m = dwords(bytesFrom(33))[0];
    expect([...x.u32.subarray(12, 16)]).toEqual([0, d[1], m, d[3]]);
    expect(regs.eax).toBe(s[2]);
    expect(regs.ecx).toBe(16 + 13 + 1);
    expect(regs.edx).toBe((16 + 11) | ((16 + 12) << 8));
    expect(regs.ebx).toBe(s[3]);
    const sb = bytesFrom(16);
    expect([...h.readMemory(DATA + 0x100, 6)]).toEqual([0, ...sb.slice(4, 8), 0]);
    expect([...h.readMemory(DATA + 0x110, 3)]).toEqual([0, sb[15], 0]);
    expect([...h.readMemory(DATA + 0x120, 4)]).toEqual([0, sb[14], sb[15], 0]);
    expect([...h.readMemory(DATA + 0x130, 6)]).toEqual([0, ...sb.slice(8, 12), 0]);
    const want = [...sb];
    want[3] = 0x78;
    want[0] = 41;
    want.splice(8, 4, 0x78, 0x56, 0x34, 0x12);
    want.splice(4, 4, 42, 43, 44, 45);
    expect(xmmBytes(x, 1)).toEqual(want);
  });

  it('a misaligned MOVNTPS raises #GP(0) and writes nothing', () => {
    const { h, res } = run(`
      movdqu xmm1, [${DATA}]
      movntps [${DATA + 0x108}], xmm1`);
    expect(res.exception).toBe(13);
    expect([...h.readMemory(DATA + 0x108, 16)]).toEqual(new Array<number>(16).fill(0));
  });
});

// ------------------------------------------------------------------ 64-bit code

const P = 1;
const RW = 2;
const US = 4;
const PS = 0x80;
const CODE64 = 0x100000;

/** A CPL 0 long-mode CPU with the first 1 GiB identity-mapped (2 MiB pages) running `src` to HLT. */
function run64(src: string): Cpu {
  const mem = new GuestMemory(8 * 1024 * 1024);
  const c = new Cpu(mem, new IoBus(), { clock: new ManualClock() });
  c.cr0 = 0x80010033;
  c.cr4 = 0x20 | CR4_OSFXSR;
  c.efer = 0xd01;
  c.cr3 = 0x1000;
  mem.write32(0x1000, 0x2000 | P | RW | US);
  mem.write32(0x2000, 0x3000 | P | RW | US);
  for (let i = 0; i < 4; i++) mem.write32(0x3000 + i * 8, (i << 21) | P | RW | US | PS);
  const seg = (s: number, sel: number, access: number): void => {
    c.segSel[s] = sel;
    c.segBase[s] = 0;
    c.segLimit[s] = -1;
    c.segAccess[s] = access;
    c.updateSegCheck(s);
  };
  seg(CS, 0x08, AR_P | AR_S | 0xb | AR_L | AR_G);
  for (const s of [SS, DS, ES]) seg(s, 0x10, AR_P | AR_S | 0x3 | AR_DB | AR_G);
  c.cpl = 0;
  c.updateMode();
  c.flushTlb(true);
  c.sse.enabled = true;
  const bin = assemble(src + '\nhlt', 64, CODE64);
  mem.u8.set(bin, CODE64);
  mem.u8.set(Uint8Array.from({ length: 64 }, (_, i) => i + 1), 0x200000);
  c.r32[4] = 0x80000;
  c.ip = CODE64;
  expect(runCpu(c, 10_000)).toBe(EXIT_HALT);
  return c;
}

/** RAX..R15 as [hi, lo] unsigned pairs. */
function r64(c: Cpu, r: number): [number, number] {
  return [c.rh[r]! >>> 0, c.r32[r]! >>> 0];
}

describe.skipIf(!nasmAvailable())('float moves (64-bit code)', () => {
  it('PINSRQ/PEXTRQ move 64 bits with REX.W; PEXTRD, PEXTRB, EXTRACTPS and MOVMSKPS zero-extend into the whole register', () => {
    const c = run64(`
      mov rax, 0x8122334455667788
      movdqu xmm9, [0x200000]
      pinsrq xmm9, rax, 1
      pinsrq xmm10, [0x200003], 0
      mov rbx, -1
      mov rcx, -1
      mov rdx, -1
      mov rsi, -1
      mov rdi, -1
      pextrq rbx, xmm9, 1
      pextrd ecx, xmm9, 1
      pextrb edx, xmm9, 15
      db 0x66, 0x4c, 0x0f, 0x3a, 0x17, 0xce, 0x00 ; extractps rsi, xmm9, 0 with REX.W
      db 0x49, 0x0f, 0x50, 0xf9 ; movmskps rdi, xmm9 with REX.W
      pextrq [0x200100], xmm9, 0`);
    const x = c.sse.x;
    expect([...x.u32.subarray(36, 40)]).toEqual([...dwords(bytesFrom(0)).slice(0, 2), 0x55667788, 0x81223344]);
    expect([...x.u32.subarray(40, 42)]).toEqual(dwords(bytesFrom(3)).slice(0, 2));
    expect(r64(c, 3)).toEqual([0x81223344, 0x55667788]);
    expect(r64(c, 1)).toEqual([0, dwords(bytesFrom(0))[1]]);
    expect(r64(c, 2)).toEqual([0, 0x81]);
    expect(r64(c, 7)).toEqual([0, 0b1000]);
    expect(r64(c, 6)).toEqual([0, dwords(bytesFrom(0))[0]]);
    expect([...c.mem.u8.subarray(0x200100, 0x200108)]).toEqual(bytesFrom(0).slice(0, 8));
  });
});
