import { describe, expect, it } from 'vitest';
import { IrqLine, type IrqSink } from '../bus/irq.js';
import { EmulatorError } from '../errors.js';
import { ManualClock } from '../machine/clock.js';
import { TimerQueue } from '../machine/timers.js';
import { daysFromCivil, Rtc } from './rtc.js';

class Level implements IrqSink {
  high = false;
  rises = 0;
  setIrqLevel(_line: number, high: boolean): void {
    if (high && !this.high) this.rises++;
    this.high = high;
  }
}

// Thursday 2024-02-29 23:59:58.500 UTC
const START = Date.UTC(2024, 1, 29, 23, 59, 58, 500);

function setup(startTimeMs = START): { rtc: Rtc; clock: ManualClock; timers: TimerQueue; irq: Level } {
  const clock = new ManualClock();
  const timers = new TimerQueue(clock);
  const irq = new Level();
  const rtc = new Rtc({ timers, irq: new IrqLine(8, [irq]), startTimeMs });
  return { rtc, clock, timers, irq };
}

function read(rtc: Rtc, reg: number): number {
  rtc.ioWrite(0x70, 1, reg);
  return rtc.ioRead(0x71, 1);
}

function write(rtc: Rtc, reg: number, value: number): void {
  rtc.ioWrite(0x70, 1, reg);
  rtc.ioWrite(0x71, 1, value);
}

function timeRegs(rtc: Rtc): number[] {
  return [0, 2, 4, 6, 7, 8, 9, 0x32].map((r) => read(rtc, r));
}

/** Run the timer queue up to guest time t, as the run loop would. */
function runTo(clock: ManualClock, timers: TimerQueue, t: number): void {
  while (timers.nextDeadline() <= t) {
    clock.set(timers.nextDeadline());
    timers.runExpired(clock.now());
  }
  clock.set(t);
}

