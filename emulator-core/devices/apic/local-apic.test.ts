import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../errors.js';
import {
  DM_FIXED,
  LAPIC_DFR,
  LAPIC_EOI,
  LAPIC_ESR,
  LAPIC_ICR_HI,
  LAPIC_ICR_LO,
  LAPIC_ID,
  LAPIC_IRR,
  LAPIC_ISR,
  LAPIC_LDR,
  LAPIC_LVT_ERROR,
  LAPIC_LVT_LINT0,
  LAPIC_LVT_LINT1,
  LAPIC_LVT_TIMER,
  LAPIC_PPR,
  LAPIC_SVR,
  LAPIC_TIMER_CURRENT,
  LAPIC_TIMER_DIVIDE,
  LAPIC_TIMER_INITIAL,
  LAPIC_TMR,
  LAPIC_TPR,
  LAPIC_VERSION,
} from './constants.js';
import { ApicRig } from './test-kit.js';

/** Divide configuration register values and the divisor each selects (SDM figure 10-10). */
const DIVIDES: readonly [number, number][] = [
  [0xb, 1],
  [0x0, 2],
  [0x1, 4],
  [0x2, 8],
  [0x3, 16],
  [0x8, 32],
  [0x9, 64],
  [0xa, 128],
];

const PERIODIC = 1 << 17;
const TSC_DEADLINE = 2 << 17;
const MASKED = 1 << 16;

/** Deliver a fixed interrupt to APIC 0 the way an I/O APIC would. */
function inject(rig: ApicRig, vector: number, level = false): boolean {
  return rig.bus.deliver(0, false, DM_FIXED, vector, level);
}

describe('local APIC registers', () => {
  it('reads the power-on values a guest probes', () => {
    const rig = new ApicRig(2);
    expect(rig.read(0, LAPIC_VERSION)).toBe(0x00050014);
    expect(rig.read(1, LAPIC_ID)).toBe(1 << 24);
    expect(rig.read(0, LAPIC_DFR)).toBe(0xffffffff);
    expect(rig.read(0, LAPIC_SVR)).toBe(0xff);
    // Every LVT entry starts masked except the BSP's LINT0, which is ExtINT (virtual wire).
    expect(rig.read(1, LAPIC_LVT_TIMER)).toBe(MASKED);
    expect(rig.read(1, LAPIC_LVT_LINT0)).toBe(MASKED);
    expect(rig.read(0, LAPIC_LVT_LINT0)).toBe(0x700);
    expect(rig.apics[0].readApicBase()).toBe(0xfee00900);
    expect(rig.apics[1].readApicBase()).toBe(0xfee00800);
  });

  it('keeps only the writable bits of ID, LDR and DFR', () => {
    const rig = new ApicRig();
    rig.write(0, LAPIC_ID, 0x07123456);
    expect(rig.read(0, LAPIC_ID)).toBe(0x07000000);
    rig.write(0, LAPIC_LDR, 0x81ffffff);
    expect(rig.read(0, LAPIC_LDR)).toBe(0x81000000);
    rig.write(0, LAPIC_DFR, 0);
    expect(rig.read(0, LAPIC_DFR)).toBe(0x0fffffff);
  });

  it('software disable masks every LVT and forces the mask on later LVT writes', () => {
    const rig = new ApicRig();
    rig.enable(0);
    rig.write(0, LAPIC_LVT_TIMER, 0x40);
    expect(rig.read(0, LAPIC_LVT_TIMER)).toBe(0x40);
    rig.write(0, LAPIC_SVR, 0xff);
    expect(rig.read(0, LAPIC_LVT_TIMER)).toBe(0x40 | MASKED);
    expect(rig.read(0, LAPIC_LVT_LINT0)).toBe(0x700 | MASKED);
    rig.write(0, LAPIC_LVT_ERROR, 0x33);
    expect(rig.read(0, LAPIC_LVT_ERROR)).toBe(0x33 | MASKED);
    // And a software-disabled APIC refuses fixed interrupts.
    expect(inject(rig, 0x40)).toBe(false);
    expect(rig.apics[0].hasInterrupt()).toBe(false);
  });

  it('ESR shows errors only after a write latches them, and the next write clears them', () => {
    const rig = new ApicRig();
    rig.enable(0);
    rig.write(0, LAPIC_LVT_ERROR, 0xfe);
    rig.write(0, LAPIC_ICR_LO, 0x05); // fixed IPI with illegal vector 5
    expect(rig.read(0, LAPIC_ESR)).toBe(0);
    // The error LVT raised its vector.
    expect(rig.apics[0].acknowledge()).toBe(0xfe);
    rig.write(0, LAPIC_ESR, 0);
    expect(rig.read(0, LAPIC_ESR)).toBe(0x20);
    rig.write(0, LAPIC_ESR, 0);
    expect(rig.read(0, LAPIC_ESR)).toBe(0);
  });

  it('ICR reads back what was written with delivery status idle', () => {
    const rig = new ApicRig(2);
    rig.enable(0);
    rig.enable(1);
    rig.write(0, LAPIC_ICR_HI, 0x01000000);
    rig.write(0, LAPIC_ICR_LO, 0x4041);
    expect(rig.read(0, LAPIC_ICR_LO) & 0x1000).toBe(0);
    expect(rig.read(0, LAPIC_ICR_LO)).toBe(0x4041);
    expect(rig.read(0, LAPIC_ICR_HI)).toBe(0x01000000);
  });
});

