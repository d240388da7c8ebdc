/**
 * The frame every compiled region shares, whatever its code size (region-compiler.ts for
 * 16/32-bit code, region-compiler64.ts for 64-bit code): one wasm function `run(pc) ->
 * instructions executed`.
 *
 *   load registers and scalars into locals                      (prologue)
 *   block $exit
 *     loop $top                      ;; pc -> block index (a binary search); unknown pc: exit
 *       loop $go                     ;; br_table over the block index
 *         block $bK-1 .. block $b0  br_table  end $b0  <code of block 0>  end $b1 <code 1> ..
 *   end $exit
 *   write registers and scalars back, ip = exitIp, return n      (epilogue)
 *
 * A static branch to a block of the region sets the block index and continues at $go; any
 * other target (RET, interpreted control transfers) sets pc and continues at $top; every
 * continuation first checks the run limit and the SMC flag. A 64-bit region lies in one
 * 4 KiB page, so its blocks share RIP's high half (`regionHi`); a target with another high
 * half leaves the region.
 */
import type { Region, RegionBlock } from '../backend.js';
import { CPU_STATE } from '../../state-layout.js';
import type { CodeBuilder, Label } from '../wasm/code-builder.js';
import { ModuleBuilder } from '../wasm/module-builder.js';
import { ValType } from '../wasm/opcodes.js';

const I = ValType.I32;

export interface MemoryShape {
  /** 64 KiB pages of cpu.mem.wasm. */
  pages: number;
  shared: boolean;
}

export abstract class RegionFrame {
  protected readonly mb = new ModuleBuilder();
  protected f!: CodeBuilder;

  // locals of the frame
  protected readonly PC = 0;
  protected N = 0;
  protected BLK = 0;
  /** Low half of the exit target (the linear address for 16/32-bit code). */
  protected EXIT = 0;
  /** High half of the exit target (64-bit regions), or -1. */
  protected EXH = -1;

  private exitLabel: Label = 0;
  private topLabel: Label = 0;
  private goLabel: Label = 0;
  protected blockIndex = new Map<number, number>();
  protected runLimit = 0;
  /** RIP's high half throughout a 64-bit region (0 for 16/32-bit code). */
  protected regionHi = 0;

  /** The guest registers' locals (8, or 16 in 64-bit code); the region's code reaches them through rget/rset. */
  protected R: number[] = [];
  /**
   * Registers the region's own code reads or writes (bit n: register n), and those it
   * writes. Only these are loaded at entry and after an interpreted instruction, and only
   * the written ones stored at exits and before helper calls: the others stay in the state
   * block. A first emission of the region finds them (`seen*`), the second uses them.
   */
  protected usedRegs = -1;
  protected writtenRegs = -1;
  private seenUsed = 0;
  private seenWritten = 0;

  constructor(
    /** Backing offset of the CPU's state block. */
    protected readonly stateBase: number,
    protected readonly memory: MemoryShape,
  ) {}

  /** A new module importing the guest memory (env.mem); the caller imports its helpers next. */
  protected beginModule(region: Region): void {
    const mb = this.mb;
    mb.reset();
    this.runLimit = region.runLimit;
    this.regionHi = region.hi ?? 0;
    mb.importMemory('env', 'mem', { min: this.memory.pages, max: this.memory.shared ? this.memory.pages : undefined, shared: this.memory.shared });
  }

  /** The function `run(pc) -> i32`, with the frame's own locals declared. */
  protected beginFunction(region: Region, wide: boolean): CodeBuilder {
    const f = (this.f = this.mb.func(this.mb.type([I], [I])));
    this.N = f.addLocal(I);
    this.BLK = f.addLocal(I);
    this.EXIT = f.addLocal(I);
    this.EXH = wide ? f.addLocal(I) : -1;
    this.blockIndex = new Map(region.blocks.map((b, i) => [b.start, i]));
    return f;
  }

  /** Emit the region twice: first to learn which registers its code touches, then for real. */
  protected twoPass(emit: () => Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
    this.usedRegs = this.writtenRegs = -1;
    this.seenUsed = this.seenWritten = 0;
    emit();
    this.usedRegs = this.seenUsed;
    this.writtenRegs = this.seenWritten;
    this.seenUsed = this.seenWritten = 0;
    return emit();
  }

  /** local.get of register n. */
  protected rget(n: number): void {
    this.seenUsed |= 1 << n;
    this.f.localGet(this.R[n]);
  }

  /** local.set of register n. */
  protected rset(n: number): void {
    this.seenUsed |= 1 << n;
    this.seenWritten |= 1 << n;
    this.f.localSet(this.R[n]);
  }

  protected regUsed(n: number): boolean {
    return (this.usedRegs & (1 << n)) !== 0;
  }

  protected regWritten(n: number): boolean {
    return (this.writtenRegs & (1 << n)) !== 0;
  }

  /** Registers and scalars into locals. */
  protected abstract prologue(): void;
  /** Locals back into the state block (everything but IP). */
  protected abstract storeAll(): void;
  protected abstract emitBlock(b: RegionBlock): void;

