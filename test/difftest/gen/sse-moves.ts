/**
 * SSE data movement (emulator-core/cpu/sse/moves.ts and the 0F AE state instructions in
 * sse-unit.ts): MOVUPS/MOVUPD/MOVAPS/MOVAPD/MOVDQA/MOVDQU in load, store and both
 * register-to-register encodings; MOVSS/MOVSD (register merge, zero-extending load, store);
 * MOVD/MOVQ between XMM, memory and general registers (including 66 0F D6); XORPS/XORPD/
 * PXOR; memory operands at every alignment (#GP(0) for the aligned forms), across pages and
 * into the read-only and absent pages after the data region (#PF); FXSAVE/FXRSTOR images
 * (compared byte for byte but for the model- and vendor-specific fields, masks.ts and
 * vendor.ts) and LDMXCSR/STMXCSR (reserved bits: #GP(0)).
 */
import { EAX, type DiffCase } from '../case.js';
import { DATA_BASE, DATA_SIZE, GUARD_PAGE, RO_PAGE } from '../layout.js';
import type { Rng } from '../prng.js';
import { fxsaveFaultCr2Comparable, hostCpuVendor, mxcsrReservedTestable } from '../vendor.js';
import { Draft, hex, regName } from './draft.js';
import { f64Value, mxcsrValue, putLane, xmmFile, xmmValue } from './sse-values.js';

export const SSE_MOVES_FAMILIES = [
  'MOVUPS/MOVAPS/MOVDQU/MOVDQA',
  'MOVSS/MOVSD',
  'MOVD/MOVQ',
  'XORPS/XORPD/PXOR',
  'SSE moves #PF',
  'FXSAVE/FXRSTOR',
  'LDMXCSR/STMXCSR',
] as const;

const GP = 13;

/** 128-bit moves: mnemonic, whether memory operands must be 16-byte aligned, mandatory prefix and opcodes (load, store). */
const MOVES128: readonly { op: string; aligned: boolean; prefix: number[]; load: number; store: number }[] = [
  { op: 'movups', aligned: false, prefix: [], load: 0x10, store: 0x11 },
  { op: 'movupd', aligned: false, prefix: [0x66], load: 0x10, store: 0x11 },
  { op: 'movaps', aligned: true, prefix: [], load: 0x28, store: 0x29 },
  { op: 'movapd', aligned: true, prefix: [0x66], load: 0x28, store: 0x29 },
  { op: 'movdqa', aligned: true, prefix: [0x66], load: 0x6f, store: 0x7f },
  { op: 'movdqu', aligned: false, prefix: [0xf3], load: 0x6f, store: 0x7f },
];

function xmm(r: number): string {
  return `xmm${r}`;
}

/** A register-to-register instruction in the store encoding (r/m is the destination), which nasm never emits. */
function storeForm(prefix: number[], op: number, dst: number, src: number, note: string): string {
  return `db ${[...prefix, 0x0f, op, 0xc0 | (src << 3) | dst].map(hex).join(', ')} ; ${note} xmm${dst}, xmm${src} (store form)`;
}

/**
 * A data-region offset for an `n`-byte operand: inside the patch window (filled with
 * `fill` when given), at a random alignment or aligned to 16, or straddling the page
 * boundary in the middle of the data region.
 */
function operandOffset(d: Draft, n: number, align: 'any' | 16 | 'misaligned'): number {
  if (d.rng.bool(0.1)) {
    // Across the data region's inner page boundary (not in the patch window: seeded fill).
    const off = 0x1000 - 1 - d.rng.int(n - 1);
    if (align === 16) return 0x1000 - 16 * (1 + d.rng.int(2));
    return off;
  }
  let off = d.slot(n + 16);
  if (align === 16) off = (off + 15) & ~15;
  else if (align === 'misaligned') off = (off & ~15) + 1 + d.rng.int(15);
  else if (d.rng.bool(0.5)) off = (off & ~15) + d.rng.pick([0, 4, 8, 12]);
  return off;
}

/** Poke lanes at `off` when it is in the patch window (offsets outside keep the seeded fill). */
function fill(d: Draft, off: number, n: number): void {
  if (off < d.window || off + n > d.window + 256) return;
  const v = new Uint8Array(16);
  for (let i = 0; i < n; i += 16) {
    v.set(xmmValue(d.rng));
    d.pokeBytes(off + i, v.subarray(0, Math.min(16, n - i)));
  }
}

function alignment(d: Draft, aligned: boolean): 'any' | 16 | 'misaligned' {
  if (!aligned) return 'any';
  return d.rng.bool(0.8) ? 16 : 'misaligned';
}

