/**
 * Protected-mode segmentation at CPL 3 through LDT segments both sides install: loading DS,
 * ES and SS (every reason a load faults: null SS, RPL, execute-only, read-only SS, not
 * present, beyond the LDT limit, DPL 0), limits of normal and expand-down segments,
 * read-only writes, 16-bit addressing and 16-bit stacks (B=0) with their wrap-around,
 * LDS/LES/LSS, PUSH/POP/MOV of segment registers, far JMP/CALL/RET, LAR/LSL/VERR/VERW/ARPL,
 * and whole cases from the other generators run as 16-bit code (a D=0 code segment).
 */
import { EAX, EBP, EBX, ECX, EDI, ESI, ESP, REG16, REG32, type DiffCase } from '../case.js';
import {
  CODE_BASE,
  DATA_BASE,
  LDT_CODE16,
  LDT_CODE32,
  LDT_DATA16,
  LDT_DATA32,
  LDT_EXEC_ONLY,
  LDT_EXPAND_DOWN,
  LDT_FLAT16,
  LDT_NOT_PRESENT,
  LDT_READ_ONLY,
  LDT_SMALL,
  ldtSelector,
  USER_CS,
  USER_DS,
} from '../layout.js';
import type { Rng } from '../prng.js';
import { genAlu } from './alu.js';
import { genBcd } from './bcd.js';
import { genBits } from './bits.js';
import { Draft, hex } from './draft.js';
import { genMisc } from './misc.js';
import { genMmx } from './mmx.js';
import { genMulDiv } from './muldiv.js';
import { genShift } from './shift.js';
import { genX87 } from './x87.js';

const SEL = {
  data32: ldtSelector(LDT_DATA32),
  data16: ldtSelector(LDT_DATA16),
  small: ldtSelector(LDT_SMALL),
  expandDown: ldtSelector(LDT_EXPAND_DOWN),
  readOnly: ldtSelector(LDT_READ_ONLY),
  code32: ldtSelector(LDT_CODE32),
  code16: ldtSelector(LDT_CODE16),
  execOnly: ldtSelector(LDT_EXEC_ONLY),
  notPresent: ldtSelector(LDT_NOT_PRESENT),
  flat16: ldtSelector(LDT_FLAT16),
};

/** Selectors worth loading: valid, every fault reason, and RPL/TI variations. */
function selectorPool(rng: Rng): number {
  return rng.pick([
    SEL.data32,
    SEL.data16,
    SEL.small,
    SEL.expandDown,
    SEL.readOnly,
    SEL.code32,
    SEL.execOnly,
    SEL.notPresent,
    SEL.flat16,
    SEL.data32 & ~3, // RPL 0
    SEL.small - 1, // RPL 2
    ldtSelector(10), // beyond the LDT limit
    ldtSelector(31),
    0,
    3, // null with RPL 3
    USER_DS,
    USER_CS,
    USER_DS & ~3,
    0x10, // a DPL 0 data segment (Linux: kernel data)
    0xfff8, // beyond the GDT limit
  ]);
}

/** Limit, expand-down and writability of the selectors' segments (for tagging known bugs). */
function segmentInfo(sel: number): { limit: number; expandDown: boolean; writable: boolean } | null {
  if (sel === SEL.small) return { limit: 0xfff, expandDown: false, writable: true };
  if (sel === SEL.expandDown) return { limit: 0xfff, expandDown: true, writable: true };
  if (sel === SEL.data32 || sel === (SEL.data32 & ~3)) return { limit: 0x1fff, expandDown: false, writable: true };
  if (sel === SEL.readOnly) return { limit: 0x1fff, expandDown: false, writable: false };
  if (sel === SEL.data16) return { limit: 0xffff, expandDown: false, writable: true };
  if (sel === USER_CS || sel === SEL.code32) return { limit: 0xffffffff, expandDown: false, writable: false };
  return null;
}

