/**
 * Model-specific behaviour: CPUID leaves, MSRs and control-register writes. The model is an
 * i686-class CPU (family 6) with PAE, NX, PSE, PGE, PAT, CMOV, MMX, SYSENTER and TSC; no
 * local APIC is advertised until the machine provides one.
 */
import {
  CR0_ET,
  CR0_PE,
  CR0_PG,
  CR0_WP,
  CR4_DE,
  CR4_OSFXSR,
  CR4_PAE,
  CR4_PCE,
  CR4_PGE,
  CR4_PSE,
  CR4_TSD,
  CR4_VME,
  CR4_PVI,
  CR4_MCE,
  CR4_OSXMMEXCPT,
  EFER_LMA,
  EFER_LME,
  EFER_NXE,
  EFER_SCE,
  MSR_APIC_BASE,
  MSR_EFER,
  MSR_MISC_ENABLE,
  MSR_PAT,
  MSR_SYSENTER_CS,
  MSR_SYSENTER_EIP,
  MSR_SYSENTER_ESP,
  MSR_TSC,
} from './constants.js';
import type { Cpu } from './cpu.js';

/** CPUID.1:EDX feature bits. */
const FEAT_FPU = 1 << 0;
const FEAT_DE = 1 << 2;
const FEAT_PSE = 1 << 3;
const FEAT_TSC = 1 << 4;
const FEAT_MSR = 1 << 5;
const FEAT_PAE = 1 << 6;
const FEAT_CX8 = 1 << 8;
const FEAT_APIC = 1 << 9;
const FEAT_SEP = 1 << 11;
const FEAT_PGE = 1 << 13;
const FEAT_CMOV = 1 << 15;
const FEAT_PAT = 1 << 16;
const FEAT_MMX = 1 << 23;
/** CPUID.1:ECX RDRAND. */
const FEAT_RDRAND = 1 << 30;
const FEAT2_TSC_DEADLINE = 1 << 24;
// What the SSE unit (cpu/sse/) implements, advertised together once it is enabled.
const FEAT_SSE_EDX = (1 << 24) | (1 << 25) | (1 << 26); // FXSR, SSE, SSE2
const FEAT_SSE_ECX = (1 << 0) | (1 << 9) | (1 << 13) | (1 << 19) | (1 << 20) | (1 << 23); // SSE3, SSSE3, CX16, SSE4.1, SSE4.2, POPCNT
const MSR_TSC_DEADLINE = 0x6e0;
/** CPUID.80000001h:EDX NX, SYSCALL, LM; ECX LAHF/SAHF in 64-bit mode. */
const FEAT_NX = 1 << 20;
const FEAT_SYSCALL = 1 << 11;
const FEAT_LM = 1 << 29;
const FEAT_LAHF_LM = 1 << 0;

// Long-mode MSRs.
const MSR_STAR = 0xc0000081;
const MSR_LSTAR = 0xc0000082;
const MSR_CSTAR = 0xc0000083;
const MSR_SFMASK = 0xc0000084;
const MSR_FS_BASE = 0xc0000100;
const MSR_GS_BASE = 0xc0000101;
const MSR_KERNEL_GS_BASE = 0xc0000102;

export interface CpuidFeatures {
  /** Advertise a local APIC (set by the machine when it has one). */
  apic: boolean;
}

function str4(s: string, i: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v |= (s.charCodeAt(i + k) & 0xff) << (k * 8);
  return v;
}

/** Execute CPUID for leaf EAX / subleaf ECX, writing EAX..EDX. */
export function cpuid(c: Cpu, features: CpuidFeatures): void {
  const leaf = c.r32[0] >>> 0;
  let a = 0;
  let b = 0;
  let cc = 0;
  let d = 0;
  const vendor = 'GenuineIntel';
  switch (leaf) {
    case 0:
      a = 1;
      b = str4(vendor, 0);
      d = str4(vendor, 4);
      cc = str4(vendor, 8);
      break;
    case 1:
      a = 0x000006f1; // family 6, model 15, stepping 1
      b = 0;
      // RDRAND lets a kernel seed its RNG at boot however it was loaded (host randomness).
      cc = FEAT_RDRAND;
      d = FEAT_FPU | FEAT_DE | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_PAE | FEAT_CX8 | FEAT_SEP | FEAT_PGE | FEAT_CMOV | FEAT_PAT | FEAT_MMX;
      if (c.sse.enabled) {
        d |= FEAT_SSE_EDX;
        cc |= FEAT_SSE_ECX;
      }
      if (c.apic !== null) {
        // The APIC bit follows IA32_APIC_BASE.EN; EBX[31:24] is the initial APIC ID.
        if (c.apic.hardwareEnabled) d |= FEAT_APIC;
        b = c.apic.apicId << 24;
        cc |= FEAT2_TSC_DEADLINE;
      } else if (features.apic) d |= FEAT_APIC;
      break;
    case 0x80000000:
      a = 0x80000008;
      break;
    case 0x80000001:
      // Long mode (long/): IA-32e paging, 64-bit code, SYSCALL/SYSRET.
      d = FEAT_NX | FEAT_LM | FEAT_SYSCALL;
      cc = FEAT_LAHF_LM;
      break;
    case 0x80000008:
      a = 0x3024; // 36-bit physical, 48-bit linear addresses
      break;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: {
      const name = c.modelName.padEnd(47, ' ').slice(0, 47) + '\0';
      const off = (leaf - 0x80000002) * 16;
      a = str4(name, off);
      b = str4(name, off + 4);
      cc = str4(name, off + 8);
      d = str4(name, off + 12);
      break;
    }
    default:
      // Intel returns the highest basic leaf's data for out-of-range leaves; zeros are fine.
      break;
  }
  c.r32[0] = a;
  c.r32[3] = b;
  c.r32[1] = cc;
  c.r32[2] = d;
}

