/**
 * The body of one wasm function: locals and instructions, one method per opcode, named after
 * the mnemonic (`i32.add` is `i32Add()`, `br_if` is `brIf()`), plus `op()` for table-driven
 * code generation over the immediate-free opcodes.
 *
 * The builder tracks the control nesting so that emitter bugs surface where they are made:
 * a branch deeper than the open blocks, an `end` or `else` with nothing to close, a function
 * finished with blocks still open, an `if` with a result but no `else`, an undeclared local or
 * an over-aligned memory access all throw a `WasmEmitError` at once. References into the
 * module's index spaces (types, functions, tables, globals, memory) are checked when the
 * module is finished, since they may be declared after the code that uses them. Operand
 * types are not tracked (that would cost on every instruction): V8's validation reports those
 * when the module is compiled.
 *
 * Builders are owned and recycled by `ModuleBuilder`; their storage survives between modules.
 */
import { ByteBuffer } from './byte-buffer.js';
import { Atomic, BlockType, Ctl, Mem, MEM_NATURAL_ALIGN, Op, Simd, type SimpleOp, type ValType } from './opcodes.js';

export class WasmEmitError extends Error {
  override name = 'WasmEmitError';
}

/**
 * An open block, as returned by `block()`, `loop()` and `if()`: its nesting level (1 for the
 * outermost block; 0 names the function body). `depthOf(label)` turns it into the relative
 * depth a branch needs.
 */
export type Label = number;

const K_BLOCK = 0;
const K_LOOP = 1;
const K_IF = 2;
const K_ELSE = 3;
const KIND_NAMES = ['block', 'loop', 'if', 'else'];

export class CodeBuilder {
  /** The instruction bytes (without the locals declaration and the final `end`). */
  readonly body = new ByteBuffer(1024);
  /** Index of this function in the module's function index space (imports first). */
  index = 0;
  /** Index of its type. */
  typeIndex = 0;
  /** Number of parameters: locals 0 .. paramCount-1. */
  paramCount = 0;
  /** Types of all locals, parameters first; entries past `localCount` are stale. */
  private localTypes: ValType[] = [];
  private nLocals = 0;

  // The control stack, entries 1 .. depth (0 is the function body).
  private ctlKind: number[] = [0];
  private ctlType: number[] = [BlockType.Empty];
  private ctlAt: number[] = [0];
  private depth = 0;
  private finished = false;

  // Uses of module-level index spaces, checked by ModuleBuilder.finish (-1: none).
  /** @internal */ maxTypeUsed = -1;
  /** @internal */ maxFuncUsed = -1;
  /** @internal */ maxTableUsed = -1;
  /** @internal */ maxGlobalUsed = -1;
  /** @internal */ usesMemory = false;

  /** @internal Called by ModuleBuilder when it hands this builder out. */
  start(index: number, typeIndex: number, params: readonly ValType[]): void {
    this.body.reset();
    this.index = index;
    this.typeIndex = typeIndex;
    this.paramCount = params.length;
    this.nLocals = 0;
    for (let i = 0; i < params.length; i++) this.localTypes[this.nLocals++] = params[i];
    this.depth = 0;
    this.finished = false;
    this.maxTypeUsed = -1;
    this.maxFuncUsed = -1;
    this.maxTableUsed = -1;
    this.maxGlobalUsed = -1;
    this.usesMemory = false;
  }

  private fail(msg: string): never {
    throw new WasmEmitError(`wasm emitter: function ${this.index}, body offset ${this.body.pos}: ${msg}`);
  }

  // ---------------------------------------------------------------- locals

  /** Number of locals, parameters included. */
  get localCount(): number {
    return this.nLocals;
  }

  localType(i: number): ValType {
    if (i < 0 || i >= this.nLocals) this.fail(`local ${i} is not declared (${this.nLocals} locals)`);
    return this.localTypes[i];
  }

  /** Declare a local; returns its index. May be called at any point before the module is finished. */
  addLocal(t: ValType): number {
    this.checkOpen();
    this.localTypes[this.nLocals] = t;
    return this.nLocals++;
  }

  /** Declare `n` locals of one type; returns the index of the first. */
  addLocals(t: ValType, n: number): number {
    this.checkOpen();
    const first = this.nLocals;
    for (let i = 0; i < n; i++) this.localTypes[this.nLocals++] = t;
    return first;
  }

