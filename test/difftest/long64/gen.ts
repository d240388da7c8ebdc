/**
 * Case generators for the 64-bit differential tests: random edge-biased operands, REX
 * registers, all operand sizes, memory operands in the data region (and RIP-relative),
 * and the exceptions 64-bit mode adds (#GP on non-canonical addresses, #UD on removed
 * opcodes).
 */
import { Rng } from '../prng.js';
import { hostCpuVendor, mxcsrReservedTestable } from '../vendor.js';
import { mxcsrValue, xmmFile } from '../gen/sse-values.js';
import { CODE, DATA, DATA_SIZE, fillRegion, RSP_INIT, type Case64 } from './run.js';

const CF = 1;
const PF = 4;
const AF = 0x10;
const ZF = 0x40;
const SF = 0x80;
const OF = 0x800;
const DF = 0x400;
const ARITH = CF | PF | AF | ZF | SF | OF;
const ALL = ARITH | DF;

const R64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
const R8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'];
const R8H = ['ah', 'ch', 'dh', 'bh'];
const SIZE_NAME: Record<number, string> = { 8: 'byte', 16: 'word', 32: 'dword', 64: 'qword' };

type Bits = 8 | 16 | 32 | 64;

class Draft {
  readonly regs: bigint[] = [];
  rflags: number;
  /** Registers that must keep their value (bases, RSP). */
  readonly fixed = new Set<number>([4]);

  constructor(
    readonly rng: Rng,
    readonly index: number,
  ) {
    for (let r = 0; r < 16; r++) this.regs.push(this.value(64));
    this.regs[4] = RSP_INIT;
    this.rflags = (rng.u32() & (CF | PF | AF | ZF | SF | OF)) | 2;
  }

  /** Edge-biased value of `bits` bits in a random 64-bit register. */
  value(bits: Bits): bigint {
    const r = this.rng;
    const mask = (1n << BigInt(bits)) - 1n;
    const sign = 1n << BigInt(bits - 1);
    const k = r.int(10);
    let v: bigint;
    if (k < 4) v = (BigInt(r.u32()) << 32n) | BigInt(r.u32());
    else if (k < 7) v = r.pick([0n, 1n, 2n, mask, mask - 1n, sign, sign - 1n, sign + 1n, 0x80n, 0x7fn, 0xffffffffn, 0x80000000n, 0x100000000n]);
    else if (k < 8) v = 1n << BigInt(r.int(bits));
    else if (k < 9) v = BigInt(r.int(64));
    else v = mask - BigInt(r.int(16));
    v &= mask;
    const high = (BigInt(r.u32()) << 32n) | BigInt(r.u32());
    return BigInt.asUintN(64, (high & ~mask) | v);
  }

  /** A general register other than RSP and the fixed ones. */
  reg(): number {
    for (;;) {
      const r = this.rng.int(16);
      if (!this.fixed.has(r)) return r;
    }
  }

  name(r: number, bits: Bits): string {
    return bits === 64 ? R64[r] : bits === 32 ? R32[r] : bits === 16 ? R16[r] : R8[r];
  }

  /** A memory operand `[base + disp]` in the data region (sets the base register). */
  mem(bits: Bits, align = 1): string {
    const base = this.reg();
    this.fixed.add(base);
    let off = 0x100 + this.rng.int(DATA_SIZE - 0x300);
    off -= off % align;
    const disp = this.rng.pick([0, 8, -8, 0x40, -0x40, 3]);
    this.regs[base] = BigInt(DATA + off - disp);
    return `${SIZE_NAME[bits]} [${R64[base]} ${disp < 0 ? '-' : '+'} ${Math.abs(disp)}]`;
  }

  imm(bits: Bits): string {
    const v = this.value(bits === 64 ? 32 : bits);
    if (bits === 64) return `${BigInt.asIntN(32, v)}`;
    return `0x${(v & ((1n << BigInt(bits)) - 1n)).toString(16)}`;
  }

  done(family: string, body: string, flagMask: number): Case64 {
    return { family, body, regs: this.regs, rflags: this.rflags, flagMask };
  }
}

function bitsOf(rng: Rng): Bits {
  return rng.pick([8, 16, 32, 64] as const);
}

