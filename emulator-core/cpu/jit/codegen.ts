/**
 * Turns a decoded basic block into JavaScript source. Hot instructions get specialized
 * code (operands, addresses and immediates folded to constants); any other instruction is
 * run by the interpreter's own handler from inside the block, and instructions that may
 * transfer control, change modes or touch I/O end the block after running.
 *
 * The generated function is `(c) => number`: it executes the block on CPU `c`, leaves
 * c.ip at the next instruction and returns how many instructions it executed.
 */
import { REG8 } from '../cpu.js';
import type { DecodedInsn } from './decoder.js';

/** Compile-time facts about the CPU the block was decoded under. */
export interface BlockMode {
  code32: boolean;
  ss32: boolean;
  /** DS, ES and SS have base 0 and need no limit checks. */
  flat: boolean;
}

const SH: Record<number, number> = { 8: 24, 16: 16, 32: 0 };

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}

function lin(v: number): string {
  return `(${hex(v)} | 0)`;
}

function reg(sz: number, n: number): string {
  if (sz === 32) return `r32[${n}]`;
  if (sz === 16) return `r16[${n << 1}]`;
  return `r8[${REG8[n]}]`;
}

function readMem(sz: number, a: string): string {
  return sz === 32 ? `c.readLin32(${a})` : sz === 16 ? `c.readLin16(${a})` : `c.readLin8(${a})`;
}

function writeMem(sz: number, a: string, v: string): string {
  return sz === 32 ? `c.writeLin32(${a}, ${v});` : sz === 16 ? `c.writeLin16(${a}, ${v});` : `c.writeLin8(${a}, ${v});`;
}

/** Operation kinds for the generator. */
const enum Kind {
  /** Run the interpreter's handler and continue. */
  Fallback,
  /** Run the interpreter's handler and end the block. */
  FallbackEnd,
  Special,
}

export class BlockCompiler {
  private out: string[] = [];
  private tmp = 0;

  constructor(private readonly mode: BlockMode) {}

  private t(): string {
    return `t${this.tmp++}`;
  }

  /**
   * Emit code computing the linear address of d's memory operand into a fresh variable;
   * returns its name.
   */
  private ea(d: DecodedInsn): string {
    const v = this.t();
    let off: string;
    if (d.asize32) {
      const parts: string[] = [];
      if (d.base >= 0) parts.push(`r32[${d.base}]`);
      if (d.index >= 0) parts.push(d.scale === 0 ? `r32[${d.index}]` : `(r32[${d.index}] << ${d.scale})`);
      if (d.disp !== 0 || parts.length === 0) parts.push(String(d.disp | 0));
      off = `(${parts.join(' + ')}) | 0`;
    } else {
      const t16 = ['r16[6] + r16[12]', 'r16[6] + r16[14]', 'r16[10] + r16[12]', 'r16[10] + r16[14]', 'r16[12]', 'r16[14]', 'r16[10]', 'r16[6]'];
      const basePart = d.rm === 6 && d.mod === 0 ? '' : t16[d.rm];
      const disp = d.mod === 1 ? d.disp : d.disp & 0xffff;
      off = `(${basePart}${basePart !== '' ? ' + ' : ''}${disp}) & 0xffff`;
    }
    const seg = d.seg >= 0 ? d.seg : d.defSeg;
    if (this.mode.flat && (seg === 0 || seg === 2 || seg === 3)) {
      this.out.push(`const ${v} = ${off};`);
    } else {
      const o = this.t();
      this.out.push(`const ${o} = ${off};`);
      this.out.push(`if (c.segCheck[${seg}] !== 0) c.checkSegment(${seg}, ${o});`);
      this.out.push(`const ${v} = (c.segBase[${seg}] + ${o}) | 0;`);
    }
    return v;
  }

  /** Read the r/m operand of size sz (register or memory) into an expression. */
  private rmRead(d: DecodedInsn, sz: number): string {
    if (d.mod === 3) return reg(sz, d.rm);
    const a = this.ea(d);
    const v = this.t();
    this.out.push(`const ${v} = ${readMem(sz, a)};`);
    return v;
  }

