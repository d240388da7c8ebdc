/**
 * Differential tests (host CPU as oracle) for the SSE float-moves family in 64-bit code:
 * XMM8-15, REX.W forms (PINSRQ/PEXTRQ, MOVNTI m64, MOVMSKPS/EXTRACTPS/PEXTRB into 64-bit
 * registers), RIP-relative operands, MASKMOVDQU through RDI and a32 EDI, page faults at
 * the end of the data region. DIFFTEST_SEED reproduces a run; DIFFTEST_SCALE multiplies
 * the cases (13 families x 40 by default).
 */
import { describe, expect, it } from 'vitest';
import { FLOAT_MOVES_FAMILIES, genFloatMoves64 } from './gen/sse-float-moves.js';
import { native64Status, runCases64 } from './long64/run.js';
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
    const failures: string[] = [];
    const mispredicted: string[] = [];
    const raised = new Map<number, number>();
    const perFamily = new Map<string, number>();
    runCases64(status.harness, cases.map((c) => c.k), BATCH, ({ index, host: h, diffs }) => {
      const { k, expect: predicted } = cases[index]!;
      perFamily.set(k.family, (perFamily.get(k.family) ?? 0) + 1);
      if (h.vector >= 0) raised.set(h.vector, (raised.get(h.vector) ?? 0) + 1);
      const hostVector = h.vector < 0 ? null : h.vector;
      if (predicted !== 'any' && predicted !== hostVector) {
        mispredicted.push(`[${k.family}] ${JSON.stringify(k.body)}: predicted ${predicted ?? 'completion'}, host ${hostVector ?? 'completion'}`);
      }
      if (diffs.length > 0) failures.push(`[${k.family}] ${JSON.stringify(k.body)} (seed ${seed}, case ${index}): ${diffs.slice(0, 4).join('; ')}`);
    });
    const summary = [...raised].map(([v, n]) => `#${v}x${n}`).join(' ');
    console.info(`64-bit SSE float moves (seed ${seed}; DIFFTEST_SEED=${seed} reproduces): ${cases.length} cases, host exceptions ${summary || 'none'}, ${failures.length} differ`);
    expect([...perFamily.keys()].sort()).toEqual([...FLOAT_MOVES_FAMILIES].sort());
    expect(mispredicted.slice(0, 10)).toEqual([]);
    expect(failures.slice(0, 10)).toEqual([]);
  }, 60_000 + 20_000 * difftestScale()); // ~10 s per 1,000 cases on a loaded 2-core machine
});