/** Two 8-bit register names that can be encoded together. */
function bytePair(d: Draft): [string, string] {
  if (d.rng.bool(0.3)) {
    const legacy = [...R8.slice(0, 4), ...R8H];
    return [d.rng.pick(legacy), d.rng.pick(legacy)];
  }
  return [d.name(d.reg(), 8), d.name(d.reg(), 8)];
}

function alu(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const op = rng.pick(['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'test']);
  const bits = bitsOf(rng);
  const logic = op === 'or' || op === 'and' || op === 'xor' || op === 'test';
  const mask = logic ? ARITH & ~AF : ARITH;
  const form = rng.int(5);
  let body: string;
  if (bits === 8 && form === 0) {
    const [a, b] = bytePair(d);
    body = `${op} ${a}, ${b}`;
  } else if (form === 0) body = `${op} ${d.name(d.reg(), bits)}, ${d.name(d.reg(), bits)}`;
  else if (form === 1) body = `${op} ${d.name(d.reg(), bits)}, ${d.imm(bits)}`;
  else if (form === 2 && op !== 'test') body = `${op} ${d.name(d.reg(), bits)}, ${d.mem(bits)}`;
  else if (form === 3 || form === 2) {
    const r = d.reg();
    body = `${op} ${d.mem(bits)}, ${d.name(r, bits)}`;
  } else body = `${op} ${d.mem(bits)}, ${d.imm(bits)}`;
  return d.done('alu', body, mask);
}

function unary(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const op = rng.pick(['inc', 'dec', 'neg', 'not']);
  const bits = bitsOf(rng);
  const dst = rng.bool() ? d.name(d.reg(), bits) : d.mem(bits);
  return d.done('unary', `${op} ${dst}`, ALL);
}

function shift(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const op = rng.pick(['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr', 'shld', 'shrd']);
  let bits = bitsOf(rng);
  if ((op === 'shld' || op === 'shrd') && bits === 8) bits = 32;
  const maxCount = bits === 64 ? 64 : bits === 32 ? 32 : bits;
  const count = rng.pick([0, 1, 1, 2, rng.int(maxCount), maxCount - 1]);
  const viaCl = rng.bool();
  d.fixed.add(1);
  d.regs[1] = (d.regs[1] & ~0xffn) | BigInt(count + (rng.bool(0.2) ? (bits === 64 ? 0 : 32) * (bits === 32 ? 1 : 0) : 0));
  const eff = Number(d.regs[1] & 0xffn) & (bits === 64 ? 63 : 31);
  const cnt = viaCl ? 'cl' : String(count);
  const effCount = viaCl ? eff : count & (bits === 64 ? 63 : 31);
  const dst = rng.bool() ? d.name(d.reg(), bits) : d.mem(bits);
  let body: string;
  if (op === 'shld' || op === 'shrd') body = `${op} ${dst}, ${d.name(d.reg(), bits)}, ${cnt}`;
  else body = `${op} ${dst}, ${cnt}`;
  let mask: number;
  if (effCount === 0) mask = ALL;
  else if (op === 'rol' || op === 'ror' || op === 'rcl' || op === 'rcr') mask = CF | (effCount === 1 ? OF : 0);
  else mask = CF | ZF | SF | PF | (effCount === 1 ? OF : 0);
  // Counts beyond the operand width leave CF (and RCL/RCR results for 8/16 bits) model-specific.
  if (effCount >= bits) mask &= ~(CF | OF);
  return d.done('shift', body, mask);
}

function muldiv(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const bits = bitsOf(rng);
  const form = rng.int(6);
  d.fixed.add(0);
  d.fixed.add(2);
  if (form < 2) {
    const op = form === 0 ? 'mul' : 'imul';
    const src = rng.bool() ? d.name(d.reg(), bits) : d.mem(bits);
    return d.done('muldiv', `${op} ${src}`, CF | OF);
  }
  if (form === 2 && bits !== 8) {
    const dst = d.name(d.reg(), bits);
    const src = rng.bool() ? d.name(d.reg(), bits) : d.mem(bits);
    return d.done('muldiv', rng.bool() ? `imul ${dst}, ${src}` : `imul ${dst}, ${src}, ${d.imm(bits === 64 ? 32 : bits)}`, CF | OF);
  }
  const op = rng.bool() ? 'div' : 'idiv';
  // Mostly divisions that do not overflow: RDX small or the sign extension of RAX.
  const r = rng.int(3);
  if (r === 0) d.regs[2] = 0n;
  else if (r === 1) d.regs[2] = BigInt.asIntN(64, d.regs[0]) < 0n ? (1n << 64n) - 1n : 0n;
  const divisor = d.reg();
  if (rng.bool(0.1)) d.regs[divisor] = 0n;
  return d.done('muldiv', `${op} ${d.name(divisor, bits)}`, 0);
}

function moves(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const form = rng.int(8);
  const dst = d.reg();
  let body: string;
  switch (form) {
    case 0:
      body = `movsxd ${R64[dst]}, ${rng.bool() ? R32[d.reg()] : d.mem(32)}`;
      break;
    case 1:
      body = `movzx ${rng.bool() ? R64[dst] : R32[dst]}, ${rng.bool() ? d.name(d.reg(), 8) : d.mem(8)}`;
      break;
    case 2:
      body = `movsx ${rng.pick([R64[dst], R32[dst], R16[dst]])}, ${rng.bool() ? d.name(d.reg(), 8) : d.mem(8)}`;
      break;
    case 3:
      body = `movsx ${rng.bool() ? R64[dst] : R32[dst]}, ${rng.bool() ? R16[d.reg()] : d.mem(16)}`;
      break;
    case 4:
      d.fixed.add(0);
      d.fixed.add(2);
      body = rng.pick(['cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo']);
      break;
    case 5: {
      const bits = bitsOf(rng);
      body = `mov ${d.name(dst, bits)}, ${d.name(d.reg(), bits)}`;
      break;
    }
    case 6:
      body = `mov ${R64[dst]}, 0x${d.value(64).toString(16)}\nmov ${R32[d.reg()]}, ${d.imm(32)}`;
      break;
    default: {
      const bits = bitsOf(rng);
      body = rng.bool() ? `mov ${d.name(dst, bits)}, ${d.mem(bits)}` : `xchg ${d.mem(bits)}, ${d.name(dst, bits)}`;
    }
  }
  return d.done('moves', body, ALL);
}

function ripRelative(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const off = DATA + 0x100 + rng.int(DATA_SIZE - 0x200);
  const r = d.reg();
  const bits = bitsOf(rng);
  const body = rng.pick([
    `mov ${d.name(r, bits)}, [rel 0x${off.toString(16)}]`,
    `mov [rel 0x${off.toString(16)}], ${d.name(r, bits)}`,
    `add ${SIZE_NAME[bits]} [rel 0x${off.toString(16)}], ${d.imm(bits === 64 ? 32 : bits)}`,
    `lea ${R64[r]}, [rel $ + ${rng.int(100)}]`,
    `cmp ${d.name(r, bits)}, [rel 0x${off.toString(16)}]`,
  ]);
  return d.done('riprel', body, ARITH);
}

function stack(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const a = d.reg();
  const b = d.reg();
  const body = rng.pick([
    `push ${R64[a]}\npop ${R64[b]}`,
    `push ${R16[a]}\npop ${R16[b]}`,
    `push ${d.imm(32)}\npop ${R64[b]}`,
    `push ${d.mem(64)}\npop qword [rsp - 16]`,
    `lea ${R64[a]}, [rel .t]\ncall ${R64[a]}\njmp .e\n.t:\nadd ${R64[b]}, 5\nret\n.e:`,
    `call .t\njmp .e\n.t:\nmov ${R64[b]}, [rsp]\nret 8\n.e:`,
    `pushfq\npop ${R64[b]}\nand ${R64[b]}, 0xcd5`,
    `push ${rng.int(0x1000) & 0xcd5}\npopfq`,
    `mov rbp, rsp\nenter ${rng.int(64)}, ${rng.int(3)}\nmov ${R64[b]}, rsp\nleave`,
    `lea ${R64[a]}, [rel .t]\npush ${R64[a]}\nret\nud2\n.t:`,
  ]);
  return d.done('stack', body, ARITH);
}

function strings(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  for (const r of [1, 6, 7]) d.fixed.add(r);
  d.fixed.add(0);
  const size = rng.pick(['b', 'w', 'd', 'q']);
  const n = rng.int(24);
  const down = rng.bool(0.3);
  d.regs[6] = BigInt(DATA + 0x400 + rng.int(0x400));
  d.regs[7] = BigInt(DATA + 0x1000 + rng.int(0x400));
  d.regs[1] = rng.bool(0.9) ? BigInt(n) : d.regs[1] & 0xffffffff00000000n;
  if (down) d.rflags |= DF;
  const op = rng.pick(['movs', 'stos', 'lods', 'cmps', 'scas']);
  const prefix = op === 'cmps' || op === 'scas' ? rng.pick(['', 'repe ', 'repne ']) : rng.pick(['', 'rep ']);
  const a32 = rng.bool(0.15) ? 'a32 ' : '';
  if (prefix !== '' && a32 === '' && d.regs[1] > 64n) d.regs[1] = BigInt(n);
  if (op === 'scas' && rng.bool()) {
    // Search for a value that is there.
    const data = fillRegion(DATA_SIZE, i);
    const at = Number(d.regs[7]) - DATA + (rng.int(8) * (down ? -1 : 1)) * 8;
    let v = 0n;
    for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(data[at + k] ?? 0);
    d.regs[0] = v;
  }
  return d.done('string', `${a32}${prefix}${op}${size}`, ALL);
}

function atomics(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const form = rng.int(5);
  const bits = bitsOf(rng);
  d.fixed.add(0);
  const r = d.reg();
  switch (form) {
    case 0:
      return d.done('atomic', `${rng.bool() ? 'lock ' : ''}cmpxchg ${rng.bool() ? d.name(d.reg(), bits) : d.mem(bits)}, ${d.name(r, bits)}`, ARITH);
    case 1:
      return d.done('atomic', `xadd ${rng.bool() ? d.name(d.reg(), bits) : d.mem(bits)}, ${d.name(r, bits)}`, ARITH);
    default: {
      const wide = form !== 2;
      for (const k of [0, 1, 2, 3]) d.fixed.add(k);
      const m = d.mem(wide ? 64 : 32, wide ? 16 : 8).replace(/^\w+ /, '');
      if (rng.bool()) {
        // Make RDX:RAX equal to memory so the exchange happens.
        const base = R64.indexOf(/\[(\w+)/.exec(m)![1]);
        const disp = Number(/([-+]) (\d+)\]/.exec(m)![1] === '-' ? -Number(/(\d+)\]/.exec(m)![1]) : Number(/(\d+)\]/.exec(m)![1]));
        const at = Number(d.regs[base]) + disp - DATA;
        const data = fillRegion(DATA_SIZE, i);
        const q = (o: number): bigint => {
          let v = 0n;
          for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(data[at + o + k]);
          return v;
        };
        if (wide) {
          d.regs[0] = q(0);
          d.regs[2] = q(8);
        } else {
          d.regs[0] = q(0) & 0xffffffffn;
          d.regs[2] = q(0) >> 32n;
        }
      }
      if (form === 4) {
        // A misaligned CMPXCHG16B operand: #GP(0).
        return d.done('atomic', `cmpxchg16b [${/\[(.*)\]/.exec(m)![1]} + 4]`, ALL);
      }
      return d.done('atomic', wide ? `cmpxchg16b [${/\[(.*)\]/.exec(m)![1]}]` : `cmpxchg8b [${/\[(.*)\]/.exec(m)![1]}]`, ZF);
    }
  }
}

