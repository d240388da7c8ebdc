/**
 * The region dispatcher: a wasm module that runs compiled regions one after another without
 * returning to JavaScript. Every region module's `run` sits in one funcref table (its slot
 * is the region's); the JIT core mirrors the compiled blocks it looks up into a cache in the
 * state block (CPU_STATE.DISPATCH32 / DISPATCH64: address, mode key or RIP's high half, the
 * page's TLB bits, the table slot). The dispatcher looks the next address up there,
 * checks the page's TLB entry as the JavaScript loop does, and calls the region through the
 * table. It returns to the JavaScript loop on a miss, when a helper set STOP (an interrupt
 * became deliverable, the run loop asked to stop, the mode, CPL, TF or an interrupt shadow
 * changed: scalars.ts checkStop), or when the budget is spent. Before each region it
 * stores the instructions run so far at SLICE_N, where helpers find them for the clock.
 */
import { CPU_STATE, DISPATCH_BITS, DISPATCH_ENTRIES } from '../../state-layout.js';
import type { CodeBuilder } from '../wasm/code-builder.js';
import { ModuleBuilder } from '../wasm/module-builder.js';
import { ValType } from '../wasm/opcodes.js';
import type { MemoryShape } from './region-frame.js';
import { defineTlbEntry } from './tlb-lookup.js';

const I = ValType.I32;

/** dispatch32(budget, modeKey, execMask) and dispatch64(budget, execMask): instructions run. */
export interface DispatcherExports {
  dispatch32: (budget: number, modeKey: number, execMask: number) => number;
  dispatch64: (budget: number, execMask: number) => number;
}

/** The dispatcher module's bytes: imports env.mem and env.table (the regions' funcref table). */
export function buildDispatcher(stateBase: number, memory: MemoryShape): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder();
  mb.importMemory('env', 'mem', { min: memory.pages, max: memory.shared ? memory.pages : undefined, shared: memory.shared });
  mb.importTable('env', 'table', { min: 1 });
  const tlbEntry = defineTlbEntry(mb, stateBase);
  const regionType = mb.type([I], [I]);
  const load = (f: CodeBuilder, off: number): void => {
    f.i32Const(0);
    f.i32Load(stateBase + off);
  };
  /** Byte offset of the cache entry for (lo, hi) locals, into local `a`. */
  const slot = (f: CodeBuilder, lo: number, hi: number | null, a: number): void => {
    f.localGet(lo);
    if (hi !== null) {
      f.localGet(hi);
      f.i32Xor();
    }
    f.localTee(a);
    f.localGet(a);
    f.i32Const(DISPATCH_BITS);
    f.i32ShrU();
    f.i32Xor();
    f.i32Const(DISPATCH_ENTRIES - 1);
    f.i32And();
    f.i32Const(4);
    f.i32Shl();
    f.localSet(a);
  };

  const build = (long: boolean): number => {
    const f = mb.func(long ? mb.type([I, I], [I]) : mb.type([I, I, I], [I]));
    const budget = 0;
    const key = long ? -1 : 1;
    const execMask = long ? 1 : 2;
    const n = f.addLocal(I);
    const lo = f.addLocal(I);
    const hi = f.addLocal(I);
    const a = f.addLocal(I);
    const e = f.addLocal(I);
    const base = stateBase + (long ? CPU_STATE.DISPATCH64 : CPU_STATE.DISPATCH32);
    const out = f.block();
    const top = f.loop();
    load(f, CPU_STATE.IP);
    f.localSet(lo);
    if (long) {
      load(f, CPU_STATE.RIP_HI);
      f.localSet(hi);
    }
    slot(f, lo, long ? hi : null, a);
    // The entry is this block, compiled, under this mode (or high half).
    f.localGet(a);
    f.i32Load(base);
    f.localGet(lo);
    f.i32Ne();
    f.localGet(a);
    f.i32Load(base + 4);
    if (long) f.localGet(hi);
    else f.localGet(key);
    f.i32Ne();
    f.i32Or();
    f.localGet(a);
    f.i32Load(base + 12);
    f.i32Eqz();
    f.i32Or();
    f.brIfTo(out);
    // Its page still maps to the same backing page and is executable at this CPL.
    if (long) {
      f.localGet(lo);
      f.localGet(hi);
      f.call(tlbEntry);
    } else {
      f.localGet(lo);
      f.i32Const(12);
      f.i32ShrU();
      f.i32Const(2);
      f.i32Shl();
      f.i32Load(stateBase + CPU_STATE.TLB);
    }
    f.localTee(e);
    f.i32Const(-4096);
    f.i32And();
    f.localGet(a);
    f.i32Load(base + 8);
    f.i32Ne();
    f.localGet(e);
    f.localGet(execMask);
    f.i32And();
    f.i32Eqz();
    f.i32Or();
    f.brIfTo(out);
    f.i32Const(0);
    f.localGet(n);
    f.i32Store(stateBase + CPU_STATE.SLICE_N);
    f.localGet(n);
    f.localGet(lo);
    f.localGet(a);
    f.i32Load(base + 12);
    f.callIndirect(regionType);
    f.i32Add();
    f.localTee(n);
    f.localGet(budget);
    f.i32GeS();
    load(f, CPU_STATE.STOP);
    f.i32Or();
    f.brIfTo(out);
    f.brTo(top);
    f.end(); // loop
    f.end(); // block
    f.localGet(n);
    return f.index;
  };
  mb.exportFunction('dispatch32', build(false));
  mb.exportFunction('dispatch64', build(true));
  return mb.finish();
}
