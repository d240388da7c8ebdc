/**
 * QEMU-compatible standard VGA ("std-vga", PCI 1234:1111): IBM VGA registers and memory,
 * Bochs VBE/DISPI linear framebuffer modes, the VGA BIOS behind the expansion ROM BAR, and
 * the renderer that turns it all into RGBA frames. See README.md for how a machine wires it.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { AccessSize, IoBus, PortIoHandler } from '../../bus/io-bus.js';
import { PciFunction } from '../../bus/pci.js';
import { BadInputError, EmulatorError } from '../../errors.js';
import type { Clock } from '../../machine/clock.js';
import type { ScreenUpdate } from '../../machine/types.js';
import { PAGE_KIND_MASK, PAGE_RAM, PAGE_ROM, PAGE_SIZE, PAGE_UNMAPPED, type GuestMemory, type MmioHandler } from '../../memory/guest-memory.js';
import type { Device, DeviceState } from '../device.js';
import { StateReader } from '../state.js';
import {
  DEFAULT_VRAM_BYTES,
  GR_MISC,
  MMIO_BAR_SIZE,
  MMIO_DISPI,
  MMIO_EDID_END,
  MMIO_QEXT,
  MMIO_VGA_PORTS,
  PORT_STATUS1_COLOR,
  PORT_STATUS1_MONO,
  QEXT_LITTLE_ENDIAN,
  QEXT_SIZE,
  SR04_CHAIN4,
  SR_MAP_MASK,
  SR_MEMORY_MODE,
  STDVGA_DEVICE,
  STDVGA_SUBSYSTEM_ID,
  STDVGA_SUBSYSTEM_VENDOR,
  STDVGA_VENDOR,
  VBE_PORT_DATA_ALIAS,
  VBE_PORT_INDEX,
  VBE_REG_COUNT,
  VGA_PORT_BASE,
  VGA_PORT_COUNT,
  WINDOW_BASE,
  WINDOW_SIZE,
} from './constants.js';
import type { Frame } from './frame.js';
import { VgaMemory } from './memory.js';
import { CHANGED_MEMORY_MODE, CHANGED_TIMING, VgaRegisters } from './registers.js';
import { VgaRenderer, type RenderResult, type Screenshot } from './renderer.js';
import { readTextScreen, type TextScreen } from './text.js';
import { DisplayTiming } from './timing.js';
import { Dispi } from './vbe.js';

export interface StdVgaOptions {
  /** Guest time: retrace status and text blinking follow it. */
  clock: Clock;
  /** VGA BIOS (e.g. SeaBIOS's vgabios-stdvga.bin) served by the expansion ROM BAR; none: no ROM BAR. */
  vgaBios?: Uint8Array;
  /** VRAM size in bytes: a power of two from 1 MiB to 256 MiB. Default 16 MiB. */
  vramSize?: number;
  /** Offer QEMU's 4 KiB MMIO BAR2 ("qext": VGA and DISPI registers), as QEMU's default. Default true. */
  mmioBar?: boolean;
}

export interface AttachOptions {
  /**
   * Put VRAM in guest memory's backing buffer (reserve `backingBytes` in romBytes), so the
   * linear framebuffer BAR and chain-4 windows are plain RAM the CPU (or KVM) writes
   * directly. Default true; false keeps VRAM private and serves it through MMIO.
   */
  vramInGuestMemory?: boolean;
  /**
   * Map BARs on onBarChange ourselves (for machines without a PciBus that does it).
   * Default false: give barHandlers() to the PCI bus instead.
   */
  mapBars?: boolean;
}

/** Per-BAR access, shaped like the PCI bus's PciBarHandlers. */
export interface VgaBarHandlers {
  mmio(bar: number): MmioHandler | null;
  backing(bar: number): { offset: number; writable: boolean } | null;
}

/**
 * After this many switches of the legacy window between the chain-4 RAM alias and MMIO we
 * stay on MMIO: each switch re-registers the window with GuestMemory, which keeps a
 * record per registration.
 */
const MAX_WINDOW_REMAPS = 1024;

