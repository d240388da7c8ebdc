/**
 * MOVS STOS LODS CMPS SCAS in byte/word/dword, with no prefix, REP, REPE and REPNE, both
 * directions, overlapping copies, segment overrides on the source, and 16-bit address size
 * with CX = 0 (which must not look at the upper half of ECX).
 */
import { DF } from '../../../emulator-core/cpu/constants.js';
import { EAX, ECX, EDI, ESI, type DiffCase } from '../case.js';
import { DATA_BASE } from '../layout.js';
import { UNDEFINED_FLAGS } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft } from './draft.js';

const OPS = ['movs', 'stos', 'lods', 'cmps', 'scas'] as const;
type Op = (typeof OPS)[number];
const SUFFIX = { 1: 'b', 2: 'w', 4: 'd' } as const;

function stringCase(rng: Rng, op: Op): DiffCase {
  const d = new Draft(rng);
  for (const r of [EAX, ECX, ESI, EDI]) d.claim(r);
  const size = rng.pick([1, 2, 4] as const);
  const down = rng.bool();
  d.eflags = (d.eflags & ~DF) | (down ? DF : 0);
  const compare = op === 'cmps' || op === 'scas';
  const prefix = compare ? rng.pick(['', 'repe ', 'repne ']) : rng.pick(['', 'rep ', 'rep ', 'repne ']);

  // Two 128-byte areas in the patch window; compare instructions mostly see equal data, so
  // REPE runs long and REPNE stops early (and the other way round).
  const a = d.window;
  const b = d.window + 128;
  const fill = rng.u32();
  for (let i = 0; i < 128; i += 4) {
    const v = rng.bool(0.85) ? fill : rng.u32();
    d.poke(a + i, v, 4);
    d.poke(b + i, rng.bool(0.9) ? v : rng.u32(), 4);
  }
  d.regs[EAX] = rng.bool(0.7) ? fill : rng.u32();

  const maxCount = Math.floor(120 / size);
  const count = prefix === '' ? 1 : rng.pick([0, 1, 2, 3, maxCount, rng.int(maxCount + 1), rng.int(maxCount + 1)]);
  d.regs[ECX] = prefix === '' ? rng.u32() : count;
  // Start at the far end of each area when moving down, so the whole run stays inside.
  const start = (area: number): number => DATA_BASE + (down ? area + 124 : area + rng.int(4));
  let src = start(a);
  let dst = start(b);
  if (op === 'movs' && rng.bool(0.25)) {
    // Overlapping copy: element by element, so the pattern repeats (forward, dst just above src).
    const k = 1 + rng.int(7);
    src = start(a);
    dst = down ? src - k : src + k;
  }
  d.regs[ESI] = src >>> 0;
  d.regs[EDI] = dst >>> 0;

  // Source segment override (the destination is always ES); all are flat here.
  const override = op !== 'stos' && op !== 'scas' && rng.bool(0.15) ? rng.pick(['es ', 'cs ', 'ss ', 'ds ']) : '';
  let asm = `${prefix}${override}${op}${SUFFIX[size]}`;
  if (prefix === 'repne ' && !compare) asm = `db 0xf2\n${op}${SUFFIX[size]} ; repne on a non-compare string op acts as rep`;
  if (compare) d.undefinedFlags = UNDEFINED_FLAGS.arith;
  return d.finish(op.toUpperCase(), asm);
}

/** 16-bit address size with CX = 0 and a nonzero upper half of ECX: nothing may happen. */
function a16Zero(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.regs[ECX] = (rng.u32() & 0xffff0000) | 0x10000;
  const op = rng.pick(OPS);
  return d.finish(op.toUpperCase(), `a16 rep${op === 'cmps' || op === 'scas' ? 'e' : ''} ${op}b ; CX=0 with 16-bit addressing`);
}

export const STRING_FAMILIES = OPS.map((o) => o.toUpperCase());

export function genString(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) {
    for (const op of OPS) out.push(rng.bool(0.05) ? a16Zero(rng) : stringCase(rng, op));
  }
  return out;
}

