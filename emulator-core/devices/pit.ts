import type { AccessSize, PortIoHandler } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import type { Clock } from '../machine/clock.js';
import type { Timer, TimerQueue } from '../machine/timers.js';
import type { Device, DeviceState } from './device.js';
import { finiteOrNull, nsAtTick, StateReader, ticksAt } from './state.js';

/** The PC's PIT input clock: 14.31818 MHz / 12. */
export const PIT_HZ = 1193182;

/** Port 0x61 bit 4 toggles at each DRAM refresh request, every 18 PIT clocks (~15 us). */
const REFRESH_TICKS = 18;

function fromBcd(v: number): number {
  return ((v >> 12) & 0xf) * 1000 + ((v >> 8) & 0xf) * 100 + ((v >> 4) & 0xf) * 10 + (v & 0xf);
}

function toBcd(v: number): number {
  return (Math.floor(v / 1000) % 10) * 0x1000 + (Math.floor(v / 100) % 10) * 0x100 + (Math.floor(v / 10) % 10) * 0x10 + (v % 10);
}

/**
 * One 8254 counter. Nothing ticks: the counting element (CE) and OUT are pure functions of
 * the PIT tick number, computed from a segment start (segTick, where CE = segValue, or for
 * the periodic modes where the period phase is phaseOff) when the guest looks.
 */
class PitChannel {
  /** Mode as programmed (0..7, what read-back reports) and as it behaves (0..5). */
  modeBits = 0;
  mode = 0;
  /** 1 = LSB, 2 = MSB, 3 = LSB then MSB. */
  access = 3;
  bcd = false;
  gate: boolean;

  writeMsb = false;
  crLow = 0;
  readMsb = false;
  latchedCount = -1;
  latchedStatus = -1;

  /** A count was written since the control word. */
  loaded = false;
  /** CE is moving (modes 1/5: triggered at least once). */
  counting = false;
  /** The count in use, in binary, 1..0x10000 (1..10000 in BCD). */
  n = 0x10000;
  segTick = 0;
  segValue = 0;
  phaseOff = 0;
  /** CE while not counting. */
  frozen = 0;
  /** Mode 0: OUT already went high; mode 4: the strobe already happened. */
  done = false;
  /** Mode 0 between the two bytes of an LSB/MSB count write. */
  hold = false;
  /** Modes 2/3: a count written while counting takes effect at pendingTick. */
  pendingN = 0;
  pendingTick = 0;
  pendingOff = 0;
  /** When the count register moves into CE (read-back NULL COUNT until then). */
  crTick = Infinity;

  constructor(readonly index: number) {
    this.gate = index !== 2;
  }

  get modulus(): number {
    return this.bcd ? 10000 : 0x10000;
  }

  private applyPending(t: number): void {
    if (this.pendingN !== 0 && t >= this.pendingTick) {
      this.n = this.pendingN;
      this.segTick = this.pendingTick;
      this.phaseOff = this.pendingOff;
      this.pendingN = 0;
    }
  }

  /** CE at tick t, 0..modulus (modulus stands for a fresh count of 0). */
  ce(t: number): number {
    if (!this.counting) return this.frozen;
    const mode = this.mode;
    if (mode === 2 || mode === 3) {
      this.applyPending(t);
      const n = this.n;
      if (t < this.segTick) return n;
      const m = (t - this.segTick + this.phaseOff) % n;
      if (mode === 2) return n - m;
      // Mode 3 counts down by two through each half; odd counts load n - 1.
      const even = n & ~1;
      const high = (n + 1) >> 1;
      return m < high ? even - 2 * m : even - 2 * (m - high);
    }
    if (t < this.segTick) return this.segValue;
    const mod = this.modulus;
    const v = (this.segValue - (t - this.segTick)) % mod;
    return v < 0 ? v + mod : v;
  }

  out(t: number): boolean {
    switch (this.mode) {
      case 0:
        return this.done || (this.counting && t >= this.segTick + this.segValue);
      case 1:
        return !this.counting || t < this.segTick || t >= this.segTick + this.segValue;
      case 2:
      case 3: {
        if (!this.counting) return true;
        this.applyPending(t);
        if (t < this.segTick) return true;
        const n = this.n;
        const m = (t - this.segTick + this.phaseOff) % n;
        return this.mode === 2 ? m !== n - 1 : m < (n + 1) >> 1;
      }
      case 4:
        return !(this.counting && !this.done && t === this.segTick + this.segValue);
      default:
        return !(this.counting && t === this.segTick + this.segValue);
    }
  }

