import type { AccessSize, PortIoHandler } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import { EmulatorError } from '../errors.js';
import type { Clock } from '../machine/clock.js';
import type { Timer, TimerQueue } from '../machine/timers.js';
import type { Device, DeviceState } from './device.js';
import { StateReader } from './state.js';

const REG_SEC = 0x00;
const REG_MIN = 0x02;
const REG_HOUR = 0x04;
const REG_DOW = 0x06;
const REG_DAY = 0x07;
const REG_MONTH = 0x08;
const REG_YEAR = 0x09;
const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
const REG_CENTURY = 0x32;

const A_UIP = 0x80;
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_SQWE = 0x08;
const B_DM_BINARY = 0x04;
const B_24H = 0x02;
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;

const NS_PER_SEC = 1e9;
/** UIP rises this long before each update (MC146818 with a 32.768 kHz time base). */
const UIP_NS = 244_000;
/** One period of the 32.768 kHz time base. */
const NS_PER_32K = NS_PER_SEC / 32768;

const MIB = 1024 * 1024;

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function posMod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}

export interface RtcOptions {
  timers: TimerQueue;
  /** IRQ8: high while register C's IRQF is set. */
  irq: IrqLine;
  /** Wall-clock time at power-on, ms since the Unix epoch. Default: the host's time now. */
  startTimeMs?: number;
  /** Keep local time in the RTC (the DOS/Windows habit) instead of UTC. Default false. */
  localTime?: boolean;
}

/**
 * Motorola MC146818 real-time clock and its 128 bytes of CMOS at 0x70/0x71.
 *
 * The time is a base wall-clock second plus guest Clock time elapsed (anchorSec at guest time
 * anchorNs), so it follows the guest's timeline and survives snapshots. Interrupt flags are
 * worked out lazily from guest time when register C is read; a Timer only runs while an
 * enabled interrupt could still raise IRQ8.
 */
export class Rtc implements Device, PortIoHandler {
  readonly name = 'rtc';
  private readonly clock: Clock;
  private readonly timer: Timer;
  private readonly irq: IrqLine;
  private cmos = new Uint8Array(128);
  private index = 0;
  private nmiMask = false;
  /** Guest time at which the RTC read exactly anchorSec (a whole second). */
  private anchorNs = 0;
  /** Seconds since 1970 of the RTC's own fields (UTC arithmetic; local time if so chosen). */
  private anchorSec = 0;
  /** Guest time up to which periodic/alarm/update events are folded into register C. */
  private checkedNs = 0;
  /** The second currently encoded in the time registers (NaN: re-encode). */
  private syncedSec = NaN;
  // Scratch for civil-date conversion without allocating.
  private cy = 1970;
  private cm = 1;
  private cd = 1;

  constructor(options: RtcOptions) {
    this.clock = options.timers.clock;
    this.irq = options.irq;
    this.timer = options.timers.create('rtc', (now) => this.onTimer(now));
    const ms = options.startTimeMs ?? Date.now();
    const offsetSec = options.localTime === true ? -new Date(ms).getTimezoneOffset() * 60 : 0;
    const now = this.clock.now();
    this.anchorSec = Math.floor(ms / 1000) + offsetSec;
    this.anchorNs = now - posMod(ms, 1000) * 1e6;
    this.checkedNs = now;
    const c = this.cmos;
    c[REG_A] = 0x26;
    c[REG_B] = B_24H;
    c[REG_D] = 0x80;
    // FPU present, PS/2 mouse, VGA, no floppy.
    c[0x14] = 0x06;
    c[0x15] = 640 & 0xff;
    c[0x16] = 640 >> 8;
    this.syncTime(now);
    this.updateChecksum();
  }

  /** Port 0x70 bit 7: set while the guest has NMIs disabled. */
  get nmiMasked(): boolean {
    return this.nmiMask;
  }

  // --- time ----------------------------------------------------------------------------

  private dividerRunning(): boolean {
    // DV = 11x holds the divider chain in reset.
    return ((this.cmos[REG_A]! >> 4) & 7) < 6;
  }

