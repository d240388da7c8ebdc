/**
 * The Bochs VBE "DISPI" extension: 16-bit registers behind index/data ports 0x1CE/0x1CF
 * that select a linear framebuffer mode (resolution, depth, virtual size, panning, 64 KiB
 * bank for the A0000 window). SeaBIOS's VGA BIOS builds its VBE mode list on it; Linux's
 * bochs-drm and vesafb (through the BIOS) drive it too.
 *
 * Out-of-range values are clamped to the nearest usable setting, as QEMU does, because the
 * interface has no way to report an error to the guest.
 */
import {
  CR_H_DISP_END,
  CR_LINE_COMPARE,
  CR_MAX_SCAN,
  CR_MODE,
  CR_OFFSET,
  CR_OVERFLOW,
  CR_V_DISP_END,
  GR06_GRAPHICS,
  GR_MISC,
  GR_MODE,
  SR01_HALF_CLOCK,
  SR04_CHAIN4,
  SR_CLOCKING,
  SR_MAP_MASK,
  SR_MEMORY_MODE,
  VBE_8BIT_DAC,
  VBE_ENABLED,
  VBE_GETCAPS,
  VBE_ID0,
  VBE_ID5,
  VBE_INDEX_BANK,
  VBE_INDEX_BPP,
  VBE_INDEX_ENABLE,
  VBE_INDEX_ID,
  VBE_INDEX_VIDEO_MEMORY_64K,
  VBE_INDEX_VIRT_HEIGHT,
  VBE_INDEX_VIRT_WIDTH,
  VBE_INDEX_XRES,
  VBE_INDEX_X_OFFSET,
  VBE_INDEX_YRES,
  VBE_INDEX_Y_OFFSET,
  VBE_MAX_BPP,
  VBE_MAX_XRES,
  VBE_MAX_YRES,
  VBE_NOCLEARMEM,
  VBE_REG_COUNT,
} from './constants.js';
import type { VgaMemory } from './memory.js';
import type { VgaRegisters } from './registers.js';
import type { DeviceState } from '../device.js';
import type { StateReader } from '../state.js';

export class Dispi {
  index = 0;
  readonly regs = new Uint16Array(VBE_REG_COUNT);
  /** Bytes per scanline of the current mode (from VIRT_WIDTH and BPP). */
  lineOffset = 0;
  /** Byte offset in VRAM of the first displayed pixel (from X/Y_OFFSET). */
  startAddr = 0;

  constructor(
    private readonly vga: VgaRegisters,
    private readonly mem: VgaMemory,
  ) {
    this.reset();
  }

  get enabled(): boolean {
    return (this.regs[VBE_INDEX_ENABLE] & VBE_ENABLED) !== 0;
  }

  get bpp(): number {
    return this.regs[VBE_INDEX_BPP];
  }

  get xres(): number {
    return this.regs[VBE_INDEX_XRES];
  }

  get yres(): number {
    return this.regs[VBE_INDEX_YRES];
  }

  reset(): void {
    this.index = 0;
    this.regs.fill(0);
    this.regs[VBE_INDEX_ID] = VBE_ID5;
    this.lineOffset = 0;
    this.startAddr = 0;
    this.mem.bankOffset = 0;
  }

  readData(): number {
    const i = this.index;
    if (i < VBE_REG_COUNT) {
      if ((this.regs[VBE_INDEX_ENABLE] & VBE_GETCAPS) !== 0) {
        if (i === VBE_INDEX_XRES) return VBE_MAX_XRES;
        if (i === VBE_INDEX_YRES) return VBE_MAX_YRES;
        if (i === VBE_INDEX_BPP) return VBE_MAX_BPP;
      }
      return this.regs[i];
    }
    if (i === VBE_INDEX_VIDEO_MEMORY_64K) return Math.min(0xffff, this.mem.size >>> 16);
    return 0;
  }

