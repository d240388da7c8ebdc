/**
 * One wasm module: function types (deduplicated), imports (functions, one memory, tables,
 * globals), defined functions (each a CodeBuilder), exports and active element segments;
 * `finish()` lays out the sections and returns the bytes for `new WebAssembly.Module`.
 *
 * A builder is meant to be reused: `reset()` forgets the module but keeps every buffer and
 * CodeBuilder, so compiling region after region allocates almost nothing.
 *
 *   const mb = new ModuleBuilder();
 *   const sig = mb.type([ValType.I32], [ValType.I32]);
 *   mb.importMemory('env', 'mem', { min: 256, max: 256, shared: true });
 *   const f = mb.func(sig);
 *   f.localGet(0); f.i32Load(OFFSET_EAX); ...
 *   mb.exportFunction('run', f.index);
 *   const module = new WebAssembly.Module(mb.finish());
 *
 * Function imports come first in the function index space, so they must all be declared
 * before the first `func()`.
 */
import { ByteBuffer } from './byte-buffer.js';
import { CodeBuilder, WasmEmitError } from './code-builder.js';
import { ExternalKind, type RefType, Section, ValType } from './opcodes.js';

export interface Limits {
  /** Initial size: 64 KiB pages for a memory, elements for a table. */
  min: number;
  max?: number;
}

export interface MemoryLimits extends Limits {
  /** A shared memory (SharedArrayBuffer; needs `max`). */
  shared?: boolean;
}

export interface TableLimits extends Limits {
  /** Element type; funcref unless stated. */
  elem?: RefType;
}

/** Largest memory of the 32-bit wasm address space, in 64 KiB pages. */
const MAX_PAGES = 65536;
const WASM_MAGIC = 0x6d736100;
const WASM_VERSION = 1;

export class ModuleBuilder {
  private readonly out = new ByteBuffer(16384);

  // Function types: the encoded entries back to back, with their bounds and parameter lists.
  private readonly typeBytes = new ByteBuffer(256);
  private typeStart: number[] = [];
  private typeParams: (readonly ValType[])[] = [];
  private nTypes = 0;

  private readonly importBytes = new ByteBuffer(256);
  private nImports = 0;
  private nFuncImports = 0;
  private nTables = 0;
  private nMemories = 0;
  private nGlobals = 0;

  private funcs: CodeBuilder[] = [];
  private nFuncs = 0;

  private exportNames: string[] = [];
  private exportKinds: number[] = [];
  private exportIndices: number[] = [];
  private nExports = 0;

  private readonly elemBytes = new ByteBuffer(256);
  private nElems = 0;
  private elemMaxFunc = -1;
  private elemMaxTable = -1;
  private elemMaxGlobal = -1;

  private finished = false;

  /** Forget the module being built; keep all storage. */
  reset(): void {
    this.out.reset();
    this.typeBytes.reset();
    this.nTypes = 0;
    this.importBytes.reset();
    this.nImports = 0;
    this.nFuncImports = 0;
    this.nTables = 0;
    this.nMemories = 0;
    this.nGlobals = 0;
    this.nFuncs = 0;
    this.nExports = 0;
    this.elemBytes.reset();
    this.nElems = 0;
    this.elemMaxFunc = -1;
    this.elemMaxTable = -1;
    this.elemMaxGlobal = -1;
    this.finished = false;
  }

  private fail(msg: string): never {
    throw new WasmEmitError(`wasm emitter: ${msg}`);
  }

  private checkOpen(): void {
    if (this.finished) this.fail('the module is already finished (reset() starts the next one)');
  }

  get typeCount(): number {
    return this.nTypes;
  }

  /** Number of functions, imported and defined. */
  get funcCount(): number {
    return this.nFuncImports + this.nFuncs;
  }

  get tableCount(): number {
    return this.nTables;
  }

  get globalCount(): number {
    return this.nGlobals;
  }

  // ---------------------------------------------------------------- types

