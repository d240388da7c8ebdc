/**
 * Conversion between the plain CpuState both backends share and KVM's register structures
 * (kvm_regs, kvm_sregs, kvm_fpu, kvm_msrs, kvm_debugregs, kvm_vcpu_events). Pure functions
 * over byte buffers, so they are tested without /dev/kvm.
 *
 * Segment and table bases carry their high halves in `baseHigh` (and CR2 in `cr2High`);
 * long-mode FS/GS bases also travel as the FS_BASE/GS_BASE MSRs, which KVM applies after
 * the segment registers.
 */
import type { CpuState, FpuState, SegmentState } from '../cpu/state.js';
import { layouts, off, SIZEOF_DEBUGREGS, SIZEOF_FPU, SIZEOF_REGS, SIZEOF_SREGS, SIZEOF_VCPU_EVENTS } from './abi.js';

/** kvm_regs order (rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8..r15) to x86 encoding order. */
const KVM_TO_ENCODING = [0, 3, 1, 2, 6, 7, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15];
const SEGMENTS = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const;
type SegName = (typeof SEGMENTS)[number];

export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
export const MSR_EFER = 0xc0000080;
export const MSR_FS_BASE = 0xc0000100;
export const MSR_GS_BASE = 0xc0000101;
/** MSRs carried through CpuState.msrs (besides TSC, which has its own field). */
export const STATE_MSRS = [0x174, 0x175, 0x176, 0x277, 0x1a0, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, MSR_FS_BASE, MSR_GS_BASE, 0xc0000102];
const DEFAULT_APIC_BASE = 0xfee00900;

const VCPUEVENT_VALID_NMI_PENDING = 0x1;
const VCPUEVENT_VALID_SHADOW = 0x4;
const SHADOW_INT_MOV_SS = 0x1;
const SHADOW_INT_STI = 0x2;

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function set64(d: DataView, o: number, lo: number, hi = 0): void {
  d.setUint32(o, lo >>> 0, true);
  d.setUint32(o + 4, hi >>> 0, true);
}

