/**
 * ACPI power management registers in the PIIX4 layout: PM1 event block (status/enable),
 * PM1 control (SCI_EN, SLP_TYP, SLP_EN) and the 24-bit PM timer at 3.579545 MHz. The
 * same device sits at a fixed base for direct Linux boot and behind the PIIX4's PMBA
 * when firmware maps it. Writing SLP_EN with the S5 sleep type powers the machine off;
 * the power button sets PWRBTN_STS and raises the SCI.
 */
import type { AccessSize, PortIoHandler } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import type { Clock } from '../machine/clock.js';
import type { MachineControl } from '../machine/control.js';
import type { Device, DeviceState } from './device.js';
import { StateReader } from './state.js';

export const PM_TIMER_HZ = 3579545;

// PM1 status/enable bits
export const TMR_STS = 1 << 0;
export const PWRBTN_STS = 1 << 8;
export const WAK_STS = 1 << 15;
// PM1 control bits
export const SCI_EN = 1 << 0;
export const SLP_EN = 1 << 13;

/** The SLP_TYP value the DSDT's \_S5 package announces (see acpi-tables.ts). */
export const SLP_TYP_S5 = 5;

/** Register offsets from the block base. */
export const PM1_STS = 0;
export const PM1_EN = 2;
export const PM1_CNT = 4;
export const PM_TMR = 8;
export const PM_BLOCK_SIZE = 16;

export interface AcpiPmOptions {
  clock: Clock;
  sci: IrqLine;
  control: MachineControl;
}

export class AcpiPm implements Device, PortIoHandler {
  readonly name = 'acpi-pm';
  private readonly clock: Clock;
  private readonly sci: IrqLine;
  private readonly control: MachineControl;
  /** Where the block is mapped (fixed base, or the PIIX4 PMBA). */
  base = 0x600;
  private sts = 0;
  private en = 0;
  private cnt = SCI_EN;
  /**
   * SLP_TYP that means S5 (soft off): 5 in our own tables, 0 in the ones SeaBIOS builds
   * (QEMU's PIIX4 convention).
   */
  s5Type = SLP_TYP_S5;

  constructor(options: AcpiPmOptions) {
    this.clock = options.clock;
    this.sci = options.sci;
    this.control = options.control;
  }

  /** The 24-bit PM timer: a pure function of guest time. */
  timer(): number {
    return Math.floor((this.clock.now() * PM_TIMER_HZ) / 1e9) & 0xffffff;
  }

  /** Press the power button (ACPI shutdown request). */
  pressPowerButton(): void {
    this.sts |= PWRBTN_STS;
    this.updateSci();
  }

  private updateSci(): void {
    this.sci.set((this.cnt & SCI_EN) !== 0 && (this.sts & this.en & (TMR_STS | PWRBTN_STS)) !== 0);
  }

  ioRead(port: number, size: AccessSize): number {
    const off = port - this.base;
    let v: number;
    if (off >= PM_TMR && off < PM_TMR + 4) v = this.timer() >>> ((off - PM_TMR) * 8);
    else if (off >= PM1_CNT && off < PM1_CNT + 2) v = this.cnt >>> ((off - PM1_CNT) * 8);
    else if (off >= PM1_EN && off < PM1_EN + 2) v = this.en >>> ((off - PM1_EN) * 8);
    else if (off >= PM1_STS && off < PM1_STS + 2) v = (this.sts | (this.en << 16)) >>> ((off - PM1_STS) * 8);
    else v = 0;
    return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v >>> 0;
  }

  ioWrite(port: number, size: AccessSize, value: number): void {
    const off = port - this.base;
    if (off === PM1_STS && size === 4) {
      // A dword write covers status (low) and enable (high).
      this.writeSts(value & 0xffff);
      this.en = (value >>> 16) & 0xffff;
    } else if (off === PM1_STS) {
      this.writeSts(size === 1 ? value & 0xff : value & 0xffff);
    } else if (off === PM1_STS + 1) {
      this.writeSts((value & 0xff) << 8);
    } else if (off === PM1_EN) {
      this.en = size === 1 ? (this.en & 0xff00) | (value & 0xff) : value & 0xffff;
    } else if (off === PM1_EN + 1) {
      this.en = (this.en & 0xff) | ((value & 0xff) << 8);
    } else if (off === PM1_CNT || off === PM1_CNT + 1) {
      const v = off === PM1_CNT ? (size === 1 ? (this.cnt & 0xff00) | (value & 0xff) : value & 0xffff) : (this.cnt & 0xff) | ((value & 0xff) << 8);
      this.writeCnt(v);
    }
    this.updateSci();
  }

  private writeSts(clearBits: number): void {
    // Status bits are write-one-to-clear.
    this.sts &= ~clearBits;
  }

  private writeCnt(v: number): void {
    this.cnt = v & ~SLP_EN;
    if ((v & SLP_EN) !== 0) {
      const type = (v >> 10) & 7;
      if (type === this.s5Type) this.control.requestPowerOff('the guest powered off (ACPI S5)');
    }
  }

  /** SCI_EN as the APM control port's ACPI enable/disable commands set it. */
  setSciEnabled(on: boolean): void {
    this.cnt = on ? this.cnt | SCI_EN : this.cnt & ~SCI_EN;
    this.updateSci();
  }

  reset(): void {
    this.sts = 0;
    this.en = 0;
    this.cnt = SCI_EN;
    this.sci.set(false);
  }

  save(): DeviceState {
    return { base: this.base, sts: this.sts, en: this.en, cnt: this.cnt };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    const base = r.int('base', 0, 0xffff);
    const sts = r.int('sts', 0, 0xffff);
    const en = r.int('en', 0, 0xffff);
    const cnt = r.int('cnt', 0, 0xffff);
    this.base = base;
    this.sts = sts;
    this.en = en;
    this.cnt = cnt;
    this.updateSci();
  }
}
