import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../errors.js';
import { IOAPIC_BASE, LAPIC_EOI, LAPIC_IRR, LAPIC_LDR } from './constants.js';
import { IoApic } from './io-apic.js';
import { ApicRig } from './test-kit.js';

const MASKED = 1 << 16;
const LEVEL = 1 << 15;
const REMOTE_IRR = 1 << 14;
const ACTIVE_LOW = 1 << 13;
const LOGICAL = 1 << 11;

function select(io: IoApic, reg: number): void {
  io.mmioWrite(IOAPIC_BASE, 4, reg);
}

function readReg(io: IoApic, reg: number): number {
  select(io, reg);
  return io.mmioRead(IOAPIC_BASE + 0x10, 4);
}

function writeReg(io: IoApic, reg: number, value: number): void {
  select(io, reg);
  io.mmioWrite(IOAPIC_BASE + 0x10, 4, value);
}

/** Program redirection entry `pin` through IOREGSEL/IOWIN, high dword first as Linux does. */
function route(io: IoApic, pin: number, low: number, dest = 0): void {
  writeReg(io, 0x10 + 2 * pin + 1, dest << 24);
  writeReg(io, 0x10 + 2 * pin, low);
}

function setup(cpus = 1): { rig: ApicRig; io: IoApic } {
  const rig = new ApicRig(cpus);
  for (let i = 0; i < cpus; i++) rig.enable(i);
  const io = new IoApic({ bus: rig.bus, id: cpus });
  return { rig, io };
}

/** Take APIC i's interrupt if any; returns the vector or -1. */
function take(rig: ApicRig, i = 0): number {
  const a = rig.apics[i];
  return a.hasInterrupt() ? a.acknowledge() : -1;
}

function eoi(rig: ApicRig, i = 0): void {
  rig.write(i, LAPIC_EOI, 0);
}

describe('I/O APIC registers', () => {
  it('reads ID, version, arbitration and masked entries after reset', () => {
    const { io } = setup(2);
    expect(readReg(io, 0x00)).toBe(2 << 24);
    expect(readReg(io, 0x01)).toBe(0x00170011);
    expect(readReg(io, 0x02)).toBe(2 << 24);
    for (let pin = 0; pin < 24; pin++) {
      expect(readReg(io, 0x10 + 2 * pin)).toBe(MASKED);
      expect(readReg(io, 0x11 + 2 * pin)).toBe(0);
    }
    writeReg(io, 0x00, 0x0a000000);
    expect(readReg(io, 0x00)).toBe(0x0a000000);
    writeReg(io, 0x01, 0);
    expect(readReg(io, 0x01)).toBe(0x00170011);
    select(io, 0x12);
    expect(io.mmioRead(IOAPIC_BASE, 4)).toBe(0x12);
  });

  it('keeps delivery status and Remote IRR read-only', () => {
    const { io } = setup();
    route(io, 3, 0xffffffff, 0xff);
    expect(readReg(io, 0x16)).toBe(0x0001afff);
    expect(readReg(io, 0x17)).toBe(0xff000000);
  });
});