describe('local APIC priorities', () => {
  it('acknowledges the highest IRR vector first and blocks equal or lower classes while one is in service', () => {
    const rig = new ApicRig();
    rig.enable(0);
    const apic = rig.apics[0];
    inject(rig, 0x31);
    inject(rig, 0x45);
    inject(rig, 0x40);
    expect(rig.bit(0, LAPIC_IRR, 0x45)).toBe(true);
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x45);
    expect(rig.bit(0, LAPIC_ISR, 0x45)).toBe(true);
    expect(rig.bit(0, LAPIC_IRR, 0x45)).toBe(false);
    // PPR now holds class 4: 0x40 (same class) and 0x31 wait.
    expect(rig.read(0, LAPIC_PPR)).toBe(0x40);
    expect(apic.hasInterrupt()).toBe(false);
    // A higher class nests.
    inject(rig, 0x51);
    expect(apic.acknowledge()).toBe(0x51);
    rig.write(0, LAPIC_EOI, 0);
    expect(rig.bit(0, LAPIC_ISR, 0x51)).toBe(false);
    expect(rig.bit(0, LAPIC_ISR, 0x45)).toBe(true);
    rig.write(0, LAPIC_EOI, 0);
    expect(apic.acknowledge()).toBe(0x40);
    rig.write(0, LAPIC_EOI, 0);
    expect(apic.acknowledge()).toBe(0x31);
  });

  it('TPR blocks classes at or below it, and lowering TPR signals the vCPU', () => {
    const rig = new ApicRig();
    rig.enable(0);
    const apic = rig.apics[0];
    rig.write(0, LAPIC_TPR, 0x50);
    inject(rig, 0x45);
    inject(rig, 0x5f);
    expect(rig.read(0, LAPIC_PPR)).toBe(0x50);
    expect(apic.hasInterrupt()).toBe(false);
    inject(rig, 0x61);
    expect(apic.acknowledge()).toBe(0x61);
    rig.write(0, LAPIC_EOI, 0);
    expect(apic.hasInterrupt()).toBe(false);
    const before = rig.signals[0];
    apic.writeCr8(4); // TPR 0x40 through CR8: class 5 may go, class 4 still waits
    expect(rig.read(0, LAPIC_TPR)).toBe(0x40);
    expect(rig.signals[0]).toBeGreaterThan(before);
    expect(apic.acknowledge()).toBe(0x5f);
    rig.write(0, LAPIC_EOI, 0);
    expect(apic.hasInterrupt()).toBe(false);
    apic.writeCr8(0);
    expect(apic.readCr8()).toBe(0);
    expect(apic.acknowledge()).toBe(0x45);
  });

  it('answers INTA with the spurious vector and no ISR change when nothing is deliverable', () => {
    const rig = new ApicRig();
    rig.write(0, LAPIC_SVR, 0x1ef);
    const apic = rig.apics[0];
    expect(apic.hasInterrupt()).toBe(false);
    expect(apic.acknowledge()).toBe(0xef);
    expect(rig.bit(0, LAPIC_ISR, 0xef)).toBe(false);
    // Blocked by TPR between the check and INTA: still spurious, and IRR keeps the vector.
    inject(rig, 0x30);
    rig.write(0, LAPIC_TPR, 0xf0);
    expect(apic.acknowledge()).toBe(0xef);
    expect(rig.bit(0, LAPIC_IRR, 0x30)).toBe(true);
  });

  it('rejects received vectors below 16 and records it in ESR', () => {
    const rig = new ApicRig();
    rig.enable(0);
    expect(inject(rig, 0x0e)).toBe(false);
    rig.write(0, LAPIC_ESR, 0);
    expect(rig.read(0, LAPIC_ESR)).toBe(0x40);
  });
});

