import { describe, expect, it } from 'vitest';
import { IrqLine, type IrqSink } from '../bus/irq.js';
import { EmulatorError } from '../errors.js';
import { ManualClock } from '../machine/clock.js';
import { TimerQueue } from '../machine/timers.js';
import { Pit, PIT_HZ } from './pit.js';
import { nsAtTick } from './state.js';

class EdgeCounter implements IrqSink {
  rises = 0;
  setIrqLevel(_line: number, high: boolean): void {
    if (high) this.rises++;
  }
}

function setup(): { pit: Pit; clock: ManualClock; timers: TimerQueue; edges: EdgeCounter } {
  const clock = new ManualClock();
  const timers = new TimerQueue(clock);
  const edges = new EdgeCounter();
  const pit = new Pit({ timers, irq: new IrqLine(0, [edges]) });
  return { pit, clock, timers, edges };
}

/** Move guest time to the start of PIT tick `t`. */
function toTick(clock: ManualClock, t: number): void {
  clock.set(nsAtTick(t, PIT_HZ));
}

function readCount(pit: Pit, port: number): number {
  const lo = pit.ioRead(port, 1);
  return lo | (pit.ioRead(port, 1) << 8);
}

function latchAndRead(pit: Pit, ch: number): number {
  pit.ioWrite(0x43, 1, ch << 6);
  return readCount(pit, 0x40 + ch);
}

