/**
 * WebAssembly binary-format constants: value types, section ids, external kinds and the
 * opcodes the JIT emits. Names follow the spec's mnemonics (i32.add is `Op.I32Add`).
 */

export const ValType = {
  I32: 0x7f,
  I64: 0x7e,
  F32: 0x7d,
  F64: 0x7c,
  V128: 0x7b,
  FuncRef: 0x70,
  ExternRef: 0x6f,
} as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Reference types a table may hold. */
export type RefType = typeof ValType.FuncRef | typeof ValType.ExternRef;

/** A block's type: no result, or one value. */
export const BlockType = { Empty: 0x40, ...ValType } as const;
export type BlockType = (typeof BlockType)[keyof typeof BlockType];

export const Section = {
  Custom: 0,
  Type: 1,
  Import: 2,
  Function: 3,
  Table: 4,
  Memory: 5,
  Global: 6,
  Export: 7,
  Start: 8,
  Element: 9,
  Code: 10,
  Data: 11,
  DataCount: 12,
} as const;
export type Section = (typeof Section)[keyof typeof Section];

export const ExternalKind = { Func: 0, Table: 1, Memory: 2, Global: 3 } as const;
export type ExternalKind = (typeof ExternalKind)[keyof typeof ExternalKind];

/** Opcodes that take immediates or change the control nesting; emitted only by CodeBuilder methods. */
export const Ctl = {
  Unreachable: 0x00,
  Nop: 0x01,
  Block: 0x02,
  Loop: 0x03,
  If: 0x04,
  Else: 0x05,
  End: 0x0b,
  Br: 0x0c,
  BrIf: 0x0d,
  BrTable: 0x0e,
  Return: 0x0f,
  Call: 0x10,
  CallIndirect: 0x11,
  ReturnCall: 0x12,
  ReturnCallIndirect: 0x13,
  Drop: 0x1a,
  Select: 0x1b,
  SelectT: 0x1c,
  LocalGet: 0x20,
  LocalSet: 0x21,
  LocalTee: 0x22,
  GlobalGet: 0x23,
  GlobalSet: 0x24,
  I32Const: 0x41,
  I64Const: 0x42,
  F64Const: 0x44,
  /** Prefix of the SIMD opcodes (v128). */
  PrefixSimd: 0xfd,
  /** Prefix of the threads opcodes (atomics). */
  PrefixAtomic: 0xfe,
} as const;

/** Loads and stores: opcode and natural alignment (log2 of the access size). */
export const Mem = {
  I32Load: 0x28,
  I64Load: 0x29,
  F32Load: 0x2a,
  F64Load: 0x2b,
  I32Load8S: 0x2c,
  I32Load8U: 0x2d,
  I32Load16S: 0x2e,
  I32Load16U: 0x2f,
  I64Load8S: 0x30,
  I64Load8U: 0x31,
  I64Load16S: 0x32,
  I64Load16U: 0x33,
  I64Load32S: 0x34,
  I64Load32U: 0x35,
  I32Store: 0x36,
  I64Store: 0x37,
  F32Store: 0x38,
  F64Store: 0x39,
  I32Store8: 0x3a,
  I32Store16: 0x3b,
  I64Store8: 0x3c,
  I64Store16: 0x3d,
  I64Store32: 0x3e,
} as const;
export type MemOp = (typeof Mem)[keyof typeof Mem];

/** log2 of the access size of each load/store opcode, indexed by opcode - 0x28. */
export const MEM_NATURAL_ALIGN: readonly number[] = [
  2, 3, 2, 3, // i32/i64/f32/f64.load
  0, 0, 1, 1, // i32.load8_s/u, load16_s/u
  0, 0, 1, 1, 2, 2, // i64.load8_s/u, 16_s/u, 32_s/u
  2, 3, 2, 3, // i32/i64/f32/f64.store
  0, 1, // i32.store8/16
  0, 1, 2, // i64.store8/16/32
];

/**
 * The opcodes without immediates that leave the control nesting alone: everything
 * `CodeBuilder.op()` accepts.
 */