describe('local APIC EOI', () => {
  it('broadcasts EOI to I/O APICs only for level-triggered vectors', () => {
    const rig = new ApicRig();
    rig.enable(0);
    const eois: number[] = [];
    rig.bus.attachIoApic({ onEoi: (v) => eois.push(v) });
    inject(rig, 0x50, true);
    inject(rig, 0x60, false);
    expect(rig.bit(0, LAPIC_TMR, 0x50)).toBe(true);
    expect(rig.bit(0, LAPIC_TMR, 0x60)).toBe(false);
    expect(rig.apics[0].acknowledge()).toBe(0x60);
    rig.write(0, LAPIC_EOI, 0);
    expect(eois).toEqual([]);
    expect(rig.apics[0].acknowledge()).toBe(0x50);
    rig.write(0, LAPIC_EOI, 0);
    expect(eois).toEqual([0x50]);
    // EOI with nothing in service does nothing.
    rig.write(0, LAPIC_EOI, 0);
    expect(eois).toEqual([0x50]);
  });
});

describe('local APIC timer', () => {
  for (const [config, div] of DIVIDES) {
    it(`one-shot fires once, at count x ${div} bus cycles`, () => {
      const rig = new ApicRig();
      rig.enable(0);
      const apic = rig.apics[0];
      rig.write(0, LAPIC_TIMER_DIVIDE, config);
      rig.write(0, LAPIC_LVT_TIMER, 0x40);
      rig.runTo(1000);
      rig.write(0, LAPIC_TIMER_INITIAL, 3000);
      const due = 1000 + 3000 * div; // 1 GHz bus clock: one cycle per ns
      rig.runTo(due - 1);
      expect(apic.hasInterrupt()).toBe(false);
      expect(rig.read(0, LAPIC_TIMER_CURRENT)).toBe(1);
      rig.runTo(due);
      expect(apic.acknowledge()).toBe(0x40);
      rig.write(0, LAPIC_EOI, 0);
      expect(rig.read(0, LAPIC_TIMER_CURRENT)).toBe(0);
      rig.runTo(due + 100 * 3000 * div);
      expect(apic.hasInterrupt()).toBe(false);
      expect(rig.timers.nextDeadline()).toBe(Infinity);
    });
  }

  it('follows a slower bus clock', () => {
    const rig = new ApicRig(1, { busHz: 100_000_000 });
    rig.enable(0);
    rig.write(0, LAPIC_TIMER_DIVIDE, 0x1); // divide by 4
    rig.write(0, LAPIC_LVT_TIMER, 0x41);
    rig.write(0, LAPIC_TIMER_INITIAL, 50);
    // 50 counts x 4 cycles x 10 ns.
    rig.runTo(1999);
    expect(rig.apics[0].hasInterrupt()).toBe(false);
    rig.runTo(2000);
    expect(rig.apics[0].acknowledge()).toBe(0x41);
  });

  it('current count decreases with guest time at the divided rate', () => {
    const rig = new ApicRig();
    rig.enable(0);
    rig.write(0, LAPIC_TIMER_DIVIDE, 0x1); // /4
    rig.write(0, LAPIC_TIMER_INITIAL, 1_000_000);
    expect(rig.read(0, LAPIC_TIMER_CURRENT)).toBe(1_000_000);
    rig.runTo(400_000);
    expect(rig.read(0, LAPIC_TIMER_CURRENT)).toBe(900_000);
    rig.runTo(400_003);
    expect(rig.read(0, LAPIC_TIMER_CURRENT)).toBe(900_000);
    rig.runTo(400_004);
    expect(rig.read(0, LAPIC_TIMER_CURRENT)).toBe(899_999);
    // A divide change keeps the count and continues at the new rate.
    rig.write(0, LAPIC_TIMER_DIVIDE, 0xb); // /1
    rig.runTo(500_004);
    expect(rig.read(0, LAPIC_TIMER_CURRENT)).toBe(799_999);
    // Writing 0 stops the timer.
    rig.write(0, LAPIC_TIMER_INITIAL, 0);
    expect(rig.read(0, LAPIC_TIMER_CURRENT)).toBe(0);
    expect(rig.timers.nextDeadline()).toBe(Infinity);
  });

  it('periodic mode reloads and interrupts every period', () => {
    const rig = new ApicRig();
    rig.enable(0);
    const apic = rig.apics[0];
    rig.write(0, LAPIC_TIMER_DIVIDE, 0x0); // /2
    rig.write(0, LAPIC_LVT_TIMER, PERIODIC | 0x42);
    rig.write(0, LAPIC_TIMER_INITIAL, 500); // 1000 ns period
    const fired: number[] = [];
    for (let t = 1; t <= 5500; t++) {
      rig.runTo(t);
      if (apic.hasInterrupt()) {
        fired.push(t);
        expect(apic.acknowledge()).toBe(0x42);
        rig.write(0, LAPIC_EOI, 0);
      }
    }
    expect(fired).toEqual([1000, 2000, 3000, 4000, 5000]);
    // Just after a reload the count is back near the initial value.
    rig.runTo(5002);
    expect(rig.read(0, LAPIC_TIMER_CURRENT)).toBe(499);
  });

  it('a divide change mid-period keeps the count and stretches the rest of the period', () => {
    const rig = new ApicRig();
    rig.enable(0);
    const apic = rig.apics[0];
    rig.write(0, LAPIC_TIMER_DIVIDE, 0xb); // /1
    rig.write(0, LAPIC_LVT_TIMER, PERIODIC | 0x4a);
    rig.write(0, LAPIC_TIMER_INITIAL, 1000);
    rig.runTo(400); // 600 counts left
    rig.write(0, LAPIC_TIMER_DIVIDE, 0x0); // /2: 600 counts take 1200 ns
    rig.runTo(1599);
    expect(apic.hasInterrupt()).toBe(false);
    rig.runTo(1600);
    expect(apic.acknowledge()).toBe(0x4a);
    rig.write(0, LAPIC_EOI, 0);
    // The reloaded period is 1000 counts at /2.
    rig.runTo(3599);
    expect(apic.hasInterrupt()).toBe(false);
    rig.runTo(3600);
    expect(apic.acknowledge()).toBe(0x4a);
  });

  it('switching a running one-shot count to periodic keeps the count and then reloads', () => {
    const rig = new ApicRig();
    rig.enable(0);
    const apic = rig.apics[0];
    rig.write(0, LAPIC_TIMER_DIVIDE, 0xb);
    rig.write(0, LAPIC_LVT_TIMER, 0x4b);
    rig.write(0, LAPIC_TIMER_INITIAL, 300);
    rig.runTo(100);
    rig.write(0, LAPIC_LVT_TIMER, PERIODIC | 0x4b);
    expect(rig.read(0, LAPIC_TIMER_CURRENT)).toBe(200);
    let count = 0;
    for (let t = 101; t <= 1000; t++) {
      rig.runTo(t);
      if (apic.hasInterrupt()) {
        count++;
        apic.acknowledge();
        rig.write(0, LAPIC_EOI, 0);
      }
    }
    expect(count).toBe(3); // at 300, 600, 900
  });

  it('coalesces periods the run loop missed into one interrupt and stays on the original grid', () => {
    const rig = new ApicRig();
    rig.enable(0);
    const apic = rig.apics[0];
    rig.write(0, LAPIC_TIMER_DIVIDE, 0xb);
    rig.write(0, LAPIC_LVT_TIMER, PERIODIC | 0x4c);
    rig.write(0, LAPIC_TIMER_INITIAL, 100);
    // A late run loop: time jumps 1050 ns and the timer callback runs once, late.
    rig.clock.set(1050);
    rig.timers.runExpired(1050);
    expect(apic.acknowledge()).toBe(0x4c);
    rig.write(0, LAPIC_EOI, 0);
    expect(rig.timers.nextDeadline()).toBe(1100);
  });

  it('a masked timer keeps counting but raises nothing until unmasked', () => {
    const rig = new ApicRig();
    rig.enable(0);
    rig.write(0, LAPIC_TIMER_DIVIDE, 0xb);
    rig.write(0, LAPIC_LVT_TIMER, PERIODIC | MASKED | 0x43);
    rig.write(0, LAPIC_TIMER_INITIAL, 100);
    rig.runTo(350);
    expect(rig.apics[0].hasInterrupt()).toBe(false);
    expect(rig.read(0, LAPIC_TIMER_CURRENT)).toBe(50);
    rig.write(0, LAPIC_LVT_TIMER, PERIODIC | 0x43);
    rig.runTo(399);
    expect(rig.apics[0].hasInterrupt()).toBe(false);
    rig.runTo(400);
    expect(rig.apics[0].acknowledge()).toBe(0x43);
  });

  it('TSC-deadline mode fires when the TSC reaches the deadline and then reads 0', () => {
    const rig = new ApicRig();
    rig.enable(0);
    const apic = rig.apics[0];
    rig.write(0, LAPIC_LVT_TIMER, TSC_DEADLINE | 0x44);
    rig.runTo(10_000);
    const deadline = rig.tsc() + 3000; // 2 GHz TSC: 1500 ns
    apic.writeTscDeadline(deadline);
    expect(apic.readTscDeadline()).toBe(deadline);
    rig.runTo(11_499);
    expect(apic.hasInterrupt()).toBe(false);
    rig.runTo(11_500);
    expect(rig.tsc()).toBe(deadline);
    expect(apic.acknowledge()).toBe(0x44);
    rig.write(0, LAPIC_EOI, 0);
    expect(apic.readTscDeadline()).toBe(0);
    rig.runTo(50_000);
    expect(apic.hasInterrupt()).toBe(false);
  });

  it('TSC-deadline re-arms on a new MSR write, cancels on 0, and fires at once for a past deadline', () => {
    const rig = new ApicRig();
    rig.enable(0);
    const apic = rig.apics[0];
    rig.write(0, LAPIC_LVT_TIMER, TSC_DEADLINE | 0x45);
    apic.writeTscDeadline(rig.tsc() + 2000); // t = 1000
    apic.writeTscDeadline(rig.tsc() + 8000); // moved to t = 4000
    rig.runTo(3999);
    expect(apic.hasInterrupt()).toBe(false);
    rig.runTo(4000);
    expect(apic.acknowledge()).toBe(0x45);
    rig.write(0, LAPIC_EOI, 0);
    apic.writeTscDeadline(rig.tsc() + 2000);
    apic.writeTscDeadline(0);
    rig.runTo(20_000);
    expect(apic.hasInterrupt()).toBe(false);
    apic.writeTscDeadline(rig.tsc() - 10);
    expect(apic.acknowledge()).toBe(0x45);
    expect(apic.readTscDeadline()).toBe(0);
  });

  it('TSC-deadline MSR is ignored outside that mode, and leaving or entering the mode disarms the timer', () => {
    const rig = new ApicRig();
    rig.enable(0);
    const apic = rig.apics[0];
    rig.write(0, LAPIC_LVT_TIMER, 0x46);
    apic.writeTscDeadline(rig.tsc() + 100);
    expect(apic.readTscDeadline()).toBe(0);
    rig.write(0, LAPIC_TIMER_INITIAL, 1000);
    rig.write(0, LAPIC_LVT_TIMER, TSC_DEADLINE | 0x46); // disarms the one-shot count
    expect(rig.read(0, LAPIC_TIMER_CURRENT)).toBe(0);
    rig.write(0, LAPIC_TIMER_INITIAL, 1000); // ignored in TSC-deadline mode
    expect(rig.read(0, LAPIC_TIMER_INITIAL)).toBe(0);
    rig.runTo(5000);
    expect(apic.hasInterrupt()).toBe(false);
    apic.writeTscDeadline(rig.tsc() + 1000);
    rig.write(0, LAPIC_LVT_TIMER, 0x46); // back to one-shot: the deadline is dropped
    rig.runTo(10_000);
    expect(apic.hasInterrupt()).toBe(false);
  });
});

