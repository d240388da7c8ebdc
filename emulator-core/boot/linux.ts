/**
 * Direct Linux boot per the x86 boot protocol (Documentation/arch/x86/boot.rst): check the
 * bzImage setup header, place the protected-mode kernel at 1 MiB, build boot_params (the
 * "zero page") with the e820 map and command line, place the initrd as high as the kernel
 * allows, and describe the 32-bit entry state (flat segments from a small GDT, ESI =
 * boot_params, paging off, interrupts off).
 */
import { randomFillSync } from 'node:crypto';
import { BadInputError } from '../errors.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { pcMemoryMap, type E820Entry } from './e820.js';

/** Where the loader puts its structures (all below 640 KiB, away from the kernel). */
export const BOOT_GDT_ADDR = 0x1000;
export const BOOT_PARAMS_ADDR = 0x7000;
export const CMDLINE_ADDR = 0x20000;
export const CMDLINE_MAX = 0x10000;
/** setup_data list (RNG seed) just after boot_params. */
export const SETUP_DATA_ADDR = 0x8000;
const SETUP_RNG_SEED = 9;
export const KERNEL_LOAD_ADDR = 0x100000;

/** Selectors the protocol requires: __BOOT_CS and __BOOT_DS. */
export const BOOT_CS = 0x10;
export const BOOT_DS = 0x18;

export interface LinuxImage {
  /** Setup header protocol version, e.g. 0x020f. */
  protocol: number;
  setupBytes: number;
  /** The protected-mode part of the image. */
  payload: Uint8Array;
  /** Highest address the initrd may end at (inclusive). */
  initrdAddrMax: number;
  cmdlineMax: number;
  /** Memory the kernel needs from its load address while decompressing. */
  initSize: number;
  /** Byte 0x1f1..: the setup header to copy into boot_params. */
  header: Uint8Array;
  /** Supports the 64-bit entry point (XLF_KERNEL_64). */
  kernel64: boolean;
  version: string;
}

function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** Parse and check a bzImage; throws BadInputError with a one-line reason. */
export function parseBzImage(file: Uint8Array, name: string): LinuxImage {
  if (file.length < 0x264) throw new BadInputError(`${name} is not a Linux kernel: only ${file.length} bytes`);
  const magic = String.fromCharCode(file[0x202], file[0x203], file[0x204], file[0x205]);
  if (magic !== 'HdrS' || u16(file, 0x1fe) !== 0xaa55) {
    throw new BadInputError(`${name} is not a bzImage: no Linux boot-protocol header (HdrS)`);
  }
  const protocol = u16(file, 0x206);
  if (protocol < 0x0206) {
    throw new BadInputError(`${name} uses boot protocol ${(protocol >> 8).toString()}.${(protocol & 0xff).toString().padStart(2, '0')}; 2.06 or newer is required`);
  }
  const loadflags = file[0x211];
  if ((loadflags & 1) === 0) throw new BadInputError(`${name} is a zImage (loads low); only bzImage kernels are supported`);
  let setupSects = file[0x1f1];
  if (setupSects === 0) setupSects = 4;
  const setupBytes = (setupSects + 1) * 512;
  if (setupBytes >= file.length) throw new BadInputError(`${name} is truncated: the setup code claims ${setupBytes} bytes`);
  const headerEnd = 0x202 + file[0x201];
  const versionPtr = u16(file, 0x20e);
  let version = '';
  if (versionPtr !== 0 && versionPtr + 0x200 < setupBytes) {
    for (let i = versionPtr + 0x200; i < setupBytes && file[i] !== 0 && version.length < 128; i++) version += String.fromCharCode(file[i]);
  }
  return {
    protocol,
    setupBytes,
    payload: file.subarray(setupBytes),
    initrdAddrMax: u32(file, 0x22c),
    cmdlineMax: protocol >= 0x0206 ? u32(file, 0x238) : 255,
    initSize: protocol >= 0x020a ? u32(file, 0x260) : file.length * 4,
    header: file.slice(0x1f1, headerEnd),
    kernel64: protocol >= 0x020c && (u16(file, 0x236) & 1) !== 0,
    version,
  };
}

export interface LinuxBootPlan {
  /** 32-bit entry point (code32_start). */
  entry32: number;
  bootParams: number;
  gdt: number;
  initrdAddr: number;
  initrdSize: number;
  e820: E820Entry[];
}

export interface LinuxLoadOptions {
  kernelName: string;
  initrd?: Uint8Array;
  initrdName?: string;
  cmdline: string;
}

