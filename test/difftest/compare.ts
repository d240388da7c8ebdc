/**
 * Compares what the host CPU did (expected) with what Terrarium did (actual), ignoring only
 * what the case marks as undefined by the SDM, and explains a difference in terms a CPU
 * engineer can act on: the instruction, the inputs, and each differing register, flag and
 * byte with decoded flag names.
 */
import { describeFlags, EFLAGS_COMPARED, hex32, initialSse, REG32, SEG_NAMES, VECTOR_NAMES, type DiffCase, type Outcome } from './case.js';
import { decodeFnsave, type DecodedFpu } from './fpu-image.js';
import { DATA_BASE } from './layout.js';
import { FXSAVE_UNDEFINED } from './masks.js';
import { describeMxcsr, xmmHex } from './sse-state.js';
import { fillData } from './prng.js';
import { RUNAWAY } from './terrarium.js';
import { fxsaveVendorMasked, MODELLED_VENDOR, x87InstructionPointerComparable } from './vendor.js';

function describeException(o: Outcome): string {
  if (o.exception === null) return `completed at eip=0x${hex32(o.eip)}`;
  if (o.exception === RUNAWAY) return `did not finish (runaway) at eip=0x${hex32(o.eip)}`;
  const name = VECTOR_NAMES[o.exception] ?? `vector ${o.exception}`;
  const cr2 = o.exception === 14 ? ` cr2=0x${hex32(o.cr2)}` : '';
  return `${name}(err=0x${o.errorCode.toString(16)}${cr2}) at eip=0x${hex32(o.eip)}`;
}

function inMasked(ranges: [number, number][] | undefined, off: number): boolean {
  return ranges !== undefined && ranges.some(([start, len]) => off >= start && off < start + len);
}

/** x87 tag of ST(i) from a full tag word and TOP. */
function stTag(f: DecodedFpu, i: number): number {
  const top = (f.status >> 11) & 7;
  return (f.tag >> (((top + i) & 7) * 2)) & 3;
}

function compareFpu(tc: DiffCase, exp: Uint8Array, act: Uint8Array, out: string[], hostVendor: string): void {
  const check = tc.fpu;
  if (check === undefined) return;
  const e = decodeFnsave(exp);
  const a = decodeFnsave(act);
  const hex4 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;
  if (e.control !== a.control) out.push(`  x87 control word: host ${hex4(e.control)} terrarium ${hex4(a.control)}`);
  const swMask = 0xffff & ~check.statusUndefined;
  if ((e.status & swMask) !== (a.status & swMask)) {
    out.push(`  x87 status word: host ${describeStatus(e.status)} terrarium ${describeStatus(a.status)} (compared bits ${hex4(swMask)})`);
  }
  if (e.tag !== a.tag) out.push(`  x87 tag word: host ${hex4(e.tag)} terrarium ${hex4(a.tag)}`);
  // The last instruction pointer (FIP) is architectural on Intel (vendor.ts for AMD); FOP, FDP
  // and the selectors are not compared: recent CPUs store FCS/FDS as 0 and update FOP/FDP
  // only on unmasked exceptions.
  if (e.ip !== a.ip && x87InstructionPointerComparable(hostVendor, e.status)) out.push(`  x87 last instruction pointer (FIP): host 0x${hex32(e.ip)} terrarium 0x${hex32(a.ip)}`);
  for (let i = 0; i < 8; i++) {
    if (stTag(e, i) === 3 || ((check.stUndefined ?? 0) >> i) & 1) continue;
    if (e.st[i] !== a.st[i]) out.push(`  ST(${i}): host ${e.st[i]} terrarium ${a.st[i]}`);
  }
}

/** The bits of byte `i` of an XMM register that `mask` (128-bit, lane 0 lowest) leaves out. */
function maskByte(mask: bigint | undefined, i: number): number {
  return mask === undefined ? 0 : Number((mask >> BigInt(i * 8)) & 0xffn);
}