const STATE_VERSION = 1;

interface WindowAlias {
  base: number;
  size: number;
  offset: number;
}

interface BarMapping {
  base: number;
  size: number;
  mmio: boolean;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export class StdVga extends PciFunction implements Device, PortIoHandler {
  readonly regs = new VgaRegisters();
  readonly mem: VgaMemory;
  readonly dispi: Dispi;
  readonly renderer: VgaRenderer;
  readonly vramSize: number;
  /** Bytes attach() takes from guest memory's reserved area (VRAM and ROM BAR). */
  readonly backingBytes: number;
  /**
   * Whether save() carries VRAM (deflated, base64). Set false when the machine's snapshot
   * already stores guest memory's device area, where attach() put VRAM.
   */
  vramInState = true;

  private readonly clock: Clock;
  private readonly timing = new DisplayTiming();
  private readonly rom: Uint8Array | null;
  private readonly romBarSize: number;
  private readonly hasMmioBar: boolean;
  /** MMIO handler of the legacy window (0xA0000-0xBFFFF, absolute addresses); attach() registers it. */
  readonly window: MmioHandler;
  private memory: GuestMemory | null = null;
  private vramBacking = -1;
  private romBacking = -1;
  private readonly mapped = new Map<number, BarMapping>();
  private alias: WindowAlias | null = null;
  private windowRemaps = 0;
  private readonly lfbHandler: MmioHandler;
  private readonly romHandler: MmioHandler;
  private readonly qextHandler: MmioHandler;

  constructor(options: StdVgaOptions) {
    const mmioBar = options.mmioBar ?? true;
    super('vga', {
      vendor: STDVGA_VENDOR,
      device: STDVGA_DEVICE,
      // QEMU reports revision 2 when the MMIO BAR is present.
      revision: mmioBar ? 2 : 0,
      classCode: 0x03,
      subclass: 0x00,
      progIf: 0x00,
      subsystemVendor: STDVGA_SUBSYSTEM_VENDOR,
      subsystemId: STDVGA_SUBSYSTEM_ID,
    });
    const vramSize = options.vramSize ?? DEFAULT_VRAM_BYTES;
    if (!isPowerOfTwo(vramSize) || vramSize < 1 << 20 || vramSize > 256 << 20) {
      throw new BadInputError(`VGA memory must be a power of two from 1 to 256 MiB; got ${vramSize} bytes`, { vramSize });
    }
    const bios = options.vgaBios;
    if (bios !== undefined && (bios.length < 512 || bios[0] !== 0x55 || bios[1] !== 0xaa)) {
      throw new BadInputError('the VGA BIOS image is not an option ROM (no 55 AA signature)', { bytes: bios.length });
    }
    this.clock = options.clock;
    this.vramSize = vramSize;
    this.hasMmioBar = mmioBar;
    this.mem = new VgaMemory(this.regs, vramSize);
    this.dispi = new Dispi(this.regs, this.mem);
    this.renderer = new VgaRenderer(this.regs, this.mem, this.dispi, this.clock);
    this.rom = bios === undefined ? null : bios.slice();
    let romBarSize = 0;
    if (this.rom !== null) {
      romBarSize = PAGE_SIZE;
      while (romBarSize < this.rom.length) romBarSize *= 2;
    }
    this.romBarSize = romBarSize;
    this.backingBytes = vramSize + romBarSize;

    this.defineBar(0, { kind: 'mem32-prefetch', size: vramSize });
    if (mmioBar) this.defineBar(2, { kind: 'mem32', size: MMIO_BAR_SIZE });
    if (this.rom !== null) this.defineBar(6, { kind: 'mem32', size: romBarSize });

    this.window = {
      mmioRead: (addr, size) => this.windowRead(addr - WINDOW_BASE, size),
      mmioWrite: (addr, size, value) => this.windowWrite(addr - WINDOW_BASE, size, value),
    };
    this.lfbHandler = {
      mmioRead: (addr, size) => this.lfbRead(addr, size),
      mmioWrite: (addr, size, value) => this.lfbWrite(addr, size, value),
    };
    this.romHandler = {
      mmioRead: (addr, size) => this.romRead(addr, size),
      mmioWrite: () => {},
    };
    this.qextHandler = {
      mmioRead: (addr, size) => this.qextRead(addr - this.barAddress(2), size),
      mmioWrite: (addr, size, value) => this.qextWrite(addr - this.barAddress(2), size, value),
    };
  }

  // Wiring -----------------------------------------------------------------------------------

  /**
   * Claim the legacy ports (0x3B0-0x3DF, DISPI 0x1CE-0x1D0) and the 0xA0000-0xBFFFF window,
   * and (by default) move VRAM and the ROM image into guest memory's reserved area.
   */
  attach(memory: GuestMemory, io: IoBus, options: AttachOptions = {}): void {
    if (this.memory !== null) throw new EmulatorError('INTERNAL', 'vga: attach() called twice');
    this.memory = memory;
    io.register(VGA_PORT_BASE, VGA_PORT_COUNT, this, 'vga');
    io.register(VBE_PORT_INDEX, 3, this, 'vga');
    memory.registerMmio(WINDOW_BASE, WINDOW_SIZE, this.window, 'vga');
    if (options.vramInGuestMemory ?? true) {
      this.vramBacking = memory.allocate(this.vramSize, 'vga vram');
      this.mem.relocate(new Uint8Array(memory.buffer, this.vramBacking, this.vramSize));
    }
    if (this.rom !== null) {
      this.romBacking = memory.allocate(this.romBarSize, 'vga rom');
      memory.u8.set(this.rom, this.romBacking);
    }
    if (options.mapBars === true) this.onBarChange = (bar, base) => this.mapBar(bar, base);
    this.updateWindow();
  }

  /** BAR access for the PCI bus: BAR0 VRAM and BAR6 ROM as backing memory when attached, else MMIO. */
  barHandlers(): VgaBarHandlers {
    return {
      mmio: (bar) => this.barMmio(bar),
      backing: (bar) => this.barBacking(bar),
    };
  }

  private barBacking(bar: number): { offset: number; writable: boolean } | null {
    if (bar === 0 && this.vramBacking >= 0) return { offset: this.vramBacking, writable: true };
    if (bar === 6 && this.romBacking >= 0) return { offset: this.romBacking, writable: false };
    return null;
  }

  private barMmio(bar: number): MmioHandler | null {
    if (bar === 0) return this.lfbHandler;
    if (bar === 2 && this.hasMmioBar) return this.qextHandler;
    if (bar === 6 && this.rom !== null) return this.romHandler;
    return null;
  }

  /**
   * Map BAR `bar` at `base` (-1: unmap) in the attached guest memory. attach({ mapBars: true })
   * calls this from onBarChange; call it yourself from your own listener otherwise. BARs
   * that would cover RAM or anything else already mapped, or leave 32-bit space, are not mapped.
   */
  mapBar(bar: number, base: number): void {
    const memory = this.memory;
    if (memory === null) throw new EmulatorError('INTERNAL', 'vga: mapBar() before attach()');
    const old = this.mapped.get(bar);
    if (old !== undefined) {
      if (old.mmio) memory.unregisterMmio(old.base, old.size);
      else memory.unmap(old.base, old.size);
      this.mapped.delete(bar);
    }
    const spec = this.bars.get(bar);
    if (base < 0 || spec === undefined) return;
    const size = Math.ceil(spec.size / PAGE_SIZE) * PAGE_SIZE;
    if (base % PAGE_SIZE !== 0 || base < memory.ramBytes || base + size > 0x100000000) return;
    // Pages something else decodes (firmware, another BAR) stay with it.
    for (let p = base; p < base + size; p += PAGE_SIZE) if ((memory.pageMap[p >>> 12] & PAGE_KIND_MASK) !== PAGE_UNMAPPED) return;
    const backing = this.barBacking(bar);
    if (backing !== null) {
      memory.mapBacking(base, size, backing.offset, backing.writable ? PAGE_RAM : PAGE_ROM);
      this.mapped.set(bar, { base, size, mmio: false });
      return;
    }
    const mmio = this.barMmio(bar);
    if (mmio === null) return;
    memory.registerMmio(base, size, mmio, `vga BAR${bar}`);
    this.mapped.set(bar, { base, size, mmio: true });
  }

  /**
   * With VRAM in guest memory, a chain-4 window writing all planes is plain bytes of VRAM:
   * map it as RAM (as QEMU does) so mode 13h and banked DISPI writes skip MMIO entirely.
   */
  private updateWindow(): void {
    const memory = this.memory;
    if (memory === null || this.vramBacking < 0) return;
    let want: WindowAlias | null = null;
    const regs = this.regs;
    if (this.windowRemaps < MAX_WINDOW_REMAPS && (regs.seq[SR_MEMORY_MODE] & SR04_CHAIN4) !== 0 && (regs.seq[SR_MAP_MASK] & 0x0f) === 0x0f) {
      switch ((regs.gc[GR_MISC] >> 2) & 3) {
        case 0:
          want = { base: WINDOW_BASE, size: WINDOW_SIZE, offset: 0 };
          break;
        case 1:
          want = { base: WINDOW_BASE, size: 0x10000, offset: this.mem.bankOffset };
          break;
        case 2:
          want = { base: 0xb0000, size: 0x8000, offset: 0 };
          break;
        default:
          want = { base: 0xb8000, size: 0x8000, offset: 0 };
      }
      if (want.offset + want.size > this.vramSize) want = null;
    }
    const cur = this.alias;
    if (cur === null && want === null) return;
    if (cur !== null && want !== null && cur.base === want.base && cur.size === want.size && cur.offset === want.offset) return;
    if (cur !== null && (want === null || cur.base !== want.base || cur.size !== want.size)) {
      // Give the window back to the MMIO handler before (maybe) aliasing another part.
      memory.registerMmio(WINDOW_BASE, WINDOW_SIZE, this.window, 'vga');
      this.windowRemaps++;
    }
    if (want !== null) memory.mapBacking(want.base, want.size, this.vramBacking + want.offset, PAGE_RAM);
    this.alias = want;
  }

  // Port I/O ---------------------------------------------------------------------------------

  ioRead(port: number, size: AccessSize): number {
    if (port >= VBE_PORT_INDEX && port <= VBE_PORT_DATA_ALIAS) return this.dispiRead(port, size);
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte(port + i) << (i * 8);
    return v >>> 0;
  }

  ioWrite(port: number, size: AccessSize, value: number): void {
    if (port >= VBE_PORT_INDEX && port <= VBE_PORT_DATA_ALIAS) {
      this.dispiWrite(port, size, value);
      return;
    }
    // A word write to an index port sets index and data at once (out dx, ax).
    for (let i = 0; i < size; i++) this.writeByte(port + i, (value >>> (i * 8)) & 0xff);
  }

  private readByte(port: number): number {
    if (port === PORT_STATUS1_COLOR || port === PORT_STATUS1_MONO) {
      if (this.regs.colorMode !== (port === PORT_STATUS1_COLOR)) return 0xff;
      this.regs.resetFlipFlop();
      return this.timing.status1(this.regs, this.clock.now());
    }
    if (port < VGA_PORT_BASE || port >= VGA_PORT_BASE + VGA_PORT_COUNT) return 0xff;
    return this.regs.readPort(port);
  }

  private writeByte(port: number, value: number): void {
    if (port < VGA_PORT_BASE || port >= VGA_PORT_BASE + VGA_PORT_COUNT) return;
    const changed = this.regs.writePort(port, value);
    if ((changed & CHANGED_TIMING) !== 0) this.timing.invalidate();
    if ((changed & CHANGED_MEMORY_MODE) !== 0) this.updateWindow();
  }

  private dispiRead(port: number, size: AccessSize): number {
    if (port === VBE_PORT_INDEX) {
      if (size === 4) return (this.dispi.index | (this.dispi.readData() << 16)) >>> 0;
      return this.dispi.index & (size === 1 ? 0xff : 0xffff);
    }
    return this.dispi.readData() & (size === 1 ? 0xff : 0xffff);
  }

  private dispiWrite(port: number, size: AccessSize, value: number): void {
    if (port === VBE_PORT_INDEX) {
      this.dispi.index = value & 0xffff;
      // A dword at 0x1CE also reaches the data alias at 0x1D0.
      if (size === 4) this.dispiData(value >>> 16);
      return;
    }
    this.dispiData(value & 0xffff);
  }

  private dispiData(value: number): void {
    this.dispi.writeData(value);
    this.timing.vbeLines = this.dispi.enabled ? this.dispi.yres : 0;
    this.timing.invalidate();
    this.updateWindow();
  }

  // Memory -----------------------------------------------------------------------------------

  /** Legacy window access; `off` is relative to 0xA0000. */
  private windowRead(off: number, size: AccessSize): number {
    const m = this.mem;
    if (size === 1) return m.read(off);
    let v = 0;
    for (let i = 0; i < size; i++) v |= m.read(off + i) << (i * 8);
    return v >>> 0;
  }

  private windowWrite(off: number, size: AccessSize, value: number): void {
    const m = this.mem;
    if (size === 1) {
      m.write(off, value & 0xff);
      return;
    }
    for (let i = 0; i < size; i++) m.write(off + i, (value >>> (i * 8)) & 0xff);
  }

  private lfbRead(addr: number, size: AccessSize): number {
    const vram = this.mem.vram;
    const o = addr - this.barAddress(0);
    let v = 0;
    for (let i = 0; i < size; i++) v |= vram[(o + i) & this.mem.byteMask] << (i * 8);
    return v >>> 0;
  }

  private lfbWrite(addr: number, size: AccessSize, value: number): void {
    const vram = this.mem.vram;
    const o = addr - this.barAddress(0);
    for (let i = 0; i < size; i++) vram[(o + i) & this.mem.byteMask] = value >>> (i * 8);
  }

  private romRead(addr: number, size: AccessSize): number {
    const rom = this.rom;
    if (rom === null) return 0xffffffff;
    const o = addr - this.barAddress(6);
    let v = 0;
    for (let i = 0; i < size; i++) v |= (o + i < rom.length ? rom[o + i] : 0) << (i * 8);
    return v >>> 0;
  }

  /** BAR2: EDID (none), VGA ports at 0x400, DISPI registers at 0x500, qext at 0x600. */
  private qextRead(off: number, size: AccessSize): number {
    if (off < MMIO_EDID_END) return 0;
    if (off < MMIO_VGA_PORTS + 0x20) {
      let v = 0;
      for (let i = 0; i < size && off + i < MMIO_VGA_PORTS + 0x20; i++) v |= this.readByte(0x3c0 + off - MMIO_VGA_PORTS + i) << (i * 8);
      return v >>> 0;
    }
    if (off >= MMIO_DISPI && off < MMIO_DISPI + 2 * (VBE_REG_COUNT + 1)) {
      // As QEMU does, a register access through MMIO also selects that index.
      this.dispi.index = (off - MMIO_DISPI) >>> 1;
      return this.dispi.readData();
    }
    if (off === MMIO_QEXT) return QEXT_SIZE;
    if (off === MMIO_QEXT + 4) return QEXT_LITTLE_ENDIAN;
    return 0;
  }

  private qextWrite(off: number, size: AccessSize, value: number): void {
    if (off >= MMIO_VGA_PORTS && off < MMIO_VGA_PORTS + 0x20) {
      for (let i = 0; i < size && off + i < MMIO_VGA_PORTS + 0x20; i++) this.writeByte(0x3c0 + off - MMIO_VGA_PORTS + i, (value >>> (i * 8)) & 0xff);
      return;
    }
    if (off >= MMIO_DISPI && off < MMIO_DISPI + 2 * (VBE_REG_COUNT + 1)) {
      this.dispi.index = (off - MMIO_DISPI) >>> 1;
      this.dispiData(value & 0xffff);
    }
    // The framebuffer byte order register only accepts little endian, which it already is.
  }

  // Display ----------------------------------------------------------------------------------

  /** Bring the frame up to date; returns its size and the areas that changed since last time. */
  render(): RenderResult {
    return this.renderer.render();
  }

  /** The changes since the previous call as ScreenUpdates for MachineListener.screenUpdate. */
  screenUpdates(): ScreenUpdate[] {
    return this.renderer.screenUpdates();
  }

  /** The frame render() draws into (replaced by a new one when the size changes). */
  get frame(): Frame {
    return this.renderer.frame;
  }

  /** A copy of the whole screen. */
  screenshot(): Screenshot {
    return this.renderer.screenshot();
  }

  /** The whole screen as one ScreenUpdate (for Machine.screenshot()). */
  screenshotUpdate(): ScreenUpdate {
    const s = this.renderer.screenshot();
    return { width: s.width, height: s.height, x: 0, y: 0, w: s.width, h: s.height, rgba: s.rgba };
  }

  /** Characters and attributes on a text-mode screen; null in graphics modes. */
  textScreen(): TextScreen | null {
    if (this.dispi.enabled || (this.regs.gc[GR_MISC] & 1) !== 0) return null;
    return readTextScreen(this.regs, this.mem);
  }

  /** Guest ns per displayed frame in the current mode (70 Hz text, 60 Hz mode 12h, ...). */
  frameDuration(): number {
    return this.timing.frameDuration(this.regs);
  }

  // Device -----------------------------------------------------------------------------------

  /** Power-on state. VRAM keeps its contents, as on hardware; PCI decoding is turned off. */
  reset(): void {
    this.regs.reset();
    this.dispi.reset();
    this.mem.latch = 0;
    this.timing.vbeLines = 0;
    this.timing.invalidate();
    this.renderer.invalidate();
    this.resetConfig();
    this.updateWindow();
  }

  save(): DeviceState {
    const vram = this.mem.vram;
    return {
      version: STATE_VERSION,
      regs: this.regs.save(),
      dispi: this.dispi.save(),
      latch: this.mem.latch >>> 0,
      config: Array.from(this.config),
      vram: this.vramInState
        ? { size: this.vramSize, encoding: 'deflate-base64', data: deflateSync(vram, { level: 1 }).toString('base64') }
        : null,
    };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(STATE_VERSION);
    const applyRegs = VgaRegisters.parse(r.obj('regs'));
    const applyDispi = Dispi.parse(r.obj('dispi'), this.vramSize);
    const latch = r.int('latch', 0, 0xffffffff);
    const config = r.ints('config', 0, 0xff, 256);
    let vram: Uint8Array | null = null;
    if (state.vram !== null) {
      const v: StateReader = r.obj('vram');
      if (v.int('size', 0, 0xffffffff) !== this.vramSize) v.fail('size', `does not match this adapter's ${this.vramSize} bytes of VRAM`);
      v.str('encoding', ['deflate-base64']);
      const data = (state.vram as { data?: unknown }).data;
      if (typeof data !== 'string') v.fail('data', 'must be a base64 string');
      try {
        vram = new Uint8Array(inflateSync(Buffer.from(data, 'base64'), { maxOutputLength: this.vramSize }));
      } catch {
        v.fail('data', 'is not deflated VRAM');
      }
      if (vram.length !== this.vramSize) v.fail('data', `inflates to ${vram.length} bytes, not ${this.vramSize}`);
    }
    // Everything validated: apply.
    applyRegs(this.regs);
    applyDispi(this.dispi);
    this.mem.latch = latch | 0;
    if (vram !== null) this.mem.vram.set(vram);
    for (let i = 0; i < 256; i++) {
      // Identity and read-only bits stay this adapter's own.
      const wm = this.writeMask[i];
      this.config[i] = (this.config[i] & ~wm) | (config[i] & wm);
    }
    this.timing.vbeLines = this.dispi.enabled ? this.dispi.yres : 0;
    this.timing.invalidate();
    this.renderer.invalidate();
    this.updateBars();
    this.updateWindow();
  }
}
