/**
 * The i440FX/PIIX chipset: configuration mechanism #1, BAR decoding into the port bus and
 * guest memory, PAM shadow RAM as SeaBIOS drives it, PIRQ routing onto ISA IRQs, the
 * PIIX4 PM block's placement and power-off, and the reset control register.
 */
import { describe, expect, it } from 'vitest';
import { IoBus, type AccessSize, type PortIoHandler } from '../bus/io-bus.js';
import type { IrqSink } from '../bus/irq.js';
import { PciFunction } from '../bus/pci.js';
import { ManualClock } from '../machine/clock.js';
import type { MachineControl } from '../machine/control.js';
import { GuestMemory, type MmioHandler } from '../memory/guest-memory.js';
import { AcpiPm, SLP_EN } from './acpi-pm.js';
import { I440fx } from './i440fx.js';
import { PciBus, pirqOf } from './pci-bus.js';
import { IsaIrqRouter, PiixIsa } from './piix-isa.js';
import { PiixPm } from './piix-pm.js';
import { IrqLine } from '../bus/irq.js';

class Control implements MachineControl {
  resets: string[] = [];
  powerOffs: string[] = [];
  a20 = true;
  requestReset(reason: string): void {
    this.resets.push(reason);
  }
  requestPowerOff(reason: string): void {
    this.powerOffs.push(reason);
  }
  setA20(enabled: boolean): void {
    this.a20 = enabled;
  }
}

class PicLevels implements IrqSink {
  readonly levels = new Array<boolean>(16).fill(false);
  setIrqLevel(line: number, high: boolean): void {
    this.levels[line] = high;
  }
}

/** A function with an I/O BAR, a memory BAR and a pin, recording accesses. */
class TestFn extends PciFunction implements PortIoHandler, MmioHandler {
  log: string[] = [];
  constructor() {
    super('testfn', { vendor: 0x1af4, device: 0x1000, classCode: 0xff, subclass: 0, interruptPin: 1 });
    this.defineBar(0, { kind: 'io', size: 32 });
    this.defineBar(1, { kind: 'mem32', size: 8192 });
  }
  ioRead(port: number, _size: AccessSize): number {
    return port & 0xff;
  }
  ioWrite(port: number, _size: AccessSize, value: number): void {
    this.log.push(`io ${port.toString(16)}=${value}`);
  }
  mmioRead(addr: number, _size: AccessSize): number {
    return 0xab00 | (addr & 0xff);
  }
  mmioWrite(addr: number, _size: AccessSize, value: number): void {
    this.log.push(`mmio ${addr.toString(16)}=${value}`);
  }
}

const RAM = 8 << 20;

function rig() {
  const io = new IoBus();
  const control = new Control();
  const memory = new GuestMemory(RAM, { romBytes: 256 * 1024 });
  const bios = new Uint8Array(128 * 1024);
  for (let i = 0; i < bios.length; i++) bios[i] = (i * 7) & 0xff;
  const biosBacking = memory.mapRom(0x100000000 - bios.length, bios, 'bios');
  const bus = new PciBus(io, memory, control);
  io.register(0xcf8, 8, bus, 'pci');
  const host = new I440fx({ memory, biosLowBacking: biosBacking, biosLowLength: bios.length });
  bus.add(0, 0, host);
  const pic = new PicLevels();
  const router = new IsaIrqRouter(pic);
  const isa = new PiixIsa(router);
  bus.add(1, 0, isa);
  bus.pirqSink = isa;
  const clock = new ManualClock();
  const sci = new IrqLine(9, [router]);
  const acpi = new AcpiPm({ clock, sci, control });
  acpi.s5Type = 0;
  const pm = new PiixPm(io, acpi);
  bus.add(1, 3, pm);
  const fn = new TestFn();
  bus.add(3, 0, fn, { io: () => fn, mmio: () => fn });
  const cfgAddr = (dev: number, func: number, reg: number) => (0x80000000 | (dev << 11) | (func << 8) | (reg & 0xfc)) >>> 0;
  const cfgRead = (dev: number, func: number, reg: number, size: AccessSize = 4) => {
    io.write(0xcf8, 4, cfgAddr(dev, func, reg));
    return io.read(0xcfc + (reg & 3), size);
  };
  const cfgWrite = (dev: number, func: number, reg: number, size: AccessSize, value: number) => {
    io.write(0xcf8, 4, cfgAddr(dev, func, reg));
    io.write(0xcfc + (reg & 3), size, value);
  };
  return { io, control, memory, bios, bus, host, isa, pm, acpi, fn, pic, router, cfgRead, cfgWrite, clock };
}