  /** The first tick after t at which OUT rises, or Infinity. */
  nextRise(t: number): number {
    if (!this.counting) return Infinity;
    const tc = this.segTick + this.segValue;
    switch (this.mode) {
      case 0:
        return !this.done && tc > t ? tc : Infinity;
      case 1:
        return tc > t ? tc : Infinity;
      case 4:
        return !this.done && tc + 1 > t ? tc + 1 : Infinity;
      case 5:
        return tc + 1 > t ? tc + 1 : Infinity;
      default: {
        this.applyPending(t);
        const e = periodicRise(t, this.segTick, this.phaseOff, this.n);
        if (this.pendingN === 0 || e <= this.pendingTick) return e;
        return periodicRise(t, this.pendingTick, this.pendingOff, this.pendingN);
      }
    }
  }

  private freeze(t: number): void {
    if (!this.counting) return;
    this.frozen = this.ce(t);
    if (this.mode === 0 || this.mode === 4) this.done = this.done || t >= this.segTick + this.segValue;
    if (this.pendingN !== 0) {
      this.n = this.pendingN;
      this.pendingN = 0;
    }
    this.counting = false;
  }

  control(value: number, t: number): void {
    if (this.counting) this.frozen = this.ce(t);
    this.counting = false;
    this.loaded = false;
    this.done = false;
    this.hold = false;
    this.pendingN = 0;
    this.crTick = Infinity;
    this.writeMsb = false;
    this.readMsb = false;
    this.latchedCount = -1;
    this.latchedStatus = -1;
    this.modeBits = (value >> 1) & 7;
    this.mode = this.modeBits >= 6 ? this.modeBits - 4 : this.modeBits;
    this.access = (value >> 4) & 3;
    this.bcd = (value & 1) !== 0;
  }

  latchCount(t: number): void {
    if (this.latchedCount < 0) this.latchedCount = this.encoded(t);
  }

  latchStatus(t: number): void {
    if (this.latchedStatus >= 0) return;
    this.latchedStatus =
      (this.out(t) ? 0x80 : 0) | (t < this.crTick ? 0x40 : 0) | (this.access << 4) | (this.modeBits << 1) | (this.bcd ? 1 : 0);
  }

  private encoded(t: number): number {
    const v = this.ce(t) % this.modulus;
    return this.bcd ? toBcd(v) : v;
  }

  read(t: number): number {
    if (this.latchedStatus >= 0) {
      const s = this.latchedStatus;
      this.latchedStatus = -1;
      return s;
    }
    const latched = this.latchedCount >= 0;
    const v = latched ? this.latchedCount : this.encoded(t);
    switch (this.access) {
      case 1:
        this.latchedCount = -1;
        return v & 0xff;
      case 2:
        this.latchedCount = -1;
        return v >> 8;
      default:
        if (!this.readMsb) {
          this.readMsb = true;
          return v & 0xff;
        }
        this.readMsb = false;
        this.latchedCount = -1;
        return v >> 8;
    }
  }

  write(value: number, t: number): void {
    value &= 0xff;
    switch (this.access) {
      case 1:
        this.newCount(value, t);
        return;
      case 2:
        this.newCount(value << 8, t);
        return;
      default:
        if (!this.writeMsb) {
          this.crLow = value;
          this.writeMsb = true;
          if (this.mode === 0) {
            // Mode 0: the first byte stops counting and drives OUT low at once.
            this.freeze(t);
            this.done = false;
            this.hold = true;
          }
          return;
        }
        this.writeMsb = false;
        this.newCount(this.crLow | (value << 8), t);
    }
  }

  private newCount(raw: number, t: number): void {
    const n = raw === 0 ? this.modulus : this.bcd ? fromBcd(raw) : raw;
    switch (this.mode) {
      case 0:
      case 4:
        // CE loads on the next clock, so OUT changes N+1 clocks after the write.
        this.n = n;
        this.loaded = true;
        this.hold = false;
        this.done = false;
        this.crTick = t + 1;
        if (this.gate) {
          this.counting = true;
          this.segTick = t + 1;
          this.segValue = n;
        } else {
          this.counting = false;
          this.frozen = n;
        }
        return;
      case 1:
      case 5:
        // Takes effect at the next gate trigger.
        this.n = n;
        this.loaded = true;
        this.crTick = Infinity;
        return;
      default:
        if (!this.loaded || !this.counting) {
          this.n = n;
          this.loaded = true;
          if (this.gate) {
            this.counting = true;
            this.segTick = t + 1;
            this.phaseOff = 0;
            this.crTick = t + 1;
          } else {
            this.frozen = n;
            this.crTick = Infinity;
          }
          return;
        }
        this.applyPending(t);
        if (t < this.segTick) {
          this.n = n;
          return;
        }
        if (this.pendingN !== 0) {
          this.pendingN = n;
          return;
        }
        // A new count while counting does not disturb the current period (mode 2) or
        // half-period (mode 3); it starts at the next reload.
        const cur = this.n;
        const m = (t - this.segTick + this.phaseOff) % cur;
        if (this.mode === 2) {
          this.pendingTick = t + (cur - m);
          this.pendingOff = 0;
        } else {
          const high = (cur + 1) >> 1;
          if (m < high) {
            this.pendingTick = t + (high - m);
            this.pendingOff = (n + 1) >> 1;
          } else {
            this.pendingTick = t + (cur - m);
            this.pendingOff = 0;
          }
        }
        this.pendingN = n;
        this.crTick = this.pendingTick;
    }
  }

