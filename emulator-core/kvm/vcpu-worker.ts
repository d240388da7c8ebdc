/**
 * The vCPU thread: creates the vCPU, loads its state and runs KVM_RUN in a loop. KVM_RUN
 * blocks, so it lives in its own worker; every exit that needs a device (port or MMIO access,
 * interrupt acknowledge) becomes a request to the machine thread through the shared channel
 * (channel.ts), and this thread sleeps on Atomics.wait until the answer is there.
 *
 * Kicks: the machine sends a real-time signal with pthread_kill. This thread keeps it
 * blocked and lets KVM_RUN unblock it (KVM_SET_SIGNAL_MASK), so a kick that arrives while
 * the guest runs makes KVM_RUN return EINTR, and one that arrives just before entry stays
 * pending and makes the next KVM_RUN return at once: no kick is lost. The signal never runs
 * a handler; sigtimedwait takes it off again.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { CpuState } from '../cpu/state.js';
import { EXIT, exitName, IO_OUT, MP_STATE_HALTED, MP_STATE_INIT_RECEIVED, MP_STATE_RUNNABLE, MP_STATE_UNINITIALIZED, SIZEOF_DEBUGREGS, SIZEOF_FPU, SIZEOF_REGS, SIZEOF_SREGS, SIZEOF_VCPU_EVENTS, SIZEOF_XSAVE, SYSTEM_EVENT_CRASH, SYSTEM_EVENT_RESET, SYSTEM_EVENT_SHUTDOWN, XSAVE_MXCSR, XSAVE_XSTATE_BV } from './abi.js';
import {
  CHANNEL_VERSION,
  CMD_GET_STATE,
  CMD_NONE,
  CMD_PROBE,
  CMD_SET_STATE,
  EXIT_KIND_FAIL_ENTRY,
  EXIT_KIND_INTERNAL_ERROR,
  EXIT_KIND_RUN_FAILED,
  EXIT_KIND_SHUTDOWN,
  EXIT_KIND_SYSTEM_EVENT,
  EXIT_KIND_UNKNOWN,
  MAIL_IDLE,
  MAIL_REPLY,
  MAIL_REQUEST,
  MODE_HOLD,
  MODE_RUN,
  MODE_STOP,
  openChannel,
  REQ_EXIT,
  REQ_INTA,
  REQ_IO,
  REQ_MMIO,
  ring,
  S_A,
  S_B,
  S_C,
  S_CMD,
  S_D,
  S_DOORBELL,
  S_E,
  S_EXITS,
  S_F,
  S_HALT_IF,
  S_INTR,
  S_KICK_LOCK,
  S_MAIL,
  S_MODE,
  S_PROBE_HALTED,
  PROBE_HALTED,
  PROBE_RUNNING,
  PROBE_WAITS_FOR_SIPI,
  S_REPLY,
  S_REQ,
  S_VCPU,
  S_VERSION,
  S_WAKE,
  VCPU_EXITED,
  VCPU_FAILED,
  VCPU_HALTED,
  VCPU_HELD,
  VCPU_READY,
  VCPU_REQUEST,
  VCPU_RUNNING,
  type VcpuMessage,
} from './channel.js';
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
  STATE_MSRS,
  MSR_TSC,
  stateMsrEntries,
} from './cpu-state.js';
import { KvmError } from './errors.js';
import { encodeCpuid, KvmVcpu, runOffsets, type CpuidEntry } from './kvm.js';
import { KERNEL_SIGSET_BYTES, libc } from './native.js';

export interface VcpuWorkerData {
  version: number;
  channel: SharedArrayBuffer;
  port: MessagePort;
  vmFd: number;
  /** KVM's vCPU id, which is also its local APIC ID; 0 is the bootstrap processor. */
  vcpuId: number;
  /** One Int32 the machine thread waits on for every vCPU of the VM; bumped with each doorbell. */
  bell: SharedArrayBuffer;
  mmapSize: number;
  cpuid: CpuidEntry[];
  /** PIC, PIT and LAPIC live in the kernel; otherwise our PIC interrupts through KVM_INTERRUPT. */
  kernelIrqchip: boolean;
  /** Null: KVM's own power-on state. */
  state: CpuState | null;
  signal: number;
}

const EINTR = 4;
const EAGAIN = 11;
/**
 * Polls of the mailbox before sleeping on the futex. Zero: on this 2-CPU host polling measured
 * slower (46k exits/s without, 31k with 2000 polls), as it competes with the machine thread.
 */
