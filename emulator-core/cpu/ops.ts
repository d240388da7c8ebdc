/**
 * Instruction dispatch tables. T16/T32 are indexed by the decoded opcode (DecodedInsn.op:
 * 0x000-0x0ff one-byte, 0x100-0x1ff 0F xx, 0x200-0x2ff 0F 38 xx, 0x300-0x3ff 0F 3A xx)
 * and chosen by the effective operand size. Handlers take their prefixes, ModRM operand
 * and immediates from the decoded instruction, cpu.insn.
 */
import { divS64, divU64, mulFlags, mulS32, mulU32, resHi, resLo, shiftRotate } from './arith.js';
import {
  AF,
  CF,
  CR0_EM,
  CR0_MP,
  CR0_TS,
  CS,
  DF,
  DS,
  ES,
  EXC_BR,
  EXC_DE,
  EXC_NM,
  FS,
  GS,
  IF,
  IOPL,
  OF,
  PF,
  SF,
  SS,
  TF,
  VM,
  ZF,
} from './constants.js';
import { REG8, type Cpu, type Instruction } from './cpu.js';
import { deliverInterrupt, farCall, farJump, farReturn, iret, loadSegment, softwareInterrupt } from './protected.js';
import { cmpsOp, insOp, lodsOp, movsOp, outsOp, scasOp, stosOp } from './string-ops.js';

export const T16: Instruction[] = new Array<Instruction>(1024);
export const T32: Instruction[] = new Array<Instruction>(1024);

const ud: Instruction = (c) => c.undefinedOpcode();
for (let i = 0; i < 1024; i++) {
  T16[i] = ud;
  T32[i] = ud;
}

export function both(op: number, f: Instruction): void {
  T16[op] = f;
  T32[op] = f;
}

export function sized(op: number, f16: Instruction, f32: Instruction): void {
  T16[op] = f16;
  T32[op] = f32;
}

/** The 8-bit immediate, sign-extended. */
export function immS8(c: Cpu): number {
  return (c.insn.imm << 24) >> 24;
}

// Jumps: the target is truncated to 16 bits under a 16-bit operand size.
export function jumpRel(c: Cpu, disp: number): void {
  if (c.insn.opSize === 4) c.ip = (c.ip + disp) | 0;
  else c.setEip((c.eip + disp) & 0xffff);
  c.branched = true;
}

export function jumpAbs(c: Cpu, eip: number): void {
  c.setEip(c.insn.opSize === 4 ? eip : eip & 0xffff);
}

// ------------------------------------------------------------------ ALU 00-3F

function aluOps(g: number): void {
  const base = g << 3;
  const cmp = g === 7;
  // Eb, Gb
  both(base, (c) => {
    const m = c.insn.modrm;
    const b = c.r8[REG8[(m >> 3) & 7]];
    if (m >= 0xc0) {
      const d = REG8[m & 7];
      const r = c.alu(g, c.r8[d], b, 24);
      if (!cmp) c.r8[d] = r;
    } else if (cmp) {
      c.alu(g, c.readLin8(c.ea()), b, 24);
    } else {
      c.rmwWrite8(c.alu(g, c.rmwRead8(c.ea()), b, 24));
    }
  });
  // Ev, Gv
  sized(
    base + 1,
    (c) => {
      const m = c.insn.modrm;
      const b = c.r16[((m >> 3) & 7) << 1];
      if (m >= 0xc0) {
        const d = (m & 7) << 1;
        const r = c.alu(g, c.r16[d], b, 16);
        if (!cmp) c.r16[d] = r;
      } else if (cmp) {
        c.alu(g, c.readLin16(c.ea()), b, 16);
      } else {
        c.rmwWrite16(c.alu(g, c.rmwRead16(c.ea()), b, 16));
      }
    },
    (c) => {
      const m = c.insn.modrm;
      const b = c.r32[(m >> 3) & 7];
      if (m >= 0xc0) {
        const d = m & 7;
        const r = c.alu(g, c.r32[d], b, 0);
        if (!cmp) c.r32[d] = r;
      } else if (cmp) {
        c.alu(g, c.readLin32(c.ea()), b, 0);
      } else {
        c.rmwWrite32(c.alu(g, c.rmwRead32(c.ea()), b, 0));
      }
    },
  );
  // Gb, Eb
  both(base + 2, (c) => {
    const m = c.insn.modrm;
    const d = REG8[(m >> 3) & 7];
    const r = c.alu(g, c.r8[d], c.readRm8(m), 24);
    if (!cmp) c.r8[d] = r;
  });
  // Gv, Ev
  sized(
    base + 3,
    (c) => {
      const m = c.insn.modrm;
      const d = ((m >> 3) & 7) << 1;
      const r = c.alu(g, c.r16[d], c.readRm16(m), 16);
      if (!cmp) c.r16[d] = r;
    },
    (c) => {
      const m = c.insn.modrm;
      const d = (m >> 3) & 7;
      const r = c.alu(g, c.r32[d], c.readRm32(m), 0);
      if (!cmp) c.r32[d] = r;
    },
  );
  // AL, Ib
  both(base + 4, (c) => {
    const r = c.alu(g, c.r8[0], c.insn.imm, 24);
    if (!cmp) c.r8[0] = r;
  });
  // eAX, Iv
  sized(
    base + 5,
    (c) => {
      const r = c.alu(g, c.r16[0], c.insn.imm, 16);
      if (!cmp) c.r16[0] = r;
    },
    (c) => {
      const r = c.alu(g, c.r32[0], c.insn.imm, 0);
      if (!cmp) c.r32[0] = r;
    },
  );
}
for (let g = 0; g < 8; g++) aluOps(g);

