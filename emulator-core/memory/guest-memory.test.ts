import { describe, expect, it } from 'vitest';
import { IoBus } from '../bus/io-bus.js';
import { Cpu } from '../cpu/cpu.js';
import { CPU_STATE, CPU_STATE_BYTES } from '../cpu/state-layout.js';
import { ManualClock } from '../machine/clock.js';
import { GuestMemory, PAGE_SIZE } from './guest-memory.js';

describe('guest memory as one WebAssembly.Memory', () => {
  it('holds RAM, ROM and the CPU state in one page-aligned buffer that wasm can import', () => {
    const mem = new GuestMemory(1 << 20, { romBytes: 3 * PAGE_SIZE + 100 });
    expect(mem.buffer).toBe(mem.wasm.buffer);
    expect(mem.wasm).toBeInstanceOf((globalThis as unknown as { WebAssembly: { Memory: new () => unknown } }).WebAssembly.Memory);
    expect(mem.stateBase).toBe((1 << 20) + 4 * PAGE_SIZE);
    expect(mem.buffer.byteLength).toBeGreaterThanOrEqual(mem.stateBase + CPU_STATE_BYTES);
  });

  it("puts the CPU's registers and TLB where the layout says, visible to both sides", () => {
    const mem = new GuestMemory(1 << 20);
    const cpu = new Cpu(mem, new IoBus(), { clock: new ManualClock() });
    const raw = new DataView(mem.buffer);
    cpu.r32[3] = 0x12345678; // EBX
    expect(raw.getInt32(cpu.stateBase + CPU_STATE.R32 + 12, true)).toBe(0x12345678);
    expect(cpu.r8[12 + 1]).toBe(0x56); // BH is a view over the same bytes
    raw.setInt32(cpu.stateBase + CPU_STATE.SEG_BASE + 4 * 2, 0x7000, true); // SS base
    expect(cpu.segBase[2]).toBe(0x7000);
    cpu.tlb[0x12345] = 0x3007;
    expect(raw.getInt32(cpu.stateBase + CPU_STATE.TLB + 0x12345 * 4, true)).toBe(0x3007);
    // Guest RAM is untouched by CPU state writes.
    expect(mem.u8.subarray(0, 1 << 20).every((b) => b === 0)).toBe(true);
  });

  it('refuses a second CPU when the state area has room for one, naming what to reserve', () => {
    const mem = new GuestMemory(1 << 20);
    new Cpu(mem, new IoBus(), { clock: new ManualClock() });
    expect(() => new Cpu(mem, new IoBus(), { clock: new ManualClock() })).toThrow(/no room .* CPU state \(reserve stateBytes/);
    const two = new GuestMemory(1 << 20, { stateBytes: 2 * CPU_STATE_BYTES });
    const a = new Cpu(two, new IoBus(), { clock: new ManualClock() });
    const b = new Cpu(two, new IoBus(), { clock: new ManualClock() });
    a.r32[0] = 1;
    expect(b.r32[0]).toBe(0);
  });

  it('shares the memory between threads when asked', () => {
    const mem = new GuestMemory(1 << 20, { shared: true });
    expect(mem.buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});
