/**
 * One Linux boot to the marker in this process, reported as JSON on stdout. Run in a fresh
 * process per measurement (bench/run.ts does) so compilation warm-up is counted.
 *   node dist/bench/linux-boot.js KERNEL INITRD [APPEND] [MEMORY_MIB]
 */
import { Machine } from '../emulator-core/machine/machine.js';
import { emulatorOptionsFromEnv } from '../app/options/env-options.js';

export interface BootResult {
  markerMs: number;
  exitMs: number;
  instructions: number;
  exit: string;
  marker: string;
}

async function main(): Promise<void> {
  const [kernel, initrd, append = 'console=ttyS0 quiet panic=-1', mem = '256'] = process.argv.slice(2);
  if (kernel === undefined || initrd === undefined) {
    process.stderr.write('usage: linux-boot KERNEL INITRD [APPEND] [MEMORY_MIB]\n');
    process.exit(2);
  }
  // TERRARIUM_JIT=0, TERRARIUM_JIT_THRESHOLD=... apply to the measured machine.
  const options = emulatorOptionsFromEnv(process.env);
  const t0 = performance.now();
  let out = '';
  let markerMs = -1;
  let instructionsAtMarker = 0;
  const machine = await Machine.create(
    { memoryMiB: Number(mem), accel: 'interpreter', kernel, initrd, cmdline: append, onTripleFault: 'crash' },
    {
      serialOutput: (bytes) => {
        out += Buffer.from(bytes).toString('latin1');
        if (markerMs < 0 && /TERRARIUM-MARKER[^\n]*\n/.test(out)) {
          markerMs = performance.now() - t0;
          instructionsAtMarker = machine.cpu.instructionCount + machine.cpu.sliceInstructions;
        }
      },
    },
    options,
  );
  const exit = await machine.run();
  const result: BootResult = {
    markerMs,
    exitMs: performance.now() - t0,
    instructions: instructionsAtMarker,
    exit: `${exit.kind}: ${exit.reason}`,
    marker: /TERRARIUM-MARKER[^\n]*/.exec(out)?.[0] ?? '',
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