  /** The index of the function type params -> results, added unless an equal one exists. */
  type(params: readonly ValType[], results: readonly ValType[]): number {
    this.checkOpen();
    const b = this.typeBytes;
    const start = b.pos;
    b.u8(0x60);
    b.uleb32(params.length);
    for (let i = 0; i < params.length; i++) b.u8(params[i]);
    b.uleb32(results.length);
    for (let i = 0; i < results.length; i++) b.u8(results[i]);
    const len = b.pos - start;
    const d = b.bytes;
    for (let t = 0; t < this.nTypes; t++) {
      const s = this.typeStart[t];
      const e = t + 1 < this.nTypes ? this.typeStart[t + 1] : start;
      if (e - s !== len) continue;
      let k = 0;
      while (k < len && d[s + k] === d[start + k]) k++;
      if (k === len) {
        b.pos = start;
        return t;
      }
    }
    this.typeStart[this.nTypes] = start;
    this.typeParams[this.nTypes] = params.slice();
    return this.nTypes++;
  }

  private checkType(t: number, what: string): void {
    if (t >>> 0 !== t || t >= this.nTypes) this.fail(`${what}: type ${t} is not declared (${this.nTypes} types)`);
  }

  // ---------------------------------------------------------------- imports

  /** Import a function; returns its function index. All function imports precede `func()`. */
  importFunction(module: string, name: string, typeIndex: number): number {
    this.checkOpen();
    if (this.nFuncs !== 0) {
      this.fail(`import of function ${module}.${name} after ${this.nFuncs} defined function(s): function imports come first in the index space, declare them before func()`);
    }
    this.checkType(typeIndex, `import ${module}.${name}`);
    const b = this.importBytes;
    b.name(module);
    b.name(name);
    b.u8(ExternalKind.Func);
    b.uleb32(typeIndex);
    this.nImports++;
    return this.nFuncImports++;
  }

  /** Import a memory (index 0; one per module). */
  importMemory(module: string, name: string, limits: MemoryLimits): number {
    this.checkOpen();
    if (this.nMemories !== 0) this.fail(`import of memory ${module}.${name}: the module already has a memory`);
    const { min, max, shared = false } = limits;
    if (min >>> 0 !== min || min > MAX_PAGES) this.fail(`memory ${module}.${name}: min ${min} pages is out of range 0..${MAX_PAGES}`);
    if (max !== undefined && (max >>> 0 !== max || max > MAX_PAGES || max < min)) {
      this.fail(`memory ${module}.${name}: max ${max} pages is out of range ${min}..${MAX_PAGES}`);
    }
    if (shared && max === undefined) this.fail(`memory ${module}.${name}: a shared memory needs a max`);
    const b = this.importBytes;
    b.name(module);
    b.name(name);
    b.u8(ExternalKind.Memory);
    this.limits(b, min, max, shared);
    this.nImports++;
    return this.nMemories++;
  }

  /** Import a table; returns its table index. */
  importTable(module: string, name: string, limits: TableLimits): number {
    this.checkOpen();
    const { min, max, elem = ValType.FuncRef } = limits;
    if (min >>> 0 !== min) this.fail(`table ${module}.${name}: bad min ${min}`);
    if (max !== undefined && (max >>> 0 !== max || max < min)) this.fail(`table ${module}.${name}: bad max ${max}`);
    const b = this.importBytes;
    b.name(module);
    b.name(name);
    b.u8(ExternalKind.Table);
    b.u8(elem);
    this.limits(b, min, max, false);
    this.nImports++;
    return this.nTables++;
  }

  /** Import a global; returns its global index. */
  importGlobal(module: string, name: string, type: ValType, mutable: boolean): number {
    this.checkOpen();
    const b = this.importBytes;
    b.name(module);
    b.name(name);
    b.u8(ExternalKind.Global);
    b.u8x2(type, mutable ? 1 : 0);
    this.nImports++;
    return this.nGlobals++;
  }