  setGate(level: boolean, t: number): void {
    if (level === this.gate) return;
    this.gate = level;
    const mode = this.mode;
    if (!level) {
      if (mode !== 1 && mode !== 5) this.freeze(t);
      return;
    }
    if (!this.loaded) return;
    switch (mode) {
      case 0:
      case 4:
        if (!this.hold && !this.counting) {
          this.counting = true;
          this.segTick = t;
          this.segValue = this.frozen;
        }
        return;
      case 1:
      case 5:
        // Rising gate (re)triggers the one-shot.
        this.counting = true;
        this.segTick = t + 1;
        this.segValue = this.n;
        this.crTick = t + 1;
        return;
      default:
        this.counting = true;
        this.segTick = t + 1;
        this.phaseOff = 0;
        this.crTick = t + 1;
    }
  }

  reset(t: number): void {
    // Power-on state as a BIOS-less guest finds it (and as QEMU models it): mode 3,
    // count 65536, so channel 0 already ticks at 18.2 Hz.
    this.gate = this.index !== 2;
    this.control(0x36, t);
    this.frozen = 0;
    this.newCount(0, t);
  }

  save(): DeviceState {
    return {
      modeBits: this.modeBits,
      access: this.access,
      bcd: this.bcd,
      gate: this.gate,
      writeMsb: this.writeMsb,
      crLow: this.crLow,
      readMsb: this.readMsb,
      latchedCount: this.latchedCount,
      latchedStatus: this.latchedStatus,
      loaded: this.loaded,
      counting: this.counting,
      n: this.n,
      segTick: this.segTick,
      segValue: this.segValue,
      phaseOff: this.phaseOff,
      frozen: this.frozen,
      done: this.done,
      hold: this.hold,
      pendingN: this.pendingN,
      pendingTick: this.pendingTick,
      pendingOff: this.pendingOff,
      crTick: finiteOrNull(this.crTick),
    };
  }

  restore(r: StateReader): void {
    this.modeBits = r.int('modeBits', 0, 7);
    this.mode = this.modeBits >= 6 ? this.modeBits - 4 : this.modeBits;
    this.access = r.int('access', 1, 3);
    this.bcd = r.bool('bcd');
    this.gate = r.bool('gate');
    this.writeMsb = r.bool('writeMsb');
    this.crLow = r.int('crLow', 0, 0xff);
    this.readMsb = r.bool('readMsb');
    this.latchedCount = r.int('latchedCount', -1, 0xffff);
    this.latchedStatus = r.int('latchedStatus', -1, 0xff);
    this.loaded = r.bool('loaded');
    this.counting = r.bool('counting');
    this.n = r.int('n', 1, 0x10000);
    const big = Number.MAX_SAFE_INTEGER;
    this.segTick = r.int('segTick', -big, big);
    this.segValue = r.int('segValue', 0, 0x10000);
    this.phaseOff = r.int('phaseOff', 0, 0x10000);
    this.frozen = r.int('frozen', 0, 0x10000);
    this.done = r.bool('done');
    this.hold = r.bool('hold');
    this.pendingN = r.int('pendingN', 0, 0x10000);
    this.pendingTick = r.int('pendingTick', -big, big);
    this.pendingOff = r.int('pendingOff', 0, 0x10000);
    this.crTick = r.numOrInfinity('crTick');
    if (this.bcd && (this.n > 10000 || this.pendingN > 10000)) r.fail('n', 'exceeds the BCD range');
  }
}

/** The first tick after t where a periodic OUT (period n, phase off at seg) rises. */
function periodicRise(t: number, seg: number, off: number, n: number): number {
  const base = seg - off;
  const k = Math.max(1, Math.floor((t - base) / n) + 1);
  return base + k * n;
}

export interface PitOptions {
  timers: TimerQueue;
  /** IRQ0: pulsed at each rising edge of channel 0's OUT. */
  irq: IrqLine;
}