// Segment register push/pop
function segPushPop(pushOp: number, popOp: number, seg: number): void {
  sized(
    pushOp,
    (c) => c.push16(c.segSel[seg]),
    (c) => c.push32(c.segSel[seg]),
  );
  if (popOp < 0) return;
  const pop = (c: Cpu): void => {
    const v = c.insn.opSize === 4 ? c.stackRead32(0) : c.stackRead16(0);
    loadSegment(c, seg, v);
    c.sp = c.ss32 ? (c.r32[4] + (c.insn.opSize === 4 ? 4 : 2)) | 0 : (c.r16[8] + (c.insn.opSize === 4 ? 4 : 2)) & 0xffff;
    if (seg === SS) c.irqInhibit = true;
  };
  both(popOp, pop);
}
segPushPop(0x06, 0x07, ES);
segPushPop(0x0e, -1, CS);
segPushPop(0x16, 0x17, SS);
segPushPop(0x1e, 0x1f, DS);
segPushPop(0x1a0, 0x1a1, FS);
segPushPop(0x1a8, 0x1a9, GS);

// BCD adjustments
both(0x27, (c) => {
  // DAA
  const al = c.r8[0];
  const cf = c.getCF();
  const af = c.getAF();
  let r = al;
  let newCf = 0;
  let newAf = 0;
  if ((al & 0xf) > 9 || af) {
    r = al + 6;
    newCf = cf | (r > 0xff ? 1 : 0);
    newAf = AF;
  }
  if (al > 0x99 || cf) {
    r += 0x60;
    newCf = 1;
  }
  c.r8[0] = r;
  c.setResultFlags(r & 0xff, 24, (newCf ? CF : 0) | newAf);
});
both(0x2f, (c) => {
  // DAS
  const al = c.r8[0];
  const cf = c.getCF();
  const af = c.getAF();
  let r = al;
  let newCf = 0;
  let newAf = 0;
  if ((al & 0xf) > 9 || af) {
    r = al - 6;
    newCf = cf | (al < 6 ? 1 : 0);
    newAf = AF;
  }
  if (al > 0x99 || cf) {
    r -= 0x60;
    newCf = 1;
  }
  c.r8[0] = r;
  c.setResultFlags(r & 0xff, 24, (newCf ? CF : 0) | newAf);
});
both(0x37, (c) => {
  // AAA
  if ((c.r8[0] & 0xf) > 9 || c.getAF()) {
    c.r16[0] = c.r16[0] + 0x106;
    c.r8[0] &= 0xf;
    c.setResultFlags(c.r8[0], 24, AF | CF);
  } else {
    c.r8[0] &= 0xf;
    c.setResultFlags(c.r8[0], 24, 0);
  }
});
both(0x3f, (c) => {
  // AAS
  if ((c.r8[0] & 0xf) > 9 || c.getAF()) {
    c.r16[0] = c.r16[0] - 6;
    c.r8[1] = c.r8[1] - 1;
    c.r8[0] &= 0xf;
    c.setResultFlags(c.r8[0], 24, AF | CF);
  } else {
    c.r8[0] &= 0xf;
    c.setResultFlags(c.r8[0], 24, 0);
  }
});

// ------------------------------------------------------------------ 40-6F

for (let n = 0; n < 8; n++) {
  const i16 = n << 1;
  sized(
    0x40 + n,
    (c) => {
      c.r16[i16] = c.inc(c.r16[i16], 16);
    },
    (c) => {
      c.r32[n] = c.inc(c.r32[n], 0);
    },
  );
  sized(
    0x48 + n,
    (c) => {
      c.r16[i16] = c.dec(c.r16[i16], 16);
    },
    (c) => {
      c.r32[n] = c.dec(c.r32[n], 0);
    },
  );
  sized(
    0x50 + n,
    (c) => c.push16(c.r16[i16]),
    (c) => c.push32(c.r32[n]),
  );
  sized(
    0x58 + n,
    (c) => {
      const v = c.pop16();
      c.r16[i16] = v;
    },
    (c) => {
      const v = c.pop32();
      c.r32[n] = v;
    },
  );
}

