/**
 * MMX: every instruction of the original MMX set (Terrarium models a Pentium II; the SSE
 * additions to MMX registers are not generated) in register and memory forms, the
 * immediate shifts, MOVD/MOVQ in all directions, EMMS, and x87/MMX transitions (MMX code
 * aliases the x87 registers: TOP becomes 0, tags valid, exponents all ones).
 */
import { EAX, type DiffCase } from '../case.js';
import { DATA_BASE } from '../layout.js';
import { X87_UNDEFINED } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft, hex, regName } from './draft.js';
import { u64 } from './x87-values.js';

const BINARY = [
  'punpcklbw', 'punpcklwd', 'punpckldq', 'punpckhbw', 'punpckhwd', 'punpckhdq',
  'packsswb', 'packssdw', 'packuswb',
  'pcmpgtb', 'pcmpgtw', 'pcmpgtd', 'pcmpeqb', 'pcmpeqw', 'pcmpeqd',
  'pmullw', 'pmulhw', 'pmaddwd',
  'paddb', 'paddw', 'paddd', 'paddsb', 'paddsw', 'paddusb', 'paddusw',
  'psubb', 'psubw', 'psubd', 'psubsb', 'psubsw', 'psubusb', 'psubusw',
  'pand', 'pandn', 'por', 'pxor',
] as const;
const SHIFTS = ['psrlw', 'psrld', 'psrlq', 'psraw', 'psrad', 'psllw', 'pslld', 'psllq'] as const;

/** A 64-bit lane pattern with saturation and sign boundaries in every lane width. */
function lanes(rng: Rng): bigint {
  const k = rng.int(6);
  if (k === 0) return u64(rng);
  const pick = (): bigint => BigInt(rng.pick([0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x81, rng.int(256)]));
  let v = 0n;
  for (let i = 0; i < 8; i++) v |= pick() << BigInt(i * 8);
  if (k === 1) return v;
  const words = (): bigint => BigInt(rng.pick([0, 1, 0x7fff, 0x8000, 0xffff, 0x8001, 0x7ffe, rng.int(65536)]));
  v = 0n;
  for (let i = 0; i < 4; i++) v |= words() << BigInt(i * 16);
  return v;
}

function shiftCount(rng: Rng): bigint {
  return rng.pick([0n, 1n, 7n, 8n, 15n, 16n, 31n, 32n, 63n, 64n, 65n, BigInt(rng.int(70)), u64(rng), 1n << 32n]);
}

interface MmxCtx {
  d: Draft;
  rng: Rng;
  lines: string[];
  /** Next free offset in the patch window. */
  next: number;
}

function memSlot(x: MmxCtx, value: bigint | null): string {
  const off = x.next;
  x.next += 8;
  if (value !== null) x.d.poke(off, value, 8);
  return `qword [${hex(DATA_BASE + off)}]`;
}

/** Give mm0-mm7 known contents (loads from memory, or MOVD from general registers). */
function initRegisters(x: MmxCtx): void {
  for (let i = 0; i < 8; i++) {
    if (x.rng.bool(0.85)) x.lines.push(`movq mm${i}, ${memSlot(x, lanes(x.rng))}`);
    else x.lines.push(`movd mm${i}, ${regName(32, x.rng.pick([1, 2, 3, 5, 6, 7]))}`);
  }
}

function binaryOp(x: MmxCtx, op: string): string {
  const dst = x.rng.int(8);
  if (x.rng.bool(0.6)) return `${op} mm${dst}, mm${x.rng.int(8)}`;
  const off = x.next;
  x.next += 8;
  x.d.poke(off, lanes(x.rng), 8);
  return `${op} mm${dst}, qword ${x.d.memRef(off)}`;
}

