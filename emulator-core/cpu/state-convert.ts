/** Conversion between the interpreter's internal state and the plain CpuState. */
import { EmulatorError } from '../errors.js';
import { CS, DS, ES, FS, GS, LDTR, SS, TR } from './constants.js';
import type { Cpu } from './cpu.js';
import type { CpuState, SegmentState, TableRegister } from './state.js';

const SEGS: [keyof CpuState, number][] = [
  ['es', ES],
  ['cs', CS],
  ['ss', SS],
  ['ds', DS],
  ['fs', FS],
  ['gs', GS],
  ['ldtr', LDTR],
  ['tr', TR],
];

function hex64(lo: number, hi: number): string {
  return '0x' + (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

function parse64(s: string, what: string): [number, number] {
  if (!/^0x[0-9a-fA-F]{1,16}$/.test(s)) throw new EmulatorError('BAD_INPUT', `CPU state: ${what} is not a 64-bit hex value`);
  const digits = s.slice(2).padStart(16, '0');
  return [parseInt(digits.slice(8), 16) | 0, parseInt(digits.slice(0, 8), 16) | 0];
}

export function getCpuState(c: Cpu): CpuState {
  const high = [0, 0, 0, 0, c.lm.fsHi, c.lm.gsHi, c.lm.ldtHi, c.lm.trHi];
  const seg = (i: number): SegmentState => {
    const v: SegmentState = {
      selector: c.segSel[i],
      base: c.segBase[i] >>> 0,
      limit: c.segLimit[i] >>> 0,
      access: c.segAccess[i] >>> 0,
    };
    if (high[i] !== 0) v.baseHigh = high[i] >>> 0;
    return v;
  };
  const tsc = c.readTsc();
  const msrs: Record<string, string> = {
    '0x174': hex64(c.sysenterCs, 0),
    '0x175': hex64(c.sysenterEsp, 0),
    '0x176': hex64(c.sysenterEip, 0),
    '0x277': hex64(c.patLo, c.patHi),
    '0x1b': hex64(c.apicBase, 0),
    '0x1a0': hex64(c.miscEnable, 0),
    '0xc0000081': hex64(c.lm.starLo, c.lm.starHi),
    '0xc0000082': hex64(c.lm.lstarLo, c.lm.lstarHi),
    '0xc0000083': hex64(c.lm.cstarLo, c.lm.cstarHi),
    '0xc0000084': hex64(c.lm.sfmask, 0),
    '0xc0000100': hex64(c.segBase[FS], c.lm.fsHi),
    '0xc0000101': hex64(c.segBase[GS], c.lm.gsHi),
    '0xc0000102': hex64(c.lm.kgsLo, c.lm.kgsHi),
  };
  const table = (base: number, limit: number, hi: number): TableRegister => (hi === 0 ? { base: base >>> 0, limit } : { base: base >>> 0, limit, baseHigh: hi >>> 0 });
  const state: CpuState = {
    gpr: Array.from(c.r32, (v) => v >>> 0),
    gprHigh: Array.from(c.rh, (v) => v >>> 0),
    // In 64-bit mode the CS base is ignored and ip is RIP's low half.
    rip: (c.mode64 ? c.ip : c.eip) >>> 0,
    ripHigh: c.mode64 ? c.lm.ripHi >>> 0 : 0,
    rflags: c.getEflags() >>> 0,
    es: seg(ES),
    cs: seg(CS),
    ss: seg(SS),
    ds: seg(DS),
    fs: seg(FS),
    gs: seg(GS),
    ldtr: seg(LDTR),
    tr: seg(TR),
    gdtr: table(c.gdtBase, c.gdtLimit, c.lm.gdtHi),
    idtr: table(c.idtBase, c.idtLimit, c.lm.idtHi),
    cr0: c.cr0 >>> 0,
    cr2: c.cr2 >>> 0,
    cr3: c.cr3 >>> 0,
    cr4: c.cr4 >>> 0,
    efer: c.efer >>> 0,
    dr: [c.dr[0], c.dr[1], c.dr[2], c.dr[3], c.dr[6], c.dr[7]].map((v) => v >>> 0),
    msrs,
    tsc: hex64(tsc % 4294967296, Math.floor(tsc / 4294967296)),
    fpu: c.fpu.save(),
    sse: c.sse.save(),
    halted: c.halted,
    interruptShadow: c.irqInhibit,
    nmiPending: c.nmiPending,
  };
  if (c.lm.cr2Hi !== 0) state.cr2High = c.lm.cr2Hi >>> 0;
  return state;
}

export function setCpuState(c: Cpu, s: CpuState): void {
  if (s.gpr.length < 8) throw new EmulatorError('BAD_INPUT', 'CPU state: fewer than 8 general registers');
  for (let i = 0; i < 16; i++) {
    c.r32[i] = s.gpr[i] ?? 0;
    c.rh[i] = s.gprHigh?.[i] ?? 0;
  }
  c.cr0 = s.cr0 | 0;
  c.cr2 = s.cr2 | 0;
  c.lm.cr2Hi = (s.cr2High ?? 0) | 0;
  c.cr4 = s.cr4 | 0;
  c.cr3 = s.cr3 | 0;
  c.efer = s.efer | 0;
  for (const [key, idx] of SEGS) {
    const v = s[key] as SegmentState;
    c.segSel[idx] = v.selector;
    c.segBase[idx] = v.base | 0;
    c.segLimit[idx] = v.limit | 0;
    c.segAccess[idx] = v.access | 0;
    c.updateSegCheck(idx);
  }
  c.gdtBase = s.gdtr.base | 0;
  c.gdtLimit = s.gdtr.limit;
  c.idtBase = s.idtr.base | 0;
  c.idtLimit = s.idtr.limit;
  c.lm.gdtHi = (s.gdtr.baseHigh ?? 0) | 0;
  c.lm.idtHi = (s.idtr.baseHigh ?? 0) | 0;
  c.lm.ldtHi = (s.ldtr.baseHigh ?? 0) | 0;
  c.lm.trHi = (s.tr.baseHigh ?? 0) | 0;
  c.lm.fsHi = (s.fs.baseHigh ?? 0) | 0;
  c.lm.gsHi = (s.gs.baseHigh ?? 0) | 0;
  c.flags = (s.rflags | 2) & 0x3f7fd7;
  c.lazyMask = 0;
  // CPL is the DPL of SS in protected mode (CS.RPL for conforming code); 3 in VM86.
  c.cpl = (s.ss.access >> 5) & 3;
  c.updateMode();
  if (c.mode64) {
    c.ip = s.rip | 0;
    c.lm.ripHi = (s.ripHigh ?? 0) | 0;
    c.fetchSpan = -1;
  } else c.setEip(s.rip);
  c.modeSwitch = false;
  c.exitRequested = false;
  const dr = s.dr;
  c.dr[0] = dr[0] | 0;
  c.dr[1] = dr[1] | 0;
  c.dr[2] = dr[2] | 0;
  c.dr[3] = dr[3] | 0;
  c.dr[6] = dr[4] | 0;
  c.dr[7] = dr[5] | 0;
  const msr = (k: string): [number, number] | null => (s.msrs[k] === undefined ? null : parse64(s.msrs[k], `MSR ${k}`));
  c.sysenterCs = msr('0x174')?.[0] ?? 0;
  c.sysenterEsp = msr('0x175')?.[0] ?? 0;
  c.sysenterEip = msr('0x176')?.[0] ?? 0;
  const pat = msr('0x277');
  if (pat !== null) [c.patLo, c.patHi] = pat;
  const apic = msr('0x1b');
  if (apic !== null) c.apicBase = apic[0];
  const misc = msr('0x1a0');
  if (misc !== null) c.miscEnable = misc[0];
  const pair = (k: string, set: (lo: number, hi: number) => void): void => {
    const v = msr(k);
    if (v !== null) set(v[0], v[1]);
  };
  pair('0xc0000081', (lo, hi) => ((c.lm.starLo = lo), (c.lm.starHi = hi)));
  pair('0xc0000082', (lo, hi) => ((c.lm.lstarLo = lo), (c.lm.lstarHi = hi)));
  pair('0xc0000083', (lo, hi) => ((c.lm.cstarLo = lo), (c.lm.cstarHi = hi)));
  pair('0xc0000084', (lo) => (c.lm.sfmask = lo));
  // FS/GS bases: the MSRs hold all 64 bits (KVM reports them there).
  pair('0xc0000100', (lo, hi) => ((c.segBase[FS] = lo), (c.lm.fsHi = hi)));
  pair('0xc0000101', (lo, hi) => ((c.segBase[GS] = lo), (c.lm.gsHi = hi)));
  pair('0xc0000102', (lo, hi) => ((c.lm.kgsLo = lo), (c.lm.kgsHi = hi)));
  const [tlo, thi] = parse64(s.tsc, 'tsc');
  c.writeTsc((thi >>> 0) * 4294967296 + (tlo >>> 0));
  c.fpu.restore(s.fpu);
  c.sse.restore(s.sse);
  c.halted = s.halted;
  c.irqInhibit = s.interruptShadow;
  c.nmiPending = s.nmiPending;
  if ((c.cr0 & 0x80000001) === (0x80000001 | 0) && (c.cr4 & 0x20) !== 0 && (c.efer & 0x400) === 0) c.loadPdptes();
  c.flushTlb(true);
}