  writeData(value: number): void {
    value &= 0xffff;
    const r = this.regs;
    switch (this.index) {
      case VBE_INDEX_ID:
        if (value >= VBE_ID0 && value <= VBE_ID5) r[VBE_INDEX_ID] = value;
        return;
      case VBE_INDEX_XRES:
      case VBE_INDEX_YRES:
      case VBE_INDEX_BPP:
      case VBE_INDEX_VIRT_WIDTH:
      case VBE_INDEX_X_OFFSET:
      case VBE_INDEX_Y_OFFSET:
        r[this.index] = value;
        this.fixup();
        return;
      case VBE_INDEX_BANK: {
        // In 4 bpp (planar) modes a bank is 64 KiB of each plane: 256 KiB of VRAM.
        const banks = this.mem.size >>> 16;
        const mask = (r[VBE_INDEX_BPP] === 4 ? banks >>> 2 : banks) - 1;
        r[VBE_INDEX_BANK] = value & mask;
        this.mem.bankOffset = (value & mask) << 16;
        return;
      }
      case VBE_INDEX_ENABLE:
        this.writeEnable(value);
        return;
      default:
        // VIRT_HEIGHT is derived from VRAM size; the rest does not exist.
        return;
    }
  }

  private writeEnable(value: number): void {
    const r = this.regs;
    if ((value & VBE_ENABLED) !== 0 && (r[VBE_INDEX_ENABLE] & VBE_ENABLED) === 0) {
      r[VBE_INDEX_VIRT_WIDTH] = 0;
      r[VBE_INDEX_X_OFFSET] = 0;
      r[VBE_INDEX_Y_OFFSET] = 0;
      r[VBE_INDEX_ENABLE] |= VBE_ENABLED;
      this.fixup();
      if ((value & VBE_NOCLEARMEM) === 0) {
        this.mem.vram.fill(0, 0, Math.min(this.mem.size, r[VBE_INDEX_YRES] * this.lineOffset));
      }
      this.programVga();
    } else if ((value & VBE_ENABLED) === 0) {
      this.mem.bankOffset = 0;
    }
    const dac8 = (value & VBE_8BIT_DAC) !== 0;
    if (dac8 !== this.vga.dac8bit) {
      this.vga.dac8bit = dac8;
      this.vga.paletteSerial++;
    }
    r[VBE_INDEX_ENABLE] = value;
  }

  /**
   * Put the VGA side into the state a DISPI mode implies (graphics, 64 KiB window, chain-4
   * for packed pixels), as the hardware's mode switch does; the BIOS adjusts it further.
   */
  private programVga(): void {
    const v = this.vga;
    const cr = v.crtc;
    v.gc[GR_MISC] = (v.gc[GR_MISC] & ~0x0c) | 0x04 | GR06_GRAPHICS;
    cr[CR_MODE] |= 3;
    cr[CR_OFFSET] = (this.lineOffset >>> 3) & 0xff;
    cr[CR_H_DISP_END] = ((this.xres >>> 3) - 1) & 0xff;
    const h = this.yres - 1;
    cr[CR_V_DISP_END] = h & 0xff;
    cr[CR_OVERFLOW] = (cr[CR_OVERFLOW] & ~0x42) | ((h >> 7) & 0x02) | ((h >> 3) & 0x40);
    cr[CR_LINE_COMPARE] = 0xff;
    cr[CR_OVERFLOW] |= 0x10;
    cr[CR_MAX_SCAN] |= 0x40;
    let shift: number;
    if (this.bpp === 4) {
      shift = 0;
      v.seq[SR_CLOCKING] &= ~SR01_HALF_CLOCK;
    } else {
      shift = 2;
      v.seq[SR_MEMORY_MODE] |= SR04_CHAIN4;
      v.seq[SR_MAP_MASK] |= 0x0f;
    }
    v.gc[GR_MODE] = (v.gc[GR_MODE] & ~0x60) | (shift << 5);
    cr[CR_MAX_SCAN] &= ~0x9f;
  }