describe('PCI configuration mechanism #1', () => {
  it('reads vendor/device/class of every function and all ones for empty slots', () => {
    const r = rig();
    expect(r.cfgRead(0, 0, 0)).toBe(0x12378086);
    expect(r.cfgRead(1, 0, 0)).toBe(0x70008086);
    expect(r.cfgRead(1, 3, 0)).toBe(0x71138086);
    expect(r.cfgRead(1, 0, 0x0e, 1)).toBe(0x80); // multi-function
    expect(r.cfgRead(1, 0, 0x0a, 2)).toBe(0x0601); // ISA bridge
    expect(r.cfgRead(0, 0, 0x0a, 2)).toBe(0x0600); // host bridge
    expect(r.cfgRead(5, 0, 0)).toBe(0xffffffff);
    expect(r.cfgRead(1, 2, 0, 2)).toBe(0xffff);
    // Byte and word reads at every offset of the dword.
    expect(r.cfgRead(0, 0, 1, 1)).toBe(0x80);
    expect(r.cfgRead(0, 0, 2, 2)).toBe(0x1237);
    expect(r.cfgRead(0, 0, 3, 1)).toBe(0x12);
  });

  it('keeps CONFIG_ADDRESS for dword accesses only, and ignores bus != 0 and the enable bit off', () => {
    const r = rig();
    r.io.write(0xcf8, 4, 0x80000000);
    expect(r.io.read(0xcf8, 4)).toBe(0x80000000);
    r.io.write(0xcf8, 2, 0x1234); // not CONFIG_ADDRESS
    expect(r.io.read(0xcf8, 4)).toBe(0x80000000);
    r.io.write(0xcf8, 4, 0x00000000); // enable bit clear
    expect(r.io.read(0xcfc, 4)).toBe(0xffffffff);
    r.io.write(0xcf8, 4, 0x80010000); // bus 1
    expect(r.io.read(0xcfc, 4)).toBe(0xffffffff);
  });

  it('0xCF9 resets the machine on a 0 → 1 edge of bit 2', () => {
    const r = rig();
    r.io.write(0xcf9, 1, 0x02);
    expect(r.control.resets).toHaveLength(0);
    r.io.write(0xcf9, 1, 0x06);
    expect(r.control.resets).toHaveLength(1);
    expect(r.io.read(0xcf9, 1)).toBe(0x02);
  });
});

