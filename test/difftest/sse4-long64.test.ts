/**
 * SSE4.1 integer and SSE4.2 instructions in 64-bit mode against the host CPU
 * (long64/gen-sse4.ts): XMM0-15, REX.W forms, RIP-relative operands, faults.
 * DIFFTEST_SEED reproduces a run; DIFFTEST_SCALE multiplies the cases.
 */
import { describe, expect, it } from 'vitest';
import { generateSse4, SSE4_64_FAMILIES } from './long64/gen-sse4.js';
import { assembleBatch, compare, Long64Machine, native64Status, runNative } from './long64/run.js';
import { hostCpuVendor, vendorMaskNotice } from './vendor.js';

const status = native64Status();
if (!status.ok) console.warn(`*** SKIPPING the 64-bit SSE4 differential tests: ${status.reason} ***`);

const seed = process.env.DIFFTEST_SEED !== undefined ? Number(process.env.DIFFTEST_SEED) : (Math.random() * 2 ** 31) | 0;
const scale = Number(process.env.DIFFTEST_SCALE ?? '1');
const COUNT = Math.max(SSE4_64_FAMILIES.length, Math.round(1500 * scale));
const BATCH = 400;

describe.skipIf(!status.ok)(`64-bit SSE4.1/SSE4.2 against the host CPU${status.ok ? '' : ` (skipped: ${status.reason})`}`, () => {
  it(`every family matches the host (seed ${seed}; DIFFTEST_SEED=${seed} reproduces)`, () => {
    if (!status.ok) return;
    const cases = generateSse4(seed, COUNT);
    const vendor = hostCpuVendor();
    const notice = vendorMaskNotice(vendor);
    if (notice !== null) console.warn(notice);
    const failures: string[] = [];
    const perFamily = new Map<string, { cases: number; faulted: number; differ: number }>();
    for (let start = 0; start < cases.length; start += BATCH) {
      const batch = cases.slice(start, start + BATCH);
      const bin = assembleBatch(batch);
      const host = runNative(status.harness, bin, batch.length);
      const machine = new Long64Machine(bin);
      for (let i = 0; i < batch.length; i++) {
        const k = batch[i]!;
        const f = perFamily.get(k.family) ?? { cases: 0, faulted: 0, differ: 0 };
        perFamily.set(k.family, f);
        f.cases++;
        const ours = machine.run(i);
        if (host[i]!.vector >= 0) f.faulted++;
        const d = compare(k, host[i]!, ours, vendor);
        if (d.length > 0) {
          f.differ++;
          failures.push(`[${k.family}] ${JSON.stringify(k.body.split('\n').filter((l) => !l.includes('.s4_data:')).join('; '))}: ${d.slice(0, 4).join('; ')}`);
        }
      }
    }
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
