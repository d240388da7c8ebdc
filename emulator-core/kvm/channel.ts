/**
 * The shared-memory channel between the machine thread (devices, timers, the bus) and the
 * vCPU thread (KVM_RUN). One SharedArrayBuffer: 32-bit control words used with Atomics, a
 * pthread_t for kicks, and a data area for port and MMIO data.
 *
 * Protocol (one request in flight, from the vCPU):
 *   vCPU:    fill REQ/A..F and the data area; MAIL = REQUEST; bump DOORBELL; wait on WAKE
 *   machine: sees MAIL = REQUEST; runs the access on the bus; fills REPLY and data;
 *            MAIL = REPLY; bump WAKE
 *   vCPU:    reads the reply; MAIL = IDLE; re-enters KVM_RUN
 * The machine steers the vCPU with MODE (run, hold, stop) and one-shot CMDs (load or save
 * the register state, probe whether it is halted), then kicks it out of KVM_RUN with a
 * signal; the vCPU acts at its next exit and acknowledges through DOORBELL.
 */

/** Bumped when the layout or protocol changes: the worker refuses a machine of another version. */
export const CHANNEL_VERSION = 4;

// Int32 slots.
export const S_VERSION = 0;
export const S_MODE = 1;
export const S_CMD = 2;
/** Bumped by the machine (reply, mode, command, interrupt); the vCPU waits on it. */
export const S_WAKE = 3;
/** Bumped by the vCPU (request, acknowledgement, status change); the machine waits on it. */
export const S_DOORBELL = 4;
export const S_VCPU = 5;
/** The guest's IF at the halt the vCPU reported (HALTED status or probe). */
export const S_HALT_IF = 6;
/** INTR from our PIC (user-space irqchip): 1 while an interrupt is pending. */
export const S_INTR = 7;
/** Guards pthread_kill against a vCPU thread that has exited: 0 free, 1 kicking, 2 gone. */
export const S_KICK_LOCK = 8;
export const S_MAIL = 9;
export const S_REQ = 10;
export const S_A = 11;
export const S_B = 12;
export const S_C = 13;
export const S_D = 14;
export const S_E = 15;
export const S_F = 16;
export const S_REPLY = 17;
/** KVM_RUN exits since start (wraps). */
export const S_EXITS = 18;
/** Result of CMD_PROBE: PROBE_RUNNING, PROBE_HALTED or PROBE_WAITS_FOR_SIPI. */
export const S_PROBE_HALTED = 19;
export const PROBE_RUNNING = 0;
export const PROBE_HALTED = 1;
/** An application processor never started, or INITed again: it runs nothing until a start-up IPI. */
export const PROBE_WAITS_FOR_SIPI = 2;
export const INT32_SLOTS = 32;

/** Byte offset of the vCPU thread's pthread_t (a Float64: it fits in 53 bits on Linux). */
export const THREAD_OFFSET = 128;
export const DATA_OFFSET = 256;
/** KVM's string I/O data fits in the rest of the kvm_run page. */
export const DATA_BYTES = 8192;
export const CHANNEL_BYTES = DATA_OFFSET + DATA_BYTES;

export const MODE_RUN = 0;
export const MODE_HOLD = 1;
export const MODE_STOP = 2;

export const CMD_NONE = 0;
export const CMD_SET_STATE = 1;
export const CMD_GET_STATE = 2;
export const CMD_PROBE = 3;

export const VCPU_STARTING = 0;
/** Set up, waiting for the first MODE_RUN. */
export const VCPU_READY = 1;
export const VCPU_RUNNING = 2;
export const VCPU_REQUEST = 3;
/** Halted on HLT (user-space irqchip), waiting for INTR or a command. */
export const VCPU_HALTED = 4;
export const VCPU_HELD = 5;
export const VCPU_EXITED = 6;
export const VCPU_FAILED = 7;

export const MAIL_IDLE = 0;
export const MAIL_REQUEST = 1;
export const MAIL_REPLY = 2;

export const REQ_IO = 1;
export const REQ_MMIO = 2;
/** Interrupt acknowledge: the vector of the PIC's highest pending interrupt, or -1. */
export const REQ_INTA = 3;
/** The guest stopped in a way the machine must decide about. */
export const REQ_EXIT = 4;

export const EXIT_KIND_SHUTDOWN = 1;
export const EXIT_KIND_INTERNAL_ERROR = 2;
export const EXIT_KIND_FAIL_ENTRY = 3;
export const EXIT_KIND_SYSTEM_EVENT = 4;
export const EXIT_KIND_UNKNOWN = 5;
export const EXIT_KIND_RUN_FAILED = 6;

export const REPLY_CONTINUE = 0;

/** Messages on the side MessagePort (structured data the Int32 slots cannot carry). */
export type VcpuMessage =
  | { type: 'state'; state: import('../cpu/state.js').CpuState }
  | { type: 'fatal'; message: string; call: string; errno: number }
  | { type: 'detail'; text: string };

export interface Channel {
  sab: SharedArrayBuffer;
  i32: Int32Array;
  data: Uint8Array;
  thread: Float64Array;
}

export function createChannel(): Channel {
  const sab = new SharedArrayBuffer(CHANNEL_BYTES);
  const ch = openChannel(sab);
  Atomics.store(ch.i32, S_VERSION, CHANNEL_VERSION);
  return ch;
}

export function openChannel(sab: SharedArrayBuffer): Channel {
  return {
    sab,
    i32: new Int32Array(sab, 0, INT32_SLOTS),
    data: new Uint8Array(sab, DATA_OFFSET, DATA_BYTES),
    thread: new Float64Array(sab, THREAD_OFFSET, 1),
  };
}

/** Bump a counter slot and wake whoever waits on it. */
export function ring(i32: Int32Array, slot: number): void {
  Atomics.add(i32, slot, 1);
  Atomics.notify(i32, slot);
}