  /** Clamp the registers to a mode that fits VRAM and derive line offset and start. */
  private fixup(): void {
    const r = this.regs;
    if ((r[VBE_INDEX_ENABLE] & VBE_ENABLED) === 0) return;
    let bits: number;
    switch (r[VBE_INDEX_BPP]) {
      case 4:
      case 8:
      case 16:
      case 24:
      case 32:
        bits = r[VBE_INDEX_BPP];
        break;
      case 15:
        bits = 16;
        break;
      default:
        r[VBE_INDEX_BPP] = 8;
        bits = 8;
    }
    r[VBE_INDEX_XRES] &= ~7;
    if (r[VBE_INDEX_XRES] === 0) r[VBE_INDEX_XRES] = 8;
    if (r[VBE_INDEX_XRES] > VBE_MAX_XRES) r[VBE_INDEX_XRES] = VBE_MAX_XRES;
    r[VBE_INDEX_VIRT_WIDTH] &= ~7;
    if (r[VBE_INDEX_VIRT_WIDTH] > VBE_MAX_XRES) r[VBE_INDEX_VIRT_WIDTH] = VBE_MAX_XRES;
    if (r[VBE_INDEX_VIRT_WIDTH] < r[VBE_INDEX_XRES]) r[VBE_INDEX_VIRT_WIDTH] = r[VBE_INDEX_XRES];
    const lineLength = (r[VBE_INDEX_VIRT_WIDTH] * bits) >>> 3;
    const maxY = Math.min(0xffff, Math.floor(this.mem.size / lineLength));
    if (r[VBE_INDEX_YRES] === 0) r[VBE_INDEX_YRES] = 1;
    if (r[VBE_INDEX_YRES] > VBE_MAX_YRES) r[VBE_INDEX_YRES] = VBE_MAX_YRES;
    if (r[VBE_INDEX_YRES] > maxY) r[VBE_INDEX_YRES] = maxY;
    if (r[VBE_INDEX_X_OFFSET] > VBE_MAX_XRES) r[VBE_INDEX_X_OFFSET] = VBE_MAX_XRES;
    if (r[VBE_INDEX_Y_OFFSET] > VBE_MAX_YRES) r[VBE_INDEX_Y_OFFSET] = VBE_MAX_YRES;
    let offset = ((r[VBE_INDEX_X_OFFSET] * bits) >>> 3) + r[VBE_INDEX_Y_OFFSET] * lineLength;
    if (offset + r[VBE_INDEX_YRES] * lineLength > this.mem.size) {
      // Panning past the end of VRAM: drop the vertical, then the horizontal offset.
      r[VBE_INDEX_Y_OFFSET] = 0;
      offset = (r[VBE_INDEX_X_OFFSET] * bits) >>> 3;
      if (offset + r[VBE_INDEX_YRES] * lineLength > this.mem.size) {
        r[VBE_INDEX_X_OFFSET] = 0;
        offset = 0;
      }
    }
    r[VBE_INDEX_VIRT_HEIGHT] = maxY;
    this.lineOffset = lineLength;
    // The display starts on a dword, as the CRTC start address counts dwords.
    this.startAddr = offset & ~3;
  }

  save(): DeviceState {
    return {
      index: this.index,
      regs: Array.from(this.regs),
      lineOffset: this.lineOffset,
      startAddr: this.startAddr,
      bankOffset: this.mem.bankOffset,
    };
  }

  static parse(r: StateReader, vramSize: number): (d: Dispi) => void {
    const index = r.int('index', 0, 0xffff);
    const regs = r.ints('regs', 0, 0xffff, VBE_REG_COUNT);
    const lineOffset = r.int('lineOffset', 0, VBE_MAX_XRES * 4);
    const startAddr = r.int('startAddr', 0, vramSize);
    const bankOffset = r.int('bankOffset', 0, vramSize);
    if (bankOffset % 0x10000 !== 0) r.fail('bankOffset', 'must be a multiple of 64 KiB');
    if (regs[VBE_INDEX_XRES] > VBE_MAX_XRES || regs[VBE_INDEX_YRES] > VBE_MAX_YRES) r.fail('regs', 'hold a resolution beyond the maximum');
    return (d) => {
      d.index = index;
      d.regs.set(regs);
      d.lineOffset = lineOffset;
      d.startAddr = startAddr;
      d.mem.bankOffset = bankOffset;
    };
  }
}
