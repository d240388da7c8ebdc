import type { AccessSize } from '../bus/io-bus.js';
import { EmulatorError, HostError } from '../errors.js';

/** A device's MMIO range. `addr` is the full physical address. */
export interface MmioHandler {
  mmioRead(addr: number, size: AccessSize): number;
  mmioWrite(addr: number, size: AccessSize, value: number): void;
}

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
/** Physical pages below 4 GiB. */
export const PHYS_PAGES = 1 << 20;

/** Kind of a physical page, in the low byte of a pageMap entry. */
export const PAGE_RAM = 0;
export const PAGE_ROM = 1;
export const PAGE_MMIO = 2;
export const PAGE_UNMAPPED = 3;
export const PAGE_KIND_MASK = 0xff;

/** Legacy VGA window: MMIO, never RAM. */
export const VGA_WINDOW_START = 0xa0000;
export const VGA_WINDOW_END = 0xc0000;
/** Largest RAM we place below the 32-bit PCI/firmware hole. */
export const MAX_LOW_RAM = 0xe0000000;

export interface GuestMemoryOptions {
  /** Back guest memory with a SharedArrayBuffer (needed when another thread runs a vCPU). */
  shared?: boolean;
  /** Bytes reserved after RAM for firmware ROM images and device memory (VRAM). */
  romBytes?: number;
  /**
   * Bytes reserved after the ROM area for the software CPUs' hot state and TLBs
   * (cpu/state-layout.ts: CPU_STATE_BYTES each), so compiled code reaches guest RAM and CPU
   * state through one memory. Defaults to room for one CPU.
   */
  stateBytes?: number;
}

/** Room for one software CPU's state block (cpu/state-layout.ts checks that it fits). */
export const DEFAULT_STATE_BYTES = 9 * 1024 * 1024;

/** The part of the WebAssembly.Memory API used here (the project's lib has no DOM types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
type WasmMemoryConstructor = new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;

/** The largest WebAssembly.Memory (wasm32): 65536 pages of 64 KiB. */
const WASM_MAX_BYTES = 65536 * 65536;

/**
 * One fixed-size WebAssembly.Memory: page aligned (KVM maps guest pages onto host pages;
 * plain SharedArrayBuffers are only 16-byte aligned), importable by generated wasm code, and
 * still an ordinary JavaScript allocation (Electron refuses buffers over foreign memory).
 * Never grown, so its address and its views stay valid. Sizes round up to 64 KiB pages.
 */
function fixedWasmMemory(bytes: number, shared: boolean): WasmMemory {
  const Memory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryConstructor } }).WebAssembly.Memory;
  const pages = Math.ceil(bytes / 65536);
  return new Memory({ initial: pages, maximum: pages, shared });
}

/** Why the physical map changed (for listeners such as the CPU's TLB or KVM slots). */
export interface MapChange {
  physStart: number;
  size: number;
}

/**
 * Guest physical memory. RAM and ROM images live in one backing buffer (so a KVM backend can
 * register it with the kernel, and an interpreter can index it directly); a page map says,
 * for every 4 KiB physical page below 4 GiB, whether it is RAM or ROM (and where in the
 * backing buffer it lives), MMIO, or nothing.
 *
 * pageMap entry: (backingPage << 8) | kind.
 */
export class GuestMemory {
  /** RAM, then ROM/device memory, then the CPUs' state area: compiled code imports it. */
  readonly wasm: WasmMemory;
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly ramBytes: number;
  readonly romBytes: number;
  readonly pageMap = new Int32Array(PHYS_PAGES);
  /** Non-zero for backing pages that hold code the software CPU has decoded. */
  readonly codePages: Uint8Array;
  /** Every software CPU's decode cache and JIT: told when a write lands on a page flagged in codePages. */
  private readonly codeWriteListeners: ((backingPage: number) => void)[] = [];
  /** Every software CPU's TLB: told when a page first becomes code, so no CPU keeps a direct-write translation to it. */
  private readonly newCodePageListeners: (() => void)[] = [];

  private readonly mmioIndex = new Int16Array(PHYS_PAGES).fill(-1);
  private readonly mmio: { start: number; end: number; handler: MmioHandler; name: string }[] = [];
  private romUsed = 0;
  /** Backing offset of the CPU state area and how much of it is claimed. */
  readonly stateBase: number;
  readonly stateBytes: number;
  private stateUsed = 0;
  private readonly mapListeners: ((change: MapChange) => void)[] = [];

