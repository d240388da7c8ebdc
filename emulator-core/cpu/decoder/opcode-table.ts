/**
 * The x86 opcode table: for every opcode of the one-byte, 0F, 0F 38 and 0F 3A maps, what
 * follows it (ModRM, immediate) and how the modes treat it. It is the one description of
 * instruction encodings that the decoder, and through it the interpreter, the JIT and the
 * difftest generators, share; a new instruction starts here.
 *
 * Entries are 32-bit attribute words in one flat array indexed by
 * `(map << 10) | (pp << 8) | byte`: map 0-3 (one-byte, 0F, 0F 38, 0F 3A) and pp the
 * mandatory prefix as VEX numbers it (0 none, 1 66, 2 F3, 3 F2). The one-byte map ignores
 * pp (its entries are repeated). Opcodes whose ModRM.reg picks the instruction (groups)
 * name a row of eight in GROUPS whose attributes are ORed in once ModRM is known.
 *
 * "Undefined" means no instruction in the SDM at that encoding (or one of another vendor's,
 * such as 3DNow!, SSE4a and XOP), so #UD on every CPU this one models. Instructions the SDM
 * defines but this CPU does not implement (SSE, AES, ...) are described normally: the
 * executor, which knows CPUID, raises their #UD.
 */

/** How many immediate bytes follow ModRM/SIB/displacement. */
export const enum Imm {
  None = 0,
  /** 1 byte. */
  Ib = 1,
  /** 2 bytes. */
  Iw = 2,
  /** 2 or 4 bytes by operand size (4 under a 64-bit operand size too). */
  Iz = 3,
  /** 2, 4 or 8 bytes by operand size (MOV r, imm: imm64 with REX.W). */
  Iv = 4,
  /** 2 + 1 bytes (ENTER). */
  IwIb = 5,
  /** Far pointer: a 2- or 4-byte offset by operand size, then a 2-byte selector. */
  Ap = 6,
  /** A memory offset of the address size: 2, 4 or 8 bytes (MOV AL/rAX, moffs). */
  Moffs = 7,
}

/** A ModRM byte follows the opcode. */
export const A_MODRM = 1 << 0;
const IMM_SHIFT = 1;
const IMM_MASK = 7 << IMM_SHIFT;
/** #UD in 64-bit mode (opcodes long mode removed or gave to REX/VEX/EVEX). */
export const A_INVALID64 = 1 << 4;
/** No such instruction: #UD in every mode. */
export const A_UNDEFINED = 1 << 5;
/** In 64-bit mode the operand size is 64 unless 0x66 makes it 16 (PUSH, POP, ...). */
export const A_DEFAULT64 = 1 << 6;
/** In 64-bit mode the operand size is 64 whatever 0x66 says (near branches; Intel's rule). */
export const A_FORCE64 = 1 << 7;
/** Only a memory operand is allowed (#UD for mod = 3), e.g. LEA, LES, BOUND. */
export const A_MEM_ONLY = 1 << 8;
/** ModRM.mod is ignored and taken as 3: no SIB or displacement ever follows (MOV CRn/DRn). */
export const A_REG_ONLY = 1 << 9;
/** ModRM.reg selects more attributes from the GROUPS row in bits 16-23. */
export const A_GROUP = 1 << 10;
/** A LOCK prefix is allowed, with a memory operand (read-modify-write instructions); elsewhere it is #UD. */
export const A_LOCK = 1 << 11;
const GROUP_SHIFT = 16;

export function immKind(attrs: number): Imm {
  return ((attrs & IMM_MASK) >>> IMM_SHIFT) as Imm;
}

export function groupRow(attrs: number): number {
  return attrs >>> GROUP_SHIFT;
}

function imm(kind: Imm): number {
  return kind << IMM_SHIFT;
}

const M = A_MODRM;
const U = A_UNDEFINED;
const I64 = A_INVALID64;
const D64 = A_DEFAULT64;
const F64 = A_FORCE64;
const MEM = A_MEM_ONLY;
const L = A_LOCK;
const IB = imm(Imm.Ib);
const IW = imm(Imm.Iw);
const IZ = imm(Imm.Iz);

export const MAP_ONE_BYTE = 0;
export const MAP_0F = 1;
export const MAP_0F38 = 2;
export const MAP_0F3A = 3;

export const TABLE = new Uint32Array(4 << 10);
export const GROUPS: number[] = [];