  private running(): boolean {
    return (this.cmos[REG_B]! & B_SET) === 0 && this.dividerRunning();
  }

  private enc(v: number): number {
    return this.cmos[REG_B]! & B_DM_BINARY ? v : (Math.floor(v / 10) << 4) | v % 10;
  }

  private dec(v: number): number {
    return this.cmos[REG_B]! & B_DM_BINARY ? v : (v >> 4) * 10 + (v & 0xf);
  }

  private encHour(h: number): number {
    if (this.cmos[REG_B]! & B_24H) return this.enc(h);
    return this.enc(h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
  }

  private decHour(v: number): number {
    if (this.cmos[REG_B]! & B_24H) return this.dec(v);
    return (this.dec(v & 0x7f) % 12) + (v & 0x80 ? 12 : 0);
  }

  private civil(days: number): void {
    const z = days + 719468;
    const era = Math.floor(z / 146097);
    const doe = z - era * 146097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    this.cd = doy - Math.floor((153 * mp + 2) / 5) + 1;
    this.cm = mp < 10 ? mp + 3 : mp - 9;
    this.cy = yoe + era * 400 + (this.cm <= 2 ? 1 : 0);
  }

  private currentSec(now: number): number {
    return this.anchorSec + Math.floor((now - this.anchorNs) / NS_PER_SEC);
  }

  /** Bring the time registers up to `now` (they hold their last values while halted). */
  private syncTime(now: number): void {
    if (!this.running()) return;
    const s = this.currentSec(now);
    if (s === this.syncedSec) return;
    this.syncedSec = s;
    const days = Math.floor(s / 86400);
    const sod = s - days * 86400;
    this.civil(days);
    const c = this.cmos;
    c[REG_SEC] = this.enc(sod % 60);
    c[REG_MIN] = this.enc(Math.floor(sod / 60) % 60);
    c[REG_HOUR] = this.encHour(Math.floor(sod / 3600));
    c[REG_DOW] = posMod(days + 4, 7) + 1; // 1970-01-01 was a Thursday; Sunday is 1
    c[REG_DAY] = this.enc(this.cd);
    c[REG_MONTH] = this.enc(this.cm);
    c[REG_YEAR] = this.enc(posMod(this.cy, 100));
    c[REG_CENTURY] = this.enc(Math.floor(this.cy / 100) % 100);
  }

  /** The time the registers show, as seconds since 1970. */
  private parseRegs(): number {
    const c = this.cmos;
    const sec = this.dec(c[REG_SEC]!);
    const min = this.dec(c[REG_MIN]!);
    const hour = this.decHour(c[REG_HOUR]!);
    const day = Math.min(Math.max(this.dec(c[REG_DAY]!), 1), 31);
    const month = Math.min(Math.max(this.dec(c[REG_MONTH]!), 1), 12);
    const yy = this.dec(c[REG_YEAR]!) % 100;
    const century = this.dec(c[REG_CENTURY]!);
    // A century byte nobody maintains falls back to the usual two-digit-year pivot.
    const year = century >= 19 && century <= 99 ? century * 100 + yy : yy < 70 ? 2000 + yy : 1900 + yy;
    return daysFromCivil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
  }

  /** Restart counting from what the registers say, keeping the divider's second phase. */
  private resumeFromRegs(now: number): void {
    this.anchorNs = now - posMod(now - this.anchorNs, NS_PER_SEC);
    this.anchorSec = this.parseRegs();
    this.syncedSec = this.anchorSec;
  }

  // --- interrupts ----------------------------------------------------------------------

  private periodNs(): number {
    const rate = this.cmos[REG_A]! & 0x0f;
    if (rate === 0) return 0;
    // Rates 1 and 2 alias to 256 and 128 Hz with a 32.768 kHz time base.
    return (rate <= 2 ? 1 << (rate + 6) : 1 << (rate - 1)) * NS_PER_32K;
  }

  /** -1 for "don't care" (0xC0..0xFF), else the decoded value. */
  private alarmField(reg: number, hour: boolean): number {
    const v = this.cmos[reg]!;
    if ((v & 0xc0) === 0xc0) return -1;
    return hour ? this.decHour(v) : this.dec(v);
  }

  /** The first second after `s` whose time matches the alarm registers, or Infinity. */
  private nextAlarm(s: number): number {
    const ah = this.alarmField(0x05, true);
    const am = this.alarmField(0x03, false);
    const as = this.alarmField(0x01, false);
    if (ah > 23 || am > 59 || as > 59) return Infinity;
    const day = Math.floor(s / 86400);
    const start = s - day * 86400 + 1;
    let sod = this.alarmInDay(start, ah, am, as);
    if (sod >= 0) return day * 86400 + sod;
    sod = this.alarmInDay(0, ah, am, as);
    return sod >= 0 ? (day + 1) * 86400 + sod : Infinity;
  }

  private alarmInDay(from: number, ah: number, am: number, as: number): number {
    if (from >= 86400) return -1;
    const h0 = Math.floor(from / 3600);
    const m0 = Math.floor(from / 60) % 60;
    const s0 = from % 60;
    for (let h = ah < 0 ? h0 : ah; h < 24 && h >= h0; h = ah < 0 ? h + 1 : 24) {
      const mFrom = h === h0 ? m0 : 0;
      for (let m = am < 0 ? mFrom : am; m < 60 && m >= mFrom; m = am < 0 ? m + 1 : 60) {
        const sFrom = h === h0 && m === m0 ? s0 : 0;
        if (as < 0) return h * 3600 + m * 60 + sFrom;
        if (as >= sFrom) return h * 3600 + m * 60 + as;
      }
    }
    return -1;
  }

  /** Fold events between checkedNs and now into register C's flags. */
  private updateFlags(now: number): void {
    const from = this.checkedNs;
    if (now <= from) return;
    this.checkedNs = now;
    if (!this.dividerRunning()) return;
    let f = 0;
    const p = this.periodNs();
    if (p !== 0 && Math.floor((now - this.anchorNs) / p) > Math.floor((from - this.anchorNs) / p)) f |= C_PF;
    if (this.running()) {
      const s0 = this.currentSec(from);
      const s1 = this.currentSec(now);
      if (s1 > s0) {
        f |= C_UF;
        if (this.nextAlarm(s0) <= s1) f |= C_AF;
      }
    }
    if (f !== 0) {
      this.cmos[REG_C]! |= f;
      this.updateIrq();
    }
  }

  private updateIrq(): void {
    const c = this.cmos[REG_C]!;
    const on = (c & this.cmos[REG_B]! & (C_PF | C_AF | C_UF)) !== 0;
    this.cmos[REG_C] = on ? c | C_IRQF : c & ~C_IRQF;
    this.irq.set(on);
  }

  /** The guest time of the k-th boundary of `period` after the anchor. */
  private boundaryAt(k: number, period: number): number {
    let t = Math.ceil(this.anchorNs + k * period);
    // Make sure updateFlags at t really sees boundary k, or the timer would spin.
    while (Math.floor((t - this.anchorNs) / period) < k) t++;
    return t;
  }

  private boundaryAfter(now: number, period: number): number {
    return this.boundaryAt(Math.floor((now - this.anchorNs) / period) + 1, period);
  }

  private rearm(now: number): void {
    const b = this.cmos[REG_B]!;
    if (this.irq.high || !this.dividerRunning() || (b & (B_PIE | B_AIE | B_UIE)) === 0) {
      this.timer.cancel();
      return;
    }
    let next = Infinity;
    const p = this.periodNs();
    if (b & B_PIE && p !== 0) next = this.boundaryAfter(now, p);
    if (this.running()) {
      if (b & B_UIE) next = Math.min(next, this.boundaryAfter(now, NS_PER_SEC));
      if (b & B_AIE) {
        const a = this.nextAlarm(this.currentSec(now));
        if (a !== Infinity) next = Math.min(next, this.boundaryAt(a - this.anchorSec, NS_PER_SEC));
      }
    }
    if (next === Infinity) this.timer.cancel();
    else this.timer.arm(next);
  }

  private onTimer(now: number): void {
    this.updateFlags(now);
    this.rearm(now);
  }

  // --- ports ---------------------------------------------------------------------------

  ioRead(port: number, _size: AccessSize): number {
    if (port !== 0x71) return 0xff; // the index register is write-only
    const i = this.index;
    switch (i) {
      case REG_SEC:
      case REG_MIN:
      case REG_HOUR:
      case REG_DOW:
      case REG_DAY:
      case REG_MONTH:
      case REG_YEAR:
      case REG_CENTURY:
        this.syncTime(this.clock.now());
        return this.cmos[i]!;
      case REG_A: {
        const now = this.clock.now();
        const uip = this.running() && posMod(now - this.anchorNs, NS_PER_SEC) >= NS_PER_SEC - UIP_NS;
        return (this.cmos[REG_A]! & 0x7f) | (uip ? A_UIP : 0);
      }
      case REG_C: {
        const now = this.clock.now();
        this.updateFlags(now);
        const v = this.cmos[REG_C]!;
        this.cmos[REG_C] = 0;
        this.irq.lower();
        this.rearm(now);
        return v;
      }
      case REG_D:
        return 0x80; // VRT: the battery is fine
      default:
        return this.cmos[i]!;
    }
  }

  ioWrite(port: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    if (port === 0x70) {
      this.index = value & 0x7f;
      this.nmiMask = (value & 0x80) !== 0;
      return;
    }
    if (port !== 0x71) return;
    const i = this.index;
    switch (i) {
      case REG_SEC:
      case REG_MIN:
      case REG_HOUR:
      case REG_DOW:
      case REG_DAY:
      case REG_MONTH:
      case REG_YEAR:
      case REG_CENTURY:
        this.writeTime(i, value);
        return;
      case 0x01:
      case 0x03:
      case 0x05: {
        const now = this.clock.now();
        this.updateFlags(now);
        this.cmos[i] = value;
        this.rearm(now);
        return;
      }
      case REG_A:
        this.writeA(value);
        return;
      case REG_B:
        this.writeB(value);
        return;
      case REG_C:
      case REG_D:
        return; // read-only
      default:
        this.cmos[i] = value;
    }
  }

  private writeTime(i: number, value: number): void {
    const now = this.clock.now();
    if (!this.running()) {
      this.cmos[i] = value;
      return;
    }
    this.updateFlags(now);
    this.syncTime(now);
    this.cmos[i] = value;
    // A running clock continues from the written time, keeping its second phase.
    const shown = this.parseRegs();
    this.anchorSec = shown - Math.floor((now - this.anchorNs) / NS_PER_SEC);
    this.syncedSec = NaN;
    this.syncTime(now);
    this.rearm(now);
  }

  private writeA(value: number): void {
    const now = this.clock.now();
    this.updateFlags(now);
    this.syncTime(now);
    const wasDivider = this.dividerRunning();
    const wasRunning = this.running();
    this.cmos[REG_A] = value & 0x7f;
    if (!wasDivider && this.dividerRunning()) {
      // Releasing the divider reset: the first update comes 500 ms later.
      this.anchorNs = now - NS_PER_SEC / 2;
    }
    if (!wasRunning && this.running()) this.resumeFromRegs(now);
    this.rearm(now);
  }

  private writeB(value: number): void {
    const now = this.clock.now();
    this.updateFlags(now);
    this.syncTime(now);
    const old = this.cmos[REG_B]!;
    // SET stops updates and clears UIE.
    if (value & B_SET) value &= ~B_UIE;
    const wasRunning = this.running();
    this.cmos[REG_B] = value;
    if (!wasRunning && this.running()) {
      this.resumeFromRegs(now);
    } else if ((old ^ value) & (B_DM_BINARY | B_24H)) {
      // A running clock re-encodes in the new format; a held one keeps the raw bytes.
      this.syncedSec = NaN;
      this.syncTime(now);
    }
    this.updateIrq();
    this.rearm(now);
  }

  // --- CMOS configuration ---------------------------------------------------------------

  /** Raw CMOS byte, without side effects (for the machine and tests). */
  getByte(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index > 0x7f) {
      throw new EmulatorError('INTERNAL', `CMOS index 0x${index.toString(16)} is out of range`);
    }
    if (index <= REG_YEAR || index === REG_CENTURY) this.syncTime(this.clock.now());
    return this.cmos[index]!;
  }

