/**
 * Instruction decoder for the JIT: lengths, prefixes, ModRM/SIB fields, displacement and
 * immediates, read straight from the backing memory of one code page. It understands the
 * whole one- and two-byte opcode map well enough to find instruction boundaries; what
 * the code generator can do with an instruction is decided there.
 */

export interface DecodedInsn {
  /** Linear address of the first byte. */
  lin: number;
  len: number;
  /** Opcode: 0x00-0xff, or 0x100 | byte for 0F xx. */
  op: number;
  osize32: boolean;
  asize32: boolean;
  /** Segment override prefix (segment index) or -1. */
  seg: number;
  /** 0, 0xf2 or 0xf3. */
  rep: number;
  lock: boolean;
  hasModrm: boolean;
  modrm: number;
  mod: number;
  reg: number;
  rm: number;
  // Memory operand (mod != 3): base/index registers (-1 if none), scale shift, displacement.
  base: number;
  index: number;
  scale: number;
  disp: number;
  /** Default segment of the memory operand (DS or SS) before overrides. */
  defSeg: number;
  imm: number;
  imm2: number;
}

const enum ImmKind {
  None = 0,
  B = 1, // 8-bit
  W = 2, // 16-bit
  Z = 3, // 16 or 32 by operand size
  WB = 4, // 16 + 8 (ENTER)
  AP = 5, // far pointer: 16/32 offset + 16 selector
  MOFFS = 6, // 16/32 by address size
}

const MODRM1 = new Uint8Array(256);
const IMM1 = new Uint8Array(256);
const MODRM2 = new Uint8Array(256);
const IMM2 = new Uint8Array(256);

function setRange(t: Uint8Array, from: number, to: number, v: number): void {
  for (let i = from; i <= to; i++) t[i] = v;
}

// One-byte map.
for (let g = 0; g < 8; g++) {
  const b = g << 3;
  setRange(MODRM1, b, b + 3, 1);
  IMM1[b + 4] = ImmKind.B;
  IMM1[b + 5] = ImmKind.Z;
}
for (const op of [0x62, 0x63, 0x69, 0x6b, 0xc0, 0xc1, 0xc4, 0xc5, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3, 0xf6, 0xf7, 0xfe, 0xff]) MODRM1[op] = 1;
setRange(MODRM1, 0x80, 0x8f, 1);
setRange(MODRM1, 0xd8, 0xdf, 1);
for (const op of [0x6a, 0x6b, 0x80, 0x82, 0x83, 0xa8, 0xc0, 0xc1, 0xc6, 0xcd, 0xd4, 0xd5, 0xe4, 0xe5, 0xe6, 0xe7, 0xeb]) IMM1[op] = ImmKind.B;
setRange(IMM1, 0x70, 0x7f, ImmKind.B);
setRange(IMM1, 0xb0, 0xb7, ImmKind.B);
setRange(IMM1, 0xe0, 0xe3, ImmKind.B);
for (const op of [0x68, 0x69, 0x81, 0xa9, 0xc7, 0xe8, 0xe9]) IMM1[op] = ImmKind.Z;
setRange(IMM1, 0xb8, 0xbf, ImmKind.Z);
IMM1[0xc2] = ImmKind.W;
IMM1[0xca] = ImmKind.W;
IMM1[0xc8] = ImmKind.WB;
IMM1[0x9a] = ImmKind.AP;
IMM1[0xea] = ImmKind.AP;
setRange(IMM1, 0xa0, 0xa3, ImmKind.MOFFS);

// Two-byte map: ModRM everywhere except the listed opcodes.
MODRM2.fill(1);
for (const op of [0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0e, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37, 0x77, 0xa0, 0xa1, 0xa2, 0xa8, 0xa9, 0xaa]) MODRM2[op] = 0;
setRange(MODRM2, 0x80, 0x8f, 0);
setRange(MODRM2, 0xc8, 0xcf, 0);
setRange(IMM2, 0x80, 0x8f, ImmKind.Z);
for (const op of [0x70, 0x71, 0x72, 0x73, 0xa4, 0xac, 0xba, 0xc2, 0xc4, 0xc5, 0xc6]) IMM2[op] = ImmKind.B;

const PREFIX_SEG: Record<number, number> = { 0x26: 0, 0x2e: 1, 0x36: 2, 0x3e: 3, 0x64: 4, 0x65: 5 };

/**
 * Decode the instruction at `u8[off]` (linear address `lin`), not reading at or beyond
 * `end`. Returns false if it does not fit (crosses the page) or is malformed.
 */