/** Known-bug tags for an access of `size` bytes at `off` through `sel` (see known-bugs.ts). */
function tagAccess(d: Draft, sel: number, off: number, size: number, write: boolean): void {
  const info = segmentInfo(sel);
  if (info === null) return;
  const last = off + size - 1;
  const straddles = info.expandDown ? off > info.limit && last > 0xffff : off <= info.limit && last > info.limit;
  const tags = new Set(d.knownBugs ?? []);
  if (straddles) tags.add('segmentLimitSize');
  if (write && !info.writable) tags.add('segmentWritable');
  d.knownBugs = [...tags];
}

/** An offset to use through a segment: near its limits, both sides. */
function offsetFor(rng: Rng, sel: number): number {
  if (sel === SEL.small) return rng.pick([0, 4, 0xffc, 0xffd, 0xffe, 0xfff, 0x1000, rng.int(0x1000)]);
  if (sel === SEL.expandDown) return rng.pick([0xffc, 0xfff, 0x1000, 0x1001, 0x1ffc, 0x1000 + rng.int(0x1000), 0xfffe, 0xffff]);
  if (sel === SEL.flat16 || sel === USER_DS || sel === SEL.code32) return DATA_BASE + rng.int(0x2000 - 4);
  return rng.pick([0, 0x1ffc, 0x1ffd, 0x2000, rng.int(0x2000 - 4)]);
}

/** Segment register loads, and a use of the loaded segment. */
function loadSegment(rng: Rng): DiffCase {
  const d = new Draft(rng);
  for (const r of [EAX, EBX, ESP]) d.claim(r);
  const sreg = rng.pick(['ds', 'es', 'ds', 'ss'] as const);
  const sel = selectorPool(rng);
  const how = rng.int(3);
  let asm: string;
  if (how === 0) asm = `mov ax, ${hex(sel)}\nmov ${sreg}, ax`;
  else if (how === 1) asm = `push dword ${hex(sel | (rng.u32() & 0xffff0000))}\npop ${sreg}`; // upper bits ignored
  else asm = `mov word [${hex(DATA_BASE + d.window)}], ${hex(sel)}\nmov ${sreg}, [${hex(DATA_BASE + d.window)}]`;
  const off = offsetFor(rng, sel);
  if (sreg === 'ss') {
    d.regs[ESP] = (off + 4) >>> 0;
    const use = rng.pick(['push eax', 'pop ebx', 'push word 7\npop bx', '']);
    asm += use === '' ? '' : `\n${use}`;
    tagAccess(d, sel, off, 4, true);
    tagAccess(d, sel, off + 4, 4, false);
  } else {
    const size = rng.pick(['byte', 'word', 'dword'] as const);
    const bytes = size === 'byte' ? 1 : size === 'word' ? 2 : 4;
    const write = rng.bool();
    const mem = `${size} [${sreg}:${hex(off)}]`;
    asm += write ? `\nadd ${mem}, 1` : size === 'dword' ? `\nmov ebx, ${mem}` : `\nmovzx ebx, ${mem}`;
    tagAccess(d, sel, off, bytes, write);
  }
  d.expect = 'any';
  return d.finish('MOV/POP Sreg', asm);
}

/** Limits, expand-down, read-only and null segments, including string instructions that run into a limit. */
function limits(rng: Rng): DiffCase {
  const d = new Draft(rng);
  for (const r of [EAX, ECX, ESI, EDI]) d.claim(r);
  const sel = rng.pick([SEL.small, SEL.expandDown, SEL.readOnly, SEL.data32, 0]);
  const k = rng.int(3);
  let asm = `mov ax, ${hex(sel)}\nmov es, ax\n`;
  if (k === 0) {
    const size = rng.pick(['byte', 'word', 'dword'] as const);
    const bytes = size === 'byte' ? 1 : size === 'word' ? 2 : 4;
    const off = offsetFor(rng, sel);
    const op = rng.pick(['mov', 'inc', 'cmp']);
    asm += op === 'mov' ? `mov ${size} [es:${hex(off)}], 0x5a` : op === 'inc' ? `inc ${size} [es:${hex(off)}]` : `cmp ${size} [es:${hex(off)}], 0`;
    tagAccess(d, sel, off, bytes, op !== 'cmp');
  } else if (k === 1) {
    // STOS always writes through ES: it may run into the limit part-way.
    d.regs[EDI] = offsetFor(rng, sel) - rng.int(16);
    d.regs[ECX] = 1 + rng.int(24);
    const [op, size] = rng.pick([['stosb', 1], ['stosw', 2], ['stosd', 4]] as const);
    asm += `rep ${op}`;
    for (let i = 0; i < d.regs[ECX]; i++) tagAccess(d, sel, d.regs[EDI] + i * size, size, true);
  } else {
    // The source (DS:ESI) through the segment, the destination (ES:EDI) flat.
    d.regs[ESI] = offsetFor(rng, sel) - rng.int(16);
    d.regs[EDI] = DATA_BASE + 0x100;
    d.regs[ECX] = 1 + rng.int(24);
    const [op, size] = rng.pick([['movsb', 1], ['movsd', 4], ['lodsw', 2]] as const);
    asm = `mov ax, ${hex(sel)}\nmov ds, ax\nrep ${op}`;
    for (let i = 0; i < d.regs[ECX]; i++) tagAccess(d, sel, d.regs[ESI] + i * size, size, false);
  }
  d.expect = 'any';
  return d.finish('segment limits', asm);
}

