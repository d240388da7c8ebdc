/**
 * Can this build boot a guest and show its screen? The guest-dependent end-to-end steps run
 * only when the real Machine (emulator-core) boots the fixture ISO and paints pixels;
 * otherwise they are skipped with this reason, loudly.
 */
import { findFirmware } from '../../app/host/firmware.js';
import { fixtureIso } from './harness.js';

export interface Capability {
  boots: boolean;
  reason: string;
  iso: string | null;
}

export async function probeGuest(timeoutMs = 20_000): Promise<Capability> {
  const iso = fixtureIso();
  if (iso === null) return { boots: false, reason: 'no bootable fixture ISO in test/fixtures/out (npm run fixtures) and TERRARIUM_E2E_ISO unset', iso };
  const firmware = findFirmware();
  if (firmware.bios === null) return { boots: false, reason: 'no BIOS firmware (apt install seabios)', iso };
  const { Machine } = await import('../../emulator-core/machine/machine.js');
  let screens = 0;
  try {
    const machine = await Machine.create(
      { memoryMiB: 128, accel: 'auto', bios: firmware.bios, ...(firmware.vgaBios ? { vgaBios: firmware.vgaBios } : {}), cdrom: iso, boot: 'cdrom', clock: 'realtime' },
      { screenUpdate: () => void screens++ },
    );
    const running = machine.run();
    const outcome = await Promise.race([running.then((exit) => `exited: ${exit.kind} (${exit.reason})`), new Promise<null>((r) => setTimeout(() => r(null), timeoutMs))]);
    if (outcome !== null) return { boots: false, reason: `the Machine ${outcome} before showing a screen`, iso };
    machine.powerOff();
    await Promise.race([running, new Promise((r) => setTimeout(r, 5000))]);
    return screens > 0 ? { boots: true, reason: `the Machine boots ${iso} and paints its screen`, iso } : { boots: false, reason: `the Machine ran ${timeoutMs / 1000} s without a screen update`, iso };
  } catch (error) {
    return { boots: false, reason: `the Machine cannot boot a guest yet: ${(error as Error).message}`, iso };
  }
}