describe('BAR decoding', () => {
  it('sizes BARs, maps them when decoding is enabled and moves them', () => {
    const r = rig();
    r.cfgWrite(3, 0, 0x10, 4, 0xffffffff);
    expect(r.cfgRead(3, 0, 0x10)).toBe((~31 | 1) >>> 0);
    r.cfgWrite(3, 0, 0x14, 4, 0xffffffff);
    expect(r.cfgRead(3, 0, 0x14)).toBe(~8191 >>> 0);
    r.cfgWrite(3, 0, 0x10, 4, 0xc000);
    r.cfgWrite(3, 0, 0x14, 4, 0xe0000000);
    // Not decoded until the command register says so.
    expect(r.io.read(0xc004, 1)).toBe(0xff);
    expect(r.memory.read32(0xe0000010)).toBe(-1);
    r.cfgWrite(3, 0, 0x04, 2, 0x0003);
    expect(r.io.read(0xc004, 1)).toBe(0x04);
    expect(r.memory.read16(0xe0001010)).toBe(0xab10);
    r.memory.write8(0xe0000020, 5);
    expect(r.fn.log).toContain('mmio e0000020=5');
    // Move both; the old ranges are released.
    r.cfgWrite(3, 0, 0x10, 4, 0xd000);
    r.cfgWrite(3, 0, 0x14, 4, 0xe1000000);
    expect(r.io.read(0xc004, 1)).toBe(0xff);
    expect(r.io.read(0xd004, 1)).toBe(0x04);
    expect(r.memory.read32(0xe0000010)).toBe(-1);
    expect(r.memory.read16(0xe1000010)).toBe(0xab10);
    // Decoding off unmaps.
    r.cfgWrite(3, 0, 0x04, 2, 0);
    expect(r.io.read(0xd004, 1)).toBe(0xff);
    expect(r.memory.read32(0xe1000010)).toBe(-1);
  });

  it('never lets a BAR take over RAM or another device’s ports', () => {
    const r = rig();
    r.cfgWrite(3, 0, 0x10, 4, 0x0cf8); // over the config ports
    r.cfgWrite(3, 0, 0x14, 4, 0x00100000); // over RAM
    r.cfgWrite(3, 0, 0x04, 2, 0x0003);
    r.io.write(0xcf8, 4, 0x80000000);
    expect(r.io.read(0xcf8, 4)).toBe(0x80000000);
    r.memory.write8(0x100000, 0x5a);
    expect(r.memory.read8(0x100000)).toBe(0x5a);
    expect(r.fn.log).toHaveLength(0);
  });
});

describe('i440FX PAM shadow RAM', () => {
  it('starts with the flash decoded at 0xE0000-0xFFFFF and nothing at 0xC0000-0xDFFFF', () => {
    const r = rig();
    expect(r.memory.read8(0xe0000)).toBe(r.bios[0]);
    expect(r.memory.read8(0xffff0)).toBe(r.bios[0x1fff0]);
    expect(r.memory.read8(0xc0000)).toBe(0xff);
    r.memory.write8(0xf0000, 0x12);
    expect(r.memory.read8(0xf0000)).toBe(r.bios[0x10000]);
  });

  it('follows SeaBIOS: RE|WE, copy from the high alias, then RE only (write-protect)', () => {
    const r = rig();
    // make_bios_writable: 0xC0000-0xEFFFF and 0xF0000 RE|WE.
    const pam = r.cfgRead(0, 0, 0x58);
    r.cfgWrite(0, 0, 0x58, 4, (pam & 0xffff00ff) | 0x3000);
    r.cfgWrite(0, 0, 0x5c, 4, 0x33333333);
    r.cfgWrite(0, 0, 0x5a, 2, 0x3333);
    expect(r.cfgRead(0, 0, 0x59, 1)).toBe(0x30);
    // RAM now shows through (zeros) and takes writes; copy the BIOS down from 4 GiB.
    expect(r.memory.read8(0xf0000)).toBe(0);
    for (let a = 0xe0000; a < 0x100000; a += 4) r.memory.write32(a, r.memory.read32(0xfffe0000 + (a - 0xe0000)));
    r.memory.write8(0xc0000, 0x77);
    expect(r.memory.read8(0xc0000)).toBe(0x77);
    // make_bios_readonly: RE only.
    r.cfgWrite(0, 0, 0x59, 1, 0x10);
    r.cfgWrite(0, 0, 0x5a, 1, 0x11);
    r.memory.write8(0xf0000, 0x12);
    r.memory.write8(0xc0000, 0x99);
    expect(r.memory.read8(0xf0000)).toBe(r.bios[0x10000]);
    expect(r.memory.read8(0xc0000)).toBe(0x77);
    // Back to PCI (flash) decoding: the ROM again, whatever RAM holds.
    r.cfgWrite(0, 0, 0x59, 1, 0x00);
    expect(r.memory.read8(0xffff0)).toBe(r.bios[0x1fff0]);
  });

  it('write-only shadow (WE without RE) reads the flash and writes RAM', () => {
    const r = rig();
    r.cfgWrite(0, 0, 0x59, 1, 0x20);
    r.memory.write8(0xf0001, 0x42);
    expect(r.memory.read8(0xf0001)).toBe(r.bios[0x10001]);
    r.cfgWrite(0, 0, 0x59, 1, 0x30);
    expect(r.memory.read8(0xf0001)).toBe(0x42);
  });

  it('a reset goes back to the flash', () => {
    const r = rig();
    r.cfgWrite(0, 0, 0x59, 1, 0x30);
    r.memory.write8(0xf0000, 1);
    r.host.reset();
    expect(r.cfgRead(0, 0, 0x59, 1)).toBe(0);
    expect(r.memory.read8(0xf0000)).toBe(r.bios[0x10000]);
  });
});

