import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../errors.js';
import type { DeviceState } from '../device.js';
import { loadDac, loadFont, setStandardMode } from './modes.js';
import { rig, syntheticFont, testDacBytes, type TestRig } from '../../../test/support/vga.js';

function busyRig(): TestRig {
  const r = rig();
  setStandardMode(r.vga, 3);
  loadDac(r.vga, 0, testDacBytes());
  loadFont(r.vga, r.vga.window, syntheticFont(16), 16);
  for (let i = 0; i < 200; i++) r.memory.write8(0xb8000 + i, (i * 37) & 0xff);
  r.vga.configWrite(0x10, 4, 0xe0000000);
  r.vga.configWrite(0x04, 2, 0x0003);
  return r;
}

function roundTrip(state: DeviceState): DeviceState {
  return JSON.parse(JSON.stringify(state)) as DeviceState;
}

describe('VGA snapshot', () => {
  it('save/restore through JSON reproduces registers, VRAM, BARs and the picture', () => {
    const a = busyRig();
    a.vga.ioRead(0x3da, 1);
    a.vga.ioWrite(0x3c0, 1, 0x31); // leave the flip-flop mid-sequence (expecting data)
    const state = roundTrip(a.vga.save());
    // VRAM is deflated: a mostly empty 16 MiB is small.
    expect(JSON.stringify(state).length).toBeLessThan(200_000);

    const b = rig();
    b.vga.restore(state);
    expect(b.vga.save()).toEqual(state);
    expect(b.vga.regs.acFlipFlop).toBe(true);
    expect(b.vga.barAddress(0)).toBe(0xe0000000);
    expect(b.memory.pageMap[0xe0000] & 0xff).toBe(0);
    const sa = a.vga.screenshot();
    const sb = b.vga.screenshot();
    expect([sb.width, sb.height]).toEqual([sa.width, sa.height]);
    expect(Buffer.compare(Buffer.from(sa.rgba), Buffer.from(sb.rgba))).toBe(0);
    expect(b.vga.textScreen()!.lines).toEqual(a.vga.textScreen()!.lines);
  });

  it('DISPI state and the chain-4 window mapping survive a restore', () => {
    const a = rig();
    a.vga.ioWrite(0x1ce, 2, 3);
    a.vga.ioWrite(0x1cf, 2, 8);
    a.vga.ioWrite(0x1ce, 2, 1);
    a.vga.ioWrite(0x1cf, 2, 640);
    a.vga.ioWrite(0x1ce, 2, 2);
    a.vga.ioWrite(0x1cf, 2, 480);
    a.vga.ioWrite(0x1ce, 2, 4);
    a.vga.ioWrite(0x1cf, 2, 0x01);
    a.vga.ioWrite(0x1ce, 2, 5);
    a.vga.ioWrite(0x1cf, 2, 3);
    const b = rig();
    b.vga.restore(roundTrip(a.vga.save()));
    expect(b.vga.dispi.enabled).toBe(true);
    expect(b.vga.mem.bankOffset).toBe(0x30000);
    b.memory.write8(0xa0000, 0x66);
    expect(b.vga.mem.vram[0x30000]).toBe(0x66);
  });

  it('can leave VRAM out of the state', () => {
    const a = busyRig();
    a.vga.vramInState = false;
    const state = roundTrip(a.vga.save());
    expect(state.vram).toBeNull();
    const b = rig();
    b.vga.mem.vram[0] = 0x99;
    b.vga.restore(state);
    expect(b.vga.mem.vram[0]).toBe(0x99);
  });

  it('rejects malformed snapshots and stays unchanged', () => {
    const a = busyRig();
    const good = roundTrip(a.vga.save());
    const b = busyRig();
    b.memory.write8(0xb8000, 0x41);
    const before = roundTrip(b.vga.save());
    const bad: DeviceState[] = [
      { ...good, version: 2 },
      { ...good, regs: { ...(good.regs as Record<string, never>), seq: [1, 2, 3] } },
      { ...good, regs: { ...(good.regs as Record<string, never>), dac8bit: 1 } },
      { ...good, dispi: { ...(good.dispi as Record<string, never>), bankOffset: 0x12345 } },
      { ...good, vram: { size: 1 << 20, encoding: 'deflate-base64', data: '' } },
      { ...good, vram: { size: 16 << 20, encoding: 'deflate-base64', data: 'not deflate' } },
      { ...good, vram: { size: 16 << 20, encoding: 'raw', data: '' } },
      { ...good, config: [1, 2] },
    ];
    for (const state of bad) {
      expect(() => b.vga.restore(state)).toThrow(BadInputError);
      expect(b.vga.save()).toEqual(before);
    }
  });

  it('reset returns the registers to power-on and keeps VRAM', () => {
    const a = busyRig();
    const char0 = a.vga.mem.vram[0];
    a.vga.reset();
    expect(Array.from(a.vga.regs.seq)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(a.vga.regs.misc).toBe(0);
    expect(a.vga.dispi.regs[0]).toBe(0xb0c5);
    expect(a.vga.mem.vram[0]).toBe(char0);
    expect(a.vga.configRead(0x04, 2)).toBe(0);
    // Before any mode is programmed the screen is blank.
    const res = a.vga.render();
    expect([res.width, res.height]).toEqual([720, 400]);
  });
});