  /** @internal Write the locals declaration (runs of equal types), as the body's prefix needs it. */
  writeLocals(out: ByteBuffer): void {
    const types = this.localTypes;
    const end = this.nLocals;
    let runs = 0;
    for (let i = this.paramCount; i < end; i++) if (i === this.paramCount || types[i] !== types[i - 1]) runs++;
    out.uleb32(runs);
    let i = this.paramCount;
    while (i < end) {
      const t = types[i];
      let j = i + 1;
      while (j < end && types[j] === t) j++;
      out.uleb32(j - i);
      out.u8(t);
      i = j;
    }
  }

  private checkLocal(i: number): void {
    if (i >>> 0 !== i || i >= this.nLocals) this.fail(`local ${i} is not declared (${this.nLocals} locals)`);
  }

  localGet(i: number): void {
    this.checkLocal(i);
    this.body.u8(Ctl.LocalGet);
    this.body.uleb32(i);
  }

  localSet(i: number): void {
    this.checkLocal(i);
    this.body.u8(Ctl.LocalSet);
    this.body.uleb32(i);
  }

  localTee(i: number): void {
    this.checkLocal(i);
    this.body.u8(Ctl.LocalTee);
    this.body.uleb32(i);
  }

  globalGet(g: number): void {
    if (g > this.maxGlobalUsed) this.maxGlobalUsed = g;
    this.body.u8(Ctl.GlobalGet);
    this.body.uleb32(g);
  }

  globalSet(g: number): void {
    if (g > this.maxGlobalUsed) this.maxGlobalUsed = g;
    this.body.u8(Ctl.GlobalSet);
    this.body.uleb32(g);
  }

  // ---------------------------------------------------------------- control

  /** Number of blocks currently open (not counting the function body). */
  get openBlocks(): number {
    return this.depth;
  }

  private checkOpen(): void {
    if (this.finished) this.fail('the function is already finished');
  }

  private push(kind: number, bt: BlockType): Label {
    this.checkOpen();
    const d = ++this.depth;
    this.ctlKind[d] = kind;
    this.ctlType[d] = bt;
    this.ctlAt[d] = this.body.pos;
    return d;
  }

  block(bt: BlockType = BlockType.Empty): Label {
    const l = this.push(K_BLOCK, bt);
    this.body.u8x2(Ctl.Block, bt);
    return l;
  }

  loop(bt: BlockType = BlockType.Empty): Label {
    const l = this.push(K_LOOP, bt);
    this.body.u8x2(Ctl.Loop, bt);
    return l;
  }

  if(bt: BlockType = BlockType.Empty): Label {
    const l = this.push(K_IF, bt);
    this.body.u8x2(Ctl.If, bt);
    return l;
  }

  else(): void {
    const d = this.depth;
    if (d === 0) this.fail('else with no open if');
    if (this.ctlKind[d] !== K_IF) this.fail(`else inside ${KIND_NAMES[this.ctlKind[d]]} opened at body offset ${this.ctlAt[d]}, not an if`);
    this.ctlKind[d] = K_ELSE;
    this.body.u8(Ctl.Else);
  }

  end(): void {
    const d = this.depth;
    if (d === 0) this.fail("end with no open block (the function's own end is written when the module is finished)");
    if (this.ctlKind[d] === K_IF && this.ctlType[d] !== BlockType.Empty) {
      this.fail(`if with a result (opened at body offset ${this.ctlAt[d]}) ends without an else`);
    }
    this.depth = d - 1;
    this.body.u8(Ctl.End);
  }

  /** The relative branch depth that targets `label` from here. */
  depthOf(label: Label): number {
    if (label >>> 0 !== label || label > this.depth) this.fail(`label ${label} is not open (${this.depth} blocks open)`);
    return this.depth - label;
  }

  private checkDepth(what: string, depth: number): void {
    if (depth >>> 0 !== depth || depth > this.depth) {
      this.fail(`${what} depth ${depth}, but only ${this.depth} block${this.depth === 1 ? ' is' : 's are'} open (the deepest legal target is ${this.depth}, the function body)`);
    }
  }

