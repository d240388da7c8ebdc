/** Two-byte opcodes (0F xx): system instructions, bit operations, CMOV/SETcc, MOVZX/MOVSX. */
import { randomFillSync } from 'node:crypto';
import { doubleShift, mulFlags, mulS32, resHi, resLo } from './arith.js';
import { CF, CR0_TS, CR4_TSD, EXC_NM, FS, GS, SS, VM, ZF } from './constants.js';
import { REG8, type Cpu } from './cpu.js';
import { both, loadFarPointer, sized } from './ops.js';
import { lar, lldt, lsl, ltr, sysenter, sysexit, verr, verw } from './protected.js';
import { cpuid, rdmsr, writeCr0, writeCr3, writeCr4, wrmsr } from './system.js';
import { syscall } from './long/system64.js';

const X = 0x100;

function requireProtected(c: Cpu): void {
  if (!c.protectedMode) c.undefinedOpcode();
}

function requireCpl0(c: Cpu): void {
  if (c.cpl !== 0) c.gp(0);
}

// 0F 00: SLDT, STR, LLDT, LTR, VERR, VERW
both(X | 0x00, (c) => {
  const m = c.insn.modrm;
  const g = (m >> 3) & 7;
  requireProtected(c);
  switch (g) {
    case 0:
    case 1: {
      const sel = c.segSel[g === 0 ? 6 : 7];
      if (m >= 0xc0 && c.insn.opSize === 4) c.r32[m & 7] = sel;
      else c.writeRm16(m, sel);
      return;
    }
    case 2:
    case 3: {
      requireCpl0(c);
      const sel = c.readRm16(m);
      if (g === 2) lldt(c, sel);
      else ltr(c, sel);
      return;
    }
    case 4:
    case 5: {
      const sel = c.readRm16(m);
      c.setFlagBit(ZF, g === 4 ? verr(c, sel) : verw(c, sel));
      return;
    }
    default:
      c.undefinedOpcode();
  }
});

// 0F 01: SGDT, SIDT, LGDT, LIDT, SMSW, LMSW, INVLPG
both(X | 0x01, (c) => {
  const m = c.insn.modrm;
  const g = (m >> 3) & 7;
  if (m >= 0xc0 && g !== 4 && g !== 6) c.undefinedOpcode();
  switch (g) {
    case 0:
    case 1: {
      const lin = c.ea();
      const base = g === 0 ? c.gdtBase : c.idtBase;
      const limit = g === 0 ? c.gdtLimit : c.idtLimit;
      c.checkWritable(lin, 6);
      c.writeLin16(lin, limit);
      c.writeLin32((lin + 2) | 0, c.insn.opSize === 4 ? base : base & 0xffffff);
      return;
    }
    case 2:
    case 3: {
      requireCpl0(c);
      const lin = c.ea();
      const limit = c.readLin16(lin);
      let base = c.readLin32((lin + 2) | 0);
      if (c.insn.opSize !== 4) base &= 0xffffff;
      if (g === 2) {
        c.gdtBase = base;
        c.gdtLimit = limit;
      } else {
        c.idtBase = base;
        c.idtLimit = limit;
      }
      return;
    }
    case 4:
      if (m >= 0xc0 && c.insn.opSize === 4) c.r32[m & 7] = c.cr0;
      else c.writeRm16(m, c.cr0 & 0xffff);
      return;
    case 6: {
      requireCpl0(c);
      const v = c.readRm16(m);
      // LMSW changes PE, MP, EM, TS only, and cannot clear PE.
      writeCr0(c, (c.cr0 & ~0xe) | (v & 0xf) | (c.cr0 & 1));
      return;
    }
    case 7:
      requireCpl0(c);
      c.invalidatePage(c.ea());
      return;
    default:
      c.undefinedOpcode();
  }
});

function larLsl(c: Cpu, isLar: boolean): void {
  requireProtected(c);
  const m = c.insn.modrm;
  const sel = c.readRm16(m);
  const v = isLar ? lar(c, sel) : lsl(c, sel);
  if (v === null) {
    c.setFlagBit(ZF, false);
    return;
  }
  c.setFlagBit(ZF, true);
  const r = (m >> 3) & 7;
  if (c.insn.opSize === 4) c.r32[r] = v;
  else c.r16[r << 1] = v;
}
both(X | 0x02, (c) => larLsl(c, true));
both(X | 0x03, (c) => larLsl(c, false));
both(X | 0x06, (c) => {
  requireCpl0(c);
  c.cr0 &= ~CR0_TS;
});
both(X | 0x08, (c) => requireCpl0(c)); // INVD
both(X | 0x09, (c) => requireCpl0(c)); // WBINVD
both(X | 0x0b, (c) => c.undefinedOpcode()); // UD2
// Hint NOPs with a ModRM operand: 0F 0D (prefetch), 0F 18-1F.
const nopEv = (c: Cpu): void => {
  const m = c.insn.modrm;
  if (m < 0xc0) c.eaOff();
};
both(X | 0x0d, nopEv);
for (let op = 0x18; op <= 0x1f; op++) both(X | op, nopEv);

