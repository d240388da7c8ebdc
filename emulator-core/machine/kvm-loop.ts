/**
 * The run loop for the KVM backend, on the machine thread.
 *
 * Threads: this (machine) thread owns the devices, the bus, guest memory and the timers;
 * the vCPU runs KVM_RUN in its own worker (kvm/vcpu-worker.ts). When the guest touches a
 * port or MMIO page, the vCPU posts a request in the shared channel and sleeps on
 * Atomics.wait; this loop runs the access on the same IoBus and GuestMemory the software
 * CPU uses and answers. While requests come back to back it waits for them synchronously
 * (Atomics.wait, a slice of a few ms at a time), so a port access costs two thread
 * switches and no event-loop turn; when the guest goes quiet it waits asynchronously
 * (Atomics.waitAsync) until the next timer deadline, so host events (keys, serial input,
 * pause, power-off) are handled promptly.
 *
 * Interrupts: with the in-kernel irqchip, our device IRQ lines are mirrored into it with
 * KVM_IRQ_LINE (the kernel's PIT drives IRQ 0); otherwise our PIC's INTR output is a flag
 * in the channel, the vCPU injects with KVM_INTERRUPT after asking us for the vector, and
 * HLT comes back to user space. Either way a kick (signal) gets a running vCPU out of
 * KVM_RUN. Device time follows the host clock: the guest's TSC is the host's.
 */
import { writeSync } from 'node:fs';
import type { AccessSize } from '../bus/io-bus.js';
import type { CpuInterruptPins } from '../bus/irq.js';
import { SYSTEM_EVENT_CRASH, SYSTEM_EVENT_RESET, SYSTEM_EVENT_SHUTDOWN, IO_OUT } from '../kvm/abi.js';
import type { KvmBackend } from '../kvm/backend.js';
import {
  CMD_GET_STATE,
  CMD_PROBE,
  CMD_SET_STATE,
  EXIT_KIND_FAIL_ENTRY,
  EXIT_KIND_INTERNAL_ERROR,
  EXIT_KIND_RUN_FAILED,
  EXIT_KIND_SHUTDOWN,
  EXIT_KIND_SYSTEM_EVENT,
  MAIL_REPLY,
  MAIL_REQUEST,
  MODE_HOLD,
  MODE_RUN,
  REQ_EXIT,
  REQ_INTA,
  REQ_IO,
  REQ_MMIO,
  ring,
  S_A,
  S_B,
  S_C,
  S_D,
  S_DOORBELL,
  S_E,
  S_F,
  S_HALT_IF,
  S_MAIL,
  S_PROBE_HALTED,
  S_REPLY,
  S_REQ,
  S_WAKE,
  VCPU_HALTED,
  VCPU_HELD,
} from '../kvm/channel.js';
import { EmulatorError } from '../errors.js';
import { errnoName } from '../kvm/errors.js';
import { waitChange, type VcpuThread } from '../kvm/vcpu-thread.js';
import { RealtimeClock } from './clock.js';
import type { MachineExit } from './types.js';
import type { EntryEdit, RunHost } from './vcpus.js';

/** Longest synchronous stretch before the event loop gets a turn. */
const YIELD_MS = 4;
/** Keep waiting synchronously this long after the last request (bursts of port I/O). */
const BUSY_MS = 1;
/** Longest asynchronous sleep when no timer is due. */
const IDLE_MS = 50;
/** In-kernel irqchip: after this long without exits, ask whether the guest halted for good. */
const PROBE_IDLE_MS = 250;
const COMMAND_TIMEOUT_MS = 5000;

const INTERNAL_ERRORS: Record<number, string> = {
  1: 'emulation failure',
  2: 'exception while delivering an exception',
  3: 'event delivery failed',
  4: 'unexpected exit reason',
};

function where(cs: number, ripLo: number, ripHigh: number): string {
  const rip = ripHigh !== 0 ? ripHigh.toString(16) + (ripLo >>> 0).toString(16).padStart(8, '0') : (ripLo >>> 0).toString(16).padStart(8, '0');
  return `${(cs & 0xffff).toString(16).padStart(4, '0')}:${rip}`;
}

/**
 * Run the guest on `kvm`'s vCPU until the machine's run is over. `entry()` is where the BSP
 * starts after power-on and after each reset (asked again after `m.hardReset()`).
 */