sized(
  0x60,
  // One push at a time, as the CPU does: a fault leaves the pushes before it in memory
  // (below ESP, which is restored) and reports the CR2 of the push that faulted.
  (c) => {
    const sp = c.r16[8];
    const esp = c.r32[4];
    try {
      for (let i = 0; i < 8; i++) c.push16(i === 4 ? sp : c.r16[i << 1]);
    } catch (e) {
      c.r32[4] = esp;
      throw e;
    }
  },
  (c) => {
    const sp = c.r32[4];
    try {
      for (let i = 0; i < 8; i++) c.push32(i === 4 ? sp : c.r32[i]);
    } catch (e) {
      c.r32[4] = sp;
      throw e;
    }
  },
);
sized(
  0x61,
  // One register at a time (DI first), as the CPU does: a fault leaves those before it
  // loaded; ESP changes only at the end.
  (c) => {
    for (let i = 7; i >= 0; i--) {
      const v = c.stackRead16((7 - i) * 2);
      if (i !== 4) c.r16[i << 1] = v;
    }
    c.sp = c.ss32 ? (c.r32[4] + 16) | 0 : (c.r16[8] + 16) & 0xffff;
  },
  (c) => {
    for (let i = 7; i >= 0; i--) {
      const v = c.stackRead32((7 - i) * 4);
      if (i !== 4) c.r32[i] = v;
    }
    c.sp = c.ss32 ? (c.r32[4] + 32) | 0 : (c.r16[8] + 32) & 0xffff;
  },
);
sized(
  0x62,
  (c) => {
    const m = c.insn.modrm;
    if (m >= 0xc0) c.undefinedOpcode();
    const lin = c.ea();
    const lo = (c.readLin16(lin) << 16) >> 16;
    const hi = (c.readLin16((lin + 2) | 0) << 16) >> 16;
    const idx = (c.r16[((m >> 3) & 7) << 1] << 16) >> 16;
    if (idx < lo || idx > hi) c.raise(EXC_BR);
  },
  (c) => {
    const m = c.insn.modrm;
    if (m >= 0xc0) c.undefinedOpcode();
    const lin = c.ea();
    const lo = c.readLin32(lin);
    const hi = c.readLin32((lin + 4) | 0);
    const idx = c.r32[(m >> 3) & 7];
    if (idx < lo || idx > hi) c.raise(EXC_BR);
  },
);
both(0x63, (c) => {
  // ARPL
  if (!c.protectedMode) c.undefinedOpcode();
  const m = c.insn.modrm;
  const src = c.r16[((m >> 3) & 7) << 1];
  if (m >= 0xc0) {
    const d = (m & 7) << 1;
    const v = c.r16[d];
    if ((v & 3) < (src & 3)) {
      c.r16[d] = (v & ~3) | (src & 3);
      c.setFlagBit(ZF, true);
    } else c.setFlagBit(ZF, false);
  } else {
    const v = c.rmwRead16(c.ea());
    if ((v & 3) < (src & 3)) {
      c.rmwWrite16((v & ~3) | (src & 3));
      c.setFlagBit(ZF, true);
    } else c.setFlagBit(ZF, false);
  }
});
sized(
  0x68,
  (c) => c.push16(c.insn.imm),
  (c) => c.push32(c.insn.imm),
);
sized(
  0x6a,
  (c) => c.push16(immS8(c)),
  (c) => c.push32(immS8(c)),
);
function imul16(c: Cpu, a: number, b: number): number {
  const r = ((a << 16) >> 16) * ((b << 16) >> 16);
  const lo = r & 0xffff;
  mulFlags(c, lo, 16, ((lo << 16) >> 16) !== r);
  return lo;
}
function imul32(c: Cpu, a: number, b: number): number {
  mulS32(a, b);
  mulFlags(c, resLo, 0, resHi !== resLo >> 31);
  return resLo;
}
sized(
  0x69,
  (c) => {
    const m = c.insn.modrm;
    const a = c.readRm16(m);
    c.r16[((m >> 3) & 7) << 1] = imul16(c, a, c.insn.imm);
  },
  (c) => {
    const m = c.insn.modrm;
    const a = c.readRm32(m);
    c.r32[(m >> 3) & 7] = imul32(c, a, c.insn.imm);
  },
);
sized(
  0x6b,
  (c) => {
    const m = c.insn.modrm;
    const a = c.readRm16(m);
    c.r16[((m >> 3) & 7) << 1] = imul16(c, a, immS8(c));
  },
  (c) => {
    const m = c.insn.modrm;
    const a = c.readRm32(m);
    c.r32[(m >> 3) & 7] = imul32(c, a, immS8(c));
  },
);
both(0x6c, (c) => insOp(c, 1));
sized(
  0x6d,
  (c) => insOp(c, 2),
  (c) => insOp(c, 4),
);
both(0x6e, (c) => outsOp(c, 1));
sized(
  0x6f,
  (c) => outsOp(c, 2),
  (c) => outsOp(c, 4),
);

// ------------------------------------------------------------------ Jcc

for (let cc = 0; cc < 16; cc++) {
  both(0x70 + cc, (c) => {
    const d = immS8(c);
    if (c.cond(cc)) jumpRel(c, d);
    c.branched = true;
  });
  sized(
    0x180 + cc,
    (c) => {
      const d = (c.insn.imm << 16) >> 16;
      if (c.cond(cc)) jumpRel(c, d);
      c.branched = true;
    },
    (c) => {
      const d = c.insn.imm;
      if (c.cond(cc)) c.ip = (c.ip + d) | 0;
      c.branched = true;
    },
  );
}

// ------------------------------------------------------------------ 80-8F

function group1(op: number, immSize: number): void {
  // immSize: 1 = Ib (op 80/82/83 sign-extended for Ev), 2/4 = Iv
  if (op === 0x80 || op === 0x82) {
    both(op, (c) => {
      const m = c.insn.modrm;
      const g = (m >> 3) & 7;
      if (m >= 0xc0) {
        const d = REG8[m & 7];
        const r = c.alu(g, c.r8[d], c.insn.imm, 24);
        if (g !== 7) c.r8[d] = r;
      } else {
        const lin = c.ea();
        const imm = c.insn.imm;
        if (g === 7) c.alu(7, c.readLin8(lin), imm, 24);
        else c.rmwWrite8(c.alu(g, c.rmwRead8(lin), imm, 24));
      }
    });
    return;
  }
  const s8 = immSize === 1;
  sized(
    op,
    (c) => {
      const m = c.insn.modrm;
      const g = (m >> 3) & 7;
      if (m >= 0xc0) {
        const d = (m & 7) << 1;
        const imm = s8 ? immS8(c) : c.insn.imm;
        const r = c.alu(g, c.r16[d], imm, 16);
        if (g !== 7) c.r16[d] = r;
      } else {
        const lin = c.ea();
        const imm = s8 ? immS8(c) : c.insn.imm;
        if (g === 7) c.alu(7, c.readLin16(lin), imm, 16);
        else c.rmwWrite16(c.alu(g, c.rmwRead16(lin), imm, 16));
      }
    },
    (c) => {
      const m = c.insn.modrm;
      const g = (m >> 3) & 7;
      if (m >= 0xc0) {
        const d = m & 7;
        const imm = s8 ? immS8(c) : c.insn.imm;
        const r = c.alu(g, c.r32[d], imm, 0);
        if (g !== 7) c.r32[d] = r;
      } else {
        const lin = c.ea();
        const imm = s8 ? immS8(c) : c.insn.imm;
        if (g === 7) c.alu(7, c.readLin32(lin), imm, 0);
        else c.rmwWrite32(c.alu(g, c.rmwRead32(lin), imm, 0));
      }
    },
  );
}
group1(0x80, 1);
group1(0x81, 4);
group1(0x82, 1);
group1(0x83, 1);

