/**
 * The native oracle's SSE state (no Terrarium involved): what the 32-bit harness reports as
 * XMM0-7 and MXCSR at a case's end and, from the signal frame, at a fault, and that an
 * unmasked SIMD floating-point exception (SIGFPE with REG_TRAPNO 19) is reported as #XM
 * with the exception flag set and the destination unchanged (SDM vol. 1 11.5.1).
 */
import { describe, expect, it } from 'vitest';
import { assembleBatch } from './batch.js';
import { initialSse, type DiffCase, type Outcome } from './case.js';
import { DATA_BASE } from './layout.js';
import { nativeStatus, runNative } from './native.js';
import { xmmHex } from './sse-state.js';

const native = nativeStatus();
const LOADED = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

function sseCase(asm: string, over: Partial<DiffCase> = {}): DiffCase {
  return {
    family: 'harness',
    asm,
    regs: [0, 0, 0, 0, DATA_BASE + 0x1800, 0, 0, 0],
    eflags: 0x202,
    memSeed: 0x1234567,
    patch: { offset: 0x100, bytes: LOADED },
    undefinedFlags: 0,
    expect: 'any',
    ...over,
  };
}

/** XMM0-7 with lane 0 of xmm0 and xmm1 set (binary32 bit patterns). */
function lanes(x0: number, x1: number): Uint8Array {
  const x = new Uint8Array(128);
  const v = new DataView(x.buffer);
  v.setUint32(0, x0, true);
  v.setUint32(16, x1, true);
  return x;
}

function run(cases: DiffCase[]): Outcome[] {
  if (!native.ok) throw new Error('unreachable');
  return runNative(native.harness, assembleBatch(cases), cases);
}

describe.skipIf(!native.ok)(`native harness SSE state${native.ok ? '' : ` (skipped: ${native.ok ? '' : native.reason})`}`, () => {
  it('reports XMM0-7 and MXCSR at the end of a case and from the signal frame at a fault', () => {
    const load = `movdqu xmm5, [${DATA_BASE + 0x100}]`;
    const [done, fault] = run([sseCase(load, { mxcsr: 0x7f83 }), sseCase(`${load}\nud2`, { mxcsr: 0x7f83 })]);
    for (const o of [done, fault]) {
      expect(o.xmm).not.toBeNull();
      expect(xmmHex(o.xmm!, 5)).toBe('afaeadac_abaaa9a8_a7a6a5a4_a3a2a1a0');
      // The registers the case did not touch keep the per-case fill.
      expect(xmmHex(o.xmm!, 2)).toBe(xmmHex(initialSse(sseCase('')).xmm, 2));
      expect(o.mxcsr).toBe(0x7f83);
    }
    expect(done.exception).toBeNull();
    expect(fault.exception).toBe(6);
  });

  it('maps an unmasked SIMD exception to #XM with the flag set and the destination unchanged', () => {
    const snan = 0x7f800001;
    const one = 0x3f800000;
    const [invalid, zeroDivide, masked] = run([
      sseCase('addss xmm0, xmm1', { xmm: lanes(snan, one), mxcsr: 0x1f80 & ~0x80 }),
      sseCase('divss xmm1, xmm0', { xmm: lanes(0, one), mxcsr: 0x1f80 & ~0x200 }),
      sseCase('addss xmm0, xmm1', { xmm: lanes(snan, one), mxcsr: 0x1f80 }),
    ]);
    expect([invalid.exception, invalid.mxcsr, new DataView(invalid.xmm!.buffer).getUint32(0, true)]).toEqual([19, 0x1f01, snan]);
    expect([zeroDivide.exception, zeroDivide.mxcsr, new DataView(zeroDivide.xmm!.buffer).getUint32(16, true)]).toEqual([19, 0x1d84, one]);
    // Masked: the SNaN is quieted into the destination and only the flag records it.
    expect([masked.exception, masked.mxcsr, new DataView(masked.xmm!.buffer).getUint32(0, true)]).toEqual([null, 0x1f81, 0x7fc00001]);
  });
});
