/** CpuState <-> KVM register structures, without /dev/kvm. */
import { describe, expect, it } from 'vitest';
import { Cpu } from '../cpu/cpu.js';
import { getCpuState } from '../cpu/state-convert.js';
import type { CpuState } from '../cpu/state.js';
import { IoBus } from '../bus/io-bus.js';
import { ManualClock } from '../machine/clock.js';
import { GuestMemory } from '../memory/guest-memory.js';
import {
  applyMsrEntries,
  blankState,
  decodeDebugRegs,
  decodeEvents,
  decodeFpu,
  decodeMsrs,
  decodeRegs,
  decodeSregs,
  encodeDebugRegs,
  encodeEvents,
  encodeFpu,
  encodeMsrs,
  encodeRegs,
  encodeSregs,
  stateMsrEntries,
} from './cpu-state.js';

function softwareResetState(): CpuState {
  const cpu = new Cpu(new GuestMemory(1 << 20), new IoBus(), { clock: new ManualClock() });
  return getCpuState(cpu);
}

function roundTrip(s: CpuState): CpuState {
  const out = blankState();
  decodeRegs(encodeRegs(s), out);
  decodeSregs(encodeSregs(s), out);
  decodeFpu(encodeFpu(s), out);
  applyMsrEntries(decodeMsrs(encodeMsrs(stateMsrEntries(s)), stateMsrEntries(s).length), out);
  decodeDebugRegs(encodeDebugRegs(s), out);
  decodeEvents(encodeEvents(s), out);
  out.halted = s.halted;
  out.fpu.cs = s.fpu.cs;
  out.fpu.ds = s.fpu.ds;
  return out;
}

describe('CpuState conversion for KVM', () => {
  it('the software CPU reset state (F000:FFF0, CS base FFFF0000) survives the trip', () => {
    const s = softwareResetState();
    expect(s.cs).toEqual({ selector: 0xf000, base: 0xffff0000, limit: 0xffff, access: 0x9b });
    const back = roundTrip(s);
    for (const k of ['gpr', 'rip', 'rflags', 'cs', 'ds', 'es', 'fs', 'gs', 'ss', 'ldtr', 'tr', 'gdtr', 'idtr', 'cr0', 'cr3', 'cr4', 'efer', 'dr', 'tsc'] as const) {
      expect(back[k], k).toEqual(s[k]);
    }
    for (const [k, v] of Object.entries(s.msrs)) expect(back.msrs[k], k).toBe(v);
  });

  it('kvm_regs order is rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp; CpuState is x86 encoding order', () => {
    const s = blankState();
    s.gpr = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
    s.gprHigh[6] = 0xffff8000;
    s.rip = 0x1000;
    s.ripHigh = 0xffffffff;
    const b = encodeRegs(s);
    const d = new DataView(b.buffer);
    expect(d.getUint32(8, true)).toBe(4); // rbx = gpr[3]
    expect(d.getUint32(32, true)).toBe(7); // rsi = gpr[6]
    expect(d.getUint32(36, true)).toBe(0xffff8000);
    expect(d.getUint32(48, true)).toBe(5); // rsp = gpr[4]
    const out = blankState();
    decodeRegs(b, out);
    expect(out.gpr).toEqual(s.gpr);
    expect(out.gprHigh[6]).toBe(0xffff8000);
    expect([out.rip, out.ripHigh]).toEqual([0x1000, 0xffffffff]);
  });

  it('segment access rights map onto kvm_segment fields and back (64-bit code, unusable)', () => {
    const s = blankState();
    s.cs = { selector: 0x10, base: 0, limit: 0xffffffff, access: 0x80 | 0x10 | 0xb | (1 << 13) | (1 << 15) };
    s.ds = { selector: 0, base: 0, limit: 0, access: 1 << 16 };
    s.tr = { selector: 0x28, base: 0x5000, limit: 0x67, access: 0x8b };
    const out = blankState();
    decodeSregs(encodeSregs(s), out);
    expect(out.cs).toEqual(s.cs);
    expect(out.ds).toEqual(s.ds);
    expect(out.tr).toEqual(s.tr);
  });

  it('x87 registers: physical order in CpuState, stack order in kvm_fpu; full and abridged tags', () => {
    const s = blankState();
    // TOP = 6: ST0 = R6, ST1 = R7; R6 holds 1.0, R7 holds 0.0, the rest are empty.
    s.fpu.status = 6 << 11;
    s.fpu.regs[6] = '3fff8000000000000000';
    s.fpu.regs[7] = '00000000000000000000';
    s.fpu.tag = 0xffff & ~(3 << 12) & ~(3 << 14) | (1 << 14); // R6 valid (00), R7 zero (01)
    s.sse.xmm[3] = '00112233445566778899aabbccddeeff';
    s.sse.mxcsr = 0x1fa0;
    const b = encodeFpu(s);
    // ST0 (first fpr slot) is R6; its last two bytes are the exponent 0x3fff.
    expect([b[8], b[9]]).toEqual([0xff, 0x3f]);
    expect(b[132]).toBe(0xc0); // ftwx: R6 and R7 not empty
    const out = blankState();
    decodeFpu(b, out);
    expect(out.fpu.regs[6]).toBe(s.fpu.regs[6]);
    expect(out.fpu.regs[7]).toBe(s.fpu.regs[7]);
    expect(out.fpu.tag).toBe(s.fpu.tag);
    expect(out.sse.xmm[3]).toBe(s.sse.xmm[3]);
    expect(out.sse.mxcsr).toBe(0x1fa0);
  });

  it('long-mode FS/GS bases travel as MSRs; interrupt shadow and pending NMI as vCPU events', () => {
    const s = blankState();
    s.msrs['0xc0000101'] = '0xffff888012345678';
    s.tsc = '0x0000001234567890';
    s.interruptShadow = true;
    s.nmiPending = true;
    const entries = stateMsrEntries(s);
    expect(entries).toContainEqual([0xc0000101, 0x12345678, 0xffff8880]);
    expect(entries).toContainEqual([0x10, 0x34567890, 0x12]);
    const out = blankState();
    decodeEvents(encodeEvents(s), out);
    expect([out.interruptShadow, out.nmiPending]).toEqual([true, true]);
  });
});
