/**
 * The e1000 under KVM, driven by a tiny guest through the real Machine with the NAT behind
 * it: the guest finds the card's registers, reads its MAC from the EEPROM, sees the link, and
 * gets an ARP reply from the gateway through its own TX and RX rings. Skips loudly without
 * /dev/kvm or nasm.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../../emulator-core/machine/machine.js';
import type { MachineExit } from '../../emulator-core/machine/types.js';
import { buildTinyBzImage } from '../cli/tiny-kernel.js';
import { nasmAvailable } from '../support/nasm.js';
import { E1000_GUEST } from './e1000-guest.js';
import { kvmMissing } from './harness.js';

const haveNasm = nasmAvailable();
if (!haveNasm) console.warn('*** SKIPPING the e1000 guest under KVM: nasm is not installed ***');
if (kvmMissing !== null) console.warn(`*** SKIPPING the e1000 guest under KVM: ${kvmMissing} ***`);

/** Not QEMU's default, so a MAC the guest prints can only have come from this config. */
const MAC = '52:54:00:c0:ff:ee';
/** The NAT's gateway answers ARP with this address (QEMU's and libslirp's choice). */
const GATEWAY_MAC = '52:55:0a:00:02:02';

let dir = '';
let kernel = '';
beforeAll(() => {
  if (!haveNasm) return;
  dir = mkdtempSync(join(tmpdir(), 'terrarium-e1000-kvm-'));
  kernel = join(dir, 'e1000-guest.bzimage');
  buildTinyBzImage(kernel, E1000_GUEST);
});
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

async function boot(): Promise<{ serial: string; exit: MachineExit; ms: number }> {
  const t0 = performance.now();
  let serial = '';
  const m = await Machine.create(
    { memoryMiB: 16, accel: 'kvm', kernel, net: { mode: 'nat', mac: MAC } },
    { serialOutput: (b) => (serial += Buffer.from(b).toString('latin1')) },
    { linuxEntry: '32' },
  );
  const timer = setTimeout(() => m.powerOff(), 30_000);
  try {
    const exit = await m.run();
    return { serial, exit, ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

describe.skipIf(!haveNasm || kvmMissing !== null)('e1000 driven by a small guest under KVM', () => {
  it('reads its MAC from the EEPROM, sees the link, and gets the gateway ARP reply through its rings', async () => {
    const r = await boot();
    expect(r.serial).toMatch(/^bar0 fe[0-9a-f]{6}\n/);
    expect(r.serial).toContain(`mac ${MAC}\n`);
    expect(r.serial).toContain('link up\n');
    expect(r.serial).toContain('arp request sent\n');
    expect(r.serial).toContain(`arp reply: 10.0.2.2 is-at ${GATEWAY_MAC}\n`);
    expect(r.exit.kind).toBe('halt');
    console.log(`e1000 guest under KVM: ${r.ms.toFixed(0)} ms\n${r.serial}`);
  }, 60_000);
});