/** Mandatory-prefix letters as used below: '-' none, '6' 66, '3' F3, '2' F2. */
const PP_OF: Record<string, number> = { '-': 0, '6': 1, '3': 2, '2': 3 };
const ALL_PP = '-632';

/** Define `op` of `map` for the mandatory prefixes listed in `pps`. */
function def(map: number, op: number, attrs: number, pps = ALL_PP): void {
  for (const ch of pps) TABLE[(map << 10) | (PP_OF[ch] << 8) | op] = attrs;
}

function defRange(map: number, from: number, to: number, attrs: number, pps = ALL_PP): void {
  for (let op = from; op <= to; op++) def(map, op, attrs, pps);
}

/** A group: attributes by ModRM.reg /0../7; returns the entry bits that point at it. */
function group(members: readonly number[]): number {
  const row = GROUPS.length / 8;
  GROUPS.push(...members);
  return M | A_GROUP | (row << GROUP_SHIFT);
}

// Everything not defined below is undefined (with ModRM in the escape maps, which is how
// the SDM lays out their unassigned rows; the length of an undefined encoding is moot).
TABLE.fill(U);
for (let i = 1 << 10; i < TABLE.length; i++) TABLE[i] = U | M;

// ------------------------------------------------------------------ one-byte map
const one = (op: number, attrs: number): void => def(MAP_ONE_BYTE, op, attrs);
const oneRange = (from: number, to: number, attrs: number): void => defRange(MAP_ONE_BYTE, from, to, attrs);

// ADD OR ADC SBB AND SUB XOR CMP: Eb,Gb Ev,Gv Gb,Eb Gv,Ev AL,ib rAX,iz.
for (let g = 0; g < 8; g++) {
  oneRange(g * 8, g * 8 + 1, g === 7 ? M : M | L);
  oneRange(g * 8 + 2, g * 8 + 3, M);
  one(g * 8 + 4, IB);
  one(g * 8 + 5, IZ);
}
for (const op of [0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f]) one(op, I64); // PUSH/POP ES CS SS DS
for (const op of [0x27, 0x2f, 0x37, 0x3f]) one(op, I64); // DAA DAS AAA AAS
// 0F and the prefixes (26 2E 36 3E 64-67 F0 F2 F3) are consumed by the decoder itself;
// 40-4F are REX in 64-bit mode, INC/DEC elsewhere.
for (const op of [0x0f, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]) one(op, 0);
oneRange(0x40, 0x4f, 0);
oneRange(0x50, 0x5f, D64); // PUSH/POP r
one(0x60, I64); // PUSHA
one(0x61, I64); // POPA
one(0x62, M | MEM | I64); // BOUND (EVEX in 64-bit mode and for mod = 3)
one(0x63, M); // ARPL; MOVSXD in 64-bit mode
one(0x68, IZ | D64);
one(0x69, M | IZ);
one(0x6a, IB | D64);
one(0x6b, M | IB);
oneRange(0x6c, 0x6f, 0); // INS OUTS
oneRange(0x70, 0x7f, IB | F64); // Jcc rel8
// Group 1 (ADD .. CMP Eb/Ev, imm): all but CMP take LOCK.
const GROUP1 = [L, L, L, L, L, L, L, 0];
one(0x80, group(GROUP1) | IB);
one(0x81, group(GROUP1) | IZ);
one(0x82, group(GROUP1) | IB | I64); // alias of 80
one(0x83, group(GROUP1) | IB);
oneRange(0x84, 0x85, M); // TEST
oneRange(0x86, 0x87, M | L); // XCHG
oneRange(0x88, 0x8c, M); // MOV, MOV Ev,Sw
one(0x8d, M | MEM); // LEA
one(0x8e, M); // MOV Sw,Ew
one(0x8f, group([D64, U, U, U, U, U, U, U])); // POP Ev; /1-/7 are AMD's XOP
oneRange(0x90, 0x99, 0); // XCHG rAX (NOP, PAUSE), CBW, CWD
one(0x9a, imm(Imm.Ap) | I64); // CALLF ptr
one(0x9b, 0); // FWAIT
one(0x9c, D64); // PUSHF
one(0x9d, D64); // POPF
one(0x9e, 0);
one(0x9f, 0);
oneRange(0xa0, 0xa3, imm(Imm.Moffs));
oneRange(0xa4, 0xa7, 0); // MOVS CMPS
one(0xa8, IB);
one(0xa9, IZ);
oneRange(0xaa, 0xaf, 0); // STOS LODS SCAS
oneRange(0xb0, 0xb7, IB);
oneRange(0xb8, 0xbf, imm(Imm.Iv));
one(0xc0, M | IB); // shift group 2
one(0xc1, M | IB);
one(0xc2, IW | F64); // RET iw
one(0xc3, F64);
one(0xc4, M | MEM | I64); // LES; VEX in 64-bit mode and for mod = 3
one(0xc5, M | MEM | I64); // LDS; likewise
one(0xc6, group([IB, U, U, U, U, U, U, U | IB])); // MOV Eb,ib; /7 is XABORT (RTM, not modelled)
one(0xc7, group([IZ, U, U, U, U, U, U, U | IZ])); // MOV Ev,iz; /7 is XBEGIN
one(0xc8, imm(Imm.IwIb) | D64); // ENTER
one(0xc9, D64); // LEAVE
one(0xca, IW); // RETF iw
one(0xcb, 0);
one(0xcc, 0); // INT3
one(0xcd, IB); // INT ib
one(0xce, I64); // INTO
one(0xcf, 0); // IRET
oneRange(0xd0, 0xd3, M); // shift group 2 by 1, CL
one(0xd4, IB | I64); // AAM
one(0xd5, IB | I64); // AAD
// SALC: not in the SDM, but every Intel CPU before 64-bit mode ran it and the interpreter
// does too (objdump prints "(bad)").
one(0xd6, I64);
one(0xd7, 0); // XLAT
oneRange(0xd8, 0xdf, M); // x87
oneRange(0xe0, 0xe3, IB | F64); // LOOPNE LOOPE LOOP JrCXZ
oneRange(0xe4, 0xe7, IB); // IN OUT ib
one(0xe8, IZ | F64); // CALL rel
one(0xe9, IZ | F64); // JMP rel
one(0xea, imm(Imm.Ap) | I64); // JMPF ptr
one(0xeb, IB | F64);
oneRange(0xec, 0xef, 0); // IN OUT dx
one(0xf1, 0); // INT1
oneRange(0xf4, 0xf5, 0); // HLT CMC
one(0xf6, group([IB, IB, L, L, 0, 0, 0, 0])); // TEST Eb,ib (/1 an alias), NOT NEG MUL IMUL DIV IDIV
one(0xf7, group([IZ, IZ, L, L, 0, 0, 0, 0]));
oneRange(0xf8, 0xfd, 0); // CLC STC CLI STI CLD STD
one(0xfe, group([L, L, U, U, U, U, U, U])); // INC DEC Eb
one(0xff, group([L, L, F64, MEM, F64, MEM, D64, U])); // INC DEC CALL CALLF JMP JMPF PUSH

