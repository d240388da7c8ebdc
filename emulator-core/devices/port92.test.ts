import { describe, expect, it } from 'vitest';
import { EmulatorError } from '../errors.js';
import type { MachineControl } from '../machine/control.js';
import { Port92 } from './port92.js';

class Control implements MachineControl {
  a20 = false;
  resets = 0;
  a20Writes = 0;
  requestReset(): void {
    this.resets++;
  }
  requestPowerOff(): void {}
  setA20(enabled: boolean): void {
    this.a20 = enabled;
    this.a20Writes++;
  }
}

describe('port 0x92', () => {
  it('sets A20 from bit 1 and reads back the machine A20 state', () => {
    const control = new Control();
    const p = new Port92(control);
    expect(p.ioRead(0x92, 1)).toBe(0);
    p.ioWrite(0x92, 1, 0x02);
    expect(control.a20).toBe(true);
    expect(p.ioRead(0x92, 1)).toBe(0x02);
    // A20 changed elsewhere (the i8042) shows up here too.
    control.setA20(false);
    expect(p.ioRead(0x92, 1)).toBe(0x00);
    p.ioWrite(0x92, 1, 0x08);
    expect(p.ioRead(0x92, 1)).toBe(0x08);
  });

  it('resets on a 0 to 1 transition of bit 0 only', () => {
    const control = new Control();
    const p = new Port92(control);
    p.ioWrite(0x92, 1, 0x03);
    expect(control.resets).toBe(1);
    p.ioWrite(0x92, 1, 0x03);
    expect(control.resets).toBe(1);
    p.ioWrite(0x92, 1, 0x02);
    p.ioWrite(0x92, 1, 0x03);
    expect(control.resets).toBe(2);
  });

  it('does not call setA20 when nothing changes', () => {
    const control = new Control();
    const p = new Port92(control);
    p.ioWrite(0x92, 1, 0x00);
    expect(control.a20Writes).toBe(0);
  });

  it('saves, restores and rejects malformed state', () => {
    const control = new Control();
    const p = new Port92(control);
    p.ioWrite(0x92, 1, 0xc1);
    const q = new Port92(control);
    q.restore(JSON.parse(JSON.stringify(p.save())));
    expect(q.ioRead(0x92, 1)).toBe(0xc1);
    q.ioWrite(0x92, 1, 0xc1);
    expect(control.resets).toBe(1); // bit 0 was already set: no new reset
    expect(() => q.restore({ version: 1, latch: 300 })).toThrow(EmulatorError);
    q.reset();
    expect(q.ioRead(0x92, 1)).toBe(0);
  });
});
