/**
 * The CPUID a KVM guest sees: what KVM supports on this host, less what our machine does not
 * have. Each vCPU a package of its own (one core, one thread) whose APIC ID is its vCPU id,
 * no nested virtualization, no MONITOR/MWAIT, no performance counters, and without the
 * in-kernel irqchip no local APIC (nor the paravirtual features built on it).
 */
import type { CpuidEntry } from './kvm.js';

const bit = (n: number): number => (1 << n) >>> 0;

// Leaf 1
const ECX_MONITOR = bit(3);
const ECX_VMX = bit(5);
const ECX_SMX = bit(6);
const ECX_X2APIC = bit(21);
const ECX_TSC_DEADLINE = bit(24);
const ECX_OSXSAVE = bit(27);
const ECX_HYPERVISOR = bit(31);
const EDX_APIC = bit(9);
const EDX_HTT = bit(28);
// Leaf 0x80000001
const EXT_ECX_SVM = bit(2);
// Leaf 0x40000001 (KVM paravirtual features) that need an in-kernel local APIC.
const KVM_FEATURES_NEEDING_LAPIC = bit(4) | bit(6) | bit(7) | bit(9) | bit(10) | bit(11) | bit(12) | bit(13) | bit(14) | bit(15);

export interface GuestCpuidOptions {
  /** The local APIC exists (in-kernel irqchip). */
  lapic: boolean;
  /** This vCPU's APIC ID (KVM's vCPU id); default 0. */
  apicId?: number;
}

export function guestCpuid(supported: CpuidEntry[], options: GuestCpuidOptions): CpuidEntry[] {
  const out: CpuidEntry[] = [];
  const apicId = options.apicId ?? 0;
  for (const e of supported) {
    const x = { ...e };
    switch (x.function) {
      case 1:
        // Its initial APIC ID, one logical processor in its package.
        x.ebx = (x.ebx & 0x0000ffff) | (1 << 16) | ((apicId & 0xff) << 24);
        x.ecx = (x.ecx & ~(ECX_MONITOR | ECX_VMX | ECX_SMX | ECX_OSXSAVE)) | ECX_HYPERVISOR;
        x.edx &= ~EDX_HTT;
        if (!options.lapic) {
          x.ecx &= ~(ECX_X2APIC | ECX_TSC_DEADLINE);
          x.edx &= ~EDX_APIC;
        }
        break;
      case 4:
        // Deterministic cache parameters: one core, one thread per cache.
        x.eax &= 0x3fff;
        break;
      case 5:
      case 0xa:
        x.eax = x.ebx = x.ecx = x.edx = 0;
        break;
      case 0xb:
      case 0x1f:
        // Extended topology: the x2APIC ID in every level.
        x.edx = apicId;
        break;
      case 0x80000001:
        x.ecx &= ~EXT_ECX_SVM;
        break;
      case 0x8000001e:
        // AMD's extended APIC ID.
        x.eax = apicId;
        break;
      case 0x40000001:
        if (!options.lapic) x.eax &= ~KVM_FEATURES_NEEDING_LAPIC;
        break;
    }
    x.ecx >>>= 0;
    x.edx >>>= 0;
    x.eax >>>= 0;
    x.ebx >>>= 0;
    out.push(x);
  }
  return out;
}
