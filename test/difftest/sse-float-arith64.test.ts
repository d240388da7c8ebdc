/**
 * Differential tests (host CPU as oracle) for SSE floating-point arithmetic in 64-bit code:
 * XMM8-15, the REX.W conversions, RIP-relative memory operands (misaligned 128-bit ones
 * #GP(0)), unmasked exceptions (#XM). DIFFTEST_SEED reproduces a run; DIFFTEST_SCALE
 * multiplies the cases (4 families x 60 by default).
 */
import { describe, expect, it } from 'vitest';
import { genSseFloatArith64, SSE_FLOAT_ARITH_FAMILIES } from './gen/sse-float-arith.js';
import { describeCase64, misprediction, native64Status, tallyCases64 } from './long64/run.js';
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
    const mispredicted: string[] = [];
    const { perFamily, raised, failures } = tallyCases64(
      status.harness,
      cases.map((c) => c.k),
      BATCH,
      (k, index) => `${describeCase64(k)} mxcsr=${(k.mxcsr ?? 0).toString(16)} (seed ${seed}, case ${index})`,
      ({ index, host }) => {
        const m = misprediction(cases[index]!.k, cases[index]!.expect, host.vector);
        if (m !== null) mispredicted.push(m);
      },
    );
    const summary = [...raised].map(([v, n]) => `#${v}x${n}`).join(' ');
    console.info(`64-bit SSE float arithmetic (seed ${seed}; DIFFTEST_SEED=${seed} reproduces): ${cases.length} cases, host exceptions ${summary || 'none'}, ${failures.length} differ`);
    expect([...perFamily.keys()].sort()).toEqual([...SSE_FLOAT_ARITH_FAMILIES].sort());
    expect(mispredicted.slice(0, 10)).toEqual([]);
    expect(failures.slice(0, 10)).toEqual([]);
  }, 60_000 + 20_000 * difftestScale());
});
