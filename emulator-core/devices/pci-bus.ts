/**
 * PCI bus 0 of an i440FX PC: configuration mechanism #1 (CONFIG_ADDRESS at 0xCF8, data at
 * 0xCFC-0xCFF, any access size), the PIIX reset control register at 0xCF9, BAR decoding
 * into the port bus and guest memory, and INTx lines routed through the ISA bridge's
 * PIRQ registers.
 *
 * A function's BARs reach its device through the handlers given to add(): a port handler
 * for I/O BARs, an MMIO handler or a piece of backing memory (VRAM, a ROM image) for
 * memory BARs. Whenever the guest moves a BAR or toggles decoding in the command
 * register, the old range is released and the new one claimed. Ranges that would cover
 * RAM or another device's ports are left to their owner (as DRAM and positive decoding
 * win on real boards), so a guest cannot knock out a legacy device by misprogramming a BAR.
 */
import type { AccessSize, IoBus, PortIoHandler } from '../bus/io-bus.js';
import type { BarSpec, PciFunction } from '../bus/pci.js';
import type { MachineControl } from '../machine/control.js';
import { PAGE_KIND_MASK, PAGE_ROM, PAGE_RAM, PAGE_SIZE, PAGE_UNMAPPED, type GuestMemory, type MmioHandler } from '../memory/guest-memory.js';
import { EmulatorError } from '../errors.js';
import type { Device, DeviceState } from './device.js';
import { StateReader } from './state.js';

/** How the bus reaches a function's BARs. Every member is optional. */
export interface PciBarHandlers {
  /** Port handler for I/O BAR n; it receives absolute port numbers. */
  io?(bar: number): PortIoHandler | null;
  /** MMIO handler for memory BAR n; it receives absolute physical addresses. */
  mmio?(bar: number): MmioHandler | null;
  /**
   * Memory BAR n backed directly by guest-memory backing bytes (VRAM, an option ROM):
   * the backing offset from GuestMemory.allocate()/mapRom(), and whether guest writes land.
   */
  backing?(bar: number): { offset: number; writable: boolean } | null;
}

/** One PCI interrupt pin of a function, as the device sees it. */
export interface PciIntx {
  set(high: boolean): void;
}

/** Where INTx pins end up: the ISA bridge's PIRQ router. */
export interface PirqSink {
  /** Source `source` drives PIRQ `pirq` (0..3, A..D) at `high`. */
  setPirq(pirq: number, source: number, high: boolean): void;
}

interface Slot {
  devfn: number;
  fn: PciFunction;
  handlers: PciBarHandlers;
}

interface Mapping {
  kind: 'io' | 'mmio' | 'backing';
  base: number;
  size: number;
}

export const PCI_CONFIG_ADDRESS = 0xcf8;
export const PCI_RESET_CONTROL = 0xcf9;
export const PCI_CONFIG_DATA = 0xcfc;

/** PIRQ that INTx pin (1 = INTA .. 4 = INTD) of device `dev` is wired to on the i440FX board. */
export function pirqOf(dev: number, pin: number): number {
  // The wiring QEMU's i440FX board uses and SeaBIOS's PIR table and IRQ setup assume.
  return (pin - 1 + dev - 1) & 3;
}

export class PciBus implements Device, PortIoHandler {
  readonly name = 'pci-bus';
  private readonly slots = new Map<number, Slot>();
  private readonly mappings = new Map<string, Mapping>();
  private address = 0;
  private resetControl = 0;
  pirqSink: PirqSink | null = null;
  private nextSource = 0;

  constructor(
    private readonly io: IoBus,
    private readonly memory: GuestMemory,
    private readonly control: MachineControl,
  ) {}

  /** Attach `fn` as device `dev`, function `func` of bus 0. */
  add(dev: number, func: number, fn: PciFunction, handlers: PciBarHandlers = {}): void {
    const devfn = (dev << 3) | func;
    if (dev < 0 || dev > 31 || func < 0 || func > 7) throw new EmulatorError('INTERNAL', `PCI ${fn.name}: no slot ${dev}.${func}`);
    if (this.slots.has(devfn)) throw new EmulatorError('INTERNAL', `PCI slot ${dev}.${func} is taken by ${this.slots.get(devfn)!.fn.name}`);
    const slot: Slot = { devfn, fn, handlers };
    this.slots.set(devfn, slot);
    const previous = fn.onBarChange;
    fn.onBarChange = (bar, base, spec) => {
      this.remap(slot, bar, base, spec);
      previous?.(bar, base, spec);
    };
    fn.updateBars();
  }

  /** The function at dev.func, or undefined. */
  functionAt(dev: number, func: number): PciFunction | undefined {
    return this.slots.get((dev << 3) | func)?.fn;
  }

  /** Every function on the bus, in slot order: what firmware enumerates. */
  functions(): { dev: number; func: number; fn: PciFunction }[] {
    return [...this.slots.values()].sort((a, b) => a.devfn - b.devfn).map((s) => ({ dev: s.devfn >> 3, func: s.devfn & 7, fn: s.fn }));
  }