  br(depth: number): void {
    this.checkOpen();
    this.checkDepth('br', depth);
    this.body.u8(Ctl.Br);
    this.body.uleb32(depth);
  }

  brIf(depth: number): void {
    this.checkOpen();
    this.checkDepth('br_if', depth);
    this.body.u8(Ctl.BrIf);
    this.body.uleb32(depth);
  }

  /** br_table: `depths[i]` for operand i, `defaultDepth` for anything else. */
  brTable(depths: ArrayLike<number>, defaultDepth: number): void {
    this.checkOpen();
    for (let i = 0; i < depths.length; i++) this.checkDepth(`br_table entry ${i}:`, depths[i]);
    this.checkDepth('br_table default:', defaultDepth);
    const b = this.body;
    b.u8(Ctl.BrTable);
    b.uleb32(depths.length);
    for (let i = 0; i < depths.length; i++) b.uleb32(depths[i]);
    b.uleb32(defaultDepth);
  }

  /** Branch to an open label (block, loop or if) by its handle. */
  brTo(label: Label): void {
    this.br(this.depthOf(label));
  }

  brIfTo(label: Label): void {
    this.brIf(this.depthOf(label));
  }

  return(): void {
    this.checkOpen();
    this.body.u8(Ctl.Return);
  }

  private useFunc(f: number): void {
    if (f >>> 0 !== f) this.fail(`bad function index ${f}`);
    if (f > this.maxFuncUsed) this.maxFuncUsed = f;
  }

  private useType(t: number, table: number): void {
    if (t >>> 0 !== t) this.fail(`bad type index ${t}`);
    if (table >>> 0 !== table) this.fail(`bad table index ${table}`);
    if (t > this.maxTypeUsed) this.maxTypeUsed = t;
    if (table > this.maxTableUsed) this.maxTableUsed = table;
  }

  call(f: number): void {
    this.checkOpen();
    this.useFunc(f);
    this.body.u8(Ctl.Call);
    this.body.uleb32(f);
  }

  /** call_indirect: callee's table slot on top of the stack, its arguments below. */
  callIndirect(typeIndex: number, table = 0): void {
    this.checkOpen();
    this.useType(typeIndex, table);
    this.body.u8(Ctl.CallIndirect);
    this.body.uleb32(typeIndex);
    this.body.uleb32(table);
  }

  /** return_call (tail call): see `wasmTailCalls()` in features.ts for engine support. */
  returnCall(f: number): void {
    this.checkOpen();
    this.useFunc(f);
    this.body.u8(Ctl.ReturnCall);
    this.body.uleb32(f);
  }

  /** return_call_indirect (tail call through a table). */
  returnCallIndirect(typeIndex: number, table = 0): void {
    this.checkOpen();
    this.useType(typeIndex, table);
    this.body.u8(Ctl.ReturnCallIndirect);
    this.body.uleb32(typeIndex);
    this.body.uleb32(table);
  }

  unreachable(): void {
    this.body.u8(Ctl.Unreachable);
  }

  nop(): void {
    this.body.u8(Ctl.Nop);
  }

  drop(): void {
    this.body.u8(Ctl.Drop);
  }

  /** select: [a, b, cond] -> cond ? a : b (numeric operands). */
  select(): void {
    this.body.u8(Ctl.Select);
  }

  /** select with an explicit result type (needed for v128 and reference operands). */
  selectTyped(t: ValType): void {
    this.body.u8(Ctl.SelectT);
    this.body.u8x2(1, t);
  }

  /** Any opcode without immediates that leaves the control nesting alone. */
  op(o: SimpleOp): void {
    this.body.u8(o);
  }

  // ---------------------------------------------------------------- constants

  /** i32.const: any int32 or uint32 value (the low 32 bits are taken). */
  i32Const(v: number): void {
    this.body.u8(Ctl.I32Const);
    this.body.sleb32(v);
  }

  /** i64.const of the value with halves lo:hi; `hi` defaults to the sign extension of `lo`. */
  i64Const(lo: number, hi: number = lo >> 31): void {
    this.body.u8(Ctl.I64Const);
    this.body.sleb64(lo, hi);
  }

  /** i64.const of a BigInt (modulo 2^64). */
  i64ConstBig(v: bigint): void {
    this.body.u8(Ctl.I64Const);
    this.body.sleb64Big(v);
  }

