/**
 * One suite of small guests under both backends with the same expected serial output: the
 * software CPU, and KVM with the in-kernel irqchip and with our own PIC. KVM cases skip
 * loudly only where /dev/kvm is missing; guests need nasm.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CPU_STATE_BYTES } from '../../emulator-core/cpu/state-layout.js';
import { KvmVcpus } from '../../emulator-core/machine/kvm-vcpus.js';
import { SoftwareVcpus } from '../../emulator-core/machine/software-vcpus.js';
import { nasmAvailable } from '../support/nasm.js';
import { buildRom, GUESTS, IOAPIC_TIMER, REBOOTER, SLEEPER, SPINNER, TRIPLE_FAULT } from './guests.js';
import { BACKENDS, kvmMissing, runGuest, startGuest, until, type Backend } from './harness.js';

const haveNasm = nasmAvailable();
if (!haveNasm) console.warn('*** SKIPPING the KVM/interpreter guest suite: nasm is not installed ***');
if (kvmMissing !== null) console.warn(`*** SKIPPING the KVM half of the guest suite: ${kvmMissing} ***`);

const roms = new Map<string, string>();
beforeAll(() => {
  if (!haveNasm) return;
  for (const g of GUESTS) roms.set(g.name, buildRom(g.name, g.source));
  roms.set('spinner', buildRom('spinner', SPINNER));
  roms.set('sleeper', buildRom('sleeper', SLEEPER));
  roms.set('rebooter', buildRom('rebooter', REBOOTER.source));
  roms.set('ioapic-timer', buildRom('ioapic-timer', IOAPIC_TIMER.source));
});

function skipReason(backend: Backend): string | null {
  if (!haveNasm) return 'nasm is not installed';
  if (backend !== 'interpreter' && kvmMissing !== null) return kvmMissing;
  return null;
}

for (const backend of BACKENDS) {
  const skip = skipReason(backend);
  describe.skipIf(skip !== null)(`guests on ${backend}`, () => {
    for (const g of GUESTS) {
      it(g.name, async () => {
        const r = await runGuest(roms.get(g.name)!, backend);
        expect(r.serial).toBe(g.expected);
        if (g === TRIPLE_FAULT) {
          expect(r.exit.kind).toBe('crash');
          expect(r.exit.reason).toMatch(/^triple fault at 0008:000f[0-9a-f]{4}$/);
        } else {
          expect(r.exit).toEqual({ kind: 'poweroff', reason: 'the guest powered off (ACPI S5)' });
        }
      });
    }

    it('runs on processors of its backend only: no software CPU, and no room for one, under KVM', async () => {
      const g = await startGuest(roms.get('real mode')!, backend);
      const onKvm = backend !== 'interpreter';
      expect(g.machine.vcpus).toBeInstanceOf(onKvm ? KvmVcpus : SoftwareVcpus);
      expect(g.machine.board.memory.stateBytes).toBe(onKvm ? 0 : CPU_STATE_BYTES);
      expect(g.machine.vcpus.instructionsRetired === null).toBe(onKvm);
      expect((await g.done).kind).toBe('poweroff');
    });

    // Our user-space PIC has no local APIC beside it, so the case does not exist there; the
    // software CPU and KVM's in-kernel irqchip wire IRQ0 to pin 2 alike.
    if (backend !== 'kvm-user-irqchip') {
      it(IOAPIC_TIMER.name, async () => {
        const r = await runGuest(roms.get('ioapic-timer')!, backend);
        expect(r.serial).toBe(IOAPIC_TIMER.expected);
        expect(r.exit.kind).toBe('poweroff');
      });
    }

    it('a guest that resets the machine (0xCF9) boots again', async () => {
      const r = await runGuest(roms.get('rebooter')!, backend);
      expect(r.serial).toBe(REBOOTER.expected);
      expect(r.exit.kind).toBe('poweroff');
    });

    it.each(backend === 'kvm-user-irqchip' ? [1] : [1, 2])('reset from the host while the guest runs, %i CPU(s)', async (cpus) => {
      const g = await startGuest(roms.get('spinner')!, backend, cpus);
      await until(() => g.serial().includes('spinning'), 20_000, 'the guest to spin');
      g.machine.reset();
      await until(() => g.serial() === 'spinning\nspinning\n', 20_000, 'the guest to start again');
      g.machine.powerOff();
      expect((await g.done).kind).toBe('stopped');
    });

    it('pause, resume and power-off of a guest spinning in a loop', async () => {
      const g = await startGuest(roms.get('spinner')!, backend);
      const counter = (): number => g.machine.board.memory.read32(0x500) >>> 0;
      await until(() => g.serial().includes('spinning') && counter() > 1000, 20_000, 'the guest to spin');
      g.machine.pause();
      await until(() => g.machine.runState === 'paused', 5_000, 'the pause');
      await new Promise((r) => setTimeout(r, 100));
      const c1 = counter();
      await new Promise((r) => setTimeout(r, 200));
      expect(counter()).toBe(c1);
      g.machine.resume();
      expect(g.machine.runState).toBe('running');
      await until(() => counter() > c1, 10_000, 'the guest to spin again');
      const t0 = performance.now();
      g.machine.powerOff();
      const exit = await g.done;
      expect(exit.kind).toBe('stopped');
      expect(performance.now() - t0).toBeLessThan(3000);
    });

    // With 2 CPUs the AP waits for a start-up IPI that never comes: the BSP alone decides.
    const cpuCounts = backend === 'kvm-user-irqchip' ? [1] : [1, 2];
    it.each(cpuCounts)('pause, resume, reset and power-off of a guest halted forever, %i CPU(s)', async (cpus) => {
      const g = await startGuest(roms.get('sleeper')!, backend, cpus);
      await until(() => g.serial().includes('halting'), 20_000, 'the guest to halt');
      await new Promise((r) => setTimeout(r, 300));
      g.machine.pause();
      await until(() => g.machine.runState === 'paused', 5_000, 'the pause');
      g.machine.resume();
      expect(g.machine.runState).toBe('running');
      g.machine.reset();
      await until(() => g.serial() === 'halting\nhalting\n', 20_000, 'the guest to start again');
      await new Promise((r) => setTimeout(r, 300));
      // Still halted with interrupts enabled: the run does not end on its own.
      const raced = await Promise.race([g.done.then(() => 'ended'), new Promise((r) => setTimeout(() => r('running'), 400))]);
      expect(raced).toBe('running');
      const t0 = performance.now();
      g.machine.powerOff();
      const exit = await g.done;
      expect(exit.kind).toBe('stopped');
      expect(performance.now() - t0).toBeLessThan(3000);
    });
  });
}
