/**
 * Several processors on the software CPU, seen by a guest of our own: a 64 KiB firmware image
 * (smp-guest.asm, built with nasm at test time) starts the APs with INIT-SIPI-SIPI through the
 * BSP's local APIC, each AP runs a trampoline from low RAM, counts itself with `lock xadd` and
 * records its local APIC ID, and the BSP prints who checked in on COM1.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../../emulator-core/errors.js';
import { Machine, MAX_CPUS } from '../../emulator-core/machine/machine.js';
import type { MachineExit } from '../../emulator-core/machine/types.js';
import type { EmulatorOptionsInput } from '../../emulator-core/machine/options.js';
import { probeKvm } from '../../emulator-core/kvm/probe.js';
import { assemble, nasmAvailable } from '../support/nasm.js';

const haveNasm = nasmAvailable();
if (!haveNasm) console.warn('\n*** SMP start-up guest tests SKIPPED: nasm is not installed (apt-get install nasm) ***\n');

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'smp-guest.asm');

/** What the guest's second round does after the APs halted (see smp-guest.asm). */
const ROUND2 = { none: 0, sipiOnly: 1, initAndSipi: 2 } as const;

let dir = '';
const roms = new Map<number, string>();

beforeAll(() => {
  if (!haveNasm) return;
  dir = mkdtempSync(join(tmpdir(), 'terrarium-smp-'));
  const source = readFileSync(SOURCE, 'utf8');
  for (const mode of Object.values(ROUND2)) {
    const file = join(dir, `smp-round2-${mode}.rom`);
    writeFileSync(file, assemble(`%define ROUND2 ${mode}\n${source}`, 16, 0));
    roms.set(mode, file);
  }
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

interface Round {
  round: number;
  cpus: number;
  ids: number[];
  cpuid: number[];
}

interface GuestRun {
  exit: MachineExit;
  serial: string;
  rounds: Round[];
}

async function runGuest(cpus: number, round2: number, options: EmulatorOptionsInput = {}, accel: 'interpreter' | 'kvm' = 'interpreter'): Promise<GuestRun> {
  let serial = '';
  const decoder = new TextDecoder();
  const machine = await Machine.create(
    { memoryMiB: 16, accel, bios: roms.get(round2)!, cpus, clock: 'virtual', net: { mode: 'none' } },
    { serialOutput: (b) => (serial += decoder.decode(b, { stream: true })) },
    options,
  );
  // A guest that never halts must fail the test, not hang it.
  const guard = setTimeout(() => machine.powerOff(), 8_000);
  try {
    const exit = await machine.run();
    return { exit, serial, rounds: parseRounds(serial) };
  } finally {
    clearTimeout(guard);
  }
}

function parseRounds(serial: string): Round[] {
  const list = (s: string): number[] => s.split(',').map(Number);
  return [...serial.matchAll(/^round=(\d+) cpus=(\d+) ids=([\d,]+) cpuid=([\d,]+)$/gm)].map((m) => ({
    round: Number(m[1]),
    cpus: Number(m[2]),
    ids: list(m[3]!),
    cpuid: list(m[4]!),
  }));
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * One round, all `n` processors counted: each read its own ID from the local APIC register
 * and from CPUID, both say 0..n-1, each once, BSP first.
 */
function expectAllCounted(r: GuestRun, n: number): void {
  expect(r.exit.kind, r.serial).toBe('halt');
  expect(r.rounds, r.serial).toHaveLength(1);
  const [first] = r.rounds;
  expect(first!.cpus).toBe(n);
  expect(first!.ids[0]).toBe(0);
  expect(sorted(first!.ids)).toEqual(upTo(n));
  expect(sorted(first!.cpuid)).toEqual(upTo(n));
  expect(first!.cpuid).toEqual(first!.ids);
}

describe.skipIf(!haveNasm)('a guest starts its APs with INIT-SIPI-SIPI and counts them', () => {
  for (const n of [1, 2, 4, 16]) {
    it(`with ${n} CPU${n > 1 ? 's' : ''} it reports ${n} and the APIC IDs 0..${n - 1}`, async () => {
      // The APIC bus routes each CPU's MMIO to its own local APIC.
      expectAllCounted(await runGuest(n, ROUND2.none), n);
    }, 10_000);
  }

  it('with 1 CPU and no local APIC (a PIC-only PC), the guest sees none in CPUID, sends no IPI and reports 1', async () => {
    const r = await runGuest(1, ROUND2.none, { apic: false });
    expect(r.exit.kind, r.serial).toBe('halt');
    expect(r.rounds).toEqual([{ round: 1, cpus: 1, ids: [0], cpuid: [0] }]);
  }, 10_000);

  it('the second start-up IPI of INIT-SIPI-SIPI, and a later one, do not run the trampoline again', async () => {
    const r = await runGuest(4, ROUND2.sipiOnly);
    expect(r.exit.kind, r.serial).toBe('halt');
    expect(r.rounds.map((x) => x.round), r.serial).toEqual([1, 2]);
    // Round 1 sent two SIPIs: each AP counted itself once.
    expect(r.rounds[0]!.cpus).toBe(4);
    expect(sorted(r.rounds[0]!.ids)).toEqual([0, 1, 2, 3]);
    // Round 2: one more SIPI to APs that left wait-for-SIPI long ago (halted, IF=0): ignored.
    expect(r.rounds[1]).toEqual({ round: 2, cpus: 1, ids: [0], cpuid: [0] });
  }, 10_000);

  it('INIT puts the APs back in wait-for-SIPI: INIT then SIPI runs the trampoline once more on each', async () => {
    const r = await runGuest(4, ROUND2.initAndSipi);
    expect(r.exit.kind, r.serial).toBe('halt');
    expect(r.rounds.map((x) => x.round), r.serial).toEqual([1, 2]);
    expect(r.rounds[0]!.cpus).toBe(4);
    expect(r.rounds[1]!.cpus).toBe(4);
    expect(r.rounds[1]!.ids[0]).toBe(0);
    expect(sorted(r.rounds[1]!.ids)).toEqual([0, 1, 2, 3]);
    expect(sorted(r.rounds[1]!.cpuid)).toEqual([0, 1, 2, 3]);
  }, 10_000);
});

const kvm = probeKvm();
if (!kvm.usable) console.warn(`\n*** SMP start-up guest tests under KVM SKIPPED: ${kvm.reason} ***\n`);

describe.skipIf(!haveNasm || !kvm.usable)('under KVM, one thread per vCPU: the guest starts its APs through the in-kernel local APICs', () => {
  for (const n of [1, 2, 4]) {
    it(`with ${n} vCPU${n > 1 ? 's' : ''} it reports ${n} and the APIC IDs 0..${n - 1}, from the APIC and from CPUID`, async () => {
      expectAllCounted(await runGuest(n, ROUND2.none, { kvm: { irqchip: 'kernel' } }, 'kvm'), n);
    }, 20_000);
  }

  it('INIT then SIPI starts the APs once more', async () => {
    const r = await runGuest(4, ROUND2.initAndSipi, { kvm: { irqchip: 'kernel' } }, 'kvm');
    expect(r.exit.kind, r.serial).toBe('halt');
    expect(r.rounds.map((x) => [x.round, x.cpus]), r.serial).toEqual([
      [1, 4],
      [2, 4],
    ]);
    expect(sorted(r.rounds[1]!.ids)).toEqual([0, 1, 2, 3]);
  }, 20_000);

  it('refuses several vCPUs without the in-kernel irqchip, naming why', async () => {
    const create = Machine.create({ memoryMiB: 16, accel: 'kvm', bios: roms.get(ROUND2.none)!, cpus: 2, net: { mode: 'none' } }, {}, { kvm: { irqchip: 'user' } });
    await expect(create).rejects.toBeInstanceOf(BadInputError);
    await expect(create).rejects.toThrow('2 CPUs under KVM need its in-kernel irqchip');
  });
});

describe('the number of CPUs is checked', () => {
  for (const cpus of [0, 17, 1.5]) {
    it(`Machine.create rejects cpus: ${cpus} with a BadInputError naming cpus`, async () => {
      const create = Machine.create({ memoryMiB: 16, accel: 'interpreter', bios: '/nonexistent/never-read.rom', cpus, clock: 'virtual', net: { mode: 'none' } });
      await expect(create).rejects.toBeInstanceOf(BadInputError);
      await expect(create).rejects.toThrow(`cpus must be a whole number from 1 to ${MAX_CPUS}; got ${cpus}`);
    });
  }
});
