/**
 * Terrarium CPU bugs the differential tests found that are reported but not yet fixed (the
 * fix is not a small local change). A case a generator tags with a bug's id may differ
 * from the host only in that bug's way (its signature); any other difference still fails.
 * Tagged differences are counted and printed loudly on every run; DIFFTEST_STRICT=1 makes
 * them fail. When a bug is fixed, delete its entry here and the tags (tsc finds them).
 */
import type { Outcome } from './case.js';

export interface KnownBug {
  title: string;
  /** The bug is in the block JIT only: the interpreter must still match the host. */
  jitOnly?: boolean;
  /** True when host and Terrarium (which already differ) differ the way this bug predicts. */
  signature(host: Outcome, terrarium: Outcome): boolean;
}

const GP = 13;
const SS = 12;

export type KnownBugId = 'segmentLimitSize' | 'segmentWritable';

export const KNOWN_BUGS: Record<KnownBugId, KnownBug> = {
  /**
   * Segment limit checks look at the first byte of an access only (cpu.ts checkSegment:
   * "the access size is not considered"), so an access that straddles a limit, or a
   * 16-bit stack's 64 KiB wrap, does not raise #GP(0)/#SS(0). Reproducer: ES = a data
   * segment with limit 0xfff; `inc word [es:0xfff]` -> host #GP(0), Terrarium accesses
   * base+0x1000.
   */
  segmentLimitSize: {
    title: 'segment limit checks ignore the access size (no #GP/#SS for accesses straddling a limit)',
    // Terrarium may fault later (after running past the limit) or not at all.
    signature: (h) => (h.exception === GP || h.exception === SS) && h.errorCode === 0,
  },
  /**
   * Writes are not checked against the segment's type: a read-only data segment or a code
   * segment loaded into DS/ES can be written through (and STOS/MOVS write through a
   * read-only ES). Reproducer: `mov ax, 0x27` (read-only LDT data) `mov es, ax`
   * `mov dword [es:0x10], 1` -> host #GP(0), Terrarium writes.
   */
  segmentWritable: {
    title: 'writes through read-only data or code segments do not raise #GP(0)',
    signature: (h) => h.exception === GP && h.errorCode === 0,
  },
};

export function strictKnownBugs(): boolean {
  return process.env.DIFFTEST_STRICT === '1';
}
