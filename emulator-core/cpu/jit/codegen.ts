/**
 * Turns decoded basic blocks into JavaScript source for a region function. Hot
 * instructions get specialized code with operands, addresses and immediates folded to
 * constants; any other instruction runs the interpreter's own handler from inside the
 * block, and instructions that may transfer control, change modes or touch I/O end the
 * block after running.
 *
 * The eight general registers live in JS locals for the whole region (V8 keeps them in
 * machine registers); they are written back to the register file at every exit, before
 * anything that reads it (interpreter fallbacks, helpers), and in the region's catch
 * clause, which also records the faulting instruction for restart.
 */
import { lockValid, type DecodedInsn } from '../decoder/decoded-insn.js';

/** Compile-time facts about the CPU the block was decoded under. */
export interface BlockMode {
  code32: boolean;
  ss32: boolean;
  /** DS, ES and SS have base 0 and need no limit checks. */
  flat: boolean;
}

const SH: Record<number, number> = { 8: 24, 16: 16, 32: 0 };
export const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}

function lin(v: number): string {
  return `(${hex(v)} | 0)`;
}

/** Read expression of a register of size sz. */
function reg(sz: number, n: number): string {
  if (sz === 32) return REG_NAMES[n];
  if (sz === 16) return `(${REG_NAMES[n]} & 0xffff)`;
  return n < 4 ? `(${REG_NAMES[n]} & 0xff)` : `((${REG_NAMES[n - 4]} >> 8) & 0xff)`;
}

/** Statement assigning value expression v to a register of size sz. */
function setReg(sz: number, n: number, v: string): string {
  if (sz === 32) return `${REG_NAMES[n]} = ${v};`;
  if (sz === 16) return `${REG_NAMES[n]} = (${REG_NAMES[n]} & ~0xffff) | ((${v}) & 0xffff);`;
  if (n < 4) return `${REG_NAMES[n]} = (${REG_NAMES[n]} & ~0xff) | ((${v}) & 0xff);`;
  return `${REG_NAMES[n - 4]} = (${REG_NAMES[n - 4]} & ~0xff00) | (((${v}) & 0xff) << 8);`;
}

/** The 32-bit register an operand of size sz and number n lives in. */
function regIndex(sz: number, n: number): number {
  return sz === 8 && n >= 4 ? n - 4 : n;
}

const enum Kind {
  /** Run the interpreter's handler and continue. */
  Fallback,
  /** Run the interpreter's handler and end the block. */
  FallbackEnd,
  Special,
}

/**
 * What produced the current flags, when it was an instruction earlier in this block whose
 * operands are still in block-local constants: conditions can then be computed directly.
 */
interface FlagSource {
  kind: 'sub' | 'add' | 'logic' | 'incdec';
  a: string;
  b: string;
  res: string;
  sh: number;
}

/** Register usage shared by all blocks of a region (decides what to load and write back). */
export class RegionRegs {
  readonly used = new Set<number>();
  readonly written = new Set<number>();

  /** Statements writing the written registers back to the register file. */
  sync(): string {
    return [...this.written].map((n) => `r32[${n}] = ${REG_NAMES[n]};`).join(' ');
  }

  /** Statements reloading every used register from the register file. */
  reload(): string {
    return [...this.used].map((n) => `${REG_NAMES[n]} = r32[${n}];`).join(' ');
  }
}

/** Placeholders resolved when the region is assembled. */
export const SYNC = '/*SYNC*/';
export const RELOAD = '/*RELOAD*/';

export class BlockCompiler {
  private out: string[] = [];
  private tmp = 0;
  private flagSrc: FlagSource | null = null;
  private lastWasEnd = false;
  /** Linear targets this block may continue at directly (for region building). */
  readonly staticTargets: number[] = [];

  constructor(
    private readonly mode: BlockMode,
    private readonly regs: RegionRegs,
  ) {}

  private t(): string {
    return `t${this.tmp++}`;
  }

  private use(sz: number, n: number): string {
    this.regs.used.add(regIndex(sz, n));
    return reg(sz, n);
  }

  private assign(sz: number, n: number, v: string): void {
    const i = regIndex(sz, n);
    this.regs.used.add(i);
    this.regs.written.add(i);
    this.out.push(setReg(sz, n, v));
  }

  /** Mark registers that generated code changes through the register file (reloaded after). */
  private clobbers(...ns: number[]): void {
    for (const n of ns) {
      this.regs.used.add(n);
      this.regs.written.add(n);
    }
  }

