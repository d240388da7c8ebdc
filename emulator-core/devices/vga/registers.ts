/**
 * The standard VGA register file: misc output, sequencer, CRT controller, graphics
 * controller, attribute controller (with its index/data flip-flop), DAC and feature control,
 * and the byte-wide port semantics that reach them. Memory and rendering read these
 * registers; nothing here touches VRAM.
 */
import type { DeviceState } from '../device.js';
import type { StateReader } from '../state.js';
import {
  AR_COUNT,
  AR_MODE,
  AR_PLANE_ENABLE,
  AR_COLOR_SELECT,
  AR_OVERSCAN,
  AR_PEL_PANNING,
  CR11_PROTECT,
  CR_OVERFLOW,
  CR_V_SYNC_END,
  GR_MASK,
  PORT_ATTR_DATA_READ,
  PORT_ATTR_INDEX,
  PORT_CRTC_DATA_COLOR,
  PORT_CRTC_DATA_MONO,
  PORT_CRTC_INDEX_COLOR,
  PORT_CRTC_INDEX_MONO,
  PORT_DAC_DATA,
  PORT_DAC_READ_INDEX,
  PORT_DAC_WRITE_INDEX,
  PORT_FEATURE_READ,
  PORT_GC_DATA,
  PORT_GC_INDEX,
  PORT_MISC_READ,
  PORT_MISC_WRITE,
  PORT_PEL_MASK,
  PORT_SEQ_DATA,
  PORT_SEQ_INDEX,
  PORT_STATUS1_COLOR,
  PORT_STATUS1_MONO,
  PORT_VGA_ENABLE,
  SR_MASK,
} from './constants.js';

/** What a register write changed, so the adapter can remap the window or re-time retrace. */
export const CHANGED_MEMORY_MODE = 1;
export const CHANGED_TIMING = 2;

export class VgaRegisters {
  misc = 0;
  seqIndex = 0;
  readonly seq = new Uint8Array(8);
  crtcIndex = 0;
  /** The CRTC has 0x19 registers; the rest of the index space stores whatever is written (as QEMU). */
  readonly crtc = new Uint8Array(256);
  gcIndex = 0;
  readonly gc = new Uint8Array(16);
  /** Attribute index register including the palette address source bit (0x20). */
  acIndex = 0;
  readonly ac = new Uint8Array(AR_COUNT);
  /** false: the next 0x3C0 write is an index; true: it is data. */
  acFlipFlop = false;
  featureControl = 0;
  vgaEnable = 0;
  pelMask = 0xff;
  /** 256 entries x (r, g, b), as the guest wrote them (6 or 8 significant bits). */
  readonly dac = new Uint8Array(768);
  dacReadIndex = 0;
  dacWriteIndex = 0;
  /** Component (0 r, 1 g, 2 b) of the next DAC data access. */
  dacComponent = 0;
  /** 0x3C7 reads 3 after a read index was set, 0 after a write index. */
  dacState = 0;
  readonly dacLatch = new Uint8Array(3);
  /** DAC takes 8-bit components (VBE function 08h, via DISPI ENABLE bit 5); 6-bit otherwise. */
  dac8bit = false;
  /** Bumped on every DAC or attribute palette write: renderers recheck palettes only then. */
  paletteSerial = 0;

  /** Colour (CRTC at 0x3Dx) or monochrome (0x3Bx) addressing, misc output bit 0. */
  get colorMode(): boolean {
    return (this.misc & 1) !== 0;
  }

  reset(): void {
    this.misc = 0;
    this.seqIndex = 0;
    this.seq.fill(0);
    this.crtcIndex = 0;
    this.crtc.fill(0);
    this.gcIndex = 0;
    this.gc.fill(0);
    this.acIndex = 0;
    this.ac.fill(0);
    this.acFlipFlop = false;
    this.featureControl = 0;
    this.vgaEnable = 0;
    this.pelMask = 0xff;
    this.dac.fill(0);
    this.dacReadIndex = 0;
    this.dacWriteIndex = 0;
    this.dacComponent = 0;
    this.dacState = 0;
    this.dacLatch.fill(0);
    this.dac8bit = false;
    this.paletteSerial++;
  }

  /** A port the current colour/mono addressing does not decode (reads 0xFF, writes ignored). */
  private ignored(port: number): boolean {
    const mono = port >= 0x3b0 && port <= 0x3bf;
    const color = port >= 0x3d0 && port <= 0x3df;
    return this.colorMode ? mono : color;
  }

