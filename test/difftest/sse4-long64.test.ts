/**
 * SSE4.1 integer and SSE4.2 instructions in 64-bit mode against the host CPU
 * (long64/gen-sse4.ts): XMM0-15, REX.W forms, RIP-relative operands, faults.
 * DIFFTEST_SEED reproduces a run; DIFFTEST_SCALE multiplies the cases.
 */
import { describe, expect, it } from 'vitest';
import { generateSse4, SSE4_64_FAMILIES } from './long64/gen-sse4.js';
import { describeCase64WithoutData, native64Status, tallyCases64 } from './long64/run.js';
import { difftestScale, difftestSeed } from './vitest-glue.js';

const status = native64Status();
if (!status.ok) console.warn(`*** SKIPPING the 64-bit SSE4 differential tests: ${status.reason} ***`);

const seed = difftestSeed();
const scale = difftestScale();
const COUNT = Math.max(SSE4_64_FAMILIES.length, Math.round(1500 * scale));
const BATCH = 400;

describe.skipIf(!status.ok)(`64-bit SSE4.1/SSE4.2 against the host CPU${status.ok ? '' : ` (skipped: ${status.reason})`}`, () => {
  it(`every family matches the host (seed ${seed}; DIFFTEST_SEED=${seed} reproduces)`, () => {
    if (!status.ok) return;
    const cases = generateSse4(seed, COUNT);
    const { perFamily, failures } = tallyCases64(status.harness, cases, BATCH, describeCase64WithoutData);
    const summary = [...perFamily].map(([n, f]) => `${n} ${f.cases} (${f.faulted} faulted, ${f.differ} differ)`).join(', ');
    console.log(`64-bit SSE4 difftest (seed ${seed}): ${cases.length} cases: ${summary}`);
    // Every family ran, and the fault family really faults (and not always).
    expect([...perFamily.keys()].sort()).toEqual([...SSE4_64_FAMILIES].sort());
    const faults = perFamily.get('SSE4 faults')!;
    expect(faults.faulted).toBeGreaterThan(faults.cases / 4);
    expect(faults.faulted).toBeLessThan(faults.cases);
    expect(failures.slice(0, 20)).toEqual([]);
  }, Math.max(120_000, COUNT * 20)); // a deep DIFFTEST_SCALE run takes minutes
});