// MOV to/from control and debug registers (the ModRM mod field is ignored).
both(X | 0x20, (c) => {
  const m = c.insn.modrm;
  if ((c.flags & VM) !== 0) c.gp(0);
  requireCpl0(c);
  const cr = (m >> 3) & 7;
  let v: number;
  switch (cr) {
    case 0:
      v = c.cr0;
      break;
    case 2:
      v = c.cr2;
      break;
    case 3:
      v = c.cr3;
      break;
    case 4:
      v = c.cr4;
      break;
    default:
      return c.undefinedOpcode();
  }
  c.r32[m & 7] = v;
});
both(X | 0x22, (c) => {
  const m = c.insn.modrm;
  if ((c.flags & VM) !== 0) c.gp(0);
  requireCpl0(c);
  const v = c.r32[m & 7];
  switch ((m >> 3) & 7) {
    case 0:
      writeCr0(c, v);
      return;
    case 2:
      c.cr2 = v;
      return;
    case 3:
      writeCr3(c, v);
      return;
    case 4:
      writeCr4(c, v);
      return;
    default:
      c.undefinedOpcode();
  }
});
function debugIndex(c: Cpu, n: number): number {
  if (n === 4 || n === 5) {
    if ((c.cr4 & 0x8) !== 0) c.undefinedOpcode();
    return n + 2;
  }
  return n;
}
both(X | 0x21, (c) => {
  const m = c.insn.modrm;
  if ((c.flags & VM) !== 0) c.gp(0);
  requireCpl0(c);
  c.r32[m & 7] = c.dr[debugIndex(c, (m >> 3) & 7)];
});
both(X | 0x23, (c) => {
  const m = c.insn.modrm;
  if ((c.flags & VM) !== 0) c.gp(0);
  requireCpl0(c);
  const i = debugIndex(c, (m >> 3) & 7);
  let v = c.r32[m & 7];
  if (i === 6) v = (v & 0xe00f) | (0xffff0ff0 | 0);
  else if (i === 7) v = (v & ~0xd000) | 0x400;
  c.dr[i] = v;
});

both(X | 0x30, (c) => {
  requireCpl0(c);
  wrmsr(c);
});
both(X | 0x31, (c) => {
  if ((c.cr4 & CR4_TSD) !== 0 && c.cpl !== 0 && c.protectedMode) c.gp(0);
  const t = c.readTsc();
  c.r32[0] = t % 4294967296 | 0;
  c.r32[2] = Math.floor(t / 4294967296) | 0;
});
both(X | 0x32, (c) => {
  requireCpl0(c);
  rdmsr(c);
});
both(X | 0x33, (c) => c.gp(0)); // RDPMC: no counters
// SYSCALL from compatibility mode (to CSTAR); #UD outside IA-32e mode, as on Intel.
both(X | 0x05, (c) => syscall(c));
both(X | 0x34, (c) => sysenter(c));
both(X | 0x35, (c) => sysexit(c));

// CMOVcc
for (let cc = 0; cc < 16; cc++) {
  sized(
    X | (0x40 + cc),
    (c) => {
      const m = c.insn.modrm;
      const v = c.readRm16(m);
      if (c.cond(cc)) c.r16[((m >> 3) & 7) << 1] = v;
    },
    (c) => {
      const m = c.insn.modrm;
      const v = c.readRm32(m);
      if (c.cond(cc)) c.r32[(m >> 3) & 7] = v;
    },
  );
  both(X | (0x90 + cc), (c) => {
    const m = c.insn.modrm;
    c.writeRm8(m, c.cond(cc) ? 1 : 0);
  });
}

both(X | 0xa2, (c) => cpuid(c, c.cpuidFeatures));