  /** Linear address of d's memory operand in a fresh constant; returns its name. */
  private ea(d: DecodedInsn): string {
    const v = this.t();
    let off: string;
    if (d.addrSize === 4) {
      const parts: string[] = [];
      if (d.base >= 0) parts.push(this.use(32, d.base));
      if (d.index >= 0) parts.push(d.scale === 0 ? this.use(32, d.index) : `(${this.use(32, d.index)} << ${d.scale})`);
      if (d.disp !== 0 || parts.length === 0) parts.push(String(d.disp | 0));
      off = `(${parts.join(' + ')}) | 0`;
    } else {
      const bx = (): string => this.use(16, 3);
      const si = (): string => this.use(16, 6);
      const di = (): string => this.use(16, 7);
      const bp = (): string => this.use(16, 5);
      const table = [(): string => `${bx()} + ${si()}`, (): string => `${bx()} + ${di()}`, (): string => `${bp()} + ${si()}`, (): string => `${bp()} + ${di()}`, si, di, bp, bx];
      const basePart = d.rm === 6 && d.mod === 0 ? '' : table[d.rm]();
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

  /**
   * Load `sz` bits from linear address variable `a` into a fresh variable: an aligned
   * access that hits the TLB reads the backing buffer inline; anything else (page
   * crossing, MMIO, a miss, misalignment) goes through the CPU's accessor.
   */
  private load(sz: number, a: string): string {
    const v = this.t();
    const e = this.t();
    if (sz === 32) {
      this.out.push(`const ${e} = tlb[${a} >>> 12];`);
      this.out.push(`const ${v} = (${e} & rm) !== 0 && (${a} & 3) === 0 ? i32[((${e} & -4096) >>> 2) + ((${a} & 0xfff) >>> 2)] : c.readLin32(${a});`);
    } else if (sz === 16) {
      this.out.push(`const ${e} = tlb[${a} >>> 12];`);
      this.out.push(`const ${v} = (${e} & rm) !== 0 && (${a} & 1) === 0 ? u16[((${e} & -4096) >>> 1) + ((${a} & 0xfff) >>> 1)] : c.readLin16(${a});`);
    } else {
      this.out.push(`const ${e} = tlb[${a} >>> 12];`);
      this.out.push(`const ${v} = (${e} & rm) !== 0 ? u8[((${e} & -4096) >>> 0) + (${a} & 0xfff)] : c.readLin8(${a});`);
    }
    return v;
  }

  /** Store value expression `v` of `sz` bits at linear address variable `a`. */
  private store(sz: number, a: string, v: string): void {
    const e = this.t();
    this.out.push(`const ${e} = tlb[${a} >>> 12];`);
    // Only the slow path can reach a page holding compiled code (the TLB denies direct
    // writes there), so only it can set c.smc; emit() checks it once the instruction is done.
    const slow = `c.writeLin${sz}(${a}, ${v});`;
    this.smcPending = true;
    if (sz === 32) this.out.push(`if ((${e} & wm) !== 0 && (${a} & 3) === 0) i32[((${e} & -4096) >>> 2) + ((${a} & 0xfff) >>> 2)] = ${v}; else ${slow}`);
    else if (sz === 16) this.out.push(`if ((${e} & wm) !== 0 && (${a} & 1) === 0) u16[((${e} & -4096) >>> 1) + ((${a} & 0xfff) >>> 1)] = ${v}; else ${slow}`);
    else this.out.push(`if ((${e} & wm) !== 0) u8[((${e} & -4096) >>> 0) + (${a} & 0xfff)] = ${v}; else ${slow}`);
  }

  /** Where the instruction being emitted ends, and how many the block has run with it. */
  private curNext = 0;
  private curCount = 0;
  /** The instruction being emitted writes memory, so it may overwrite compiled code. */
  private smcPending = false;

  /**
   * After an instruction that may have written over compiled code: if it did, leave the
   * block right after it so the rest is recompiled from the new bytes. Never in the middle
   * of an instruction: the registers it updates after its store (ESP after a push, EIP
   * after a call's push) must be written first.
   */
  private smcCheck(): string {
    return `if (c.smc) { c.smc = false; ${SYNC} c.ip = ${lin(this.curNext)}; return n + ${this.curCount}; }`;
  }

  /** The r/m operand of size sz (register or memory) as an expression. */
  private rmRead(d: DecodedInsn, sz: number): string {
    if (d.mod === 3) return this.use(sz, d.rm);
    return this.load(sz, this.ea(d));
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

  /** `a op b` into a new constant (setting the lazy flags); remembers the flag source. */
  private aluValue(g: number, a: string, b: string, sz: number): string {
    const ta = this.t();
    const tb = this.t();
    const tr = this.t();
    this.out.push(`const ${ta} = ${a}, ${tb} = ${b};`);
    const sh = SH[sz];
    // ADD/SUB/CMP and the logic ops store their lazy-flag inputs inline (see Cpu.add/sub/logic).
    if (g === 0 || g === 5 || g === 7) {
      this.out.push(`const ${tr} = (${ta} ${g === 0 ? '+' : '-'} ${tb}) | 0;`);
      this.out.push(`c.lfA = ${ta}; c.lfB = ${tb}; c.lfRes = ${tr}; c.lfKind = ${g === 0 ? 0 : 2}; c.lfShift = ${sh}; c.lazyMask = 0x8d5;`);
    } else if (g === 1 || g === 4 || g === 6) {
      this.out.push(`const ${tr} = ${ta} ${g === 1 ? '|' : g === 4 ? '&' : '^'} ${tb};`);
      this.out.push(`c.lfRes = ${tr}; c.lfKind = 4; c.lfShift = ${sh}; c.lazyMask = 0x8d5;`);
    } else {
      this.out.push(`const ${tr} = ${this.aluExpr(g, ta, tb, sz)};`);
    }
    const kind = g === 5 || g === 7 ? 'sub' : g === 0 ? 'add' : g === 2 || g === 3 ? null : 'logic';
    this.flagSrc = kind === null ? null : { kind, a: ta, b: tb, res: g === 7 ? `((${ta} - ${tb}) | 0)` : tr, sh: SH[sz] };
    return tr;
  }

  /** dst (r/m) op= src, with read-modify-write for memory. */
  private aluRm(d: DecodedInsn, g: number, sz: number, src: string): void {
    if (d.mod === 3) {
      const v = this.aluValue(g, this.use(sz, d.rm), src, sz);
      if (g !== 7) this.assign(sz, d.rm, v);
      return;
    }
    const a = this.ea(d);
    if (g === 7) {
      this.aluValue(7, this.load(sz, a), src, sz);
      return;
    }
    const m = this.t();
    this.out.push(`const ${m} = c.rmwRead${sz}(${a});`);
    this.out.push(`c.rmwWrite${sz}(${this.aluValue(g, m, src, sz)});`);
    this.smcPending = true;
  }

  /** A Jcc/SETcc/CMOVcc condition, computed from the flag source when it is known. */
  private condExpr(cc: number): string {
    const f = this.flagSrc;
    if (f === null) return `c.cond(${cc})`;
    const sh = f.sh;
    const S = (x: string): string => (sh === 0 ? x : `(${x} << ${sh})`);
    const U = (x: string): string => (sh === 0 ? `(${x} >>> 0)` : `((${x} << ${sh}) >>> 0)`);
    const R = S(f.res);
    if (f.kind === 'sub') {
      const A = S(f.a);
      const B = S(f.b);
      switch (cc) {
        case 2:
          return `(${U(f.a)} < ${U(f.b)})`;
        case 3:
          return `(${U(f.a)} >= ${U(f.b)})`;
        case 4:
          return `(${R} === 0)`;
        case 5:
          return `(${R} !== 0)`;
        case 6:
          return `(${U(f.a)} <= ${U(f.b)})`;
        case 7:
          return `(${U(f.a)} > ${U(f.b)})`;
        case 8:
          return `(${R} < 0)`;
        case 9:
          return `(${R} >= 0)`;
        case 12:
          return `((${A} | 0) < (${B} | 0))`;
        case 13:
          return `((${A} | 0) >= (${B} | 0))`;
        case 14:
          return `((${A} | 0) <= (${B} | 0))`;
        case 15:
          return `((${A} | 0) > (${B} | 0))`;
      }
      return `c.cond(${cc})`;
    }
    if (f.kind === 'logic') {
      switch (cc) {
        case 0:
        case 2:
          return 'false';
        case 1:
        case 3:
          return 'true';
        case 4:
        case 6:
          return `(${R} === 0)`;
        case 5:
        case 7:
          return `(${R} !== 0)`;
        case 8:
        case 12:
          return `(${R} < 0)`;
        case 9:
        case 13:
          return `(${R} >= 0)`;
        case 14:
          return `(${R} <= 0)`;
        case 15:
          return `(${R} > 0)`;
      }
      return `c.cond(${cc})`;
    }
    switch (cc) {
      case 4:
        return `(${R} === 0)`;
      case 5:
        return `(${R} !== 0)`;
      case 8:
        return `(${R} < 0)`;
      case 9:
        return `(${R} >= 0)`;
    }
    return `c.cond(${cc})`;
  }

  private osz(d: DecodedInsn): number {
    return d.opSize === 4 ? 32 : 16;
  }

  /** Sign-extend an 8-bit immediate to the operand size, as a JS literal. */
  private simm8(d: DecodedInsn): string {
    const v = (d.imm << 24) >> 24;
    return String(d.opSize === 4 ? v : v & 0xffff);
  }

  private immZ(d: DecodedInsn): string {
    return d.opSize === 4 ? String(d.imm | 0) : String(d.imm & 0xffff);
  }

  /** Stack access inline when SS is flat and 32-bit; otherwise through the CPU. */
  private get inlineStack(): boolean {
    return this.mode.flat && this.mode.ss32;
  }

  private push(sz: number, v: string): void {
    this.regs.used.add(4);
    this.regs.written.add(4);
    if (this.inlineStack) {
      const sp = this.t();
      this.out.push(`const ${sp} = (esp - ${sz >> 3}) | 0;`);
      this.store(sz, sp, v);
      this.out.push(`esp = ${sp};`);
    } else {
      this.out.push(`r32[4] = esp; c.push${sz}(${v}); esp = r32[4];`);
      this.smcPending = true;
    }
  }

  /** Pop into a fresh constant; returns its name. */
  private pop(sz: number): string {
    this.regs.used.add(4);
    this.regs.written.add(4);
    const v = this.t();
    if (this.inlineStack) {
      const lv = this.load(sz, 'esp');
      this.out.push(`const ${v} = ${lv};`);
      this.out.push(`esp = (esp + ${sz >> 3}) | 0;`);
    } else {
      this.out.push(`r32[4] = esp; const ${v} = c.pop${sz}(); esp = r32[4];`);
    }
    return v;
  }

  private nextEip(d: DecodedInsn): string {
    return `((${lin(d.lin + d.len)} - c.segBase[1]) | 0)`;
  }

  /** Leave the block for a known linear target: a marker the region assembler resolves. */
  private exitStatic(target: number, count: number): string {
    this.staticTargets.push(target | 0);
    return `/*EXIT:${target | 0}:${count}*/`;
  }

  /**
   * Leave the block after code that set c.ip itself (RET, indirect jumps): the region's
   * switch continues there if the target is one of its blocks, else its default exits.
   */
  private exitDynamic(count: number): string {
    return `/*DYN:${count}*/`;
  }

  /** Exit to a relative-branch target (16-bit operand size truncates EIP: dynamic). */
  private jumpExit(d: DecodedInsn, disp: number, count: number): string {
    const target = (d.lin + d.len + disp) | 0;
    if (d.opSize === 4) return this.exitStatic(target, count);
    return `c.setEip((${this.nextEip(d)} + ${disp}) & 0xffff); ${this.exitDynamic(count)}`;
  }

  /** Instructions that fault record where they start, for restart. */
  private faultable(d: DecodedInsn): void {
    this.out.push(`cur = ${lin(d.lin)};`);
  }

  /** Run the interpreter for one instruction, with the register file current. */
  private fallback(d: DecodedInsn): void {
    this.out.push(`${SYNC} c.ip = ${lin(d.lin)}; live = false; step(c); live = true; ${RELOAD}`);
    // step() left c.ip after the instruction: leave if it wrote over compiled code.
    this.out.push(`if (c.smc) { c.smc = false; return n + ${this.curCount}; }`);
  }

  /**
   * Emit one instruction. Returns 'continue' if the block goes on after it, 'end' if the
   * block ends here (the emitted code leaves the block).
   */
  emit(d: DecodedInsn, count: number): 'continue' | 'end' {
    const start = this.out.length;
    this.curNext = (d.lin + d.len) | 0;
    this.curCount = count;
    this.smcPending = false;
    const kind = this.special(d, count);
    if (kind === Kind.Special) {
      // A block-ending instruction leaves through an exit, which looks at c.smc itself.
      if (this.lastWasEnd) return 'end';
      if (this.smcPending) this.out.push(this.smcCheck());
      return 'continue';
    }
    this.out.length = start;
    this.flagSrc = null;
    this.fallback(d);
    if (kind === Kind.FallbackEnd) {
      // step() set c.ip; the registers are already in the register file.
      this.out.push(`return n + ${count};`);
      return 'end';
    }
    return 'continue';
  }

  /** End the block with `code`, which must leave the block itself. */
  private endWith(code: string): Kind {
    this.out.push(code);
    this.lastWasEnd = true;
    return Kind.Special;
  }

  private special(d: DecodedInsn, count: number): Kind {
    this.lastWasEnd = false;
    const op = d.op;
    // LOCK is only valid on read-modify-write memory forms; the interpreter raises #UD
    // for the rest. A single CPU needs no bus lock, so valid forms compile as usual.
    if (d.lock && !lockValid(d)) return Kind.Fallback;
    // PAUSE may end the CPU's turn (Cpu.pauseExits): the interpreter's, ending the block.
    if (d.rep !== 0 && op === 0x90) return Kind.FallbackEnd;
    // A REP prefix outside the string instructions (and REP RET): interpreter.
    if (d.rep !== 0 && op !== 0x90 && op !== 0xc3 && op !== 0xc2) return op >= 0xa4 && op <= 0xaf ? Kind.FallbackEnd : Kind.Fallback;
    if (op < 0x40 && (op & 7) < 6) {
      const g = op >> 3;
      const form = op & 7;
      switch (form) {
        case 0:
          if (d.mod !== 3) this.faultable(d);
          this.aluRm(d, g, 8, this.use(8, d.reg));
          return Kind.Special;
        case 1: {
          const sz = this.osz(d);
          if (d.mod === 3 && d.rm === d.reg && (g === 6 || g === 5)) {
            // xor r,r / sub r,r: zero idiom
            this.out.push(`${this.aluExpr(g, '0', '0', sz)};`);
            this.assign(sz, d.rm, '0');
            this.flagSrc = null;
            return Kind.Special;
          }
          if (d.mod !== 3) this.faultable(d);
          this.aluRm(d, g, sz, this.use(sz, d.reg));
          return Kind.Special;
        }
        case 2:
        case 3: {
          const sz = form === 2 ? 8 : this.osz(d);
          if (d.mod !== 3) this.faultable(d);
          const src = this.rmRead(d, sz);
          const v = this.aluValue(g, this.use(sz, d.reg), src, sz);
          if (g !== 7) this.assign(sz, d.reg, v);
          return Kind.Special;
        }
        case 4: {
          const v = this.aluValue(g, this.use(8, 0), String(d.imm), 8);
          if (g !== 7) this.assign(8, 0, v);
          return Kind.Special;
        }
        default: {
          const sz = this.osz(d);
          const v = this.aluValue(g, this.use(sz, 0), this.immZ(d), sz);
          if (g !== 7) this.assign(sz, 0, v);
          return Kind.Special;
        }
      }
    }
    switch (op) {
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
      const v = this.t();
      this.out.push(`const ${v} = c.${op < 0x48 ? 'inc' : 'dec'}(${this.use(sz, op & 7)}, ${SH[sz]});`);
      this.assign(sz, op & 7, v);
      this.flagSrc = { kind: 'incdec', a: v, b: v, res: v, sh: SH[sz] };
      return Kind.Special;
    }
    if (op >= 0x50 && op <= 0x57) {
      this.faultable(d);
      this.push(this.osz(d), this.use(this.osz(d), op & 7));
      return Kind.Special;
    }
    if (op >= 0x58 && op <= 0x5f) {
      this.faultable(d);
      const sz = this.osz(d);
      const v = this.pop(sz);
      this.assign(sz, op & 7, v);
      return Kind.Special;
    }
    if (op >= 0x70 && op <= 0x7f) {
      const disp = (d.imm << 24) >> 24;
      this.out.push(`if (${this.condExpr(op & 15)}) { ${this.jumpExit(d, disp, count)} }`);
      return this.endWith(this.exitStatic(d.lin + d.len, count));
    }
    if (op >= 0x180 && op <= 0x18f) {
      const disp = d.opSize === 4 ? d.imm | 0 : (d.imm << 16) >> 16;
      this.out.push(`if (${this.condExpr(op & 15)}) { ${this.jumpExit(d, disp, count)} }`);
      return this.endWith(this.exitStatic(d.lin + d.len, count));
    }
    if (op >= 0xb0 && op <= 0xb7) {
      this.assign(8, op & 7, String(d.imm));
      return Kind.Special;
    }
    if (op >= 0xb8 && op <= 0xbf) {
      this.assign(this.osz(d), op & 7, this.immZ(d));
      return Kind.Special;
    }
    if (op >= 0x91 && op <= 0x97) {
      const sz = this.osz(d);
      const v = this.t();
      this.out.push(`const ${v} = ${this.use(sz, 0)};`);
      this.assign(sz, 0, this.use(sz, op & 7));
      this.assign(sz, op & 7, v);
      return Kind.Special;
    }
    if (op >= 0x140 && op <= 0x14f) {
      const sz = this.osz(d);
      if (d.mod !== 3) this.faultable(d);
      const v = this.rmRead(d, sz);
      const t = this.t();
      this.out.push(`const ${t} = ${v};`);
      this.out.push(`if (${this.condExpr(op & 15)}) { ${setReg(sz, d.reg, t)} }`);
      this.regs.used.add(d.reg);
      this.regs.written.add(d.reg);
      return Kind.Special;
    }
    if (op >= 0x190 && op <= 0x19f) {
      const v = `(${this.condExpr(op & 15)} ? 1 : 0)`;
      if (d.mod === 3) this.assign(8, d.rm, v);
      else {
        this.faultable(d);
        const a = this.ea(d);
        this.store(8, a, v);
      }
      return Kind.Special;
    }
    if (op >= 0x1c8 && op <= 0x1cf && d.opSize === 4) {
      const r = this.use(32, op & 7);
      this.assign(32, op & 7, `((${r} & 0xff) << 24) | ((${r} & 0xff00) << 8) | ((${r} >>> 8) & 0xff00) | (${r} >>> 24)`);
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
        if (d.opSize !== 4) return Kind.Fallback;
        if (d.mod !== 3) this.faultable(d);
        const a = this.rmRead(d, 32);
        const b = op === 0x69 ? String(d.imm | 0) : op === 0x6b ? String((d.imm << 24) >> 24) : this.use(32, d.reg);
        // The low half is Math.imul; the double product differs from it exactly when the
        // true product does not fit in 32 bits (CF = OF = 1).
        const ta = this.t();
        const tb = this.t();
        const lo = this.t();
        this.out.push(`const ${ta} = ${a}, ${tb} = ${b}; const ${lo} = Math.imul(${ta}, ${tb});`);
        this.out.push(`c.setResultFlags(${lo}, 0, ${ta} * ${tb} !== ${lo} ? 0x801 : 0);`);
        this.assign(32, d.reg, lo);
        this.flagSrc = null;
        return Kind.Special;
      }
      case 0x80:
      case 0x82:
        if (d.mod !== 3) this.faultable(d);
        this.aluRm(d, d.reg, 8, String(d.imm));
        return Kind.Special;
      case 0x81:
        if (d.mod !== 3) this.faultable(d);
        this.aluRm(d, d.reg, this.osz(d), this.immZ(d));
        return Kind.Special;
      case 0x83:
        if (d.mod !== 3) this.faultable(d);
        this.aluRm(d, d.reg, this.osz(d), this.simm8(d));
        return Kind.Special;
      case 0x84:
      case 0x85: {
        const sz = op === 0x84 ? 8 : this.osz(d);
        if (d.mod !== 3) this.faultable(d);
        const v = this.rmRead(d, sz);
        this.logicValue(`${v} & ${this.use(sz, d.reg)}`, sz);
        return Kind.Special;
      }
      case 0x86:
      case 0x87: {
        if (d.mod !== 3) return Kind.Fallback;
        const sz = op === 0x86 ? 8 : this.osz(d);
        const v = this.t();
        this.out.push(`const ${v} = ${this.use(sz, d.rm)};`);
        this.assign(sz, d.rm, this.use(sz, d.reg));
        this.assign(sz, d.reg, v);
        return Kind.Special;
      }
      case 0x88:
      case 0x89: {
        const sz = op === 0x88 ? 8 : this.osz(d);
        if (d.mod === 3) this.assign(sz, d.rm, this.use(sz, d.reg));
        else {
          this.faultable(d);
          const a = this.ea(d);
          this.store(sz, a, this.use(sz, d.reg));
        }
        return Kind.Special;
      }
      case 0x8a:
      case 0x8b: {
        const sz = op === 0x8a ? 8 : this.osz(d);
        if (d.mod !== 3) this.faultable(d);
        const v = this.rmRead(d, sz);
        this.assign(sz, d.reg, v);
        return Kind.Special;
      }
      case 0x8d: {
        if (d.mod === 3 || d.addrSize !== 4) return Kind.Fallback;
        const parts: string[] = [];
        if (d.base >= 0) parts.push(this.use(32, d.base));
        if (d.index >= 0) parts.push(d.scale === 0 ? this.use(32, d.index) : `(${this.use(32, d.index)} << ${d.scale})`);
        if (d.disp !== 0 || parts.length === 0) parts.push(String(d.disp | 0));
        const v = this.t();
        this.out.push(`const ${v} = (${parts.join(' + ')}) | 0;`);
        this.assign(this.osz(d), d.reg, v);
        return Kind.Special;
      }
      case 0x8e:
        return Kind.FallbackEnd;
      case 0x90:
        return Kind.Special;
      case 0x98:
        if (d.opSize === 4) this.assign(32, 0, `(${this.use(16, 0)} << 16) >> 16`);
        else this.assign(16, 0, `(${this.use(8, 0)} << 24) >> 24`);
        return Kind.Special;
      case 0x99:
        if (d.opSize === 4) this.assign(32, 2, `${this.use(32, 0)} >> 31`);
        else this.assign(16, 2, `(${this.use(16, 0)} & 0x8000) !== 0 ? 0xffff : 0`);
        return Kind.Special;
      case 0xa8:
        this.logicValue(`${this.use(8, 0)} & ${d.imm}`, 8);
        return Kind.Special;
      case 0xa9:
        this.logicValue(`${this.use(this.osz(d), 0)} & ${this.immZ(d)}`, this.osz(d));
        return Kind.Special;
      case 0xc0:
      case 0xc1:
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3:
        return this.shift(d, op);
      case 0xc2:
      case 0xc3: {
        this.faultable(d);
        const sz = this.osz(d);
        const v = this.pop(sz);
        if (op === 0xc2 && d.imm !== 0) {
          if (this.mode.ss32) this.out.push(`esp = (esp + ${d.imm}) | 0;`);
          else this.out.push(`esp = (esp & ~0xffff) | ((esp + ${d.imm}) & 0xffff);`);
        }
        return this.endWith(`c.setEip(${v}); ${this.exitDynamic(count)}`);
      }
      case 0xc6:
      case 0xc7: {
        if (d.reg !== 0) return Kind.FallbackEnd;
        const sz = op === 0xc6 ? 8 : this.osz(d);
        const imm = op === 0xc6 ? String(d.imm) : this.immZ(d);
        if (d.mod === 3) this.assign(sz, d.rm, imm);
        else {
          this.faultable(d);
          const a = this.ea(d);
          this.store(sz, a, imm);
        }
        return Kind.Special;
      }
      case 0xc9: {
        if (d.opSize !== 4 || !this.inlineStack) return Kind.Fallback;
        this.faultable(d);
        const v = this.load(32, this.use(32, 5));
        this.assign(32, 4, `(ebp + 4) | 0`);
        this.assign(32, 5, v);
        return Kind.Special;
      }
      case 0xe2: {
        if (d.addrSize !== 4) return Kind.FallbackEnd;
        const disp = (d.imm << 24) >> 24;
        this.assign(32, 1, `(${this.use(32, 1)} - 1) | 0`);
        this.out.push(`if (ecx !== 0) { ${this.jumpExit(d, disp, count)} }`);
        return this.endWith(this.exitStatic(d.lin + d.len, count));
      }
      case 0xe8: {
        this.faultable(d);
        const disp = d.opSize === 4 ? d.imm | 0 : (d.imm << 16) >> 16;
        this.push(this.osz(d), this.nextEip(d));
        return this.endWith(this.jumpExit(d, disp, count));
      }
      case 0xe9:
        return this.endWith(this.jumpExit(d, d.opSize === 4 ? d.imm | 0 : (d.imm << 16) >> 16, count));
      case 0xeb:
        return this.endWith(this.jumpExit(d, (d.imm << 24) >> 24, count));
      case 0xf6:
      case 0xf7:
        return this.group3(d, op);
      case 0xfe:
        if (d.reg > 1) return Kind.FallbackEnd;
        if (d.mod !== 3) this.faultable(d);
        this.incDec(d, 8, d.reg === 0);
        return Kind.Special;
      case 0xff: {
        const sz = this.osz(d);
        switch (d.reg) {
          case 0:
          case 1:
            if (d.mod !== 3) this.faultable(d);
            this.incDec(d, sz, d.reg === 0);
            return Kind.Special;
          case 2: {
            this.faultable(d);
            const v = this.rmRead(d, sz);
            const t = this.t();
            this.out.push(`const ${t} = ${v};`);
            this.push(sz, this.nextEip(d));
            return this.endWith(`c.setEip(${t}); ${this.exitDynamic(count)}`);
          }
          case 4: {
            if (d.mod !== 3) this.faultable(d);
            const v = this.rmRead(d, sz);
            return this.endWith(`c.setEip(${v}); ${this.exitDynamic(count)}`);
          }
          case 6: {
            this.faultable(d);
            const v = this.rmRead(d, sz);
            const t = this.t();
            this.out.push(`const ${t} = ${v};`);
            this.push(sz, t);
            return Kind.Special;
          }
          default:
            return Kind.FallbackEnd;
        }
      }
      case 0x11f:
      case 0x118:
      case 0x119:
      case 0x11a:
      case 0x11b:
      case 0x11c:
      case 0x11d:
      case 0x11e:
        return Kind.Special; // hint NOPs
      case 0x1b6:
      case 0x1b7:
      case 0x1be:
      case 0x1bf: {
        const src = op === 0x1b6 || op === 0x1be ? 8 : 16;
        if (d.mod !== 3) this.faultable(d);
        const v = this.rmRead(d, src);
        const signed = op >= 0x1be;
        const val = signed ? (src === 8 ? `((${v} << 24) >> 24)` : `((${v} << 16) >> 16)`) : v;
        this.assign(this.osz(d), d.reg, val);
        return Kind.Special;
      }
    }
    if (CONTINUE_FALLBACK.has(op)) return Kind.Fallback;
    return Kind.FallbackEnd;
  }

  private shift(d: DecodedInsn, op: number): Kind {
    const sz = op === 0xc0 || op === 0xd0 || op === 0xd2 ? 8 : this.osz(d);
    const n = op === 0xc0 || op === 0xc1 ? d.imm & 0x1f : op === 0xd0 || op === 0xd1 ? 1 : -1;
    if (d.mod === 3 && sz === 32 && n > 0 && d.reg >= 4) {
      // Constant 32-bit shift: result and flags inline (the same flag model as shiftRotate).
      const v = this.t();
      const res = this.t();
      this.out.push(`const ${v} = ${this.use(32, d.rm)};`);
      if (d.reg === 5) {
        this.out.push(`const ${res} = ${v} >>> ${n};`);
        this.out.push(`c.setResultFlags(${res}, 0, ((${v} >>> ${n - 1}) & 1) | (${v} < 0 ? 0x800 : 0) | 0x10);`);
      } else if (d.reg === 7) {
        this.out.push(`const ${res} = ${v} >> ${n};`);
        this.out.push(`c.setResultFlags(${res}, 0, ((${v} >> ${n - 1}) & 1) | 0x10);`);
      } else {
        this.out.push(`const ${res} = ${v} << ${n};`);
        this.out.push(`c.setResultFlags(${res}, 0, ((${v} >>> ${32 - n}) & 1) | ((((${res} >>> 31) ^ (${v} >>> ${32 - n})) & 1) << 11) | 0x10);`);
      }
      this.assign(32, d.rm, res);
      // CF/OF come from the shift, so only ZF/SF conditions may use the result directly.
      this.flagSrc = { kind: 'incdec', a: res, b: res, res, sh: 0 };
      return Kind.Special;
    }
    this.flagSrc = null;
    const cnt = n >= 0 ? String(n) : `(${this.use(8, 1)} & 0x1f)`;
    if (d.mod === 3) {
      this.assign(sz, d.rm, `h.shiftRotate(c, ${d.reg}, ${this.use(sz, d.rm)}, ${cnt}, ${sz})`);
    } else {
      this.faultable(d);
      const a = this.ea(d);
      const v = this.t();
      this.out.push(`const ${v} = c.rmwRead${sz}(${a});`);
      this.out.push(`c.rmwWrite${sz}(h.shiftRotate(c, ${d.reg}, ${v}, ${cnt}, ${sz}));`);
      this.smcPending = true;
    }
    return Kind.Special;
  }

  private group3(d: DecodedInsn, op: number): Kind {
    const sz = op === 0xf6 ? 8 : this.osz(d);
    if (d.reg < 2) {
      if (d.mod !== 3) this.faultable(d);
      const v = this.rmRead(d, sz);
      this.logicValue(`${v} & ${op === 0xf6 ? String(d.imm) : this.immZ(d)}`, sz);
      return Kind.Special;
    }
    if (sz !== 32) return Kind.Fallback;
    this.faultable(d);
    if (d.reg === 2 || d.reg === 3) {
      if (d.reg === 3) this.flagSrc = null;
      if (d.mod === 3) {
        const r = this.use(32, d.rm);
        this.assign(32, d.rm, d.reg === 2 ? `~${r}` : `c.sub(0, ${r}, 0)`);
      } else {
        const a = this.ea(d);
        const v = this.t();
        this.out.push(`const ${v} = c.rmwRead32(${a});`);
        this.out.push(d.reg === 2 ? `c.rmwWrite32(~${v});` : `c.rmwWrite32(c.sub(0, ${v}, 0));`);
        this.smcPending = true;
      }
      return Kind.Special;
    }
    // MUL/IMUL/DIV/IDIV work on EAX/EDX in the register file.
    this.flagSrc = null;
    const v = this.rmRead(d, 32);
    const t = this.t();
    this.out.push(`const ${t} = ${v};`);
    this.clobbers(0, 2);
    const fn = ['', '', '', '', 'mul32', 'imul1_32', 'div32', 'idiv32'][d.reg];
    this.out.push(`r32[0] = eax; r32[2] = edx; h.${fn}(c, ${t}); eax = r32[0]; edx = r32[2];`);
    return Kind.Special;
  }

  /** TEST-style: flags from a logic result that is not stored. */
  private logicValue(expr: string, sz: number): void {
    const v = this.t();
    this.out.push(`const ${v} = ${expr};`);
    this.out.push(`c.lfRes = ${v}; c.lfKind = 4; c.lfShift = ${SH[sz]}; c.lazyMask = 0x8d5;`);
    this.flagSrc = { kind: 'logic', a: v, b: v, res: v, sh: SH[sz] };
  }

  private incDec(d: DecodedInsn, sz: number, inc: boolean): void {
    const f = inc ? 'inc' : 'dec';
    this.flagSrc = null;
    if (d.mod === 3) {
      this.assign(sz, d.rm, `c.${f}(${this.use(sz, d.rm)}, ${SH[sz]})`);
      return;
    }
    const a = this.ea(d);
    const v = this.t();
    this.out.push(`const ${v} = c.rmwRead${sz}(${a});`);
    this.out.push(`c.rmwWrite${sz}(c.${f}(${v}, ${SH[sz]}));`);
    this.smcPending = true;
  }

  /** The block's code (a sequence of statements ending in an exit). */
  finish(endLin: number, count: number, ended: boolean): string {
    const body = this.out.join('\n');
    return ended ? body : `${body}\n${this.exitStatic(endLin, count)}`;
  }
}

/**
 * Instructions the interpreter can run inside a block without ending it: they neither
 * transfer control nor change modes, segments, IF/TF or do I/O.
 */
export const CONTINUE_FALLBACK: ReadonlySet<number> = new Set<number>([
  0x60, 0x61, 0x62, 0x69, 0x6b, 0x86, 0x87, 0x8f, 0x8d, 0x9b, 0x9c, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7,
  0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfc, 0xfd,
  // 0F: bit ops, SHLD/SHRD, CMPXCHG, XADD, BSF/BSR, IMUL, CPUID, RDTSC, MMX, hints
  0x1a2, 0x1a3, 0x1a4, 0x1a5, 0x1ab, 0x1ac, 0x1ad, 0x1af, 0x1b0, 0x1b1, 0x1b3, 0x1ba, 0x1bb, 0x1bc, 0x1bd, 0x1c0, 0x1c1, 0x1c7, 0x131,
  0x10d, 0x1ae,
  ...Array.from({ length: 0x20 }, (_, i) => 0x160 + i),
  ...Array.from({ length: 0x2f }, (_, i) => 0x1d0 + i),
]);
