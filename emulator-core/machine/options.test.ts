/**
 * The machine takes its tuning from the options object it is given (never the environment):
 * no Jit when the JIT is off, the hot threshold honoured when it is on.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EipTrace } from '../cpu/debug-trace.js';
import { Machine } from './machine.js';
import { resolveEmulatorOptions, type EmulatorOptionsInput } from './options.js';
import { SoftwareVcpus } from './software-vcpus.js';

let dir = '';
let rom = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'terrarium-options-'));
  rom = join(dir, 'loop.rom');
  // F000:0000: cli; mov cx, 2000; l: dec cx; jnz l; hlt (interrupts off: the machine stops).
  const image = new Uint8Array(0x10000);
  image.set([0xfa, 0xb9, 0xd0, 0x07, 0x49, 0x75, 0xfd, 0xf4], 0);
  image.set([0xea, 0x00, 0x00, 0x00, 0xf0], 0xfff0); // reset vector: jmp far F000:0000
  writeFileSync(rom, image);
});
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

async function runLoop(options: EmulatorOptionsInput): Promise<Machine> {
  const m = await Machine.create({ memoryMiB: 4, accel: 'interpreter', clock: 'virtual', bios: rom, onTripleFault: 'crash' }, {}, options);
  const exit = await m.run();
  expect(exit.kind).toBe('halt');
  return m;
}

/** The machine's processors, which `accel: 'interpreter'` puts on the software CPU. */
function software(m: Machine): SoftwareVcpus {
  if (!(m.vcpus instanceof SoftwareVcpus)) throw new Error('the machine is not on the software CPU');
  return m.vcpus;
}

describe('Machine options', () => {
  it('fills in defaults for what the caller leaves out', () => {
    const o = resolveEmulatorOptions({ jit: { hotThreshold: 3, dumpFile: undefined }, kvm: { trace: true } });
    expect(o.jit).toMatchObject({ enabled: true, hotThreshold: 3, regionBlocks: 48, dumpFile: null });
    expect(o.kvm).toEqual({ device: '/dev/kvm', irqchip: 'auto', trace: true });
  });

  it('runs the pure interpreter, without a Jit, when the JIT is off', async () => {
    const m = software(await runLoop({ jit: { enabled: false }, traceEip: { lo: 0xc0000000, hi: 0xc1000000 } }));
    expect(m.jits[0]).toBeNull();
    expect(m.cpus[0]!.eipTrace).toBeInstanceOf(EipTrace);
  });

  it('compiles the hot loop by default, and not below a hot threshold it never reaches', async () => {
    const m = software(await runLoop({}));
    expect(m.jits[0]?.stats.compiled).toBeGreaterThan(0);
    expect(m.cpus[0]!.eipTrace).toBeNull();
    const cold = software(await runLoop({ jit: { hotThreshold: 1_000_000 } }));
    expect(cold.jits[0]?.stats.compiled).toBe(0);
  });
});
