/**
 * SSE4.2 (32-bit code): PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM over every control byte
 * (bit 7, reserved, clear) with strings built for each aggregation mode (sse4-data.ts),
 * explicit lengths around, beyond and below (negative) the element count, embedded zeros;
 * register and unaligned memory sources, which need no alignment. PCMPGTQ. CRC32 with
 * r/m8 (AH..BH too), r/m16 and r/m32, chained; POPCNT r16/r32; MOVBE loads and stores.
 * Faults: string sources crossing into the guard page or the read-only page (readable),
 * PCMPGTQ misaligned, MOVBE stores into the read-only page, CRC32/POPCNT operands
 * straddling the guard page.
 */
import type { DiffCase } from '../case.js';
import { EAX, ECX, EDX } from '../case.js';
import { GUARD_PAGE, RO_PAGE } from '../layout.js';
import type { Rng } from '../prng.js';
import { Draft, hex, regName } from './draft.js';
import { alignedSlot, explicitLength, lanes, mixLanes, stringImm, stringOperands } from './sse4-data.js';
import { xmmBits, xmmFile } from './sse-values.js';

export const SSE42_FAMILIES = ['PCMPESTRI', 'PCMPESTRM', 'PCMPISTRI', 'PCMPISTRM', 'PCMPGTQ', 'CRC32', 'POPCNT', 'MOVBE', 'SSE4.2 memory faults'] as const;

const STRING_OPS = ['pcmpestri', 'pcmpestrm', 'pcmpistri', 'pcmpistrm'] as const;

function stringCase(rng: Rng, fault: boolean): DiffCase {
  const d = new Draft(rng);
  const mn = rng.pick(STRING_OPS);
  const imm = stringImm(rng);
  const s = stringOperands(rng, imm);
  const n = (imm & 1) !== 0 ? 8 : 16;
  // The length registers are inputs of the explicit forms and ignored by the implicit ones;
  // ECX is an output of the index forms. Keep them away from the address registers.
  for (const r of [EAX, ECX, EDX]) d.claim(r);
  d.regs[EAX] = Number(BigInt.asUintN(32, explicitLength(rng, s.naturalA, n, false)));
  d.regs[EDX] = Number(BigInt.asUintN(32, explicitLength(rng, s.naturalB, n, false)));
  const xmm = xmmFile(rng, 8, xmmBits);
  const r1 = rng.int(8);
  xmm.set(s.a, r1 * 16);
  d.xmm = xmm;
  let src: string;
  if (fault) {
    // Straddle into the guard page (#PF) or the read-only page (read fine), any alignment.
    const target = rng.pick([GUARD_PAGE, RO_PAGE]);
    const base = d.reg(32);
    d.regs[base] = (target - rng.int(20) + rng.int(4)) >>> 0;
    d.expect = 'any';
    src = `oword [${regName(32, base)}]`;
  } else if (rng.bool(0.5)) {
    const r2 = rng.bool(0.1) ? r1 : (r1 + 1 + rng.int(7)) % 8;
    if (r2 !== r1) xmm.set(s.b, r2 * 16);
    src = `xmm${r2}`;
  } else {
    const off = rng.bool(0.3) ? alignedSlot(d) : d.slot(16);
    d.pokeBytes(off, s.b);
    src = `oword ${d.memRef(off)}`;
  }
  return d.finish(fault ? 'SSE4.2 memory faults' : mn.toUpperCase(), `${mn} xmm${r1}, ${src}, ${hex(imm)}`);
}

function pcmpgtqCase(rng: Rng, fault: boolean): DiffCase {
  const d = new Draft(rng);
  const xmm = xmmFile(rng, 8, (r) => lanes(r, 64));
  const dst = rng.int(8);
  const a = xmm.slice(dst * 16, dst * 16 + 16);
  const b = mixLanes(rng, a, lanes(rng, 64), 8);
  d.xmm = xmm;
  if (fault) {
    const base = d.reg(32);
    d.regs[base] = (GUARD_PAGE - rng.int(24) + rng.int(4)) >>> 0;
    d.expect = 'any';
    return d.finish('SSE4.2 memory faults', `pcmpgtq xmm${dst}, oword [${regName(32, base)}]`);
  }
  if (rng.bool()) {
    const src = rng.bool(0.1) ? dst : (dst + 1 + rng.int(7)) % 8;
    if (src !== dst) xmm.set(b, src * 16);
    return d.finish('PCMPGTQ', `pcmpgtq xmm${dst}, xmm${src}`);
  }
  const off = alignedSlot(d);
  d.pokeBytes(off, b);
  return d.finish('PCMPGTQ', `pcmpgtq xmm${dst}, oword ${d.memRef(off)}`);
}

