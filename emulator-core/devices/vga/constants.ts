/**
 * Register numbers and constants of the VGA adapter (IBM VGA plus the Bochs/QEMU "DISPI"
 * extension), named after the hardware documentation so the rest of the model reads like it.
 */

// Port I/O -------------------------------------------------------------------

/** The VGA claims 0x3B0-0x3DF (mono and colour CRTC, attribute, sequencer, DAC, graphics). */
export const VGA_PORT_BASE = 0x3b0;
export const VGA_PORT_COUNT = 0x30;

export const PORT_CRTC_INDEX_MONO = 0x3b4;
export const PORT_CRTC_DATA_MONO = 0x3b5;
export const PORT_STATUS1_MONO = 0x3ba; // read: input status 1; write: feature control
export const PORT_ATTR_INDEX = 0x3c0; // write index/data (flip-flop), read index
export const PORT_ATTR_DATA_READ = 0x3c1;
export const PORT_MISC_WRITE = 0x3c2; // write: misc output; read: input status 0
export const PORT_VGA_ENABLE = 0x3c3;
export const PORT_SEQ_INDEX = 0x3c4;
export const PORT_SEQ_DATA = 0x3c5;
export const PORT_PEL_MASK = 0x3c6;
export const PORT_DAC_READ_INDEX = 0x3c7; // write: read index; read: DAC state
export const PORT_DAC_WRITE_INDEX = 0x3c8;
export const PORT_DAC_DATA = 0x3c9;
export const PORT_FEATURE_READ = 0x3ca;
export const PORT_MISC_READ = 0x3cc;
export const PORT_GC_INDEX = 0x3ce;
export const PORT_GC_DATA = 0x3cf;
export const PORT_CRTC_INDEX_COLOR = 0x3d4;
export const PORT_CRTC_DATA_COLOR = 0x3d5;
export const PORT_STATUS1_COLOR = 0x3da;

/** Bochs VBE "DISPI" interface: 16-bit index and data ports (0x1D0 is an old data alias). */
export const VBE_PORT_INDEX = 0x1ce;
export const VBE_PORT_DATA = 0x1cf;
export const VBE_PORT_DATA_ALIAS = 0x1d0;

// Sequencer ------------------------------------------------------------------

export const SR_RESET = 0x00;
export const SR_CLOCKING = 0x01;
export const SR_MAP_MASK = 0x02;
export const SR_CHAR_MAP = 0x03;
export const SR_MEMORY_MODE = 0x04;

export const SR01_8DOT = 0x01;
export const SR01_HALF_CLOCK = 0x08;
export const SR01_SCREEN_OFF = 0x20;
export const SR04_SEQUENTIAL = 0x04; // 0 = odd/even host addressing
export const SR04_CHAIN4 = 0x08;

/** Bits each sequencer register keeps (the rest read as zero). */
export const SR_MASK = [0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0x00, 0x00, 0xff] as const;

// Graphics controller -------------------------------------------------------

export const GR_SET_RESET = 0x00;
export const GR_ENABLE_SET_RESET = 0x01;
export const GR_COLOR_COMPARE = 0x02;
export const GR_DATA_ROTATE = 0x03;
export const GR_READ_MAP = 0x04;
export const GR_MODE = 0x05;
export const GR_MISC = 0x06;
export const GR_COLOR_DONT_CARE = 0x07;
export const GR_BIT_MASK = 0x08;

export const GR05_READ_MODE1 = 0x08;
export const GR05_ODD_EVEN = 0x10;
export const GR06_GRAPHICS = 0x01;

export const GR_MASK = [0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff, 0, 0, 0, 0, 0, 0, 0] as const;

// CRT controller ---------------------------------------------------------------