  f64Const(v: number): void {
    this.body.u8(Ctl.F64Const);
    this.body.f64(v);
  }

  /** v128.const from four int32 lanes, lane 0 in the lowest bytes. */
  v128Const(l0: number, l1: number, l2: number, l3: number): void {
    const b = this.body;
    b.u8x2(Ctl.PrefixSimd, Simd.V128Const);
    b.u32le(l0);
    b.u32le(l1);
    b.u32le(l2);
    b.u32le(l3);
  }

  // ---------------------------------------------------------------- memory

  /** A load or store: opcode, then memarg (alignment as log2 of bytes, then offset). */
  private memarg(op: number, offset: number, align: number): void {
    const natural = MEM_NATURAL_ALIGN[op - 0x28];
    if (align >>> 0 !== align || align > natural) this.fail(`alignment 2^${align} exceeds the natural 2^${natural} of opcode 0x${op.toString(16)}`);
    if (offset >>> 0 !== offset) this.fail(`memarg offset ${offset} is not a uint32`);
    this.usesMemory = true;
    const b = this.body;
    b.u8x2(op, align);
    b.uleb32(offset);
  }

  i32Load(offset = 0, align = 2): void { this.memarg(Mem.I32Load, offset, align); }
  i64Load(offset = 0, align = 3): void { this.memarg(Mem.I64Load, offset, align); }
  f64Load(offset = 0, align = 3): void { this.memarg(Mem.F64Load, offset, align); }
  i32Load8S(offset = 0, align = 0): void { this.memarg(Mem.I32Load8S, offset, align); }
  i32Load8U(offset = 0, align = 0): void { this.memarg(Mem.I32Load8U, offset, align); }
  i32Load16S(offset = 0, align = 1): void { this.memarg(Mem.I32Load16S, offset, align); }
  i32Load16U(offset = 0, align = 1): void { this.memarg(Mem.I32Load16U, offset, align); }
  i64Load8S(offset = 0, align = 0): void { this.memarg(Mem.I64Load8S, offset, align); }
  i64Load8U(offset = 0, align = 0): void { this.memarg(Mem.I64Load8U, offset, align); }
  i64Load16S(offset = 0, align = 1): void { this.memarg(Mem.I64Load16S, offset, align); }
  i64Load16U(offset = 0, align = 1): void { this.memarg(Mem.I64Load16U, offset, align); }
  i64Load32S(offset = 0, align = 2): void { this.memarg(Mem.I64Load32S, offset, align); }
  i64Load32U(offset = 0, align = 2): void { this.memarg(Mem.I64Load32U, offset, align); }
  i32Store(offset = 0, align = 2): void { this.memarg(Mem.I32Store, offset, align); }
  i64Store(offset = 0, align = 3): void { this.memarg(Mem.I64Store, offset, align); }
  f64Store(offset = 0, align = 3): void { this.memarg(Mem.F64Store, offset, align); }
  i32Store8(offset = 0, align = 0): void { this.memarg(Mem.I32Store8, offset, align); }
  i32Store16(offset = 0, align = 1): void { this.memarg(Mem.I32Store16, offset, align); }
  i64Store8(offset = 0, align = 0): void { this.memarg(Mem.I64Store8, offset, align); }
  i64Store16(offset = 0, align = 1): void { this.memarg(Mem.I64Store16, offset, align); }
  i64Store32(offset = 0, align = 2): void { this.memarg(Mem.I64Store32, offset, align); }

  private prefixedMemarg(prefix: number, sub: number, offset: number, align: number, natural: number): void {
    if (align >>> 0 !== align || align > natural) this.fail(`alignment 2^${align} exceeds the natural 2^${natural}`);
    if (offset >>> 0 !== offset) this.fail(`memarg offset ${offset} is not a uint32`);
    this.usesMemory = true;
    const b = this.body;
    b.u8x2(prefix, sub);
    b.u8(align);
    b.uleb32(offset);
  }