both(0x84, (c) => {
  const m = c.insn.modrm;
  c.logic(c.readRm8(m) & c.r8[REG8[(m >> 3) & 7]], 24);
});
sized(
  0x85,
  (c) => {
    const m = c.insn.modrm;
    c.logic(c.readRm16(m) & c.r16[((m >> 3) & 7) << 1], 16);
  },
  (c) => {
    const m = c.insn.modrm;
    c.logic(c.readRm32(m) & c.r32[(m >> 3) & 7], 0);
  },
);
both(0x86, (c) => {
  const m = c.insn.modrm;
  const r = REG8[(m >> 3) & 7];
  if (m >= 0xc0) {
    const d = REG8[m & 7];
    const t = c.r8[d];
    c.r8[d] = c.r8[r];
    c.r8[r] = t;
  } else {
    const v = c.rmwRead8(c.ea());
    c.rmwWrite8(c.r8[r]);
    c.r8[r] = v;
  }
});
sized(
  0x87,
  (c) => {
    const m = c.insn.modrm;
    const r = ((m >> 3) & 7) << 1;
    if (m >= 0xc0) {
      const d = (m & 7) << 1;
      const t = c.r16[d];
      c.r16[d] = c.r16[r];
      c.r16[r] = t;
    } else {
      const v = c.rmwRead16(c.ea());
      c.rmwWrite16(c.r16[r]);
      c.r16[r] = v;
    }
  },
  (c) => {
    const m = c.insn.modrm;
    const r = (m >> 3) & 7;
    if (m >= 0xc0) {
      const d = m & 7;
      const t = c.r32[d];
      c.r32[d] = c.r32[r];
      c.r32[r] = t;
    } else {
      const v = c.rmwRead32(c.ea());
      c.rmwWrite32(c.r32[r]);
      c.r32[r] = v;
    }
  },
);
both(0x88, (c) => {
  const m = c.insn.modrm;
  c.writeRm8(m, c.r8[REG8[(m >> 3) & 7]]);
});
sized(
  0x89,
  (c) => {
    const m = c.insn.modrm;
    c.writeRm16(m, c.r16[((m >> 3) & 7) << 1]);
  },
  (c) => {
    const m = c.insn.modrm;
    if (m >= 0xc0) c.r32[m & 7] = c.r32[(m >> 3) & 7];
    else c.writeLin32(c.ea(), c.r32[(m >> 3) & 7]);
  },
);
both(0x8a, (c) => {
  const m = c.insn.modrm;
  c.r8[REG8[(m >> 3) & 7]] = c.readRm8(m);
});
sized(
  0x8b,
  (c) => {
    const m = c.insn.modrm;
    c.r16[((m >> 3) & 7) << 1] = c.readRm16(m);
  },
  (c) => {
    const m = c.insn.modrm;
    c.r32[(m >> 3) & 7] = m >= 0xc0 ? c.r32[m & 7] : c.readLin32(c.ea());
  },
);
sized(
  0x8c,
  (c) => {
    const m = c.insn.modrm;
    const s = (m >> 3) & 7;
    if (s > 5) c.undefinedOpcode();
    c.writeRm16(m, c.segSel[s]);
  },
  (c) => {
    const m = c.insn.modrm;
    const s = (m >> 3) & 7;
    if (s > 5) c.undefinedOpcode();
    if (m >= 0xc0) c.r32[m & 7] = c.segSel[s];
    else c.writeLin16(c.ea(), c.segSel[s]);
  },
);
sized(
  0x8d,
  (c) => {
    const m = c.insn.modrm;
    if (m >= 0xc0) c.undefinedOpcode();
    c.r16[((m >> 3) & 7) << 1] = c.eaOff();
  },
  (c) => {
    const m = c.insn.modrm;
    if (m >= 0xc0) c.undefinedOpcode();
    c.r32[(m >> 3) & 7] = c.eaOff();
  },
);
both(0x8e, (c) => {
  const m = c.insn.modrm;
  const s = (m >> 3) & 7;
  if (s === CS || s > 5) c.undefinedOpcode();
  loadSegment(c, s, c.readRm16(m));
  if (s === SS) c.irqInhibit = true;
});
sized(
  0x8f,
  (c) => {
    const m = c.insn.modrm;
    const sp = c.r32[4];
    const v = c.pop16();
    try {
      c.writeRm16(m, v);
    } catch (e) {
      c.r32[4] = sp;
      throw e;
    }
  },
  (c) => {
    const m = c.insn.modrm;
    const sp = c.r32[4];
    const v = c.pop32();
    try {
      c.writeRm32(m, v);
    } catch (e) {
      c.r32[4] = sp;
      throw e;
    }
  },
);

// ------------------------------------------------------------------ 90-9F

both(0x90, (c) => {
  // PAUSE (F3 90): a spin-wait loop. With several CPUs taking turns, the spinning one
  // gives up its turn so the CPU holding the lock can run (Cpu.pauseExits).
  if (c.insn.rep !== 0 && c.pauseExits) c.exitRequested = true;
});
for (let n = 1; n < 8; n++) {
  sized(
    0x90 + n,
    (c) => {
      const t = c.r16[0];
      c.r16[0] = c.r16[n << 1];
      c.r16[n << 1] = t;
    },
    (c) => {
      const t = c.r32[0];
      c.r32[0] = c.r32[n];
      c.r32[n] = t;
    },
  );
}
sized(
  0x98,
  (c) => {
    c.r16[0] = (c.r8[0] << 24) >> 24;
  },
  (c) => {
    c.r32[0] = (c.r16[0] << 16) >> 16;
  },
);
sized(
  0x99,
  (c) => {
    c.r16[4] = (c.r16[0] & 0x8000) !== 0 ? 0xffff : 0;
  },
  (c) => {
    c.r32[2] = c.r32[0] >> 31;
  },
);
sized(
  0x9a,
  (c) => {
    const off = c.insn.imm;
    farCall(c, c.insn.imm2, off, false);
  },
  (c) => {
    const off = c.insn.imm;
    farCall(c, c.insn.imm2, off, true);
  },
);
both(0x9b, (c) => {
  // WAIT/FWAIT
  if ((c.cr0 & (CR0_TS | CR0_MP)) === (CR0_TS | CR0_MP)) c.raise(EXC_NM);
  c.fpu.checkPendingException();
});
sized(
  0x9c,
  (c) => {
    if ((c.flags & VM) !== 0 && (c.flags & IOPL) !== IOPL) c.gp(0);
    c.push16(c.getEflags());
  },
  (c) => {
    if ((c.flags & VM) !== 0 && (c.flags & IOPL) !== IOPL) c.gp(0);
    c.push32(c.getEflags() & ~(VM | 0x10000));
  },
);
function popf(c: Cpu, operand32: boolean): void {
  const vm86 = (c.flags & VM) !== 0;
  if (vm86 && (c.flags & IOPL) !== IOPL) c.gp(0);
  const v = operand32 ? c.stackRead32(0) : c.stackRead16(0);
  let mask = CF | PF | AF | ZF | SF | TF | DF | OF | (1 << 14) | (1 << 18) | (1 << 21);
  const iopl = (c.flags & IOPL) >>> 12;
  if (!c.protectedMode && !vm86) mask |= IF | IOPL;
  else if (vm86) mask |= IF;
  else {
    if (c.cpl === 0) mask |= IOPL;
    if (c.cpl <= iopl) mask |= IF;
  }
  if (!operand32) mask &= 0xffff;
  c.sp = c.ss32 ? (c.r32[4] + (operand32 ? 4 : 2)) | 0 : (c.r16[8] + (operand32 ? 4 : 2)) & 0xffff;
  c.setEflags(v, mask);
}
sized(
  0x9d,
  (c) => popf(c, false),
  (c) => popf(c, true),
);
both(0x9e, (c) => {
  c.materializeFlags();
  c.flags = (c.flags & ~(SF | ZF | AF | PF | CF)) | (c.r8[1] & (SF | ZF | AF | PF | CF));
});
both(0x9f, (c) => {
  c.r8[1] = c.getEflags() & 0xff;
});