/**
 * Intel 8254 interval timer at 0x40-0x43 and the PC's system control port B (0x61), which
 * holds channel 2's gate and shows its OUT (speaker, and Linux's TSC calibration).
 *
 * Counts are exact functions of the guest Clock, so a guest polling a counter sees the
 * same values however fast it runs. Channel 0 arms one Timer for its next rising edge;
 * a late callback delivers one edge and resynchronizes instead of catching up.
 */
export class Pit implements Device, PortIoHandler {
  readonly name = 'pit';
  private readonly clock: Clock;
  private readonly timer: Timer;
  private readonly irq: IrqLine;
  private channels: PitChannel[] = [new PitChannel(0), new PitChannel(1), new PitChannel(2)];
  /** Port 0x61 bits 0..3 as written. */
  private portB = 0;

  constructor(options: PitOptions) {
    this.clock = options.timers.clock;
    this.irq = options.irq;
    this.timer = options.timers.create('pit', (now) => this.onTimer(now));
    this.reset();
  }

  private tick(): number {
    return ticksAt(this.clock.now(), PIT_HZ);
  }

  private onTimer(now: number): void {
    this.irq.pulse();
    const e = this.channels[0]!.nextRise(ticksAt(now, PIT_HZ));
    if (e === Infinity) this.timer.cancel();
    else this.timer.arm(nsAtTick(e, PIT_HZ));
  }

  private rearm(t: number): void {
    const e = this.channels[0]!.nextRise(t);
    if (e === Infinity) this.timer.cancel();
    else this.timer.arm(nsAtTick(e, PIT_HZ));
  }

  ioRead(port: number, _size: AccessSize): number {
    switch (port) {
      case 0x40:
      case 0x41:
      case 0x42:
        return this.channels[port - 0x40]!.read(this.tick());
      case 0x61: {
        const t = this.tick();
        return this.portB | (Math.floor(t / REFRESH_TICKS) & 1 ? 0x10 : 0) | (this.channels[2]!.out(t) ? 0x20 : 0);
      }
      default:
        // The control word register cannot be read.
        return 0xff;
    }
  }

  ioWrite(port: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    switch (port) {
      case 0x40:
      case 0x41:
      case 0x42: {
        const t = this.tick();
        this.channels[port - 0x40]!.write(value, t);
        if (port === 0x40) this.rearm(t);
        return;
      }
      case 0x43:
        this.writeControl(value);
        return;
      case 0x61:
        this.portB = value & 0x0f;
        this.channels[2]!.setGate((value & 1) !== 0, this.tick());
        return;
    }
  }

  private writeControl(value: number): void {
    const t = this.tick();
    const sc = value >> 6;
    if (sc === 3) {
      // Read-back: bit 5 clear latches counts, bit 4 clear latches status, bits 1..3 select.
      for (let i = 0; i < 3; i++) {
        if ((value & (2 << i)) === 0) continue;
        const ch = this.channels[i]!;
        if ((value & 0x10) === 0) ch.latchStatus(t);
        if ((value & 0x20) === 0) ch.latchCount(t);
      }
      return;
    }
    const ch = this.channels[sc]!;
    if ((value & 0x30) === 0) {
      ch.latchCount(t);
      return;
    }
    const outBefore = ch.out(t);
    ch.control(value, t);
    if (sc === 0) {
      // Modes other than 0 drive OUT high at once; a low-to-high change is an IRQ0 edge.
      if (!outBefore && ch.out(t)) this.irq.pulse();
      this.rearm(t);
    }
  }

  /** Channel OUT level now (channel 2 drives the speaker). */
  out(channel: 0 | 1 | 2): boolean {
    return this.channels[channel]!.out(this.tick());
  }

  /** Speaker tone in Hz while gate 2, speaker data and mode 3 are on, else 0. */
  speakerFrequency(): number {
    const ch = this.channels[2]!;
    if ((this.portB & 3) !== 3 || ch.mode !== 3 || !ch.counting) return 0;
    return PIT_HZ / ch.n;
  }

  reset(): void {
    const t = this.tick();
    this.portB = 0;
    for (const ch of this.channels) ch.reset(t);
    this.rearm(t);
  }

  save(): DeviceState {
    return { version: 1, portB: this.portB, channels: this.channels.map((c) => c.save()) };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    const portB = r.int('portB', 0, 0x0f);
    const channels = r.objs('channels', 3).map((cr, i) => {
      const ch = new PitChannel(i);
      ch.restore(cr);
      return ch;
    });
    this.portB = portB;
    this.channels = channels;
    this.rearm(this.tick());
  }
}