  /**
   * Read one byte register. Input status 1 is the caller's (it depends on guest time); this
   * handles its side effect of resetting the attribute flip-flop via resetFlipFlop().
   */
  readPort(port: number): number {
    if (this.ignored(port)) return 0xff;
    switch (port) {
      case PORT_ATTR_INDEX:
        return this.acIndex;
      case PORT_ATTR_DATA_READ: {
        const i = this.acIndex & 0x1f;
        return i < AR_COUNT ? this.ac[i] : 0;
      }
      case PORT_MISC_WRITE:
        return 0; // input status 0: no switch sense, no CRT interrupt
      case PORT_VGA_ENABLE:
        return this.vgaEnable;
      case PORT_SEQ_INDEX:
        return this.seqIndex;
      case PORT_SEQ_DATA:
        return this.seq[this.seqIndex];
      case PORT_PEL_MASK:
        return this.pelMask;
      case PORT_DAC_READ_INDEX:
        return this.dacState;
      case PORT_DAC_WRITE_INDEX:
        return this.dacWriteIndex;
      case PORT_DAC_DATA: {
        const v = this.dac[this.dacReadIndex * 3 + this.dacComponent];
        if (++this.dacComponent === 3) {
          this.dacComponent = 0;
          this.dacReadIndex = (this.dacReadIndex + 1) & 0xff;
        }
        return v;
      }
      case PORT_FEATURE_READ:
        return this.featureControl;
      case PORT_MISC_READ:
        return this.misc;
      case PORT_GC_INDEX:
        return this.gcIndex;
      case PORT_GC_DATA:
        return this.gc[this.gcIndex];
      case PORT_CRTC_INDEX_COLOR:
      case PORT_CRTC_INDEX_MONO:
        return this.crtcIndex;
      case PORT_CRTC_DATA_COLOR:
      case PORT_CRTC_DATA_MONO:
        return this.crtc[this.crtcIndex];
      default:
        return 0xff;
    }
  }

  /** Write one byte register; returns CHANGED_* bits for the adapter. */
  writePort(port: number, value: number): number {
    value &= 0xff;
    if (this.ignored(port)) return 0;
    switch (port) {
      case PORT_ATTR_INDEX:
        if (!this.acFlipFlop) {
          this.acIndex = value & 0x3f;
        } else {
          this.writeAttribute(this.acIndex & 0x1f, value);
        }
        this.acFlipFlop = !this.acFlipFlop;
        return 0;
      case PORT_MISC_WRITE:
        // Bit 4 does not exist on the VGA.
        this.misc = value & 0xef;
        return CHANGED_TIMING;
      case PORT_VGA_ENABLE:
        this.vgaEnable = value & 1;
        return 0;
      case PORT_SEQ_INDEX:
        this.seqIndex = value & 7;
        return 0;
      case PORT_SEQ_DATA:
        this.seq[this.seqIndex] = value & SR_MASK[this.seqIndex];
        return CHANGED_MEMORY_MODE | CHANGED_TIMING;
      case PORT_PEL_MASK:
        this.pelMask = value;
        this.paletteSerial++;
        return 0;
      case PORT_DAC_READ_INDEX:
        this.dacReadIndex = value;
        this.dacComponent = 0;
        this.dacState = 3;
        return 0;
      case PORT_DAC_WRITE_INDEX:
        this.dacWriteIndex = value;
        this.dacComponent = 0;
        this.dacState = 0;
        return 0;
      case PORT_DAC_DATA:
        // A 6-bit DAC keeps six bits, as the hardware does; the 8-bit one keeps all.
        this.dacLatch[this.dacComponent] = this.dac8bit ? value : value & 0x3f;
        if (++this.dacComponent === 3) {
          this.dac.set(this.dacLatch, this.dacWriteIndex * 3);
          this.dacComponent = 0;
          this.dacWriteIndex = (this.dacWriteIndex + 1) & 0xff;
          this.paletteSerial++;
        }
        return 0;
      case PORT_GC_INDEX:
        this.gcIndex = value & 0x0f;
        return 0;
      case PORT_GC_DATA:
        this.gc[this.gcIndex] = value & GR_MASK[this.gcIndex];
        return CHANGED_MEMORY_MODE;
      case PORT_CRTC_INDEX_COLOR:
      case PORT_CRTC_INDEX_MONO:
        this.crtcIndex = value;
        return 0;
      case PORT_CRTC_DATA_COLOR:
      case PORT_CRTC_DATA_MONO:
        return this.writeCrtc(this.crtcIndex, value);
      case PORT_STATUS1_COLOR:
      case PORT_STATUS1_MONO:
        this.featureControl = value & 0x10;
        return 0;
      default:
        return 0;
    }
  }

