/**
 * The statistics block (0x4000-0x4124): saturating 32-bit counters and 64-bit octet pairs,
 * cleared when read. Sizes count the 4-byte FCS, as the hardware does.
 */
import {
  BPRC,
  BPTC,
  GORCL,
  GOTCL,
  GPRC,
  GPTC,
  MPRC,
  MPTC,
  PRC64,
  PTC64,
  STATS_FIRST,
  STATS_LAST,
  TORL,
  TOTL,
  TPR,
  TPT,
} from './e1000-regs.js';

const FCS_BYTES = 4;

/** Add one to the 32-bit counter at byte offset `off`, stopping at all ones. */
export function countUp(regs: Uint32Array, off: number): void {
  const i = off >>> 2;
  if (regs[i] !== 0xffffffff) regs[i]++;
}

/** Add `n` to the 64-bit counter whose low half is at `lowOff`, stopping at all ones. */
function add64(regs: Uint32Array, lowOff: number, n: number): void {
  const lo = lowOff >>> 2;
  if (regs[lo] === 0xffffffff && regs[lo + 1] === 0xffffffff) return;
  const sum = regs[lo] + n;
  regs[lo] = sum >>> 0;
  if (sum > 0xffffffff) {
    if (regs[lo + 1] === 0xffffffff) regs[lo] = 0xffffffff;
    else regs[lo + 1]++;
  }
}

/** PRC64/PTC64 and the five size buckets after them (65-127 ... 1024-1522). */
function countSize(regs: Uint32Array, first: number, bytes: number): void {
  const bucket = bytes <= 64 ? 0 : bytes <= 127 ? 1 : bytes <= 255 ? 2 : bytes <= 511 ? 3 : bytes <= 1023 ? 4 : 5;
  countUp(regs, first + bucket * 4);
}

/** A frame of `len` bytes (no FCS) left for the wire; `dest0` is its first destination byte. */
export function countTx(regs: Uint32Array, len: number, dest0: number, broadcast: boolean): void {
  const bytes = len + FCS_BYTES;
  countUp(regs, GPTC);
  countUp(regs, TPT);
  add64(regs, GOTCL, bytes);
  add64(regs, TOTL, bytes);
  countSize(regs, PTC64, bytes);
  if (broadcast) countUp(regs, BPTC);
  else if ((dest0 & 1) !== 0) countUp(regs, MPTC);
}

/** A frame of `len` bytes (no FCS) was handed to the guest. */
export function countRx(regs: Uint32Array, len: number, dest0: number, broadcast: boolean): void {
  const bytes = len + FCS_BYTES;
  countUp(regs, GPRC);
  countUp(regs, TPR);
  add64(regs, GORCL, bytes);
  add64(regs, TORL, bytes);
  countSize(regs, PRC64, bytes);
  if (broadcast) countUp(regs, BPRC);
  else if ((dest0 & 1) !== 0) countUp(regs, MPRC);
}

export function isStatistic(off: number): boolean {
  return off >= STATS_FIRST && off <= STATS_LAST;
}

/**
 * Read a statistic and clear it. The octet counters clear as a pair when their high half
 * is read (drivers read low, then high).
 */
export function readStatistic(regs: Uint32Array, off: number): number {
  const i = off >>> 2;
  const v = regs[i];
  const highHalf = off === GORCL + 4 || off === GOTCL + 4 || off === TORL + 4 || off === TOTL + 4;
  const lowHalf = off === GORCL || off === GOTCL || off === TORL || off === TOTL;
  if (lowHalf) return v;
  regs[i] = 0;
  if (highHalf) regs[i - 1] = 0;
  return v;
}