export function decode(u8: Uint8Array, off: number, end: number, lin: number, code32: boolean, d: DecodedInsn): boolean {
  const start = off;
  d.lin = lin;
  d.osize32 = code32;
  d.asize32 = code32;
  d.seg = -1;
  d.rep = 0;
  d.lock = false;
  let b: number;
  for (;;) {
    if (off >= end || off - start >= 15) return false;
    b = u8[off++];
    if (b === 0x66) d.osize32 = !code32;
    else if (b === 0x67) d.asize32 = !code32;
    else if (b === 0xf2 || b === 0xf3) d.rep = b;
    else if (b === 0xf0) d.lock = true;
    else if (PREFIX_SEG[b] !== undefined) d.seg = PREFIX_SEG[b];
    else break;
  }
  let op = b;
  let hasModrm: number;
  let immKind: number;
  if (b === 0x0f) {
    if (off >= end) return false;
    const b2 = u8[off++];
    op = 0x100 | b2;
    hasModrm = MODRM2[b2];
    immKind = IMM2[b2];
  } else {
    hasModrm = MODRM1[b];
    immKind = IMM1[b];
    // F6/F7 /0 and /1 (TEST) carry an immediate.
  }
  d.op = op;
  d.hasModrm = hasModrm !== 0;
  d.modrm = 0;
  d.mod = 3;
  d.reg = 0;
  d.rm = 0;
  d.base = -1;
  d.index = -1;
  d.scale = 0;
  d.disp = 0;
  d.defSeg = 3;
  d.imm = 0;
  d.imm2 = 0;
  if (hasModrm !== 0) {
    if (off >= end) return false;
    const m = u8[off++];
    d.modrm = m;
    d.mod = m >> 6;
    d.reg = (m >> 3) & 7;
    d.rm = m & 7;
    if (d.mod !== 3) {
      if (d.asize32) {
        let rm = d.rm;
        if (rm === 4) {
          if (off >= end) return false;
          const sib = u8[off++];
          const base = sib & 7;
          const index = (sib >> 3) & 7;
          d.scale = sib >> 6;
          d.index = index === 4 ? -1 : index;
          if (base === 5 && d.mod === 0) {
            d.base = -1;
            rm = -1; // disp32 follows
          } else {
            d.base = base;
            if (base === 4 || base === 5) d.defSeg = 2;
          }
          if (rm === -1) {
            if (off + 4 > end) return false;
            d.disp = u8[off] | (u8[off + 1] << 8) | (u8[off + 2] << 16) | (u8[off + 3] << 24);
            off += 4;
          }
        } else if (rm === 5 && d.mod === 0) {
          if (off + 4 > end) return false;
          d.disp = u8[off] | (u8[off + 1] << 8) | (u8[off + 2] << 16) | (u8[off + 3] << 24);
          off += 4;
        } else {
          d.base = rm;
          if (rm === 5) d.defSeg = 2;
        }
        if (d.mod === 1) {
          if (off >= end) return false;
          d.disp = (u8[off++] << 24) >> 24;
        } else if (d.mod === 2) {
          if (off + 4 > end) return false;
          d.disp = u8[off] | (u8[off + 1] << 8) | (u8[off + 2] << 16) | (u8[off + 3] << 24);
          off += 4;
        }
      } else {
        // 16-bit addressing: base/index are encoded as the rm value; the code generator
        // handles the table. disp is sign-extended to 16 bits below.
        if (d.rm === 6 && d.mod === 0) {
          if (off + 2 > end) return false;
          d.disp = u8[off] | (u8[off + 1] << 8);
          off += 2;
        } else if (d.mod === 1) {
          if (off >= end) return false;
          d.disp = (u8[off++] << 24) >> 24;
        } else if (d.mod === 2) {
          if (off + 2 > end) return false;
          d.disp = u8[off] | (u8[off + 1] << 8);
          off += 2;
        }
        if (d.rm === 2 || d.rm === 3 || (d.rm === 6 && d.mod !== 0)) d.defSeg = 2;
      }
    }
    if ((op === 0xf6 || op === 0xf7) && d.reg < 2) immKind = op === 0xf6 ? ImmKind.B : ImmKind.Z;
  }
  switch (immKind) {
    case ImmKind.B:
      if (off >= end) return false;
      d.imm = u8[off++];
      break;
    case ImmKind.W:
      if (off + 2 > end) return false;
      d.imm = u8[off] | (u8[off + 1] << 8);
      off += 2;
      break;
    case ImmKind.Z:
      if (d.osize32) {
        if (off + 4 > end) return false;
        d.imm = u8[off] | (u8[off + 1] << 8) | (u8[off + 2] << 16) | (u8[off + 3] << 24);
        off += 4;
      } else {
        if (off + 2 > end) return false;
        d.imm = u8[off] | (u8[off + 1] << 8);
        off += 2;
      }
      break;
    case ImmKind.WB:
      if (off + 3 > end) return false;
      d.imm = u8[off] | (u8[off + 1] << 8);
      d.imm2 = u8[off + 2];
      off += 3;
      break;
    case ImmKind.AP: {
      const n = d.osize32 ? 4 : 2;
      if (off + n + 2 > end) return false;
      d.imm = n === 4 ? u8[off] | (u8[off + 1] << 8) | (u8[off + 2] << 16) | (u8[off + 3] << 24) : u8[off] | (u8[off + 1] << 8);
      off += n;
      d.imm2 = u8[off] | (u8[off + 1] << 8);
      off += 2;
      break;
    }
    case ImmKind.MOFFS:
      if (d.asize32) {
        if (off + 4 > end) return false;
        d.imm = u8[off] | (u8[off + 1] << 8) | (u8[off + 2] << 16) | (u8[off + 3] << 24);
        off += 4;
      } else {
        if (off + 2 > end) return false;
        d.imm = u8[off] | (u8[off + 1] << 8);
        off += 2;
      }
      break;
  }
  d.len = off - start;
  return true;
}

export function newInsn(): DecodedInsn {
  return {
    lin: 0,
    len: 0,
    op: 0,
    osize32: true,
    asize32: true,
    seg: -1,
    rep: 0,
    lock: false,
    hasModrm: false,
    modrm: 0,
    mod: 3,
    reg: 0,
    rm: 0,
    base: -1,
    index: -1,
    scale: 0,
    disp: 0,
    defSeg: 3,
    imm: 0,
    imm2: 0,
  };
}
