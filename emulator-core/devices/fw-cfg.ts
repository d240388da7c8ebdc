/**
 * QEMU's firmware configuration interface (fw_cfg) on the PC's ports, as SeaBIOS reads it:
 * a 16-bit selector at 0x510, a byte-wide data port at 0x511, and the DMA interface at
 * 0x514 (a big-endian guest-physical address of a control block; writing its low half at
 * 0x518 starts the transfer). Items are numbered keys (signature, RAM size, CPU count)
 * and named files listed in the file directory (key 0x19): e820 map, boot order, option
 * ROMs, firmware settings. The guest reads items; writes are refused.
 */
import type { AccessSize, PortIoHandler } from '../bus/io-bus.js';
import { EmulatorError } from '../errors.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { Device, DeviceState } from './device.js';
import { StateReader } from './state.js';

export const FW_CFG_PORT_SEL = 0x510;
export const FW_CFG_PORT_DATA = 0x511;
export const FW_CFG_PORT_DMA = 0x514;

export const FW_CFG_SIGNATURE = 0x00;
export const FW_CFG_ID = 0x01;
export const FW_CFG_UUID = 0x02;
export const FW_CFG_RAM_SIZE = 0x03;
export const FW_CFG_NOGRAPHIC = 0x04;
export const FW_CFG_NB_CPUS = 0x05;
export const FW_CFG_MACHINE_ID = 0x06;
export const FW_CFG_BOOT_MENU = 0x0e;
export const FW_CFG_MAX_CPUS = 0x0f;
export const FW_CFG_FILE_DIR = 0x19;
export const FW_CFG_FILE_FIRST = 0x20;
/** x86: 1 when ISA IRQ0 (the timer) is wired to I/O APIC pin 2; SeaBIOS then puts that override in its MADT and MP table. */
export const FW_CFG_IRQ0_OVERRIDE = 0x8002;

/** FW_CFG_ID bits: the traditional port interface and the DMA interface. */
const ID_TRADITIONAL = 1;
const ID_DMA = 2;

// DMA control bits.
const DMA_ERROR = 1;
const DMA_READ = 2;
const DMA_SKIP = 4;
const DMA_SELECT = 8;
const DMA_WRITE = 0x10;

/** The DMA port's readback: "QEMU CFG" in big-endian. */
const DMA_SIGNATURE = new TextEncoder().encode('QEMU CFG');
const FILE_NAME_MAX = 56;

