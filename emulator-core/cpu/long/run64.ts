/**
 * The 64-bit mode run loop, and the dispatcher that switches between it and the 32-bit
 * loops (interpreter or JIT) where the mode changes. The 32-bit loops never test for
 * 64-bit mode per instruction: a CS load that enters or leaves 64-bit mode sets
 * cpu.modeSwitch with exitRequested (cpu.updateMode), the loop returns, and runModes
 * continues the slice in the other loop.
 */
import { TF } from '../constants.js';
import { canTakeInterrupt, EXIT_BUDGET, EXIT_HALT, EXIT_REQUESTED, EXIT_SHUTDOWN, FAULT, shutdown, type Cpu } from '../cpu.js';
import { deliverException } from '../protected.js';
import { step64 } from './exec64.js';
import { deliverInterrupt64 } from './system64.js';

/** Deliver the pending NMI or external interrupt; false when that shut the CPU down. */
export function takeInterrupt64(c: Cpu): boolean {
  c.instrStart = c.ip;
  c.lm.instrStartHi = c.lm.ripHi;
  c.halted = false;
  try {
    if (c.nmiPending && !c.nmiBlocked) {
      c.nmiPending = false;
      c.nmiBlocked = true;
      deliverInterrupt64(c, 2, false, -1, true);
    } else {
      const vector = c.pic === null ? 0xff : c.pic.acknowledge();
      deliverInterrupt64(c, vector, false, -1, true);
    }
    return true;
  } catch (e) {
    if (e !== FAULT) throw e;
    return deliverException(c);
  }
}

/**
 * After a fault (FAULT caught) in 64-bit code: back to the faulting instruction and deliver
 * the exception; false when that shut the CPU down.
 */
export function faulted64(c: Cpu): boolean {
  c.ip = c.instrStart;
  c.lm.ripHi = c.lm.instrStartHi;
  c.fetchSpan = -1;
  return deliverException(c);
}

/** One instruction, followed by its single-step trap when TF was set. */
export function interpretOne64(c: Cpu): void {
  const traced = (c.flags & TF) !== 0;
  step64(c);
  if (traced && !c.halted) {
    c.dr[6] |= 0x4000;
    c.instrStart = c.ip;
    c.lm.instrStartHi = c.lm.ripHi;
    deliverInterrupt64(c, 1, false, -1, false);
  }
}

/** Run up to `budget` instructions in 64-bit mode (same exits as the 32-bit loops). */
export function run64(c: Cpu, budget: number): number {
  if (c.shutdown) return EXIT_SHUTDOWN;
  c.exitRequested = false;
  c.modeSwitch = false;
  if (c.halted) {
    if (!canTakeInterrupt(c)) return EXIT_HALT;
    if (!takeInterrupt64(c)) return shutdown(c);
  }
  let n = 0;
  const finish = (exit: number): number => {
    c.instructionCount += n;
    c.sliceInstructions = 0;
    return exit;
  };
  while (n < budget) {
    try {
      for (; n < budget; ) {
        if (c.irqInhibit) c.irqInhibit = false;
        else if (canTakeInterrupt(c) && !takeInterrupt64(c)) return finish(shutdown(c));
        if (c.modeSwitch) return finish(EXIT_REQUESTED);
        interpretOne64(c);
        c.sliceInstructions = ++n;
        if (c.exitRequested) return finish(c.halted ? EXIT_HALT : EXIT_REQUESTED);
      }
    } catch (e) {
      if (e !== FAULT) throw e;
      n++;
      if (!faulted64(c)) return finish(shutdown(c));
      if (c.modeSwitch) return finish(EXIT_REQUESTED);
    }
  }
  return finish(EXIT_BUDGET);
}

/**
 * Run a slice of `budget` instructions, in 64-bit mode through `long` (run64, or the JIT's
 * loop) and otherwise through `legacy` (the interpreter's or the JIT's loop), switching
 * where the mode changes.
 */
export function runModes(c: Cpu, budget: number, legacy: (budget: number) => number, long: (budget: number) => number = (b) => run64(c, b)): number {
  let left = budget;
  for (;;) {
    const before = c.instructionCount;
    c.modeSwitch = false;
    const exit = c.mode64 ? long(left) : legacy(left);
    if (!c.modeSwitch || exit !== EXIT_REQUESTED) return exit;
    c.modeSwitch = false;
    left -= c.instructionCount - before;
    if (left <= 0) return EXIT_BUDGET;
  }
}