function compareSse(tc: DiffCase, exp: Outcome, act: Outcome, out: string[]): void {
  if (exp.xmm === null || act.xmm === null) return;
  const before = initialSse(tc);
  for (let r = 0; r < 8; r++) {
    const mask = tc.xmmUndefined?.[r];
    const lanes: number[] = [];
    for (let i = 0; i < 16; i++) {
      if (((exp.xmm[r * 16 + i] ^ act.xmm[r * 16 + i]) & ~maskByte(mask, i) & 0xff) !== 0 && !lanes.includes(i >> 2)) lanes.push(i >> 2);
    }
    if (lanes.length === 0) continue;
    const masked = mask === undefined ? '' : `; undefined bits 0x${mask.toString(16)} not compared`;
    out.push(
      `  xmm${r}: host ${xmmHex(exp.xmm, r)} terrarium ${xmmHex(act.xmm, r)} (dwords 3..0; differ in dword ${lanes.reverse().join(',')}; before ${xmmHex(before.xmm, r)}${masked})`,
    );
  }
  const mxMask = ~(tc.mxcsrUndefined ?? 0);
  if (((exp.mxcsr ^ act.mxcsr) & mxMask) !== 0) {
    out.push(`  mxcsr: host ${describeMxcsr(exp.mxcsr)} terrarium ${describeMxcsr(act.mxcsr)} (before ${describeMxcsr(before.mxcsr)})`);
  }
}

/**
 * Data-region bits not compared because they lie in an FXSAVE image's model- or
 * vendor-specific fields: offset -> bit mask.
 */
function fxsaveIgnored(tc: DiffCase, exp: Outcome, hostVendor: string): Map<number, number> {
  const ignored = new Map<number, number>();
  if (tc.fxsaveImages === undefined || tc.fxsaveImages.length === 0) return ignored;
  const initial = fillData(tc.memSeed);
  if (tc.patch !== undefined) initial.set(tc.patch.bytes, tc.patch.offset);
  const hostByte = (off: number): number => exp.mem.get(off) ?? initial[off] ?? 0;
  const add = (off: number, bits: number): void => void ignored.set(off, (ignored.get(off) ?? 0) | bits);
  for (const at of tc.fxsaveImages) {
    for (const [o, n] of FXSAVE_UNDEFINED) for (let i = 0; i < n; i++) add(at + o + i, 0xff);
    const status = hostByte(at + 2) | (hostByte(at + 3) << 8);
    for (const [o, bits] of fxsaveVendorMasked(hostVendor, status)) add(at + o, bits);
  }
  return ignored;
}

/** Status word with its fields spelled out: "0x3820 [TOP=7 C0 PE]". */
export function describeStatus(sw: number): string {
  const bits: [number, string][] = [
    [0x4000, 'C3'],
    [0x0400, 'C2'],
    [0x0200, 'C1'],
    [0x0100, 'C0'],
    [0x0080, 'ES'],
    [0x0040, 'SF'],
    [0x0020, 'PE'],
    [0x0010, 'UE'],
    [0x0008, 'OE'],
    [0x0004, 'ZE'],
    [0x0002, 'DE'],
    [0x0001, 'IE'],
  ];
  const names = bits.filter(([b]) => (sw & b) !== 0).map(([, n]) => n);
  return `0x${sw.toString(16).padStart(4, '0')} [TOP=${(sw >> 11) & 7} ${names.join(' ')}]`;
}

/**
 * Differences between host and Terrarium, one line each; empty when they agree. On a host
 * of another vendor than Intel, what vendor.ts names is masked.
 */
