import { describe, expect, it } from 'vitest';
import { DM_FIXED, DM_LOWEST_PRIORITY, LAPIC_BASE, LAPIC_DFR, LAPIC_ICR_HI, LAPIC_ICR_LO, LAPIC_ID, LAPIC_LDR, LAPIC_SVR } from './constants.js';
import { ApicRig } from './test-kit.js';

/** ICR low for an IPI: vector, delivery mode, logical bit, level assert, trigger, shorthand. */
function icr(vector: number, mode: number, opts: { logical?: boolean; assert?: boolean; level?: boolean; shorthand?: number } = {}): number {
  return vector | (mode << 8) | (opts.logical ? 1 << 11 : 0) | (opts.assert === false ? 0 : 1 << 14) | (opts.level ? 1 << 15 : 0) | ((opts.shorthand ?? 0) << 18);
}

/** Send an IPI from APIC `from` to destination `dest`. */
function send(rig: ApicRig, from: number, dest: number, low: number): void {
  rig.write(from, LAPIC_ICR_HI, dest << 24);
  rig.write(from, LAPIC_ICR_LO, low);
}

/** Which APICs have `vector` pending (and take it). */
function receivers(rig: ApicRig, vector: number): number[] {
  const got: number[] = [];
  rig.apics.forEach((a, i) => {
    if (a.hasInterrupt()) {
      expect(a.acknowledge()).toBe(vector);
      a.mmioWrite(LAPIC_BASE + 0xb0, 4, 0);
      got.push(i);
    }
  });
  return got;
}

function rig4(): ApicRig {
  const rig = new ApicRig(4);
  for (let i = 0; i < 4; i++) rig.enable(i);
  return rig;
}

describe('APIC bus: fixed IPIs', () => {
  it('reaches exactly the APIC with the physical ID, including a renumbered one', () => {
    const rig = rig4();
    send(rig, 0, 2, icr(0x40, 0));
    expect(receivers(rig, 0x40)).toEqual([2]);
    rig.write(3, LAPIC_ID, 9 << 24);
    send(rig, 0, 9, icr(0x41, 0));
    expect(receivers(rig, 0x41)).toEqual([3]);
    send(rig, 0, 3, icr(0x42, 0)); // nobody has ID 3 any more
    expect(receivers(rig, 0x42)).toEqual([]);
  });

  it('physical destination 0xFF reaches every APIC', () => {
    const rig = rig4();
    send(rig, 1, 0xff, icr(0x43, 0));
    expect(receivers(rig, 0x43)).toEqual([0, 1, 2, 3]);
  });

  it('logical flat destinations select by LDR bit', () => {
    const rig = rig4();
    for (let i = 0; i < 4; i++) rig.write(i, LAPIC_LDR, (1 << i) << 24);
    send(rig, 0, 0x06, icr(0x44, 0, { logical: true }));
    expect(receivers(rig, 0x44)).toEqual([1, 2]);
    send(rig, 0, 0x08, icr(0x45, 0, { logical: true }));
    expect(receivers(rig, 0x45)).toEqual([3]);
  });

  it('logical cluster destinations match the cluster and a member bit', () => {
    const rig = rig4();
    // Clusters 1 and 2, two members each.
    const ldrs = [0x11, 0x12, 0x21, 0x22];
    for (let i = 0; i < 4; i++) {
      rig.write(i, LAPIC_DFR, 0x0fffffff);
      rig.write(i, LAPIC_LDR, ldrs[i] << 24);
    }
    send(rig, 0, 0x23, icr(0x46, 0, { logical: true }));
    expect(receivers(rig, 0x46)).toEqual([2, 3]);
    send(rig, 0, 0x12, icr(0x47, 0, { logical: true }));
    expect(receivers(rig, 0x47)).toEqual([1]);
    send(rig, 0, 0xf1, icr(0x48, 0, { logical: true })); // member 1 of every cluster
    expect(receivers(rig, 0x48)).toEqual([0, 2]);
  });

  it('shorthands: self, all including self, all excluding self', () => {
    const rig = rig4();
    send(rig, 2, 0, icr(0x49, 0, { shorthand: 1 }));
    expect(receivers(rig, 0x49)).toEqual([2]);
    send(rig, 2, 0, icr(0x4a, 0, { shorthand: 2 }));
    expect(receivers(rig, 0x4a)).toEqual([0, 1, 2, 3]);
    send(rig, 2, 0, icr(0x4b, 0, { shorthand: 3 }));
    expect(receivers(rig, 0x4b)).toEqual([0, 1, 3]);
  });

  it('lowest priority goes to the lowest-numbered APIC that accepts', () => {
    const rig = rig4();
    for (let i = 0; i < 4; i++) rig.write(i, LAPIC_LDR, 0x01 << 24);
    rig.write(0, LAPIC_SVR, 0xff); // APIC 0 software-disabled: it refuses
    expect(rig.bus.deliver(0x01, true, DM_LOWEST_PRIORITY, 0x4c, false)).toBe(true);
    expect(receivers(rig, 0x4c)).toEqual([1]);
    expect(rig.bus.deliver(0x01, true, DM_FIXED, 0x4d, false)).toBe(true);
    expect(receivers(rig, 0x4d)).toEqual([1, 2, 3]);
  });

  it('a sender wakes the target through onSignal', () => {
    const rig = rig4();
    const before = rig.signals.slice();
    send(rig, 0, 3, icr(0x4e, 0));
    expect(rig.signals[3]).toBe(before[3] + 1);
    expect(rig.signals[1]).toBe(before[1]);
  });
});

