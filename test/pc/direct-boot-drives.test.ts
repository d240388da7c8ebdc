/**
 * The drives of a direct kernel boot, on a built (not running) machine, seen the way a guest
 * sees them: PCI config space of 01.1 through ports 0xCF8/0xCFC after the machine's own PCI
 * setup, the legacy IDE ports, and the CD-ROM's media changes. test/boot/kernel-with-disk.test.ts
 * boots Linux onto them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../../emulator-core/errors.js';
import { Machine } from '../../emulator-core/machine/machine.js';
import { fixturePath, missingFixtures } from '../fixtures/fixtures.js';

const missing = missingFixtures('vmlinuz-i386');
const dir = mkdtempSync(join(tmpdir(), 'terrarium-direct-drives-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pciRead(m: Machine, dev: number, fn: number, reg: number): number {
  m.board.io.write(0xcf8, 4, (0x80000000 | (dev << 11) | (fn << 8) | reg) >>> 0);
  return m.board.io.read(0xcfc, 4) >>> 0;
}

describe.skipIf(missing.length > 0)('direct kernel boot with drives', () => {
  const a = join(dir, 'a.img');
  const b = join(dir, 'b.img');
  const iso1 = join(dir, 'one.iso');
  const iso2 = join(dir, 'two.iso');
  writeFileSync(a, Buffer.alloc(1 << 20));
  writeFileSync(b, Buffer.alloc(2 << 20));
  writeFileSync(iso1, Buffer.alloc(2048 * 16));
  writeFileSync(iso2, Buffer.alloc(2048 * 32));

  it('puts the PIIX IDE at 01.1 with its bus-master BAR, decoding and legacy ports set up', async () => {
    const m = await Machine.create({ memoryMiB: 32, accel: 'interpreter', kernel: fixturePath('vmlinuz-i386'), disks: [{ path: a }, { path: b }], cdrom: iso1, net: { mode: 'none' } });
    try {
      expect(pciRead(m, 1, 1, 0x00)).toBe(0x70108086);
      const bar4 = pciRead(m, 1, 1, 0x20);
      expect(bar4 & 1).toBe(1); // an I/O BAR
      expect(bar4 & ~3).toBeGreaterThanOrEqual(0xc000);
      expect(pciRead(m, 1, 1, 0x04) & 0x5).toBe(0x5); // I/O decoding and bus mastering on
      expect(pciRead(m, 1, 1, 0x40)).toBe(0x80008000); // IDETIM: both channels' legacy ports decode
      // The bus-master status register answers at BAR4 (no DMA running: bit 0 clear).
      expect(m.board.io.read((bar4 & ~3) + 2, 1) & 1).toBe(0);
      // Disks in order on the primary channel, the CD-ROM on the secondary master (as firmware boots place them).
      const ide = m.chipset.ide.controller;
      expect(ide.drive(0, 0)?.kind).toBe('ata');
      expect(ide.drive(0, 1)?.kind).toBe('ata');
      expect(ide.drive(1, 0)?.kind).toBe('atapi');
      expect(ide.drive(1, 1)).toBeNull();
      // Select the primary master through the legacy ports: a ready disk (DRDY) answers.
      m.board.io.write(0x1f6, 1, 0xa0);
      expect(m.board.io.read(0x1f7, 1) & 0xc0).toBe(0x40);
    } finally {
      await m.chipset.ide.close();
    }
  });

  it('changes the CD-ROM medium (eject, insert) and refuses a file that is not an ISO', async () => {
    const m = await Machine.create({ memoryMiB: 32, accel: 'interpreter', kernel: fixturePath('vmlinuz-i386'), cdrom: iso1, net: { mode: 'none' } });
    try {
      const cd = m.chipset.ide.cdrom!;
      expect(cd.currentMedium?.path).toBe(iso1);
      await m.setCdrom(null);
      expect(cd.currentMedium).toBeNull();
      await m.setCdrom(iso2);
      expect(cd.currentMedium?.path).toBe(iso2);
      expect(cd.capacity).toBe(32);
      const bad = join(dir, 'bad.iso');
      writeFileSync(bad, Buffer.alloc(1000));
      await expect(m.setCdrom(bad)).rejects.toBeInstanceOf(BadInputError);
      expect(cd.currentMedium?.path).toBe(iso2);
    } finally {
      await m.chipset.ide.close();
    }
  });

  it('without --cdrom there is no CD-ROM drive to change', async () => {
    const m = await Machine.create({ memoryMiB: 32, accel: 'interpreter', kernel: fixturePath('vmlinuz-i386'), disks: [{ path: a }], net: { mode: 'none' } });
    try {
      expect(m.chipset.ide.controller.drive(1, 0)).toBeNull();
      await expect(m.setCdrom(iso1)).rejects.toThrow(/this machine has no CD-ROM drive/);
    } finally {
      await m.chipset.ide.close();
    }
  });
});