/** 16-bit addressing through a 64 KiB data segment: every ModRM form, offsets that wrap. */
function addressing16(rng: Rng): DiffCase {
  const d = new Draft(rng);
  for (const r of [EBX, EBP, ESI, EDI, EAX, ECX]) d.claim(r);
  // Registers whose 16-bit sums wrap past 64 KiB into the data region; upper halves random.
  const target = rng.int(0x1f00);
  const bx = rng.int(0x10000);
  const si = (target - bx + 0x10000 * 2) & 0xffff;
  d.regs[EBX] = ((rng.u32() & 0xffff0000) | bx) >>> 0;
  d.regs[ESI] = ((rng.u32() & 0xffff0000) | si) >>> 0;
  d.regs[EBP] = ((rng.u32() & 0xffff0000) | rng.int(0x1f00)) >>> 0;
  d.regs[EDI] = ((rng.u32() & 0xffff0000) | rng.int(0x1f00)) >>> 0;
  const forms = ['bx+si', 'bx+di', 'bp+si', 'bp+di', 'si', 'di', 'bp', 'bx'];
  const disp = rng.pick(['', '+0x10', '-0x10', '+0x7f', '+0x1000']);
  const ea = `${rng.pick(forms)}${disp}`;
  const op = rng.pick([`mov eax, [${ea}]`, `mov [${ea}], cx`, `add [${ea}], al`, `lea ax, [${ea}]`, `xchg cl, [${ea}]`]);
  // DS and SS both 16-bit data (SS's B=0 also makes the stack 16-bit).
  const asm = `mov ax, ${hex(SEL.data16)}\nmov ds, ax\nmov ss, ax\n${op}`;
  d.expect = 'any';
  return d.finish('16-bit addressing', asm);
}

/** String instructions with 16-bit addressing: SI, DI and CX only, upper halves untouched. */
function strings16(rng: Rng): DiffCase {
  const d = new Draft(rng);
  for (const r of [EAX, ECX, ESI, EDI]) d.claim(r);
  d.regs[ESI] = ((rng.u32() & 0xffff0000) | (0x100 + rng.int(0x800))) >>> 0;
  d.regs[EDI] = ((rng.u32() & 0xffff0000) | (0x1000 + rng.int(0x800))) >>> 0;
  d.regs[ECX] = ((rng.u32() & 0xffff0000) | rng.int(40)) >>> 0;
  const op = rng.pick(['movsb', 'movsw', 'stosd', 'lodsb', 'cmpsw', 'scasb']);
  const rep = op.startsWith('cmps') || op.startsWith('scas') ? rng.pick(['repe ', 'repne ']) : 'rep ';
  const asm = `mov ax, ${hex(SEL.data16)}\nmov ds, ax\nmov es, ax\n${rep}a16 ${op}`;
  return d.finish('16-bit addressing', asm.replace(`${rep}a16 ${op}`, `a16 ${rep}${op}`));
}