function bits(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const size = rng.pick([16, 32, 64] as const);
  const form = rng.int(6);
  const r = d.reg();
  switch (form) {
    case 0:
    case 1: {
      const src = d.reg();
      if (rng.bool(0.15)) d.regs[src] = 0n;
      return d.done('bits', `${form === 0 ? 'bsf' : 'bsr'} ${d.name(r, size)}, ${d.name(src, size)}`, ZF);
    }
    case 2: {
      const op = rng.pick(['bt', 'bts', 'btr', 'btc']);
      return d.done('bits', `${op} ${rng.bool() ? d.name(d.reg(), size) : d.mem(size)}, ${rng.int(size * 2)}`, CF);
    }
    case 3: {
      const op = rng.pick(['bt', 'bts', 'btr', 'btc']);
      d.fixed.add(r);
      const m = d.mem(size);
      d.regs[r] = BigInt.asUintN(64, BigInt(rng.int(400) - 200));
      return d.done('bits', `${op} ${m}, ${d.name(r, size)}`, CF);
    }
    case 4:
      return d.done('bits', `bswap ${d.name(r, rng.bool() ? 32 : 64)}`, ALL);
    default: {
      const op = rng.pick(['bt', 'bts', 'btr', 'btc']);
      return d.done('bits', `${op} ${d.name(d.reg(), size)}, ${d.name(r, size)}`, CF);
    }
  }
}

