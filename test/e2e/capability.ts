/**
 * Can this build boot a guest and show its screen? The guest-dependent end-to-end steps run
 * only when the real Machine (emulator-core), in a real session worker, boots the fixture
 * ISO and paints pixels; otherwise they are skipped with this reason, loudly. The probe
 * runs in a worker so a busy or stuck guest cannot block the test process.
 */
import { findFirmware } from '../../app/host/firmware.js';
import { Library } from '../../app/library/library.js';
import { newVm, tempDir } from '../../app/library/test-helpers.js';
import { SessionManager } from '../../app/session/manager.js';
import { fixtureIso } from './harness.js';

export interface Capability {
  /** The guest painted its screen (the console steps can run). */
  boots: boolean;
  /** The guest printed on its serial port (the serial step can run). */
  serial: boolean;
  reason: string;
  iso: string | null;
}

export async function probeGuest(timeoutMs = 20_000): Promise<Capability> {
  const iso = fixtureIso();
  if (iso === null) return { boots: false, serial: false, reason: 'no bootable fixture ISO in test/fixtures/out (npm run fixtures) and TERRARIUM_E2E_ISO unset', iso };
  if (findFirmware().bios === null) return { boots: false, serial: false, reason: 'no BIOS firmware (apt install seabios)', iso };
  const library = new Library(tempDir('terrarium-probe-'));
  const vm = await library.create(newVm('probe', { cdrom: iso, disk: { kind: 'none' }, system: { ...newVm('probe').system, memoryMiB: 128 } }));
  let screens = 0;
  let serialBytes = 0;
  const sessions = new SessionManager({
    owner: 'e2e probe',
    listener: { status: () => undefined, screen: () => void screens++, serial: (_id, bytes) => void (serialBytes += bytes.length) },
  });
  try {
    const session = await sessions.start(vm);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (screens === 0 || serialBytes === 0) && !session.over) await new Promise((r) => setTimeout(r, 200));
    const serial = serialBytes > 0;
    if (session.over) {
      const why = session.error?.message ?? session.exit?.reason ?? session.state;
      return { boots: false, serial: false, reason: `the Machine stopped before the guest was up: ${why}`, iso };
    }
    if (screens > 0) return { boots: true, serial, reason: `the Machine boots ${iso} and paints its screen${serial ? ' and prints on COM1' : ''}`, iso };
    return { boots: false, serial, reason: `the Machine ran ${timeoutMs / 1000} s without a screen update${serial ? ' (the serial port works)' : ''}`, iso };
  } catch (error) {
    return { boots: false, serial: false, reason: `the Machine cannot start: ${(error as Error).message}`, iso };
  } finally {
    await sessions.shutdownAll();
  }
}