// ------------------------------------------------------------------ A0-AF

function moffs(c: Cpu): number {
  const off = c.insn.imm;
  return c.segAddr(c.dataSeg(), off);
}
both(0xa0, (c) => {
  c.r8[0] = c.readLin8(moffs(c));
});
sized(
  0xa1,
  (c) => {
    c.r16[0] = c.readLin16(moffs(c));
  },
  (c) => {
    c.r32[0] = c.readLin32(moffs(c));
  },
);
both(0xa2, (c) => c.writeLin8(moffs(c), c.r8[0]));
sized(
  0xa3,
  (c) => c.writeLin16(moffs(c), c.r16[0]),
  (c) => c.writeLin32(moffs(c), c.r32[0]),
);
both(0xa4, (c) => movsOp(c, 1));
sized(
  0xa5,
  (c) => movsOp(c, 2),
  (c) => movsOp(c, 4),
);
both(0xa6, (c) => cmpsOp(c, 1));
sized(
  0xa7,
  (c) => cmpsOp(c, 2),
  (c) => cmpsOp(c, 4),
);
both(0xa8, (c) => {
  c.logic(c.r8[0] & c.insn.imm, 24);
});
sized(
  0xa9,
  (c) => {
    c.logic(c.r16[0] & c.insn.imm, 16);
  },
  (c) => {
    c.logic(c.r32[0] & c.insn.imm, 0);
  },
);
both(0xaa, (c) => stosOp(c, 1));
sized(
  0xab,
  (c) => stosOp(c, 2),
  (c) => stosOp(c, 4),
);
both(0xac, (c) => lodsOp(c, 1));
sized(
  0xad,
  (c) => lodsOp(c, 2),
  (c) => lodsOp(c, 4),
);
both(0xae, (c) => scasOp(c, 1));
sized(
  0xaf,
  (c) => scasOp(c, 2),
  (c) => scasOp(c, 4),
);

// ------------------------------------------------------------------ B0-BF

for (let n = 0; n < 8; n++) {
  const i8 = REG8[n];
  both(0xb0 + n, (c) => {
    c.r8[i8] = c.insn.imm;
  });
  sized(
    0xb8 + n,
    (c) => {
      c.r16[n << 1] = c.insn.imm;
    },
    (c) => {
      c.r32[n] = c.insn.imm;
    },
  );
}

// ------------------------------------------------------------------ C0-CF

function group2(op: number, countKind: 'ib' | 'one' | 'cl', byteOp: boolean): void {
  const count = (c: Cpu): number => (countKind === 'ib' ? c.insn.imm : countKind === 'one' ? 1 : c.r8[4]);
  if (byteOp) {
    both(op, (c) => {
      const m = c.insn.modrm;
      const g = (m >> 3) & 7;
      if (m >= 0xc0) {
        const d = REG8[m & 7];
        c.r8[d] = shiftRotate(c, g, c.r8[d], count(c), 8);
      } else {
        const lin = c.ea();
        const n = count(c);
        const v = c.rmwRead8(lin);
        c.rmwWrite8(shiftRotate(c, g, v, n, 8));
      }
    });
    return;
  }
  sized(
    op,
    (c) => {
      const m = c.insn.modrm;
      const g = (m >> 3) & 7;
      if (m >= 0xc0) {
        const d = (m & 7) << 1;
        c.r16[d] = shiftRotate(c, g, c.r16[d], count(c), 16);
      } else {
        const lin = c.ea();
        const n = count(c);
        const v = c.rmwRead16(lin);
        c.rmwWrite16(shiftRotate(c, g, v, n, 16));
      }
    },
    (c) => {
      const m = c.insn.modrm;
      const g = (m >> 3) & 7;
      if (m >= 0xc0) {
        const d = m & 7;
        c.r32[d] = shiftRotate(c, g, c.r32[d], count(c), 32);
      } else {
        const lin = c.ea();
        const n = count(c);
        const v = c.rmwRead32(lin);
        c.rmwWrite32(shiftRotate(c, g, v, n, 32));
      }
    },
  );
}
group2(0xc0, 'ib', true);
group2(0xc1, 'ib', false);
group2(0xd0, 'one', true);
group2(0xd1, 'one', false);
group2(0xd2, 'cl', true);
group2(0xd3, 'cl', false);