function exceptions(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const r = d.reg();
  d.fixed.add(r);
  const form = rng.int(8);
  switch (form) {
    case 0:
      d.regs[r] = 0n;
      return d.done('exception', `div ${rng.pick([R64[r], R32[r]])}`, 0);
    case 1:
      // Non-canonical addresses: #GP(0).
      d.regs[r] = rng.pick([0x0000800000000000n, 0xffff7ffffffff000n, 0x1234000000000000n]);
      return d.done('exception', rng.pick([`mov rax, [${R64[r]}]`, `mov [${R64[r]}], eax`, `add qword [${R64[r]} + 8], 1`, `jmp ${R64[r]}`]), ALL);
    case 2:
      return d.done('exception', `db 0x${rng.pick([0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x60, 0x61, 0x82, 0xce, 0xd4, 0xd5, 0xd6]).toString(16)}, 0x00, 0x00`, ALL);
    case 3:
      return d.done('exception', 'ud2', ALL);
    case 4:
      // Unmapped and read-only pages: #PF with the user bit.
      d.regs[r] = rng.pick([0x50000000n, 0x10000000n + BigInt(rng.int(0x100))]);
      return d.done('exception', rng.pick([`mov rax, [${R64[r]}]`, `mov [${R64[r]}], al`]), ALL);
    case 5:
      // Executing the NX data region.
      d.regs[r] = BigInt(DATA + 0x100);
      return d.done('exception', `jmp ${R64[r]}`, ALL);
    case 6:
      if (rng.bool()) {
        // Non-canonical stack references: #SS(0).
        d.fixed.add(5);
        d.regs[5] = 0x0000800000000000n;
        return d.done('exception', rng.pick(['mov rax, [rbp + 8]', 'lea rsp, [rbp + 8]\npush rax', 'inc qword [rbp]']), ALL);
      }
      d.regs[r] = rng.pick([0n, 0xffffffffn]);
      return d.done('exception', `idiv ${R32[r]}`, 0);
    default:
      return d.done('exception', rng.pick(['mov rax, cr0', 'hlt', 'cli', 'in al, 0x80', 'lgdt [rax]', 'swapgs', 'wrmsr']), ALL);
  }
}