/** A 16-bit stack (SS.B=0): SP only, wrapping at 64 KiB, upper half of ESP preserved. */
function stack16(rng: Rng): DiffCase {
  const d = new Draft(rng);
  for (const r of [EAX, ESP, EBP]) d.claim(r);
  const sp = rng.pick([0x1800, 0x1802, 0x1000, 0x101, 0, 0xfffe, 2]);
  d.regs[ESP] = ((rng.u32() & 0xffff0000) | sp) >>> 0;
  d.regs[EBP] = ((rng.u32() & 0xffff0000) | (0x1900 + rng.int(0x100))) >>> 0;
  const ops = rng.pick(['push eax', 'push ax\npop cx', 'pushad\npopad', 'pushaw\npopaw', 'pushfd\npopfd', 'call .f\njmp .e\n.f: ret\n.e:', 'enter 8, 2\nleave', 'o16 enter 4, 1\no16 leave', 'push word 0x1234\npop dword [0x500010]']);
  const asm = `mov ax, ${hex(SEL.data16)}\nmov ss, ax\n${ops}`;
  // A push of 4 bytes at SP 2 straddles the 64 KiB limit when SP wraps.
  if (sp < 4) d.knownBugs = ['segmentLimitSize'];
  d.expect = 'any';
  return d.finish('16-bit stack', asm);
}

function farPointers(rng: Rng): DiffCase {
  const d = new Draft(rng);
  for (const r of [EAX, EBX, ESP]) d.claim(r);
  const off = d.window;
  const sel = selectorPool(rng);
  const ptrOff = rng.u32();
  d.poke(off, ptrOff, 4);
  d.poke(off + 4, sel, 2);
  d.poke(off + 8, ptrOff & 0xffff, 2);
  d.poke(off + 10, sel, 2);
  const at = hex(DATA_BASE + off);
  const at16 = hex(DATA_BASE + off + 8);
  const asm = rng.pick([`lds ebx, [${at}]`, `les eax, [${at}]`, `lss ebx, [${at}]`, `o16 lds bx, [${at16}]`, `o16 lss bx, [${at16}]`]);
  d.expect = 'any';
  return d.finish('LDS/LES/LSS', asm.replace('lss ebx', 'lss esp').replace('o16 lss bx', 'o16 lss sp'));
}

function segmentMoves(rng: Rng): DiffCase {
  const d = new Draft(rng);
  for (const r of [EAX, ESP]) d.claim(r);
  const sreg = rng.pick(['es', 'cs', 'ss', 'ds', 'fs', 'gs']);
  const k = rng.int(4);
  let asm: string;
  if (k === 0) asm = `mov eax, ${sreg}`; // zero-extends on P6 and later
  else if (k === 1) asm = `mov ax, ${sreg}`;
  else if (k === 2) asm = `mov [${hex(DATA_BASE + d.window)}], ${sreg}`;
  else {
    // A 32-bit PUSH of a segment register may write only 16 bits ("either a zero-extended
    // value is pushed ... or the segment selector is written on the stack using a 16-bit
    // move"): the upper two bytes of the slot are undefined.
    asm = `push ${sreg}`;
    d.undefinedMem.push([d.regs[ESP] - 2 - DATA_BASE, 2]);
  }
  return d.finish('MOV/PUSH Sreg', asm);
}

function farTransfers(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.claim(ESP);
  const k = rng.int(5);
  const target = rng.pick([SEL.code32, USER_CS, SEL.code32, SEL.execOnly, SEL.data32, 0, SEL.code32 & ~3]);
  let asm: string;
  if (k === 0) asm = `jmp dword ${hex(target)}:.t\n.t:`;
  else if (k === 1) asm = `call dword ${hex(target)}:.f\njmp .e\n.f: ${rng.pick(['retf', 'retf 4', 'o16 retf'])}\n.e:`;
  else if (k === 2) {
    d.poke(d.window, 0, 4);
    asm = `mov dword [${hex(DATA_BASE + d.window)}], .t\nmov word [${hex(DATA_BASE + d.window + 4)}], ${hex(target)}\njmp far [${hex(DATA_BASE + d.window)}]\n.t:`;
  } else if (k === 3) {
    asm = `push dword ${hex(target)}\npush dword .t\nretf\n.t:`;
  } else {
    // Into 16-bit code (based at CODE_BASE) and back with a 32-bit far jump.
    asm = `jmp dword ${hex(SEL.code16)}:(.c16 - ${hex(CODE_BASE)})\nbits 16\n.c16: ${rng.pick(['nop', 'inc ax', 'push word 1\npop cx', 'call .n\njmp .x\n.n: ret\n.x:'])}\njmp dword ${hex(USER_CS)}:.back\nbits 32\n.back:`;
  }
  d.expect = 'any';
  return d.finish('far JMP/CALL/RET', asm);
}

