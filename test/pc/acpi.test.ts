/**
 * SeaBIOS builds the ACPI tables itself (fw_cfg passes none): its FADT must describe the PM
 * block where the PIIX4 function placed it, the SCI, the APM ACPI-enable command and the
 * GPE0 block we decode, and its \_S5 must be the sleep type AcpiPm powers off on.
 */
import { describe, expect, it } from 'vitest';
import { resolveFirmware } from '../../emulator-core/boot/firmware.js';
import { Machine } from '../../emulator-core/machine/machine.js';
import { GPE0_BLK } from '../../emulator-core/devices/piix-pm.js';

let bios = '';
try {
  bios = resolveFirmware({ wantVga: false }).bios;
} catch {
  console.warn('\n*** SKIPPING ACPI table test: SeaBIOS not installed (apt install seabios) ***\n');
}

describe.skipIf(bios === '')('ACPI tables SeaBIOS builds for this PC', () => {
  it('match the PM block, SCI, APM port, GPE0 block and S5 sleep type', async () => {
    const m = await Machine.create({ memoryMiB: 64, accel: 'interpreter', clock: 'virtual', bios });
    // Three guest seconds: SeaBIOS is done with POST and looking for something to boot.
    m.board.timers.create('test-stop', () => m.powerOff()).arm(3e9);
    await m.run();
    const mem = m.board.memory;
    const str = (a: number, n: number): string => String.fromCharCode(...mem.readBytes(a, n));
    let rsdp = -1;
    for (let a = 0xe0000; a < 0x100000 && rsdp < 0; a += 16) if (str(a, 8) === 'RSD PTR ') rsdp = a;
    expect(rsdp).toBeGreaterThan(0);
    const rsdt = mem.read32(rsdp + 16) >>> 0;
    const tables = new Map<string, number>();
    for (let i = 0; i < (mem.read32(rsdt + 4) - 36) / 4; i++) {
      const t = mem.read32(rsdt + 36 + i * 4) >>> 0;
      tables.set(str(t, 4), t);
    }
    const fadt = tables.get('FACP')!;
    expect(fadt).toBeDefined();
    const pmBase = m.pci!.pm.pmBase;
    expect(pmBase).toBeGreaterThan(0);
    expect(mem.read16(fadt + 46)).toBe(9); // SCI_INT
    expect(mem.read32(fadt + 48)).toBe(0xb2); // SMI_CMD
    expect([mem.read8(fadt + 52), mem.read8(fadt + 53)]).toEqual([0xf1, 0xf0]); // ACPI_ENABLE/DISABLE
    expect(mem.read32(fadt + 56)).toBe(pmBase); // PM1a_EVT_BLK
    expect(mem.read32(fadt + 64)).toBe(pmBase + 4); // PM1a_CNT_BLK
    expect(mem.read32(fadt + 76)).toBe(pmBase + 8); // PM_TMR_BLK
    expect(mem.read32(fadt + 80)).toBe(GPE0_BLK);
    // \\_S5 = Package (4) { SLP_TYP a, SLP_TYP b, ... } in the SSDT.
    const ssdt = tables.get('SSDT')!;
    const body = mem.readBytes(ssdt, mem.read32(ssdt + 4));
    const at = Buffer.from(body).indexOf('_S5_');
    expect(at).toBeGreaterThan(0);
    expect(body[at + 4]).toBe(0x12); // PackageOp
    const slpTyp = body[at + 7] === 0x0a ? body[at + 8] : body[at + 7]; // BytePrefix or Zero/One
    expect(slpTyp).toBe(m.board.acpi.s5Type);
  }, 60_000);
});