/** x87 through the existing unit with 64-bit addressing (results checked through memory). */
function x87(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const a = d.mem(64);
  const b = d.mem(64).replace(/^qword /, '');
  const body = rng.pick([
    `fninit\nfild ${a.replace('qword', 'dword')}\nfistp qword [${b.slice(1, -1)}]`,
    `fninit\nfld ${a}\nfstp qword [${b.slice(1, -1)}]`,
    `fninit\nfild ${a}\nfild qword [${b.slice(1, -1)}]\nfaddp\nfistp qword [${b.slice(1, -1)}]`,
    `fninit\nfld1\nfldpi\nfmulp\nfstp tword [${b.slice(1, -1)}]`,
    // (FNSTENV/FNSAVE images differ by design: this unit stores FCS/FDS, current Intel CPUs 0.)
    `fninit\nfild ${a.replace('qword', 'word')}\nfnstsw ax\nfnstcw [${b.slice(1, -1)}]`,
  ]);
  d.fixed.add(0);
  return d.done('x87', body, ARITH);
}

/** MMX with 64-bit addressing and REX.W MOVQ between MMX and general registers. */
function mmx(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const a = d.mem(64).replace(/^qword /, '');
  const b = d.mem(64).replace(/^qword /, '');
  const r = d.reg();
  const op = rng.pick(['paddb', 'paddw', 'paddsw', 'psubusb', 'pmullw', 'pmulhw', 'pcmpeqb', 'pcmpgtd', 'pand', 'pxor', 'punpcklbw', 'packsswb', 'pmaddwd']);
  const body = rng.pick([
    `movq mm0, ${a}\n${op} mm0, ${b}\nmovq ${b}, mm0\nemms`,
    `movq mm1, ${R64[r]}\n${op} mm1, ${a}\nmovq ${R64[r]}, mm1\nemms`,
    `movd mm2, ${R32[r]}\npsllq mm2, ${rng.int(70)}\nmovq ${R64[r]}, mm2\nemms`,
    `movq mm3, ${a}\npsraw mm3, ${rng.int(20)}\nmovd ${R32[r]}, mm3\nemms`,
  ]);
  return d.done('mmx', body, ALL);
}