sized(
  0xc2,
  (c) => {
    const imm = c.insn.imm;
    const eip = c.stackRead16(0);
    c.sp = c.ss32 ? (c.r32[4] + 2 + imm) | 0 : (c.r16[8] + 2 + imm) & 0xffff;
    c.setEip(eip);
  },
  (c) => {
    const imm = c.insn.imm;
    const eip = c.stackRead32(0);
    c.sp = c.ss32 ? (c.r32[4] + 4 + imm) | 0 : (c.r16[8] + 4 + imm) & 0xffff;
    c.setEip(eip);
  },
);
sized(
  0xc3,
  (c) => c.setEip(c.pop16()),
  (c) => c.setEip(c.pop32()),
);
function loadFarPointer(c: Cpu, seg: number, operand32: boolean): void {
  const m = c.insn.modrm;
  if (m >= 0xc0) c.undefinedOpcode();
  const lin = c.ea();
  const off = operand32 ? c.readLin32(lin) : c.readLin16(lin);
  const sel = c.readLin16((lin + (operand32 ? 4 : 2)) | 0);
  loadSegment(c, seg, sel);
  if (operand32) c.r32[(m >> 3) & 7] = off;
  else c.r16[((m >> 3) & 7) << 1] = off;
}
export { loadFarPointer };
sized(
  0xc4,
  (c) => loadFarPointer(c, ES, false),
  (c) => loadFarPointer(c, ES, true),
);
sized(
  0xc5,
  (c) => loadFarPointer(c, DS, false),
  (c) => loadFarPointer(c, DS, true),
);
both(0xc6, (c) => {
  const m = c.insn.modrm;
  if ((m & 0x38) !== 0) c.undefinedOpcode();
  if (m >= 0xc0) c.r8[REG8[m & 7]] = c.insn.imm;
  else {
    const lin = c.ea();
    c.writeLin8(lin, c.insn.imm);
  }
});
sized(
  0xc7,
  (c) => {
    const m = c.insn.modrm;
    if ((m & 0x38) !== 0) c.undefinedOpcode();
    if (m >= 0xc0) c.r16[(m & 7) << 1] = c.insn.imm;
    else {
      const lin = c.ea();
      c.writeLin16(lin, c.insn.imm);
    }
  },
  (c) => {
    const m = c.insn.modrm;
    if ((m & 0x38) !== 0) c.undefinedOpcode();
    if (m >= 0xc0) c.r32[m & 7] = c.insn.imm;
    else {
      const lin = c.ea();
      c.writeLin32(lin, c.insn.imm);
    }
  },
);
function enter(c: Cpu, operand32: boolean): void {
  const size = c.insn.imm;
  const level = c.insn.imm2 & 31;
  const w = operand32 ? 4 : 2;
  const sp0 = c.r32[4];
  const bp0 = c.r32[5];
  try {
    c.push(operand32 ? c.r32[5] : c.r16[10]);
    // FrameTemp is the whole ESP for a 32-bit ENTER even on a 16-bit stack (as the CPU does).
    const frame = operand32 ? c.r32[4] : c.r16[8];
    if (level > 0) {
      let bp = c.ss32 ? c.r32[5] : c.r16[10];
      for (let i = 1; i < level; i++) {
        bp = c.ss32 ? (bp - w) | 0 : (bp - w) & 0xffff;
        c.push(operand32 ? c.readLin32(c.segAddr(SS, bp)) : c.readLin16(c.segAddr(SS, bp)));
      }
      c.push(frame);
    }
    const newSp = c.ss32 ? (c.r32[4] - size) | 0 : (c.r16[8] - size) & 0xffff;
    if (size > 0) c.checkWritable(c.segAddr(SS, newSp), 1);
    if (operand32) c.r32[5] = frame;
    else c.r16[10] = frame;
    c.sp = newSp;
  } catch (e) {
    c.r32[4] = sp0;
    c.r32[5] = bp0;
    throw e;
  }
}
sized(
  0xc8,
  (c) => enter(c, false),
  (c) => enter(c, true),
);
sized(
  0xc9,
  (c) => {
    const bp = c.ss32 ? c.r32[5] : c.r16[10];
    const v = c.readLin16(c.segAddr(SS, bp));
    c.sp = c.ss32 ? (bp + 2) | 0 : (bp + 2) & 0xffff;
    c.r16[10] = v;
  },
  (c) => {
    const bp = c.ss32 ? c.r32[5] : c.r16[10];
    const v = c.readLin32(c.segAddr(SS, bp));
    c.sp = c.ss32 ? (bp + 4) | 0 : (bp + 4) & 0xffff;
    c.r32[5] = v;
  },
);
sized(
  0xca,
  (c) => farReturn(c, false, c.insn.imm),
  (c) => farReturn(c, true, c.insn.imm),
);
sized(
  0xcb,
  (c) => farReturn(c, false, 0),
  (c) => farReturn(c, true, 0),
);
both(0xcc, (c) => softwareInterrupt(c, 3));
both(0xcd, (c) => softwareInterrupt(c, c.insn.imm));
both(0xce, (c) => {
  if (c.getOF()) softwareInterrupt(c, 4);
});
sized(
  0xcf,
  (c) => {
    iret(c, false);
    c.nmiBlocked = false;
  },
  (c) => {
    iret(c, true);
    c.nmiBlocked = false;
  },
);

// ------------------------------------------------------------------ D4-DF

both(0xd4, (c) => {
  const base = c.insn.imm;
  if (base === 0) c.raise(EXC_DE);
  const al = c.r8[0];
  c.r8[1] = Math.floor(al / base);
  c.r8[0] = al % base;
  c.setResultFlags(c.r8[0], 24, 0);
});
both(0xd5, (c) => {
  const base = c.insn.imm;
  const al = (c.r8[0] + c.r8[1] * base) & 0xff;
  c.r16[0] = al;
  c.setResultFlags(al, 24, 0);
});
both(0xd6, (c) => {
  c.r8[0] = c.getCF() !== 0 ? 0xff : 0;
});
both(0xd7, (c) => {
  const off = c.insn.addrSize === 4 ? (c.r32[3] + c.r8[0]) | 0 : (c.r16[6] + c.r8[0]) & 0xffff;
  c.r8[0] = c.readLin8(c.segAddr(c.dataSeg(), off));
});

// ------------------------------------------------------------------ E0-EF

