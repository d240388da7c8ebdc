/**
 * A vCPU's architectural state as plain data. Both backends convert to and from this, so
 * a snapshot taken under one can be restored under the other. 64-bit quantities that can
 * exceed 2^53 are hex strings; everything else is a number (unsigned 32-bit unless noted).
 */

/** Access rights in the VMX/KVM layout: type(0-3) S(4) DPL(5-6) P(7) AVL(12) L(13) D/B(14) G(15) unusable(16). */
export interface SegmentState {
  selector: number;
  base: number;
  /** Byte-granular effective limit (already scaled by G). */
  limit: number;
  access: number;
  /** High 32 bits of the base (long mode: TR, LDTR; FS/GS bases travel as MSRs). Absent = 0. */
  baseHigh?: number;
}

export interface TableRegister {
  base: number;
  limit: number;
  /** High 32 bits of the base (long mode). Absent = 0. */
  baseHigh?: number;
}

export interface FpuState {
  control: number;
  status: number;
  /** Full 16-bit tag word (2 bits per physical register). */
  tag: number;
  opcode: number;
  ip: number;
  cs: number;
  dp: number;
  ds: number;
  /** Physical registers R0..R7 as 20 hex digits (80-bit, big-endian digit order). */
  regs: string[];
}

export interface SseState {
  mxcsr: number;
  /** XMM0..XMM15 as 32 hex digits each. */
  xmm: string[];
}

export interface CpuState {
  /** RAX..R15 low 32 bits (EAX..EDI for 32-bit guests). */
  gpr: number[];
  /** High 32 bits of RAX..R15 (zero outside long mode). */
  gprHigh: number[];
  rip: number;
  ripHigh: number;
  rflags: number;
  es: SegmentState;
  cs: SegmentState;
  ss: SegmentState;
  ds: SegmentState;
  fs: SegmentState;
  gs: SegmentState;
  ldtr: SegmentState;
  tr: SegmentState;
  gdtr: TableRegister;
  idtr: TableRegister;
  cr0: number;
  cr2: number;
  /** High 32 bits of CR2 (long mode). Absent = 0. */
  cr2High?: number;
  cr3: number;
  cr4: number;
  efer: number;
  /** DR0-DR3, DR6, DR7. */
  dr: number[];
  /** MSR index (hex, e.g. "0x174") to 64-bit value (hex). */
  msrs: Record<string, string>;
  /** Time stamp counter as 64-bit hex. */
  tsc: string;
  fpu: FpuState;
  sse: SseState;
  halted: boolean;
  /** The instruction after STI / MOV SS has interrupts inhibited. */
  interruptShadow: boolean;
  nmiPending: boolean;
}

export const SEG_ACCESS_UNUSABLE = 1 << 16;
