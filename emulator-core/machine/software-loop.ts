/**
 * The run loop for the software CPU (interpreter and JIT): run the processors in turn up to
 * the next timer deadline in guest time, fire timers, and when every processor halts, jump
 * guest time to the next event and wait for the host clock to get there.
 */
import { EXIT_SHUTDOWN } from '../cpu/cpu.js';
import { PacedClock } from './clock.js';
import type { SoftwareVcpus } from './software-vcpus.js';
import { VirtualClock } from './virtual-clock.js';
import type { MachineExit } from './types.js';
import type { RunHost } from './vcpus.js';

/** Instructions per slice at most, before timers and host events are looked at. */
const MAX_SLICE = 200_000;
/**
 * With several processors, each turn is shorter: a CPU spinning on a lock the other holds,
 * or waiting for its IPI to be answered, wastes at most this much before the other runs.
 */
const SMP_SLICE = 20_000;
const MIN_SLICE = 500;
/** Yield to the host event loop at least this often (ms of wall time). */
const YIELD_MS = 4;

export async function runSoftwareLoop(m: RunHost, vcpus: SoftwareVcpus): Promise<MachineExit> {
  const maxSlice = vcpus.count > 1 ? SMP_SLICE : MAX_SLICE;
  const timers = m.board.timers;
  timers.onEarlierDeadline = () => vcpus.kickCurrent();
  let lastYield = performance.now();
  let udWindowStart = 0;
  let udAtWindowStart = 0;
  for (;;) {
    if (m.stopRequested !== null) return { kind: 'stopped', reason: m.stopRequested };
    if (m.powerOffRequested !== null) return { kind: 'poweroff', reason: m.powerOffRequested };
    if (m.resetRequested !== null) {
      m.resetRequested = null;
      m.hardReset();
    }
    if (m.paused) {
      if (m.clock instanceof PacedClock) m.clock.pause();
      await m.waitForWake();
      if (m.clock instanceof PacedClock) m.clock.resume();
      continue;
    }
    let now = m.clock.now();
    timers.runExpired(now);
    const deadline = timers.nextDeadline();
    let slice = maxSlice;
    if (deadline !== Infinity) {
      // Run exactly up to the next timer event in guest time.
      const clock = m.clock as PacedClock | VirtualClock;
      const wanted = Math.ceil(clock.instructionsUntil(deadline));
      slice = Math.max(MIN_SLICE, Math.min(maxSlice, wanted));
    }
    const next = vcpus.next();
    timers.sliceDeadline = deadline;
    const exit = next >= 0 ? vcpus.runSlice(next, slice) : null;
    timers.sliceDeadline = -Infinity;
    const t1 = performance.now();
    if (m.clock instanceof PacedClock) m.clock.pace();

    if (exit === EXIT_SHUTDOWN) {
      m.board.com1.flush();
      if (m.config.onTripleFault === 'reset') {
        m.hardReset();
        continue;
      }
      return { kind: 'crash', reason: `triple fault at ${vcpus.where()}` };
    }

    // An unknown-opcode storm: thousands of #UD in a second of guest time.
    now = m.clock.now();
    if (now - udWindowStart > 1e9) {
      const uds = vcpus.undefinedOpcodeCount;
      if (uds - udAtWindowStart > 10_000) {
        return {
          kind: 'crash',
          reason: `unknown opcode storm (${uds - udAtWindowStart} invalid opcodes in one second) at ${vcpus.where()}`,
        };
      }
      udWindowStart = now;
      udAtWindowStart = uds;
    }

    // Every processor halted (or waits for a start-up IPI): idle until the next event.
    if (exit === null || vcpus.next() < 0) {
      if (vcpus.allHaltedForGood()) {
        return { kind: 'halt', reason: `the guest halted with interrupts disabled at ${vcpus.where()}` };
      }
      // Wait for the next timer or a host event.
      m.board.com1.flush();
      const next = timers.nextDeadline();
      if (m.clock instanceof VirtualClock) {
        if (next === Infinity) await m.sleep(50);
        else m.clock.skipTo(next);
      } else if (m.clock instanceof PacedClock) {
        // Guest time jumps to the next event; the host waits until wall time gets there.
        const target = next === Infinity ? m.clock.wallNow() + 50e6 : next;
        m.clock.skipTo(target);
        const waitMs = (target - m.clock.wallNow()) / 1e6;
        if (waitMs > 0.05) await m.sleep(Math.min(waitMs, 50));
        m.clock.resync();
      }
      lastYield = performance.now();
      continue;
    }
    if (t1 - lastYield > YIELD_MS) {
      m.board.com1.flush();
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  }
}
