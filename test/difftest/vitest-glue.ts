/**
 * The shape every differential test file shares: skip loudly when the native oracle cannot
 * run, generate the cases from a printed seed, run them all once (beforeAll), then one test
 * per instruction family so a failure names the instruction.
 */
import { assert, beforeAll, describe, expect, it } from 'vitest';
import type { Cpu, FpuUnit } from '../../emulator-core/cpu/cpu.js';
import type { JitBackendName } from '../../emulator-core/machine/options.js';
import { VECTOR_NAMES, type DiffCase } from './case.js';
import { nativeStatus } from './native.js';
import { Rng } from './prng.js';
import { familyReport, knownBugReport, runSuite, type SuiteResult } from './suite.js';

/** DIFFTEST_SEED reproduces a run; otherwise every run explores new operands. */
export function difftestSeed(): number {
  const env = process.env.DIFFTEST_SEED;
  if (env !== undefined && env !== '') return Number(env) >>> 0;
  return (Math.random() * 0x100000000) >>> 0;
}

/** DIFFTEST_SCALE multiplies case counts for a deeper local run (default 1). */
export function difftestScale(): number {
  const v = Number(process.env.DIFFTEST_SCALE ?? '1');
  return Number.isFinite(v) && v > 0 ? v : 1;
}

export interface DiffSuiteSpec {
  title: string;
  families: readonly string[];
  generate: (rng: Rng, scale: number) => DiffCase[];
  /** Skip (loudly) with this reason, e.g. when the FPU unit does not exist yet. */
  skipReason?: string | null;
  createFpu?: () => Promise<((cpu: Cpu) => FpuUnit) | undefined>;
  /** The cases load LDT selectors: skip (loudly) where modify_ldt is unavailable. */
  needsLdt?: boolean;
  batchSize?: number;
  /** Run Terrarium through the block JIT. */
  jit?: boolean;
  /** The JIT's code generator (default 'js'). */
  jitBackend?: JitBackendName;
}

export function diffSuite(spec: DiffSuiteSpec): void {
  const native = nativeStatus();
  let skip = !native.ok ? `native oracle unavailable: ${native.reason}` : (spec.skipReason ?? null);
  if (native.ok && spec.needsLdt === true && !native.ldt) skip = 'modify_ldt is not available to the native harness (kernel without CONFIG_MODIFY_LDT_SYSCALL?)';
  if (skip !== null) {
    // Loud: a warning on stderr and a skipped test whose name carries the reason.
    console.warn(`\n*** ${spec.title}: differential tests SKIPPED: ${skip} ***\n`);
    describe(spec.title, () => {
      it(`SKIPPED: ${skip}`, (ctx) => {
        console.warn(`*** ${spec.title}: differential tests SKIPPED: ${skip} ***`);
        ctx.skip();
      });
    });
    return;
  }
  describe(spec.title, () => {
    const seed = difftestSeed();
    let result: SuiteResult;
    beforeAll(async () => {
      if (!native.ok) return;
      const createFpu = spec.createFpu ? await spec.createFpu() : undefined;
      const cases = spec.generate(new Rng(seed), difftestScale());
      const t0 = Date.now();
      result = runSuite(native.harness, cases, { seed, createFpu, batchSize: spec.batchSize, jit: spec.jit, jitBackend: spec.jitBackend });
      const raised = new Map<number, number>();
      for (const f of result.families.values()) for (const [v, n] of f.hostExceptions) raised.set(v, (raised.get(v) ?? 0) + n);
      const summary = [...raised].map(([v, n]) => `${VECTOR_NAMES[v] ?? v}x${n}`).join(' ');
      const jit = result.jitStats === null ? '' : `; JIT compiled ${result.jitStats.compiled} blocks (${result.jitStats.compileErrors} compile errors)`;
      console.info(`${spec.title}: ${cases.length} cases in ${Date.now() - t0} ms (seed ${seed}; DIFFTEST_SEED=${seed} reproduces); host exceptions: ${summary || 'none'}${jit}`);
    });
    for (const family of spec.families) {
      it(family, () => {
        const known = knownBugReport(result, family);
        if (known !== null) console.warn(`\n*** ${known}\n`);
        const report = familyReport(result, family);
        if (report !== null) assert.fail(report);
      });
    }
    if (spec.jit === true) {
      it('really ran compiled blocks', () => {
        // Guards against the JIT never compiling (e.g. a higher hot threshold than JIT_RUNS).
        expect(result.jitStats?.compiled ?? 0).toBeGreaterThan(0);
        // A region the code generator failed on is interpreted, which would hide the bug.
        expect(result.jitStats?.compileErrors).toBe(0);
      });
    }
    it('generates only the families it reports', () => {
      const unknown = [...result.families.keys()].filter((f) => !spec.families.includes(f));
      expect(unknown).toEqual([]);
    });
  });
}