/** Load kernel, initrd, command line and boot_params into guest memory. */
export function loadLinux(mem: GuestMemory, kernel: Uint8Array, options: LinuxLoadOptions): LinuxBootPlan {
  const image = parseBzImage(kernel, options.kernelName);
  const ram = mem.ramBytes;
  const kernelEnd = KERNEL_LOAD_ADDR + Math.max(image.payload.length, image.initSize);
  if (kernelEnd > ram) {
    throw new BadInputError(
      `${Math.ceil(ram / 1048576)} MiB of guest memory is too small for ${options.kernelName}: it needs at least ${Math.ceil(kernelEnd / 1048576)} MiB`,
    );
  }
  const cmdline = new TextEncoder().encode(options.cmdline);
  const cmdMax = Math.min(image.cmdlineMax, CMDLINE_MAX - 1);
  if (cmdline.length > cmdMax) {
    throw new BadInputError(`kernel command line is ${cmdline.length} bytes; ${options.kernelName} accepts at most ${cmdMax}`);
  }

  mem.writeBytes(KERNEL_LOAD_ADDR, image.payload);
  mem.writeBytes(CMDLINE_ADDR, new Uint8Array(CMDLINE_MAX));
  mem.writeBytes(CMDLINE_ADDR, cmdline);

  // The initrd goes as high as allowed: below the end of RAM and initrd_addr_max, page aligned.
  let initrdAddr = 0;
  let initrdSize = 0;
  if (options.initrd !== undefined) {
    initrdSize = options.initrd.length;
    const top = Math.min(ram, image.initrdAddrMax + 1);
    initrdAddr = Math.floor((top - initrdSize) / 4096) * 4096;
    if (initrdAddr < kernelEnd) {
      throw new BadInputError(
        `${Math.ceil(ram / 1048576)} MiB of guest memory is too small for the kernel and a ${Math.ceil(initrdSize / 1048576)} MiB initrd (${options.initrdName ?? 'initrd'})`,
      );
    }
    mem.writeBytes(initrdAddr, options.initrd);
  }

  // boot_params: zeroed, setup header copied in, then the loader's fields.
  const bp = new Uint8Array(4096);
  bp.set(image.header, 0x1f1);
  const dv = new DataView(bp.buffer);
  dv.setUint8(0x210, 0xff); // type_of_loader: undefined loader
  dv.setUint8(0x211, bp[0x211] | 0x80); // loadflags: CAN_USE_HEAP
  dv.setUint16(0x224, 0xde00, true); // heap_end_ptr
  dv.setUint32(0x228, CMDLINE_ADDR, true); // cmd_line_ptr
  dv.setUint32(0x218, initrdAddr, true); // ramdisk_image
  dv.setUint32(0x21c, initrdSize, true); // ramdisk_size
  // Legacy memory sizes: ext_mem_k and alt_mem_k (KiB above 1 MiB).
  const extKb = Math.floor((ram - 0x100000) / 1024);
  dv.setUint16(0x002, Math.min(extKb, 0xffff), true);
  dv.setUint32(0x1e0, extKb, true);
  // screen_info: an 80x25 VGA text console, even if no display is attached.
  dv.setUint8(0x06, 3); // orig_video_mode
  dv.setUint8(0x07, 80); // orig_video_cols
  dv.setUint8(0x0e, 25); // orig_video_lines
  dv.setUint8(0x0f, 1); // orig_video_isVGA
  dv.setUint16(0x10, 16, true); // orig_video_points
  const e820 = pcMemoryMap(ram);
  dv.setUint8(0x1e8, e820.length);
  e820.forEach((e, i) => {
    const o = 0x2d0 + i * 20;
    dv.setUint32(o, e.addr, true);
    dv.setUint32(o + 4, 0, true);
    dv.setUint32(o + 8, e.size % 0x100000000, true);
    dv.setUint32(o + 12, Math.floor(e.size / 0x100000000), true);
    dv.setUint32(o + 16, e.type, true);
  });
  // An RNG seed from the host (protocol 2.09+ setup_data), as QEMU passes: without it a
  // kernel lacking RDRAND spends a long time gathering jitter entropy before crng is ready.
  if (image.protocol >= 0x0209) {
    const sd = new Uint8Array(16 + 32);
    const sv = new DataView(sd.buffer);
    sv.setUint32(8, SETUP_RNG_SEED, true);
    sv.setUint32(12, 32, true);
    randomFillSync(sd.subarray(16));
    mem.writeBytes(SETUP_DATA_ADDR, sd);
    dv.setUint32(0x250, SETUP_DATA_ADDR, true);
    dv.setUint32(0x254, 0, true);
  }
  mem.writeBytes(BOOT_PARAMS_ADDR, bp);

  // GDT: null, null, __BOOT_CS (flat 32-bit code), __BOOT_DS (flat data).
  const gdt = new Uint8Array(32);
  const gv = new DataView(gdt.buffer);
  gv.setUint32(16, 0x0000ffff, true);
  gv.setUint32(20, 0x00cf9a00, true);
  gv.setUint32(24, 0x0000ffff, true);
  gv.setUint32(28, 0x00cf9200, true);
  mem.writeBytes(BOOT_GDT_ADDR, gdt);

  const code32Start = u32(bp, 0x214);
  return {
    entry32: code32Start === 0 ? KERNEL_LOAD_ADDR : code32Start,
    bootParams: BOOT_PARAMS_ADDR,
    gdt: BOOT_GDT_ADDR,
    initrdAddr,
    initrdSize,
    e820,
  };
}