  private aluExpr(g: number, a: string, b: string, sz: number): string {
    const sh = SH[sz];
    switch (g) {
      case 0:
        return `c.add(${a}, ${b}, ${sh})`;
      case 1:
        return `c.logic(${a} | ${b}, ${sh})`;
      case 2:
        return `c.adc(${a}, ${b}, ${sh})`;
      case 3:
        return `c.sbb(${a}, ${b}, ${sh})`;
      case 4:
        return `c.logic(${a} & ${b}, ${sh})`;
      case 5:
      case 7:
        return `c.sub(${a}, ${b}, ${sh})`;
      default:
        return `c.logic(${a} ^ ${b}, ${sh})`;
    }
  }

  /** dst (r/m) op= src, with read-modify-write for memory. */
  private aluRm(d: DecodedInsn, g: number, sz: number, src: string): void {
    if (d.mod === 3) {
      const r = reg(sz, d.rm);
      if (g === 7) this.out.push(`${this.aluExpr(g, r, src, sz)};`);
      else this.out.push(`${r} = ${this.aluExpr(g, r, src, sz)};`);
      return;
    }
    const a = this.ea(d);
    if (g === 7) {
      this.out.push(`${this.aluExpr(7, readMem(sz, a), src, sz)};`);
      return;
    }
    const v = this.t();
    this.out.push(`const ${v} = c.rmwRead${sz}(${a});`);
    this.out.push(`c.rmwWrite${sz}(${this.aluExpr(g, v, src, sz)});`);
  }

  private osz(d: DecodedInsn): number {
    return d.osize32 ? 32 : 16;
  }

  /** Sign-extend an 8-bit immediate to the operand size, as a JS literal. */
  private simm8(d: DecodedInsn): string {
    const v = (d.imm << 24) >> 24;
    return String(d.osize32 ? v : v & 0xffff);
  }

  private immZ(d: DecodedInsn): string {
    return d.osize32 ? String(d.imm | 0) : String(d.imm & 0xffff);
  }

  private push(sz: number, v: string): void {
    this.out.push(sz === 32 ? `c.push32(${v});` : `c.push16(${v});`);
  }

  private nextEip(d: DecodedInsn): string {
    return `((${lin(d.lin + d.len)} - c.segBase[1]) | 0)`;
  }

  /** Set c.ip to a relative-branch target (16-bit operand size truncates EIP). */
  private jumpTarget(d: DecodedInsn, disp: number): string {
    const target = (d.lin + d.len + disp) | 0;
    if (d.osize32) return `c.ip = ${lin(target)};`;
    return `c.setEip((${this.nextEip(d)} + ${disp}) & 0xffff);`;
  }

  /**
   * Emit one instruction. Returns 'continue' if the block goes on after it, 'end' if the
   * block ends here (c.ip has been set by the emitted code).
   */
  emit(d: DecodedInsn, count: number): 'continue' | 'end' {
    const start = this.out.length;
    const kind = this.special(d, count);
    if (kind === Kind.Special) return this.lastWasEnd ? 'end' : 'continue';
    this.out.length = start;
    // The interpreter runs this one instruction from its bytes.
    this.out.push(`c.ip = ${lin(d.lin)}; step(c);`);
    if (kind === Kind.FallbackEnd) {
      this.out.push(`return ${count};`);
      return 'end';
    }
    return 'continue';
  }

  private lastWasEnd = false;

  /** Instructions that fault need instrStart so the exception restarts them. */
  private faultable(d: DecodedInsn): void {
    this.out.push(`c.instrStart = ${lin(d.lin)};`);
  }

  private endWith(code: string, count: number): Kind {
    this.out.push(code);
    this.out.push(`return ${count};`);
    this.lastWasEnd = true;
    return Kind.Special;
  }