describe('MC146818 RTC / CMOS', () => {
  it('reads the base time in BCD, 24 h, and rolls over a leap day with guest time', () => {
    const { rtc, clock } = setup();
    expect(timeRegs(rtc)).toEqual([0x58, 0x59, 0x23, 5, 0x29, 0x02, 0x24, 0x20]);
    clock.set(1_499_999_999);
    expect(read(rtc, 0)).toBe(0x59);
    clock.set(1_500_000_000);
    expect(timeRegs(rtc)).toEqual([0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24, 0x20]);
  });

  it('follows register B: binary and 12-hour formats', () => {
    const { rtc } = setup();
    write(rtc, 0x0b, 0x04); // binary, 12 h
    expect(read(rtc, 4)).toBe(0x80 | 11);
    expect(read(rtc, 0)).toBe(58);
    expect(read(rtc, 9)).toBe(24);
    write(rtc, 0x0b, 0x00); // BCD, 12 h
    expect(read(rtc, 4)).toBe(0x80 | 0x11);
    const midnight = setup(Date.UTC(2000, 0, 1, 0, 30, 0));
    write(midnight.rtc, 0x0b, 0x00);
    expect(read(midnight.rtc, 4)).toBe(0x12); // 12 AM
  });

  it('sets UIP only in the 244 us before each update', () => {
    const { rtc, clock } = setup();
    // The next update is 500 ms after power-on.
    clock.set(500_000_000 - 245_000);
    expect(read(rtc, 0x0a) & 0x80).toBe(0);
    clock.set(500_000_000 - 243_000);
    expect(read(rtc, 0x0a)).toBe(0x80 | 0x26);
    clock.set(500_000_000);
    expect(read(rtc, 0x0a) & 0x80).toBe(0);
    // No UIP while SET holds the clock.
    write(rtc, 0x0b, 0x82);
    clock.set(1_500_000_000 - 100_000);
    expect(read(rtc, 0x0a) & 0x80).toBe(0);
  });

  it('SET holds updates; clearing it continues from the written time', () => {
    const { rtc, clock } = setup();
    write(rtc, 0x0b, 0x82);
    write(rtc, 0x00, 0x30);
    write(rtc, 0x02, 0x15);
    write(rtc, 0x04, 0x10);
    write(rtc, 0x07, 0x04);
    write(rtc, 0x08, 0x07);
    write(rtc, 0x09, 0x99);
    write(rtc, 0x32, 0x19);
    clock.advance(5_000_000_000);
    expect(read(rtc, 0)).toBe(0x30);
    write(rtc, 0x0b, 0x02);
    clock.advance(2_000_000_000);
    expect(timeRegs(rtc)).toEqual([0x32, 0x15, 0x10, 1, 0x04, 0x07, 0x99, 0x19]); // 1999-07-04 was a Sunday
  });

  it('a time write while running continues from that time', () => {
    const { rtc, clock } = setup();
    write(rtc, 0x02, 0x10); // minute 10 of 23:xx
    expect(read(rtc, 2)).toBe(0x10);
    clock.set(500_000_000);
    expect(read(rtc, 0)).toBe(0x59);
    expect(read(rtc, 2)).toBe(0x10);
    clock.set(1_500_000_000);
    expect(read(rtc, 0)).toBe(0x00);
    expect(read(rtc, 2)).toBe(0x11);
  });

  it('register C reports update-ended for polling guests and clears on read', () => {
    const { rtc, clock, irq } = setup();
    expect(read(rtc, 0x0c)).toBe(0);
    clock.set(600_000_000);
    // PF is set by the running periodic divider too, interrupts enabled or not.
    expect(read(rtc, 0x0c)).toBe(0x50);
    write(rtc, 0x0a, 0x20); // rate 0: no periodic flag
    read(rtc, 0x0c);
    clock.set(1_600_000_000);
    // The update to 00:00:00 also matches the power-on alarm registers (all zero).
    expect(read(rtc, 0x0c)).toBe(0x30);
    clock.set(2_600_000_000);
    expect(read(rtc, 0x0c)).toBe(0x10);
    expect(read(rtc, 0x0c)).toBe(0);
    expect(irq.high).toBe(false);
  });

  it('update-ended interrupt raises IRQ8 until register C is read', () => {
    const { rtc, clock, timers, irq } = setup();
    write(rtc, 0x0b, 0x12);
    expect(timers.nextDeadline()).toBe(500_000_000);
    runTo(clock, timers, 499_000_000);
    expect(irq.high).toBe(false);
    runTo(clock, timers, 500_000_000);
    expect(irq.high).toBe(true);
    expect(read(rtc, 0x0c)).toBe(0x80 | 0x40 | 0x10);
    expect(irq.high).toBe(false);
    runTo(clock, timers, 1_600_000_000);
    expect(irq.rises).toBe(2);
  });

  it('periodic interrupt at the register A rate (1024 Hz)', () => {
    const { rtc, clock, timers, irq } = setup();
    write(rtc, 0x0b, 0x42);
    let n = 0;
    for (let t = 0; t <= 10_000_000; t += 50_000) {
      runTo(clock, timers, t);
      if (irq.high) {
        expect(read(rtc, 0x0c) & 0xc0).toBe(0xc0);
        n++;
      }
    }
    expect(n).toBe(10); // 10 ms at 1024 Hz
    write(rtc, 0x0a, 0x2f); // 2 Hz, on the half seconds of the divider
    read(rtc, 0x0c);
    runTo(clock, timers, 499_000_000);
    expect(irq.rises).toBe(10);
    runTo(clock, timers, 500_000_000);
    expect(irq.rises).toBe(11);
    runTo(clock, timers, 1_010_000_000);
    expect(irq.rises).toBe(11); // still asserted: nobody read C
    read(rtc, 0x0c);
    runTo(clock, timers, 1_500_000_000);
    expect(irq.rises).toBe(12);
  });

  it('alarm interrupt fires when the time matches, with don-t-care fields', () => {
    const { rtc, clock, timers, irq } = setup();
    write(rtc, 0x01, 0x05);
    write(rtc, 0x03, 0x00);
    write(rtc, 0x05, 0x00);
    write(rtc, 0x0b, 0x22);
    runTo(clock, timers, 6_400_000_000);
    expect(irq.high).toBe(false);
    runTo(clock, timers, 6_500_000_000); // 00:00:05
    expect(irq.high).toBe(true);
    expect(read(rtc, 0x0c)).toBe(0x80 | 0x40 | 0x20 | 0x10);
    // Every minute at :05 once the hour and minute are "don't care".
    write(rtc, 0x03, 0xff);
    write(rtc, 0x05, 0xc0);
    runTo(clock, timers, 66_400_000_000);
    expect(irq.high).toBe(false);
    runTo(clock, timers, 66_500_000_000);
    expect(irq.high).toBe(true);
  });

  it('holds the time while the divider is in reset and updates 500 ms after release', () => {
    const { rtc, clock } = setup();
    write(rtc, 0x0a, 0x70);
    clock.set(10_000_000_000);
    expect(read(rtc, 0)).toBe(0x58);
    write(rtc, 0x0a, 0x26);
    clock.set(10_499_000_000);
    expect(read(rtc, 0)).toBe(0x58);
    clock.set(10_500_000_000);
    expect(read(rtc, 0)).toBe(0x59);
  });

  it('stores the NMI mask from bit 7 of port 0x70 and keeps C and D read-only', () => {
    const { rtc } = setup();
    rtc.ioWrite(0x70, 1, 0x8d);
    expect(rtc.nmiMasked).toBe(true);
    expect(rtc.ioRead(0x71, 1)).toBe(0x80);
    rtc.ioWrite(0x71, 1, 0);
    expect(rtc.ioRead(0x71, 1)).toBe(0x80);
    rtc.ioWrite(0x70, 1, 0x0c);
    expect(rtc.nmiMasked).toBe(false);
    rtc.ioWrite(0x71, 1, 0xff);
    expect(rtc.ioRead(0x71, 1)).toBe(0);
  });

  it('fills the memory-size fields', () => {
    const { rtc } = setup();
    rtc.setMemorySize(32 * 1024 * 1024);
    expect([0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35, 0x5b, 0x5c, 0x5d].map((i) => rtc.getByte(i))).toEqual([
      0x80, 0x02, 0x00, 0x7c, 0x00, 0x7c, 0x00, 0x01, 0, 0, 0,
    ]);
    rtc.setMemorySize(128 * 1024 * 1024);
    expect([0x17, 0x18, 0x34, 0x35].map((i) => rtc.getByte(i))).toEqual([0xff, 0xff, 0x00, 0x07]);
    rtc.setMemorySize(8 * 1024 * 1024 * 1024);
    expect([0x17, 0x18, 0x34, 0x35, 0x5b, 0x5c, 0x5d].map((i) => rtc.getByte(i))).toEqual([
      0xff, 0xff, 0x00, 0xdf, 0x00, 0x20, 0x01,
    ]);
    expect(rtc.getByte(0x14)).toBe(0x06);
  });

  it('keeps the 0x10..0x2D checksum in 0x2E/0x2F', () => {
    const { rtc } = setup();
    rtc.setMemorySize(64 * 1024 * 1024);
    rtc.setByte(0x10, 0x40);
    rtc.setByte(0x3d, 0x21); // outside the checksummed range
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += read(rtc, i);
    expect((read(rtc, 0x2e) << 8) | read(rtc, 0x2f)).toBe(sum);
    expect(read(rtc, 0x3d)).toBe(0x21);
    expect(() => rtc.setByte(0x0b, 0)).toThrow(EmulatorError);
    expect(() => rtc.setByte(0x80, 0)).toThrow(EmulatorError);
    expect(() => rtc.setByte(0x20, 256)).toThrow(EmulatorError);
  });

  it('reset clears interrupt enables and flags but keeps time and CMOS', () => {
    const { rtc, clock, timers, irq } = setup();
    rtc.setByte(0x3d, 0x12);
    write(rtc, 0x0b, 0x72);
    runTo(clock, timers, 600_000_000);
    expect(irq.high).toBe(true);
    rtc.reset();
    expect(irq.high).toBe(false);
    expect(read(rtc, 0x0b)).toBe(0x02);
    expect(read(rtc, 0x3d)).toBe(0x12);
    expect(read(rtc, 0)).toBe(0x59);
    expect(timers.nextDeadline()).toBe(Infinity);
  });

  it('saves and restores, and rejects malformed state', () => {
    const { rtc, clock } = setup();
    rtc.setByte(0x38, 0x20);
    clock.set(3_000_000_000);
    const saved = JSON.parse(JSON.stringify(rtc.save()));
    const other = setup(Date.UTC(1999, 0, 1));
    other.clock.set(3_000_000_000);
    other.rtc.restore(saved);
    expect(timeRegs(other.rtc)).toEqual(timeRegs(rtc));
    expect(read(other.rtc, 0x38)).toBe(0x20);
    expect(() => other.rtc.restore({ ...saved, cmos: [1, 2, 3] })).toThrow(EmulatorError);
    expect(() => other.rtc.restore({ ...saved, anchorNs: 'x' })).toThrow(EmulatorError);
    expect(() => other.rtc.restore({ ...saved, version: 2 })).toThrow(EmulatorError);
  });

  it('computes civil days', () => {
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(2000, 3, 1)).toBe(11017);
    expect(daysFromCivil(1969, 12, 31)).toBe(-1);
  });
});