  private limits(b: ByteBuffer, min: number, max: number | undefined, shared: boolean): void {
    b.u8((max !== undefined ? 1 : 0) | (shared ? 2 : 0));
    b.uleb32(min);
    if (max !== undefined) b.uleb32(max);
  }

  // ---------------------------------------------------------------- functions

  /** Define a function of type `typeIndex`; emit its locals and code into the returned builder. */
  func(typeIndex: number): CodeBuilder {
    this.checkOpen();
    this.checkType(typeIndex, 'func()');
    let cb = this.funcs[this.nFuncs];
    if (cb === undefined) {
      cb = new CodeBuilder();
      this.funcs[this.nFuncs] = cb;
    }
    cb.start(this.nFuncImports + this.nFuncs, typeIndex, this.typeParams[typeIndex]);
    this.nFuncs++;
    return cb;
  }

  // ---------------------------------------------------------------- exports, elements

  export(name: string, kind: ExternalKind, index: number): void {
    this.checkOpen();
    const n = this.nExports++;
    this.exportNames[n] = name;
    this.exportKinds[n] = kind;
    this.exportIndices[n] = index;
  }

  exportFunction(name: string, funcIndex: number): void {
    this.export(name, ExternalKind.Func, funcIndex);
  }

  /**
   * An active element segment: at instantiation, table[offset + i] = funcs[i]. The offset is
   * a constant here; `elementAtGlobal` takes it from an imported i32 global instead (one
   * compiled module instantiated into different slots).
   */
  element(funcs: ArrayLike<number>, offset = 0, table = 0): void {
    this.checkOpen();
    if (offset >>> 0 !== offset) this.fail(`element segment offset ${offset} is not a uint32`);
    this.elemHeader(table);
    this.elemBytes.u8(0x41); // i32.const
    this.elemBytes.sleb32(offset);
    this.elemTail(funcs, table);
  }

  elementAtGlobal(funcs: ArrayLike<number>, global: number, table = 0): void {
    this.checkOpen();
    if (global > this.elemMaxGlobal) this.elemMaxGlobal = global;
    this.elemHeader(table);
    this.elemBytes.u8(0x23); // global.get
    this.elemBytes.uleb32(global);
    this.elemTail(funcs, table);
  }

  private elemHeader(table: number): void {
    if (table >>> 0 !== table) this.fail(`bad table index ${table}`);
    if (table > this.elemMaxTable) this.elemMaxTable = table;
    const b = this.elemBytes;
    if (table === 0) {
      b.u8(0x00); // active, table 0, funcref, function indices
    } else {
      b.u8(0x02); // active, explicit table, element kind, function indices
      b.uleb32(table);
    }
  }

  private elemTail(funcs: ArrayLike<number>, table: number): void {
    const b = this.elemBytes;
    b.u8(0x0b); // end of the offset expression
    if (table !== 0) b.u8(0x00); // elemkind funcref
    b.uleb32(funcs.length);
    for (let i = 0; i < funcs.length; i++) {
      const f = funcs[i];
      if (f >>> 0 !== f) this.fail(`element segment: bad function index ${f}`);
      if (f > this.elemMaxFunc) this.elemMaxFunc = f;
      b.uleb32(f);
    }
    this.nElems++;
  }

  // ---------------------------------------------------------------- finishing