  private special(d: DecodedInsn, count: number): Kind {
    this.lastWasEnd = false;
    const op = d.op;
    // Anything with a REP prefix outside the string instructions: leave it to the interpreter.
    if (d.rep !== 0 && op !== 0x90 && op !== 0xc3 && op !== 0xc2 && !(op >= 0xa4 && op <= 0xaf)) return Kind.Fallback;
    if (op < 0x40 && (op & 7) < 6) {
      // ALU group 00-3F
      const g = op >> 3;
      const form = op & 7;
      this.faultable(d);
      switch (form) {
        case 0:
          this.aluRm(d, g, 8, reg(8, d.reg));
          return Kind.Special;
        case 1: {
          const sz = this.osz(d);
          if (d.mod === 3 && d.rm === d.reg && (g === 6 || g === 5)) {
            // xor r,r / sub r,r: zero idiom
            this.out.push(`${reg(sz, d.rm)} = ${this.aluExpr(g, reg(sz, d.rm), reg(sz, d.rm), sz)};`);
            return Kind.Special;
          }
          this.aluRm(d, g, sz, reg(sz, d.reg));
          return Kind.Special;
        }
        case 2: {
          const src = this.rmRead(d, 8);
          const r = reg(8, d.reg);
          this.out.push(g === 7 ? `${this.aluExpr(g, r, src, 8)};` : `${r} = ${this.aluExpr(g, r, src, 8)};`);
          return Kind.Special;
        }
        case 3: {
          const sz = this.osz(d);
          const src = this.rmRead(d, sz);
          const r = reg(sz, d.reg);
          this.out.push(g === 7 ? `${this.aluExpr(g, r, src, sz)};` : `${r} = ${this.aluExpr(g, r, src, sz)};`);
          return Kind.Special;
        }
        case 4: {
          const r = reg(8, 0);
          this.out.push(g === 7 ? `${this.aluExpr(g, r, String(d.imm), 8)};` : `${r} = ${this.aluExpr(g, r, String(d.imm), 8)};`);
          return Kind.Special;
        }
        default: {
          const sz = this.osz(d);
          const r = reg(sz, 0);
          const imm = this.immZ(d);
          this.out.push(g === 7 ? `${this.aluExpr(g, r, imm, sz)};` : `${r} = ${this.aluExpr(g, r, imm, sz)};`);
          return Kind.Special;
        }
      }
    }
    switch (op) {
      // Segment push/pop, BCD: interpreter
      case 0x06:
      case 0x0e:
      case 0x16:
      case 0x1e:
      case 0x27:
      case 0x2f:
      case 0x37:
      case 0x3f:
        return Kind.Fallback;
      case 0x07:
      case 0x17:
      case 0x1f:
        return Kind.FallbackEnd; // segment loads change the block's assumptions
    }
    if (op >= 0x40 && op <= 0x4f) {
      const sz = this.osz(d);
      const r = reg(sz, op & 7);
      this.out.push(`${r} = c.${op < 0x48 ? 'inc' : 'dec'}(${r}, ${SH[sz]});`);
      return Kind.Special;
    }
    if (op >= 0x50 && op <= 0x57) {
      this.faultable(d);
      this.push(this.osz(d), reg(this.osz(d), op & 7));
      return Kind.Special;
    }
    if (op >= 0x58 && op <= 0x5f) {
      this.faultable(d);
      const sz = this.osz(d);
      const v = this.t();
      this.out.push(`const ${v} = c.pop${sz}();`);
      this.out.push(`${reg(sz, op & 7)} = ${v};`);
      return Kind.Special;
    }
    if (op >= 0x70 && op <= 0x7f) {
      const disp = (d.imm << 24) >> 24;
      this.out.push(`if (c.cond(${op & 15})) { ${this.jumpTarget(d, disp)} return ${count}; }`);
      return this.endWith(`c.ip = ${lin(d.lin + d.len)};`, count);
    }
    if (op >= 0x180 && op <= 0x18f) {
      const disp = d.osize32 ? d.imm | 0 : (d.imm << 16) >> 16;
      this.out.push(`if (c.cond(${op & 15})) { ${this.jumpTarget(d, disp)} return ${count}; }`);
      return this.endWith(`c.ip = ${lin(d.lin + d.len)};`, count);
    }
    if (op >= 0xb0 && op <= 0xb7) {
      this.out.push(`${reg(8, op & 7)} = ${d.imm};`);
      return Kind.Special;
    }
    if (op >= 0xb8 && op <= 0xbf) {
      this.out.push(`${reg(this.osz(d), op & 7)} = ${this.immZ(d)};`);
      return Kind.Special;
    }
    if (op >= 0x91 && op <= 0x97) {
      const sz = this.osz(d);
      const v = this.t();
      this.out.push(`const ${v} = ${reg(sz, 0)}; ${reg(sz, 0)} = ${reg(sz, op & 7)}; ${reg(sz, op & 7)} = ${v};`);
      return Kind.Special;
    }
    if (op >= 0x140 && op <= 0x14f) {
      this.faultable(d);
      const sz = this.osz(d);
      const v = this.rmRead(d, sz);
      this.out.push(`if (c.cond(${op & 15})) ${reg(sz, d.reg)} = ${v};`);
      return Kind.Special;
    }
    if (op >= 0x190 && op <= 0x19f) {
      this.faultable(d);
      const v = `(c.cond(${op & 15}) ? 1 : 0)`;
      if (d.mod === 3) this.out.push(`${reg(8, d.rm)} = ${v};`);
      else {
        const a = this.ea(d);
        this.out.push(writeMem(8, a, v));
      }
      return Kind.Special;
    }
    if (op >= 0x1c8 && op <= 0x1cf && d.osize32) {
      const r = reg(32, op & 7);
      this.out.push(`${r} = ((${r} & 0xff) << 24) | ((${r} & 0xff00) << 8) | ((${r} >>> 8) & 0xff00) | (${r} >>> 24);`);
      return Kind.Special;
    }
    switch (op) {
      case 0x68:
        this.faultable(d);
        this.push(this.osz(d), this.immZ(d));
        return Kind.Special;
      case 0x6a:
        this.faultable(d);
        this.push(this.osz(d), this.simm8(d));
        return Kind.Special;
      case 0x69:
      case 0x6b:
      case 0x1af: {
        if (!d.osize32) return Kind.Fallback;
        this.faultable(d);
        const a = this.rmRead(d, 32);
        const b = op === 0x69 ? String(d.imm | 0) : op === 0x6b ? String((d.imm << 24) >> 24) : reg(32, d.reg);
        this.out.push(`${reg(32, d.reg)} = h.imul32(c, ${a}, ${b});`);
        return Kind.Special;
      }
      case 0x80:
      case 0x82:
        this.faultable(d);
        this.aluRm(d, d.reg, 8, String(d.imm));
        return Kind.Special;
      case 0x81:
        this.faultable(d);
        this.aluRm(d, d.reg, this.osz(d), this.immZ(d));
        return Kind.Special;
      case 0x83:
        this.faultable(d);
        this.aluRm(d, d.reg, this.osz(d), this.simm8(d));
        return Kind.Special;
      case 0x84:
      case 0x85: {
        this.faultable(d);
        const sz = op === 0x84 ? 8 : this.osz(d);
        const v = this.rmRead(d, sz);
        this.out.push(`c.logic(${v} & ${reg(sz, d.reg)}, ${SH[sz]});`);
        return Kind.Special;
      }
      case 0x87: {
        if (d.mod !== 3) return Kind.Fallback;
        const sz = this.osz(d);
        const v = this.t();
        this.out.push(`const ${v} = ${reg(sz, d.rm)}; ${reg(sz, d.rm)} = ${reg(sz, d.reg)}; ${reg(sz, d.reg)} = ${v};`);
        return Kind.Special;
      }
      case 0x88:
      case 0x89: {
        this.faultable(d);
        const sz = op === 0x88 ? 8 : this.osz(d);
        if (d.mod === 3) this.out.push(`${reg(sz, d.rm)} = ${reg(sz, d.reg)};`);
        else {
          const a = this.ea(d);
          this.out.push(writeMem(sz, a, reg(sz, d.reg)));
        }
        return Kind.Special;
      }
      case 0x8a:
      case 0x8b: {
        this.faultable(d);
        const sz = op === 0x8a ? 8 : this.osz(d);
        const v = this.rmRead(d, sz);
        this.out.push(`${reg(sz, d.reg)} = ${v};`);
        return Kind.Special;
      }
      case 0x8d: {
        if (d.mod === 3) return Kind.FallbackEnd;
        const v = this.t();
        // LEA: offset only, no segment.
        if (d.asize32) {
          const parts: string[] = [];
          if (d.base >= 0) parts.push(`r32[${d.base}]`);
          if (d.index >= 0) parts.push(d.scale === 0 ? `r32[${d.index}]` : `(r32[${d.index}] << ${d.scale})`);
          if (d.disp !== 0 || parts.length === 0) parts.push(String(d.disp | 0));
          this.out.push(`const ${v} = (${parts.join(' + ')}) | 0;`);
        } else return Kind.Fallback;
        this.out.push(`${reg(this.osz(d), d.reg)} = ${v};`);
        return Kind.Special;
      }
      case 0x8e:
        return Kind.FallbackEnd;
      case 0x8f:
        return Kind.Fallback;
      case 0x90:
        return Kind.Special;
      case 0x98:
        this.out.push(d.osize32 ? `r32[0] = (r16[0] << 16) >> 16;` : `r16[0] = (r8[0] << 24) >> 24;`);
        return Kind.Special;
      case 0x99:
        this.out.push(d.osize32 ? `r32[2] = r32[0] >> 31;` : `r16[4] = (r16[0] & 0x8000) !== 0 ? 0xffff : 0;`);
        return Kind.Special;
      case 0xa8:
        this.out.push(`c.logic(r8[0] & ${d.imm}, 24);`);
        return Kind.Special;
      case 0xa9:
        this.out.push(`c.logic(${reg(this.osz(d), 0)} & ${this.immZ(d)}, ${SH[this.osz(d)]});`);
        return Kind.Special;
      case 0xc0:
      case 0xc1:
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3: {
        this.faultable(d);
        const sz = op === 0xc0 || op === 0xd0 || op === 0xd2 ? 8 : this.osz(d);
        const cnt = op === 0xc0 || op === 0xc1 ? String(d.imm & 0x1f) : op === 0xd0 || op === 0xd1 ? '1' : '(r8[4] & 0x1f)';
        if (d.mod === 3) {
          const r = reg(sz, d.rm);
          this.out.push(`${r} = h.shiftRotate(c, ${d.reg}, ${r}, ${cnt}, ${sz});`);
        } else {
          const a = this.ea(d);
          const v = this.t();
          this.out.push(`const ${v} = c.rmwRead${sz}(${a});`);
          this.out.push(`c.rmwWrite${sz}(h.shiftRotate(c, ${d.reg}, ${v}, ${cnt}, ${sz}));`);
        }
        return Kind.Special;
      }
      case 0xc2:
      case 0xc3: {
        this.faultable(d);
        const sz = this.osz(d);
        const v = this.t();
        this.out.push(`const ${v} = c.pop${sz}();`);
        if (op === 0xc2 && d.imm !== 0) this.out.push(this.mode.ss32 ? `r32[4] = (r32[4] + ${d.imm}) | 0;` : `r16[8] = r16[8] + ${d.imm};`);
        return this.endWith(`c.setEip(${v});`, count);
      }
      case 0xc6:
      case 0xc7: {
        if (d.reg !== 0) return Kind.FallbackEnd;
        this.faultable(d);
        const sz = op === 0xc6 ? 8 : this.osz(d);
        const imm = op === 0xc6 ? String(d.imm) : this.immZ(d);
        if (d.mod === 3) this.out.push(`${reg(sz, d.rm)} = ${imm};`);
        else {
          const a = this.ea(d);
          this.out.push(writeMem(sz, a, imm));
        }
        return Kind.Special;
      }
      case 0xc9:
        if (!d.osize32 || !this.mode.ss32) return Kind.Fallback;
        this.faultable(d);
        this.out.push(`{ const bp = r32[5]; const v = c.readLin32(c.segAddr(2, bp)); r32[4] = (bp + 4) | 0; r32[5] = v; }`);
        return Kind.Special;
      case 0xe2: {
        if (!d.asize32) return Kind.FallbackEnd;
        const disp = (d.imm << 24) >> 24;
        this.out.push(`r32[1] = (r32[1] - 1) | 0;`);
        this.out.push(`if (r32[1] !== 0) { ${this.jumpTarget(d, disp)} return ${count}; }`);
        return this.endWith(`c.ip = ${lin(d.lin + d.len)};`, count);
      }
      case 0xe8: {
        this.faultable(d);
        const disp = d.osize32 ? d.imm | 0 : (d.imm << 16) >> 16;
        this.push(this.osz(d), this.nextEip(d));
        return this.endWith(this.jumpTarget(d, disp), count);
      }
      case 0xe9:
        return this.endWith(this.jumpTarget(d, d.osize32 ? d.imm | 0 : (d.imm << 16) >> 16), count);
      case 0xeb:
        return this.endWith(this.jumpTarget(d, (d.imm << 24) >> 24), count);
      case 0xf6:
      case 0xf7: {
        const sz = op === 0xf6 ? 8 : this.osz(d);
        if (d.reg < 2) {
          this.faultable(d);
          const v = this.rmRead(d, sz);
          const imm = op === 0xf6 ? String(d.imm) : this.immZ(d);
          this.out.push(`c.logic(${v} & ${imm}, ${SH[sz]});`);
          return Kind.Special;
        }
        if (sz !== 32) return Kind.Fallback;
        this.faultable(d);
        if (d.reg === 2 || d.reg === 3) {
          if (d.mod === 3) {
            const r = reg(32, d.rm);
            this.out.push(d.reg === 2 ? `${r} = ~${r};` : `${r} = c.sub(0, ${r}, 0);`);
          } else {
            const a = this.ea(d);
            const v = this.t();
            this.out.push(`const ${v} = c.rmwRead32(${a});`);
            this.out.push(d.reg === 2 ? `c.rmwWrite32(~${v});` : `c.rmwWrite32(c.sub(0, ${v}, 0));`);
          }
          return Kind.Special;
        }
        const v = this.rmRead(d, 32);
        const fn = ['', '', '', '', 'mul32', 'imul1_32', 'div32', 'idiv32'][d.reg];
        this.out.push(`h.${fn}(c, ${v});`);
        return Kind.Special;
      }
      case 0xfe:
        if (d.reg > 1) return Kind.FallbackEnd;
        this.faultable(d);
        this.incDec(d, 8, d.reg === 0);
        return Kind.Special;
      case 0xff: {
        const sz = this.osz(d);
        switch (d.reg) {
          case 0:
          case 1:
            this.faultable(d);
            this.incDec(d, sz, d.reg === 0);
            return Kind.Special;
          case 2: {
            this.faultable(d);
            const v = this.rmRead(d, sz);
            this.push(sz, this.nextEip(d));
            return this.endWith(`c.setEip(${v});`, count);
          }
          case 4: {
            this.faultable(d);
            const v = this.rmRead(d, sz);
            return this.endWith(`c.setEip(${v});`, count);
          }
          case 6: {
            this.faultable(d);
            const v = this.rmRead(d, sz);
            this.push(sz, v);
            return Kind.Special;
          }
          default:
            return Kind.FallbackEnd;
        }
      }
      case 0x11f: // NOP Ev
      case 0x118:
      case 0x119:
      case 0x11a:
      case 0x11b:
      case 0x11c:
      case 0x11d:
      case 0x11e:
        return Kind.Special;
      case 0x1b6:
      case 0x1b7:
      case 0x1be:
      case 0x1bf: {
        this.faultable(d);
        const src = op === 0x1b6 || op === 0x1be ? 8 : 16;
        const v = this.rmRead(d, src);
        const signed = op >= 0x1be;
        const val = signed ? (src === 8 ? `((${v} << 24) >> 24)` : `((${v} << 16) >> 16)`) : v;
        this.out.push(`${reg(this.osz(d), d.reg)} = ${val};`);
        return Kind.Special;
      }
    }
    // Pure computations the interpreter does without side effects on control flow.
    if (CONTINUE_FALLBACK.has(op)) return Kind.Fallback;
    return Kind.FallbackEnd;
  }

