/**
 * The interpreter's run loop: decode (insn-fetch.ts, the shared decoder), dispatch through
 * the opcode tables, take interrupts between instructions, and turn faults into exception
 * delivery.
 */
import { IF, TF } from './constants.js';
import { canTakeInterrupt, EXIT_BUDGET, EXIT_HALT, EXIT_REQUESTED, EXIT_SHUTDOWN, FAULT, shutdown, type Cpu } from './cpu.js';
import './ops-sse.js';
import { T16, T32 } from './ops.js';
import { lockValid } from './decoder/decoded-insn.js';
import { runModes } from './long/run64.js';
import { deliverException, deliverInterrupt } from './protected.js';

/** Decode and execute one instruction. */
export function step(c: Cpu): void {
  c.instrStart = c.ip;
  const d = c.fetcher.next();
  if (d.lock && !lockValid(d)) c.undefinedOpcode();
  (d.opSize === 4 ? T32 : T16)[d.op](c);
}

/**
 * Execute one instruction; if TF was set when it started (and it neither faulted nor
 * halted), raise the single-step trap (#DB with DR6.BS) after it. Returns false if the
 * trap's delivery shut the CPU down.
 */
export function stepTraced(c: Cpu): boolean {
  step(c);
  if (c.halted) return true;
  c.dr[6] |= 0x4000;
  c.instrStart = c.ip;
  try {
    deliverInterrupt(c, 1, false, -1, false);
    return true;
  } catch (e) {
    if (e !== FAULT) throw e;
    return deliverException(c);
  }
}

/** Deliver a pending NMI or maskable interrupt; returns false if the CPU shut down. */
export function takeInterrupt(c: Cpu): boolean {
  c.instrStart = c.ip;
  c.halted = false;
  try {
    if (c.nmiPending && !c.nmiBlocked) {
      c.nmiPending = false;
      c.nmiBlocked = true;
      deliverInterrupt(c, 2, false, -1, true);
    } else {
      const vector = c.pic === null ? 0xff : c.pic.acknowledge();
      deliverInterrupt(c, vector, false, -1, true);
    }
    return true;
  } catch (e) {
    if (e !== FAULT) throw e;
    return deliverException(c);
  }
}

/**
 * Run up to `budget` instructions. Returns EXIT_BUDGET, EXIT_HALT (HLT with nothing to
 * wake it), EXIT_REQUESTED (someone set exitRequested) or EXIT_SHUTDOWN (triple fault).
 * 64-bit mode runs in long/run64.ts; runModes switches loops where the mode changes.
 */
export function run(c: Cpu, budget: number): number {
  return runModes(c, budget, (b) => runLegacy(c, b));
}

/** The loop for real, protected, VM86 and compatibility mode. */
function runLegacy(c: Cpu, budget: number): number {
  if (c.shutdown) return EXIT_SHUTDOWN;
  c.exitRequested = false;
  if (c.halted) {
    if (!canTakeInterrupt(c)) return EXIT_HALT;
    if (!takeInterrupt(c)) return shutdown(c);
    if (c.modeSwitch) return EXIT_REQUESTED;
  }
  let n = 0;
  while (n < budget) {
    try {
      for (; n < budget; ) {
        if (c.irqInhibit) c.irqInhibit = false;
        else if ((c.intr && (c.flags & IF) !== 0) || c.nmiPending) {
          if (canTakeInterrupt(c) && !takeInterrupt(c)) {
            c.instructionCount += n;
            c.sliceInstructions = 0;
            return shutdown(c);
          }
          if (c.modeSwitch) break;
        }
        if ((c.flags & TF) !== 0) {
          if (!stepTraced(c)) {
            c.instructionCount += ++n;
            c.sliceInstructions = 0;
            return shutdown(c);
          }
        } else step(c);
        c.sliceInstructions = ++n;
        if (c.exitRequested) {
          c.instructionCount += n;
          c.sliceInstructions = 0;
          return c.halted ? EXIT_HALT : EXIT_REQUESTED;
        }
      }
    } catch (e) {
      if (e !== FAULT) throw e;
      n++;
      c.ip = c.instrStart;
      if (!deliverException(c)) {
        c.instructionCount += n;
        c.sliceInstructions = 0;
        return shutdown(c);
      }
    }
    if (c.modeSwitch) break;
  }
  c.instructionCount += n;
  c.sliceInstructions = 0;
  return c.modeSwitch ? EXIT_REQUESTED : EXIT_BUDGET;
}

/** Enter the shutdown state (triple fault) and tell the machine. */
