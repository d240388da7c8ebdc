/**
 * 64-bit mode against the host CPU (long64/): ALU with REX registers and every operand
 * size, shifts and rotates, MUL/IMUL/DIV/IDIV, MOVSXD/MOVZX/MOVSX, RIP-relative operands,
 * stack and near branches, string instructions, CMPXCHG/XADD/CMPXCHG8B/16B, bit
 * instructions, exceptions (#DE, #GP on non-canonical addresses, #UD on removed
 * opcodes, #PF), x87, MMX and SSE moves (XMM0-15 and MXCSR compared). DIFFTEST_SEED reproduces a run; DIFFTEST_SCALE multiplies the cases.
 */
import { describe, expect, it } from 'vitest';
import { FAMILIES, generate } from './long64/gen.js';
import { compare, native64Status, tallyCases64, type Case64, type Outcome64 } from './long64/run.js';

const status = native64Status();
if (!status.ok) console.warn(`*** SKIPPING the 64-bit differential tests: ${status.reason} ***`);

const seed = process.env.DIFFTEST_SEED !== undefined ? Number(process.env.DIFFTEST_SEED) : (Math.random() * 2 ** 31) | 0;
const scale = Number(process.env.DIFFTEST_SCALE ?? '1');
const PER_FAMILY = Math.max(1, Math.round(100 * scale));
/** DIFFTEST_LONG64_FAMILIES=sse,alu runs only those families (a deep run of one family). */
const ONLY = process.env.DIFFTEST_LONG64_FAMILIES?.split(',').filter((f) => f !== '');
const BATCH = 440;

describe.skipIf(!status.ok)(`64-bit mode against the host CPU${status.ok ? '' : ` (skipped: ${status.reason})`}`, () => {
  it(`every family matches the host (seed ${seed})`, () => {
    if (!status.ok) return;
    const cases = generate(seed, PER_FAMILY, ONLY);
    const { raised, failures } = tallyCases64(status.harness, cases, BATCH);
    const faulted = [...raised.values()].reduce((a, b) => a + b, 0);
    console.log(`64-bit difftest (seed ${seed}): ${cases.length} cases in ${ONLY?.length ?? Object.keys(FAMILIES).length} families, ${faulted} raised exceptions on the host, ${failures.length} differ`);
    // Sanity: the families really exercise both completions and exceptions.
    expect(faulted).toBeGreaterThan(cases.length / 50);
    expect(faulted).toBeLessThan(cases.length / 2);
    expect(failures.slice(0, 20)).toEqual([]);
  });

  it('the comparison sees a difference in any register, flag, exception or byte', () => {
    const k: Case64 = { family: 't', body: '', regs: [], rflags: 2, flagMask: 0x8d5 };
    const base: Outcome64 = { gpr: new Array<bigint>(16).fill(0n), rip: 1n, rflags: 2, vector: -1, errorCode: 0, cr2: 0n, xmm: new Uint8Array(256), mxcsr: 0x1f80, data: new Uint8Array(4), stack: new Uint8Array(4) };
    expect(compare(k, base, { ...base })).toEqual([]);
    const gpr = [...base.gpr];
    gpr[13] = 1n << 40n;
    expect(compare(k, base, { ...base, gpr })).toHaveLength(1);
    expect(compare(k, base, { ...base, rflags: 2 | 0x800 })).toHaveLength(1);
    expect(compare(k, base, { ...base, rflags: 2 | 0x200 })).toEqual([]); // IF is not compared
    expect(compare(k, base, { ...base, vector: 13 })).toHaveLength(1);
    expect(compare(k, base, { ...base, stack: new Uint8Array([0, 0, 1, 0]) })).toHaveLength(1);
    // a32 REP on AMD: RCX's high half is the host's business, its low half still counts.
    const rep: Case64 = { ...k, body: 'a32 rep movsb' };
    const hostRcx = [...base.gpr];
    hostRcx[1] = 1n << 40n;
    expect(compare(rep, { ...base, gpr: hostRcx }, base, 'AuthenticAMD')).toEqual([]);
    expect(compare(rep, { ...base, gpr: hostRcx }, base, 'GenuineIntel')).toHaveLength(1);
    hostRcx[1] = 1n;
    expect(compare(rep, { ...base, gpr: hostRcx }, base, 'AuthenticAMD')).toHaveLength(1);
  });

  it('the comparison sees XMM8-15 and MXCSR, masking only what the case leaves undefined', () => {
    const k: Case64 = { family: 't', body: 'movq xmm12, rax', regs: [], rflags: 2, flagMask: 0x8d5 };
    const base: Outcome64 = { gpr: new Array<bigint>(16).fill(0n), rip: 1n, rflags: 2, vector: -1, errorCode: 0, cr2: 0n, xmm: new Uint8Array(256), mxcsr: 0x1f80, data: new Uint8Array(4), stack: new Uint8Array(4) };
    const xmm = new Uint8Array(256);
    xmm[12 * 16 + 15] = 0x80;
    expect(compare(k, base, { ...base, xmm })).toEqual(['xmm12: host 00000000_00000000_00000000_00000000 terrarium 80000000_00000000_00000000_00000000 (dwords 3..0)']);
    expect(compare({ ...k, xmmUndefined: { 12: 0xffn << 120n } }, base, { ...base, xmm })).toEqual([]);
    expect(compare(k, base, { ...base, mxcsr: 0x9f80 })).toEqual([expect.stringMatching(/^mxcsr: host 0x00001f80 .* terrarium 0x00009f80 \[IM DM ZM OM UM PM FZ RC=nearest\]/)]);
    // CR2 of an FXSAVE fault: AMD reports the image's last byte (vendor.ts).
    const fx: Case64 = { ...k, body: 'fxsave [rax]' };
    const pf: Outcome64 = { ...base, vector: 14, errorCode: 7, cr2: 0x100001ffn };
    expect(compare(fx, pf, { ...pf, cr2: 0x10000000n }, 'AuthenticAMD')).toEqual([]);
    expect(compare(fx, pf, { ...pf, cr2: 0x10000000n }, 'GenuineIntel')).toHaveLength(1);
  });
});