function move128(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.xmm = xmmFile(rng, 8);
  const m = rng.pick(MOVES128);
  const a = rng.int(8);
  const b = rng.int(8);
  const form = rng.int(5);
  let asm: string;
  if (form === 0) asm = `${m.op} ${xmm(a)}, ${xmm(b)}`;
  else if (form === 4) {
    // MOVDQU with a 66 prefix too (F3 decides), or a segment override on a memory operand.
    if (rng.bool()) asm = `db ${[...(rng.bool() ? [0x66, 0xf3] : [0xf3, 0x66]), 0x0f, rng.pick([0x6f, 0x7f]), 0xc0 | (b << 3) | a].map(hex).join(', ')} ; movdqu with a redundant 66`;
    else {
      const off = operandOffset(d, 16, m.aligned ? 16 : 'any');
      fill(d, off, 16);
      asm = `${m.op} ${xmm(a)}, oword [${rng.pick(['ds', 'es', 'ss', 'fs'])}:${hex(DATA_BASE + off)}]`;
    }
  }
  else if (form === 1) asm = storeForm(m.prefix, m.store, a, b, m.op);
  else {
    const al = alignment(d, m.aligned);
    const off = operandOffset(d, 16, al);
    if (form === 2) fill(d, off, 16);
    const mem = `oword ${d.memRef(off)}`;
    asm = form === 2 ? `${m.op} ${xmm(a)}, ${mem}` : `${m.op} ${mem}, ${xmm(a)}`;
    if (m.aligned && ((DATA_BASE + off) & 15) !== 0) d.expect = GP;
  }
  // Sometimes a second move reads the result back through another register and form.
  if (rng.bool(0.2) && d.expect === null) asm += `\nmovdqu ${xmm(rng.int(8))}, ${xmm(a)}`;
  return d.finish('MOVUPS/MOVAPS/MOVDQU/MOVDQA', asm);
}

function scalarMove(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.xmm = xmmFile(rng, 8);
  const sd = rng.bool();
  const op = sd ? 'movsd' : 'movss';
  const n = sd ? 8 : 4;
  const a = rng.int(8);
  const b = rng.int(8);
  const form = rng.int(5);
  let asm: string;
  if (form === 0) asm = `${op} ${xmm(a)}, ${xmm(b)}`;
  else if (form === 1) asm = storeForm([sd ? 0xf2 : 0xf3], 0x11, a, b, op);
  else if (form === 4) {
    // A 66 prefix beside the mandatory F3/F2, before or after it: F3/F2 decides.
    const mandatory = sd ? 0xf2 : 0xf3;
    const prefix = rng.bool() ? [0x66, mandatory] : [mandatory, 0x66];
    const opcode = rng.pick([0x10, 0x11]);
    asm = `db ${[...prefix, 0x0f, opcode, 0xc0 | (b << 3) | a].map(hex).join(', ')} ; ${op} with a redundant 66`;
  }
  else {
    const off = operandOffset(d, n, 'any');
    if (form === 2) fill(d, off, n);
    const mem = `${sd ? 'qword' : 'dword'} ${d.memRef(off)}`;
    asm = form === 2 ? `${op} ${xmm(a)}, ${mem}` : `${op} ${mem}, ${xmm(a)}`;
  }
  return d.finish('MOVSS/MOVSD', asm);
}

function movdMovq(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.xmm = xmmFile(rng, 8);
  const a = rng.int(8);
  const b = rng.int(8);
  const form = rng.int(8);
  let asm: string;
  if (form === 0) asm = `movd ${xmm(a)}, ${regName(32, d.reg(32, true))}`;
  else if (form === 1) asm = `movd ${regName(32, d.reg(32, true))}, ${xmm(a)}`;
  else if (form === 2 || form === 3) {
    const off = operandOffset(d, 4, 'any');
    if (form === 2) fill(d, off, 4);
    asm = form === 2 ? `movd ${xmm(a)}, dword ${d.memRef(off)}` : `movd dword ${d.memRef(off)}, ${xmm(a)}`;
  } else if (form === 4) asm = `movq ${xmm(a)}, ${xmm(b)}`;
  else if (form === 5) asm = `db 0x66, 0x0f, 0xd6, ${hex(0xc0 | (b << 3) | a)} ; movq xmm${a}, xmm${b} (66 0F D6, store form)`;
  else {
    const off = operandOffset(d, 8, 'any');
    if (form === 6) fill(d, off, 8);
    asm = form === 6 ? `movq ${xmm(a)}, qword ${d.memRef(off)}` : `movq qword ${d.memRef(off)}, ${xmm(a)}`;
  }
  return d.finish('MOVD/MOVQ', asm);
}

