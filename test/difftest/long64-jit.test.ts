/**
 * The 64-bit host-CPU difftest (long64/) through the JIT's run loop: every case runs
 * hotThreshold + 2 times on Long64JitMachine (exceptions delivered through a 64-bit IDT, as
 * the JIT delivers them) and its last run is compared with the host. While the JIT hands
 * 64-bit mode to the interpreter (long/run64.ts) this checks that path and the delivery;
 * once the wasm backend compiles 64-bit code, every family is checked through compiled code.
 * DIFFTEST_SEED reproduces a run; DIFFTEST_SCALE multiplies the cases.
 */
import { describe, expect, it } from 'vitest';
import { FAMILIES, generate } from './long64/gen.js';
import { Long64JitMachine, RUNAWAY64 } from './long64/jit-machine.js';
import { assembleBatch, compare, Long64Machine, native64Status, tallyCases64, type Outcome64 } from './long64/run.js';

const status = native64Status();
if (!status.ok) console.warn(`*** SKIPPING the 64-bit JIT differential tests: ${status.reason} ***`);

const seed = process.env.DIFFTEST_SEED !== undefined ? Number(process.env.DIFFTEST_SEED) : (Math.random() * 2 ** 31) | 0;
const scale = Number(process.env.DIFFTEST_SCALE ?? '1');
/** Fewer than long64.test.ts: each case runs several times, and compiling costs. */
const PER_FAMILY = Math.max(1, Math.round(40 * scale));
const BATCH = 440;

describe.skipIf(!status.ok)(`64-bit mode through the JIT against the host CPU${status.ok ? '' : ` (skipped: ${status.reason})`}`, () => {
  it(`every family matches the host through Jit.run (seed ${seed})`, () => {
    if (!status.ok) return;
    const cases = generate(seed, PER_FAMILY);
    const machines: Long64JitMachine[] = [];
    let completed = 0;
    let runaways = 0;
    let ourFaults = 0;
    const start = performance.now();
    const { raised, failures } = tallyCases64(status.harness, cases, BATCH, undefined, undefined, (code) => {
      const m = new Long64JitMachine(code);
      machines.push(m);
      // Count how the last runs ended on Terrarium's side (the tally counts the host's).
      return {
        run: (index: number): Outcome64 => {
          const out = m.run(index);
          if (out.vector === -1) completed++;
          else if (out.vector === RUNAWAY64) runaways++;
          else ourFaults++;
          return out;
        },
      };
    });
    const ms = performance.now() - start;
    const faulted = [...raised.values()].reduce((a, b) => a + b, 0);
    const compiled = machines.reduce((n, m) => n + m.jit.stats.compiled, 0);
    const interpreted = machines.reduce((n, m) => n + m.jit.stats.interpreted, 0);
    const runs = machines[0]?.runs ?? 0;
    console.log(
      `64-bit JIT difftest (seed ${seed}): ${cases.length} cases in ${Object.keys(FAMILIES).length} families, ${runs} runs each, ` +
        `${completed} completed / ${ourFaults} exceptions / ${runaways} runaways on Terrarium, ${faulted} exceptions on the host, ` +
        `Jit.stats: ${compiled} regions compiled, ${interpreted} instructions interpreted; ${failures.length} differ, ${(ms / 1000).toFixed(1)} s`,
    );
    expect(completed + ourFaults + runaways).toBe(cases.length);
    // Sanity: most cases really ran to their end through the JIT, and none ran away.
    expect(runaways).toBe(0);
    expect(completed).toBeGreaterThan(cases.length / 2);
    expect(faulted).toBeGreaterThan(0);
    expect(failures.slice(0, 20)).toEqual([]);
  });

  it('the JIT machine reports completions and exceptions as Long64Machine does, and a corrupted register is seen', () => {
    if (!status.ok) return;
    const cases = generate(seed, 2, ['alu', 'exception']);
    const bin = assembleBatch(cases);
    const jit = new Long64JitMachine(bin);
    const stepped = new Long64Machine(bin);
    const vectors = new Set<number>();
    for (let i = 0; i < cases.length; i++) {
      const k = cases[i]!;
      const ours = jit.run(i);
      const reference = stepped.run(i);
      vectors.add(ours.vector);
      // Everything, not only what compare() looks at: the frame gives back RIP, RSP and the error code exactly.
      expect({ ...ours, rflags: ours.rflags & 0xcd5 }).toEqual({ ...reference, rflags: reference.rflags & 0xcd5 });
      expect(compare(k, reference, ours)).toEqual([]);
      const gpr = [...ours.gpr];
      gpr[9] ^= 1n << 63n;
      expect(compare(k, reference, { ...ours, gpr })).toEqual([expect.stringMatching(/^r9: /)]);
    }
    expect(vectors.has(-1)).toBe(true); // alu cases complete
    expect([...vectors].some((v) => v >= 0)).toBe(true); // exception cases fault
  });
});
