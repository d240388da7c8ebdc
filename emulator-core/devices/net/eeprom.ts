/**
 * The 82540EM's 64-word Microwire EEPROM: the image drivers read (MAC address, IDs, the
 * initialization control words, a checksum making words 0..0x3F sum to 0xBABA) and the
 * bit-banged Microwire read protocol behind EECD, which Linux's e1000 uses on this model
 * (EERD serves the same words in one access).
 */
import { EECD_CS, EECD_DI, EECD_DO, EECD_FWE_MASK, EECD_GNT, EECD_PRES, EECD_REQ, EECD_SK } from './e1000-regs.js';

export const EEPROM_WORDS = 64;
export const EEPROM_CHECKSUM_WORD = 0x3f;
export const EEPROM_SUM = 0xbaba;
/** Microwire READ opcode (start bit included): 1 1 0. */
const MICROWIRE_READ = 0b110;
/** Opcode bits plus the 6 address bits of a 64-word part. */
const COMMAND_BITS = 9;

export interface EepromIdentity {
  mac: Uint8Array;
  device: number;
  vendor: number;
  subsystemId: number;
  subsystemVendor: number;
}

/** The words drivers look at, by offset. Words no driver or firmware here reads stay blank. */
const WORD = {
  ledConfig: 0x04,
  pbaLow: 0x08,
  pbaHigh: 0x09,
  initControl1: 0x0a,
  subsystemId: 0x0b,
  subsystemVendor: 0x0c,
  deviceId: 0x0d,
  vendorId: 0x0e,
  initControl2: 0x0f,
  initControl3PortA: 0x24,
  firstBlank: 0x25,
} as const;

/** ICW1: signature 01b (a valid image), load the subsystem and vendor IDs from here. */
const ICW1 = 0x4000 | 0x2000 | 0x0400 | 0x0003;
/** ICW2: pause bits 13:12 = 11b, so Linux picks full flow control (the PHY then resolves none). */
const ICW2 = 0x3000 | 0x0040;
/** ICW3 port A: APM enabled (bit 10), Linux's Wake-on-LAN default. */
const ICW3 = 0x4000 | 0x0800 | 0x0400 | 0x0100 | 0x0001;

/** Build the image: MAC in words 0-2 (little-endian pairs), IDs, control words, checksum. */
export function buildEeprom(id: EepromIdentity): Uint16Array {
  const w = new Uint16Array(EEPROM_WORDS);
  for (let i = 0; i < 3; i++) w[i] = id.mac[2 * i] | (id.mac[2 * i + 1] << 8);
  // An unprogrammed LED word tells drivers to use their default LED modes.
  w[WORD.ledConfig] = 0xffff;
  // Part number "300010-000"; drivers only print it.
  w[WORD.pbaLow] = 0x3000;
  w[WORD.pbaHigh] = 0x1000;
  w[WORD.initControl1] = ICW1;
  w[WORD.subsystemId] = id.subsystemId;
  w[WORD.subsystemVendor] = id.subsystemVendor;
  w[WORD.deviceId] = id.device;
  w[WORD.vendorId] = id.vendor;
  w[WORD.initControl2] = ICW2;
  w[WORD.initControl3PortA] = ICW3;
  w.fill(0xffff, WORD.firstBlank, EEPROM_CHECKSUM_WORD);
  w[EEPROM_CHECKSUM_WORD] = (EEPROM_SUM - eepromSum(w, EEPROM_CHECKSUM_WORD)) & 0xffff;
  return w;
}

/** 16-bit sum of the first `count` words (the whole image by default). */
export function eepromSum(words: Uint16Array, count = EEPROM_WORDS): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum = (sum + words[i]) & 0xffff;
  return sum;
}

export interface MicrowireState {
  eecd: number;
  bitsIn: number;
  command: number;
  reading: boolean;
  /** Index of the image bit DO presents (word * 16 + bit from the MSB), -1 before the first. */
  outBit: number;
}

/**
 * The serial side of EECD. The driver raises REQ, waits for GNT, selects the part (CS),
 * clocks the READ opcode and the address in on DI (rising SK edges), then clocks 16 data
 * bits out of DO, MSB first, each presented after a falling edge.
 */
export class MicrowireEeprom {
  state: MicrowireState = { eecd: 0, bitsIn: 0, command: 0, reading: false, outBit: -1 };

  constructor(readonly words: Uint16Array) {}

  reset(): void {
    this.state = { eecd: 0, bitsIn: 0, command: 0, reading: false, outBit: -1 };
  }

  read(): number {
    const s = this.state;
    // Grant is immediate: no firmware shares the part.
    let v = s.eecd | EECD_PRES | ((s.eecd & EECD_REQ) !== 0 ? EECD_GNT : 0);
    if (!s.reading || this.dataBit()) v |= EECD_DO;
    return v;
  }

  write(value: number): void {
    const s = this.state;
    const old = s.eecd;
    s.eecd = value & (EECD_SK | EECD_CS | EECD_DI | EECD_FWE_MASK | EECD_REQ);
    if ((value & EECD_CS) === 0) return;
    if ((old & EECD_CS) === 0) {
      // Chip select rising: a new command starts.
      s.bitsIn = 0;
      s.command = 0;
      s.reading = false;
      s.outBit = -1;
    }
    const rising = (value & EECD_SK) !== 0 && (old & EECD_SK) === 0;
    const falling = (value & EECD_SK) === 0 && (old & EECD_SK) !== 0;
    if (falling) {
      if (s.reading) s.outBit++;
      return;
    }
    if (!rising || s.reading) return;
    s.command = ((s.command << 1) | ((value & EECD_DI) !== 0 ? 1 : 0)) & 0x1ff;
    if (++s.bitsIn === COMMAND_BITS && s.command >>> 6 === MICROWIRE_READ) {
      s.reading = true;
      // The falling edge after the last address bit presents the word's MSB.
      s.outBit = (s.command & 0x3f) * 16 - 1;
    }
  }

  private dataBit(): boolean {
    const bit = this.state.outBit;
    if (bit < 0) return false;
    const word = this.words[(bit >>> 4) & (EEPROM_WORDS - 1)];
    return ((word >>> (15 - (bit & 15))) & 1) !== 0;
  }
}
