/** Conversion between the interpreter's internal state and the plain CpuState. */
import { EmulatorError } from '../errors.js';
import { CS, DS, ES, FS, GS, LDTR, SS, TR } from './constants.js';
import type { Cpu } from './cpu.js';
import type { CpuState, SegmentState } from './state.js';

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
  const seg = (i: number): SegmentState => ({
    selector: c.segSel[i],
    base: c.segBase[i] >>> 0,
    limit: c.segLimit[i] >>> 0,
    access: c.segAccess[i] >>> 0,
  });
  const tsc = c.readTsc();
  const msrs: Record<string, string> = {
    '0x174': hex64(c.sysenterCs, 0),
    '0x175': hex64(c.sysenterEsp, 0),
    '0x176': hex64(c.sysenterEip, 0),
    '0x277': hex64(c.patLo, c.patHi),
    '0x1b': hex64(c.apicBase, 0),
    '0x1a0': hex64(c.miscEnable, 0),
  };
  return {
    gpr: Array.from(c.r32, (v) => v >>> 0),
    gprHigh: new Array<number>(16).fill(0),
    rip: c.eip >>> 0,
    ripHigh: 0,
    rflags: c.getEflags() >>> 0,
    es: seg(ES),
    cs: seg(CS),
    ss: seg(SS),
    ds: seg(DS),
    fs: seg(FS),
    gs: seg(GS),
    ldtr: seg(LDTR),
    tr: seg(TR),
    gdtr: { base: c.gdtBase >>> 0, limit: c.gdtLimit },
    idtr: { base: c.idtBase >>> 0, limit: c.idtLimit },
    cr0: c.cr0 >>> 0,
    cr2: c.cr2 >>> 0,
    cr3: c.cr3 >>> 0,
    cr4: c.cr4 >>> 0,
    efer: c.efer >>> 0,
    dr: [c.dr[0], c.dr[1], c.dr[2], c.dr[3], c.dr[6], c.dr[7]].map((v) => v >>> 0),
    msrs,
    tsc: hex64(tsc % 4294967296, Math.floor(tsc / 4294967296)),
    fpu: c.fpu.save(),
    sse: { mxcsr: 0x1f80, xmm: new Array<string>(16).fill('0'.repeat(32)) },
    halted: c.halted,
    interruptShadow: c.irqInhibit,
    nmiPending: c.nmiPending,
  };
}

export function setCpuState(c: Cpu, s: CpuState): void {
  if (s.gpr.length < 8) throw new EmulatorError('BAD_INPUT', 'CPU state: fewer than 8 general registers');
  for (let i = 0; i < 16; i++) c.r32[i] = s.gpr[i] ?? 0;
  c.cr0 = s.cr0 | 0;
  c.cr2 = s.cr2 | 0;
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
  c.flags = (s.rflags | 2) & 0x3f7fd7;
  c.lazyMask = 0;
  // CPL is the DPL of SS in protected mode (CS.RPL for conforming code); 3 in VM86.
  c.cpl = (s.ss.access >> 5) & 3;
  c.updateMode();
  c.setEip(s.rip);
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
  const [tlo, thi] = parse64(s.tsc, 'tsc');
  c.writeTsc((thi >>> 0) * 4294967296 + (tlo >>> 0));
  c.fpu.restore(s.fpu);
  c.halted = s.halted;
  c.irqInhibit = s.interruptShadow;
  c.nmiPending = s.nmiPending;
  if ((c.cr0 & 0x80000001) === (0x80000001 | 0) && (c.cr4 & 0x20) !== 0) c.loadPdptes();
  c.flushTlb(true);
}
