/**
 * PIIX4 power management function (PCI 00:01.3, 8086:7113): PMBA (0x40) and PMREGMISC
 * bit 0 (0x80) place the ACPI PM register block (AcpiPm: PM1 event/control, PM timer)
 * in port space, the SCI is ISA IRQ 9, the APM control port 0xB2 carries the ACPI
 * enable/disable commands named in the FADT, and a GPE0 block sits at 0xAFE0 where
 * SeaBIOS's FADT puts it.
 *
 * SMM is not modelled: DEVACTB's APMC_EN bit starts set, which tells SeaBIOS that SMM
 * setup is already done (QEMU does the same without SMM), so it never waits for an SMI.
 */
import type { AccessSize, IoBus, PortIoHandler } from '../bus/io-bus.js';
import { PciFunction } from '../bus/pci.js';
import type { AcpiPm } from './acpi-pm.js';
import type { Device, DeviceState } from './device.js';
import { StateReader } from './state.js';

export const PIIX_PMBA = 0x40;
export const PIIX_DEVACTB = 0x58;
export const PIIX_PMREGMISC = 0x80;
/** The PIIX4 decodes 64 ports of PM registers at PMBA. */
export const PIIX_PM_IO_SIZE = 64;
export const APM_CNT_PORT = 0xb2;
export const GPE0_BLK = 0xafe0;
export const GPE0_BLK_LEN = 4;
const ACPI_ENABLE = 0xf1;
const ACPI_DISABLE = 0xf0;

/** APM control/status ports (0xB2/0xB3): ACPI mode switches, and a status scratch byte. */
class ApmPorts implements PortIoHandler {
  control = 0;
  status = 0;
  constructor(private readonly pm: AcpiPm) {}

  ioRead(port: number, _size: AccessSize): number {
    return port === APM_CNT_PORT ? this.control : this.status;
  }

  ioWrite(port: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    if (port === APM_CNT_PORT) {
      this.control = value;
      if (value === ACPI_ENABLE) this.pm.setSciEnabled(true);
      else if (value === ACPI_DISABLE) this.pm.setSciEnabled(false);
    } else {
      this.status = value;
    }
  }
}

/** GPE0 status (write one to clear) and enable bytes; no general-purpose event ever fires. */
class Gpe0Block implements PortIoHandler {
  readonly enable = new Uint8Array(GPE0_BLK_LEN / 2);

  ioRead(port: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const off = port + i - GPE0_BLK;
      const b = off >= GPE0_BLK_LEN / 2 && off < GPE0_BLK_LEN ? this.enable[off - GPE0_BLK_LEN / 2]! : 0;
      v |= b << (i * 8);
    }
    return v >>> 0;
  }

  ioWrite(port: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) {
      const off = port + i - GPE0_BLK;
      if (off >= GPE0_BLK_LEN / 2 && off < GPE0_BLK_LEN) this.enable[off - GPE0_BLK_LEN / 2] = (value >>> (i * 8)) & 0xff;
    }
  }
}

export class PiixPm extends PciFunction implements Device {
  private mappedBase = -1;
  private readonly apm: ApmPorts;
  private readonly gpe = new Gpe0Block();

  constructor(
    private readonly io: IoBus,
    private readonly pm: AcpiPm,
  ) {
    super('piix4-pm', { vendor: 0x8086, device: 0x7113, revision: 0x03, classCode: 0x06, subclass: 0x80, interruptPin: 1 });
    this.writeMask[PIIX_PMBA] = 0xc0;
    this.writeMask[PIIX_PMBA + 1] = 0xff;
    for (let r = 0x42; r < 0x100; r++) if (r !== PIIX_PMBA + 2 && r !== PIIX_PMBA + 3) this.writeMask[r] = 0xff;
    this.writeMask[PIIX_PMBA + 2] = 0;
    this.writeMask[PIIX_PMBA + 3] = 0;
    this.apm = new ApmPorts(pm);
    io.register(APM_CNT_PORT, 2, this.apm, 'apm');
    io.register(GPE0_BLK, GPE0_BLK_LEN, this.gpe, 'acpi-gpe0');
    this.reset();
  }

  /** Where the PM block decodes now, or -1. */
  get pmBase(): number {
    return this.mappedBase;
  }

  protected override configWriteByte(offset: number, value: number): void {
    super.configWriteByte(offset, value);
    if ((offset >= PIIX_PMBA && offset < PIIX_PMBA + 4) || offset === PIIX_PMREGMISC) this.placePmBlock();
  }

  /** Move the AcpiPm block to PMBA when PMREGMISC enables it; release it otherwise. */
  private placePmBlock(): void {
    const c = this.config;
    const base = (c[PIIX_PMBA]! | (c[PIIX_PMBA + 1]! << 8)) & 0xffc0;
    const want = (c[PIIX_PMREGMISC]! & 1) !== 0 && base !== 0 ? base : -1;
    if (want === this.mappedBase) return;
    if (this.mappedBase >= 0) {
      for (let p = this.mappedBase; p < this.mappedBase + PIIX_PM_IO_SIZE; p++) if (this.io.ownerOf(p) === 'acpi-pm') this.io.unregister(p, 1);
    }
    this.mappedBase = -1;
    if (want < 0) return;
    for (let p = want; p < want + PIIX_PM_IO_SIZE; p++) {
      // Ports that belong to another device stay with it.
      const o = this.io.ownerOf(p);
      if (o === undefined || o === 'acpi-pm') this.io.register(p, 1, this.pm, 'acpi-pm');
    }
    this.pm.base = want;
    this.mappedBase = want;
  }

  reset(): void {
    this.resetConfig();
    const c = this.config;
    c.fill(0, 0x40);
    c[PIIX_PMBA] = 0x01; // I/O space indicator
    c[PIIX_DEVACTB + 3] = 0x02; // APMC_EN: "SMM already initialised"
    this.apm.control = 0;
    this.apm.status = 0;
    this.gpe.enable.fill(0);
    this.placePmBlock();
  }

  save(): DeviceState {
    return { version: 1, config: Array.from(this.config), apm: [this.apm.control, this.apm.status], gpeEnable: Array.from(this.gpe.enable) };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    const config = r.ints('config', 0, 255, 256);
    const apm = r.ints('apm', 0, 255, 2);
    const gpe = r.ints('gpeEnable', 0, 255, GPE0_BLK_LEN / 2);
    this.config.set(config);
    this.apm.control = apm[0]!;
    this.apm.status = apm[1]!;
    this.gpe.enable.set(gpe);
    this.placePmBlock();
  }
}