describe('8254 PIT', () => {
  it('mode 2: the latched count is an exact function of guest time', () => {
    const { pit, clock } = setup();
    pit.ioWrite(0x43, 1, 0x34); // ch0, lo/hi, mode 2
    pit.ioWrite(0x40, 1, 1000 & 0xff);
    pit.ioWrite(0x40, 1, 1000 >> 8);
    // Loaded on the next clock: tick 1 reads 1000, then one less per tick, reloading at 1.
    toTick(clock, 1);
    expect(latchAndRead(pit, 0)).toBe(1000);
    toTick(clock, 1 + 250);
    expect(latchAndRead(pit, 0)).toBe(750);
    toTick(clock, 1 + 999);
    expect(latchAndRead(pit, 0)).toBe(1);
    toTick(clock, 1 + 1000);
    expect(latchAndRead(pit, 0)).toBe(1000);
    // 1 ms later in nanoseconds: 1193.182 ticks.
    clock.set(nsAtTick(1, PIT_HZ) + 1_000_000);
    expect(latchAndRead(pit, 0)).toBe(1000 - 193);
  });

  it('counter latch freezes the value until both bytes are read', () => {
    const { pit, clock } = setup();
    pit.ioWrite(0x43, 1, 0x34);
    pit.ioWrite(0x40, 1, 0x00);
    pit.ioWrite(0x40, 1, 0x10); // 0x1000
    toTick(clock, 11);
    pit.ioWrite(0x43, 1, 0x00);
    toTick(clock, 500);
    pit.ioWrite(0x43, 1, 0x00); // a second latch before reading is ignored
    expect(readCount(pit, 0x40)).toBe(0x1000 - 10);
    expect(readCount(pit, 0x40)).toBe(0x1000 - 499);
  });

  it('mode 2 on channel 0 pulses IRQ0 once per period from a rearmed timer', () => {
    const { pit, clock, timers, edges } = setup();
    pit.ioWrite(0x43, 1, 0x34);
    pit.ioWrite(0x40, 1, 100);
    pit.ioWrite(0x40, 1, 0);
    const start = edges.rises;
    for (let i = 1; i <= 5; i++) {
      const deadline = timers.nextDeadline();
      expect(deadline).toBe(nsAtTick(1 + 100 * i, PIT_HZ));
      clock.set(deadline);
      timers.runExpired(clock.now());
    }
    expect(edges.rises - start).toBe(5);
  });

  it('a late timer delivers one edge and resynchronizes', () => {
    const { pit, clock, timers, edges } = setup();
    pit.ioWrite(0x43, 1, 0x34);
    pit.ioWrite(0x40, 1, 100);
    pit.ioWrite(0x40, 1, 0);
    const start = edges.rises;
    toTick(clock, 1 + 1050); // ten periods late
    timers.runExpired(clock.now());
    expect(edges.rises - start).toBe(1);
    expect(timers.nextDeadline()).toBe(nsAtTick(1 + 1100, PIT_HZ));
  });

  it('mode 0 on channel 0 raises IRQ0 once at terminal count', () => {
    const { pit, clock, timers, edges } = setup();
    pit.ioWrite(0x43, 1, 0x30);
    pit.ioWrite(0x40, 1, 50);
    pit.ioWrite(0x40, 1, 0);
    const start = edges.rises;
    expect(pit.out(0)).toBe(false);
    toTick(clock, 50);
    timers.runExpired(clock.now());
    expect(edges.rises - start).toBe(0);
    expect(pit.out(0)).toBe(false);
    toTick(clock, 51);
    timers.runExpired(clock.now());
    expect(edges.rises - start).toBe(1);
    expect(pit.out(0)).toBe(true);
    expect(timers.nextDeadline()).toBe(Infinity);
    // The counter keeps wrapping after terminal count.
    toTick(clock, 53);
    expect(latchAndRead(pit, 0)).toBe(0xfffe);
  });

  it('switching channel 0 from mode 0 (OUT low) to mode 2 is an IRQ0 edge', () => {
    const { pit, edges } = setup();
    pit.ioWrite(0x43, 1, 0x30);
    const start = edges.rises;
    pit.ioWrite(0x43, 1, 0x34);
    expect(edges.rises - start).toBe(1);
  });

  it('channel 2 mode 0 through port 0x61 as Linux pit_calibrate_tsc uses it', () => {
    const { pit, clock } = setup();
    pit.ioWrite(0x61, 1, (pit.ioRead(0x61, 1) & ~0x02) | 0x01);
    pit.ioWrite(0x43, 1, 0xb0);
    const latch = Math.floor(PIT_HZ / 20); // 50 ms
    pit.ioWrite(0x42, 1, latch & 0xff);
    pit.ioWrite(0x42, 1, latch >> 8);
    expect(pit.ioRead(0x61, 1) & 0x20).toBe(0);
    toTick(clock, latch);
    expect(pit.ioRead(0x61, 1) & 0x20).toBe(0);
    toTick(clock, latch + 1);
    expect(pit.ioRead(0x61, 1) & 0x20).toBe(0x20);
    expect(pit.ioRead(0x61, 1) & 0x01).toBe(0x01);
  });

  it('channel 2 MSB reads step down every 256 ticks as quick_pit_calibrate expects', () => {
    const { pit, clock } = setup();
    pit.ioWrite(0x61, 1, 0x01);
    pit.ioWrite(0x43, 1, 0xb0);
    pit.ioWrite(0x42, 1, 0xff);
    pit.ioWrite(0x42, 1, 0xff);
    for (let i = 0; i < 8; i++) {
      toTick(clock, 1 + 256 * i);
      pit.ioRead(0x42, 1); // LSB, ignored
      expect(pit.ioRead(0x42, 1)).toBe(0xff - i);
      toTick(clock, 256 * (i + 1));
      pit.ioRead(0x42, 1);
      expect(pit.ioRead(0x42, 1)).toBe(0xff - i);
    }
  });

  it('gate low pauses mode 0 and mode 2 and restarts mode 2 on the rising edge', () => {
    const { pit, clock } = setup();
    pit.ioWrite(0x61, 1, 0x01);
    pit.ioWrite(0x43, 1, 0xb0);
    pit.ioWrite(0x42, 1, 100);
    pit.ioWrite(0x42, 1, 0);
    toTick(clock, 21);
    expect(latchAndRead(pit, 2)).toBe(80);
    pit.ioWrite(0x61, 1, 0x00);
    toTick(clock, 500);
    expect(latchAndRead(pit, 2)).toBe(80);
    pit.ioWrite(0x61, 1, 0x01);
    toTick(clock, 510);
    expect(latchAndRead(pit, 2)).toBe(70);

    pit.ioWrite(0x43, 1, 0xb4); // mode 2
    pit.ioWrite(0x42, 1, 50);
    pit.ioWrite(0x42, 1, 0);
    toTick(clock, 530);
    expect(latchAndRead(pit, 2)).toBe(31);
    pit.ioWrite(0x61, 1, 0x00);
    expect(pit.ioRead(0x61, 1) & 0x20).toBe(0x20); // OUT high while gated off
    toTick(clock, 600);
    pit.ioWrite(0x61, 1, 0x01);
    toTick(clock, 601);
    expect(latchAndRead(pit, 2)).toBe(50);
  });

  it('mode 1 waits for a gate trigger and drives OUT low for N clocks', () => {
    const { pit, clock } = setup();
    pit.ioWrite(0x61, 1, 0x00);
    pit.ioWrite(0x43, 1, 0xb2);
    pit.ioWrite(0x42, 1, 10);
    pit.ioWrite(0x42, 1, 0);
    toTick(clock, 100);
    expect(pit.out(2)).toBe(true);
    pit.ioWrite(0x61, 1, 0x01);
    toTick(clock, 101);
    expect(pit.out(2)).toBe(false);
    expect(latchAndRead(pit, 2)).toBe(10);
    toTick(clock, 110);
    expect(pit.out(2)).toBe(false);
    toTick(clock, 111);
    expect(pit.out(2)).toBe(true);
  });

  it('mode 3 square wave: OUT high for the first half, counts by two', () => {
    const { pit, clock } = setup();
    pit.ioWrite(0x61, 1, 0x01);
    pit.ioWrite(0x43, 1, 0xb6);
    pit.ioWrite(0x42, 1, 10);
    pit.ioWrite(0x42, 1, 0);
    toTick(clock, 1);
    expect(pit.out(2)).toBe(true);
    expect(latchAndRead(pit, 2)).toBe(10);
    toTick(clock, 3);
    expect(latchAndRead(pit, 2)).toBe(6);
    toTick(clock, 5);
    expect(pit.out(2)).toBe(true);
    toTick(clock, 6);
    expect(pit.out(2)).toBe(false);
    expect(latchAndRead(pit, 2)).toBe(10);
    toTick(clock, 11);
    expect(pit.out(2)).toBe(true);
  });

  it('mode 3 on channel 0 gives IRQ0 at each period and a speaker tone', () => {
    const { pit, clock, timers, edges } = setup();
    pit.ioWrite(0x43, 1, 0x36);
    pit.ioWrite(0x40, 1, 0x9b);
    pit.ioWrite(0x40, 1, 0x2e); // 11931: just over 100 Hz
    const start = edges.rises;
    clock.set(1_000_000_000);
    for (let i = 0; i < 200 && timers.nextDeadline() <= clock.now(); i++) timers.runExpired(timers.nextDeadline());
    expect(edges.rises - start).toBe(100);
    pit.ioWrite(0x43, 1, 0xb6);
    pit.ioWrite(0x42, 1, 0xa9);
    pit.ioWrite(0x42, 1, 0x04); // 1193: 1 kHz
    expect(pit.speakerFrequency()).toBe(0);
    pit.ioWrite(0x61, 1, 0x03);
    expect(pit.speakerFrequency()).toBeCloseTo(1000.15, 1);
  });

  it('mode 2: a new count takes effect at the next reload', () => {
    const { pit, clock, timers } = setup();
    pit.ioWrite(0x43, 1, 0x34);
    pit.ioWrite(0x40, 1, 100);
    pit.ioWrite(0x40, 1, 0);
    toTick(clock, 41);
    pit.ioWrite(0x40, 1, 10);
    pit.ioWrite(0x40, 1, 0);
    expect(latchAndRead(pit, 0)).toBe(60);
    expect(timers.nextDeadline()).toBe(nsAtTick(101, PIT_HZ));
    toTick(clock, 101);
    expect(latchAndRead(pit, 0)).toBe(10);
    timers.runExpired(clock.now());
    expect(timers.nextDeadline()).toBe(nsAtTick(111, PIT_HZ));
  });

  it('mode 4 strobes OUT low for one clock, once', () => {
    const { pit, clock, timers, edges } = setup();
    pit.ioWrite(0x43, 1, 0x38);
    pit.ioWrite(0x40, 1, 20);
    pit.ioWrite(0x40, 1, 0);
    const start = edges.rises;
    toTick(clock, 21);
    expect(pit.out(0)).toBe(false);
    toTick(clock, 22);
    expect(pit.out(0)).toBe(true);
    timers.runExpired(clock.now());
    expect(edges.rises - start).toBe(1);
    expect(timers.nextDeadline()).toBe(Infinity);
  });

  it('BCD counting and LSB-only / MSB-only access', () => {
    const { pit, clock } = setup();
    pit.ioWrite(0x43, 1, 0x91); // ch2, LSB only, mode 0, BCD
    pit.ioWrite(0x61, 1, 0x01);
    pit.ioWrite(0x42, 1, 0x25); // 25 decimal
    toTick(clock, 1 + 7);
    expect(pit.ioRead(0x42, 1)).toBe(0x18);
    pit.ioWrite(0x43, 1, 0xa0); // MSB only, binary
    pit.ioWrite(0x42, 1, 0x12); // 0x1200
    toTick(clock, 9 + 0x100);
    expect(pit.ioRead(0x42, 1)).toBe(0x11);
  });

  it('read-back latches status and count; status shows OUT, NULL COUNT, mode', () => {
    const { pit, clock } = setup();
    pit.ioWrite(0x43, 1, 0xb0);
    // Control word just written: OUT low (mode 0), null count.
    pit.ioWrite(0x43, 1, 0xc8); // ch2, status + count
    expect(pit.ioRead(0x42, 1)).toBe(0x40 | 0x30 | 0x00);
    pit.ioRead(0x42, 1);
    pit.ioRead(0x42, 1);
    pit.ioWrite(0x61, 1, 0x01);
    pit.ioWrite(0x42, 1, 5);
    pit.ioWrite(0x42, 1, 0);
    toTick(clock, 10);
    pit.ioWrite(0x43, 1, 0xc8);
    expect(pit.ioRead(0x42, 1)).toBe(0x80 | 0x30);
    // Loaded at tick 1 with 5, terminal count at tick 6, then wrapping: 5 - 9 = -4.
    expect(readCount(pit, 0x42)).toBe(0xfffc);
    pit.ioWrite(0x43, 1, 0xe8); // status only
    expect(pit.ioRead(0x42, 1)).toBe(0xb0);
  });

  it('the refresh bit of port 0x61 toggles with guest time', () => {
    const { pit, clock } = setup();
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++) {
      clock.set(i * 7_500);
      seen.add(pit.ioRead(0x61, 1) & 0x10);
    }
    expect(seen.size).toBe(2);
    clock.set(0);
    const a = pit.ioRead(0x61, 1) & 0x10;
    clock.set(nsAtTick(18, PIT_HZ));
    expect(pit.ioRead(0x61, 1) & 0x10).not.toBe(a);
  });

  it('powers on with channel 0 at 18.2 Hz', () => {
    const { timers } = setup();
    expect(timers.nextDeadline()).toBe(nsAtTick(1 + 65536, PIT_HZ));
  });

  it('saves and restores mid-count, and rejects malformed state', () => {
    const { pit, clock, timers } = setup();
    pit.ioWrite(0x43, 1, 0x34);
    pit.ioWrite(0x40, 1, 0x00);
    pit.ioWrite(0x40, 1, 0x20);
    toTick(clock, 1001);
    const saved = JSON.parse(JSON.stringify(pit.save()));
    const copyTimers = new TimerQueue(clock);
    const copy = new Pit({ timers: copyTimers, irq: new IrqLine(0, []) });
    copy.restore(saved);
    expect(latchAndRead(copy, 0)).toBe(0x2000 - 1000);
    expect(copyTimers.nextDeadline()).toBe(timers.nextDeadline());
    expect(() => copy.restore({ ...saved, channels: [] })).toThrow(EmulatorError);
    expect(() => copy.restore({ ...saved, portB: -1 })).toThrow(EmulatorError);
    const bad = JSON.parse(JSON.stringify(saved));
    bad.channels[1].access = 0;
    expect(() => copy.restore(bad)).toThrow(EmulatorError);
    expect(latchAndRead(copy, 0)).toBe(0x2000 - 1000);
  });
});