  v128Load(offset = 0, align = 4): void { this.prefixedMemarg(Ctl.PrefixSimd, Simd.V128Load, offset, align, 4); }
  v128Store(offset = 0, align = 4): void { this.prefixedMemarg(Ctl.PrefixSimd, Simd.V128Store, offset, align, 4); }
  /** Atomic accesses are always naturally aligned (anything else is invalid), so there is no align argument. */
  i32AtomicLoad(offset = 0): void { this.prefixedMemarg(Ctl.PrefixAtomic, Atomic.I32AtomicLoad, offset, 2, 2); }
  i64AtomicLoad(offset = 0): void { this.prefixedMemarg(Ctl.PrefixAtomic, Atomic.I64AtomicLoad, offset, 3, 3); }
  i32AtomicStore(offset = 0): void { this.prefixedMemarg(Ctl.PrefixAtomic, Atomic.I32AtomicStore, offset, 2, 2); }
  i64AtomicStore(offset = 0): void { this.prefixedMemarg(Ctl.PrefixAtomic, Atomic.I64AtomicStore, offset, 3, 3); }

  // ---------------------------------------------------------------- numeric (no immediates)

  i32Eqz(): void { this.body.u8(Op.I32Eqz); }
  i32Eq(): void { this.body.u8(Op.I32Eq); }
  i32Ne(): void { this.body.u8(Op.I32Ne); }
  i32LtS(): void { this.body.u8(Op.I32LtS); }
  i32LtU(): void { this.body.u8(Op.I32LtU); }
  i32GtS(): void { this.body.u8(Op.I32GtS); }
  i32GtU(): void { this.body.u8(Op.I32GtU); }
  i32LeS(): void { this.body.u8(Op.I32LeS); }
  i32LeU(): void { this.body.u8(Op.I32LeU); }
  i32GeS(): void { this.body.u8(Op.I32GeS); }
  i32GeU(): void { this.body.u8(Op.I32GeU); }

  i64Eqz(): void { this.body.u8(Op.I64Eqz); }
  i64Eq(): void { this.body.u8(Op.I64Eq); }
  i64Ne(): void { this.body.u8(Op.I64Ne); }
  i64LtS(): void { this.body.u8(Op.I64LtS); }
  i64LtU(): void { this.body.u8(Op.I64LtU); }
  i64GtS(): void { this.body.u8(Op.I64GtS); }
  i64GtU(): void { this.body.u8(Op.I64GtU); }
  i64LeS(): void { this.body.u8(Op.I64LeS); }
  i64LeU(): void { this.body.u8(Op.I64LeU); }
  i64GeS(): void { this.body.u8(Op.I64GeS); }
  i64GeU(): void { this.body.u8(Op.I64GeU); }

  f64Eq(): void { this.body.u8(Op.F64Eq); }
  f64Ne(): void { this.body.u8(Op.F64Ne); }
  f64Lt(): void { this.body.u8(Op.F64Lt); }
  f64Gt(): void { this.body.u8(Op.F64Gt); }
  f64Le(): void { this.body.u8(Op.F64Le); }
  f64Ge(): void { this.body.u8(Op.F64Ge); }

  i32Clz(): void { this.body.u8(Op.I32Clz); }
  i32Ctz(): void { this.body.u8(Op.I32Ctz); }
  i32Popcnt(): void { this.body.u8(Op.I32Popcnt); }
  i32Add(): void { this.body.u8(Op.I32Add); }
  i32Sub(): void { this.body.u8(Op.I32Sub); }
  i32Mul(): void { this.body.u8(Op.I32Mul); }
  i32DivS(): void { this.body.u8(Op.I32DivS); }
  i32DivU(): void { this.body.u8(Op.I32DivU); }
  i32RemS(): void { this.body.u8(Op.I32RemS); }
  i32RemU(): void { this.body.u8(Op.I32RemU); }
  i32And(): void { this.body.u8(Op.I32And); }
  i32Or(): void { this.body.u8(Op.I32Or); }
  i32Xor(): void { this.body.u8(Op.I32Xor); }
  i32Shl(): void { this.body.u8(Op.I32Shl); }
  i32ShrS(): void { this.body.u8(Op.I32ShrS); }
  i32ShrU(): void { this.body.u8(Op.I32ShrU); }
  i32Rotl(): void { this.body.u8(Op.I32Rotl); }
  i32Rotr(): void { this.body.u8(Op.I32Rotr); }

