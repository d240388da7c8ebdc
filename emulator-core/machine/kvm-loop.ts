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
  S_E,
  S_F,
  S_HALT_IF,
  S_MAIL,
  PROBE_HALTED,
  PROBE_WAITS_FOR_SIPI,
  S_PROBE_HALTED,
  S_REPLY,
  S_REQ,
  S_WAKE,
  VCPU_HALTED,
  VCPU_HELD,
} from '../kvm/channel.js';
import { EmulatorError } from '../errors.js';
import { errnoName } from '../kvm/errors.js';
import { VcpuBell, waitChange, type VcpuThread } from '../kvm/vcpu-thread.js';
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
 * Run the guest on `count` vCPUs of `kvm` until the machine's run is over. `entry()` is where
 * the BSP starts after power-on and after each reset (asked again after `m.hardReset()`);
 * the other vCPUs wait for a start-up IPI (KVM's in-kernel local APICs deliver them).
 */
export async function runKvmLoop(m: RunHost, kvm: KvmBackend, count: number, entry: () => EntryEdit | null): Promise<MachineExit> {
  const tracing = m.options.kvm.trace;
  const trace = (msg: string): void => {
    if (tracing) writeSync(2, `[machine ${performance.now().toFixed(1)}] ${msg}\n`);
  };
  const board = m.board;
  const timers = board.timers;
  const io = board.io;
  const mem = board.memory;
  const clock = m.clock;
  /** The running vCPU threads, index = vCPU id; empty between a stop and a start. */
  let threads: VcpuThread[] = [];
  /** Every vCPU rings it with its doorbell: the one word this thread sleeps on. */
  const bell = new VcpuBell();
  let lastActivity = performance.now();
  let probing = false;

  // Interrupt wiring -------------------------------------------------------------------
  // With the in-kernel irqchip, the machine routes our lines into it (KvmIrqchipLines);
  // otherwise our PIC's INTR reaches the vCPU thread, which injects with KVM_INTERRUPT.
  const pic = board.pic;
  if (!kvm.kernelIrqchip) {
    const pins: CpuInterruptPins = {
      setIntr: (high) => threads[0]?.setIntr(high),
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

  /** Start every vCPU (held), give the BSP its entry, then let them run (unless paused); returns the BSP. */
  const start = async (): Promise<VcpuThread> => {
    mirrorLevels();
    // Each vCPU starts in KVM's own power-on state; the entry edits the BSP's.
    try {
      for (let i = 0; i < count; i++) threads.push(await kvm.startVcpu(null, i, bell));
    } catch (e) {
      await stopAll();
      throw e;
    }
    const bsp = threads[0]!;
    const edit = entry();
    if (edit !== null) {
      const powerOn = commandSync(bsp, CMD_GET_STATE) ? bsp.takeState() : null;
      if (powerOn === null) throw bsp.failure ?? new EmulatorError('INTERNAL', 'the vCPU did not report its power-on state');
      bsp.command(CMD_SET_STATE, edit(powerOn));
      if (!awaitCommand(bsp)) throw bsp.failure ?? new EmulatorError('INTERNAL', 'the vCPU did not take its entry state');
    }
    if (!kvm.kernelIrqchip) bsp.setIntr(pic.intrHigh);
    for (const t of threads) t.setMode(m.paused ? MODE_HOLD : MODE_RUN);
    lastActivity = performance.now();
    probing = false;
    return bsp;
  };

  const stopAll = async (): Promise<void> => {
    const all = threads;
    threads = [];
    for (const t of all) await t.stop();
  };

  /** A vCPU whose request waits in its mailbox, or null. */
  const pendingRequest = (): VcpuThread | null => {
    for (const t of threads) if (Atomics.load(t.i32, S_MAIL) === MAIL_REQUEST) return t;
    return null;
  };

  /** The first vCPU thread that failed or went away, as an error. */
  const checkThreads = (): void => {
    for (const t of threads) {
      t.takeMessages();
      if (t.failure !== null) throw t.failure;
      if (t.gone) throw new EmulatorError('INTERNAL', `the thread of vCPU ${threads.indexOf(t)} is gone`);
    }
  };

  const holdRequested = (): boolean => m.resetRequested !== null || m.powerOffRequested !== null || m.stopRequested !== null;

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
    if (holdRequested()) for (const v of threads) v.setMode(MODE_HOLD);
    reply(t, 0);
    return null;
  };

  /** Run a command to completion, serving requests meanwhile (synchronous). */
  const commandSync = (t: VcpuThread, cmd: typeof CMD_GET_STATE | typeof CMD_PROBE): boolean => {
    t.command(cmd);
    return awaitCommand(t);
  };

  /** Wait for the posted command to complete, serving every vCPU's requests meanwhile (synchronous). */
  const awaitCommand = (t: VcpuThread): boolean => {
    const deadline = performance.now() + COMMAND_TIMEOUT_MS;
    while (!t.commandDone) {
      const seen = bell.value;
      const asking = pendingRequest();
      if (asking !== null) {
        serveRequest(asking);
        continue;
      }
      if (t.gone || performance.now() > deadline) return false;
      Atomics.wait(bell.i32, 0, seen, 10);
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

  /** Serve the vCPUs synchronously until `end` (ms) or a quiet spell; a MachineExit ends the run. */
  const serve = (bsp: VcpuThread, end: number): MachineExit | null => {
    for (;;) {
      const seen = bell.value;
      const asking = pendingRequest();
      if (asking !== null) {
        const exit = serveRequest(asking);
        if (exit !== null) return exit;
        if (holdRequested()) return null;
        // A guest polling a port forever must still let timers and host events in.
        if (performance.now() >= end) return null;
        continue;
      }
      // Cheap here (no message port read per wake-up); the main loop reads the messages.
      for (const t of threads) if (t.gone) checkThreads();
      // User-space irqchip (one vCPU): HLT comes to us.
      if (bsp.status === VCPU_HALTED && Atomics.load(bsp.i32, S_HALT_IF) === 0) return haltExit(bsp);
      const now = performance.now();
      if (now >= end || now - lastActivity > BUSY_MS) return null;
      if (timers.nextDeadline() <= clock.now()) timers.runExpired(clock.now());
      // Sleep on the futex at once: polling first measured slower (it steals the CPU the vCPU needs).
      Atomics.wait(bell.i32, 0, seen, Math.min(end - now, BUSY_MS));
    }
  };

  /** Hold every vCPU (pause, reset) and wait until they say so, serving requests meanwhile. */
  const holdAll = async (): Promise<void> => {
    for (const t of threads) t.setMode(MODE_HOLD);
    const deadline = performance.now() + COMMAND_TIMEOUT_MS;
    while (threads.some((t) => t.status !== VCPU_HELD && !t.gone) && performance.now() < deadline) {
      const seen = bell.value;
      const asking = pendingRequest();
      if (asking !== null) {
        serveRequest(asking);
        continue;
      }
      await waitChange(bell.i32, 0, seen, 10);
    }
  };

  /**
   * In-kernel irqchip: has the guest halted for good? Every vCPU halted with interrupts off,
   * or waiting for a start-up IPI, with the BSP halted (the interpreter's rule).
   */
  const haltedForGood = (): boolean =>
    threads.every((t, i) => {
      const probe = Atomics.load(t.i32, S_PROBE_HALTED);
      if (probe === PROBE_WAITS_FOR_SIPI) return i !== 0;
      return probe === PROBE_HALTED && Atomics.load(t.i32, S_HALT_IF) === 0;
    });

  const isRealtime = clock instanceof RealtimeClock;
  trace(`starting ${count} vCPU${count > 1 ? 's' : ''}`);
  let bsp = await start();
  trace('vCPUs started');
  try {
    for (;;) {
      trace(`loop: bsp ${bsp.status} mail ${Atomics.load(bsp.i32, S_MAIL)} mode ${bsp.mode}`);
      checkThreads();
      if (m.stopRequested !== null) return { kind: 'stopped', reason: m.stopRequested };
      if (m.powerOffRequested !== null) return { kind: 'poweroff', reason: m.powerOffRequested };
      if (m.resetRequested !== null) {
        m.resetRequested = null;
        board.com1.flush();
        await stopAll();
        kvm.recreateVm();
        m.hardReset();
        bsp = await start();
        continue;
      }
      if (m.paused) {
        await holdAll();
        if (isRealtime) clock.pause();
        while (m.paused && m.stopRequested === null) await m.waitForWake();
        if (isRealtime) clock.resume();
        for (const t of threads) t.setMode(MODE_RUN);
        lastActivity = performance.now();
        continue;
      }
      timers.runExpired(clock.now());
      const sliceStart = performance.now();
      const next = timers.nextDeadline();
      const untilTimer = next === Infinity ? YIELD_MS : Math.max(0, (next - clock.now()) / 1e6);
      const exit = serve(bsp, sliceStart + Math.min(YIELD_MS, untilTimer));
      if (exit !== null) return exit;
      board.com1.flush();

      // In-kernel irqchip: HLT never comes to us, so look whether a quiet guest halted for good.
      if (kvm.kernelIrqchip && !probing && performance.now() - lastActivity > PROBE_IDLE_MS) {
        probing = true;
        for (const t of threads) t.command(CMD_PROBE);
      }
      if (probing && threads.every((t) => t.commandDone)) {
        probing = false;
        lastActivity = performance.now();
        if (haltedForGood()) return haltExit(bsp);
      }

      if (performance.now() - lastActivity <= BUSY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      // Quiet: sleep until a vCPU rings, the next timer is due, or a host event wakes us.
      const seen = bell.value;
      if (pendingRequest() !== null) continue;
      const due = timers.nextDeadline();
      const ms = due === Infinity ? IDLE_MS : Math.min(IDLE_MS, Math.max(0, (due - clock.now()) / 1e6));
      if (ms < 0.05) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      trace(`idle wait ${ms.toFixed(2)} ms`);
      await Promise.race([waitChange(bell.i32, 0, seen, ms), m.waitForWake()]);
    }
  } finally {
    board.com1.flush();
    if (tracing && !bsp.gone && commandSync(bsp, CMD_GET_STATE)) trace(`BSP state at the end: ${JSON.stringify(bsp.takeState())}`);
    await stopAll();
    // A machine runs once: give the VM and /dev/kvm back (an app process runs many VMs).
    kvm.close();
  }
}
