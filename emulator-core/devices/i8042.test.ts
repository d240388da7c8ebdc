import { describe, expect, it } from 'vitest';
import { IrqLine, type IrqSink } from '../bus/irq.js';
import { EmulatorError } from '../errors.js';
import type { MachineControl } from '../machine/control.js';
import { I8042, KEY_SCANCODES, XLATE } from './i8042.js';

class Lines implements IrqSink {
  level = new Map<number, boolean>();
  rises = new Map<number, number>();
  setIrqLevel(line: number, high: boolean): void {
    if (high && !this.level.get(line)) this.rises.set(line, (this.rises.get(line) ?? 0) + 1);
    this.level.set(line, high);
  }
  high(line: number): boolean {
    return this.level.get(line) ?? false;
  }
}

class Control implements MachineControl {
  a20 = false;
  resets: string[] = [];
  requestReset(reason: string): void {
    this.resets.push(reason);
  }
  requestPowerOff(): void {}
  setA20(enabled: boolean): void {
    this.a20 = enabled;
  }
}

function setup(): { kbc: I8042; lines: Lines; control: Control } {
  const lines = new Lines();
  const control = new Control();
  const kbc = new I8042({ control, kbdIrq: new IrqLine(1, [lines]), auxIrq: new IrqLine(12, [lines]) });
  return { kbc, lines, control };
}

const status = (k: I8042): number => k.ioRead(0x64, 1);
const cmd = (k: I8042, c: number, data?: number): void => {
  k.ioWrite(0x64, 1, c);
  if (data !== undefined) k.ioWrite(0x60, 1, data);
};

/** Everything the guest can read right now, as a polling driver would. */
function drain(k: I8042): number[] {
  const out: number[] = [];
  while (status(k) & 0x01 && out.length < 100) out.push(k.ioRead(0x60, 1));
  return out;
}

function setCommandByte(k: I8042, v: number): void {
  cmd(k, 0x60, v);
}

describe('i8042 controller', () => {
  it('self-test answers 0x55 and sets the SYS flag', () => {
    const { kbc } = setup();
    expect(status(kbc) & 0x04).toBe(0);
    cmd(kbc, 0xaa);
    expect(status(kbc) & 0x0d).toBe(0x0d); // OBF, SYS, last write was a command
    expect(drain(kbc)).toEqual([0x55]);
    cmd(kbc, 0xab);
    cmd(kbc, 0xa9);
    expect(drain(kbc)).toEqual([0x00, 0x00]);
    kbc.ioWrite(0x60, 1, 0xf4);
    expect(status(kbc) & 0x08).toBe(0);
  });

  it('reads and writes the command byte; A7/A8 and AD/AE flip its disable bits', () => {
    const { kbc } = setup();
    setCommandByte(kbc, 0x47);
    cmd(kbc, 0x20);
    expect(drain(kbc)).toEqual([0x47]);
    cmd(kbc, 0xa7);
    cmd(kbc, 0x20);
    expect(drain(kbc)).toEqual([0x67]);
    cmd(kbc, 0xa8);
    cmd(kbc, 0xad);
    cmd(kbc, 0x20);
    expect(drain(kbc)).toEqual([0x57]);
    cmd(kbc, 0xae);
    expect(kbc.controllerCommandByte).toBe(0x47);
  });

  it('AUX loop (D3) echoes as mouse data with IRQ12, D2 as keyboard data with IRQ1', () => {
    const { kbc, lines } = setup();
    cmd(kbc, 0xd3, 0x5a);
    expect(status(kbc) & 0x21).toBe(0x21);
    expect(lines.high(12)).toBe(true);
    expect(lines.high(1)).toBe(false);
    expect(kbc.ioRead(0x60, 1)).toBe(0x5a);
    expect(lines.high(12)).toBe(false);
    cmd(kbc, 0xd2, 0x1e);
    expect(status(kbc) & 0x21).toBe(0x01);
    expect(lines.high(1)).toBe(true);
    expect(drain(kbc)).toEqual([0x1e]);
  });

  it('gates IRQ1/IRQ12 with the command byte interrupt bits', () => {
    const { kbc, lines } = setup();
    setCommandByte(kbc, 0x40);
    cmd(kbc, 0xd2, 0x01);
    expect(status(kbc) & 1).toBe(1);
    expect(lines.high(1)).toBe(false);
    setCommandByte(kbc, 0x41);
    // The write to 0x60 consumed nothing: the byte is still there and now interrupts.
    expect(lines.high(1)).toBe(true);
  });

  it('drives A20 and reset through the output port and pulse commands', () => {
    const { kbc, control } = setup();
    cmd(kbc, 0xd1, 0xdf);
    expect(control.a20).toBe(true);
    cmd(kbc, 0xd0);
    expect(drain(kbc)[0]! & 0x03).toBe(0x03);
    cmd(kbc, 0xd1, 0xdd);
    expect(control.a20).toBe(false);
    cmd(kbc, 0xdf);
    expect(control.a20).toBe(true);
    expect(control.resets).toEqual([]);
    cmd(kbc, 0xff);
    expect(control.resets).toEqual([]);
    cmd(kbc, 0xfe);
    expect(control.resets.length).toBe(1);
    cmd(kbc, 0xd1, 0x02);
    expect(control.resets.length).toBe(2);
  });

  it('keeps keyboard data back while the keyboard interface is disabled', () => {
    const { kbc } = setup();
    cmd(kbc, 0xad);
    kbc.keyEvent('KeyA', true);
    expect(status(kbc) & 1).toBe(0);
    cmd(kbc, 0xae);
    expect(drain(kbc)).toEqual([0x1e]);
  });
});