function loopCount(c: Cpu): number {
  // Decrement (E)CX per address size and return the new value.
  if (c.insn.addrSize === 4) return (c.r32[1] = c.r32[1] - 1);
  return (c.r16[2] = c.r16[2] - 1);
}
both(0xe0, (c) => {
  const d = immS8(c);
  if (loopCount(c) !== 0 && !c.getZF()) jumpRel(c, d);
  c.branched = true;
});
both(0xe1, (c) => {
  const d = immS8(c);
  if (loopCount(c) !== 0 && c.getZF()) jumpRel(c, d);
  c.branched = true;
});
both(0xe2, (c) => {
  const d = immS8(c);
  if (loopCount(c) !== 0) jumpRel(c, d);
  c.branched = true;
});
both(0xe3, (c) => {
  const d = immS8(c);
  if ((c.insn.addrSize === 4 ? c.r32[1] : c.r16[2]) === 0) jumpRel(c, d);
  c.branched = true;
});
function portIn(c: Cpu, port: number, size: 1 | 2 | 4): void {
  c.checkIo(port, size);
  const v = c.io.read(port, size);
  if (size === 1) c.r8[0] = v;
  else if (size === 2) c.r16[0] = v;
  else c.r32[0] = v;
}
function portOut(c: Cpu, port: number, size: 1 | 2 | 4): void {
  c.checkIo(port, size);
  c.io.write(port, size, size === 1 ? c.r8[0] : size === 2 ? c.r16[0] : c.r32[0] >>> 0);
}
both(0xe4, (c) => portIn(c, c.insn.imm, 1));
sized(
  0xe5,
  (c) => portIn(c, c.insn.imm, 2),
  (c) => portIn(c, c.insn.imm, 4),
);
both(0xe6, (c) => portOut(c, c.insn.imm, 1));
sized(
  0xe7,
  (c) => portOut(c, c.insn.imm, 2),
  (c) => portOut(c, c.insn.imm, 4),
);
sized(
  0xe8,
  (c) => {
    const d = (c.insn.imm << 16) >> 16;
    c.push16(c.eip);
    jumpRel(c, d);
  },
  (c) => {
    const d = c.insn.imm;
    c.push32(c.eip);
    c.ip = (c.ip + d) | 0;
    c.branched = true;
  },
);
sized(
  0xe9,
  (c) => jumpRel(c, (c.insn.imm << 16) >> 16),
  (c) => {
    const d = c.insn.imm;
    c.ip = (c.ip + d) | 0;
    c.branched = true;
  },
);
sized(
  0xea,
  (c) => {
    const off = c.insn.imm;
    farJump(c, c.insn.imm2, off, false);
  },
  (c) => {
    const off = c.insn.imm;
    farJump(c, c.insn.imm2, off, true);
  },
);
both(0xeb, (c) => jumpRel(c, immS8(c)));
both(0xec, (c) => portIn(c, c.r16[4], 1));
sized(
  0xed,
  (c) => portIn(c, c.r16[4], 2),
  (c) => portIn(c, c.r16[4], 4),
);
both(0xee, (c) => portOut(c, c.r16[4], 1));
sized(
  0xef,
  (c) => portOut(c, c.r16[4], 2),
  (c) => portOut(c, c.r16[4], 4),
);

// ------------------------------------------------------------------ F1-FF

both(0xf1, (c) => deliverInterrupt(c, 1, false, -1, false)); // INT1 / ICEBP
both(0xf4, (c) => {
  if (c.cpl !== 0) c.gp(0);
  c.halted = true;
  c.exitRequested = true;
});
both(0xf5, (c) => {
  c.materializeFlags();
  c.flags ^= CF;
});

