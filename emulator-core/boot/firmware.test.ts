/** Firmware lookup order and the one-line error listing where we looked. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../errors.js';
import { bootOrderText, placeDrives } from '../machine/pci-board.js';
import { checkBiosImage, firmwareSearchDirs, resolveFirmware } from './firmware.js';

const dir = mkdtempSync(join(tmpdir(), 'terrarium-fw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveFirmware', () => {
  it('takes explicit files first, then TERRARIUM_FIRMWARE_DIR / bundled folders, then the system', () => {
    const bundled = join(dir, 'bundled');
    mkdirSync(bundled);
    writeFileSync(join(bundled, 'bios-256k.bin'), 'x');
    writeFileSync(join(bundled, 'vgabios-stdvga.bin'), 'y');
    const env = { TERRARIUM_FIRMWARE_DIR: bundled };
    const fw = resolveFirmware({ wantVga: true, env, platform: 'linux' });
    expect(fw.bios).toBe(join(bundled, 'bios-256k.bin'));
    expect(fw.vgaBios).toBe(join(bundled, 'vgabios-stdvga.bin'));
    const own = join(dir, 'own.bin');
    writeFileSync(own, 'z');
    expect(resolveFirmware({ bios: own, wantVga: false, env, platform: 'linux' })).toMatchObject({ bios: own, vgaBios: null });
    const dirs = firmwareSearchDirs(env, 'linux');
    expect(dirs[0]).toBe(bundled);
    expect(dirs.indexOf('/usr/share/seabios')).toBeLessThan(dirs.indexOf('/usr/share/qemu'));
    expect(dirs).toContain('/opt/homebrew/share/qemu');
    expect(firmwareSearchDirs({ ProgramFiles: 'C:\\Program Files' }, 'win32')).toContain('C:\\Program Files\\qemu\\share');
  });

  it('explains where it looked and how to install SeaBIOS when nothing is found', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    // On a host with SeaBIOS installed the system folders would answer: look only at a
    // platform whose folders do not exist here.
    let err: unknown;
    try {
      resolveFirmware({ wantVga: false, env: { TERRARIUM_FIRMWARE_DIR: empty, ProgramFiles: join(dir, 'nowhere') }, platform: 'win32' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadInputError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^no BIOS firmware found: looked for bios-256k\.bin or bios\.bin in /);
    expect(msg).toContain(empty);
    expect(msg).toMatch(/--bios FILE/);
    expect(msg).not.toContain('\n');
    expect(() => resolveFirmware({ bios: join(dir, 'missing.bin'), wantVga: false })).toThrow(/--bios .*missing\.bin does not exist/);
  });

  it('checks BIOS images', () => {
    expect(() => checkBiosImage(new Uint8Array(1000), 'x')).toThrow(/not a BIOS image: 1000 bytes/);
    expect(() => checkBiosImage(new Uint8Array(0x10000), 'x')).toThrow(/no code at the reset vector/);
    const ok = new Uint8Array(0x20000);
    ok[0x1fff0] = 0xea;
    expect(() => checkBiosImage(ok, 'x')).not.toThrow();
  });
});

describe('drive placement and boot order', () => {
  it('puts the CD on the secondary master and disks around it', () => {
    const p = placeDrives(2, true);
    expect(p.cdrom).toEqual({ kind: 'cdrom', channel: 1, slave: false });
    expect(p.disks).toEqual([
      { kind: 'disk', channel: 0, slave: false },
      { kind: 'disk', channel: 0, slave: true },
    ]);
    expect(placeDrives(4, false).disks[2]).toEqual({ kind: 'disk', channel: 1, slave: false });
    expect(() => placeDrives(4, true)).toThrow(/at most 3 disks/);
  });

  it('lists the chosen kind first in SeaBIOS device-path form', () => {
    const p = placeDrives(1, true);
    const drives = [...p.disks, p.cdrom!];
    expect(bootOrderText('cdrom', drives)).toBe('/pci@i0cf8/ide@1,1/drive@1/disk@0\n/pci@i0cf8/ide@1,1/drive@0/disk@0');
    expect(bootOrderText('disk', drives)).toBe('/pci@i0cf8/ide@1,1/drive@0/disk@0\n/pci@i0cf8/ide@1,1/drive@1/disk@0');
  });
});