// Bit test family. op: 0 BT, 1 BTS, 2 BTR, 3 BTC.
function bitOp(c: Cpu, op: number, m: number, memLin: number, bitOffset: number, bits: 16 | 32, fromRegister: boolean): void {
  c.materializeFlags();
  if (m >= 0xc0) {
    const bit = bitOffset & (bits - 1);
    const idx = bits === 16 ? (m & 7) << 1 : m & 7;
    const v = bits === 16 ? c.r16[idx] : c.r32[idx];
    const cf = (v >>> bit) & 1;
    c.flags = (c.flags & ~CF) | cf;
    if (op === 0) return;
    const r = op === 1 ? v | (1 << bit) : op === 2 ? v & ~(1 << bit) : v ^ (1 << bit);
    if (bits === 16) c.r16[idx] = r;
    else c.r32[idx] = r;
    return;
  }
  let lin = memLin;
  let bit: number;
  if (fromRegister) {
    // The register offset is signed and can reach outside the addressed operand.
    const off = bits === 16 ? (bitOffset << 16) >> 16 : bitOffset;
    lin = (lin + (off >> 3)) | 0;
    bit = off & 7;
  } else {
    bit = bitOffset & (bits - 1);
    lin = (lin + (bit >> 3)) | 0;
    bit &= 7;
  }
  if (op === 0) {
    c.flags = (c.flags & ~CF) | ((c.readLin8(lin) >>> bit) & 1);
    return;
  }
  const v = c.rmwRead8(lin);
  c.flags = (c.flags & ~CF) | ((v >>> bit) & 1);
  c.rmwWrite8(op === 1 ? v | (1 << bit) : op === 2 ? v & ~(1 << bit) : v ^ (1 << bit));
}
for (const [opc, op] of [
  [0xa3, 0],
  [0xab, 1],
  [0xb3, 2],
  [0xbb, 3],
] as const) {
  sized(
    X | opc,
    (c) => {
      const m = c.insn.modrm;
      bitOp(c, op, m, m >= 0xc0 ? 0 : c.ea(), c.r16[((m >> 3) & 7) << 1], 16, true);
    },
    (c) => {
      const m = c.insn.modrm;
      bitOp(c, op, m, m >= 0xc0 ? 0 : c.ea(), c.r32[(m >> 3) & 7], 32, true);
    },
  );
}
function group8(c: Cpu, bits: 16 | 32): void {
  const m = c.insn.modrm;
  const g = (m >> 3) & 7;
  if (g < 4) c.undefinedOpcode();
  // The immediate follows the displacement, so decode the address first.
  const lin = m >= 0xc0 ? 0 : c.ea();
  bitOp(c, g - 4, m, lin, c.insn.imm, bits, false);
}
sized(
  X | 0xba,
  (c) => group8(c, 16),
  (c) => group8(c, 32),
);

// SHLD / SHRD
function shxd(opc: number, left: boolean, immCount: boolean): void {
  const run = (c: Cpu, bits: 16 | 32): void => {
    const m = c.insn.modrm;
    const srcIdx = (m >> 3) & 7;
    const src = bits === 16 ? c.r16[srcIdx << 1] : c.r32[srcIdx];
    if (m >= 0xc0) {
      const count = immCount ? c.insn.imm : c.r8[4];
      if (bits === 16) c.r16[(m & 7) << 1] = doubleShift(c, c.r16[(m & 7) << 1], src, count, 16, left);
      else c.r32[m & 7] = doubleShift(c, c.r32[m & 7], src, count, 32, left);
      return;
    }
    const lin = c.ea();
    const count = immCount ? c.insn.imm : c.r8[4];
    if (bits === 16) c.rmwWrite16(doubleShift(c, c.rmwRead16(lin), src, count, 16, left));
    else c.rmwWrite32(doubleShift(c, c.rmwRead32(lin), src, count, 32, left));
  };
  sized(
    X | opc,
    (c) => run(c, 16),
    (c) => run(c, 32),
  );
}
shxd(0xa4, true, true);
shxd(0xa5, true, false);
shxd(0xac, false, true);
shxd(0xad, false, false);

// 0F AE: fences and CLFLUSH are no-ops for a single in-order CPU; FXSAVE/FXRSTOR are not
// advertised, so they raise #UD.
both(X | 0xae, (c) => {
  const m = c.insn.modrm;
  const g = (m >> 3) & 7;
  if (m >= 0xc0) {
    if (g >= 5) return;
    c.undefinedOpcode();
  }
  if (g === 7) {
    c.ea();
    return;
  }
  c.undefinedOpcode();
});

sized(
  X | 0xaf,
  (c) => {
    const m = c.insn.modrm;
    const d = ((m >> 3) & 7) << 1;
    const r = ((c.r16[d] << 16) >> 16) * ((c.readRm16(m) << 16) >> 16);
    const lo = r & 0xffff;
    mulFlags(c, lo, 16, ((lo << 16) >> 16) !== r);
    c.r16[d] = lo;
  },
  (c) => {
    const m = c.insn.modrm;
    const d = (m >> 3) & 7;
    mulS32(c.r32[d], c.readRm32(m));
    mulFlags(c, resLo, 0, resHi !== resLo >> 31);
    c.r32[d] = resLo;
  },
);

