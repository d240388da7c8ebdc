/**
 * Opt-in post-mortem trace for hunting CPU bugs that show up only in long guest runs:
 * `TERRARIUM_TRACE_EIP=lo-hi` (hex linear addresses; parsed in app/, passed as the
 * machine's `traceEip` option, which puts an EipTrace on `cpu.eipTrace`) keeps a ring
 * buffer of the last interrupt deliveries and IRETs, and prints it once, to stderr, with
 * the stack, when an exception is raised by supervisor code executing in that range (for a
 * Linux guest, kernel data: code that should never run). Off (`cpu.eipTrace` null), it
 * costs one field test per event; the JIT's dispatch loop has no hook (it is the hottest
 * loop there is), so a hunt that needs block-by-block history adds
 * `c.eipTrace?.event(c, EV_DISPATCH)` there for the while.
 */
import type { Cpu } from './cpu.js';

const N = 512;
const FIELDS = 8;

const KIND_NAMES = ['', 'int', 'int-done', 'iret', 'iret-done', 'dispatch'];
export const EV_INT = 1;
export const EV_INT_DONE = 2;
export const EV_IRET = 3;
export const EV_IRET_DONE = 4;
export const EV_DISPATCH = 5;

const hex = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

export class EipTrace {
  private readonly events = new Int32Array(N * FIELDS);
  private readonly kinds = new Uint8Array(N);
  private head = 0;
  private dumped = false;

  /** Dump at a supervisor fault with lo <= EIP < hi (unsigned linear addresses). */
  constructor(
    private readonly lo: number,
    private readonly hi: number,
  ) {}

  /** Record an event with the CPU's EIP, ESP, EBP, CS and up to three extra values. */
  event(c: Cpu, kind: number, a = 0, b = 0, d = 0): void {
    const i = this.head;
    this.head = (this.head + 1) % N;
    this.kinds[i] = kind;
    const o = i * FIELDS;
    const events = this.events;
    events[o] = c.ip;
    events[o + 1] = c.r32[4];
    events[o + 2] = c.r32[5];
    events[o + 3] = c.segSel[1];
    events[o + 4] = a;
    events[o + 5] = b;
    events[o + 6] = d;
    events[o + 7] = c.instructionCount + c.sliceInstructions;
  }

  /** Called when an exception is about to be delivered: dump once if the faulting code is in range. */
  fault(c: Cpu, vector: number, errorCode: number): void {
    if (this.dumped || c.cpl !== 0) return;
    const eip = c.ip >>> 0;
    if (eip < this.lo || eip >= this.hi) return;
    this.dumped = true;
    const { events, kinds, head } = this;
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
}