  private checkReferences(): void {
    const nf = this.funcCount;
    for (let i = 0; i < this.nFuncs; i++) {
      const cb = this.funcs[i];
      const where = `function ${cb.index}`;
      if (cb.maxTypeUsed >= this.nTypes) this.fail(`${where} uses type ${cb.maxTypeUsed} in call_indirect, but the module has ${this.nTypes} types`);
      if (cb.maxFuncUsed >= nf) this.fail(`${where} calls function ${cb.maxFuncUsed}, but the module has ${nf} functions`);
      if (cb.maxTableUsed >= this.nTables) this.fail(`${where} uses table ${cb.maxTableUsed}, but the module has ${this.nTables} tables`);
      if (cb.maxGlobalUsed >= this.nGlobals) this.fail(`${where} uses global ${cb.maxGlobalUsed}, but the module has ${this.nGlobals} globals`);
      if (cb.usesMemory && this.nMemories === 0) this.fail(`${where} accesses memory, but the module has no memory`);
    }
    if (this.elemMaxFunc >= nf) this.fail(`element segment names function ${this.elemMaxFunc}, but the module has ${nf} functions`);
    if (this.elemMaxTable >= this.nTables) this.fail(`element segment targets table ${this.elemMaxTable}, but the module has ${this.nTables} tables`);
    if (this.elemMaxGlobal >= this.nGlobals) this.fail(`element segment offset reads global ${this.elemMaxGlobal}, but the module has ${this.nGlobals} globals`);
    const counts = [nf, this.nTables, this.nMemories, this.nGlobals];
    const kinds = ['function', 'table', 'memory', 'global'];
    for (let i = 0; i < this.nExports; i++) {
      const k = this.exportKinds[i];
      const idx = this.exportIndices[i];
      if (idx >>> 0 !== idx || idx >= counts[k]) this.fail(`export "${this.exportNames[i]}" names ${kinds[k]} ${idx}, but the module has ${counts[k]}`);
      for (let j = 0; j < i; j++) if (this.exportNames[j] === this.exportNames[i]) this.fail(`export name "${this.exportNames[i]}" is used twice`);
    }
  }

  /**
   * Lay out the module. Returns a view of the builder's own storage, valid until `reset()`:
   * `new WebAssembly.Module()` and `WebAssembly.compile()` copy it at once; keep it longer
   * only as a `slice()`.
   */
  finish(): Uint8Array<ArrayBuffer> {
    this.checkOpen();
    for (let i = 0; i < this.nFuncs; i++) this.funcs[i].finish();
    this.checkReferences();
    this.finished = true;

    const o = this.out;
    o.reset();
    o.u32le(WASM_MAGIC);
    o.u32le(WASM_VERSION);
    let m: number;

    if (this.nTypes !== 0) {
      m = o.beginSection(Section.Type);
      o.uleb32(this.nTypes);
      o.append(this.typeBytes.bytes, 0, this.typeBytes.pos);
      o.endSection(m);
    }
    if (this.nImports !== 0) {
      m = o.beginSection(Section.Import);
      o.uleb32(this.nImports);
      o.append(this.importBytes.bytes, 0, this.importBytes.pos);
      o.endSection(m);
    }
    if (this.nFuncs !== 0) {
      m = o.beginSection(Section.Function);
      o.uleb32(this.nFuncs);
      for (let i = 0; i < this.nFuncs; i++) o.uleb32(this.funcs[i].typeIndex);
      o.endSection(m);
    }
    if (this.nExports !== 0) {
      m = o.beginSection(Section.Export);
      o.uleb32(this.nExports);
      for (let i = 0; i < this.nExports; i++) {
        o.name(this.exportNames[i]);
        o.u8(this.exportKinds[i]);
        o.uleb32(this.exportIndices[i]);
      }
      o.endSection(m);
    }
    if (this.nElems !== 0) {
      m = o.beginSection(Section.Element);
      o.uleb32(this.nElems);
      o.append(this.elemBytes.bytes, 0, this.elemBytes.pos);
      o.endSection(m);
    }
    if (this.nFuncs !== 0) {
      m = o.beginSection(Section.Code);
      o.uleb32(this.nFuncs);
      for (let i = 0; i < this.nFuncs; i++) {
        const cb = this.funcs[i];
        const f = o.beginSized();
        cb.writeLocals(o);
        o.append(cb.body.bytes, 0, cb.body.pos);
        o.endSized(f);
      }
      o.endSection(m);
    }
    return o.view();
  }
}
