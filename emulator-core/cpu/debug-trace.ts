/**
 * Opt-in post-mortem trace for hunting CPU bugs that show up only in long guest runs:
 * `TERRARIUM_TRACE_EIP=lo-hi` (hex linear addresses) keeps a ring buffer of the last
 * interrupt deliveries and IRETs, and prints it once, to stderr, with the stack, when an
 * exception is raised by supervisor code executing in that range (for a Linux guest, kernel
 * data: code that should never run). Off, it costs one predictable branch per event; the
 * JIT's dispatch loop has no hook (it is the hottest loop there is), so a hunt that needs
 * block-by-block history adds `traceEvent(c, EV_DISPATCH)` there for the while.
 */
import type { Cpu } from './cpu.js';

const spec = process.env.TERRARIUM_TRACE_EIP;
const range = spec !== undefined ? /^([0-9a-f]+)-([0-9a-f]+)$/i.exec(spec) : null;
export const TRACE = range !== null;
const lo = range !== null ? parseInt(range[1], 16) : 0;
const hi = range !== null ? parseInt(range[2], 16) : 0;

const N = 512;
const FIELDS = 8;
const events = new Int32Array(N * FIELDS);
const kinds = new Uint8Array(N);
let head = 0;
let dumped = false;

const KIND_NAMES = ['', 'int', 'int-done', 'iret', 'iret-done', 'dispatch'];
export const EV_INT = 1;
export const EV_INT_DONE = 2;
export const EV_IRET = 3;
export const EV_IRET_DONE = 4;
export const EV_DISPATCH = 5;

/** Record an event with the CPU's EIP, ESP, EBP, CS and up to three extra values. */
export function traceEvent(c: Cpu, kind: number, a = 0, b = 0, d = 0): void {
  const i = head;
  head = (head + 1) % N;
  kinds[i] = kind;
  const o = i * FIELDS;
  events[o] = c.ip;
  events[o + 1] = c.r32[4];
  events[o + 2] = c.r32[5];
  events[o + 3] = c.segSel[1];
  events[o + 4] = a;
  events[o + 5] = b;
  events[o + 6] = d;
  events[o + 7] = c.instructionCount + c.sliceInstructions;
}

const hex = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** Called when an exception is about to be delivered: dump once if the faulting code is in range. */
export function traceFault(c: Cpu, vector: number, errorCode: number): void {
  if (dumped || c.cpl !== 0) return;
  const eip = c.ip >>> 0;
  if (eip < lo || eip >= hi) return;
  dumped = true;
  const lines = [`*** trace: #${vector} (error ${errorCode}) at ${hex(eip)} esp ${hex(c.r32[4])} ebp ${hex(c.r32[5])}; last ${N} events, oldest first:`];
  for (let k = 0; k < N; k++) {
    const i = (head + k) % N;
    if (kinds[i] === 0) continue;
    const o = i * FIELDS;
    lines.push(
      `${KIND_NAMES[kinds[i]].padEnd(9)} ip ${hex(events[o])} esp ${hex(events[o + 1])} ebp ${hex(events[o + 2])} cs ${events[o + 3].toString(16)} ` +
        `a ${hex(events[o + 4])} b ${hex(events[o + 5])} c ${hex(events[o + 6])} n ${events[o + 7] >>> 0}`,
    );
  }
  const esp = c.r32[4];
  const stack: string[] = [];
  const [savedVector, savedCode] = [c.excVector, c.excCode];
  for (let k = -8; k < 24; k++) {
    try {
      stack.push(hex(c.readSys32((esp + k * 4) | 0)));
    } catch {
      stack.push('????????');
    }
  }
  [c.excVector, c.excCode] = [savedVector, savedCode];
  lines.push(`stack from esp-32: ${stack.join(' ')}`);
  process.stderr.write(lines.join('\n') + '\n');
}