function group3(c: Cpu, bits: 8 | 16 | 32): void {
  const m = c.insn.modrm;
  const g = (m >> 3) & 7;
  const sh = 32 - bits;
  const regIdx = bits === 8 ? REG8[m & 7] : bits === 16 ? (m & 7) << 1 : m & 7;
  const isReg = m >= 0xc0;
  const lin = isReg ? 0 : c.ea();
  const read = (): number =>
    isReg ? (bits === 8 ? c.r8[regIdx] : bits === 16 ? c.r16[regIdx] : c.r32[regIdx]) : bits === 8 ? c.readLin8(lin) : bits === 16 ? c.readLin16(lin) : c.readLin32(lin);
  switch (g) {
    case 0:
    case 1: {
      const v = read();
      const imm = c.insn.imm;
      c.logic(v & imm, sh);
      return;
    }
    case 2:
    case 3: {
      // NOT / NEG (read-modify-write)
      let v: number;
      if (isReg) v = read();
      else v = bits === 8 ? c.rmwRead8(lin) : bits === 16 ? c.rmwRead16(lin) : c.rmwRead32(lin);
      const r = g === 2 ? ~v : c.sub(0, v, sh);
      if (isReg) {
        if (bits === 8) c.r8[regIdx] = r;
        else if (bits === 16) c.r16[regIdx] = r;
        else c.r32[regIdx] = r;
      } else if (bits === 8) c.rmwWrite8(r);
      else if (bits === 16) c.rmwWrite16(r);
      else c.rmwWrite32(r);
      return;
    }
    case 4: {
      const v = read();
      if (bits === 8) {
        const r = c.r8[0] * v;
        c.r16[0] = r;
        mulFlags(c, r & 0xff, 24, r > 0xff);
      } else if (bits === 16) {
        const r = c.r16[0] * v;
        c.r16[0] = r;
        c.r16[4] = r >>> 16;
        mulFlags(c, r & 0xffff, 16, r > 0xffff);
      } else {
        mulU32(c.r32[0], v);
        c.r32[0] = resLo;
        c.r32[2] = resHi;
        mulFlags(c, resLo, 0, resHi !== 0);
      }
      return;
    }
    case 5: {
      const v = read();
      if (bits === 8) {
        const r = ((c.r8[0] << 24) >> 24) * ((v << 24) >> 24);
        c.r16[0] = r;
        mulFlags(c, r & 0xff, 24, ((r << 24) >> 24) !== r);
      } else if (bits === 16) {
        const r = ((c.r16[0] << 16) >> 16) * ((v << 16) >> 16);
        c.r16[0] = r;
        c.r16[4] = r >> 16;
        mulFlags(c, r & 0xffff, 16, ((r << 16) >> 16) !== r);
      } else {
        mulS32(c.r32[0], v);
        c.r32[0] = resLo;
        c.r32[2] = resHi;
        mulFlags(c, resLo, 0, resHi !== resLo >> 31);
      }
      return;
    }
    case 6: {
      const v = read();
      if (bits === 8) {
        if (v === 0) c.raise(EXC_DE);
        const n = c.r16[0];
        const q = Math.floor(n / v);
        if (q > 0xff) c.raise(EXC_DE);
        c.r8[0] = q;
        c.r8[1] = n % v;
      } else if (bits === 16) {
        if (v === 0) c.raise(EXC_DE);
        const n = c.r16[4] * 65536 + c.r16[0];
        const q = Math.floor(n / v);
        if (q > 0xffff) c.raise(EXC_DE);
        c.r16[0] = q;
        c.r16[4] = n % v;
      } else {
        if (!divU64(c.r32[2], c.r32[0], v)) c.raise(EXC_DE);
        c.r32[0] = resLo;
        c.r32[2] = resHi;
      }
      return;
    }
    default: {
      const v = read();
      if (bits === 8) {
        const d = (v << 24) >> 24;
        if (d === 0) c.raise(EXC_DE);
        const n = (c.r16[0] << 16) >> 16;
        const q = Math.trunc(n / d);
        if (q > 127 || q < -128) c.raise(EXC_DE);
        c.r8[0] = q;
        c.r8[1] = n % d;
      } else if (bits === 16) {
        const d = (v << 16) >> 16;
        if (d === 0) c.raise(EXC_DE);
        const n = (c.r16[4] << 16) | c.r16[0];
        const q = Math.trunc(n / d);
        if (q > 32767 || q < -32768) c.raise(EXC_DE);
        c.r16[0] = q;
        c.r16[4] = n % d;
      } else {
        if (!divS64(c.r32[2], c.r32[0], v)) c.raise(EXC_DE);
        c.r32[0] = resLo;
        c.r32[2] = resHi;
      }
    }
  }
}
both(0xf6, (c) => group3(c, 8));
sized(
  0xf7,
  (c) => group3(c, 16),
  (c) => group3(c, 32),
);
both(0xf8, (c) => c.setFlagBit(CF, false));
both(0xf9, (c) => c.setFlagBit(CF, true));
function canChangeIf(c: Cpu): boolean {
  if ((c.flags & VM) !== 0) return (c.flags & IOPL) === IOPL;
  if (!c.protectedMode) return true;
  return c.cpl <= (c.flags & IOPL) >>> 12;
}
both(0xfa, (c) => {
  if (!canChangeIf(c)) c.gp(0);
  c.flags &= ~IF;
});
both(0xfb, (c) => {
  if (!canChangeIf(c)) c.gp(0);
  if ((c.flags & IF) === 0) c.irqInhibit = true;
  c.flags |= IF;
});
both(0xfc, (c) => {
  c.flags &= ~DF;
});
both(0xfd, (c) => {
  c.flags |= DF;
});
both(0xfe, (c) => {
  const m = c.insn.modrm;
  const g = (m >> 3) & 7;
  if (g > 1) c.undefinedOpcode();
  if (m >= 0xc0) {
    const d = REG8[m & 7];
    c.r8[d] = g === 0 ? c.inc(c.r8[d], 24) : c.dec(c.r8[d], 24);
  } else {
    const v = c.rmwRead8(c.ea());
    c.rmwWrite8(g === 0 ? c.inc(v, 24) : c.dec(v, 24));
  }
});
sized(
  0xff,
  (c) => group5(c, false),
  (c) => group5(c, true),
);
function group5(c: Cpu, o32: boolean): void {
  const m = c.insn.modrm;
  const g = (m >> 3) & 7;
  const isReg = m >= 0xc0;
  switch (g) {
    case 0:
    case 1: {
      if (isReg) {
        if (o32) c.r32[m & 7] = g === 0 ? c.inc(c.r32[m & 7], 0) : c.dec(c.r32[m & 7], 0);
        else c.r16[(m & 7) << 1] = g === 0 ? c.inc(c.r16[(m & 7) << 1], 16) : c.dec(c.r16[(m & 7) << 1], 16);
      } else if (o32) {
        const v = c.rmwRead32(c.ea());
        c.rmwWrite32(g === 0 ? c.inc(v, 0) : c.dec(v, 0));
      } else {
        const v = c.rmwRead16(c.ea());
        c.rmwWrite16(g === 0 ? c.inc(v, 16) : c.dec(v, 16));
      }
      return;
    }
    case 2: {
      const target = o32 ? c.readRm32(m) : c.readRm16(m);
      if (o32) c.push32(c.eip);
      else c.push16(c.eip);
      jumpAbs(c, target);
      return;
    }
    case 3:
    case 5: {
      if (isReg) c.undefinedOpcode();
      const lin = c.ea();
      const off = o32 ? c.readLin32(lin) : c.readLin16(lin);
      const sel = c.readLin16((lin + (o32 ? 4 : 2)) | 0);
      if (g === 3) farCall(c, sel, off, o32);
      else farJump(c, sel, off, o32);
      return;
    }
    case 4:
      jumpAbs(c, o32 ? c.readRm32(m) : c.readRm16(m));
      return;
    case 6:
      if (o32) c.push32(c.readRm32(m));
      else c.push16(c.readRm16(m));
      return;
    default:
      c.undefinedOpcode();
  }
}

// ------------------------------------------------------------------ x87 escape D8-DF

for (let op = 0xd8; op <= 0xdf; op++) {
  both(op, (c) => {
    const m = c.insn.modrm;
    if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0) c.raise(EXC_NM);
    let lin = 0;
    let dp = 0;
    let ds = 0;
    if (m < 0xc0) {
      lin = c.ea();
      dp = c.eaOffset;
      ds = c.segSel[c.eaSeg];
    }
    c.fpuExec(op, m, lin, dp, ds, c.insn.opSize === 4);
  });
}

