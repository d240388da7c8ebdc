/**
 * Linux on the software CPU with a local APIC and an I/O APIC (options.apic): the kernel
 * finds them in the MADT, its timer runs on the local APIC, the PIT's check through I/O APIC
 * pin 2 passes, and the e1000's PCI interrupt reaches it through the I/O APIC (level,
 * active high, as the MADT's override says): DHCP and a download work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../../emulator-core/machine/machine.js';
import { fixturePath, missingFixtures } from '../fixtures/fixtures.js';
import { SerialShell } from '../support/net/guest-session.js';
import { bootNetGuest, NET_GUEST } from '../support/net/net-guest.js';
import { servePattern, sha256Hex, patternBytes, type PatternServer } from '../support/net/host-peers.js';

const missing = missingFixtures(NET_GUEST.kernel, NET_GUEST.initrd);
if (missing.length > 0) console.warn(`\n*** APIC guest test SKIPPED: missing fixtures ${missing.join(', ')} (npm run fixtures) ***\n`);

describe.skipIf(missing.length > 0)('Linux with a local APIC and an I/O APIC (software CPU)', () => {
  let machine: Machine;
  let shell: SerialShell;
  let run: Promise<unknown>;
  let server: PatternServer;
  let log = '';

  beforeAll(async () => {
    server = await servePattern(4 << 20, '/4M');
    machine = await Machine.create(
      {
        memoryMiB: NET_GUEST.memoryMiB,
        accel: 'interpreter',
        kernel: fixturePath(NET_GUEST.kernel),
        initrd: fixturePath(NET_GUEST.initrd),
        cmdline: NET_GUEST.append.replace('quiet', 'loglevel=7'), // KERN_INFO lines (the APIC ones) on the console
        net: { mode: 'nat' },
      },
      {
        serialOutput: (bytes) => {
          log += Buffer.from(bytes).toString('latin1');
          shell.feed(bytes);
        },
      },
      {},
    );
    shell = new SerialShell((text) => machine.sendSerial(Buffer.from(text, 'latin1')));
    run = machine.run();
  }, 60_000);

  afterAll(async () => {
    machine?.powerOff();
    await run;
    await server?.close();
  });

  it('boots with the APICs from the MADT and gets its DHCP lease through the I/O APIC', async () => {
    const lease = await bootNetGuest(shell, 900_000);
    expect(lease.ip).toBe('10.0.2.15');
    expect(log).toContain('IOAPIC[0]: apic_id 0, version 17, address 0xfec00000, GSI 0-23');
    expect(log).toContain('ACPI: INT_SRC_OVR (bus 0 bus_irq 0 global_irq 2 dfl dfl)');
    expect(log).toMatch(/Enabling APIC mode: +Flat\. +Using 1 I\/O APICs/);
    expect(log).toContain('..TIMER: vector=0x30 apic1=0 pin1=2');
    expect(log).not.toMatch(/timer doesn't work|IO-APIC \+ timer doesn't work|MP-BIOS bug/);
  }, 960_000);

  it('counts local timer interrupts and routes the NIC and the serial port through the I/O APIC', async () => {
    const first = await shell.run('cat /proc/interrupts', 30_000);
    const loc = (text: string): number => Number(/LOC:\s+(\d+)/.exec(text)?.[1] ?? NaN);
    expect(first).toMatch(/IO-APIC\s+2-edge\s+timer/);
    expect(first).toMatch(/IO-APIC\s+4-edge\s+ttyS0/);
    expect(first).toMatch(/IO-APIC\s+11-fasteoi\s+eth0/);
    await shell.run('sleep 1', 30_000);
    const second = await shell.run('cat /proc/interrupts', 30_000);
    expect(loc(second)).toBeGreaterThan(loc(first));
  }, 120_000);

  it('downloads 4 MiB from the host intact (PCI interrupts through the I/O APIC under load)', async () => {
    const url = `http://10.0.2.2:${server.port}/4M`;
    const out = await shell.run(`wget -q -O - ${url} | sha256sum`, 600_000);
    expect(out.split(/\s+/)[0]).toBe(sha256Hex(patternBytes(4 << 20)));
  }, 620_000);
});
