/**
 * Differential tests (host CPU as oracle) for SSE floating-point arithmetic in 64-bit code:
 * XMM8-15, the REX.W conversions, RIP-relative memory operands (misaligned 128-bit ones
 * #GP(0)), unmasked exceptions (#XM). DIFFTEST_SEED reproduces a run; DIFFTEST_SCALE
 * multiplies the cases (4 families x 60 by default).
 */
import { describe, expect, it } from 'vitest';
import { genSseFloatArith64, SSE_FLOAT_ARITH_FAMILIES } from './gen/sse-float-arith.js';
import { native64Status, runCases64 } from './long64/run.js';
import { Rng } from './prng.js';
import { difftestScale, difftestSeed } from './vitest-glue.js';

const status = native64Status();
if (!status.ok) console.warn(`*** SKIPPING the 64-bit SSE float arithmetic differential tests: ${status.reason} ***`);

const BATCH = 400;

describe.skipIf(!status.ok)(`difftest: SSE float arithmetic, 64-bit code, vs host CPU${status.ok ? '' : ` (skipped: ${status.reason})`}`, () => {
  it('every family matches the host', () => {
    if (!status.ok) return;
    const seed = difftestSeed();
    const cases = genSseFloatArith64(new Rng(seed), Math.max(1, Math.round(60 * difftestScale())));
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
      if (diffs.length > 0) failures.push(`[${k.family}] ${JSON.stringify(k.body)} mxcsr=${(k.mxcsr ?? 0).toString(16)} (seed ${seed}, case ${index}): ${diffs.slice(0, 4).join('; ')}`);
    });
    const summary = [...raised].map(([v, n]) => `#${v}x${n}`).join(' ');
    console.info(`64-bit SSE float arithmetic (seed ${seed}; DIFFTEST_SEED=${seed} reproduces): ${cases.length} cases, host exceptions ${summary || 'none'}, ${failures.length} differ`);
    expect([...perFamily.keys()].sort()).toEqual([...SSE_FLOAT_ARITH_FAMILIES].sort());
    expect(mispredicted.slice(0, 10)).toEqual([]);
    expect(failures.slice(0, 10)).toEqual([]);
  }, 60_000 + 20_000 * difftestScale());
});