  private writeAttribute(index: number, value: number): void {
    if (index < 16) this.ac[index] = value & 0x3f;
    else if (index === AR_MODE) this.ac[index] = value & 0xef;
    else if (index === AR_OVERSCAN) this.ac[index] = value;
    else if (index === AR_PLANE_ENABLE) this.ac[index] = value & 0x3f;
    else if (index === AR_PEL_PANNING || index === AR_COLOR_SELECT) this.ac[index] = value & 0x0f;
    else return;
    this.paletteSerial++;
  }

  private writeCrtc(index: number, value: number): number {
    // CR11 bit 7 write-protects CR0-CR7, except the line compare bit 8 in CR7.
    if ((this.crtc[CR_V_SYNC_END] & CR11_PROTECT) !== 0 && index <= CR_OVERFLOW) {
      if (index === CR_OVERFLOW) this.crtc[CR_OVERFLOW] = (this.crtc[CR_OVERFLOW] & ~0x10) | (value & 0x10);
      return 0;
    }
    this.crtc[index] = value;
    return CHANGED_TIMING;
  }

  /** Reading input status 1 resets the attribute flip-flop to "index". */
  resetFlipFlop(): void {
    this.acFlipFlop = false;
  }

  save(): DeviceState {
    return {
      misc: this.misc,
      seqIndex: this.seqIndex,
      seq: Array.from(this.seq),
      crtcIndex: this.crtcIndex,
      crtc: Array.from(this.crtc),
      gcIndex: this.gcIndex,
      gc: Array.from(this.gc),
      acIndex: this.acIndex,
      ac: Array.from(this.ac),
      acFlipFlop: this.acFlipFlop,
      featureControl: this.featureControl,
      vgaEnable: this.vgaEnable,
      pelMask: this.pelMask,
      dac: Array.from(this.dac),
      dacReadIndex: this.dacReadIndex,
      dacWriteIndex: this.dacWriteIndex,
      dacComponent: this.dacComponent,
      dacState: this.dacState,
      dacLatch: Array.from(this.dacLatch),
      dac8bit: this.dac8bit,
    };
  }

  /** Validate a saved register file; apply() it once every other part validated too. */
  static parse(r: StateReader): (regs: VgaRegisters) => void {
    const misc = r.int('misc', 0, 0xff);
    const seqIndex = r.int('seqIndex', 0, 7);
    const seq = r.ints('seq', 0, 0xff, 8);
    const crtcIndex = r.int('crtcIndex', 0, 0xff);
    const crtc = r.ints('crtc', 0, 0xff, 256);
    const gcIndex = r.int('gcIndex', 0, 15);
    const gc = r.ints('gc', 0, 0xff, 16);
    const acIndex = r.int('acIndex', 0, 0x3f);
    const ac = r.ints('ac', 0, 0xff, AR_COUNT);
    const acFlipFlop = r.bool('acFlipFlop');
    const featureControl = r.int('featureControl', 0, 0xff);
    const vgaEnable = r.int('vgaEnable', 0, 1);
    const pelMask = r.int('pelMask', 0, 0xff);
    const dac = r.ints('dac', 0, 0xff, 768);
    const dacReadIndex = r.int('dacReadIndex', 0, 0xff);
    const dacWriteIndex = r.int('dacWriteIndex', 0, 0xff);
    const dacComponent = r.int('dacComponent', 0, 2);
    const dacState = r.int('dacState', 0, 3);
    const dacLatch = r.ints('dacLatch', 0, 0xff, 3);
    const dac8bit = r.bool('dac8bit');
    return (regs) => {
      regs.misc = misc;
      regs.seqIndex = seqIndex;
      regs.seq.set(seq);
      regs.crtcIndex = crtcIndex;
      regs.crtc.set(crtc);
      regs.gcIndex = gcIndex;
      regs.gc.set(gc);
      regs.acIndex = acIndex;
      regs.ac.set(ac);
      regs.acFlipFlop = acFlipFlop;
      regs.featureControl = featureControl;
      regs.vgaEnable = vgaEnable;
      regs.pelMask = pelMask;
      regs.dac.set(dac);
      regs.dacReadIndex = dacReadIndex;
      regs.dacWriteIndex = dacWriteIndex;
      regs.dacComponent = dacComponent;
      regs.dacState = dacState;
      regs.dacLatch.set(dacLatch);
      regs.dac8bit = dac8bit;
      regs.paletteSerial++;
    };
  }
}