describe('PS/2 keyboard', () => {
  it('answers reset, identify, echo, LEDs and unknown commands', () => {
    const { kbc } = setup();
    kbc.ioWrite(0x60, 1, 0xff);
    expect(drain(kbc)).toEqual([0xfa, 0xaa]);
    kbc.ioWrite(0x60, 1, 0xf2);
    expect(drain(kbc)).toEqual([0xfa, 0xab, 0x41]); // translated
    setCommandByte(kbc, 0x03);
    kbc.ioWrite(0x60, 1, 0xf2);
    expect(drain(kbc)).toEqual([0xfa, 0xab, 0x83]);
    kbc.ioWrite(0x60, 1, 0xed);
    kbc.ioWrite(0x60, 1, 0x04);
    expect(drain(kbc)).toEqual([0xfa, 0xfa]);
    expect(kbc.keyboardLeds).toBe(4);
    kbc.ioWrite(0x60, 1, 0xee);
    expect(drain(kbc)).toEqual([0xee]);
    kbc.ioWrite(0x60, 1, 0xf3);
    kbc.ioWrite(0x60, 1, 0x20);
    expect(drain(kbc)).toEqual([0xfa, 0xfa]);
    kbc.ioWrite(0x60, 1, 0x42);
    expect(drain(kbc)).toEqual([0xfe]);
    kbc.ioWrite(0x60, 1, 0xfe);
    expect(drain(kbc)).toEqual([0xfe]);
  });

  it('reports and selects scan code sets', () => {
    const { kbc } = setup();
    kbc.ioWrite(0x60, 1, 0xf0);
    kbc.ioWrite(0x60, 1, 0x00);
    expect(drain(kbc)).toEqual([0xfa, 0xfa, 0x41]); // both bytes acknowledged; set 2, translated
    setCommandByte(kbc, 0x01);
    kbc.ioWrite(0x60, 1, 0xf0);
    kbc.ioWrite(0x60, 1, 0x01);
    kbc.ioWrite(0x60, 1, 0xf0);
    kbc.ioWrite(0x60, 1, 0x00);
    expect(drain(kbc)).toEqual([0xfa, 0xfa, 0xfa, 0xfa, 0x01]);
    kbc.keyEvent('KeyA', true);
    kbc.keyEvent('KeyA', false);
    kbc.keyEvent('ArrowUp', false);
    expect(drain(kbc)).toEqual([0x1e, 0x9e, 0xe0, 0xc8]);
    kbc.ioWrite(0x60, 1, 0xf0);
    kbc.ioWrite(0x60, 1, 0x03);
    expect(drain(kbc)).toEqual([0xfa, 0xfe]);
  });

  it('generates set 2 and translates to set 1 when the translate bit is on', () => {
    const { kbc } = setup();
    const press = (code: string): number[] => {
      kbc.keyEvent(code, true);
      kbc.keyEvent(code, false);
      return drain(kbc);
    };
    expect(press('KeyA')).toEqual([0x1e, 0x9e]);
    expect(press('Enter')).toEqual([0x1c, 0x9c]);
    expect(press('ArrowUp')).toEqual([0xe0, 0x48, 0xe0, 0xc8]);
    expect(press('ControlRight')).toEqual([0xe0, 0x1d, 0xe0, 0x9d]);
    expect(press('F7')).toEqual([0x41, 0xc1]);
    expect(press('PrintScreen')).toEqual([0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa]);
    expect(press('Pause')).toEqual([0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5]);
    setCommandByte(kbc, 0x01);
    expect(press('KeyA')).toEqual([0x1c, 0xf0, 0x1c]);
    expect(press('ArrowUp')).toEqual([0xe0, 0x75, 0xe0, 0xf0, 0x75]);
    expect(press('F7')).toEqual([0x83, 0xf0, 0x83]);
    expect(press('NoSuchKey')).toEqual([]);
  });

  it('has a translation table consistent with every key it knows', () => {
    for (const [code, set2, set1] of KEY_SCANCODES) {
      expect(XLATE[set2 & 0xff], code).toBe(set1);
    }
  });

  it('raises a fresh IRQ1 edge for each byte', () => {
    const { kbc, lines } = setup();
    kbc.keyEvent('KeyB', true);
    kbc.keyEvent('KeyB', false);
    expect(lines.rises.get(1)).toBe(1);
    kbc.ioRead(0x60, 1);
    expect(lines.rises.get(1)).toBe(2);
    kbc.ioRead(0x60, 1);
    expect(lines.high(1)).toBe(false);
  });

  it('buffers 16 bytes of keys like a real keyboard so Linux i8042_flush succeeds', () => {
    const { kbc } = setup();
    cmd(kbc, 0xad);
    for (let i = 0; i < 20; i++) kbc.keyEvent('KeyC', i % 2 === 0);
    cmd(kbc, 0xae);
    expect(drain(kbc).length).toBeLessThanOrEqual(16);
  });

  it('ignores keys while scanning is disabled (F5)', () => {
    const { kbc } = setup();
    kbc.ioWrite(0x60, 1, 0xf5);
    drain(kbc);
    kbc.keyEvent('KeyA', true);
    expect(drain(kbc)).toEqual([]);
    kbc.ioWrite(0x60, 1, 0xf4);
    kbc.keyEvent('KeyA', true);
    expect(drain(kbc)).toEqual([0xfa, 0x1e]);
  });
});