  constructor(ramBytes: number, options: GuestMemoryOptions = {}) {
    if (ramBytes % PAGE_SIZE !== 0 || ramBytes <= 0 || ramBytes > MAX_LOW_RAM) {
      throw new EmulatorError('BAD_INPUT', `guest RAM must be a positive multiple of 4 KiB up to ${MAX_LOW_RAM / 1048576} MiB`, {
        ramBytes,
      });
    }
    const romBytes = options.romBytes ?? 0;
    this.ramBytes = ramBytes;
    this.romBytes = romBytes;
    this.stateBase = Math.ceil((ramBytes + romBytes) / PAGE_SIZE) * PAGE_SIZE;
    this.stateBytes = Math.ceil((options.stateBytes ?? DEFAULT_STATE_BYTES) / PAGE_SIZE) * PAGE_SIZE;
    const total = this.stateBase + this.stateBytes;
    if (total > WASM_MAX_BYTES) {
      throw new EmulatorError('BAD_INPUT', `guest RAM, ROM and CPU state need ${Math.round(total / 1048576)} MiB, more than the 4 GiB one memory can hold`, { ramBytes, romBytes });
    }
    try {
      this.wasm = fixedWasmMemory(total, options.shared === true);
      this.buffer = this.wasm.buffer;
    } catch (e) {
      throw new HostError(`the host refused ${Math.round(total / 1048576)} MiB for guest memory`, {
        bytes: total,
        reason: e instanceof Error ? e.message : String(e),
      });
    }
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer, 0, total >>> 1);
    this.i32 = new Int32Array(this.buffer, 0, total >>> 2);
    this.codePages = new Uint8Array(this.stateBase >>> PAGE_SHIFT);
    this.pageMap.fill(PAGE_UNMAPPED);
    for (let page = 0; page < ramBytes >>> PAGE_SHIFT; page++) this.pageMap[page] = (page << 8) | PAGE_RAM;
    for (let page = VGA_WINDOW_START >>> PAGE_SHIFT; page < VGA_WINDOW_END >>> PAGE_SHIFT; page++) {
      this.pageMap[page] = PAGE_UNMAPPED;
    }
  }

  /**
   * Claim `bytes` of the CPU state area (a CPU's registers and TLB, cpu/state-layout.ts);
   * returns the backing offset, page aligned. Guest physical addresses never map here.
   */
  claimState(bytes: number, name: string): number {
    const size = Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE;
    if (this.stateUsed + size > this.stateBytes) {
      throw new EmulatorError('INTERNAL', `${name}: no room for ${size} bytes of CPU state (reserve stateBytes: ${this.stateBytes - this.stateUsed} left)`);
    }
    const offset = this.stateBase + this.stateUsed;
    this.stateUsed += size;
    return offset;
  }

  /** Be told whenever a physical range is remapped (BARs moving, shadowing, ROMs). */
  onMapChange(listener: (change: MapChange) => void): void {
    this.mapListeners.push(listener);
  }

  private mapChanged(physStart: number, size: number): void {
    for (const l of this.mapListeners) l({ physStart, size });
  }

  /**
   * Reserve `size` bytes (page multiple) of the extra area for a device (e.g. VRAM) or a ROM;
   * returns the backing offset. Map it with mapBacking().
   */
  allocate(size: number, name: string): number {
    size = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    if (this.romUsed + size > this.romBytes) {
      throw new EmulatorError('INTERNAL', `${name}: no room for ${size} bytes of device memory (reserve romBytes)`);
    }
    const backing = this.ramBytes + this.romUsed;
    this.romUsed += size;
    return backing;
  }

  /**
   * Place a ROM image at `physStart` (page aligned). Its bytes are copied into the ROM part
   * of the backing buffer; guest writes to it are ignored. Returns the backing offset.
   */
  mapRom(physStart: number, image: Uint8Array, name: string): number {
    if (physStart % PAGE_SIZE !== 0) throw new EmulatorError('INTERNAL', `${name}: ROM must start on a page boundary`);
    const size = Math.ceil(image.length / PAGE_SIZE) * PAGE_SIZE;
    const backing = this.allocate(size, name);
    this.u8.set(image, backing);
    this.mapBacking(physStart, size, backing, PAGE_ROM);
    return backing;
  }

  /** Map `size` bytes at `physStart` onto backing bytes at `backingOffset` (RAM aliases, shadowing). */
  mapBacking(physStart: number, size: number, backingOffset: number, kind: typeof PAGE_RAM | typeof PAGE_ROM): void {
    const first = physStart >>> PAGE_SHIFT;
    const pages = size >>> PAGE_SHIFT;
    for (let i = 0; i < pages; i++) this.pageMap[first + i] = (((backingOffset >>> PAGE_SHIFT) + i) << 8) | kind;
    this.mapChanged(physStart, size);
  }

  /** Make a range read as all ones and ignore writes. */
  unmap(physStart: number, size: number): void {
    const first = physStart >>> PAGE_SHIFT;
    for (let i = 0; i < size >>> PAGE_SHIFT; i++) this.pageMap[first + i] = PAGE_UNMAPPED;
    this.mapChanged(physStart, size);
  }

  registerMmio(physStart: number, size: number, handler: MmioHandler, name: string): void {
    if (physStart % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0) {
      throw new EmulatorError('INTERNAL', `${name}: MMIO range must be page aligned`);
    }
    // Re-registering the same range for the same handler (a window flipping between an
    // MMIO and a RAM view) reuses its record instead of growing the table.
    let idx = this.mmio.findIndex((m) => m.handler === handler && m.start === physStart && m.end === physStart + size);
    if (idx < 0) {
      idx = this.mmio.length;
      if (idx > 0x7fff) throw new EmulatorError('INTERNAL', `${name}: too many MMIO registrations`);
      this.mmio.push({ start: physStart, end: physStart + size, handler, name });
    }
    const first = physStart >>> PAGE_SHIFT;
    for (let i = 0; i < size >>> PAGE_SHIFT; i++) {
      this.pageMap[first + i] = PAGE_MMIO;
      this.mmioIndex[first + i] = idx;
    }
    this.mapChanged(physStart, size);
  }

  /** Remove an MMIO registration (a BAR moving away); the range reads as unmapped. */
  unregisterMmio(physStart: number, size: number): void {
    const first = physStart >>> PAGE_SHIFT;
    for (let i = 0; i < size >>> PAGE_SHIFT; i++) {
      this.pageMap[first + i] = PAGE_UNMAPPED;
      this.mmioIndex[first + i] = -1;
    }
    this.mapChanged(physStart, size);
  }

  /** MMIO handler for a physical address, or null. */
  mmioAt(phys: number): MmioHandler | null {
    const idx = this.mmioIndex[phys >>> PAGE_SHIFT];
    return idx < 0 ? null : this.mmio[idx].handler;
  }

  /** Backing byte offset of a RAM/ROM physical address, or -1 for MMIO/unmapped. */
  backingOffset(phys: number): number {
    const e = this.pageMap[phys >>> PAGE_SHIFT];
    const kind = e & PAGE_KIND_MASK;
    if (kind !== PAGE_RAM && kind !== PAGE_ROM) return -1;
    return (e >>> 8) * PAGE_SIZE + (phys & (PAGE_SIZE - 1));
  }

  // General physical accesses (devices, DMA, loaders, the CPU's slow path).

  read8(phys: number): number {
    phys >>>= 0;
    const e = this.pageMap[phys >>> PAGE_SHIFT];
    const kind = e & PAGE_KIND_MASK;
    if (kind <= PAGE_ROM) return this.u8[(e >>> 8) * PAGE_SIZE + (phys & 0xfff)];
    if (kind === PAGE_MMIO) return this.mmioAt(phys)!.mmioRead(phys, 1) & 0xff;
    return 0xff;
  }

  read16(phys: number): number {
    phys >>>= 0;
    if ((phys & 0xfff) <= 0xffe) {
      const e = this.pageMap[phys >>> PAGE_SHIFT];
      const kind = e & PAGE_KIND_MASK;
      if (kind <= PAGE_ROM) {
        const o = (e >>> 8) * PAGE_SIZE + (phys & 0xfff);
        return this.u8[o] | (this.u8[o + 1] << 8);
      }
      if (kind === PAGE_MMIO) return this.mmioAt(phys)!.mmioRead(phys, 2) & 0xffff;
      return 0xffff;
    }
    return this.read8(phys) | (this.read8(phys + 1) << 8);
  }

  read32(phys: number): number {
    phys >>>= 0;
    if ((phys & 0xfff) <= 0xffc) {
      const e = this.pageMap[phys >>> PAGE_SHIFT];
      const kind = e & PAGE_KIND_MASK;
      if (kind <= PAGE_ROM) {
        const o = (e >>> 8) * PAGE_SIZE + (phys & 0xfff);
        if ((o & 3) === 0) return this.i32[o >>> 2];
        return this.u8[o] | (this.u8[o + 1] << 8) | (this.u8[o + 2] << 16) | (this.u8[o + 3] << 24);
      }
      if (kind === PAGE_MMIO) return this.mmioAt(phys)!.mmioRead(phys, 4) | 0;
      return -1;
    }
    return this.read16(phys) | (this.read16(phys + 2) << 16);
  }

  write8(phys: number, value: number): void {
    phys >>>= 0;
    const e = this.pageMap[phys >>> PAGE_SHIFT];
    const kind = e & PAGE_KIND_MASK;
    if (kind === PAGE_RAM) {
      const page = e >>> 8;
      if (this.codePages[page] !== 0) this.codeWritten(page);
      this.u8[page * PAGE_SIZE + (phys & 0xfff)] = value;
    } else if (kind === PAGE_MMIO) {
      this.mmioAt(phys)!.mmioWrite(phys, 1, value & 0xff);
    }
  }

  write16(phys: number, value: number): void {
    phys >>>= 0;
    if ((phys & 0xfff) <= 0xffe && (this.pageMap[phys >>> PAGE_SHIFT] & PAGE_KIND_MASK) === PAGE_MMIO) {
      this.mmioAt(phys)!.mmioWrite(phys, 2, value & 0xffff);
      return;
    }
    this.write8(phys, value);
    this.write8(phys + 1, value >>> 8);
  }

  write32(phys: number, value: number): void {
    phys >>>= 0;
    if ((phys & 0xfff) <= 0xffc) {
      const e = this.pageMap[phys >>> PAGE_SHIFT];
      const kind = e & PAGE_KIND_MASK;
      if (kind === PAGE_MMIO) {
        this.mmioAt(phys)!.mmioWrite(phys, 4, value >>> 0);
        return;
      }
      if (kind === PAGE_RAM) {
        const page = e >>> 8;
        if (this.codePages[page] !== 0) this.codeWritten(page);
        const o = page * PAGE_SIZE + (phys & 0xfff);
        if ((o & 3) === 0) this.i32[o >>> 2] = value;
        else {
          this.u8[o] = value;
          this.u8[o + 1] = value >>> 8;
          this.u8[o + 2] = value >>> 16;
          this.u8[o + 3] = value >>> 24;
        }
        return;
      }
      if (kind !== PAGE_ROM) return;
      return;
    }
    this.write16(phys, value);
    this.write16(phys + 2, value >>> 16);
  }

  /** Copy guest physical memory out (DMA reads, loaders, tests). */
  readBytes(phys: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const p = (phys + done) >>> 0;
      const chunk = Math.min(length - done, PAGE_SIZE - (p & 0xfff));
      const off = this.backingOffset(p);
      if (off >= 0) out.set(this.u8.subarray(off, off + chunk), done);
      else for (let i = 0; i < chunk; i++) out[done + i] = this.read8(p + i);
      done += chunk;
    }
    return out;
  }

  /** Copy into guest physical memory (DMA writes, loaders). ROM pages are left untouched. */
  writeBytes(phys: number, data: Uint8Array): void {
    for (let done = 0; done < data.length; ) {
      const p = (phys + done) >>> 0;
      const chunk = Math.min(data.length - done, PAGE_SIZE - (p & 0xfff));
      const e = this.pageMap[p >>> PAGE_SHIFT];
      if ((e & PAGE_KIND_MASK) === PAGE_RAM) {
        const page = e >>> 8;
        if (this.codePages[page] !== 0) this.codeWritten(page);
        this.u8.set(data.subarray(done, done + chunk), page * PAGE_SIZE + (p & 0xfff));
      } else {
        for (let i = 0; i < chunk; i++) this.write8(p + i, data[done + i]);
      }
      done += chunk;
    }
  }

  /** Write into the backing of a ROM or RAM page regardless of kind (firmware loaders). */
  loadInto(phys: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; ) {
      const p = (phys + i) >>> 0;
      const chunk = Math.min(data.length - i, PAGE_SIZE - (p & 0xfff));
      const off = this.backingOffset(p);
      if (off < 0) throw new EmulatorError('INTERNAL', `no memory at 0x${p.toString(16)} to load into`);
      this.u8.set(data.subarray(i, i + chunk), off);
      i += chunk;
    }
  }

  /** A write is about to land on backing page `page`, flagged in codePages. */
  codeWritten(page: number): void {
    const ls = this.codeWriteListeners;
    for (let i = 0; i < ls.length; i++) ls[i]!(page);
  }

  /** Hear about writes to code pages (each CPU: its decode cache, its JIT). */
  addCodeWriteListener(listener: (backingPage: number) => void): void {
    this.codeWriteListeners.push(listener);
  }

  /** Hear when a page first becomes code (each CPU drops its direct-write translations). */
  addNewCodePageListener(listener: () => void): void {
    this.newCodePageListeners.push(listener);
  }

  /**
   * Flag backing page `page` in codePages with `bit` (a decode cache or compiled code depends
   * on it). The first flag on a page makes every CPU drop the translations that let its
   * writes bypass the check, not only the CPU that decoded it.
   */
  flagCodePage(page: number, bit: number): void {
    const flags = this.codePages[page]!;
    if ((flags & bit) !== 0) return;
    this.codePages[page] = flags | bit;
    if (flags === 0) for (const l of this.newCodePageListeners) l();
  }
}
