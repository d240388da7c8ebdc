/**
 * What the running engine's WebAssembly accepts, probed once by validating a tiny module
 * built with our own emitter (never by version numbers).
 *
 * - Tail calls (`return_call`, `return_call_indirect`): on by default since V8 11.2
 *   (Chrome 112), so in Node 20 (V8 11.3) and every Electron since 24. Without them a region
 *   cannot jump into the next one; the JIT must instead return the next region's table slot
 *   to a dispatch loop (a trampoline: one wasm->JS->wasm round trip per region change).
 * - Threads (a shared memory import, atomic loads/stores): needed when the CPU state memory
 *   is a SharedArrayBuffer seen by several workers.
 * - SIMD (v128 locals, loads, stores): for SSE later.
 */
import { ModuleBuilder } from './module-builder.js';
import { ValType } from './opcodes.js';
import { Wasm } from './wasm-api.js';

let tailCalls: boolean | undefined;
let threads: boolean | undefined;
let simd: boolean | undefined;

function validates(build: (mb: ModuleBuilder) => void): boolean {
  const mb = new ModuleBuilder();
  try {
    build(mb);
    return Wasm.validate(mb.finish());
  } catch {
    return false;
  }
}

/** Whether `return_call` and `return_call_indirect` validate. */
export function wasmTailCalls(): boolean {
  tailCalls ??= validates((mb) => {
    const t = mb.type([], [ValType.I32]);
    mb.importTable('env', 'table', { min: 1 });
    const a = mb.func(t);
    a.i32Const(1);
    const b = mb.func(t);
    b.returnCall(a.index);
    const c = mb.func(t);
    c.i32Const(0);
    c.returnCallIndirect(t, 0);
  });
  return tailCalls;
}

/** Whether a shared memory import and atomic accesses validate. */
export function wasmThreads(): boolean {
  threads ??= validates((mb) => {
    const t = mb.type([], [ValType.I32]);
    mb.importMemory('env', 'mem', { min: 1, max: 1, shared: true });
    const f = mb.func(t);
    f.i32Const(0);
    f.i32AtomicLoad(0);
  });
  return threads;
}

/** Whether v128 locals, loads and stores validate. */
export function wasmSimd(): boolean {
  simd ??= validates((mb) => {
    const t = mb.type([], []);
    mb.importMemory('env', 'mem', { min: 1 });
    const f = mb.func(t);
    const v = f.addLocal(ValType.V128);
    f.i32Const(0);
    f.v128Load(0);
    f.localSet(v);
    f.i32Const(16);
    f.localGet(v);
    f.v128Store(0);
  });
  return simd;
}