export function diffOutcomes(tc: DiffCase, exp: Outcome, act: Outcome, hostVendor = MODELLED_VENDOR): string[] {
  const out: string[] = [];
  const f = exp.exception !== null ? tc.onFault : undefined;
  if (f !== undefined) {
    // State the SDM leaves open at a fault (masks.ts AT_FAULT) joins the case's masks.
    const regBits: Partial<Record<number, number>> = { ...tc.undefinedRegBits };
    for (const [r, bits] of Object.entries(f.undefinedRegBits ?? {})) regBits[Number(r)] = (regBits[Number(r)] ?? 0) | (bits ?? 0);
    tc = {
      ...tc,
      undefinedFlags: tc.undefinedFlags | (f.undefinedFlags ?? 0),
      undefinedRegBits: regBits,
      undefinedMem: [...(tc.undefinedMem ?? []), ...(f.undefinedMem ?? [])],
    };
  }
  const cr2Differs = exp.cr2 !== act.cr2 && f?.cr2 !== true;
  if (exp.exception !== act.exception || exp.errorCode !== act.errorCode || exp.eip !== act.eip || cr2Differs) {
    out.push(`  outcome: host ${describeException(exp)}; terrarium ${describeException(act)}`);
  }
  for (let i = 0; i < 8; i++) {
    const mask = ~(tc.undefinedRegBits?.[i] ?? 0);
    if (((exp.regs[i] ^ act.regs[i]) & mask) !== 0) {
      out.push(`  ${REG32[i]}: host 0x${hex32(exp.regs[i])} terrarium 0x${hex32(act.regs[i])}`);
    }
  }
  for (let i = 0; i < 6; i++) {
    if (exp.segs[i] !== act.segs[i]) out.push(`  ${SEG_NAMES[i]}: host 0x${exp.segs[i].toString(16)} terrarium 0x${act.segs[i].toString(16)}`);
  }
  const flagMask = EFLAGS_COMPARED & ~tc.undefinedFlags;
  const flagDiff = (exp.eflags ^ act.eflags) & flagMask;
  if (flagDiff !== 0) {
    out.push(`  eflags: host ${describeFlags(exp.eflags, flagMask)} terrarium ${describeFlags(act.eflags, flagMask)}; differ in ${describeFlags(flagDiff).replace(/^\S+ /, '')}`);
  }
  const offsets = [...new Set([...exp.mem.keys(), ...act.mem.keys()])].sort((x, y) => x - y);
  const memLines: string[] = [];
  const ignoredBits = fxsaveIgnored(tc, exp, hostVendor);
  for (const off of offsets) {
    if (inMasked(tc.undefinedMem, off)) continue;
    const e = exp.mem.get(off);
    const a = act.mem.get(off);
    const ignore = ignoredBits.get(off) ?? 0;
    if (ignore !== 0 && e !== undefined && a !== undefined && ((e ^ a) & ~ignore & 0xff) === 0) continue;
    if (ignore !== 0 && (e === undefined || a === undefined)) {
      // One side left the byte alone: compare its ignored bits against the initial fill's.
      const initial = fillData(tc.memSeed);
      if (tc.patch !== undefined) initial.set(tc.patch.bytes, tc.patch.offset);
      if ((((e ?? initial[off]) ^ (a ?? initial[off])) & ~ignore & 0xff) === 0) continue;
    }
    if (e !== a) {
      const show = (v: number | undefined): string => (v === undefined ? 'unchanged' : `0x${v.toString(16).padStart(2, '0')}`);
      memLines.push(`  mem[0x${hex32(DATA_BASE + off)}]: host ${show(e)} terrarium ${show(a)}`);
    }
  }
  if (memLines.length > 8) out.push(...memLines.slice(0, 8), `  ... and ${memLines.length - 8} more differing bytes`);
  else out.push(...memLines);
  if (exp.fpu !== null && act.fpu !== null) compareFpu(tc, exp.fpu, act.fpu, out, hostVendor);
  compareSse(tc, exp, act, out);
  return out;
}

/** The inputs of a case, to reproduce it by hand. */
export function describeInputs(tc: DiffCase): string {
  const regs = REG32.map((r, i) => `${r}=0x${hex32(tc.regs[i])}`).join(' ');
  let s = `  inputs: ${regs}\n          eflags=${describeFlags(tc.eflags)} memSeed=0x${hex32(tc.memSeed)}`;
  if (tc.patch !== undefined) {
    const bytes = [...tc.patch.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    s += `\n          mem[0x${hex32(DATA_BASE + tc.patch.offset)}..] = ${bytes}`;
  }
  if (tc.mxcsr !== undefined) s += `\n          mxcsr=${describeMxcsr(tc.mxcsr)}`;
  if (tc.xmm !== undefined) {
    const xmm = tc.xmm;
    s += `\n          ${[0, 1, 2, 3, 4, 5, 6, 7].map((r) => `xmm${r}=${xmmHex(xmm, r)}`).join(' ')}`;
  }
  return s;
}

export function describeCase(tc: DiffCase): string {
  return tc.asm
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('; ');
}