export const Op = {
  Unreachable: 0x00,
  Nop: 0x01,
  Return: 0x0f,
  Drop: 0x1a,
  Select: 0x1b,

  I32Eqz: 0x45,
  I32Eq: 0x46,
  I32Ne: 0x47,
  I32LtS: 0x48,
  I32LtU: 0x49,
  I32GtS: 0x4a,
  I32GtU: 0x4b,
  I32LeS: 0x4c,
  I32LeU: 0x4d,
  I32GeS: 0x4e,
  I32GeU: 0x4f,

  I64Eqz: 0x50,
  I64Eq: 0x51,
  I64Ne: 0x52,
  I64LtS: 0x53,
  I64LtU: 0x54,
  I64GtS: 0x55,
  I64GtU: 0x56,
  I64LeS: 0x57,
  I64LeU: 0x58,
  I64GeS: 0x59,
  I64GeU: 0x5a,

  F64Eq: 0x61,
  F64Ne: 0x62,
  F64Lt: 0x63,
  F64Gt: 0x64,
  F64Le: 0x65,
  F64Ge: 0x66,

  I32Clz: 0x67,
  I32Ctz: 0x68,
  I32Popcnt: 0x69,
  I32Add: 0x6a,
  I32Sub: 0x6b,
  I32Mul: 0x6c,
  I32DivS: 0x6d,
  I32DivU: 0x6e,
  I32RemS: 0x6f,
  I32RemU: 0x70,
  I32And: 0x71,
  I32Or: 0x72,
  I32Xor: 0x73,
  I32Shl: 0x74,
  I32ShrS: 0x75,
  I32ShrU: 0x76,
  I32Rotl: 0x77,
  I32Rotr: 0x78,

  I64Clz: 0x79,
  I64Ctz: 0x7a,
  I64Popcnt: 0x7b,
  I64Add: 0x7c,
  I64Sub: 0x7d,
  I64Mul: 0x7e,
  I64DivS: 0x7f,
  I64DivU: 0x80,
  I64RemS: 0x81,
  I64RemU: 0x82,
  I64And: 0x83,
  I64Or: 0x84,
  I64Xor: 0x85,
  I64Shl: 0x86,
  I64ShrS: 0x87,
  I64ShrU: 0x88,
  I64Rotl: 0x89,
  I64Rotr: 0x8a,

  F64Abs: 0x99,
  F64Neg: 0x9a,
  F64Ceil: 0x9b,
  F64Floor: 0x9c,
  F64Trunc: 0x9d,
  F64Nearest: 0x9e,
  F64Sqrt: 0x9f,
  F64Add: 0xa0,
  F64Sub: 0xa1,
  F64Mul: 0xa2,
  F64Div: 0xa3,
  F64Min: 0xa4,
  F64Max: 0xa5,
  F64Copysign: 0xa6,

  I32WrapI64: 0xa7,
  I32TruncF64S: 0xaa,
  I32TruncF64U: 0xab,
  I64ExtendI32S: 0xac,
  I64ExtendI32U: 0xad,
  I64TruncF64S: 0xb0,
  I64TruncF64U: 0xb1,
  F64ConvertI32S: 0xb7,
  F64ConvertI32U: 0xb8,
  F64ConvertI64S: 0xb9,
  F64ConvertI64U: 0xba,
  I64ReinterpretF64: 0xbd,
  F64ReinterpretI64: 0xbf,

  I32Extend8S: 0xc0,
  I32Extend16S: 0xc1,
  I64Extend8S: 0xc2,
  I64Extend16S: 0xc3,
  I64Extend32S: 0xc4,
} as const;
export type SimpleOp = (typeof Op)[keyof typeof Op];

/** SIMD (0xFD-prefixed) sub-opcodes the emitter knows. */
export const Simd = { V128Load: 0x00, V128Store: 0x0b, V128Const: 0x0c } as const;

/** Threads (0xFE-prefixed) sub-opcodes the emitter knows. */
export const Atomic = { I32AtomicLoad: 0x10, I64AtomicLoad: 0x11, I32AtomicStore: 0x17, I64AtomicStore: 0x18 } as const;