// ------------------------------------------------------------------ 0F map
const tw = (op: number, attrs: number, pps = ALL_PP): void => def(MAP_0F, op, attrs, pps);
const twRange = (from: number, to: number, attrs: number, pps = ALL_PP): void => defRange(MAP_0F, from, to, attrs, pps);

tw(0x00, group([0, 0, 0, 0, 0, 0, U, U])); // SLDT STR LLDT LTR VERR VERW
tw(0x01, M); // SGDT SIDT LGDT LIDT SMSW LMSW INVLPG and their register forms
tw(0x02, M); // LAR
tw(0x03, M); // LSL
tw(0x05, 0); // SYSCALL
tw(0x06, 0); // CLTS
tw(0x07, 0); // SYSRET
tw(0x08, 0); // INVD
tw(0x09, 0); // WBINVD
tw(0x0b, 0); // UD2: defined, raises #UD by design
tw(0x0d, M); // PREFETCHW (a hint NOP)
tw(0x0e, U); // FEMMS (3DNow!)
tw(0x0f, M | IB | U); // 3DNow!: the trailing byte is the opcode
twRange(0x10, 0x11, M); // MOVUPS MOVSS MOVUPD MOVSD
tw(0x12, M, '-32'); // MOVLPS MOVHLPS MOVDDUP MOVSLDUP
tw(0x12, M | MEM, '6'); // MOVLPD (no register form)
tw(0x13, M | MEM, '-6'); // MOVLPS MOVLPD
twRange(0x14, 0x15, M, '-6'); // UNPCKLPS/PD UNPCKHPS/PD
tw(0x16, M, '-3'); // MOVHPS MOVLHPS MOVSHDUP
tw(0x16, M | MEM, '6'); // MOVHPD
tw(0x17, M | MEM, '-6'); // MOVHPS MOVHPD
twRange(0x18, 0x1f, M); // prefetch hints, NOP Ev, ENDBR
twRange(0x20, 0x23, M | A_REG_ONLY); // MOV r,CRn / DRn
tw(0x24, M | A_REG_ONLY | U); // MOV r,TRn (i486 only)
tw(0x26, M | A_REG_ONLY | U);
twRange(0x28, 0x29, M, '-6'); // MOVAPS MOVAPD
tw(0x2a, M); // CVTPI2PS CVTSI2SS CVTPI2PD CVTSI2SD
tw(0x2b, M | MEM, '-6'); // MOVNTPS MOVNTPD
twRange(0x2c, 0x2d, M); // CVT(T)PS2PI CVT(T)SS2SI ...
twRange(0x2e, 0x2f, M, '-6'); // UCOMISS COMISS UCOMISD COMISD
twRange(0x30, 0x35, 0); // WRMSR RDTSC RDMSR RDPMC SYSENTER SYSEXIT
tw(0x37, 0); // GETSEC
tw(0x38, 0); // escapes, consumed by the decoder
tw(0x3a, 0);
twRange(0x40, 0x4f, M); // CMOVcc
tw(0x50, M, '-6'); // MOVMSKPS MOVMSKPD
tw(0x51, M); // SQRTPS SQRTSS SQRTPD SQRTSD
twRange(0x52, 0x53, M, '-3'); // RSQRT RCP
twRange(0x54, 0x57, M, '-6'); // AND ANDN OR XOR PS/PD
twRange(0x58, 0x5a, M); // ADD MUL, CVTPS2PD ...
tw(0x5b, M, '-63'); // CVTDQ2PS CVTPS2DQ CVTTPS2DQ
twRange(0x5c, 0x5f, M); // SUB MIN DIV MAX
twRange(0x60, 0x6b, M, '-6'); // MMX/SSE2 unpack, compare, pack
twRange(0x6c, 0x6d, M, '6'); // PUNPCKLQDQ PUNPCKHQDQ
tw(0x6e, M, '-6'); // MOVD/MOVQ
tw(0x6f, M, '-63'); // MOVQ MOVDQA MOVDQU
tw(0x70, M | IB); // PSHUFW PSHUFD PSHUFHW PSHUFLW
twRange(0x71, 0x73, M | IB, '-6'); // shift-by-immediate groups 12-14
twRange(0x74, 0x76, M, '-6'); // PCMPEQB/W/D
tw(0x77, 0, '-'); // EMMS
tw(0x78, M, '-'); // VMREAD (66/F2 are AMD's SSE4a EXTRQ/INSERTQ)
tw(0x79, M, '-'); // VMWRITE
twRange(0x7c, 0x7d, M, '62'); // HADDPD HADDPS HSUBPD HSUBPS
tw(0x7e, M, '-63'); // MOVD MOVQ
tw(0x7f, M, '-63'); // MOVQ MOVDQA MOVDQU
twRange(0x80, 0x8f, IZ | F64); // Jcc rel
twRange(0x90, 0x9f, M); // SETcc
tw(0xa0, D64); // PUSH FS
tw(0xa1, D64); // POP FS
tw(0xa2, 0); // CPUID
tw(0xa3, M); // BT
tw(0xa4, M | IB); // SHLD ib
tw(0xa5, M); // SHLD CL
tw(0xa8, D64); // PUSH GS
tw(0xa9, D64); // POP GS
tw(0xaa, 0); // RSM
tw(0xab, M | L); // BTS
tw(0xac, M | IB); // SHRD ib
tw(0xad, M); // SHRD CL
tw(0xae, M); // group 15: FXSAVE ... CLFLUSH, fences, RDFSBASE ...
tw(0xaf, M); // IMUL Gv,Ev
twRange(0xb0, 0xb1, M | L); // CMPXCHG
tw(0xb2, M | MEM); // LSS
tw(0xb3, M | L); // BTR
twRange(0xb4, 0xb5, M | MEM); // LFS LGS
twRange(0xb6, 0xb7, M); // MOVZX
tw(0xb8, M, '3'); // POPCNT (without F3: IA-64's JMPE)
tw(0xb9, M); // UD1: defined, raises #UD by design
tw(0xba, group([U, U, U, U, 0, L, L, L].map((a) => a | IB))); // BT BTS BTR BTC ib
tw(0xbb, M | L); // BTC
twRange(0xbc, 0xbf, M); // BSF/TZCNT, BSR/LZCNT, MOVSX
twRange(0xc0, 0xc1, M | L); // XADD
tw(0xc2, M | IB); // CMPPS CMPSS CMPPD CMPSD
tw(0xc3, M | MEM, '-'); // MOVNTI
twRange(0xc4, 0xc6, M | IB, '-6'); // PINSRW PEXTRW SHUFPS/PD
tw(0xc7, group([0, L, 0, 0, 0, 0, 0, 0])); // group 9: CMPXCHG8B/16B, RDRAND, RDSEED, RDPID, VMPTRLD ...
twRange(0xc8, 0xcf, 0); // BSWAP
tw(0xd0, M, '62'); // ADDSUBPD ADDSUBPS
twRange(0xd1, 0xd5, M, '-6');
tw(0xd6, M, '632'); // MOVQ MOVQ2DQ MOVDQ2Q
tw(0xd7, M, '-6'); // PMOVMSKB
twRange(0xd8, 0xe5, M, '-6');
tw(0xe6, M, '632'); // CVTTPD2DQ CVTDQ2PD CVTPD2DQ
tw(0xe7, M | MEM, '-6'); // MOVNTQ MOVNTDQ
twRange(0xe8, 0xef, M, '-6');
tw(0xf0, M | MEM, '2'); // LDDQU
twRange(0xf1, 0xfe, M, '-6'); // shifts, multiplies, MASKMOVQ, adds and subtracts
tw(0xff, M); // UD0 (with ModRM, as the SDM has it)

