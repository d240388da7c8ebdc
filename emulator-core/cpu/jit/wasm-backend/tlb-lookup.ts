/**
 * TLB lookups as wasm functions of a module, over the state block's two TLBs: the CPU's
 * 32-bit TLB for linear pages below 4 GiB and the long-mode TLB (long/state.ts Tlb64) above.
 * Used by 64-bit regions (xlate) and by the region dispatcher (tlbEntry).
 */
import { CPU_STATE, TLB64_ENTRIES } from '../../state-layout.js';
import type { ModuleBuilder } from '../wasm/module-builder.js';
import { ValType } from '../wasm/opcodes.js';

const I = ValType.I32;

/** tlbEntry(lo, hi) -> the TLB entry of linear hi:lo's page, or 0 when it is not cached. */
export function defineTlbEntry(mb: ModuleBuilder, stateBase: number): number {
  const x = mb.func(mb.type([I, I], [I]));
  const [lo, hi] = [0, 1];
  const idx = x.addLocal(I);
  x.localGet(hi);
  x.i32Eqz();
  x.if();
  x.localGet(lo);
  x.i32Const(12);
  x.i32ShrU();
  x.i32Const(2);
  x.i32Shl();
  x.i32Load(stateBase + CPU_STATE.TLB);
  x.return();
  x.end();
  // Tlb64.index: ((lo >>> 12) ^ (hi << 4) ^ (hi >>> 8)) & (size - 1), times 4
  x.localGet(lo);
  x.i32Const(12);
  x.i32ShrU();
  x.localGet(hi);
  x.i32Const(4);
  x.i32Shl();
  x.i32Xor();
  x.localGet(hi);
  x.i32Const(8);
  x.i32ShrU();
  x.i32Xor();
  x.i32Const(TLB64_ENTRIES - 1);
  x.i32And();
  x.i32Const(2);
  x.i32Shl();
  x.localTee(idx);
  x.i32Load(stateBase + CPU_STATE.TLB64_PAGE_LO);
  x.localGet(lo);
  x.i32Const(12);
  x.i32ShrU();
  x.i32Ne();
  x.localGet(idx);
  x.i32Load(stateBase + CPU_STATE.TLB64_PAGE_HI);
  x.localGet(hi);
  x.i32Ne();
  x.i32Or();
  x.if();
  x.i32Const(0);
  x.return();
  x.end();
  x.localGet(idx);
  x.i32Load(stateBase + CPU_STATE.TLB64_ENTRY);
  return x.index;
}

/**
 * xlate(lo, hi, mask, lastOffset) -> the backing address of linear hi:lo for a direct
 * access (the entry has a bit of `mask`, the offset in the page is at most lastOffset), or -1.
 */
export function defineXlate(mb: ModuleBuilder, tlbEntry: number): number {
  const x = mb.func(mb.type([I, I, I, I], [I]));
  const [lo, hi, mask, last] = [0, 1, 2, 3];
  const e = x.addLocal(I);
  x.localGet(lo);
  x.localGet(hi);
  x.call(tlbEntry);
  x.localTee(e);
  x.localGet(mask);
  x.i32And();
  x.i32Eqz();
  x.localGet(lo);
  x.i32Const(0xfff);
  x.i32And();
  x.localGet(last);
  x.i32GtU();
  x.i32Or();
  x.if();
  x.i32Const(-1);
  x.return();
  x.end();
  x.localGet(e);
  x.i32Const(-4096);
  x.i32And();
  x.localGet(lo);
  x.i32Const(0xfff);
  x.i32And();
  x.i32Add();
  return x.index;
}