/** RDMSR: EDX:EAX = MSR[ECX]. Unknown MSRs raise #GP(0), which kernels probe with *_safe. */
export function rdmsr(c: Cpu): void {
  const msr = c.r32[1] >>> 0;
  let lo = 0;
  let hi = 0;
  switch (msr) {
    case MSR_TSC: {
      const t = c.readTsc();
      lo = t % 4294967296 | 0;
      hi = Math.floor(t / 4294967296) | 0;
      break;
    }
    case MSR_APIC_BASE:
      if (c.apic !== null) {
        const v = c.apic.readApicBase();
        lo = v % 4294967296 | 0;
        hi = Math.floor(v / 4294967296) | 0;
      } else lo = c.apicBase;
      break;
    case MSR_TSC_DEADLINE: {
      if (c.apic === null) c.gp(0);
      const v = c.apic.readTscDeadline();
      lo = v % 4294967296 | 0;
      hi = Math.floor(v / 4294967296) | 0;
      break;
    }
    case MSR_SYSENTER_CS:
      lo = c.sysenterCs;
      break;
    case MSR_SYSENTER_ESP:
      lo = c.sysenterEsp;
      break;
    case MSR_SYSENTER_EIP:
      lo = c.sysenterEip;
      break;
    case MSR_PAT:
      lo = c.patLo;
      hi = c.patHi;
      break;
    case MSR_MISC_ENABLE:
      lo = c.miscEnable;
      break;
    case 0x17: // IA32_PLATFORM_ID
    case 0x8b: // IA32_BIOS_SIGN_ID (microcode revision)
      break;
    case MSR_EFER:
      lo = c.efer;
      break;
    case MSR_STAR:
      lo = c.lm.starLo;
      hi = c.lm.starHi;
      break;
    case MSR_LSTAR:
      lo = c.lm.lstarLo;
      hi = c.lm.lstarHi;
      break;
    case MSR_CSTAR:
      lo = c.lm.cstarLo;
      hi = c.lm.cstarHi;
      break;
    case MSR_SFMASK:
      lo = c.lm.sfmask;
      break;
    case MSR_FS_BASE:
      lo = c.segBase[4];
      hi = c.lm.fsHi;
      break;
    case MSR_GS_BASE:
      lo = c.segBase[5];
      hi = c.lm.gsHi;
      break;
    case MSR_KERNEL_GS_BASE:
      lo = c.lm.kgsLo;
      hi = c.lm.kgsHi;
      break;
    default:
      c.gp(0);
  }
  c.r32[0] = lo;
  c.r32[2] = hi;
}

function validPatByte(b: number): boolean {
  return b === 0 || b === 1 || b === 4 || b === 5 || b === 6 || b === 7;
}

