/**
 * The paced clock: guest time follows the host's wall clock, and the guest CPU's apparent
 * speed stays steady through host stalls (a Linux guest compares its TSC with the PIT and
 * drops the TSC when they disagree).
 */
import { describe, expect, it } from 'vitest';
import { PacedClock, type InstructionCounter } from './clock.js';

/** A CPU that retires instructions at `nsPerInsn` of host time, slice by slice. */
function rig(maxNsPerInstruction?: number): { clock: PacedClock; cpu: InstructionCounter; run: (insns: number, hostNs: number) => void; hostNs: () => number } {
  let hostMs = 1000;
  const clock = new PacedClock(() => hostMs, false, maxNsPerInstruction);
  const cpu: InstructionCounter = { instructionCount: 0, sliceInstructions: 0 };
  clock.counter = cpu;
  return {
    clock,
    cpu,
    run(insns, ns) {
      cpu.instructionCount += insns;
      hostMs += ns / 1e6;
      clock.pace();
    },
    hostNs: () => (hostMs - 1000) * 1e6,
  };
}

describe('PacedClock', () => {
  it('keeps guest time within 50 ms of the host while the speed holds', () => {
    const r = rig();
    for (let i = 0; i < 2000; i++) r.run(500_000, 500_000 * 5); // 2.5 ms slices at 5 ns/insn
    expect(Math.abs(r.clock.now() - r.hostNs())).toBeLessThan(50e6);
    expect(r.clock.nsPerInstruction).toBeGreaterThan(4);
    expect(r.clock.nsPerInstruction).toBeLessThan(6);
  });

  it('a host stall does not make the guest CPU look hundreds of times slower', () => {
    const r = rig();
    for (let i = 0; i < 400; i++) r.run(500_000, 500_000 * 5);
    let slowest = 0;
    for (let i = 0; i < 400; i++) {
      // Every tenth slice the host stalls 8 ms (the JS engine compiling) for 300 instructions.
      if (i % 10 === 0) r.run(300, 8e6);
      else r.run(500_000, 500_000 * 5);
      slowest = Math.max(slowest, r.clock.nsPerInstruction);
    }
    // Catching up may run guest time up to 4x faster, never more.
    expect(slowest).toBeLessThan(5 * 2 * 4);
    expect(Math.abs(r.clock.now() - r.hostNs())).toBeLessThan(100e6);
  });

  it('follows a host that really became slower', () => {
    const r = rig();
    for (let i = 0; i < 400; i++) r.run(500_000, 500_000 * 5);
    for (let i = 0; i < 400; i++) r.run(125_000, 125_000 * 20); // 20 ns/insn from now on
    expect(r.clock.nsPerInstruction).toBeGreaterThan(15);
    expect(r.clock.nsPerInstruction).toBeLessThan(25);
    expect(Math.abs(r.clock.now() - r.hostNs())).toBeLessThan(50e6);
  });

  it('does not count time spent halted as a slow CPU', () => {
    const r = rig();
    for (let i = 0; i < 400; i++) r.run(500_000, 500_000 * 5);
    const before = r.clock.nsPerInstruction;
    // Halted: guest time jumps to the next timer, the host waits there, then resyncs.
    r.clock.skipTo(r.clock.now() + 100e6);
    r.run(0, 100e6);
    r.clock.resync();
    for (let i = 0; i < 20; i++) r.run(500_000, 500_000 * 5);
    expect(r.clock.nsPerInstruction).toBeGreaterThan(before / 2);
    expect(r.clock.nsPerInstruction).toBeLessThan(before * 2);
  });

  it("with at most 1 ns per instruction (clock: 'instructions'), a slow host slows the guest's clock and idle time still passes in real time", () => {
    const r = rig(1);
    // 2 s of host time at 50 ns/insn: 40 M instructions, so 40 ms of guest time, steadily.
    for (let i = 0; i < 800; i++) r.run(50_000, 50_000 * 50);
    expect(r.clock.nsPerInstruction).toBe(1);
    expect(r.clock.now()).toBeCloseTo(40e6, -6);
    // Halted until 100 ms of guest time from now: the host must wait those 100 ms, not 0.
    const target = r.clock.now() + 100e6;
    r.clock.skipTo(target);
    expect((target - r.clock.wallNow()) / 1e6).toBeGreaterThan(95);
    // The realtime default never lets guest time fall that far behind.
    const realtime = rig();
    for (let i = 0; i < 800; i++) realtime.run(50_000, 50_000 * 50);
    expect(Math.abs(realtime.clock.now() - realtime.hostNs())).toBeLessThan(50e6);
  });
});