const MOVES128 = [
  { op: 'movups', aligned: false },
  { op: 'movupd', aligned: false },
  { op: 'movaps', aligned: true },
  { op: 'movapd', aligned: true },
  { op: 'movdqa', aligned: true },
  { op: 'movdqu', aligned: false },
] as const;

/**
 * SSE moves with REX (XMM8-15, R8-R15), MOVD/MOVQ with 32- and 64-bit registers,
 * RIP-relative operands, XORPS/PXOR, LDMXCSR/STMXCSR, FXSAVE/FXSAVE64/FXRSTOR, and their
 * faults (#GP for misalignment, reserved MXCSR bits and non-canonical addresses, #PF on
 * the read-only code and unmapped pages). XMM0-15 and MXCSR are compared.
 */
function sseMoves(rng: Rng, i: number): Case64 {
  const d = new Draft(rng, i);
  const x = (r: number): string => `xmm${r}`;
  const a = rng.int(16);
  const b = rng.int(16);
  const base = d.reg();
  d.fixed.add(base);
  /** `[base]` at a data-region offset with room for n bytes, 16-aligned or at any alignment. */
  const at = (n: number, align16: boolean): { text: string; off: number } => {
    let off = 0x100 + rng.int(DATA_SIZE - 0x100 - n - 16);
    if (align16) off &= ~15;
    else if (rng.bool(0.1)) off = 0x1000 - 1 - rng.int(n - 1); // across the inner page boundary
    d.regs[base] = BigInt(DATA + off);
    return { text: `[${R64[base]}]`, off };
  };
  const k = rng.int(11);
  let body: string;
  const extra: Partial<Case64> = {};
  if (k === 0) body = `${rng.pick(MOVES128).op} ${x(a)}, ${x(b)}`;
  else if (k === 1 || k === 2) {
    const m = rng.pick(MOVES128);
    const misaligned = m.aligned && rng.bool(0.15);
    const mem = at(16, m.aligned && !misaligned);
    if (misaligned && (mem.off & 15) === 0) d.regs[base] += BigInt(1 + rng.int(15));
    body = k === 1 ? `${m.op} ${x(a)}, oword ${mem.text}` : `${m.op} oword ${mem.text}, ${x(a)}`;
  } else if (k === 3) {
    const op = rng.pick(['movss', 'movsd']);
    const mem = at(8, false);
    body = rng.pick([`${op} ${x(a)}, ${x(b)}`, `${op} ${x(a)}, ${mem.text}`, `${op} ${mem.text}, ${x(a)}`]);
  } else if (k === 4) {
    const r = d.reg();
    body = rng.pick([`movq ${x(a)}, ${R64[r]}`, `movq ${R64[r]}, ${x(a)}`, `movd ${x(a)}, ${R32[r]}`, `movd ${R32[r]}, ${x(a)}`, `movq ${x(a)}, ${x(b)}`]);
  } else if (k === 5) {
    const off = DATA + 0x100 + rng.int(DATA_SIZE - 0x200);
    const rel = `[rel 0x${off.toString(16)}]`;
    body = rng.pick([`movq ${x(a)}, qword ${rel}`, `movq qword ${rel}, ${x(a)}`, `movdqu ${x(a)}, oword ${rel}`, `movdqu oword ${rel}, ${x(a)}`, `movd ${x(a)}, dword ${rel}`, `movss dword ${rel}, ${x(a)}`, `movq ${x(a)}, qword ${d.mem(64)}`]);
  } else if (k === 6) {
    const op = rng.pick(['xorps', 'xorpd', 'pxor']);
    body = rng.bool() ? `${op} ${x(a)}, ${x(b)}` : `${op} ${x(a)}, oword ${at(16, true).text}`;
  } else if (k === 7) {
    // FXSAVE (64-bit FIP/FDP with REX.W), sometimes changed (MXCSR, an XMM dword) and restored.
    const img = at(512, true);
    const w = rng.bool() ? '64' : '';
    extra.fxsaveImages = [img.off];
    const lines = ['fninit', 'fld1', 'fldpi', `fxsave${w} ${img.text}`];
    if (rng.bool(0.6)) {
      let mx = mxcsrValue(rng, { allMasked: true });
      if (rng.bool(0.2)) mx |= (1 << (16 + rng.int(16))) & mxcsrReservedTestable(hostCpuVendor());
      lines.push(`mov dword [${R64[base]} + 24], 0x${(mx >>> 0).toString(16)}`);
      lines.push(`mov dword [${R64[base]} + ${160 + rng.int(16) * 16 + rng.int(4) * 4}], ${d.imm(32)}`);
      lines.push('pxor xmm0, xmm0', 'pxor xmm15, xmm15', `fxrstor${rng.bool() ? '64' : ''} ${img.text}`);
    }
    body = lines.join('\n');
  } else if (k === 8) {
    const mem = at(4, false);
    let mx = mxcsrValue(rng);
    if (rng.bool(0.2)) mx |= (1 << (16 + rng.int(16))) & mxcsrReservedTestable(hostCpuVendor());
    body = `mov dword ${mem.text}, 0x${(mx >>> 0).toString(16)}\nldmxcsr ${mem.text}\nstmxcsr [${R64[base]} + 8]`;
  } else if (k === 9) {
    // #PF: stores into the read-only code, loads from an unmapped page; #GP: non-canonical.
    // (Not near the top of the lower half: Linux reports user faults at or above
    // 0x7ffffffff000 with P=1, to hide its page tables.)
    const m = rng.pick(MOVES128);
    const target = rng.pick([BigInt(CODE + 0x10 * rng.int(64)), 0x50000000n, 0x0000800000000000n, 0xffff800000000000n - 16n]);
    d.regs[base] = target;
    body = rng.pick([`${m.op} ${x(a)}, [${R64[base]}]`, `${m.op} [${R64[base]}], ${x(a)}`, `movq [${R64[base]}], ${x(a)}`, `fxsave [${R64[base]}]`, `ldmxcsr [${R64[base]}]`]);
  } else {
    // 66 0F D6 in the register form (nasm emits F3 0F 7E for movq xmm, xmm), with REX.R/B.
    const rex = 0x40 | ((b >> 3) << 2) | (a >> 3);
    body = `db 0x66, 0x${rex.toString(16)}, 0x0f, 0xd6, 0x${(0xc0 | ((b & 7) << 3) | (a & 7)).toString(16)} ; movq xmm${a}, xmm${b}`;
  }
  return { ...d.done('sse', body, ALL), xmm: xmmFile(rng, 16), mxcsr: rng.bool(0.3) ? mxcsrValue(rng) : undefined, ...extra };
}

export const FAMILIES: Record<string, (rng: Rng, i: number) => Case64> = {
  sse: sseMoves,
  x87,
  mmx,
  alu,
  unary,
  shift,
  muldiv,
  moves,
  riprel: ripRelative,
  stack,
  string: strings,
  atomic: atomics,
  bits,
  exception: exceptions,
};

/** `perFamily` cases of every family. */
/** `perFamily` cases of every family (of those named in `only`, when given). */
export function generate(seed: number, perFamily: number, only?: readonly string[]): Case64[] {
  const rng = new Rng(seed);
  const out: Case64[] = [];
  for (const [name, f] of Object.entries(FAMILIES)) {
    if (only !== undefined && !only.includes(name)) continue;
    for (let k = 0; k < perFamily; k++) out.push(f(rng, out.length));
  }
  return out;
}