export const CR_H_TOTAL = 0x00;
export const CR_H_DISP_END = 0x01;
export const CR_H_BLANK_START = 0x02;
export const CR_V_TOTAL = 0x06;
export const CR_OVERFLOW = 0x07;
export const CR_MAX_SCAN = 0x09;
export const CR_CURSOR_START = 0x0a;
export const CR_CURSOR_END = 0x0b;
export const CR_START_HI = 0x0c;
export const CR_START_LO = 0x0d;
export const CR_CURSOR_HI = 0x0e;
export const CR_CURSOR_LO = 0x0f;
export const CR_V_SYNC_START = 0x10;
export const CR_V_SYNC_END = 0x11;
export const CR_V_DISP_END = 0x12;
export const CR_OFFSET = 0x13;
export const CR_UNDERLINE = 0x14;
export const CR_V_BLANK_START = 0x15;
export const CR_MODE = 0x17;
export const CR_LINE_COMPARE = 0x18;

export const CR11_PROTECT = 0x80;

// Attribute controller --------------------------------------------------------

export const AR_MODE = 0x10;
export const AR_OVERSCAN = 0x11;
export const AR_PLANE_ENABLE = 0x12;
export const AR_PEL_PANNING = 0x13;
export const AR_COLOR_SELECT = 0x14;
export const AR_COUNT = 0x15;
/** Palette address source: clear while the guest reprograms the palette (screen blanked). */
export const AR_INDEX_PAS = 0x20;

export const AR10_GRAPHICS = 0x01;
export const AR10_LINE_GRAPHICS = 0x04;
export const AR10_BLINK = 0x08;
export const AR10_8BIT = 0x40;
export const AR10_P54S = 0x80;

// Status ---------------------------------------------------------------------

export const ST1_DISPLAY_DISABLED = 0x01;
export const ST1_VRETRACE = 0x08;

// Bochs VBE DISPI ---------------------------------------------------------------

export const VBE_INDEX_ID = 0x0;
export const VBE_INDEX_XRES = 0x1;
export const VBE_INDEX_YRES = 0x2;
export const VBE_INDEX_BPP = 0x3;
export const VBE_INDEX_ENABLE = 0x4;
export const VBE_INDEX_BANK = 0x5;
export const VBE_INDEX_VIRT_WIDTH = 0x6;
export const VBE_INDEX_VIRT_HEIGHT = 0x7;
export const VBE_INDEX_X_OFFSET = 0x8;
export const VBE_INDEX_Y_OFFSET = 0x9;
export const VBE_INDEX_VIDEO_MEMORY_64K = 0xa;
/** Registers 0..9 are stored; 0xA is computed from the VRAM size. */
export const VBE_REG_COUNT = 10;

export const VBE_ID0 = 0xb0c0;
export const VBE_ID5 = 0xb0c5;

export const VBE_ENABLED = 0x01;
export const VBE_GETCAPS = 0x02;
export const VBE_8BIT_DAC = 0x20;
export const VBE_LFB_ENABLED = 0x40;
export const VBE_NOCLEARMEM = 0x80;

/** Largest mode we offer; the same limits Linux's bochs-drm assumes. */
export const VBE_MAX_XRES = 2560;
export const VBE_MAX_YRES = 1600;
export const VBE_MAX_BPP = 32;

// PCI identity (QEMU's "VGA" std-vga) -----------------------------------------------------

export const STDVGA_VENDOR = 0x1234;
export const STDVGA_DEVICE = 0x1111;
export const STDVGA_SUBSYSTEM_VENDOR = 0x1af4;
export const STDVGA_SUBSYSTEM_ID = 0x1100;

/** Layout of the optional 4 KiB MMIO BAR (QEMU's "qext" variant of std-vga). */
export const MMIO_BAR_SIZE = 0x1000;
export const MMIO_EDID_END = 0x400;
export const MMIO_VGA_PORTS = 0x400; // 0x3C0-0x3DF at 0x400-0x41F
export const MMIO_DISPI = 0x500; // DISPI register n at 0x500 + 2n
export const MMIO_QEXT = 0x600;
export const QEXT_SIZE = 8;
export const QEXT_LITTLE_ENDIAN = 0x1e1e1e1e;

// Memory ---------------------------------------------------------------------

export const WINDOW_BASE = 0xa0000;
export const WINDOW_SIZE = 0x20000;
export const PLANE_SIZE = 0x10000;
/** VGA modes address 64 Ki dwords (four 64 KiB planes) of VRAM. */
export const VGA_VRAM_BYTES = PLANE_SIZE * 4;
export const DEFAULT_VRAM_BYTES = 16 * 1024 * 1024;