const PTR: Record<number, string> = { 8: 'byte', 16: 'word', 32: 'dword' };

/** A register or memory source operand of `size` bits holding an edge-biased value. */
function gpSource(d: Draft, rng: Rng, size: 8 | 16 | 32, fault: boolean): string {
  if (fault) {
    const base = d.reg(32);
    d.regs[base] = (GUARD_PAGE - rng.int(size / 8 + 2) + rng.int(2)) >>> 0;
    d.expect = 'any';
    return `${PTR[size]} [${regName(32, base)}]`;
  }
  // A register only while one is free (8-bit registers live in EAX..EBX); memory otherwise.
  const free = [0, 1, 2, 3, 5, 6, 7].filter((r) => d.isFree(r) && (size !== 8 || r < 4));
  if (rng.bool(0.5) && free.length > 0) {
    const r = d.reg(size);
    d.setReg(size, r, rng.operand(size));
    return regName(size, r);
  }
  const off = d.slot(size / 8);
  d.poke(off, rng.operand(size), size / 8);
  return `${PTR[size]} ${d.memRef(off)}`;
}

function crcCase(rng: Rng, fault: boolean): DiffCase {
  const d = new Draft(rng);
  const dst = d.reg(32);
  d.regs[dst] = rng.pick([0xffffffff, 0, rng.u32(), rng.u32()]);
  const lines: string[] = [];
  const count = fault ? 1 : 1 + rng.int(3);
  for (let i = 0; i < count; i++) {
    const size = rng.pick([8, 16, 32] as const);
    lines.push(`crc32 ${regName(32, dst)}, ${gpSource(d, rng, size, fault)}`);
  }
  return d.finish(fault ? 'SSE4.2 memory faults' : 'CRC32', lines.join('\n'));
}

function popcntCase(rng: Rng, fault: boolean): DiffCase {
  const d = new Draft(rng);
  const size = rng.pick([16, 32] as const);
  const src = gpSource(d, rng, size, fault);
  // The destination is sometimes the source register itself.
  const dst = rng.bool(0.2) && !src.includes('[') ? src : regName(size, d.reg(size));
  return d.finish(fault ? 'SSE4.2 memory faults' : 'POPCNT', `popcnt ${dst}, ${src}`);
}

function movbeCase(rng: Rng, fault: boolean): DiffCase {
  const d = new Draft(rng);
  const size = rng.pick([16, 32] as const);
  const r = d.reg(size);
  d.setReg(size, r, rng.operand(size));
  let mem: string;
  if (fault) {
    const base = d.reg(32);
    d.regs[base] = (rng.pick([RO_PAGE, GUARD_PAGE]) - rng.int(size / 8 + 1) + rng.int(2)) >>> 0;
    d.expect = 'any';
    mem = `${PTR[size]} [${regName(32, base)}]`;
  } else {
    const off = d.slot(size / 8);
    d.poke(off, rng.operand(size), size / 8);
    mem = `${PTR[size]} ${d.memRef(off)}`;
  }
  const asm = rng.bool() ? `movbe ${regName(size, r)}, ${mem}` : `movbe ${mem}, ${regName(size, r)}`;
  return d.finish(fault ? 'SSE4.2 memory faults' : 'MOVBE', asm);
}

export function genSse42(rng: Rng, count: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < count; i++) {
    const fault = i % 10 === 9;
    const k = rng.int(10);
    if (k < 5) out.push(stringCase(rng, fault));
    else if (k === 5) out.push(pcmpgtqCase(rng, fault));
    else if (k < 8) out.push(crcCase(rng, fault));
    else if (k === 8) out.push(popcntCase(rng, fault));
    else out.push(movbeCase(rng, fault));
  }
  return out;
}