describe('I/O APIC delivery', () => {
  it('edge pins deliver once per rising edge', () => {
    const { rig, io } = setup();
    route(io, 4, 0x34);
    io.setIrq(4, true);
    expect(take(rig)).toBe(0x34);
    eoi(rig);
    expect(take(rig)).toBe(-1); // still high: no new edge
    io.setIrq(4, false);
    io.setIrq(4, true);
    expect(take(rig)).toBe(0x34);
    expect(rig.bit(0, LAPIC_IRR, 0x34)).toBe(false);
  });

  it('level pins set Remote IRR and redeliver after EOI while still asserted', () => {
    const { rig, io } = setup();
    const eois: number[] = [];
    rig.bus.attachIoApic({ onEoi: (v) => eois.push(v) });
    route(io, 10, LEVEL | 0x3a);
    io.setIrqLevel(10, true);
    expect(readReg(io, 0x10 + 20) & REMOTE_IRR).toBe(REMOTE_IRR);
    expect(take(rig)).toBe(0x3a);
    // Line toggling while in service does not deliver again before the EOI.
    io.setIrqLevel(10, false);
    io.setIrqLevel(10, true);
    expect(rig.bit(0, LAPIC_IRR, 0x3a)).toBe(false);
    eoi(rig);
    expect(eois).toEqual([0x3a]);
    // Still asserted after the EOI: delivered again, Remote IRR set again.
    expect(readReg(io, 0x10 + 20) & REMOTE_IRR).toBe(REMOTE_IRR);
    expect(take(rig)).toBe(0x3a);
    io.setIrqLevel(10, false); // the device was serviced
    eoi(rig);
    expect(readReg(io, 0x10 + 20) & REMOTE_IRR).toBe(0);
    expect(take(rig)).toBe(-1);
  });

  it('a masked asserted level pin delivers when unmasked; a masked edge is lost', () => {
    const { rig, io } = setup();
    route(io, 5, MASKED | LEVEL | 0x35);
    route(io, 6, MASKED | 0x36);
    io.setIrq(5, true);
    io.setIrq(6, true);
    expect(take(rig)).toBe(-1);
    expect(readReg(io, 0x10 + 10) & REMOTE_IRR).toBe(0);
    route(io, 6, 0x36);
    expect(take(rig)).toBe(-1);
    route(io, 5, LEVEL | 0x35);
    expect(take(rig)).toBe(0x35);
  });

  it('lines are logical: an asserted line delivers whatever the polarity bit says', () => {
    const { rig, io } = setup();
    // Linux programs PCI pins active-low (the wire's convention); the board's line is
    // already "asserted" or not.
    route(io, 7, ACTIVE_LOW | LEVEL | 0x37);
    io.setIrq(7, false);
    expect(take(rig)).toBe(-1);
    io.setIrq(7, true);
    expect(take(rig)).toBe(0x37);
    eoi(rig);
    // Still asserted after the EOI: delivered again.
    expect(take(rig)).toBe(0x37);
    io.setIrq(7, false);
    eoi(rig);
    expect(take(rig)).toBe(-1);
    // An active-low edge pin: the assertion delivers, the release does not.
    route(io, 8, ACTIVE_LOW | 0x38);
    io.setIrq(8, true);
    expect(take(rig)).toBe(0x38);
    io.setIrq(8, false);
    expect(take(rig)).toBe(-1);
  });

  it('routes by physical and logical destination', () => {
    const { rig, io } = setup(3);
    rig.write(1, LAPIC_LDR, 0x02 << 24);
    rig.write(2, LAPIC_LDR, 0x04 << 24);
    route(io, 1, 0x41, 2);
    io.setIrq(1, true);
    expect([take(rig, 0), take(rig, 1), take(rig, 2)]).toEqual([-1, -1, 0x41]);
    eoi(rig, 2);
    route(io, 12, LOGICAL | 0x4c, 0x06);
    io.setIrq(12, true);
    expect([take(rig, 0), take(rig, 1), take(rig, 2)]).toEqual([-1, 0x4c, 0x4c]);
  });

  it('lowest-priority entries reach one APIC only', () => {
    const { rig, io } = setup(3);
    for (let i = 0; i < 3; i++) rig.write(i, LAPIC_LDR, 0x01 << 24);
    route(io, 9, LOGICAL | (1 << 8) | 0x39, 0x01);
    io.setIrq(9, true);
    expect([take(rig, 0), take(rig, 1), take(rig, 2)]).toEqual([0x39, -1, -1]);
  });

  it('NMI and ExtINT delivery modes', () => {
    const { rig, io } = setup();
    route(io, 2, 4 << 8);
    io.setIrq(2, true);
    expect(rig.apics[0].takeNmi()).toBe(true);
    // ExtINT: the local APIC asks the 8259 for the vector.
    rig.write(0, 0x350, 0x10000); // LINT0 masked, so only the I/O APIC path can deliver
    rig.picVector = 0x20;
    route(io, 0, 7 << 8);
    io.setIrq(0, true);
    expect(take(rig)).toBe(0x20);
    expect(rig.picAcks).toBe(1);
  });

  it('level pins with no accepting APIC do not latch Remote IRR', () => {
    const { rig, io } = setup();
    route(io, 11, LEVEL | 0x3b, 5); // no APIC 5
    io.setIrq(11, true);
    expect(readReg(io, 0x10 + 22) & REMOTE_IRR).toBe(0);
    // Re-routed to a present APIC, the still-asserted line delivers.
    route(io, 11, LEVEL | 0x3b, 0);
    expect(take(rig)).toBe(0x3b);
  });
});

describe('I/O APIC snapshots', () => {
  it('round-trips a level interrupt in service and redelivers after EOI on the restored side', () => {
    const a = setup();
    route(a.io, 10, LEVEL | 0x3a);
    a.io.setIrq(10, true);
    expect(take(a.rig)).toBe(0x3a);
    const saved = JSON.parse(JSON.stringify(a.io.save())) as ReturnType<IoApic['save']>;
    const lapicSaved = a.rig.apics[0].save();

    const b = setup();
    b.rig.apics[0].restore(lapicSaved);
    b.io.restore(saved);
    expect(readReg(b.io, 0x10 + 20) & REMOTE_IRR).toBe(REMOTE_IRR);
    eoi(b.rig);
    expect(take(b.rig)).toBe(0x3a);
  });

  it('rejects a malformed snapshot', () => {
    const { io } = setup();
    expect(() => io.restore({ ...io.save(), lo: [0] })).toThrow(BadInputError);
    expect(() => io.restore({ ...io.save(), version: 2 })).toThrow(BadInputError);
  });

  it('reset masks every entry and forgets line levels', () => {
    const { rig, io } = setup();
    route(io, 3, LEVEL | 0x33);
    io.setIrq(3, true);
    expect(take(rig)).toBe(0x33);
    io.reset();
    expect(readReg(io, 0x16)).toBe(MASKED);
    route(io, 3, LEVEL | 0x33);
    eoi(rig);
    expect(take(rig)).toBe(-1);
  });
});
