/** Guest time advanced by executed instructions at a fixed rate; idle time is skipped. */
import type { InstructionCounter } from './clock.js';
import type { Clock } from './clock.js';

export class VirtualClock implements Clock {
  counter: InstructionCounter | null = null;
  private offsetNs = 0;
  constructor(readonly nsPerInstruction: number) {}

  now(): number {
    const c = this.counter;
    return this.offsetNs + (c === null ? 0 : (c.instructionCount + c.sliceInstructions) * this.nsPerInstruction);
  }

  instructionsUntil(ns: number): number {
    return (ns - this.now()) / this.nsPerInstruction;
  }

  /** Skip forward (the CPU is halted until then). */
  skipTo(ns: number): void {
    const now = this.now();
    if (ns > now) this.offsetNs += ns - now;
  }
}
