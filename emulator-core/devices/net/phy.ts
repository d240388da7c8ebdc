/**
 * The 82540EM's internal PHY (Marvell 88E1011 core, PHY ID 0x01410C20) as seen through MDIC:
 * the IEEE registers with a 1000BASE-T full-duplex link partner whose autonegotiation
 * always completes at once, and the Marvell-specific status the drivers read.
 */

export const PHY_REGS = 32;

export const PHY_BMCR = 0x00;
export const PHY_BMSR = 0x01;
export const PHY_ID1 = 0x02;
export const PHY_ID2 = 0x03;
export const PHY_ANAR = 0x04;
export const PHY_ANLPAR = 0x05;
export const PHY_ANER = 0x06;
export const PHY_CTRL1000 = 0x09;
export const PHY_STAT1000 = 0x0a;
export const PHY_EXT_STATUS = 0x0f;
export const M88_SPEC_CTRL = 0x10;
export const M88_SPEC_STATUS = 0x11;
export const M88_INT_STATUS = 0x13;
export const M88_EXT_SPEC_CTRL = 0x14;
export const M88_RX_ERR_COUNT = 0x15;

export const BMCR_SPEED1000 = 1 << 6;
export const BMCR_FD = 1 << 8;
export const BMCR_ANRESTART = 1 << 9;
export const BMCR_ANENABLE = 1 << 12;
export const BMCR_LOOPBACK = 1 << 14;
export const BMCR_RESET = 1 << 15;

export const BMSR_LINK = 1 << 2;
export const BMSR_ANCOMPLETE = 1 << 5;
const BMSR_CAPS = 0x0001 | 0x0008 | 0x0040 | 0x0100 | 0x0800 | 0x1000 | 0x2000 | 0x4000;
const ANLPAR_ACK = 1 << 14;
/** Link partner: 10/100 half and full duplex, CSMA selector. */
const ANLPAR_ABILITIES = 0x01e1;
/** Partner 1000BASE-T FD/HD, local and remote receiver OK. */
const STAT1000_LINK = 0x3c00;
/** Speed 1000 (bits 15:14 = 10b), full duplex, speed/duplex resolved, link up. */
const M88_STATUS_LINK = 0x8000 | 0x2000 | 0x0800 | 0x0400;

/** Registers a write does not change. */
const READ_ONLY = new Set([PHY_BMSR, PHY_ID1, PHY_ID2, PHY_ANLPAR, PHY_ANER, PHY_STAT1000, PHY_EXT_STATUS, M88_SPEC_STATUS, M88_INT_STATUS, M88_RX_ERR_COUNT]);

export class M88Phy {
  readonly regs = new Uint16Array(PHY_REGS);
  private link = true;

  constructor() {
    this.reset();
  }

  /** Power-on values; the link state (cable) survives. */
  reset(): void {
    const r = this.regs;
    r.fill(0);
    r[PHY_BMCR] = BMCR_ANENABLE | BMCR_FD | BMCR_SPEED1000;
    r[PHY_ID1] = 0x0141;
    r[PHY_ID2] = 0x0c20;
    // Advertise 10/100 HD/FD, pause and asymmetric pause.
    r[PHY_ANAR] = 0x0de1;
    r[PHY_ANER] = 0x0001;
    r[PHY_CTRL1000] = 0x0300;
    r[PHY_EXT_STATUS] = 0x3000;
    r[M88_SPEC_CTRL] = 0x0068;
    r[M88_EXT_SPEC_CTRL] = 0x0d60;
    this.setLink(this.link);
  }

  get linkUp(): boolean {
    return this.link;
  }

  get loopback(): boolean {
    return (this.regs[PHY_BMCR] & BMCR_LOOPBACK) !== 0;
  }

  /** Cable in or out: status registers follow (autonegotiation completes at once). */
  setLink(up: boolean): void {
    this.link = up;
    const r = this.regs;
    r[PHY_BMSR] = BMSR_CAPS | (up ? BMSR_LINK | BMSR_ANCOMPLETE : 0);
    r[PHY_ANLPAR] = up ? ANLPAR_ABILITIES | ANLPAR_ACK : 0;
    r[PHY_STAT1000] = up ? STAT1000_LINK : 0;
    r[M88_SPEC_STATUS] = up ? M88_STATUS_LINK : 0;
  }

  read(reg: number): number {
    return this.regs[reg & (PHY_REGS - 1)];
  }

  /** Returns true when the write restarted autonegotiation (the MAC then signals LSC). */
  write(reg: number, value: number): boolean {
    reg &= PHY_REGS - 1;
    if (READ_ONLY.has(reg)) return false;
    if (reg !== PHY_BMCR) {
      this.regs[reg] = value & 0xffff;
      return false;
    }
    // Reset and restart are self-clearing; a reset keeps the configuration just written.
    this.regs[PHY_BMCR] = value & ~(BMCR_RESET | BMCR_ANRESTART) & 0xffff;
    return (value & (BMCR_ANRESTART | BMCR_RESET)) !== 0 && (value & BMCR_ANENABLE) !== 0;
  }
}
