/**
 * What the x87/MMX unit needs from the CPU. The CPU decodes the instruction (prefixes,
 * ModRM, effective address) and hands the unit a linear address; the unit does its own
 * operand-sized memory accesses through these methods, which may throw the CPU's
 * exception sentinel (page fault, #GP). The unit must not change its state before all of
 * an instruction's memory reads have succeeded, so a faulting instruction can restart.
 */
export interface FpuHost {
  readLin8(lin: number): number;
  readLin16(lin: number): number;
  /** Returns the 32 bits as a signed int32. */
  readLin32(lin: number): number;
  writeLin8(lin: number, value: number): void;
  writeLin16(lin: number, value: number): void;
  writeLin32(lin: number, value: number): void;
  /** Check that [lin, lin+length) is writable before a multi-part store (throws if not). */
  checkWritable(lin: number, length: number): void;
  /**
   * An unmasked x87 exception is pending and a waiting instruction ran: the CPU raises
   * #MF (CR0.NE=1) or asserts IRQ13 (CR0.NE=0). Throws when it raises #MF.
   */
  fpuError(): void;
  /** Raise #UD (throws). */
  undefinedOpcode(): never;
}

/** Where the current instruction came from, for the FPU's last-instruction pointers. */
export interface FpuInstructionInfo {
  /** Offset of the instruction (EIP) and its CS selector. */
  ip: number;
  cs: number;
  /** Offset of the memory operand and its segment selector (0 for register forms). */
  dp: number;
  ds: number;
  /** Operand size of the instruction is 32-bit (affects FSAVE/FLDENV layouts). */
  operand32: boolean;
  /** Real or virtual-8086 mode (affects FSAVE/FLDENV layouts). */
  realMode: boolean;
}