export function hex64(lo: number, hi: number): string {
  return '0x' + (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/** A CpuState 64-bit hex string as [lo, hi]; null when malformed. */
export function parseHex64(s: string | undefined): [number, number] | null {
  if (s === undefined || !/^0x[0-9a-fA-F]{1,16}$/.test(s)) return null;
  const digits = s.slice(2).padStart(16, '0');
  return [parseInt(digits.slice(8), 16) >>> 0, parseInt(digits.slice(0, 8), 16) >>> 0];
}

function msrKey(index: number): string {
  return '0x' + index.toString(16);
}

// --------------------------------------------------------------------------- kvm_regs

export function encodeRegs(s: CpuState): Uint8Array {
  const b = new Uint8Array(SIZEOF_REGS);
  const d = dv(b);
  for (let k = 0; k < 16; k++) {
    const i = KVM_TO_ENCODING[k];
    set64(d, k * 8, s.gpr[i] ?? 0, s.gprHigh[i] ?? 0);
  }
  set64(d, 128, s.rip, s.ripHigh);
  set64(d, 136, (s.rflags | 2) >>> 0, 0);
  return b;
}

export function decodeRegs(b: Uint8Array, into: Pick<CpuState, 'gpr' | 'gprHigh' | 'rip' | 'ripHigh' | 'rflags'>): void {
  const d = dv(b);
  for (let k = 0; k < 16; k++) {
    const i = KVM_TO_ENCODING[k];
    into.gpr[i] = d.getUint32(k * 8, true);
    into.gprHigh[i] = d.getUint32(k * 8 + 4, true);
  }
  into.rip = d.getUint32(128, true);
  into.ripHigh = d.getUint32(132, true);
  into.rflags = d.getUint32(136, true);
}

// --------------------------------------------------------------------------- kvm_sregs

function encodeSegment(d: DataView, o: number, s: SegmentState): void {
  const a = s.access;
  set64(d, o, s.base, s.baseHigh ?? 0);
  d.setUint32(o + 8, s.limit >>> 0, true);
  d.setUint16(o + 12, s.selector & 0xffff, true);
  d.setUint8(o + 14, a & 0xf); // type
  d.setUint8(o + 15, (a >> 7) & 1); // present
  d.setUint8(o + 16, (a >> 5) & 3); // dpl
  d.setUint8(o + 17, (a >> 14) & 1); // db
  d.setUint8(o + 18, (a >> 4) & 1); // s
  d.setUint8(o + 19, (a >> 13) & 1); // l
  d.setUint8(o + 20, (a >> 15) & 1); // g
  d.setUint8(o + 21, (a >> 12) & 1); // avl
  d.setUint8(o + 22, (a >> 16) & 1); // unusable
}

function decodeSegment(d: DataView, o: number): SegmentState {
  const access =
    (d.getUint8(o + 14) & 0xf) |
    ((d.getUint8(o + 18) & 1) << 4) |
    ((d.getUint8(o + 16) & 3) << 5) |
    ((d.getUint8(o + 15) & 1) << 7) |
    ((d.getUint8(o + 21) & 1) << 12) |
    ((d.getUint8(o + 19) & 1) << 13) |
    ((d.getUint8(o + 17) & 1) << 14) |
    ((d.getUint8(o + 20) & 1) << 15) |
    ((d.getUint8(o + 22) & 1) << 16);
  const seg: SegmentState = { base: d.getUint32(o, true), limit: d.getUint32(o + 8, true), selector: d.getUint16(o + 12, true), access: access >>> 0 };
  const high = d.getUint32(o + 4, true);
  if (high !== 0) seg.baseHigh = high;
  return seg;
}

interface SregsOffsets {
  seg: Record<SegName, number>;
  gdt: number;
  idt: number;
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  efer: number;
  apicBase: number;
}

let sregsOffsets: SregsOffsets | null = null;
function sro(): SregsOffsets {
  if (sregsOffsets === null) {
    const t = layouts().sregs;
    const seg = {} as Record<SegName, number>;
    for (const n of SEGMENTS) seg[n] = off(t, n);
    sregsOffsets = {
      seg,
      gdt: off(t, 'gdt'),
      idt: off(t, 'idt'),
      cr0: off(t, 'cr0'),
      cr2: off(t, 'cr2'),
      cr3: off(t, 'cr3'),
      cr4: off(t, 'cr4'),
      efer: off(t, 'efer'),
      apicBase: off(t, 'apic_base'),
    };
  }
  return sregsOffsets;
}

const STATE_SEG: Record<SegName, keyof CpuState> = { cs: 'cs', ds: 'ds', es: 'es', fs: 'fs', gs: 'gs', ss: 'ss', tr: 'tr', ldt: 'ldtr' };

export function encodeSregs(s: CpuState): Uint8Array {
  const o = sro();
  const b = new Uint8Array(SIZEOF_SREGS);
  const d = dv(b);
  for (const n of SEGMENTS) encodeSegment(d, o.seg[n], s[STATE_SEG[n]] as SegmentState);
  set64(d, o.gdt, s.gdtr.base, s.gdtr.baseHigh ?? 0);
  d.setUint16(o.gdt + 8, s.gdtr.limit & 0xffff, true);
  set64(d, o.idt, s.idtr.base, s.idtr.baseHigh ?? 0);
  d.setUint16(o.idt + 8, s.idtr.limit & 0xffff, true);
  set64(d, o.cr0, s.cr0);
  set64(d, o.cr2, s.cr2, s.cr2High ?? 0);
  set64(d, o.cr3, s.cr3);
  set64(d, o.cr4, s.cr4);
  set64(d, o.efer, s.efer);
  const apic = parseHex64(s.msrs[msrKey(MSR_APIC_BASE)]);
  set64(d, o.apicBase, apic?.[0] ?? DEFAULT_APIC_BASE, apic?.[1] ?? 0);
  return b;
}

export function decodeSregs(b: Uint8Array, into: CpuState): void {
  const o = sro();
  const d = dv(b);
  const segs = into as unknown as Record<string, SegmentState>;
  for (const n of SEGMENTS) segs[STATE_SEG[n]] = decodeSegment(d, o.seg[n]);
  into.gdtr = { base: d.getUint32(o.gdt, true), limit: d.getUint16(o.gdt + 8, true) };
  into.idtr = { base: d.getUint32(o.idt, true), limit: d.getUint16(o.idt + 8, true) };
  if (d.getUint32(o.gdt + 4, true) !== 0) into.gdtr.baseHigh = d.getUint32(o.gdt + 4, true);
  if (d.getUint32(o.idt + 4, true) !== 0) into.idtr.baseHigh = d.getUint32(o.idt + 4, true);
  into.cr0 = d.getUint32(o.cr0, true);
  into.cr2 = d.getUint32(o.cr2, true);
  if (d.getUint32(o.cr2 + 4, true) !== 0) into.cr2High = d.getUint32(o.cr2 + 4, true);
  into.cr3 = d.getUint32(o.cr3, true);
  into.cr4 = d.getUint32(o.cr4, true);
  into.efer = d.getUint32(o.efer, true);
  into.msrs[msrKey(MSR_APIC_BASE)] = hex64(d.getUint32(o.apicBase, true), d.getUint32(o.apicBase + 4, true));
}

// --------------------------------------------------------------------------- kvm_fpu

/** x87 tag of an 80-bit value (bytes little-endian): 0 valid, 1 zero, 2 special. */
function classify(v: Uint8Array): number {
  const exp = (v[8] | (v[9] << 8)) & 0x7fff;
  let mant = 0;
  for (let i = 0; i < 8; i++) mant |= v[i];
  if (exp === 0) return mant === 0 ? 1 : 2;
  if (exp === 0x7fff) return 2;
  return (v[7] & 0x80) !== 0 ? 0 : 2;
}

function hexToBytesLE(hex: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const h = hex.padStart(n * 2, '0');
  for (let i = 0; i < n; i++) out[i] = parseInt(h.slice((n - 1 - i) * 2, (n - i) * 2), 16) || 0;
  return out;
}

function bytesLEToHex(b: Uint8Array): string {
  let s = '';
  for (let i = b.length - 1; i >= 0; i--) s += b[i].toString(16).padStart(2, '0');
  return s;
}

export function encodeFpu(s: CpuState): Uint8Array {
  const t = layouts().fpu;
  const b = new Uint8Array(SIZEOF_FPU);
  const d = dv(b);
  const f = s.fpu;
  const top = (f.status >> 11) & 7;
  const fpr = off(t, 'fpr');
  let ftwx = 0;
  for (let i = 0; i < 8; i++) {
    // fpr holds ST(i) (FXSAVE order); CpuState holds physical registers.
    const phys = (top + i) & 7;
    b.set(hexToBytesLE(f.regs[phys] ?? '0', 10), fpr + i * 16);
    if (((f.tag >> (phys * 2)) & 3) !== 3) ftwx |= 1 << phys;
  }
  d.setUint16(off(t, 'fcw'), f.control, true);
  d.setUint16(off(t, 'fsw'), f.status, true);
  d.setUint8(off(t, 'ftwx'), ftwx);
  d.setUint16(off(t, 'last_opcode'), f.opcode & 0x7ff, true);
  set64(d, off(t, 'last_ip'), f.ip);
  set64(d, off(t, 'last_dp'), f.dp);
  const xmm = off(t, 'xmm');
  for (let i = 0; i < 16; i++) b.set(hexToBytesLE(s.sse.xmm[i] ?? '0', 16), xmm + i * 16);
  d.setUint32(off(t, 'mxcsr'), s.sse.mxcsr, true);
  return b;
}

export function decodeFpu(b: Uint8Array, into: CpuState): void {
  const t = layouts().fpu;
  const d = dv(b);
  const status = d.getUint16(off(t, 'fsw'), true);
  const top = (status >> 11) & 7;
  const ftwx = d.getUint8(off(t, 'ftwx'));
  const fpr = off(t, 'fpr');
  const regs = new Array<string>(8).fill('0'.repeat(20));
  let tag = 0;
  for (let i = 0; i < 8; i++) {
    const phys = (top + i) & 7;
    const v = b.subarray(fpr + i * 16, fpr + i * 16 + 10);
    regs[phys] = bytesLEToHex(v);
    tag |= ((ftwx >> phys) & 1 ? classify(v) : 3) << (phys * 2);
  }
  const fpu: FpuState = {
    control: d.getUint16(off(t, 'fcw'), true),
    status,
    tag,
    opcode: d.getUint16(off(t, 'last_opcode'), true),
    ip: d.getUint32(off(t, 'last_ip'), true),
    cs: into.fpu?.cs ?? 0,
    dp: d.getUint32(off(t, 'last_dp'), true),
    ds: into.fpu?.ds ?? 0,
    regs,
  };
  into.fpu = fpu;
  const xmm = off(t, 'xmm');
  const list: string[] = [];
  for (let i = 0; i < 16; i++) list.push(bytesLEToHex(b.subarray(xmm + i * 16, xmm + i * 16 + 16)));
  into.sse = { mxcsr: d.getUint32(off(t, 'mxcsr'), true), xmm: list };
}

// --------------------------------------------------------------------------- MSRs

/** kvm_msrs with the given entries (index, lo, hi). */
export function encodeMsrs(entries: [number, number, number][]): Uint8Array {
  const b = new Uint8Array(8 + entries.length * 16);
  const d = dv(b);
  d.setUint32(0, entries.length, true);
  entries.forEach(([index, lo, hi], i) => {
    d.setUint32(8 + i * 16, index >>> 0, true);
    set64(d, 8 + i * 16 + 8, lo, hi);
  });
  return b;
}

/** Entries of a kvm_msrs buffer after KVM_GET_MSRS returned `count`. */
export function decodeMsrs(b: Uint8Array, count: number): [number, number, number][] {
  const d = dv(b);
  const out: [number, number, number][] = [];
  for (let i = 0; i < count; i++) out.push([d.getUint32(8 + i * 16, true), d.getUint32(8 + i * 16 + 8, true), d.getUint32(8 + i * 16 + 12, true)]);
  return out;
}

/** The MSRs to load for a state: TSC plus whatever of STATE_MSRS the state carries. */
export function stateMsrEntries(s: CpuState): [number, number, number][] {
  const list: [number, number, number][] = [];
  const tsc = parseHex64(s.tsc);
  if (tsc !== null) list.push([MSR_TSC, tsc[0], tsc[1]]);
  for (const index of STATE_MSRS) {
    const v = parseHex64(s.msrs[msrKey(index)]);
    if (v !== null) list.push([index, v[0], v[1]]);
  }
  return list;
}

export function applyMsrEntries(entries: [number, number, number][], into: CpuState): void {
  for (const [index, lo, hi] of entries) {
    if (index === MSR_TSC) into.tsc = hex64(lo, hi);
    else into.msrs[msrKey(index)] = hex64(lo, hi);
  }
}

// --------------------------------------------------------------------------- debug registers, events

export function encodeDebugRegs(s: CpuState): Uint8Array {
  const b = new Uint8Array(SIZEOF_DEBUGREGS);
  const d = dv(b);
  for (let i = 0; i < 6; i++) set64(d, i * 8, s.dr[i] ?? 0);
  return b;
}

export function decodeDebugRegs(b: Uint8Array, into: CpuState): void {
  const d = dv(b);
  into.dr = [0, 1, 2, 3, 4, 5].map((i) => d.getUint32(i * 8, true));
}

export function encodeEvents(s: CpuState): Uint8Array {
  const t = layouts().vcpuEvents;
  const b = new Uint8Array(SIZEOF_VCPU_EVENTS);
  const d = dv(b);
  // The inhibit after STI and after MOV SS look alike to both backends; STI's is the common one.
  d.setUint8(off(t, 'interrupt') + 3, s.interruptShadow ? SHADOW_INT_STI : 0);
  d.setUint8(off(t, 'nmi') + 1, s.nmiPending ? 1 : 0);
  d.setUint32(off(t, 'flags'), VCPUEVENT_VALID_SHADOW | VCPUEVENT_VALID_NMI_PENDING, true);
  return b;
}

export function decodeEvents(b: Uint8Array, into: CpuState): void {
  const t = layouts().vcpuEvents;
  const d = dv(b);
  into.interruptShadow = (d.getUint8(off(t, 'interrupt') + 3) & (SHADOW_INT_STI | SHADOW_INT_MOV_SS)) !== 0;
  into.nmiPending = d.getUint8(off(t, 'nmi') + 1) !== 0;
}

/** An empty CpuState to decode into. */
export function blankState(): CpuState {
  const seg = (): SegmentState => ({ selector: 0, base: 0, limit: 0, access: 0 });
  return {
    gpr: new Array<number>(16).fill(0),
    gprHigh: new Array<number>(16).fill(0),
    rip: 0,
    ripHigh: 0,
    rflags: 2,
    es: seg(),
    cs: seg(),
    ss: seg(),
    ds: seg(),
    fs: seg(),
    gs: seg(),
    ldtr: seg(),
    tr: seg(),
    gdtr: { base: 0, limit: 0 },
    idtr: { base: 0, limit: 0 },
    cr0: 0,
    cr2: 0,
    cr3: 0,
    cr4: 0,
    efer: 0,
    dr: [0, 0, 0, 0, 0, 0],
    msrs: {},
    tsc: '0x0',
    fpu: { control: 0x37f, status: 0, tag: 0xffff, opcode: 0, ip: 0, cs: 0, dp: 0, ds: 0, regs: new Array<string>(8).fill('0'.repeat(20)) },
    sse: { mxcsr: 0x1f80, xmm: new Array<string>(16).fill('0'.repeat(32)) },
    halted: false,
    interruptShadow: false,
    nmiPending: false,
  };
}
