/**
 * Runs generated cases on both CPUs, batch by batch (one nasm run and one native process per
 * batch), and groups the differences by instruction family for the tests to report.
 */
import type { JitBackendName } from '../../emulator-core/machine/options.js';
import type { Cpu, FpuUnit } from '../../emulator-core/cpu/cpu.js';
import { assembleBatch } from './batch.js';
import { VECTOR_NAMES, type DiffCase } from './case.js';
import { describeCase, describeInputs, diffOutcomes } from './compare.js';
import { KNOWN_BUGS, strictKnownBugs, type KnownBugId } from './known-bugs.js';
import { runNative } from './native.js';
import { TerrariumRunner } from './terrarium.js';
import { hostCpuVendor } from './vendor.js';

/** Cases per native process; keeps each assembled blob well under CODE_MAX. */
const BATCH_SIZE = 3000;

export interface FamilyResult {
  cases: number;
  /** Cases where the host did what the generator predicted (the rest are harness bugs). */
  harnessErrors: string[];
  failures: string[];
  /** Differences explained by a reported, unfixed bug (known-bugs.ts), by bug id. */
  known: Map<KnownBugId, string[]>;
  /** How many cases of this family raised an exception natively, by vector. */
  hostExceptions: Map<number, number>;
}

export interface SuiteResult {
  seed: number;
  families: Map<string, FamilyResult>;
  /** JIT statistics when the suite ran through the JIT. */
  jitStats: { compiled: number; compileErrors: number } | null;
}

export interface SuiteOptions {
  seed: number;
  createFpu?: (cpu: Cpu) => FpuUnit;
  /** Cases per native process (smaller when 16-bit code must sit in the first 64 KiB). */
  batchSize?: number;
  /** Run Terrarium through the block JIT. */
  jit?: boolean;
  /** The JIT's code generator (default 'js'). */
  jitBackend?: JitBackendName;
}

function family(result: SuiteResult, name: string): FamilyResult {
  let f = result.families.get(name);
  if (f === undefined) {
    f = { cases: 0, harnessErrors: [], failures: [], known: new Map(), hostExceptions: new Map() };
    result.families.set(name, f);
  }
  return f;
}

function vectorName(v: number | null): string {
  return v === null ? 'completion' : (VECTOR_NAMES[v] ?? `vector ${v}`);
}

export function runSuite(harness: string, cases: readonly DiffCase[], options: SuiteOptions): SuiteResult {
  const result: SuiteResult = { seed: options.seed, families: new Map(), jitStats: null };
  const runner = new TerrariumRunner({ createFpu: options.createFpu, jit: options.jit, jitBackend: options.jitBackend });
  const batchSize = options.batchSize ?? BATCH_SIZE;
  const vendor = hostCpuVendor();
  for (let start = 0; start < cases.length; start += batchSize) {
    const slice = cases.slice(start, start + batchSize);
    const batch = assembleBatch(slice);
    const host = runNative(harness, batch, slice);
    runner.loadCode(batch.code);
    slice.forEach((tc, i) => {
      const f = family(result, tc.family);
      f.cases++;
      const exp = host[i];
      if (exp.exception !== null) f.hostExceptions.set(exp.exception, (f.hostExceptions.get(exp.exception) ?? 0) + 1);
      const predicted = tc.expect ?? null;
      const head = `[${tc.family}] ${describeCase(tc)}   (seed ${options.seed}, case ${start + i})`;
      if (predicted !== 'any' && predicted !== exp.exception) {
        f.harnessErrors.push(`${head}\n  generator predicted ${vectorName(predicted)}, host raised ${vectorName(exp.exception)} at 0x${exp.eip.toString(16)}\n${describeInputs(tc)}`);
        return;
      }
      let act;
      try {
        act = runner.run(tc, batch.entries[i].entry, batch.entries[i].end);
      } catch (e) {
        // A crash inside the emulator (not an x86 exception): report it against this case.
        const stack = e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 6).join('\n    ') : String(e);
        f.failures.push(`${head}\n${describeInputs(tc)}\n  Terrarium threw: ${stack}`);
        return;
      }
      const diffs = diffOutcomes(tc, exp, act, vendor);
      if (diffs.length === 0) return;
      const text = `${head}\n${describeInputs(tc)}\n${diffs.join('\n')}`;
      const applies = (id: KnownBugId): boolean => (options.jit === true || KNOWN_BUGS[id].jitOnly !== true) && KNOWN_BUGS[id].signature(exp, act);
      const bug = strictKnownBugs() ? undefined : tc.knownBugs?.find(applies);
      if (bug === undefined) f.failures.push(text);
      else f.known.set(bug, [...(f.known.get(bug) ?? []), text]);
    });
  }
  if (runner.jit !== null) result.jitStats = { compiled: runner.jit.stats.compiled, compileErrors: runner.jit.stats.compileErrors };
  return result;
}

/** Loud text about differences explained by known, unfixed bugs (null if none). */
export function knownBugReport(result: SuiteResult, name: string): string | null {
  const f = result.families.get(name);
  if (f === undefined || f.known.size === 0) return null;
  return [...f.known]
    .map(([id, texts]) => `KNOWN CPU BUG (${KNOWN_BUGS[id].title}): ${texts.length} of ${f.cases} [${name}] cases; DIFFTEST_STRICT=1 fails on them. First:\n${texts[0]}`)
    .join('\n\n');
}

/** Failure text for one family (null when it passed); shows the first few cases in full. */
export function familyReport(result: SuiteResult, name: string, shown = 6): string | null {
  const f = result.families.get(name);
  if (f === undefined || f.cases === 0) return `[${name}] no cases were generated (generator bug)`;
  const parts: string[] = [];
  if (f.harnessErrors.length > 0) {
    parts.push(`${f.harnessErrors.length} of ${f.cases} cases: the host did not do what the generator predicted (fix the generator or harness):`, ...f.harnessErrors.slice(0, shown));
  }
  if (f.failures.length > 0) {
    parts.push(`${f.failures.length} of ${f.cases} cases differ between the host CPU and Terrarium (seed ${result.seed}; DIFFTEST_SEED=${result.seed} reproduces):`, ...f.failures.slice(0, shown));
  }
  return parts.length === 0 ? null : parts.join('\n\n');
}
