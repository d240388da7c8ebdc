/**
 * Behaviour the SDM leaves to the implementation and that Intel and AMD implement
 * differently. Terrarium models Intel; on a host of another vendor these (and only these)
 * are masked, each rule saying what it masks so the suites can print it.
 */
import { readFileSync } from 'node:fs';

export const MODELLED_VENDOR = 'GenuineIntel';

/** The host CPU's vendor string (GenuineIntel, AuthenticAMD, ...), or 'unknown'. */
export function hostCpuVendor(): string {
  try {
    return /vendor_id\s*:\s*(\S+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown'; // not Linux: the harnesses will not run anyway
  }
}

/** x87 status word: exception summary (an unmasked exception is pending). */
const FSW_ES = 0x0080;

/**
 * The x87 last-instruction pointer (FIP) in an FNSAVE image. Intel stores the address of
 * the last non-control x87 instruction; AMD stores FIP, FDP and FOP as zero unless an x87
 * exception is pending (ES set), which the AMD APM allows for FNSAVE/FXSAVE.
 */
export function x87InstructionPointerComparable(vendor: string, hostStatus: number): boolean {
  return vendor === MODELLED_VENDOR || (hostStatus & FSW_ES) !== 0;
}

/**
 * A REP string instruction with a 32-bit address size in 64-bit mode counts in ECX: Intel
 * zero-extends the write into RCX, AMD keeps RCX's high half. Only ECX is comparable.
 */
export function a32RepRcxHighComparable(vendor: string): boolean {
  return vendor === MODELLED_VENDOR;
}

/** MXCSR bit 17: AMD's MM (misaligned SSE exception mask); reserved (#GP when set) on Intel. */
export const MXCSR_AMD_MM = 1 << 17;

/**
 * MXCSR bits a case may set expecting #GP(0) from LDMXCSR/FXRSTOR on this host: every bit
 * above 15 on Intel (MXCSR_MASK 0xFFFF); on AMD bit 17 is MM (MXCSR_MASK 0x2FFFF), which
 * Terrarium, modelling Intel, treats as reserved, so no case sets it there.
 */
export function mxcsrReservedTestable(vendor: string): number {
  return vendor === MODELLED_VENDOR ? 0xffff0000 : 0xffff0000 & ~MXCSR_AMD_MM;
}

/**
 * Vendor-specific bits of an FXSAVE image, as [offset in the image, bit mask] pairs, given
 * the host's saved x87 status word: on AMD, MXCSR_MASK (bytes 28-31) has bit 17 (MM) set,
 * and FIP (bytes 8-11) is stored as 0 unless an x87 exception is pending (ES), as for
 * FNSAVE (x87InstructionPointerComparable).
 */
export function fxsaveVendorMasked(vendor: string, hostStatus: number): [number, number][] {
  if (vendor === MODELLED_VENDOR) return [];
  const out: [number, number][] = [[30, MXCSR_AMD_MM >>> 16]];
  if (!x87InstructionPointerComparable(vendor, hostStatus)) out.push([8, 0xff], [9, 0xff], [10, 0xff], [11, 0xff]);
  return out;
}

/**
 * CR2 of a page fault raised by FXSAVE/FXRSTOR: AMD reports the address of the image's last
 * byte (it probes the end of the 512 bytes first), Intel and Terrarium the first byte on
 * the faulting page. The vector and error code are still compared.
 */
export function fxsaveFaultCr2Comparable(vendor: string): boolean {
  return vendor === MODELLED_VENDOR;
}

/** What the suites mask on this host, one line for the report (null on Intel). */
export function vendorMaskNotice(vendor: string): string | null {
  if (vendor === MODELLED_VENDOR) return null;
  return (
    `*** difftest: the host CPU is ${vendor}; Terrarium models ${MODELLED_VENDOR}. Masked as vendor-specific: ` +
    `the x87 FIP in FNSAVE and FXSAVE images unless the host's status word has ES set (AMD stores 0), ` +
    `MXCSR_MASK bit 17 in FXSAVE images (AMD's MM bit; LDMXCSR/FXRSTOR cases never set it), ` +
    `CR2 of page faults raised by FXSAVE/FXRSTOR (AMD reports the image's last byte), ` +
    `and RCX[63:32] after a32 REP string instructions in 64-bit mode (AMD keeps them). ` +
    `Everything else the SDM defines is compared. ***`
  );
}