/** WRMSR: MSR[ECX] = EDX:EAX. */
export function wrmsr(c: Cpu): void {
  const msr = c.r32[1] >>> 0;
  const lo = c.r32[0];
  const hi = c.r32[2];
  switch (msr) {
    case MSR_TSC:
      c.writeTsc((hi >>> 0) * 4294967296 + (lo >>> 0));
      break;
    case MSR_APIC_BASE:
      if (c.apic !== null) {
        if (!c.apic.writeApicBase((hi >>> 0) * 4294967296 + (lo >>> 0))) c.gp(0);
      } else c.apicBase = (lo & ~0x6ff) | 0x100;
      break;
    case MSR_TSC_DEADLINE:
      if (c.apic === null) c.gp(0);
      c.apic.writeTscDeadline((hi >>> 0) * 4294967296 + (lo >>> 0));
      break;
    case MSR_SYSENTER_CS:
      c.sysenterCs = lo & 0xffff;
      break;
    case MSR_SYSENTER_ESP:
      c.sysenterEsp = lo;
      break;
    case MSR_SYSENTER_EIP:
      c.sysenterEip = lo;
      break;
    case MSR_PAT:
      for (let i = 0; i < 4; i++) {
        if (!validPatByte((lo >>> (i * 8)) & 0xff) || !validPatByte((hi >>> (i * 8)) & 0xff)) c.gp(0);
      }
      c.patLo = lo;
      c.patHi = hi;
      break;
    case MSR_MISC_ENABLE:
      c.miscEnable = lo;
      break;
    case 0x8b:
    case 0x79: // microcode update trigger: accepted and ignored
      break;
    case MSR_EFER: {
      if ((lo & ~(EFER_NXE | EFER_LME | EFER_SCE | EFER_LMA)) !== 0 || hi !== 0) c.gp(0);
      // LME cannot change while paging is on; LMA is read-only.
      if (((c.efer ^ lo) & EFER_LME) !== 0 && (c.cr0 & CR0_PG) !== 0) c.gp(0);
      const v = (lo & ~EFER_LMA) | (c.efer & EFER_LMA);
      if (((c.efer ^ v) & EFER_NXE) !== 0) c.flushTlb(true);
      c.efer = v;
      break;
    }
    case MSR_STAR:
      c.lm.starLo = lo;
      c.lm.starHi = hi;
      break;
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
      if ((hi << 16) >> 16 !== hi) c.gp(0);
      if (msr === MSR_LSTAR) [c.lm.lstarLo, c.lm.lstarHi] = [lo, hi];
      else if (msr === MSR_CSTAR) [c.lm.cstarLo, c.lm.cstarHi] = [lo, hi];
      else if (msr === MSR_FS_BASE) {
        c.segBase[4] = lo;
        c.lm.fsHi = hi;
      } else if (msr === MSR_GS_BASE) {
        c.segBase[5] = lo;
        c.lm.gsHi = hi;
      } else [c.lm.kgsLo, c.lm.kgsHi] = [lo, hi];
      break;
    case MSR_SFMASK:
      c.lm.sfmask = lo;
      break;
    default:
      c.gp(0);
  }
}

const CR4_SUPPORTED = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT;

export function writeCr0(c: Cpu, v: number): void {
  v |= CR0_ET;
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) c.gp(0);
  // CD=0 with NW=1 is invalid.
  if ((v & (1 << 29)) !== 0 && (v & (1 << 30)) === 0) c.gp(0);
  const old = c.cr0;
  const lme = (c.efer & EFER_LME) !== 0;
  if ((v & CR0_PG) !== 0 && (old & CR0_PG) === 0 && lme) {
    // Activating IA-32e mode (SDM vol. 3 §9.8.5): needs PAE; the 4-level walk needs no PDPTEs.
    if ((c.cr4 & CR4_PAE) === 0) c.gp(0);
    c.cr0 = v;
    c.efer |= EFER_LMA;
    c.flushTlb(true);
    c.updateMode();
    return;
  }
  if ((v & CR0_PG) === 0 && (old & CR0_PG) !== 0 && (c.efer & EFER_LMA) !== 0) {
    // Leaving IA-32e mode is only possible from compatibility mode.
    if (c.mode64) c.gp(0);
    c.efer &= ~EFER_LMA;
  }
  if ((v & CR0_PG) !== 0 && (old & CR0_PG) === 0 && (c.cr4 & CR4_PAE) !== 0) {
    const saved = c.cr0;
    c.cr0 = v;
    try {
      c.loadPdptes();
    } catch (e) {
      c.cr0 = saved;
      throw e;
    }
  }
  c.cr0 = v;
  if (((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) !== 0) c.flushTlb(true);
  if (((old ^ v) & (CR0_PE | CR0_PG)) !== 0) c.updateMode();
}

export function writeCr3(c: Cpu, v: number): void {
  c.cr3 = v;
  if ((c.cr0 & CR0_PG) !== 0 && (c.cr4 & CR4_PAE) !== 0 && (c.efer & EFER_LMA) === 0) c.loadPdptes();
  c.flushTlb(false);
}

export function writeCr4(c: Cpu, v: number): void {
  if ((v & ~CR4_SUPPORTED) !== 0) c.gp(0);
  const old = c.cr4;
  if ((c.efer & EFER_LMA) !== 0 && (v & CR4_PAE) === 0) c.gp(0);
  if ((v & CR4_PAE) !== 0 && (old & CR4_PAE) === 0 && (c.cr0 & CR0_PG) !== 0) {
    c.cr4 = v;
    try {
      c.loadPdptes();
    } catch (e) {
      c.cr4 = old;
      throw e;
    }
  }
  c.cr4 = v;
  if (((old ^ v) & (CR4_PGE | CR4_PAE | CR4_PSE)) !== 0) c.flushTlb(true);
}