// ------------------------------------------------------------------ 0F 38 map (no immediates)
const t38 = (from: number, to: number, pps: string, attrs = M): void => defRange(MAP_0F38, from, to, attrs, pps);
t38(0x00, 0x0b, '-6'); // SSSE3: PSHUFB PHADD PMADDUBSW PHSUB PSIGN PMULHRSW
t38(0x10, 0x10, '6'); // SSE4.1 PBLENDVB
t38(0x14, 0x15, '6'); // BLENDVPS BLENDVPD
t38(0x17, 0x17, '6'); // PTEST
t38(0x1c, 0x1e, '-6'); // PABSB/W/D
t38(0x20, 0x25, '6'); // PMOVSX
t38(0x28, 0x2b, '6'); // PMULDQ PCMPEQQ MOVNTDQA PACKUSDW
t38(0x2a, 0x2a, '6', M | MEM); // MOVNTDQA
t38(0x30, 0x35, '6'); // PMOVZX
t38(0x37, 0x3f, '6'); // PCMPGTQ (SSE4.2), PMIN/PMAX
t38(0x40, 0x41, '6'); // PMULLD PHMINPOSUW
t38(0x80, 0x82, '6', M | MEM); // INVEPT INVVPID INVPCID
t38(0xc8, 0xcd, '-'); // SHA
t38(0xdb, 0xdf, '6'); // AES
t38(0xf0, 0xf1, '-6', M | MEM); // MOVBE
t38(0xf0, 0xf1, '2'); // CRC32 (SSE4.2; 66 F2 is the 16-bit form, F2 wins the mandatory slot)
t38(0xf6, 0xf6, '63'); // ADCX ADOX

// ------------------------------------------------------------------ 0F 3A map (all ModRM + ib)
const t3a = (from: number, to: number, pps: string): void => defRange(MAP_0F3A, from, to, M | IB, pps);
t3a(0x08, 0x0e, '6'); // SSE4.1 ROUND*, BLEND*
t3a(0x0f, 0x0f, '-6'); // PALIGNR (SSSE3)
t3a(0x14, 0x17, '6'); // PEXTRB/W/D/Q EXTRACTPS
t3a(0x20, 0x22, '6'); // PINSRB INSERTPS PINSRD/Q
t3a(0x40, 0x42, '6'); // DPPS DPPD MPSADBW
t3a(0x44, 0x44, '6'); // PCLMULQDQ
t3a(0x60, 0x63, '6'); // SSE4.2 PCMPESTRM PCMPESTRI PCMPISTRM PCMPISTRI
t3a(0xcc, 0xcc, '-'); // SHA1RNDS4
t3a(0xdf, 0xdf, '6'); // AESKEYGENASSIST