  /**
   * Set a configuration byte (0x0E..0x7F), e.g. boot order at 0x3D/0x38 for SeaBIOS.
   * Bytes inside 0x10..0x2D update the standard checksum at 0x2E/0x2F.
   */
  setByte(index: number, value: number): void {
    if (!Number.isInteger(index) || index < 0x0e || index > 0x7f) {
      throw new EmulatorError('INTERNAL', `CMOS byte 0x${index.toString(16)} is not a configuration byte`);
    }
    if (!Number.isInteger(value) || value < 0 || value > 0xff) {
      throw new EmulatorError('INTERNAL', `CMOS value ${value} is not a byte`);
    }
    this.cmos[index] = value;
    if (index >= 0x10 && index <= 0x2d) this.updateChecksum();
  }

  /**
   * Fill the BIOS memory-size fields the way PC firmware (SeaBIOS included) reads them.
   * RAM at and above `pciHoleStart` is remapped above 4 GiB.
   */
  setMemorySize(ramBytes: number, pciHoleStart = 0xe0000000): void {
    if (!Number.isFinite(ramBytes) || ramBytes < 0) throw new EmulatorError('INTERNAL', `bad RAM size ${ramBytes}`);
    const below = Math.min(ramBytes, pciHoleStart);
    const above = ramBytes - below;
    const c = this.cmos;
    const base = Math.min(Math.floor(below / 1024), 640);
    c[0x15] = base & 0xff;
    c[0x16] = base >> 8;
    const ext = below > MIB ? Math.min(Math.floor((below - MIB) / 1024), 0xffff) : 0;
    c[0x17] = c[0x30] = ext & 0xff;
    c[0x18] = c[0x31] = ext >> 8;
    const ext16 = below > 16 * MIB ? Math.min(Math.floor((below - 16 * MIB) / 65536), 0xffff) : 0;
    c[0x34] = ext16 & 0xff;
    c[0x35] = ext16 >> 8;
    const high = Math.min(Math.floor(above / 65536), 0xffffff);
    c[0x5b] = high & 0xff;
    c[0x5c] = (high >> 8) & 0xff;
    c[0x5d] = high >> 16;
    this.updateChecksum();
  }