function xorOp(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.xmm = xmmFile(rng, 8);
  const op = rng.pick(['xorps', 'xorpd', 'pxor']);
  const a = rng.int(8);
  let asm: string;
  if (rng.bool(0.5)) asm = `${op} ${xmm(a)}, ${xmm(rng.bool(0.2) ? a : rng.int(8))}`;
  else {
    const off = operandOffset(d, 16, alignment(d, true));
    fill(d, off, 16);
    asm = `${op} ${xmm(a)}, oword ${d.memRef(off)}`;
    if (((DATA_BASE + off) & 15) !== 0) d.expect = GP;
  }
  return d.finish('XORPS/XORPD/PXOR', asm);
}

/** An address from which an `n`-byte access reaches (or straddles into) `boundary`. */
function near(rng: Rng, boundary: number, n: number): number {
  return boundary - rng.int(n + 1) + (rng.bool(0.2) ? rng.int(16) : 0);
}

function pageFault(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.xmm = xmmFile(rng, 8);
  const base = d.reg(32);
  const a = rng.int(8);
  const k = rng.int(6);
  let asm: string;
  if (k === 0) {
    // 128-bit stores into the read-only page (P=1) or the absent one.
    const m = rng.pick(MOVES128);
    d.regs[base] = near(rng, rng.pick([RO_PAGE, RO_PAGE, GUARD_PAGE]), 16);
    if (m.aligned) d.regs[base] &= ~15;
    asm = `${m.op} [${regName(32, base)}], ${xmm(a)}`;
  } else if (k === 1) {
    // Loads reach the absent page; the read-only page reads fine.
    const m = rng.pick(MOVES128);
    d.regs[base] = near(rng, rng.pick([GUARD_PAGE, GUARD_PAGE, RO_PAGE]), 16);
    if (m.aligned) d.regs[base] &= ~15;
    asm = `${m.op} ${xmm(a)}, [${regName(32, base)}]`;
  } else if (k === 2) {
    const n = rng.pick([4, 8]);
    const op = n === 4 ? rng.pick(['movss', 'movd']) : rng.pick(['movsd', 'movq']);
    d.regs[base] = near(rng, rng.pick([RO_PAGE, GUARD_PAGE]), n);
    asm = rng.bool() ? `${op} [${regName(32, base)}], ${xmm(a)}` : `${op} ${xmm(a)}, [${regName(32, base)}]`;
  } else if (k === 3) {
    d.regs[base] = near(rng, GUARD_PAGE, 16) & ~15;
    asm = `${rng.pick(['xorps', 'pxor'])} ${xmm(a)}, [${regName(32, base)}]`;
  } else if (k === 4) {
    // FXSAVE only into the read-only page (an image that also reached the absent page would
    // fault on either, in an implementation-specific order); FXRSTOR reads into the absent one.
    const op = rng.pick(['fxsave', 'fxrstor']);
    d.regs[base] = near(rng, op === 'fxsave' ? RO_PAGE : GUARD_PAGE, 512) & ~15;
    asm = `${op} [${regName(32, base)}]`;
    // A straddling FXSAVE accesses its image in an implementation-specific order (as FNSAVE
    // does): the bytes written before the fault and the address in CR2 vary. Otherwise CR2
    // is compared except on AMD (vendor.ts fxsaveFaultCr2Comparable).
    d.onFault = { cr2: !fxsaveFaultCr2Comparable(hostCpuVendor()) };
    if (d.regs[base] < RO_PAGE) d.onFault.cr2 = true;
    if (d.regs[base] < RO_PAGE) d.onFault.undefinedMem = [[d.regs[base] - DATA_BASE, RO_PAGE - d.regs[base]]];
    d.fxsaveImages = [d.regs[base] - DATA_BASE];
    d.fpu = { statusUndefined: 0 };
  } else {
    d.regs[base] = near(rng, rng.pick([RO_PAGE, GUARD_PAGE]), 4);
    asm = `${rng.pick(['ldmxcsr', 'stmxcsr'])} [${regName(32, base)}]`;
  }
  d.expect = 'any';
  return d.finish('SSE moves #PF', asm);
}

/** x87 state worth saving: a few pushed values (some special), a non-default control word. */
function x87Setup(d: Draft, lines: string[]): void {
  const rng = d.rng;
  const pushes = rng.int(9);
  for (let i = 0; i < pushes; i++) {
    const k = rng.int(4);
    if (k === 0) lines.push(rng.pick(['fld1', 'fldpi', 'fldz', 'fldl2e', 'fldlg2']));
    else {
      const off = d.slot(8);
      d.poke(off, f64Value(rng), 8);
      lines.push(`fld qword [${hex(DATA_BASE + off)}]`);
    }
  }
  if (rng.bool(0.3)) lines.push('fstp st1');
  if (rng.bool(0.3)) lines.push('fincstp');
}