describe('PS/2 mouse', () => {
  const aux = (k: I8042, ...bytes: number[]): number[] => {
    for (const b of bytes) cmd(k, 0xd4, b);
    const out: number[] = [];
    while (status(k) & 0x01) {
      expect(status(k) & 0x20).toBe(0x20);
      out.push(k.ioRead(0x60, 1));
    }
    return out;
  };

  it('answers the psmouse probe: reset, id, rate, resolution, scaling, status', () => {
    const { kbc, lines } = setup();
    expect(aux(kbc, 0xff)).toEqual([0xfa, 0xaa, 0x00]);
    expect(lines.rises.get(12)).toBe(3);
    expect(aux(kbc, 0xf2)).toEqual([0xfa, 0x00]);
    expect(aux(kbc, 0xf3, 40, 0xe8, 3, 0xe7)).toEqual([0xfa, 0xfa, 0xfa, 0xfa, 0xfa]);
    expect(aux(kbc, 0xe9)).toEqual([0xfa, 0x10, 3, 40]);
    expect(aux(kbc, 0xe6, 0xf4, 0xe9)).toEqual([0xfa, 0xfa, 0xfa, 0x20, 3, 40]);
    expect(aux(kbc, 0xea, 0xf5, 0xf6)).toEqual([0xfa, 0xfa, 0xfa]);
    expect(aux(kbc, 0xe1)).toEqual([0xfe]);
  });

  it('becomes an IntelliMouse after the 200/100/80 rate knock', () => {
    const { kbc } = setup();
    aux(kbc, 0xf3, 200, 0xf3, 100, 0xf3, 80);
    expect(aux(kbc, 0xf2)).toEqual([0xfa, 0x03]);
    aux(kbc, 0xf4);
    kbc.pointerEvent(1, 0, 0, -1);
    expect(aux(kbc)).toEqual([0x08, 1, 0, 0xff]);
    expect(aux(kbc, 0xff)).toEqual([0xfa, 0xaa, 0x00]);
    expect(aux(kbc, 0xf2)).toEqual([0xfa, 0x00]);
  });

  it('reports movement packets only while enabled, with PS/2 signs (Y up)', () => {
    const { kbc } = setup();
    kbc.pointerEvent(5, 5, 0);
    expect(aux(kbc)).toEqual([]);
    aux(kbc, 0xf4);
    kbc.pointerEvent(10, -5, 1);
    expect(aux(kbc)).toEqual([0x09, 10, 5]);
    kbc.pointerEvent(-3, 4, 0);
    expect(aux(kbc)).toEqual([0x08 | 0x10 | 0x20, 0xfd, 0xfc]);
    kbc.pointerEvent(0, 0, 2);
    expect(aux(kbc)).toEqual([0x0a, 0, 0]);
    kbc.pointerEvent(600, 0, 2);
    const bytes = aux(kbc);
    const dx = [0, 3, 6].map((i) => bytes[i + 1]! - (bytes[i]! & 0x10 ? 256 : 0));
    expect(dx.reduce((a, b) => a + b, 0)).toBe(600);
  });

  it('answers read-data in remote mode and echoes in wrap mode', () => {
    const { kbc } = setup();
    aux(kbc, 0xf0);
    kbc.pointerEvent(7, 0, 4);
    expect(aux(kbc, 0xeb)).toEqual([0xfa, 0x0c, 7, 0]);
    expect(aux(kbc, 0xee, 0x12, 0x34, 0xec, 0xf2)).toEqual([0xfa, 0x12, 0x34, 0xfa, 0xfa, 0x00]);
  });
});

describe('i8042 snapshots', () => {
  it('round-trips queued data and device modes, and rejects malformed state', () => {
    const { kbc } = setup();
    cmd(kbc, 0xd4, 0xf4);
    kbc.keyEvent('KeyQ', true);
    kbc.pointerEvent(3, 0, 0);
    const saved = JSON.parse(JSON.stringify(kbc.save()));
    const other = setup();
    other.kbc.restore(saved);
    expect(drain(other.kbc)).toEqual(drain(kbc));
    other.kbc.pointerEvent(1, 0, 0);
    expect(drain(other.kbc)).toEqual([0x08, 1, 0]);
    expect(() => other.kbc.restore({ ...saved, ram: [1] })).toThrow(EmulatorError);
    expect(() => other.kbc.restore({ ...saved, kbd: { ...saved.kbd, set: 9 } })).toThrow(EmulatorError);
    expect(() => other.kbc.restore({ ...saved, pendingCmd: 0x20 })).toThrow(EmulatorError);
  });
});