const SPIN = 0;
/** How much of kvm_run to read at each exit: the header and the io/mmio union members. */
const HEADER_BYTES = 64;

function main(d: VcpuWorkerData): void {
  const ch = openChannel(d.channel);
  const i32 = ch.i32;
  const port = d.port;
  const c = libc();
  const R = runOffsets();
  const post = (m: VcpuMessage): void => port.postMessage(m);
  const bell = new Int32Array(d.bell);
  /** Tell the machine thread something changed: this vCPU's doorbell, and the VM's bell. */
  const ringMachine = (): void => {
    ring(i32, S_DOORBELL);
    ring(bell, 0);
  };
  if (d.version !== CHANNEL_VERSION || Atomics.load(i32, S_VERSION) !== CHANNEL_VERSION) {
    throw new KvmError(`the vCPU worker speaks channel version ${CHANNEL_VERSION}, the machine ${d.version}; rebuild (npm run build)`, 'worker', 0);
  }

  // Block the kick signal here, and let KVM_RUN run with the thread's previous mask.
  const oldMask = c.blockSignal(d.signal);
  const vcpu = KvmVcpu.create(d.vmFd, d.vcpuId, d.mmapSize);
  const mask = new Uint8Array(4 + KERNEL_SIGSET_BYTES);
  new DataView(mask.buffer).setUint32(0, KERNEL_SIGSET_BYTES, true);
  mask.set(oldMask.subarray(0, KERNEL_SIGSET_BYTES), 4);
  vcpu.set('KVM_SET_SIGNAL_MASK', mask, 'cannot set the vCPU signal mask');
  vcpu.set('KVM_SET_CPUID2', encodeCpuid(d.cpuid), 'cannot set the guest CPUID');

  const hdr = new Uint8Array(HEADER_BYTES);
  const hv = new DataView(hdr.buffer);
  const one = new Uint8Array(1);
  const mp = new Uint8Array(4);
  const xsave = new Uint8Array(SIZEOF_XSAVE);
  const xv = new DataView(xsave.buffer);
  const mpv = new DataView(mp.buffer);
  /** User-space irqchip: the guest executed HLT and waits for an interrupt. */
  let halted = false;
  /** The last exit left an I/O or MMIO instruction for the next KVM_RUN to complete. */
  let pendingCompletion = false;
  let exits = 0;

  const setRunByte = (offset: number, v: number): void => {
    one[0] = v;
    vcpu.writeRun(offset, one, 1);
  };

  /** Post a request to the machine thread and wait for the reply. */
  const request = (type: number, a: number, b: number, cc: number, dd: number, e = 0, f = 0): number => {
    i32[S_REQ] = type;
    i32[S_A] = a;
    i32[S_B] = b;
    i32[S_C] = cc;
    i32[S_D] = dd;
    i32[S_E] = e;
    i32[S_F] = f;
    Atomics.store(i32, S_VCPU, VCPU_REQUEST);
    Atomics.store(i32, S_MAIL, MAIL_REQUEST);
    ringMachine();
    for (let spins = 0; ; spins++) {
      const w = Atomics.load(i32, S_WAKE);
      if (Atomics.load(i32, S_MAIL) === MAIL_REPLY) break;
      if (spins >= SPIN) Atomics.wait(i32, S_WAKE, w, 50);
    }
    const reply = i32[S_REPLY];
    Atomics.store(i32, S_MAIL, MAIL_IDLE);
    Atomics.store(i32, S_VCPU, VCPU_RUNNING);
    return reply;
  };

  const loadState = (s: CpuState): void => {
    vcpu.set('KVM_SET_SREGS', encodeSregs(s), 'cannot load the segment and control registers');
    vcpu.set('KVM_SET_REGS', encodeRegs(s), 'cannot load the general registers');
    vcpu.set('KVM_SET_FPU', encodeFpu(s), 'cannot load the FPU state');
    // Some kernels drop MXCSR in KVM_GET/SET_FPU; the XSAVE image carries it reliably.
    if (vcpu.tryIoctl('KVM_GET_XSAVE', xsave) >= 0) {
      xv.setUint32(XSAVE_MXCSR, s.sse.mxcsr, true);
      xv.setUint8(XSAVE_XSTATE_BV, xv.getUint8(XSAVE_XSTATE_BV) | 2); // SSE state present
      vcpu.tryIoctl('KVM_SET_XSAVE', xsave);
    }
    // KVM_SET_MSRS stops at the first MSR it refuses; skip that one and go on.
    let entries = stateMsrEntries(s);
    while (entries.length > 0) {
      const n = vcpu.tryIoctl('KVM_SET_MSRS', encodeMsrs(entries));
      if (n < 0) throw new KvmError('cannot load the MSRs', 'KVM_SET_MSRS', -n);
      if (n < entries.length) post({ type: 'detail', text: `KVM refused MSR 0x${entries[n][0].toString(16)}` });
      entries = entries.slice(n + 1);
    }
    vcpu.tryIoctl('KVM_SET_DEBUGREGS', encodeDebugRegs(s));
    vcpu.tryIoctl('KVM_SET_VCPU_EVENTS', encodeEvents(s));
    if (d.kernelIrqchip) {
      mpv.setUint32(0, s.halted ? MP_STATE_HALTED : MP_STATE_RUNNABLE, true);
      vcpu.set('KVM_SET_MP_STATE', mp, 'cannot set the vCPU run state');
    } else {
      halted = s.halted;
    }
    pendingCompletion = false;
  };

  const readState = (): CpuState => {
    const s = blankState();
    decodeRegs(vcpu.get('KVM_GET_REGS', new Uint8Array(SIZEOF_REGS), 'cannot read the general registers'), s);
    decodeSregs(vcpu.get('KVM_GET_SREGS', new Uint8Array(SIZEOF_SREGS), 'cannot read the segment registers'), s);
    decodeFpu(vcpu.get('KVM_GET_FPU', new Uint8Array(SIZEOF_FPU), 'cannot read the FPU state'), s);
    if (vcpu.tryIoctl('KVM_GET_XSAVE', xsave) >= 0) s.sse.mxcsr = xv.getUint32(XSAVE_MXCSR, true);
    for (const index of [MSR_TSC, ...STATE_MSRS]) {
      const b = encodeMsrs([[index, 0, 0]]);
      if (vcpu.tryIoctl('KVM_GET_MSRS', b) === 1) applyMsrEntries(decodeMsrs(b, 1), s);
    }
    const dr = new Uint8Array(SIZEOF_DEBUGREGS);
    if (vcpu.tryIoctl('KVM_GET_DEBUGREGS', dr) >= 0) decodeDebugRegs(dr, s);
    const ev = new Uint8Array(SIZEOF_VCPU_EVENTS);
    if (vcpu.tryIoctl('KVM_GET_VCPU_EVENTS', ev) >= 0) decodeEvents(ev, s);
    if (d.kernelIrqchip) s.halted = vcpu.tryIoctl('KVM_GET_MP_STATE', mp) >= 0 && mpv.getUint32(0, true) === MP_STATE_HALTED;
    else s.halted = halted;
    return s;
  };

  const where = (): [number, number, number] => {
    const s = blankState();
    decodeRegs(vcpu.get('KVM_GET_REGS', new Uint8Array(SIZEOF_REGS), 'cannot read the general registers'), s);
    decodeSregs(vcpu.get('KVM_GET_SREGS', new Uint8Array(SIZEOF_SREGS), 'cannot read the segment registers'), s);
    return [s.cs.selector, s.rip, s.ripHigh];
  };

  const exitRequest = (kind: number, lo: number, hi: number): void => {
    const [cs, rip, ripHigh] = where();
    request(REQ_EXIT, kind, lo, hi, cs, rip, ripHigh);
  };

  /** Handle one exit of KVM_RUN (r >= 0). */
  const handleExit = (): void => {
    vcpu.readRun(hdr, 0, HEADER_BYTES);
    const reason = hv.getUint32(R.exitReason, true);
    switch (reason) {
      case EXIT.IO: {
        const dir = hdr[R.ioDirection];
        const size = hdr[R.ioSize];
        const portNo = hv.getUint16(R.ioPort, true);
        const count = hv.getUint32(R.ioCount, true);
        const dataAddr = vcpu.runAddr + Number(hv.getBigUint64(R.ioDataOffset, true));
        const bytes = size * count;
        if (dir === IO_OUT) c.copyFrom(ch.data, dataAddr, bytes);
        request(REQ_IO, portNo, size, count, dir);
        if (dir !== IO_OUT) c.copyTo(dataAddr, ch.data, bytes);
        pendingCompletion = true;
        return;
      }
      case EXIT.MMIO: {
        const isWrite = hdr[R.mmioIsWrite];
        const len = hv.getUint32(R.mmioLen, true);
        ch.data.set(hdr.subarray(R.mmioData, R.mmioData + 8));
        request(REQ_MMIO, hv.getUint32(R.mmioPhys, true), hv.getUint32(R.mmioPhys + 4, true), len, isWrite);
        if (isWrite === 0) vcpu.writeRun(R.mmioData, ch.data, 8);
        pendingCompletion = true;
        return;
      }
      case EXIT.HLT:
        halted = true;
        return;
      case EXIT.IRQ_WINDOW_OPEN:
      case EXIT.INTR:
        return;
      case EXIT.SHUTDOWN:
        exitRequest(EXIT_KIND_SHUTDOWN, 0, 0);
        return;
      case EXIT.SYSTEM_EVENT: {
        const type = hv.getUint32(R.eventType, true);
        if (type !== SYSTEM_EVENT_SHUTDOWN && type !== SYSTEM_EVENT_RESET && type !== SYSTEM_EVENT_CRASH) post({ type: 'detail', text: `system event ${type}` });
        exitRequest(EXIT_KIND_SYSTEM_EVENT, type, 0);
        return;
      }
      case EXIT.INTERNAL_ERROR: {
        const big = new Uint8Array(R.internalData + 16 * 8);
        vcpu.readRun(big, 0, big.length);
        const bv = new DataView(big.buffer);
        const sub = bv.getUint32(R.internalSuberror, true);
        const n = Math.min(16, bv.getUint32(R.internalNdata, true));
        const data: string[] = [];
        for (let i = 0; i < n; i++) data.push('0x' + bv.getBigUint64(R.internalData + i * 8, true).toString(16));
        post({ type: 'detail', text: data.length > 0 ? `data ${data.join(' ')}` : '' });
        exitRequest(EXIT_KIND_INTERNAL_ERROR, sub, 0);
        return;
      }
      case EXIT.FAIL_ENTRY: {
        const lo = hv.getUint32(R.failReason, true);
        const hi = hv.getUint32(R.failReason + 4, true);
        exitRequest(EXIT_KIND_FAIL_ENTRY, lo, hi);
        return;
      }
      default:
        post({ type: 'detail', text: exitName(reason) });
        exitRequest(EXIT_KIND_UNKNOWN, reason, 0);
    }
  };

  /** Let KVM finish an instruction whose I/O was answered, without running the guest on. */
  const flush = (): void => {
    while (pendingCompletion) {
      pendingCompletion = false;
      setRunByte(R.immediateExit, 1);
      const r = vcpu.run();
      setRunByte(R.immediateExit, 0);
      if (r === -EINTR) c.consumeSignal(d.signal);
      else if (r >= 0) handleExit(); // string I/O may need another round trip
      else if (r !== -EAGAIN) throw new KvmError('cannot complete the pending I/O instruction', 'KVM_RUN', -r);
    }
  };

  const command = (cmd: number): void => {
    switch (cmd) {
      case CMD_SET_STATE: {
        const m = receiveMessageOnPort(port)?.message as VcpuMessage | undefined;
        if (m?.type !== 'state') throw new KvmError('the machine asked for a state load without sending the state', 'worker', 0);
        flush();
        loadState(m.state);
        break;
      }
      case CMD_GET_STATE:
        flush();
        post({ type: 'state', state: readState() });
        break;
      case CMD_PROBE: {
        const state = d.kernelIrqchip && vcpu.tryIoctl('KVM_GET_MP_STATE', mp) >= 0 ? mpv.getUint32(0, true) : -1;
        const waitsForSipi = state === MP_STATE_UNINITIALIZED || state === MP_STATE_INIT_RECEIVED;
        const isHalted = d.kernelIrqchip ? state === MP_STATE_HALTED : halted;
        vcpu.readRun(hdr, 0, HEADER_BYTES);
        Atomics.store(i32, S_HALT_IF, hdr[R.ifFlag]);
        Atomics.store(i32, S_PROBE_HALTED, waitsForSipi ? PROBE_WAITS_FOR_SIPI : isHalted ? PROBE_HALTED : PROBE_RUNNING);
        break;
      }
    }
    Atomics.store(i32, S_CMD, CMD_NONE);
    ringMachine();
  };

  /** Obey commands and modes; false when told to stop. */
  const control = (): boolean => {
    for (;;) {
      const cmd = Atomics.load(i32, S_CMD);
      if (cmd !== CMD_NONE) {
        command(cmd);
        continue;
      }
      const mode = Atomics.load(i32, S_MODE);
      if (mode === MODE_STOP) return false;
      if (mode === MODE_RUN) return true;
      // MODE_HOLD: bring the state up to date, say so, sleep until told otherwise.
      flush();
      const w = Atomics.load(i32, S_WAKE);
      if (Atomics.load(i32, S_VCPU) !== VCPU_HELD) {
        Atomics.store(i32, S_VCPU, VCPU_HELD);
        ringMachine();
      }
      if (Atomics.load(i32, S_MODE) === MODE_HOLD && Atomics.load(i32, S_CMD) === CMD_NONE) Atomics.wait(i32, S_WAKE, w, 1000);
    }
  };

  if (d.state !== null) loadState(d.state);
  ch.thread[0] = c.pthreadSelf();
  Atomics.store(i32, S_VCPU, VCPU_READY);
  ringMachine();

  try {
    for (;;) {
      if (!control()) break;
      if (!d.kernelIrqchip) {
        if (halted) {
          // HLT: sleep until our PIC raises INTR (and the guest can take it) or the machine wants something.
          vcpu.readRun(hdr, 0, HEADER_BYTES);
          const ifFlag = hdr[R.ifFlag];
          const canWake = (): boolean => ifFlag !== 0 && Atomics.load(i32, S_INTR) !== 0;
          if (Atomics.load(i32, S_VCPU) !== VCPU_HALTED) {
            Atomics.store(i32, S_HALT_IF, ifFlag);
            Atomics.store(i32, S_VCPU, VCPU_HALTED);
            ringMachine();
          }
          const w = Atomics.load(i32, S_WAKE);
          if (!canWake() && Atomics.load(i32, S_MODE) === MODE_RUN && Atomics.load(i32, S_CMD) === CMD_NONE) Atomics.wait(i32, S_WAKE, w, 1000);
          if (!canWake()) continue;
          halted = false;
        }
        // Inject what our PIC holds when the guest can take it, else ask KVM to exit when it can.
        vcpu.readRun(hdr, 0, 16);
        if (Atomics.load(i32, S_INTR) !== 0 && hdr[R.readyForInjection] !== 0 && hdr[R.ifFlag] !== 0) {
          const vector = request(REQ_INTA, 0, 0, 0, 0);
          if (vector >= 0) vcpu.interrupt(vector);
        }
        setRunByte(R.requestInterruptWindow, Atomics.load(i32, S_INTR) !== 0 ? 1 : 0);
      }
      Atomics.store(i32, S_VCPU, VCPU_RUNNING);
      const r = vcpu.run();
      exits++;
      Atomics.store(i32, S_EXITS, exits | 0);
      pendingCompletion = false;
      if (r === -EINTR) {
        c.consumeSignal(d.signal);
        continue;
      }
      if (r === -EAGAIN) continue;
      if (r < 0) {
        post({ type: 'detail', text: `KVM_RUN failed with errno ${-r}` });
        exitRequest(EXIT_KIND_RUN_FAILED, -r, 0);
        continue;
      }
      handleExit();
    }
  } finally {
    // No kick may reach this thread once it is gone.
    while (Atomics.compareExchange(i32, S_KICK_LOCK, 0, 2) === 1);
    vcpu.close();
  }
  Atomics.store(i32, S_VCPU, VCPU_EXITED);
  ringMachine();
}

const data = workerData as VcpuWorkerData;
try {
  main(data);
} catch (e) {
  const err = e instanceof KvmError ? e : null;
  const i32 = new Int32Array(data.channel, 0, 32);
  data.port.postMessage({ type: 'fatal', message: (e as Error).message, call: err?.call ?? 'worker', errno: err?.errno ?? 0 } satisfies VcpuMessage);
  while (Atomics.compareExchange(i32, S_KICK_LOCK, 0, 2) === 1);
  Atomics.store(i32, S_VCPU, VCPU_FAILED);
  ring(i32, S_DOORBELL);
  ring(new Int32Array(data.bell), 0);
}