export async function runKvmLoop(m: RunHost, kvm: KvmBackend, entry: () => EntryEdit | null): Promise<MachineExit> {
  const tracing = m.options.kvm.trace;
  const trace = (msg: string): void => {
    if (tracing) writeSync(2, `[machine ${performance.now().toFixed(1)}] ${msg}\n`);
  };
  const board = m.board;
  const timers = board.timers;
  const io = board.io;
  const mem = board.memory;
  const clock = m.clock;
  let thread: VcpuThread | null = null;
  let lastActivity = performance.now();
  let probing = false;

  // Interrupt wiring -------------------------------------------------------------------
  // With the in-kernel irqchip, the machine routes our lines into it (KvmIrqchipLines);
  // otherwise our PIC's INTR reaches the vCPU thread, which injects with KVM_INTERRUPT.
  const pic = board.pic;
  if (!kvm.kernelIrqchip) {
    const pins: CpuInterruptPins = {
      setIntr: (high) => thread?.setIntr(high),
      // Nothing on this board raises NMI.
      raiseNmi: () => {},
    };
    m.pins.attach(pins);
  }
  /** A fresh in-kernel irqchip learns which of our lines are already high. */
  const mirrorLevels = (): void => {
    if (!kvm.kernelIrqchip) return;
    const pci = board.irqRouter.pciMask;
    for (let line = 1; line < 16; line++) if (board.irq(line).high || ((pci >> line) & 1) !== 0) kvm.irqLine(line === 2 ? 9 : line, true);
  };

  const start = async (): Promise<VcpuThread> => {
    mirrorLevels();
    // The vCPU starts in KVM's own power-on state, held; the entry edits that state.
    const t = await kvm.startVcpu(null);
    thread = t;
    const edit = entry();
    if (edit !== null) {
      const powerOn = commandSync(t, CMD_GET_STATE) ? t.takeState() : null;
      if (powerOn === null) throw t.failure ?? new EmulatorError('INTERNAL', 'the vCPU did not report its power-on state');
      t.command(CMD_SET_STATE, edit(powerOn));
      if (!awaitCommand(t)) throw t.failure ?? new EmulatorError('INTERNAL', 'the vCPU did not take its entry state');
    }
    if (!kvm.kernelIrqchip) t.setIntr(pic.intrHigh);
    t.setMode(m.paused ? MODE_HOLD : MODE_RUN);
    lastActivity = performance.now();
    probing = false;
    return t;
  };

  // Requests ---------------------------------------------------------------------------
  const reply = (t: VcpuThread, value: number): void => {
    t.i32[S_REPLY] = value;
    Atomics.store(t.i32, S_MAIL, MAIL_REPLY);
    ring(t.i32, S_WAKE);
  };

  const portIo = (t: VcpuThread): void => {
    const i32 = t.i32;
    const port = i32[S_A] & 0xffff;
    const size = i32[S_B] as AccessSize;
    const count = i32[S_C];
    const data = t.ch.data;
    if (i32[S_D] === IO_OUT) {
      for (let i = 0, o = 0; i < count; i++, o += size) {
        const v = size === 1 ? data[o] : size === 2 ? data[o] | (data[o + 1] << 8) : (data[o] | (data[o + 1] << 8) | (data[o + 2] << 16) | (data[o + 3] << 24)) >>> 0;
        io.write(port, size, v);
      }
    } else {
      for (let i = 0, o = 0; i < count; i++, o += size) {
        const v = io.read(port, size);
        data[o] = v;
        if (size >= 2) data[o + 1] = v >>> 8;
        if (size === 4) {
          data[o + 2] = v >>> 16;
          data[o + 3] = v >>> 24;
        }
      }
    }
  };

  const mmio = (t: VcpuThread): void => {
    const i32 = t.i32;
    const lo = i32[S_A] >>> 0;
    const hi = i32[S_B] >>> 0;
    const len = i32[S_C];
    const write = i32[S_D] !== 0;
    const data = t.ch.data;
    if (hi !== 0) {
      // Nothing decodes above 4 GiB.
      if (!write) data.fill(0xff, 0, 8);
      return;
    }
    for (let done = 0; done < len; ) {
      const addr = (lo + done) >>> 0;
      const n = len - done >= 4 && (addr & 3) === 0 ? 4 : len - done >= 2 && (addr & 1) === 0 ? 2 : 1;
      if (write) {
        const v = n === 1 ? data[done] : n === 2 ? data[done] | (data[done + 1] << 8) : (data[done] | (data[done + 1] << 8) | (data[done + 2] << 16) | (data[done + 3] << 24)) >>> 0;
        if (n === 1) mem.write8(addr, v);
        else if (n === 2) mem.write16(addr, v);
        else mem.write32(addr, v);
      } else {
        const v = n === 1 ? mem.read8(addr) : n === 2 ? mem.read16(addr) : mem.read32(addr);
        for (let i = 0; i < n; i++) data[done + i] = v >>> (i * 8);
      }
      done += n;
    }
  };

  const details = (t: VcpuThread): string => {
    t.takeMessages();
    const text = t.details.filter((d) => d !== '').join('; ');
    t.details.length = 0;
    return text === '' ? '' : ` (${text})`;
  };

  /** The guest stopped in a way only the machine can decide about. */
  const decideExit = (t: VcpuThread): MachineExit | null => {
    const i32 = t.i32;
    const kind = i32[S_A];
    const at = where(i32[S_D], i32[S_E], i32[S_F]);
    board.com1.flush();
    switch (kind) {
      case EXIT_KIND_SHUTDOWN:
        if (m.config.onTripleFault === 'reset') {
          m.resetRequested = 'triple fault';
          return null;
        }
        return { kind: 'crash', reason: `triple fault at ${at}` };
      case EXIT_KIND_SYSTEM_EVENT: {
        const type = i32[S_B];
        if (type === SYSTEM_EVENT_SHUTDOWN) {
          m.powerOffRequested = 'the guest powered off';
          return null;
        }
        if (type === SYSTEM_EVENT_RESET) {
          m.resetRequested = 'the guest reset the machine';
          return null;
        }
        if (type === SYSTEM_EVENT_CRASH) return { kind: 'crash', reason: `the guest reported a crash at ${at}` };
        return { kind: 'crash', reason: `unexpected KVM system event ${type} at ${at}${details(t)}` };
      }
      case EXIT_KIND_INTERNAL_ERROR: {
        const sub = i32[S_B];
        return { kind: 'crash', reason: `KVM internal error: ${INTERNAL_ERRORS[sub] ?? `suberror ${sub}`} at ${at}${details(t)}` };
      }
      case EXIT_KIND_FAIL_ENTRY:
        return { kind: 'crash', reason: `KVM could not enter the guest (hardware entry failure 0x${(i32[S_C] >>> 0).toString(16)}${(i32[S_B] >>> 0).toString(16).padStart(8, '0')}) at ${at}` };
      case EXIT_KIND_RUN_FAILED:
        return { kind: 'crash', reason: `KVM_RUN failed with ${errnoName(i32[S_B])} at ${at}` };
      default:
        return { kind: 'crash', reason: `unexpected KVM exit at ${at}${details(t)}` };
    }
  };

  /** Serve the request in the mailbox; a MachineExit when the run is over. */
  const serveRequest = (t: VcpuThread): MachineExit | null => {
    lastActivity = performance.now();
    switch (t.i32[S_REQ]) {
      case REQ_IO:
        portIo(t);
        break;
      case REQ_MMIO:
        mmio(t);
        break;
      case REQ_INTA:
        reply(t, pic.acknowledge());
        return null;
      case REQ_EXIT: {
        const exit = decideExit(t);
        t.setMode(MODE_HOLD);
        reply(t, 0);
        return exit;
      }
    }
    // A device asked for reset or power-off: the guest must not run on meanwhile.
    if (m.resetRequested !== null || m.powerOffRequested !== null || m.stopRequested !== null) t.setMode(MODE_HOLD);
    reply(t, 0);
    return null;
  };

  /** Run a command to completion, serving requests meanwhile (synchronous). */
  const commandSync = (t: VcpuThread, cmd: typeof CMD_GET_STATE | typeof CMD_PROBE): boolean => {
    t.command(cmd);
    return awaitCommand(t);
  };

  /** Wait for the posted command to complete, serving requests meanwhile (synchronous). */
  const awaitCommand = (t: VcpuThread): boolean => {
    const deadline = performance.now() + COMMAND_TIMEOUT_MS;
    while (!t.commandDone) {
      const seen = Atomics.load(t.i32, S_DOORBELL);
      if (Atomics.load(t.i32, S_MAIL) === MAIL_REQUEST) {
        serveRequest(t);
        continue;
      }
      if (t.gone || performance.now() > deadline) return false;
      Atomics.wait(t.i32, S_DOORBELL, seen, 10);
    }
    return true;
  };

  const stateWhere = (t: VcpuThread): string => {
    if (!commandSync(t, CMD_GET_STATE)) return '????:????????';
    const s = t.takeState();
    return s === null ? '????:????????' : where(s.cs.selector, s.rip, s.ripHigh);
  };

  const haltExit = (t: VcpuThread): MachineExit => {
    board.com1.flush();
    return { kind: 'halt', reason: `the guest halted with interrupts disabled at ${stateWhere(t)}` };
  };

  /** Serve the vCPU synchronously until `end` (ms) or a quiet spell; a MachineExit ends the run. */
  const serve = (t: VcpuThread, end: number): MachineExit | null => {
    const i32 = t.i32;
    for (;;) {
      const seen = Atomics.load(i32, S_DOORBELL);
      if (Atomics.load(i32, S_MAIL) === MAIL_REQUEST) {
        const exit = serveRequest(t);
        if (exit !== null) return exit;
        if (m.resetRequested !== null || m.powerOffRequested !== null || m.stopRequested !== null) return null;
        // A guest polling a port forever must still let timers and host events in.
        if (performance.now() >= end) return null;
        continue;
      }
      if (t.gone) throw t.failure ?? new Error('the vCPU thread is gone');
      if (t.status === VCPU_HALTED && Atomics.load(i32, S_HALT_IF) === 0) return haltExit(t);
      const now = performance.now();
      if (now >= end || now - lastActivity > BUSY_MS) return null;
      if (timers.nextDeadline() <= clock.now()) timers.runExpired(clock.now());
      // Sleep on the futex at once: polling first measured slower (it steals the CPU the vCPU needs).
      Atomics.wait(i32, S_DOORBELL, seen, Math.min(end - now, BUSY_MS));
    }
  };

  /** Hold the vCPU (pause, reset) and wait until it says so, serving requests meanwhile. */
  const hold = async (t: VcpuThread): Promise<void> => {
    t.setMode(MODE_HOLD);
    const deadline = performance.now() + COMMAND_TIMEOUT_MS;
    while (t.status !== VCPU_HELD && !t.gone && performance.now() < deadline) {
      const seen = Atomics.load(t.i32, S_DOORBELL);
      if (Atomics.load(t.i32, S_MAIL) === MAIL_REQUEST) {
        serveRequest(t);
        continue;
      }
      await waitChange(t.i32, S_DOORBELL, seen, 10);
    }
  };

  const isRealtime = clock instanceof RealtimeClock;
  trace('starting the vCPU');
  let t = await start();
  trace('vCPU started');
  try {
    for (;;) {
      trace(`loop: vcpu ${t.status} mail ${Atomics.load(t.i32, S_MAIL)} mode ${t.mode}`);
      t.takeMessages();
      if (t.failure !== null) throw t.failure;
      if (m.stopRequested !== null) return { kind: 'stopped', reason: m.stopRequested };
      if (m.powerOffRequested !== null) return { kind: 'poweroff', reason: m.powerOffRequested };
      if (m.resetRequested !== null) {
        m.resetRequested = null;
        board.com1.flush();
        await t.stop();
        thread = null;
        kvm.recreateVm();
        m.hardReset();
        t = await start();
        continue;
      }
      if (m.paused) {
        await hold(t);
        if (isRealtime) clock.pause();
        while (m.paused && m.stopRequested === null) await m.waitForWake();
        if (isRealtime) clock.resume();
        t.setMode(MODE_RUN);
        lastActivity = performance.now();
        continue;
      }
      timers.runExpired(clock.now());
      const sliceStart = performance.now();
      const next = timers.nextDeadline();
      const untilTimer = next === Infinity ? YIELD_MS : Math.max(0, (next - clock.now()) / 1e6);
      const exit = serve(t, sliceStart + Math.min(YIELD_MS, untilTimer));
      if (exit !== null) return exit;
      board.com1.flush();

      // In-kernel irqchip: HLT never comes to us, so look whether a quiet guest halted for good.
      if (kvm.kernelIrqchip && !probing && performance.now() - lastActivity > PROBE_IDLE_MS) {
        probing = true;
        t.command(CMD_PROBE);
      }
      if (probing && t.commandDone) {
        probing = false;
        lastActivity = performance.now();
        if (Atomics.load(t.i32, S_PROBE_HALTED) !== 0 && Atomics.load(t.i32, S_HALT_IF) === 0) return haltExit(t);
      }

      if (performance.now() - lastActivity <= BUSY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      // Quiet: sleep until the vCPU rings, the next timer is due, or a host event wakes us.
      const seen = Atomics.load(t.i32, S_DOORBELL);
      if (Atomics.load(t.i32, S_MAIL) === MAIL_REQUEST) continue;
      const due = timers.nextDeadline();
      const ms = due === Infinity ? IDLE_MS : Math.min(IDLE_MS, Math.max(0, (due - clock.now()) / 1e6));
      if (ms < 0.05) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      trace(`idle wait ${ms.toFixed(2)} ms`);
      await Promise.race([waitChange(t.i32, S_DOORBELL, seen, ms), m.waitForWake()]);
    }
  } finally {
    board.com1.flush();
    if (tracing && !t.gone && commandSync(t, CMD_GET_STATE)) trace(`vCPU state at the end: ${JSON.stringify(t.takeState())}`);
    await t.stop();
    thread = null;
    // A machine runs once: give the VM and /dev/kvm back (an app process runs many VMs).
    kvm.close();
  }
}
