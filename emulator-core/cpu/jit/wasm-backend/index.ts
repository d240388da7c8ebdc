/**
 * The WebAssembly JIT backend: a region becomes one wasm function in a module of its own,
 * importing the guest's WebAssembly.Memory (guest RAM, the register file and the TLB) and
 * the helpers of helpers.ts. The returned RegionFn copies the Cpu's scalar fields into the
 * state block's scalar area, runs the function and copies them back. When a helper throws
 * (a guest fault), the Cpu already holds the faulting instruction's state: the helper
 * copied it in before the call, and nothing copies it back over.
 */
import type { Cpu } from '../../cpu.js';
import type { DecodedInsn } from '../../decoder/decoded-insn.js';
import type { JitBackend, Region, RegionFn } from '../backend.js';
import { Wasm, type WasmModule } from '../wasm/wasm-api.js';
import { endsBlock } from './classify.js';
import { buildDispatcher, type DispatcherExports } from './dispatcher.js';
import { makeHelpers } from './helpers.js';
import { makeHelpers64 } from './helpers64.js';
import { RegionCompiler } from './region-compiler.js';
import { RegionCompiler64 } from './region-compiler64.js';
import { ScalarArea } from './scalars.js';

export interface WasmBackendStats {
  /** Modules compiled and their total size in bytes. */
  modules: number;
  bytes: number;
}

/** Live regions (modules) in the process before the JIT flushes its cache; see WasmBackend.live. */
export const MAX_LIVE_REGIONS = 8000;

export class WasmBackend implements JitBackend {
  readonly name = 'wasm' as const;
  readonly stats: WasmBackendStats = { modules: 0, bytes: 0 };
  private readonly area: ScalarArea;
  private readonly compiler: RegionCompiler;
  private readonly compiler64: RegionCompiler64;
  private readonly imports: { env: { mem: unknown }; h: Record<string, unknown> };
  private readonly imports64: { env: { mem: unknown }; h: Record<string, unknown> };
  /** Every region's `run`, at its slot (0 stays empty); the dispatcher calls through it. */
  private readonly table = new Wasm.Table({ element: 'anyfunc', initial: 1024 });
  private nextSlot = 1;
  private freeSlots: number[] = [];
  /**
   * Regions instantiated and not yet released, in the whole process. Every region is a
   * module of its own, and V8 maps code space for each: at about 20,000 live modules a
   * Debian system boot ran out of mappings (vm.max_map_count) and V8 aborted the process.
   * The JIT flushes its cache before compiling past MAX_LIVE_REGIONS.
   */
  private static live = 0;
  private readonly dispatcher: DispatcherExports;

  constructor(cpu: Cpu) {
    this.area = new ScalarArea(cpu);
    const buffer = cpu.mem.wasm.buffer;
    const shared = typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer;
    const shape = { pages: buffer.byteLength / 65536, shared };
    this.compiler = new RegionCompiler(cpu.stateBase, shape);
    this.compiler64 = new RegionCompiler64(cpu.stateBase, shape);
    this.imports = { env: { mem: cpu.mem.wasm }, h: makeHelpers(cpu, this.area) };
    this.imports64 = { env: { mem: cpu.mem.wasm }, h: makeHelpers64(cpu, this.area) };
    const dispatcher = new Wasm.Instance(new Wasm.Module(buildDispatcher(cpu.stateBase, shape)), { env: { mem: cpu.mem.wasm, table: this.table } });
    this.dispatcher = dispatcher.exports as unknown as DispatcherExports;
  }

  endsBlock(d: DecodedInsn): boolean {
    return endsBlock(d);
  }

  compile(region: Region): RegionFn {
    const bytes = this.emit(region);
    return this.regionFn(new Wasm.Module(bytes), region.hi !== undefined, bytes.length);
  }

  /** The region's module bytes, from the compiler of its code size (a view of that compiler's buffer). */
  private emit(region: Region): Uint8Array<ArrayBuffer> {
    return region.hi !== undefined ? this.compiler64.compile(region) : this.compiler.compile(region);
  }

  /** compile() with the engine's compilation on its background threads (the bytes are emitted now). */
  compileAsync(region: Region): Promise<RegionFn> {
    // A copy: the compiler's buffer is reused by the next region.
    const bytes = this.emit(region).slice();
    return Wasm.compile(bytes).then((module) => this.regionFn(module, region.hi !== undefined, bytes.length));
  }

  private regionFn(module: WasmModule, long: boolean, size: number): RegionFn {
    const instance = new Wasm.Instance(module, long ? this.imports64 : this.imports);
    const run = instance.exports.run as (pc: number) => number;
    const slot = this.freeSlots.pop() ?? this.nextSlot++;
    if (slot >= this.table.length) this.table.grow(this.table.length);
    this.table.set(slot, run);
    WasmBackend.live++;
    this.stats.modules++;
    this.stats.bytes += size;
    const area = this.area;
    return Object.assign(
      (c: Cpu, pc: number): number => {
        area.enter(c);
        const n = run(pc);
        area.fromArea(c);
        return n;
      },
      { slot },
    );
  }

  dispatch(c: Cpu, budget: number, long: boolean): number {
    this.area.enter(c);
    const n = long ? this.dispatcher.dispatch64(budget, c.execMask) : this.dispatcher.dispatch32(budget, c.modeKey, c.execMask);
    this.area.fromArea(c);
    return n;
  }

  forgetSlots(): void {
    for (let slot = 1; slot < this.nextSlot; slot++) this.releaseSlot(slot);
    this.nextSlot = 1;
    this.freeSlots = [];
  }

  releaseSlot(slot: number): void {
    if (this.table.get(slot) === null) return;
    this.table.set(slot, null);
    this.freeSlots.push(slot);
    WasmBackend.live--;
  }

  /** Regions instantiated and not released, in the process (for tests). */
  static get liveRegions(): number {
    return WasmBackend.live;
  }

  full(): boolean {
    return WasmBackend.live >= MAX_LIVE_REGIONS;
  }
}