// CMPXCHG
both(X | 0xb0, (c) => {
  const m = c.insn.modrm;
  const src = c.r8[REG8[(m >> 3) & 7]];
  if (m >= 0xc0) {
    const d = REG8[m & 7];
    const v = c.r8[d];
    c.sub(c.r8[0], v, 24);
    if (c.r8[0] === v) c.r8[d] = src;
    else c.r8[0] = v;
  } else {
    const v = c.rmwRead8(c.ea());
    c.sub(c.r8[0], v, 24);
    if (c.r8[0] === v) c.rmwWrite8(src);
    else {
      c.rmwWrite8(v);
      c.r8[0] = v;
    }
  }
});
sized(
  X | 0xb1,
  (c) => {
    const m = c.insn.modrm;
    const src = c.r16[((m >> 3) & 7) << 1];
    if (m >= 0xc0) {
      const d = (m & 7) << 1;
      const v = c.r16[d];
      c.sub(c.r16[0], v, 16);
      if (c.r16[0] === v) c.r16[d] = src;
      else c.r16[0] = v;
    } else {
      const v = c.rmwRead16(c.ea());
      c.sub(c.r16[0], v, 16);
      if (c.r16[0] === v) c.rmwWrite16(src);
      else {
        c.rmwWrite16(v);
        c.r16[0] = v;
      }
    }
  },
  (c) => {
    const m = c.insn.modrm;
    const src = c.r32[(m >> 3) & 7];
    if (m >= 0xc0) {
      const d = m & 7;
      const v = c.r32[d];
      c.sub(c.r32[0], v, 0);
      if (c.r32[0] === v) c.r32[d] = src;
      else c.r32[0] = v;
    } else {
      const v = c.rmwRead32(c.ea());
      c.sub(c.r32[0], v, 0);
      if (c.r32[0] === v) c.rmwWrite32(src);
      else {
        c.rmwWrite32(v);
        c.r32[0] = v;
      }
    }
  },
);

sized(
  X | 0xb2,
  (c) => loadFarPointer(c, SS, false),
  (c) => loadFarPointer(c, SS, true),
);
sized(
  X | 0xb4,
  (c) => loadFarPointer(c, FS, false),
  (c) => loadFarPointer(c, FS, true),
);
sized(
  X | 0xb5,
  (c) => loadFarPointer(c, GS, false),
  (c) => loadFarPointer(c, GS, true),
);

// MOVZX / MOVSX
sized(
  X | 0xb6,
  (c) => {
    const m = c.insn.modrm;
    c.r16[((m >> 3) & 7) << 1] = c.readRm8(m);
  },
  (c) => {
    const m = c.insn.modrm;
    c.r32[(m >> 3) & 7] = c.readRm8(m);
  },
);
sized(
  X | 0xb7,
  (c) => {
    const m = c.insn.modrm;
    c.r16[((m >> 3) & 7) << 1] = c.readRm16(m);
  },
  (c) => {
    const m = c.insn.modrm;
    c.r32[(m >> 3) & 7] = c.readRm16(m);
  },
);
sized(
  X | 0xbe,
  (c) => {
    const m = c.insn.modrm;
    c.r16[((m >> 3) & 7) << 1] = (c.readRm8(m) << 24) >> 24;
  },
  (c) => {
    const m = c.insn.modrm;
    c.r32[(m >> 3) & 7] = (c.readRm8(m) << 24) >> 24;
  },
);
sized(
  X | 0xbf,
  (c) => {
    const m = c.insn.modrm;
    c.r16[((m >> 3) & 7) << 1] = c.readRm16(m);
  },
  (c) => {
    const m = c.insn.modrm;
    c.r32[(m >> 3) & 7] = (c.readRm16(m) << 16) >> 16;
  },
);

// BSF / BSR: a zero source sets ZF and leaves the destination unchanged.
function bitScan(c: Cpu, reverse: boolean, bits: 16 | 32): void {
  const m = c.insn.modrm;
  const v = bits === 16 ? c.readRm16(m) : c.readRm32(m);
  const d = (m >> 3) & 7;
  if (v === 0) {
    c.setResultFlags(0, 0, 0);
    return;
  }
  const idx = reverse ? 31 - Math.clz32(v) : 31 - Math.clz32(v & -v);
  if (bits === 16) c.r16[d << 1] = idx;
  else c.r32[d] = idx;
  c.setResultFlags(1, 0, 0);
}
sized(
  X | 0xbc,
  (c) => bitScan(c, false, 16),
  (c) => bitScan(c, false, 32),
);
sized(
  X | 0xbd,
  (c) => bitScan(c, true, 16),
  (c) => bitScan(c, true, 32),
);