function descriptorQueries(rng: Rng): DiffCase {
  const d = new Draft(rng);
  const sel = rng.bool(0.2) ? rng.u32() & 0xffff : selectorPool(rng);
  const src = d.reg(16);
  d.setReg(16, src, sel);
  const dst = d.reg(32);
  const op = rng.pick(['lar', 'lsl', 'verr', 'verw', 'arpl', 'lar16', 'lsl16', 'larmem']);
  let asm: string;
  if (op === 'verr' || op === 'verw') asm = `${op} ${REG16[src]}`;
  else if (op === 'arpl') asm = `arpl ${REG16[dst]}, ${REG16[src]}`;
  else if (op === 'larmem') {
    d.poke(d.window, sel, 2);
    asm = `lar ${REG32[dst]}, word [${hex(DATA_BASE + d.window)}]`;
  } else if (op.endsWith('16')) asm = `${op.slice(0, 3)} ${REG16[dst]}, ${REG16[src]}`;
  else asm = `${op} ${REG32[dst]}, ${REG32[src]}`;
  // LAR with a 32-bit destination: "Bits 19:16 are undefined" (Intel returns limit 19:16).
  if (op === 'lar' || op === 'larmem') d.undefinedRegBits[dst] = 0x000f0000;
  return d.finish('LAR/LSL/VERR/VERW/ARPL', asm);
}

/** Cases from the other generators, run as 16-bit code (default operand and address size 16). */
function code16(rng: Rng, pool: DiffCase[]): DiffCase {
  for (;;) {
    const base = pool[rng.int(pool.length)];
    // Raw bytes would change meaning with the default sizes; far/near calls to absolute
    // 32-bit targets do not fit a 64 KiB segment.
    if (base.asm.includes('db ') || base.asm.includes('call') || base.asm.includes('xlat')) continue;
    // The x87 environment formats follow the operand size: their masks assume 32-bit code.
    if (base.asm.includes('fnstenv') || base.asm.includes('fnsave') || base.asm.includes('o16')) continue;
    // Absolute addresses need 32-bit addressing (nasm would pick 16-bit and truncate them).
    const body = base.asm.replace(/\[(0x[0-9a-f]+)\]/g, '[dword $1]');
    const asm = `jmp dword ${hex(SEL.code16)}:(.c16 - ${hex(CODE_BASE)})\nbits 16\n.c16:\n${body}\njmp dword ${hex(USER_CS)}:.back\nbits 32\n.back:`;
    return { ...base, family: '16-bit code', asm, expect: base.expect === null || base.expect === undefined ? null : base.expect };
  }
}

export const SEGMENT_FAMILIES = ['MOV/POP Sreg', 'segment limits', '16-bit addressing', '16-bit stack', 'LDS/LES/LSS', 'MOV/PUSH Sreg', 'far JMP/CALL/RET', 'LAR/LSL/VERR/VERW/ARPL', '16-bit code'];

export function genSegments(rng: Rng, perFamily: number): DiffCase[] {
  // x87 and MMX too: in 16-bit code their memory operands, FIP and operand size differ.
  const pool = [...genAlu(rng, 3), ...genShift(rng, 3), ...genMulDiv(rng, 3), ...genBcd(rng, 3), ...genBits(rng, 3), ...genMisc(rng, 3), ...genX87(rng, 1), ...genMmx(rng, 2)];
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) {
    out.push(loadSegment(rng), limits(rng), rng.bool() ? addressing16(rng) : strings16(rng), stack16(rng), farPointers(rng));
    out.push(segmentMoves(rng), farTransfers(rng), descriptorQueries(rng), code16(rng, pool), code16(rng, pool));
  }
  return out;
}