describe('APIC bus: INIT, SIPI and NMI', () => {
  it('INIT assert then SIPI reach the target and are consumed once through the polling API', () => {
    const rig = rig4();
    rig.write(1, LAPIC_LDR, 0x10 << 24);
    send(rig, 0, 1, icr(0, 5, { level: true })); // INIT assert
    expect(rig.apics[1].initIsPending).toBe(true);
    expect(rig.apics[2].initIsPending).toBe(false);
    // INIT resets the target's APIC (software-disabled, LDR cleared) but keeps its ID.
    expect(rig.read(1, LAPIC_SVR)).toBe(0xff);
    expect(rig.read(1, LAPIC_LDR)).toBe(0);
    expect(rig.read(1, LAPIC_ID)).toBe(1 << 24);
    expect(rig.apics[1].takeInit()).toBe(true);
    expect(rig.apics[1].takeInit()).toBe(false);
    send(rig, 0, 1, icr(0, 5, { assert: false, level: true })); // INIT de-assert: ignored
    expect(rig.apics[1].takeInit()).toBe(false);
    send(rig, 0, 1, icr(0x9a, 6)); // SIPI, AP starts at 0x9A000
    expect(rig.apics[1].takeSipi()).toBe(0x9a);
    expect(rig.apics[1].takeSipi()).toBe(-1);
    expect(rig.apics[2].takeSipi()).toBe(-1);
  });

  it('INIT and SIPI to all excluding self start every AP but not the BSP', () => {
    const rig = rig4();
    send(rig, 0, 0, icr(0, 5, { level: true, shorthand: 3 }));
    send(rig, 0, 0, icr(0x10, 6, { shorthand: 3 }));
    expect(rig.apics.map((a) => a.takeInit())).toEqual([false, true, true, true]);
    expect(rig.apics.map((a) => a.takeSipi())).toEqual([-1, 0x10, 0x10, 0x10]);
  });

  it('SIPI reaches a software-disabled APIC (APs are software-disabled after INIT)', () => {
    const rig = new ApicRig(2);
    send(rig, 0, 1, icr(0x20, 6));
    expect(rig.apics[1].takeSipi()).toBe(0x20);
  });

  it('NMI IPI is taken once by the target', () => {
    const rig = rig4();
    send(rig, 3, 0, icr(0, 4));
    expect(rig.apics[0].takeNmi()).toBe(true);
    expect(rig.apics[0].takeNmi()).toBe(false);
    expect(rig.apics[3].takeNmi()).toBe(false);
  });
});

describe('APIC bus: MMIO dispatch', () => {
  it('forwards the APIC page to the running vCPU', () => {
    const rig = rig4();
    rig.bus.current = 2;
    expect(rig.bus.mmioRead(LAPIC_BASE + LAPIC_ID, 4)).toBe(2 << 24);
    rig.bus.current = 0;
    expect(rig.bus.mmioRead(LAPIC_BASE + LAPIC_ID, 4)).toBe(0);
    rig.bus.current = 3;
    rig.bus.mmioWrite(LAPIC_BASE + LAPIC_LDR, 4, 0x80000000);
    expect(rig.read(3, LAPIC_LDR)).toBe(0x80000000);
    expect(rig.read(0, LAPIC_LDR)).toBe(0);
  });
});
