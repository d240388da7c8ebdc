import { describe, expect, it } from 'vitest';
import type { CpuInterruptPins } from '../bus/irq.js';
import { EmulatorError } from '../errors.js';
import { Pic } from './pic.js';

class Pins implements CpuInterruptPins {
  intr = false;
  calls = 0;
  nmi = 0;
  setIntr(high: boolean): void {
    this.intr = high;
    this.calls++;
  }
  raiseNmi(): void {
    this.nmi++;
  }
}

/** The sequence Linux's init_8259A and SeaBIOS use: vectors 0x20/0x28, cascade on IR2. */
function initPic(pic: Pic, icw4 = 0x01, masterBase = 0x20, slaveBase = 0x28): void {
  pic.ioWrite(0x20, 1, 0x11);
  pic.ioWrite(0x21, 1, masterBase);
  pic.ioWrite(0x21, 1, 0x04);
  pic.ioWrite(0x21, 1, icw4);
  pic.ioWrite(0xa0, 1, 0x11);
  pic.ioWrite(0xa1, 1, slaveBase);
  pic.ioWrite(0xa1, 1, 0x02);
  pic.ioWrite(0xa1, 1, icw4);
  pic.ioWrite(0x21, 1, 0x00);
  pic.ioWrite(0xa1, 1, 0x00);
}

function setup(icw4 = 0x01): { pic: Pic; pins: Pins } {
  const pins = new Pins();
  const pic = new Pic(pins);
  initPic(pic, icw4);
  return { pic, pins };
}

const EOI = 0x20;