describe('local APIC pins and MSR', () => {
  it('passes the PIC through LINT0 in ExtINT mode and asks the PIC for the vector', () => {
    const rig = new ApicRig();
    const apic = rig.apics[0];
    rig.picVector = 0x21;
    apic.setIntr(true);
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x21);
    expect(rig.picAcks).toBe(1);
    apic.setIntr(false);
    expect(apic.hasInterrupt()).toBe(false);
    // Masking LINT0 cuts the PIC off.
    rig.write(0, LAPIC_LVT_LINT0, 0x700 | MASKED);
    apic.setIntr(true);
    expect(apic.hasInterrupt()).toBe(false);
  });

  it('takes APIC vectors before the PIC when both are pending', () => {
    const rig = new ApicRig();
    rig.enable(0);
    const apic = rig.apics[0];
    rig.picVector = 0x22;
    apic.setIntr(true);
    inject(rig, 0x80);
    expect(apic.acknowledge()).toBe(0x80);
    expect(rig.picAcks).toBe(0);
    // ExtINT ignores the APIC's priority: the PIC is asked although 0x80 is in service.
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x22);
    expect(rig.picAcks).toBe(1);
  });

  it('LINT0 in fixed mode raises its vector on the asserting edge, honouring polarity', () => {
    const rig = new ApicRig(2);
    rig.enable(1);
    const apic = rig.apics[1];
    rig.write(1, LAPIC_LVT_LINT0, 0x2000 | 0x55); // fixed, active low
    apic.setLint(0, true);
    expect(apic.hasInterrupt()).toBe(false);
    apic.setLint(0, false);
    expect(apic.acknowledge()).toBe(0x55);
  });

  it('a level-triggered fixed LINT sets Remote IRR and redelivers after EOI while still asserted', () => {
    const rig = new ApicRig(2);
    rig.enable(1);
    const apic = rig.apics[1];
    rig.write(1, LAPIC_LVT_LINT1, 0x8000 | 0x56); // fixed, level, active high
    apic.setLint(1, true);
    expect(rig.read(1, LAPIC_LVT_LINT1) & 0x4000).toBe(0x4000);
    expect(apic.acknowledge()).toBe(0x56);
    expect(rig.bit(1, LAPIC_TMR, 0x56)).toBe(true);
    rig.write(1, LAPIC_EOI, 0); // still high: again
    expect(apic.acknowledge()).toBe(0x56);
    apic.setLint(1, false);
    rig.write(1, LAPIC_EOI, 0);
    expect(rig.read(1, LAPIC_LVT_LINT1) & 0x4000).toBe(0);
    expect(apic.hasInterrupt()).toBe(false);
  });

  it('with the APIC globally disabled INTR and NMI reach the core directly and bus messages are ignored', () => {
    const rig = new ApicRig();
    const apic = rig.apics[0];
    rig.enable(0);
    expect(apic.writeApicBase(0xfee00000)).toBe(true);
    expect(apic.hardwareEnabled).toBe(false);
    expect(rig.read(0, LAPIC_SVR) & 0x100).toBe(0);
    expect(inject(rig, 0x40)).toBe(false);
    rig.picVector = 0x09;
    apic.setIntr(true);
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x09);
    apic.raiseNmi();
    expect(apic.takeNmi()).toBe(true);
    expect(apic.takeNmi()).toBe(false);
  });

  it('LINT1 programmed as NMI raises an NMI the CPU can take once', () => {
    const rig = new ApicRig();
    rig.enable(0);
    rig.write(0, LAPIC_LVT_LINT1, 0x400);
    const before = rig.signals[0];
    rig.apics[0].raiseNmi();
    expect(rig.signals[0]).toBeGreaterThan(before);
    expect(rig.apics[0].takeNmi()).toBe(true);
    expect(rig.apics[0].takeNmi()).toBe(false);
  });

  it('IA32_APIC_BASE rejects reserved bits, keeps BSP read-only and reports relocation', () => {
    const rig = new ApicRig(2);
    const moved: number[] = [];
    rig.apics[1].onRelocate = (b) => moved.push(b);
    expect(rig.apics[1].writeApicBase(0xfee00c00)).toBe(false); // x2APIC enable
    expect(rig.apics[1].writeApicBase(0x1000000000 + 0x800)).toBe(false); // above 36 bits
    expect(rig.apics[1].writeApicBase(0xfed00900)).toBe(true);
    expect(rig.apics[1].readApicBase()).toBe(0xfed00800);
    expect(moved).toEqual([0xfed00000]);
  });
});