  i64Clz(): void { this.body.u8(Op.I64Clz); }
  i64Ctz(): void { this.body.u8(Op.I64Ctz); }
  i64Popcnt(): void { this.body.u8(Op.I64Popcnt); }
  i64Add(): void { this.body.u8(Op.I64Add); }
  i64Sub(): void { this.body.u8(Op.I64Sub); }
  i64Mul(): void { this.body.u8(Op.I64Mul); }
  i64DivS(): void { this.body.u8(Op.I64DivS); }
  i64DivU(): void { this.body.u8(Op.I64DivU); }
  i64RemS(): void { this.body.u8(Op.I64RemS); }
  i64RemU(): void { this.body.u8(Op.I64RemU); }
  i64And(): void { this.body.u8(Op.I64And); }
  i64Or(): void { this.body.u8(Op.I64Or); }
  i64Xor(): void { this.body.u8(Op.I64Xor); }
  i64Shl(): void { this.body.u8(Op.I64Shl); }
  i64ShrS(): void { this.body.u8(Op.I64ShrS); }
  i64ShrU(): void { this.body.u8(Op.I64ShrU); }
  i64Rotl(): void { this.body.u8(Op.I64Rotl); }
  i64Rotr(): void { this.body.u8(Op.I64Rotr); }

  f64Abs(): void { this.body.u8(Op.F64Abs); }
  f64Neg(): void { this.body.u8(Op.F64Neg); }
  f64Ceil(): void { this.body.u8(Op.F64Ceil); }
  f64Floor(): void { this.body.u8(Op.F64Floor); }
  f64Trunc(): void { this.body.u8(Op.F64Trunc); }
  f64Nearest(): void { this.body.u8(Op.F64Nearest); }
  f64Sqrt(): void { this.body.u8(Op.F64Sqrt); }
  f64Add(): void { this.body.u8(Op.F64Add); }
  f64Sub(): void { this.body.u8(Op.F64Sub); }
  f64Mul(): void { this.body.u8(Op.F64Mul); }
  f64Div(): void { this.body.u8(Op.F64Div); }
  f64Min(): void { this.body.u8(Op.F64Min); }
  f64Max(): void { this.body.u8(Op.F64Max); }
  f64Copysign(): void { this.body.u8(Op.F64Copysign); }

  i32WrapI64(): void { this.body.u8(Op.I32WrapI64); }
  i32TruncF64S(): void { this.body.u8(Op.I32TruncF64S); }
  i32TruncF64U(): void { this.body.u8(Op.I32TruncF64U); }
  i64ExtendI32S(): void { this.body.u8(Op.I64ExtendI32S); }
  i64ExtendI32U(): void { this.body.u8(Op.I64ExtendI32U); }
  i64TruncF64S(): void { this.body.u8(Op.I64TruncF64S); }
  i64TruncF64U(): void { this.body.u8(Op.I64TruncF64U); }
  f64ConvertI32S(): void { this.body.u8(Op.F64ConvertI32S); }
  f64ConvertI32U(): void { this.body.u8(Op.F64ConvertI32U); }
  f64ConvertI64S(): void { this.body.u8(Op.F64ConvertI64S); }
  f64ConvertI64U(): void { this.body.u8(Op.F64ConvertI64U); }
  i64ReinterpretF64(): void { this.body.u8(Op.I64ReinterpretF64); }
  f64ReinterpretI64(): void { this.body.u8(Op.F64ReinterpretI64); }

  i32Extend8S(): void { this.body.u8(Op.I32Extend8S); }
  i32Extend16S(): void { this.body.u8(Op.I32Extend16S); }
  i64Extend8S(): void { this.body.u8(Op.I64Extend8S); }
  i64Extend16S(): void { this.body.u8(Op.I64Extend16S); }
  i64Extend32S(): void { this.body.u8(Op.I64Extend32S); }

  // ---------------------------------------------------------------- finishing

  /** @internal Check the nesting and append the function's own `end`. */
  finish(): void {
    this.checkOpen();
    const d = this.depth;
    if (d !== 0) {
      this.fail(`${d} block${d === 1 ? '' : 's'} still open at the end of the function (innermost: ${KIND_NAMES[this.ctlKind[d]]} opened at body offset ${this.ctlAt[d]})`);
    }
    this.body.u8(Ctl.End);
    this.finished = true;
  }
}