describe('PIIX3 PIRQ routing', () => {
  it('routes INTx through PIRQA-D to the programmed ISA IRQ, shared and level', () => {
    const r = rig();
    const line = r.bus.intx(3, 0);
    const pirq = pirqOf(3, 1);
    expect(pirq).toBe(2); // slot 3 INTA → PIRQC on this board
    line.set(true);
    expect(r.pic.levels.some((l) => l)).toBe(false); // route disabled at reset
    r.cfgWrite(1, 0, 0x60 + pirq, 1, 11);
    expect(r.pic.levels[11]).toBe(true);
    // Re-routing moves the level.
    r.cfgWrite(1, 0, 0x60 + pirq, 1, 10);
    expect(r.pic.levels[11]).toBe(false);
    expect(r.pic.levels[10]).toBe(true);
    line.set(false);
    expect(r.pic.levels[10]).toBe(false);
  });

  it('ORs PCI levels with the ISA device on the same IRQ', () => {
    const r = rig();
    const isaLine = new IrqLine(9, [r.router]);
    const pci = r.bus.intx(3, 0);
    r.cfgWrite(1, 0, 0x60 + pirqOf(3, 1), 1, 9);
    isaLine.raise();
    pci.set(true);
    isaLine.lower();
    expect(r.pic.levels[9]).toBe(true);
    pci.set(false);
    expect(r.pic.levels[9]).toBe(false);
  });
});

describe('PIIX4 power management', () => {
  it('places the PM block at PMBA when enabled, with the timer and S5 power-off', () => {
    const r = rig();
    expect(r.io.read(0xb008, 4)).toBe(0xffffffff);
    r.cfgWrite(1, 3, 0x40, 4, 0xb000 | 1);
    expect(r.io.read(0xb008, 4)).toBe(0xffffffff); // PMREGMISC still off
    r.cfgWrite(1, 3, 0x80, 1, 1);
    expect(r.cfgRead(1, 3, 0x40)).toBe(0xb001);
    r.clock.advance(1e9);
    expect(r.io.read(0xb008, 4)).toBe(3579545);
    // SeaBIOS's \_S5 is sleep type 0.
    r.io.write(0xb004, 2, SLP_EN | (0 << 10));
    expect(r.control.powerOffs).toHaveLength(1);
    // Moving it releases the old ports.
    r.cfgWrite(1, 3, 0x40, 4, 0x600 | 1);
    expect(r.io.read(0xb008, 4)).toBe(0xffffffff);
    expect(r.io.read(0x608, 4)).toBe(3579545);
  });

  it('tells SeaBIOS SMM is set up, and switches SCI_EN with the APM ACPI commands', () => {
    const r = rig();
    expect(r.cfgRead(1, 3, 0x58) & (1 << 25)).not.toBe(0);
    r.cfgWrite(1, 3, 0x40, 4, 0x600 | 1);
    r.cfgWrite(1, 3, 0x80, 1, 1);
    r.io.write(0xb2, 1, 0xf0);
    expect(r.io.read(0x604, 2) & 1).toBe(0);
    r.io.write(0xb2, 1, 0xf1);
    expect(r.io.read(0x604, 2) & 1).toBe(1);
    // GPE0 block: enable bytes stick, status reads zero.
    r.io.write(0xafe2, 2, 0x0f);
    expect(r.io.read(0xafe0, 4)).toBe(0x000f0000);
  });
});