function shiftOp(x: MmxCtx, op: (typeof SHIFTS)[number]): string {
  const dst = x.rng.int(8);
  const form = x.rng.int(3);
  if (form === 0) return `${op} mm${dst}, ${hex(Number(shiftCount(x.rng) & 0xffn))}`;
  if (form === 1) {
    const src = (dst + 1 + x.rng.int(7)) % 8;
    x.lines.push(`movq mm${src}, ${memSlot(x, shiftCount(x.rng))}`);
    return `${op} mm${dst}, mm${src}`;
  }
  return `${op} mm${dst}, ${memSlot(x, shiftCount(x.rng))}`;
}

function moveOp(x: MmxCtx): string {
  const i = x.rng.int(8);
  const k = x.rng.int(7);
  const store = x.next;
  x.next += 8;
  const at = `[${hex(DATA_BASE + store)}]`;
  if (k === 0) return `movd ${regName(32, x.rng.pick([EAX, 1, 2, 3, 5, 6, 7]))}, mm${i}`;
  if (k === 1) return `movd dword ${at}, mm${i}`;
  if (k === 2) return `movq qword ${at}, mm${i}`;
  if (k === 3) return `movq mm${x.rng.int(8)}, mm${i}`;
  if (k === 4) return `db 0x0f, 0x7f, ${hex(0xc0 | (i << 3) | x.rng.int(8))} ; movq mm, mm (store form)`;
  if (k === 5) {
    x.d.poke(store, u64(x.rng), 8);
    return `movd mm${i}, dword ${at}`;
  }
  return `emms`;
}

/** x87 and MMX sharing registers: x87 loads read as MMX, MMX results seen by the x87. */
function transition(x: MmxCtx): string {
  const k = x.rng.int(3);
  const off = x.next;
  x.next += 16;
  if (k === 0) return `fld1\nfldpi\npaddw mm${x.rng.int(8)}, mm${x.rng.int(8)}`;
  if (k === 1) return `pxor mm${x.rng.int(8)}, mm${x.rng.int(8)}\nemms\nfld1\nfstp tword [${hex(DATA_BASE + off)}]`;
  return `paddb mm0, mm1\nfld1`; // no EMMS: the push finds a full stack (invalid operation)
}

export const MMX_FAMILIES = ['MMX arithmetic', 'MMX pack/unpack/compare', 'MMX shifts', 'MMX logic', 'MOVD/MOVQ/EMMS', 'x87/MMX transitions'];

function family(op: string): string {
  if (op.startsWith('punpck') || op.startsWith('pack') || op.startsWith('pcmp')) return 'MMX pack/unpack/compare';
  if (op === 'pand' || op === 'pandn' || op === 'por' || op === 'pxor') return 'MMX logic';
  return 'MMX arithmetic';
}

function mmxCase(rng: Rng, kind: number): DiffCase {
  const d = new Draft(rng);
  d.claim(EAX);
  const x: MmxCtx = { d, rng, lines: [], next: d.window };
  initRegisters(x);
  let fam: string;
  if (kind === 0) {
    const op = rng.pick(BINARY);
    fam = family(op);
    x.lines.push(binaryOp(x, op));
  } else if (kind === 1) {
    fam = 'MMX shifts';
    x.lines.push(shiftOp(x, rng.pick(SHIFTS)));
  } else if (kind === 2) {
    fam = 'MOVD/MOVQ/EMMS';
    x.lines.push(moveOp(x));
  } else {
    fam = 'x87/MMX transitions';
    x.lines.push(transition(x));
  }
  if (rng.bool(0.3)) x.lines.push(`movq [${hex(DATA_BASE + x.next)}], mm${rng.int(8)}`);
  if (rng.bool(0.1)) x.lines.push('emms');
  d.fpu = { statusUndefined: kind === 3 ? X87_UNDEFINED.arith : X87_UNDEFINED.mmx };
  return d.finish(fam, x.lines.join('\n'));
}

export function genMmx(rng: Rng, count: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < count; i++) {
    out.push(mmxCase(rng, 0), mmxCase(rng, 0), mmxCase(rng, 1), mmxCase(rng, 2));
    if (i % 4 === 0) out.push(mmxCase(rng, 3));
  }
  return out;
}
