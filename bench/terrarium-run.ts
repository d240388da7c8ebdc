/**
 * One Terrarium run in this process (software CPU, JIT on unless TERRARIUM_JIT=0), timing
 * when each awaited line first appears on COM1 and how many guest instructions had run by
 * then; reported as one JSON line on stdout. bench/common.ts spawns it, one fresh process per
 * measurement, so start-up and compilation warm-up are counted like a peer's.
 * With several CPUs the count is all of them together.
 *   node dist/bench/terrarium-run.js '{"config": MachineConfig, "marks": {name: regex}, "last": name, "timeoutMs": n}'
 * Times are from this process's start (performance.now()), comparable to a peer timed from spawn.
 */
import { appendFileSync } from 'node:fs';
import { Machine } from '../emulator-core/machine/machine.js';
import type { MachineConfig } from '../emulator-core/machine/types.js';
import { emulatorOptionsFromEnv } from '../app/options/env-options.js';

export interface TerrariumRunSpec {
  config: MachineConfig;
  /** Regex sources, matched against all serial output so far. */
  marks: Record<string, string>;
  /** The mark after which the machine is powered off. */
  last: string;
  timeoutMs: number;
  /**
   * Typed into COM1 in order, each once its regex (source) matches the serial output that came
   * after the previous step's match: a scripted login and command.
   */
  script?: { waitFor: string; send: string }[];
}

export interface MarkAt {
  /** Milliseconds since the runner process started. */
  ms: number;
  /** Guest instructions executed by then. */
  instructions: number;
}

export interface TerrariumRunResult {
  ok: boolean;
  at: Record<string, MarkAt>;
  exit: string;
  /** The last 4000 characters of serial output. */
  output: string;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as TerrariumRunSpec;
  const marks = Object.entries(spec.marks).map(([name, re]) => [name, new RegExp(re)] as const);
  /** TERRARIUM_BENCH_SERIAL_LOG=FILE: the guest's serial output as it comes, to follow a long run. */
  const serialLog = process.env.TERRARIUM_BENCH_SERIAL_LOG;
  const script = (spec.script ?? []).map((s) => ({ re: new RegExp(s.waitFor), send: new TextEncoder().encode(s.send) }));
  let step = 0;
  /** Where the output the next script step looks at starts. */
  let scriptFrom = 0;
  const options = emulatorOptionsFromEnv(process.env);
  const at: Record<string, MarkAt> = {};
  let out = '';
  let timedOut = false;
  const machine: Machine = await Machine.create(
    spec.config,
    {
      serialOutput: (bytes) => {
        out += Buffer.from(bytes).toString('latin1');
        if (serialLog !== undefined) appendFileSync(serialLog, bytes);
        const next = script[step];
        if (next !== undefined) {
          const m = next.re.exec(out.slice(scriptFrom));
          if (m !== null) {
            scriptFrom += m.index + m[0].length;
            step++;
            machine.sendSerial(next.send);
          }
        }
        for (const [name, re] of marks) {
          if (at[name] === undefined && re.test(out)) {
            at[name] = { ms: performance.now(), instructions: machine.vcpus.instructionsRetired ?? NaN };
            if (name === spec.last) machine.powerOff();
          }
        }
      },
    },
    options,
  );
  const timer = setTimeout(() => {
    timedOut = true;
    machine.powerOff();
  }, spec.timeoutMs);
  const exit = await machine.run();
  clearTimeout(timer);
  const result: TerrariumRunResult = {
    ok: at[spec.last] !== undefined,
    at,
    exit: timedOut ? `timed out after ${spec.timeoutMs / 1000} s` : `${exit.kind}: ${exit.reason}`,
    output: out.slice(-4000),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

await main();