function bswap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** Little-endian integer of `bytes` bytes (what SeaBIOS's romfile_loadint reads). */
export function leInt(value: number, bytes: 2 | 4 | 8): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = value;
  for (let i = 0; i < bytes; i++) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

export class FwCfg implements Device, PortIoHandler {
  readonly name = 'fw-cfg';
  private readonly items = new Map<number, Uint8Array>();
  private readonly files: { name: string; key: number }[] = [];
  private selector = 0;
  private offset = 0;
  private current: Uint8Array | null = null;
  private dmaHigh = 0;
  /** DMA faults worth a log line (a control block outside RAM, writes). */
  onDiagnostic: ((line: string) => void) | null = null;

  constructor(private readonly memory: GuestMemory) {
    this.items.set(FW_CFG_SIGNATURE, new TextEncoder().encode('QEMU'));
    this.items.set(FW_CFG_ID, leInt(ID_TRADITIONAL | ID_DMA, 4));
    this.rebuildDirectory();
    this.select(0);
  }

  /** Set a numbered item. */
  setItem(key: number, data: Uint8Array): void {
    this.items.set(key, data);
    if (key === this.selector) this.current = data;
  }

  /** Add or replace a named file; returns its key. */
  addFile(name: string, data: Uint8Array): number {
    if (name.length === 0 || name.length >= FILE_NAME_MAX) throw new EmulatorError('INTERNAL', `fw_cfg file name "${name}" must have 1..55 characters`);
    let entry = this.files.find((f) => f.name === name);
    if (entry === undefined) {
      entry = { name, key: FW_CFG_FILE_FIRST + this.files.length };
      this.files.push(entry);
    }
    this.setItem(entry.key, data);
    this.rebuildDirectory();
    return entry.key;
  }

  /** The bytes of a named file, or undefined. */
  file(name: string): Uint8Array | undefined {
    const f = this.files.find((e) => e.name === name);
    return f === undefined ? undefined : this.items.get(f.key);
  }

  /** Directory: be32 count, then per file be32 size, be16 key, be16 reserved, name[56]. */
  private rebuildDirectory(): void {
    const sorted = [...this.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const dir = new Uint8Array(4 + sorted.length * 64);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, sorted.length);
    sorted.forEach((f, i) => {
      const o = 4 + i * 64;
      dv.setUint32(o, this.items.get(f.key)?.length ?? 0);
      dv.setUint16(o + 4, f.key);
      for (let k = 0; k < f.name.length; k++) dir[o + 8 + k] = f.name.charCodeAt(k) & 0xff;
    });
    this.setItem(FW_CFG_FILE_DIR, dir);
  }

  private select(key: number): void {
    this.selector = key & 0xffff;
    this.offset = 0;
    this.current = this.items.get(this.selector) ?? null;
  }

  private nextByte(): number {
    const c = this.current;
    if (c === null || this.offset >= c.length) return 0;
    return c[this.offset++]!;
  }

  ioRead(port: number, size: AccessSize): number {
    if (port === FW_CFG_PORT_DATA) {
      let v = 0;
      for (let i = 0; i < size; i++) v |= this.nextByte() << (i * 8);
      return v >>> 0;
    }
    if (port >= FW_CFG_PORT_DMA && port < FW_CFG_PORT_DMA + 8) {
      let v = 0;
      for (let i = 0; i < size && port - FW_CFG_PORT_DMA + i < 8; i++) v |= DMA_SIGNATURE[port - FW_CFG_PORT_DMA + i]! << (i * 8);
      return v >>> 0;
    }
    // The selector register is write-only.
    return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  ioWrite(port: number, size: AccessSize, value: number): void {
    if (port === FW_CFG_PORT_SEL) {
      this.select(size === 1 ? value & 0xff : value & 0xffff);
    } else if (port === FW_CFG_PORT_DMA && size === 4) {
      this.dmaHigh = bswap32(value);
    } else if (port === FW_CFG_PORT_DMA + 4 && size === 4) {
      const low = bswap32(value);
      const high = this.dmaHigh;
      this.dmaHigh = 0;
      if (high !== 0) {
        this.onDiagnostic?.(`fw_cfg: DMA control block above 4 GiB (0x${high.toString(16)}${low.toString(16).padStart(8, '0')}) ignored`);
        return;
      }
      this.dma(low);
    }
    // Writes through the data port are deprecated and refused, as in QEMU.
  }

  /** Run one DMA control block: { be32 control, be32 length, be64 address }. */
  private dma(addr: number): void {
    const m = this.memory;
    const control = bswap32(m.read32(addr));
    const length = bswap32(m.read32(addr + 4));
    const dataHigh = bswap32(m.read32(addr + 8));
    const dataLow = bswap32(m.read32(addr + 12));
    if ((control & DMA_SELECT) !== 0) this.select(control >>> 16);
    let status = 0;
    if ((control & DMA_WRITE) !== 0) {
      status = DMA_ERROR;
    } else if ((control & (DMA_READ | DMA_SKIP)) !== 0) {
      if (dataHigh !== 0 && (control & DMA_READ) !== 0) {
        status = DMA_ERROR;
      } else {
        const c = this.current;
        const avail = c === null ? 0 : Math.max(0, Math.min(length, c.length - this.offset));
        if ((control & DMA_READ) !== 0) {
          // Past the item's end the guest reads zeros.
          const out = new Uint8Array(length);
          if (c !== null && avail > 0) out.set(c.subarray(this.offset, this.offset + avail));
          m.writeBytes(dataLow, out);
        }
        this.offset += avail;
      }
    }
    m.write32(addr, bswap32(status));
  }

  reset(): void {
    this.select(0);
    this.dmaHigh = 0;
  }

  save(): DeviceState {
    return { version: 1, selector: this.selector, offset: this.offset, dmaHigh: this.dmaHigh };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    const selector = r.int('selector', 0, 0xffff);
    const offset = r.int('offset', 0, 0xffffffff);
    const dmaHigh = r.int('dmaHigh', 0, 0xffffffff);
    this.select(selector);
    this.offset = offset;
    this.dmaHigh = dmaHigh;
  }
}
