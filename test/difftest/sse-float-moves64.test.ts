/**
 * Differential tests (host CPU as oracle) for the SSE float-moves family in 64-bit code:
 * XMM8-15, REX.W forms (PINSRQ/PEXTRQ, MOVNTI m64, MOVMSKPS/EXTRACTPS/PEXTRB into 64-bit
 * registers), RIP-relative operands, MASKMOVDQU through RDI and a32 EDI, page faults at
 * the end of the data region. DIFFTEST_SEED reproduces a run; DIFFTEST_SCALE multiplies
 * the cases (13 families x 40 by default).
 */
import { describe, expect, it } from 'vitest';
import { FLOAT_MOVES_FAMILIES, genFloatMoves64 } from './gen/sse-float-moves.js';
import { describeCase64, misprediction, native64Status, tallyCases64 } from './long64/run.js';
import { Rng } from './prng.js';
import { difftestScale, difftestSeed } from './vitest-glue.js';

const status = native64Status();
if (!status.ok) console.warn(`*** SKIPPING the 64-bit SSE float-moves differential tests: ${status.reason} ***`);

const BATCH = 440;

describe.skipIf(!status.ok)(`difftest: SSE float moves, 64-bit code, vs host CPU${status.ok ? '' : ` (skipped: ${status.reason})`}`, () => {
  it('every family matches the host', () => {
    if (!status.ok) return;
    const seed = difftestSeed();
    const cases = genFloatMoves64(new Rng(seed), Math.max(1, Math.round(40 * difftestScale())));
    const mispredicted: string[] = [];
    const { perFamily, raised, failures } = tallyCases64(
      status.harness,
      cases.map((c) => c.k),
      BATCH,
      (k, index) => `${describeCase64(k)} (seed ${seed}, case ${index})`,
      ({ index, host }) => {
        const m = misprediction(cases[index]!.k, cases[index]!.expect, host.vector);
        if (m !== null) mispredicted.push(m);
      },
    );
    const summary = [...raised].map(([v, n]) => `#${v}x${n}`).join(' ');
    console.info(`64-bit SSE float moves (seed ${seed}; DIFFTEST_SEED=${seed} reproduces): ${cases.length} cases, host exceptions ${summary || 'none'}, ${failures.length} differ`);
    expect([...perFamily.keys()].sort()).toEqual([...FLOAT_MOVES_FAMILIES].sort());
    expect(mispredicted.slice(0, 10)).toEqual([]);
    expect(failures.slice(0, 10)).toEqual([]);
  }, 60_000 + 20_000 * difftestScale()); // ~10 s per 1,000 cases on a loaded 2-core machine
});