  private updateChecksum(): void {
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += this.cmos[i]!;
    this.cmos[0x2e] = (sum >> 8) & 0xff;
    this.cmos[0x2f] = sum & 0xff;
  }

  // --- Device --------------------------------------------------------------------------

  /** The RESET pin: interrupt enables and flags clear; time and CMOS contents survive. */
  reset(): void {
    const now = this.clock.now();
    this.updateFlags(now);
    this.cmos[REG_B]! &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    this.cmos[REG_C] = 0;
    this.index = 0;
    this.nmiMask = false;
    this.irq.lower();
    this.rearm(now);
  }

  save(): DeviceState {
    this.syncTime(this.clock.now());
    return {
      version: 1,
      cmos: Array.from(this.cmos),
      index: this.index,
      nmiMasked: this.nmiMask,
      anchorNs: this.anchorNs,
      anchorSec: this.anchorSec,
      checkedNs: this.checkedNs,
    };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    const cmos = r.ints('cmos', 0, 0xff, 128);
    const index = r.int('index', 0, 0x7f);
    const nmi = r.bool('nmiMasked');
    const anchorNs = r.num('anchorNs');
    const anchorSec = r.int('anchorSec', -1e12, 1e12);
    const checkedNs = r.num('checkedNs');
    this.cmos = Uint8Array.from(cmos);
    this.index = index;
    this.nmiMask = nmi;
    this.anchorNs = anchorNs;
    this.anchorSec = anchorSec;
    this.checkedNs = checkedNs;
    this.syncedSec = NaN;
    this.irq.set((this.cmos[REG_C]! & C_IRQF) !== 0);
    this.rearm(this.clock.now());
  }
}