  /** The INTx line of the function at dev.func (its pin from config space 0x3D). */
  intx(dev: number, func: number): PciIntx {
    const slot = this.slots.get((dev << 3) | func);
    if (slot === undefined) throw new EmulatorError('INTERNAL', `no PCI function at ${dev}.${func}`);
    const pin = slot.fn.config[0x3d];
    if (pin < 1 || pin > 4) throw new EmulatorError('INTERNAL', `PCI ${slot.fn.name} has no interrupt pin`);
    const pirq = pirqOf(dev, pin);
    const source = this.nextSource++;
    let level = false;
    return {
      set: (high: boolean): void => {
        if (high === level) return;
        level = high;
        this.pirqSink?.setPirq(pirq, source, high);
      },
    };
  }

  // Config mechanism #1 -------------------------------------------------------

  private target(): PciFunction | undefined {
    const a = this.address;
    if ((a & 0x80000000) === 0 || ((a >>> 16) & 0xff) !== 0) return undefined;
    return this.slots.get((a >>> 8) & 0xff)?.fn;
  }

  ioRead(port: number, size: AccessSize): number {
    if (port >= PCI_CONFIG_DATA) {
      const fn = this.target();
      const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
      if (fn === undefined) return mask;
      const offset = (this.address & 0xfc) + (port & 3);
      return (fn.configRead(offset, size) & mask) >>> 0;
    }
    if (port === PCI_CONFIG_ADDRESS && size === 4) return this.address >>> 0;
    if (port === PCI_RESET_CONTROL && size === 1) return this.resetControl;
    return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  ioWrite(port: number, size: AccessSize, value: number): void {
    if (port >= PCI_CONFIG_DATA) {
      const fn = this.target();
      if (fn === undefined) return;
      fn.configWrite((this.address & 0xfc) + (port & 3), size, value);
      return;
    }
    // Only dword accesses reach CONFIG_ADDRESS; byte accesses to 0xCF9 are the PIIX's
    // reset control register (Linux's reboot=pci).
    if (port === PCI_CONFIG_ADDRESS && size === 4) this.address = (value & 0x80fffffc) >>> 0;
    else if (port === PCI_RESET_CONTROL && size === 1) {
      const old = this.resetControl;
      this.resetControl = value & 0x0e;
      if ((value & 0x04) !== 0 && (old & 0x04) === 0) {
        this.resetControl &= ~0x04;
        this.control.requestReset('PCI reset control register (0xCF9)');
      }
    }
  }

  // BAR decoding ---------------------------------------------------------------

  private remap(slot: Slot, bar: number, base: number, spec: BarSpec): void {
    const key = `${slot.devfn}:${bar}`;
    const owner = `pci ${slot.fn.name} BAR${bar}`;
    const old = this.mappings.get(key);
    if (old !== undefined) {
      this.unmap(old, owner);
      this.mappings.delete(key);
    }
    if (base < 0) return;
    if (spec.kind === 'io') {
      const handler = slot.handlers.io?.(bar) ?? null;
      if (handler === null) return;
      const size = Math.min(spec.size, 0x10000 - base);
      // Ports another device owns stay with it.
      for (let p = base; p < base + size; p++) {
        const o = this.io.ownerOf(p);
        if (o === undefined || o === owner) this.io.register(p, 1, handler, owner);
      }
      this.mappings.set(key, { kind: 'io', base, size });
      return;
    }
    const size = Math.ceil(spec.size / PAGE_SIZE) * PAGE_SIZE;
    if (base % PAGE_SIZE !== 0 || base + size > 0x100000000 || !this.rangeFree(base, size)) return;
    const backing = slot.handlers.backing?.(bar) ?? null;
    if (backing !== null) {
      this.memory.mapBacking(base, size, backing.offset, backing.writable ? PAGE_RAM : PAGE_ROM);
      this.mappings.set(key, { kind: 'backing', base, size });
      return;
    }
    const mmio = slot.handlers.mmio?.(bar) ?? null;
    if (mmio === null) return;
    this.memory.registerMmio(base, size, mmio, owner);
    this.mappings.set(key, { kind: 'mmio', base, size });
  }

  /** A memory BAR may only claim pages nothing else (RAM, ROM, another BAR) decodes. */
  private rangeFree(base: number, size: number): boolean {
    if (base < this.memory.ramBytes) return false;
    for (let p = base; p < base + size; p += PAGE_SIZE) {
      if ((this.memory.pageMap[p >>> 12] & PAGE_KIND_MASK) !== PAGE_UNMAPPED) return false;
    }
    return true;
  }

  private unmap(m: Mapping, owner: string): void {
    if (m.kind === 'io') {
      for (let p = m.base; p < m.base + m.size; p++) if (this.io.ownerOf(p) === owner) this.io.unregister(p, 1);
    } else if (m.kind === 'mmio') {
      this.memory.unregisterMmio(m.base, m.size);
    } else {
      this.memory.unmap(m.base, m.size);
    }
  }

  // Device ---------------------------------------------------------------------

  reset(): void {
    this.address = 0;
    this.resetControl = 0;
  }

  save(): DeviceState {
    return { version: 1, address: this.address, resetControl: this.resetControl };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    const address = r.int('address', 0, 0xffffffff);
    const rc = r.int('resetControl', 0, 0xff);
    this.address = address;
    this.resetControl = rc;
  }
}