describe('8259A PIC pair', () => {
  it('raises INTR after the ICW sequence and acknowledge() returns base + line', () => {
    const { pic, pins } = setup();
    expect(pins.intr).toBe(false);
    pic.setIrqLevel(0, true);
    expect(pins.intr).toBe(true);
    expect(pic.acknowledge()).toBe(0x20);
    expect(pins.intr).toBe(false);
    expect(pic.inspect().master.isr).toBe(0x01);
    expect(pic.inspect().master.irr).toBe(0x00);
    pic.ioWrite(0x20, 1, EOI);
    expect(pic.inspect().master.isr).toBe(0);
  });

  it('only calls setIntr when the output changes', () => {
    const { pic, pins } = setup();
    const before = pins.calls;
    pic.setIrqLevel(3, true);
    pic.setIrqLevel(4, true);
    pic.setIrqLevel(3, false);
    expect(pins.calls - before).toBe(1);
  });

  it('delivers slave interrupts through the cascade with both ISRs set', () => {
    const { pic, pins } = setup();
    pic.setIrqLevel(10, true);
    expect(pins.intr).toBe(true);
    expect(pic.acknowledge()).toBe(0x2a);
    const regs = pic.inspect();
    expect(regs.master.isr).toBe(0x04);
    expect(regs.slave.isr).toBe(0x04);
    pic.ioWrite(0xa0, 1, EOI);
    pic.ioWrite(0x20, 1, EOI);
    expect(pic.inspect().master.isr).toBe(0);
    expect(pic.inspect().slave.isr).toBe(0);
  });

  it('routes ISA IRQ2 to the slave IR1 (IRQ9)', () => {
    const { pic } = setup();
    pic.setIrqLevel(2, true);
    expect(pic.acknowledge()).toBe(0x29);
  });

  it('serves by priority and nests only higher priorities', () => {
    const { pic, pins } = setup();
    pic.setIrqLevel(3, true);
    pic.setIrqLevel(1, true);
    expect(pic.acknowledge()).toBe(0x21);
    // IRQ3 is lower priority than IRQ1 in service.
    expect(pins.intr).toBe(false);
    pic.setIrqLevel(0, true);
    expect(pins.intr).toBe(true);
    expect(pic.acknowledge()).toBe(0x20);
    pic.ioWrite(0x20, 1, EOI); // ends IRQ0
    expect(pins.intr).toBe(false);
    pic.ioWrite(0x20, 1, EOI); // ends IRQ1
    expect(pins.intr).toBe(true);
    expect(pic.acknowledge()).toBe(0x23);
  });

  it('slave requests wait for the master EOI of IR2', () => {
    const { pic, pins } = setup();
    pic.setIrqLevel(9, true);
    pic.setIrqLevel(8, true);
    expect(pic.acknowledge()).toBe(0x28);
    expect(pins.intr).toBe(false);
    pic.ioWrite(0xa0, 1, EOI);
    expect(pins.intr).toBe(false); // master IR2 still in service
    pic.ioWrite(0x20, 1, EOI);
    expect(pins.intr).toBe(true);
    expect(pic.acknowledge()).toBe(0x29);
  });

  it('masks with IMR and reads it back', () => {
    const { pic, pins } = setup();
    pic.ioWrite(0x21, 1, 0xfb);
    expect(pic.ioRead(0x21, 1)).toBe(0xfb);
    pic.setIrqLevel(1, true);
    expect(pins.intr).toBe(false);
    expect(pic.ioRead(0x20, 1)).toBe(0x02); // IRR by default
    pic.ioWrite(0x21, 1, 0xf9);
    expect(pins.intr).toBe(true);
    pic.ioWrite(0xa1, 1, 0xff);
    pic.setIrqLevel(12, true);
    expect(pic.inspect().slave.irr).toBe(0x10);
    expect(pic.acknowledge()).toBe(0x21);
  });

  it('reads ISR after OCW3 RR|RIS and IRR after RR', () => {
    const { pic } = setup();
    pic.setIrqLevel(5, true);
    pic.acknowledge();
    pic.setIrqLevel(6, true);
    pic.ioWrite(0x20, 1, 0x0b);
    expect(pic.ioRead(0x20, 1)).toBe(0x20);
    pic.ioWrite(0x20, 1, 0x0a);
    expect(pic.ioRead(0x20, 1)).toBe(0x40);
  });

  it('latches edges: a line held high does not request again until it falls and rises', () => {
    const { pic, pins } = setup();
    pic.setIrqLevel(4, true);
    pic.acknowledge();
    pic.ioWrite(0x20, 1, EOI);
    expect(pins.intr).toBe(false);
    pic.setIrqLevel(4, false);
    pic.setIrqLevel(4, true);
    expect(pins.intr).toBe(true);
    // A pulse (up then down) still leaves the request latched.
    const { pic: p2, pins: pins2 } = setup();
    p2.setIrqLevel(0, true);
    p2.setIrqLevel(0, false);
    expect(pins2.intr).toBe(true);
    expect(p2.acknowledge()).toBe(0x20);
  });

  it('level-triggered lines (ELCR) request while high and stop when they fall', () => {
    const { pic, pins } = setup();
    pic.ioWrite(0x4d1, 1, 0xff);
    expect(pic.ioRead(0x4d1, 1)).toBe(0xde); // IRQ8 and IRQ13 cannot be level
    pic.ioWrite(0x4d0, 1, 0xff);
    expect(pic.ioRead(0x4d0, 1)).toBe(0xf8);
    pic.setIrqLevel(11, true);
    expect(pic.acknowledge()).toBe(0x2b);
    pic.ioWrite(0xa0, 1, EOI);
    pic.ioWrite(0x20, 1, EOI);
    expect(pins.intr).toBe(true); // still asserted
    pic.setIrqLevel(11, false);
    expect(pins.intr).toBe(false);
  });

  it('answers a vanished request with spurious IRQ7 and leaves ISR clear', () => {
    const { pic, pins } = setup();
    pic.ioWrite(0x4d0, 1, 0x20); // IRQ5 level
    pic.setIrqLevel(5, true);
    expect(pins.intr).toBe(true);
    pic.setIrqLevel(5, false);
    expect(pic.acknowledge()).toBe(0x27);
    expect(pic.inspect().master.isr).toBe(0);
  });

  it('a vanished slave request drops the cascade input, so INTA gets the default IR7', () => {
    const { pic, pins } = setup();
    pic.ioWrite(0x4d1, 1, 0x08); // IRQ11 level
    pic.setIrqLevel(11, true);
    expect(pins.intr).toBe(true);
    expect(pic.inspect().master.irr & 0x04).toBe(0x04);
    pic.setIrqLevel(11, false);
    expect(pins.intr).toBe(false);
    // A CPU that sampled INTR before the fall still runs INTA.
    expect(pic.acknowledge()).toBe(0x27);
    expect(pic.inspect().master.isr).toBe(0);
    expect(pic.inspect().slave.isr).toBe(0);
  });

  it('auto-EOI mode leaves ISR clear', () => {
    const { pic, pins } = setup(0x03);
    pic.setIrqLevel(1, true);
    expect(pic.acknowledge()).toBe(0x21);
    expect(pic.inspect().master.isr).toBe(0);
    pic.setIrqLevel(3, true);
    expect(pins.intr).toBe(true);
  });

  it('specific EOI clears the named level only', () => {
    const { pic } = setup();
    pic.setIrqLevel(3, true);
    pic.acknowledge();
    pic.setIrqLevel(1, true);
    pic.acknowledge();
    expect(pic.inspect().master.isr).toBe(0x0a);
    pic.ioWrite(0x20, 1, 0x63);
    expect(pic.inspect().master.isr).toBe(0x02);
  });

  it('rotate on non-specific EOI makes the served level the lowest priority', () => {
    const { pic } = setup();
    pic.setIrqLevel(0, true);
    expect(pic.acknowledge()).toBe(0x20);
    pic.ioWrite(0x20, 1, 0xa0);
    pic.setIrqLevel(0, false);
    pic.setIrqLevel(0, true);
    pic.setIrqLevel(1, true);
    expect(pic.acknowledge()).toBe(0x21);
  });

  it('set priority (OCW2 0xC0|n) makes n+1 the highest', () => {
    const { pic } = setup();
    pic.ioWrite(0x20, 1, 0xc4);
    pic.setIrqLevel(0, true);
    pic.setIrqLevel(6, true);
    expect(pic.acknowledge()).toBe(0x26);
  });

  it('poll mode returns 0x80|level and acknowledges it', () => {
    const { pic } = setup();
    pic.ioWrite(0x20, 1, 0x0c);
    expect(pic.ioRead(0x20, 1)).toBe(0);
    pic.setIrqLevel(6, true);
    pic.ioWrite(0x20, 1, 0x0c);
    expect(pic.ioRead(0x20, 1)).toBe(0x86);
    expect(pic.inspect().master.isr).toBe(0x40);
    // The poll is one-shot: the next read is IRR again.
    expect(pic.ioRead(0x20, 1)).toBe(0);
  });

  it('special mask mode lets lower levels interrupt a masked in-service level', () => {
    const { pic, pins } = setup();
    pic.setIrqLevel(3, true);
    pic.acknowledge();
    pic.setIrqLevel(5, true);
    expect(pins.intr).toBe(false);
    pic.ioWrite(0x21, 1, 0x08);
    pic.ioWrite(0x20, 1, 0x68); // set special mask
    expect(pins.intr).toBe(true);
    expect(pic.acknowledge()).toBe(0x25);
    pic.ioWrite(0x20, 1, 0x48); // reset special mask
    expect(pins.intr).toBe(false);
  });

  it('ICW1 clears IMR, ISR and edge requests', () => {
    const { pic, pins } = setup();
    pic.ioWrite(0x21, 1, 0xff);
    pic.setIrqLevel(3, true);
    pic.ioWrite(0x20, 1, 0x11);
    pic.ioWrite(0x21, 1, 0x08);
    pic.ioWrite(0x21, 1, 0x04);
    pic.ioWrite(0x21, 1, 0x01);
    expect(pic.ioRead(0x21, 1)).toBe(0);
    expect(pins.intr).toBe(false);
    pic.setIrqLevel(3, false);
    pic.setIrqLevel(3, true);
    expect(pic.acknowledge()).toBe(0x0b);
  });

  it('saves and restores, and rejects malformed state with a typed error', () => {
    const { pic } = setup();
    pic.setIrqLevel(10, true);
    pic.setIrqLevel(4, true);
    pic.ioWrite(0x21, 1, 0x10);
    const saved = JSON.parse(JSON.stringify(pic.save()));
    const pins = new Pins();
    const copy = new Pic(pins);
    copy.restore(saved);
    expect(pins.intr).toBe(true);
    expect(copy.ioRead(0x21, 1)).toBe(0x10);
    expect(copy.acknowledge()).toBe(0x2a);
    expect(() => copy.restore({ ...saved, version: 7 })).toThrow(EmulatorError);
    expect(() => copy.restore({ ...saved, master: { ...saved.master, imr: 300 } })).toThrow(EmulatorError);
    expect(() => copy.restore({ ...saved, slave: 'x' })).toThrow(EmulatorError);
    // A failed restore leaves the device as it was.
    expect(copy.ioRead(0x21, 1)).toBe(0x10);
  });

  it('reset drops INTR', () => {
    const { pic, pins } = setup();
    pic.setIrqLevel(1, true);
    expect(pins.intr).toBe(true);
    pic.reset();
    expect(pins.intr).toBe(false);
    expect(pic.intrHigh).toBe(false);
  });
});