  private incDec(d: DecodedInsn, sz: number, inc: boolean): void {
    const f = inc ? 'inc' : 'dec';
    if (d.mod === 3) {
      const r = reg(sz, d.rm);
      this.out.push(`${r} = c.${f}(${r}, ${SH[sz]});`);
      return;
    }
    const a = this.ea(d);
    const v = this.t();
    this.out.push(`const ${v} = c.rmwRead${sz}(${a});`);
    this.out.push(`c.rmwWrite${sz}(c.${f}(${v}, ${SH[sz]}));`);
  }

  /** The finished function body. */
  finish(endLin: number, count: number, ended: boolean): string {
    const body = this.out.join('\n');
    const tail = ended ? '' : `\nc.ip = ${lin(endLin)};\nreturn ${count};`;
    return `const r32 = c.r32, r16 = c.r16, r8 = c.r8;\n${body}${tail}`;
  }
}

/**
 * Instructions the interpreter can run inside a block without ending it: they neither
 * transfer control nor change modes, segments, IF/TF or do I/O.
 */
const CONTINUE_FALLBACK = new Set<number>([
  0x60, 0x61, 0x62, 0x69, 0x6b, 0x86, 0x87, 0x8f, 0x9b, 0x9c, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8,
  0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfc, 0xfd,
  // 0F: CMOV/SETcc are specialized; bit ops, SHLD/SHRD, CMPXCHG, XADD, BSF/BSR, IMUL, CPUID, RDTSC, MMX
  0x1a2, 0x1a3, 0x1a4, 0x1a5, 0x1ab, 0x1ac, 0x1ad, 0x1af, 0x1b0, 0x1b1, 0x1b3, 0x1ba, 0x1bb, 0x1bc, 0x1bd, 0x1c0, 0x1c1, 0x1c7, 0x131,
  0x10d, 0x1ae,
  ...Array.from({ length: 0x20 }, (_, i) => 0x160 + i),
  ...Array.from({ length: 0x2f }, (_, i) => 0x1d0 + i),
]);
