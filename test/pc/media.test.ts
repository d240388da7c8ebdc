/** CD-ROM media change on a built (not running) PC: insert, eject, refuse a bad image. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveFirmware } from '../../emulator-core/boot/firmware.js';
import { BadInputError } from '../../emulator-core/errors.js';
import { Machine } from '../../emulator-core/machine/machine.js';

let haveFirmware = true;
try {
  resolveFirmware({ wantVga: true });
} catch {
  haveFirmware = false;
  console.warn('\n*** SKIPPING media change test: SeaBIOS not installed (apt install seabios) ***\n');
}
const dir = mkdtempSync(join(tmpdir(), 'terrarium-media-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!haveFirmware)('CD-ROM media change', () => {
  it('ejects, inserts another disc, and refuses a file that is not an ISO', async () => {
    const a = join(dir, 'a.iso');
    const b = join(dir, 'b.iso');
    writeFileSync(a, Buffer.alloc(2048 * 16));
    writeFileSync(b, Buffer.alloc(2048 * 32));
    const logs: string[] = [];
    const m = await Machine.create({ memoryMiB: 32, accel: 'interpreter', cdrom: a }, { log: (l) => logs.push(l) });
    const cd = m.pci!.cdrom!;
    expect(cd.currentMedium?.path).toBe(a);
    await m.setCdrom(null);
    expect(cd.currentMedium).toBeNull();
    await m.setCdrom(b);
    expect(cd.currentMedium?.path).toBe(b);
    expect(cd.capacity).toBe(32);
    const bad = join(dir, 'bad.iso');
    writeFileSync(bad, Buffer.alloc(1000));
    await expect(m.setCdrom(bad)).rejects.toBeInstanceOf(BadInputError);
    expect(cd.currentMedium?.path).toBe(b);
    // The fire-and-forget form used by the session worker logs instead of throwing.
    m.changeCdrom(join(dir, 'missing.iso'));
    await new Promise((r) => setTimeout(r, 50));
    expect(logs.some((l) => /missing\.iso/.test(l))).toBe(true);
    await m.pci!.close();
  });
});