function fxsaveRestore(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.xmm = xmmFile(rng, 8);
  d.mxcsr = mxcsrValue(rng, { allMasked: true });
  d.claim(EAX);
  const lines: string[] = ['fninit'];
  x87Setup(d, lines);
  // The image lives past the patch window's reach when possible (512 bytes), 16-aligned.
  let img = (rng.int(DATA_SIZE - 512) & ~15) >>> 0;
  const misaligned = rng.bool(0.05);
  if (misaligned) img += 1 + rng.int(15);
  const at = hex(DATA_BASE + img);
  lines.push(`fxsave [${at}]`);
  d.fxsaveImages = [img];
  if (misaligned) d.expect = GP;
  else if (rng.bool(0.6)) {
    // Change the image (x87 control/status/tags, MXCSR, registers) and load it back.
    const k = rng.int(5);
    if (k === 0) lines.push(`mov word [${at}], ${hex(0x1000 | (rng.u32() & 0xf3f) | 0x40)}`); // FCW with reserved bit 6 set as FNINIT leaves it
    else if (k === 1) lines.push(`mov byte [${at}+4], ${hex(rng.int(256))}`); // abridged tags
    else if (k === 2) {
      let v = mxcsrValue(rng);
      if (rng.bool(0.2)) {
        // A reserved bit: FXRSTOR raises #GP(0) and changes nothing.
        const reserved = mxcsrReservedTestable(hostCpuVendor());
        let bit = 0;
        while (bit === 0) bit = (1 << (16 + rng.int(16))) & reserved;
        v |= bit;
        d.expect = GP;
      }
      lines.push(`mov dword [${at}+24], ${hex(v)}`);
    } else if (k === 3) lines.push(`mov dword [${at}+${32 + rng.int(8) * 16 + rng.int(3) * 4}], ${hex(rng.u32())}`);
    else lines.push(`mov dword [${at}+${160 + rng.int(8) * 16 + rng.int(4) * 4}], ${hex(rng.u32())}`);
    // FIP, FOP and FDP as saved are vendor- or model-specific (AMD stores 0 without a pending
    // exception): give the restored state known ones.
    lines.push(`mov dword [${at}+8], ${hex(0x400000 + rng.int(0x10000))}`, `mov word [${at}+6], ${hex(rng.int(0x800))}`, `mov dword [${at}+16], ${hex(DATA_BASE + rng.int(DATA_SIZE))}`);
    lines.push('pxor xmm0, xmm1', 'fninit', `fxrstor [${at}]`);
    if (rng.bool(0.5) && d.expect === null) {
      // Save again elsewhere: the restored state, image for image.
      let second = (rng.int(DATA_SIZE - 512) & ~15) >>> 0;
      if (Math.abs(second - img) < 512) second = img >= 1024 ? img - 512 : img + 512;
      lines.push(`fxsave [${hex(DATA_BASE + second)}]`);
      d.fxsaveImages.push(second);
    }
  }
  // FXRSTOR of an arbitrary status word may leave exceptions pending: nothing after it runs x87 code.
  d.fpu = { statusUndefined: 0 };
  return d.finish('FXSAVE/FXRSTOR', lines.join('\n'));
}

function mxcsrOps(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.xmm = xmmFile(rng, 8);
  if (rng.bool(0.5)) d.mxcsr = mxcsrValue(rng);
  const off = d.slot(4);
  const out = operandOffset(d, 4, 'any');
  let v = mxcsrValue(rng);
  if (rng.bool(0.2)) {
    const reserved = mxcsrReservedTestable(hostCpuVendor());
    let bit = 0;
    while (bit === 0) bit = (1 << (16 + rng.int(16))) & reserved;
    v |= bit;
    d.expect = GP;
  }
  const bytes = new Uint8Array(4);
  putLane(bytes, 0, v, 4);
  d.pokeBytes(off, bytes);
  const lines = [`ldmxcsr ${d.memRef(off)}`];
  if (rng.bool(0.7)) lines.push(`stmxcsr [${hex(DATA_BASE + out)}]`);
  return d.finish('LDMXCSR/STMXCSR', lines.join('\n'));
}

/** `perFamily` cases of each family. */
export function genSseMoves(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) out.push(move128(rng), scalarMove(rng), movdMovq(rng), xorOp(rng), mxcsrOps(rng), pageFault(rng), fxsaveRestore(rng));
  return out;
}
