// Architectural constants of the x86 CPU model.

// EFLAGS bits
export const CF = 1 << 0;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const IOPL = 3 << 12;
export const NT = 1 << 14;
export const RF = 1 << 16;
export const VM = 1 << 17;
export const AC = 1 << 18;
export const VIF = 1 << 19;
export const VIP = 1 << 20;
export const ID = 1 << 21;
/** The six arithmetic flags, the ones computed lazily. */
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;
/** Bit 1 of EFLAGS always reads as 1. */
export const FLAGS_FIXED = 1 << 1;
/** Bits software can ever change on this CPU model (i686 with ID, VIF/VIP, AC). */
export const FLAGS_SUPPORTED = ARITH_FLAGS | TF | IF | DF | OF | IOPL | NT | RF | VM | AC | VIF | VIP | ID;

// CR0
export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_NW = 1 << 29;
export const CR0_CD = 1 << 30;
export const CR0_PG = 1 << 31;

// CR4
export const CR4_VME = 1 << 0;
export const CR4_PVI = 1 << 1;
export const CR4_TSD = 1 << 2;
export const CR4_DE = 1 << 3;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_MCE = 1 << 6;
export const CR4_PGE = 1 << 7;
export const CR4_PCE = 1 << 8;
export const CR4_OSFXSR = 1 << 9;
export const CR4_OSXMMEXCPT = 1 << 10;

// EFER
export const EFER_SCE = 1 << 0;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NXE = 1 << 11;

// Segment register indices (x86 encoding order), plus the system segments.
export const ES = 0;
export const CS = 1;
export const SS = 2;
export const DS = 3;
export const FS = 4;
export const GS = 5;
export const LDTR = 6;
export const TR = 7;

// Access-rights word (VMX layout, see state.ts).
export const AR_TYPE = 0xf;
export const AR_S = 1 << 4;
export const AR_DPL_SHIFT = 5;
export const AR_P = 1 << 7;
export const AR_AVL = 1 << 12;
export const AR_L = 1 << 13;
export const AR_DB = 1 << 14;
export const AR_G = 1 << 15;
export const AR_UNUSABLE = 1 << 16;

// Exception vectors
export const EXC_DE = 0;
export const EXC_DB = 1;
export const EXC_NMI = 2;
export const EXC_BP = 3;
export const EXC_OF = 4;
export const EXC_BR = 5;
export const EXC_UD = 6;
export const EXC_NM = 7;
export const EXC_DF = 8;
export const EXC_TS = 10;
export const EXC_NP = 11;
export const EXC_SS = 12;
export const EXC_GP = 13;
export const EXC_PF = 14;
export const EXC_MF = 16;
export const EXC_AC = 17;
export const EXC_MC = 18;
export const EXC_XM = 19;

/** Exceptions that push an error code. */
export const EXC_HAS_ERROR_CODE = (1 << EXC_DF) | (1 << EXC_TS) | (1 << EXC_NP) | (1 << EXC_SS) | (1 << EXC_GP) | (1 << EXC_PF) | (1 << EXC_AC);

// Page-table entry bits
export const PTE_P = 1 << 0;
export const PTE_RW = 1 << 1;
export const PTE_US = 1 << 2;
export const PTE_PWT = 1 << 3;
export const PTE_PCD = 1 << 4;
export const PTE_A = 1 << 5;
export const PTE_D = 1 << 6;
export const PTE_PS = 1 << 7;
export const PTE_G = 1 << 8;

// Page-fault error code bits
export const PF_P = 1 << 0;
export const PF_W = 1 << 1;
export const PF_U = 1 << 2;
export const PF_RSVD = 1 << 3;
export const PF_I = 1 << 4;

// TLB entry flags (low 12 bits of an entry; the high 20 bits hold the backing page offset).
/** The entry holds a translation (tlbPhys is valid). */
export const T_VALID = 1 << 0;
/** Direct backing reads allowed at CPL 0-2. */
export const T_READ = 1 << 1;
/** Direct backing reads allowed at CPL 3. */
export const T_READ_USER = 1 << 2;
/** Direct backing writes allowed at CPL 0-2 (RAM, writable, dirty already set). */
export const T_WRITE = 1 << 3;
/** Direct backing writes allowed at CPL 3. */
export const T_WRITE_USER = 1 << 4;
/** Instruction fetch allowed at CPL 0-2. */
export const T_EXEC = 1 << 5;
/** Instruction fetch allowed at CPL 3. */
export const T_EXEC_USER = 1 << 6;
/** Global page: survives CR3 reloads. */
export const T_GLOBAL = 1 << 7;

// MSRs
export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
export const MSR_MTRRCAP = 0xfe;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_PAT = 0x277;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_EFER = 0xc0000080;