  protected emitFunction(region: Region): Uint8Array<ArrayBuffer> {
    const f = this.f;
    this.prologue();
    f.i32Const(0);
    f.localSet(this.N);
    this.exitLabel = f.block();
    this.topLabel = f.loop();
    const dispatch = f.block();
    // pc -> block index: a binary search over the sorted block starts.
    const starts = [...this.blockIndex.keys()].sort((x, y) => (x >>> 0) - (y >>> 0));
    const search = (lo: number, hi: number): void => {
      if (hi - lo < 4) {
        for (let k = lo; k <= hi; k++) {
          f.localGet(this.PC);
          f.i32Const(starts[k]);
          f.i32Eq();
          f.if();
          f.i32Const(this.blockIndex.get(starts[k])!);
          f.localSet(this.BLK);
          f.brTo(dispatch);
          f.end();
        }
        return;
      }
      const mid = (lo + hi + 1) >> 1;
      f.localGet(this.PC);
      f.i32Const(starts[mid]);
      f.i32LtU();
      f.if();
      search(lo, mid - 1);
      f.else();
      search(mid, hi);
      f.end();
    };
    search(0, starts.length - 1);
    f.localGet(this.PC);
    f.localSet(this.EXIT);
    this.setExitHi(null);
    f.brTo(this.exitLabel);
    f.end(); // dispatch: BLK is set
    this.goLabel = f.loop();
    const k = region.blocks.length;
    for (let i = k - 1; i >= 0; i--) f.block();
    f.localGet(this.BLK);
    f.brTable(
      Array.from({ length: k }, (_, i) => i),
      k - 1,
    );
    for (let i = 0; i < k; i++) {
      f.end(); // $b_i
      this.emitBlock(region.blocks[i]);
    }
    f.end(); // $go
    f.end(); // $top
    f.end(); // $exit
    this.storeAll();
    f.i32Const(0);
    f.localGet(this.EXIT);
    f.i32Store(this.stateBase + CPU_STATE.IP);
    if (this.EXH >= 0) {
      f.i32Const(0);
      f.localGet(this.EXH);
      f.i32Store(this.stateBase + CPU_STATE.RIP_HI);
    }
    f.localGet(this.N);
    this.mb.exportFunction('run', f.index);
    return this.mb.finish();
  }

  // ------------------------------------------------------------ state block

  protected stateLoad(off: number): void {
    this.f.i32Const(0);
    this.f.i32Load(this.stateBase + off);
  }

  /** Store local `l` at state offset `off`. */
  protected stateStore(off: number, l: number): void {
    this.f.i32Const(0);
    this.f.localGet(l);
    this.f.i32Store(this.stateBase + off);
  }

  // ------------------------------------------------------------ exits

  /** EXH = the high half `pushHi` pushes, or the region's (64-bit regions only). */
  private setExitHi(pushHi: (() => void) | null): void {
    if (this.EXH < 0) return;
    if (pushHi === null) this.f.i32Const(this.regionHi);
    else pushHi();
    this.f.localSet(this.EXH);
  }

  /** N += count: instructions run so far in this call. */
  protected addCount(count: number): void {
    const f = this.f;
    f.localGet(this.N);
    f.i32Const(count);
    f.i32Add();
    f.localSet(this.N);
  }

  /**
   * Leave (or continue in the region) at a known target after `count` instructions of this
   * block. `targetHi` is its high half in 64-bit code (another high half than the region's
   * always leaves).
   */
  protected exitStatic(target: number, count: number, targetHi = this.regionHi): void {
    const f = this.f;
    this.addCount(count);
    f.i32Const(target);
    f.localSet(this.EXIT);
    this.setExitHi(() => f.i32Const(targetHi));
    const j = targetHi === this.regionHi ? this.blockIndex.get(target | 0) : undefined;
    if (j === undefined) {
      f.brTo(this.exitLabel);
      return;
    }
    this.limitCheck();
    f.i32Const(j);
    f.localSet(this.BLK);
    f.brTo(this.goLabel);
  }

  /** Continue at the target in EXIT (and EXH; set by the caller) after `count` instructions. */
  protected exitDynamic(count: number): void {
    const f = this.f;
    this.addCount(count);
    this.limitCheck();
    if (this.EXH >= 0) {
      f.localGet(this.EXH);
      f.i32Const(this.regionHi);
      f.i32Ne();
      f.brIfTo(this.exitLabel);
    }
    f.localGet(this.EXIT);
    f.localSet(this.PC);
    f.brTo(this.topLabel);
  }

  /** Leave through $exit (EXIT holds the target) when the run limit is reached or code was invalidated. */
  private limitCheck(): void {
    const f = this.f;
    f.localGet(this.N);
    f.i32Const(this.runLimit);
    f.i32GeS();
    this.stateLoad(CPU_STATE.SMC);
    f.i32Or();
    f.if();
    f.i32Const(0);
    f.i32Const(0);
    f.i32Store(this.stateBase + CPU_STATE.SMC);
    f.brTo(this.exitLabel);
    f.end();
  }

  /** After an instruction that may have written over compiled code: leave at `next` if it did. */
  protected smcCheck(next: number, count: number, nextHi = this.regionHi): void {
    this.leaveIfSmc(
      count,
      () => this.f.i32Const(next),
      () => this.f.i32Const(nextHi),
    );
  }

  /**
   * If SMC is set: clear it, count `count` instructions and leave through $exit to the
   * target `pushTarget` (and `pushHi`) push.
   */
  protected leaveIfSmc(count: number, pushTarget: () => void, pushHi: (() => void) | null = null): void {
    const f = this.f;
    this.stateLoad(CPU_STATE.SMC);
    f.if();
    f.i32Const(0);
    f.i32Const(0);
    f.i32Store(this.stateBase + CPU_STATE.SMC);
    this.leave(count, pushTarget, pushHi);
    f.end();
  }

  /** Count `count` more instructions and leave through $exit to the target `pushTarget` (and `pushHi`) push. */
  protected leave(count: number, pushTarget: () => void, pushHi: (() => void) | null = null): void {
    const f = this.f;
    this.addCount(count);
    pushTarget();
    f.localSet(this.EXIT);
    this.setExitHi(pushHi);
    f.brTo(this.exitLabel);
  }
}