describe('local APIC snapshots', () => {
  it('round-trips a pending IRR, an in-service vector and an armed timer mid-flight', () => {
    const a = new ApicRig();
    a.enable(0);
    a.write(0, LAPIC_LVT_TIMER, 0x47);
    a.write(0, LAPIC_TIMER_DIVIDE, 0x1); // /4
    a.write(0, LAPIC_TIMER_INITIAL, 1250); // fires at 5000
    inject(a, 0x30);
    inject(a, 0x50, true);
    expect(a.apics[0].acknowledge()).toBe(0x50);
    a.runTo(1000);
    const saved = JSON.parse(JSON.stringify(a.apics[0].save())) as ReturnType<typeof a.apics[0]['save']>;

    const b = new ApicRig();
    const eois: number[] = [];
    b.bus.attachIoApic({ onEoi: (v) => eois.push(v) });
    b.clock.set(1000);
    b.apics[0].restore(saved);
    expect(b.read(0, LAPIC_TIMER_CURRENT)).toBe(1000);
    expect(b.apics[0].hasInterrupt()).toBe(false); // 0x30 is below the in-service 0x50
    b.write(0, LAPIC_EOI, 0);
    expect(eois).toEqual([0x50]); // TMR survived
    expect(b.apics[0].acknowledge()).toBe(0x30);
    b.write(0, LAPIC_EOI, 0);
    b.runTo(4999);
    expect(b.apics[0].hasInterrupt()).toBe(false);
    b.runTo(5000);
    expect(b.apics[0].acknowledge()).toBe(0x47);
  });

  it('round-trips an armed TSC deadline', () => {
    const a = new ApicRig();
    a.enable(0);
    a.write(0, LAPIC_LVT_TIMER, TSC_DEADLINE | 0x48);
    a.apics[0].writeTscDeadline(a.tsc() + 4000);
    a.runTo(500);
    const saved = a.apics[0].save();
    const b = new ApicRig();
    b.clock.set(500);
    b.apics[0].restore(saved);
    expect(b.apics[0].readTscDeadline()).toBe(4000);
    b.runTo(1999);
    expect(b.apics[0].hasInterrupt()).toBe(false);
    b.runTo(2000);
    expect(b.apics[0].acknowledge()).toBe(0x48);
  });

  it('rejects a malformed snapshot and leaves the APIC unchanged', () => {
    const rig = new ApicRig();
    rig.enable(0);
    inject(rig, 0x40);
    const bad = { ...rig.apics[0].save(), irr: [1, 2, 3] };
    expect(() => rig.apics[0].restore(bad)).toThrow(BadInputError);
    expect(rig.apics[0].acknowledge()).toBe(0x40);
  });

  it('reset returns to power-on state and disarms the timer', () => {
    const rig = new ApicRig();
    rig.enable(0);
    rig.write(0, LAPIC_LVT_TIMER, 0x40);
    rig.write(0, LAPIC_TIMER_INITIAL, 100);
    inject(rig, 0x40);
    rig.apics[0].reset();
    expect(rig.read(0, LAPIC_SVR)).toBe(0xff);
    expect(rig.bit(0, LAPIC_IRR, 0x40)).toBe(false);
    expect(rig.timers.nextDeadline()).toBe(Infinity);
  });
});