// XADD
both(X | 0xc0, (c) => {
  const m = c.insn.modrm;
  const r = REG8[(m >> 3) & 7];
  if (m >= 0xc0) {
    const d = REG8[m & 7];
    const a = c.r8[d];
    const sum = c.add(a, c.r8[r], 24);
    c.r8[r] = a;
    c.r8[d] = sum;
  } else {
    const a = c.rmwRead8(c.ea());
    const sum = c.add(a, c.r8[r], 24);
    c.rmwWrite8(sum);
    c.r8[r] = a;
  }
});
sized(
  X | 0xc1,
  (c) => {
    const m = c.insn.modrm;
    const r = ((m >> 3) & 7) << 1;
    if (m >= 0xc0) {
      const d = (m & 7) << 1;
      const a = c.r16[d];
      const sum = c.add(a, c.r16[r], 16);
      c.r16[r] = a;
      c.r16[d] = sum;
    } else {
      const a = c.rmwRead16(c.ea());
      const sum = c.add(a, c.r16[r], 16);
      c.rmwWrite16(sum);
      c.r16[r] = a;
    }
  },
  (c) => {
    const m = c.insn.modrm;
    const r = (m >> 3) & 7;
    if (m >= 0xc0) {
      const d = m & 7;
      const a = c.r32[d];
      const sum = c.add(a, c.r32[r], 0);
      c.r32[r] = a;
      c.r32[d] = sum;
    } else {
      const a = c.rmwRead32(c.ea());
      const sum = c.add(a, c.r32[r], 0);
      c.rmwWrite32(sum);
      c.r32[r] = a;
    }
  },
);

/** Host randomness for RDRAND, fetched in batches. */
const entropy = new Uint32Array(256);
let entropyLeft = 0;
function randomDword(): number {
  if (entropyLeft === 0) {
    randomFillSync(entropy);
    entropyLeft = entropy.length;
  }
  return entropy[--entropyLeft] | 0;
}

// 0F C7: CMPXCHG8B (/1, memory) and RDRAND (/6, register)
both(X | 0xc7, (c) => {
  const m = c.insn.modrm;
  if (m >= 0xc0 && ((m >> 3) & 7) === 6) {
    // RDRAND: always succeeds (CF=1), other arithmetic flags cleared.
    const v = randomDword();
    if (c.insn.opSize === 4) c.r32[m & 7] = v;
    else c.r16[(m & 7) << 1] = v;
    c.setResultFlags(1, 0, CF);
    return;
  }
  if (m >= 0xc0 || ((m >> 3) & 7) !== 1) c.undefinedOpcode();
  const lin = c.ea();
  c.checkWritable(lin, 8);
  const lo = c.readLin32(lin);
  const hi = c.readLin32((lin + 4) | 0);
  c.materializeFlags();
  if (lo === c.r32[0] && hi === c.r32[2]) {
    c.writeLin32(lin, c.r32[3]);
    c.writeLin32((lin + 4) | 0, c.r32[1]);
    c.flags |= ZF;
  } else {
    c.writeLin32(lin, lo);
    c.writeLin32((lin + 4) | 0, hi);
    c.r32[0] = lo;
    c.r32[2] = hi;
    c.flags &= ~ZF;
  }
});

// BSWAP (16-bit operand size: undefined; real CPUs zero the register's low word)
for (let n = 0; n < 8; n++) {
  sized(
    X | (0xc8 + n),
    (c) => {
      c.r16[n << 1] = 0;
    },
    (c) => {
      const v = c.r32[n];
      c.r32[n] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
    },
  );
}

// MMX: 0F 60-7F and D0-FF go to the x87/MMX unit (which shares the register file).
function mmxOp(op: number): (c: Cpu) => void {
  return (c) => {
    if ((c.cr0 & 0x4) !== 0) c.undefinedOpcode(); // CR0.EM
    if ((c.cr0 & CR0_TS) !== 0) c.raise(EXC_NM);
    // EMMS (0F 77) has no ModRM byte; a register-form ModRM keeps the unit from decoding an address.
    c.mmxExec(op, op === 0x77 ? 0xc0 : c.insn.modrm);
  };
}
for (let op = 0x60; op <= 0x7f; op++) if (op < 0x78 || op > 0x7d) both(X | op, mmxOp(op));
for (let op = 0xd1; op <= 0xfe; op++) both(X | op, mmxOp(op));
