/**
 * The block JIT: finds hot basic blocks, compiles them to JavaScript functions and runs
 * them, falling back to the interpreter for cold code. Blocks are looked up by linear
 * address through a direct-mapped cache and checked against the current TLB mapping and
 * CPU mode, so a remapped or mode-changed address never runs stale code. Pages holding
 * compiled code lose direct write access in the TLB; a write to one drops its blocks.
 */
import { faulted64, interpretOne64, runModes, takeInterrupt64 } from '../long/run64.js';
import { step64 } from '../long/exec64.js';
import { physFor64, tlbEntry64 } from '../long/memory.js';
import { appendFileSync } from 'node:fs';
import { ACCESS_EXEC, canTakeInterrupt, type Cpu, FAULT, EXIT_BUDGET, EXIT_HALT, EXIT_REQUESTED, EXIT_SHUTDOWN, shutdown } from '../cpu.js';
import { IF, TF } from '../constants.js';
import { step, stepTraced, takeInterrupt } from '../interpreter.js';
import { CODE_PAGE_JIT } from '../insn-fetch.js';
import { deliverException } from '../protected.js';
import { BlockCompiler, REG_NAMES, RegionRegs, RELOAD, SYNC, type BlockMode } from './codegen.js';
import { BufferReader } from '../decoder/code-reader.js';
import { DecodedInsn, DecodeStatus } from '../decoder/decoded-insn.js';
import { X86Decoder } from '../decoder/decoder.js';
import { helpers } from './runtime.js';
import { CPU_STATE, DISPATCH_ENTRIES, dispatchSlot } from '../state-layout.js';
import { DEFAULT_JIT_OPTIONS, type JitOptions } from '../../machine/options.js';
import { directTargets, type JitBackend, type Region, type RegionBlock, type RegionFn } from './backend.js';
import { WasmBackend } from './wasm-backend/index.js';

// The hot threshold, region size limits, dump file and debug switch are JitOptions
// (machine/options.ts), given to the constructor.
const MAX_BLOCK_INSNS = 64;
const MAX_REGION_INSNS = 1024;
/** Instructions a region may run before returning to the dispatcher (interrupts, timers). */
const REGION_RUN_LIMIT = 4096;
const CACHE_BITS = 16;
const CACHE_MASK = (1 << CACHE_BITS) - 1;
/**
 * Blocks tracked (compiled or counting) before the whole cache is flushed, as QEMU does
 * when its translation buffer fills: a long-running guest must not grow without bound.
 */
const MAX_TRACKED_BLOCKS = 262_144;
/** A page whose code keeps being overwritten stops being compiled. */
const MAX_PAGE_INVALIDATIONS = 64;

/** A compiled region: runs from block `pc` and returns the number of instructions executed. */
type BlockFn = RegionFn;

/** Block.mode of 64-bit code (16/32-bit blocks carry Cpu.modeKey, 0-7). */
const MODE64 = 8;

export class Block {
  fn: BlockFn | null = null;
  count = 0;
  /** Could not be compiled (first instruction undecodable): always interpret. */
  failed = false;
  /**
   * Its first instruction crosses into the next page, which a region (one page) cannot
   * hold: the dispatcher interprets that one instruction and goes on at the next page.
   */
  straddles = false;
  /** Its region is being compiled in the background: interpret meanwhile. */
  pending = false;
  constructor(
    /** Linear address (RIP's low half in 64-bit code). */
    readonly lin: number,
    readonly mode: number,
    /** TLB entry bits of the backing page (entry & ~0xfff). */
    readonly pageBits: number,
    readonly backingPage: number,
    /** RIP's high half (64-bit code), else 0. */
    readonly hi = 0,
  ) {}

  /** Its key in the block maps: the linear address, or RIP as a number for 64-bit code (canonical RIPs fit in 48 bits). */
  get key(): number {
    return this.mode === MODE64 ? key64(this.hi, this.lin) : this.lin;
  }
}

function key64(hi: number, lo: number): number {
  return hi * 4294967296 + (lo >>> 0);
}

export interface JitStats {
  compiled: number;
  invalidations: number;
  /** Whole-cache flushes (too many blocks tracked). */
  flushes: number;
  /** Instructions run by the interpreter (cold or uncompilable code) rather than compiled code. */
  interpreted: number;
  /** Regions the code generator failed on (a generator bug; they are interpreted). */
  compileErrors: number;
}

export class Jit {
  private readonly cache: (Block | undefined)[] = new Array<Block | undefined>(1 << CACHE_BITS).fill(undefined);
  private readonly blocks = new Map<number, Block>();
  /** 64-bit code's blocks, by key64 and by hashSlot(lo ^ hi). */
  private readonly cache64: (Block | undefined)[] = new Array<Block | undefined>(1 << CACHE_BITS).fill(undefined);
  private readonly blocks64 = new Map<number, Block>();
  /** The state block's dispatcher caches (state-layout.ts DISPATCH32/64), mirrored from the blocks run through dispatch(). */
  private readonly dispatch32: Int32Array;
  private readonly dispatch64: Int32Array;
  /** Blocks by backing page, for invalidation. */
  private readonly byPage = new Map<number, Block[]>();
  private readonly invalidationsByPage = new Map<number, number>();
  private readonly insn = Array.from({ length: MAX_BLOCK_INSNS + 1 }, () => new DecodedInsn());
  private readonly decoder = new X86Decoder();
  /** The block lookup() last declined has a page-straddling first instruction: interpret only that one. */
  private single = false;
  readonly stats: JitStats = { compiled: 0, invalidations: 0, flushes: 0, interpreted: 0, compileErrors: 0 };

  /** Executions of a block start before it is compiled. */
  private readonly hotThreshold: number;
  /** A region is the set of blocks of one page reachable by direct branches from a hot block; at most this many. */
  private readonly maxRegionBlocks: number;
  /**
   * Generated source per region, at most: V8 does not optimize functions beyond ~60 KB of
   * bytecode, and an unoptimized region runs several times slower than two small ones.
   */
  private readonly maxRegionSource: number;
  /** Every compiled region's source is appended here (null: not dumped). */
  private readonly dumpFile: string | null;
  /** Report regions that fail to compile, with their source. */
  private readonly debug: boolean;
  /** Compile through the backend's compileAsync where it has one (JitOptions.background). */
  private readonly background: boolean;
  /**
   * Invalidations per backing page and flushes of everything: a region compiled in the
   * background is installed only if neither changed since its page was decoded.
   */
  private readonly pageGeneration = new Map<number, number>();
  private epoch = 0;
  /**
   * The code generator behind the backend interface (backend.ts), or null for the built-in
   * JavaScript generator, whose region discovery is still interleaved with its code generation.
   */
  readonly backend: JitBackend | null;
  /** 64-bit code's generator: the wasm backend whichever generator 16/32-bit code has (the JavaScript one has no 64-bit code). */
  private readonly backend64: JitBackend;

  /** `options.enabled` is the caller's business (no Jit at all); the rest tunes this one. */
  constructor(
    private readonly cpu: Cpu,
    options: Partial<JitOptions> = {},
  ) {
    this.hotThreshold = options.hotThreshold ?? DEFAULT_JIT_OPTIONS.hotThreshold;
    this.maxRegionBlocks = options.regionBlocks ?? DEFAULT_JIT_OPTIONS.regionBlocks;
    this.maxRegionSource = options.regionSource ?? DEFAULT_JIT_OPTIONS.regionSource;
    this.dumpFile = options.dumpFile ?? DEFAULT_JIT_OPTIONS.dumpFile;
    this.debug = options.debug ?? DEFAULT_JIT_OPTIONS.debug;
    this.background = options.background ?? DEFAULT_JIT_OPTIONS.background;
    this.backend = (options.backend ?? DEFAULT_JIT_OPTIONS.backend) === 'wasm' ? new WasmBackend(cpu) : null;
    this.backend64 = this.backend ?? new WasmBackend(cpu);
    const buf = cpu.mem.buffer;
    this.dispatch32 = new Int32Array(buf, cpu.stateBase + CPU_STATE.DISPATCH32, DISPATCH_ENTRIES * 4);
    this.dispatch64 = new Int32Array(buf, cpu.stateBase + CPU_STATE.DISPATCH64, DISPATCH_ENTRIES * 4);
    cpu.onCodeWrite = (page) => this.invalidatePage(page);
  }

  invalidatePage(backingPage: number): void {
    this.cpu.mem.codePages[backingPage] &= ~CODE_PAGE_JIT;
    this.pageGeneration.set(backingPage, (this.pageGeneration.get(backingPage) ?? 0) + 1);
    // A region running on this page leaves at its next internal branch.
    this.cpu.smc = true;
    const list = this.byPage.get(backingPage);
    if (list === undefined) return;
    for (const b of list) {
      const long = b.mode === MODE64;
      const cache = long ? this.cache64 : this.cache;
      const blocks = long ? this.blocks64 : this.blocks;
      const slot = hashSlot(long ? b.lin ^ b.hi : b.lin);
      if (cache[slot] === b) cache[slot] = undefined;
      if (blocks.get(b.key) === b) blocks.delete(b.key);
      this.unmirror(b);
      const tableSlot = b.fn?.slot;
      if (tableSlot !== undefined) (long ? this.backend64 : this.backend)?.releaseSlot?.(tableSlot);
    }
    this.byPage.delete(backingPage);
    this.stats.invalidations++;
    this.invalidationsByPage.set(backingPage, (this.invalidationsByPage.get(backingPage) ?? 0) + 1);
  }

  /** Forget all compiled code (e.g. after a reset or snapshot restore). */
  clear(): void {
    for (const page of this.byPage.keys()) this.cpu.mem.codePages[page] &= ~CODE_PAGE_JIT;
    this.cache.fill(undefined);
    this.blocks.clear();
    this.cache64.fill(undefined);
    this.blocks64.clear();
    this.dispatch32.fill(0);
    this.dispatch64.fill(0);
    this.backend?.forgetSlots?.();
    this.backend64.forgetSlots?.();
    this.byPage.clear();
    this.invalidationsByPage.clear();
    this.epoch++;
    // A region may be running (clear() from a write hook): make it return promptly.
    this.cpu.smc = true;
  }

  /** Find the block starting at the current ip, creating or compiling it; null to interpret. */
  private lookup(c: Cpu): Block | null {
    this.single = false;
    const ip = c.ip;
    let e = c.tlb[ip >>> 12];
    if ((e & c.execMask) === 0) {
      c.instrStart = ip;
      c.physFor(ip, ACCESS_EXEC, c.cpl === 3);
      e = c.tlb[ip >>> 12];
      if ((e & c.execMask) === 0) return null; // executing from MMIO
    }
    const pageBits = e & ~0xfff;
    this.flushIfFull();
    let b = this.blocks.get(ip);
    if (b === undefined || b.mode !== c.modeKey || b.pageBits !== pageBits) {
      b = new Block(ip, c.modeKey, pageBits, pageBits >>> 12);
      this.blocks.set(ip, b);
    }
    if (b.fn !== null) {
      this.cache[hashSlot(ip)] = b;
      return b;
    }
    if (!this.due(b)) return null;
    this.compile(c, b);
    if (b.fn === null) return null;
    this.cache[hashSlot(ip)] = b;
    return b;
  }

  /**
   * Count a run of uncompiled block b; true when it is hot and may be compiled now. Notes
   * for the dispatch loop whether b straddles a page (`single`).
   */
  private due(b: Block): boolean {
    this.single = b.straddles;
    if (b.failed || b.pending || ++b.count < this.hotThreshold) return false;
    if ((this.invalidationsByPage.get(b.backingPage) ?? 0) > MAX_PAGE_INVALIDATIONS) {
      b.failed = true;
      return false;
    }
    return true;
  }

  /** Forget all compiled code because a limit was reached, as QEMU flushes a full translation buffer. */
  private flush(): void {
    this.clear();
    this.stats.flushes++;
  }

  private flushIfFull(): void {
    if (this.blocks.size + this.blocks64.size >= MAX_TRACKED_BLOCKS) this.flush();
  }

  /** lookup() for 64-bit code: blocks by RIP (both halves), pages through either TLB. */
  private lookup64(c: Cpu): Block | null {
    this.single = false;
    const ip = c.ip;
    const hi = c.lm.ripHi;
    let e = tlbEntry64(c, hi, ip);
    if ((e & c.execMask) === 0) {
      c.instrStart = ip;
      c.lm.instrStartHi = hi;
      physFor64(c, hi, ip, ACCESS_EXEC, c.cpl === 3);
      e = tlbEntry64(c, hi, ip);
      if ((e & c.execMask) === 0) return null; // executing from MMIO
    }
    const pageBits = e & ~0xfff;
    this.flushIfFull();
    const key = key64(hi, ip);
    let b = this.blocks64.get(key);
    if (b === undefined || b.pageBits !== pageBits) {
      b = new Block(ip, MODE64, pageBits, pageBits >>> 12, hi);
      this.blocks64.set(key, b);
    }
    if (b.fn === null) {
      if (!this.due(b)) return null;
      this.compileWith(this.backend64, c, b);
      if (b.fn === null) return null;
    }
    this.cache64[hashSlot(ip ^ hi)] = b;
    return b;
  }

  private compile(c: Cpu, b: Block): void {
    if (this.backend !== null) {
      this.compileWith(this.backend, c, b);
      return;
    }
    const mode: BlockMode = { code32: c.code32, ss32: c.ss32, flat: c.flatData };
    const pageBytes = new BufferReader(c.u8);
    const pageStart = b.pageBits >>> 0;
    const linPage = b.lin >>> 12;
    const codes = new Map<number, string>();
    const regs = new RegionRegs();
    const work = [b.lin];
    let insns = 0;
    let source = 0;
    while (work.length > 0 && codes.size < this.maxRegionBlocks && insns < MAX_REGION_INSNS && source < this.maxRegionSource) {
      const start = work.pop()!;
      if (codes.has(start) || start >>> 12 !== linPage) continue;
      const gen = new BlockCompiler(mode, regs);
      let off = pageStart + (start & 0xfff);
      let linAddr = start;
      let n = 0;
      let ended = false;
      while (n < MAX_BLOCK_INSNS) {
        const d = this.insn[n];
        // Stops at the page end, and before an instruction that faults when decoded (#UD, #GP).
        const status = this.decoder.decode(pageBytes.at(off, pageStart + 0x1000), c.code32 ? 32 : 16, d);
        if (status !== DecodeStatus.Ok) {
          if (start === b.lin && n === 0) b.straddles = status === DecodeStatus.Truncated;
          break;
        }
        d.lin = linAddr;
        n++;
        if (gen.emit(d, n) === 'end') {
          ended = true;
          break;
        }
        off += d.len;
        linAddr = (linAddr + d.len) | 0;
      }
      if (n === 0) continue;
      insns += n;
      const code = gen.finish(linAddr, n, ended);
      source += code.length;
      codes.set(start, code);
      for (const t of gen.staticTargets) if (t >>> 12 === linPage && !codes.has(t)) work.push(t);
    }
    if (!codes.has(b.lin)) {
      b.failed = true;
      return;
    }
    const sync = regs.sync();
    const reload = regs.reload();
    const cases: string[] = [];
    for (const [start, code] of codes) {
      const resolved = code
        .replace(/\/\*EXIT:(-?\d+):(\d+)\*\//g, (_m, t: string, k: string) =>
          codes.has(Number(t))
            ? `{ n += ${k}; pc = ${t}; if (n >= ${REGION_RUN_LIMIT} || c.smc) { c.smc = false; ${sync} c.ip = ${t}; return n; } continue; }`
            : `{ ${sync} c.ip = ${t}; return n + ${k}; }`,
        )
        .replace(
          /\/\*DYN:(\d+)\*\//g,
          (_m, k: string) => `{ n += ${k}; pc = c.ip; if (n >= ${REGION_RUN_LIMIT} || c.smc) { c.smc = false; ${sync} return n; } continue; }`,
        )
        .split(SYNC)
        .join(sync)
        .split(RELOAD)
        .join(reload);
      cases.push(`case ${start}: {\n${resolved}\n}`);
    }
    const decl = [...regs.used].map((r) => `${REG_NAMES[r]} = r32[${r}]`).join(', ');
    const body = [
      'const r32 = c.r32, tlb = c.tlb, u8 = c.u8, u16 = c.u16, i32 = c.i32;',
      // CPL (hence the masks) only changes in instructions that end a block.
      'const rm = c.readMask, wm = c.writeMask;',
      decl !== '' ? `let ${decl};` : '',
      'let n = 0, cur = pc, live = true;',
      'try {',
      'for (;;) {',
      'switch (pc) {',
      cases.join('\n'),
      `default: ${sync} c.ip = pc; return n;`,
      '}',
      '}',
      '} catch (e) {',
      // Registers and the faulting instruction, unless the interpreter was running it.
      `if (live) { ${sync} c.instrStart = cur; }`,
      'throw e;',
      '}',
    ].join('\n');
    if (this.dumpFile !== null) appendFileSync(this.dumpFile, `// region ${(b.lin >>> 0).toString(16)}\n${body}\n\n`);
    let fn: BlockFn;
    try {
      const factory = new Function('h', 'step', `return function region(c, pc) {\n${body}\n};`) as (h: typeof helpers, s: typeof step) => BlockFn;
      fn = factory(helpers, step);
    } catch (e) {
      // A code generator bug: keep interpreting rather than crash the guest.
      b.failed = true;
      this.stats.compileErrors++;
      if (this.debug) console.error(`JIT: cannot compile region at ${(b.lin >>> 0).toString(16)}: ${(e as Error).message}\n${body}`);
      return;
    }
    this.install(c, b, fn, codes.keys());
  }

  /** Register a compiled region under each of its block starts; protect its page. */
  private install(c: Cpu, b: Block, fn: BlockFn, starts: Iterable<number>): void {
    this.stats.compiled++;
    let list = this.byPage.get(b.backingPage);
    if (list === undefined) {
      list = [];
      this.byPage.set(b.backingPage, list);
    }
    const long = b.mode === MODE64;
    const blocks = long ? this.blocks64 : this.blocks;
    for (const start of starts) {
      const key = long ? key64(b.hi, start) : start;
      let entry = start === b.lin ? b : blocks.get(key);
      if (entry === undefined || entry.mode !== b.mode || entry.pageBits !== b.pageBits) {
        entry = new Block(start, b.mode, b.pageBits, b.backingPage, b.hi);
        blocks.set(key, entry);
      }
      entry.fn = fn;
      list.push(entry);
    }
    // Every CPU's TLB drops direct-write entries to the page when it first becomes code.
    c.mem.flagCodePage(b.backingPage, CODE_PAGE_JIT);
  }

  /**
   * Region discovery for a backend: the blocks of b's page reachable by direct branches from
   * it, decoded, handed to the backend in one piece.
   */
  private compileWith(backend: JitBackend, c: Cpu, b: Block): void {
    if (backend.full?.() === true) this.flush();
    const long = b.mode === MODE64;
    const bits = long ? 64 : c.code32 ? 32 : 16;
    const mode: BlockMode = { code32: c.code32, ss32: c.ss32, flat: c.flatData };
    const pageBytes = new BufferReader(c.u8);
    const pageStart = b.pageBits >>> 0;
    const linPage = b.lin >>> 12;
    const blocks = new Map<number, RegionBlock>();
    const work = [b.lin];
    let insns = 0;
    while (work.length > 0 && blocks.size < this.maxRegionBlocks && insns < MAX_REGION_INSNS) {
      const start = work.pop()!;
      if (blocks.has(start) || start >>> 12 !== linPage) continue;
      const list: DecodedInsn[] = [];
      let off = pageStart + (start & 0xfff);
      let linAddr = start;
      let ended = false;
      const targets: number[] = [];
      while (list.length < MAX_BLOCK_INSNS) {
        const d = this.insn[0];
        const status = this.decoder.decode(pageBytes.at(off, pageStart + 0x1000), bits, d);
        if (status !== DecodeStatus.Ok) {
          if (start === b.lin && list.length === 0) b.straddles = status === DecodeStatus.Truncated;
          break;
        }
        d.lin = linAddr;
        list.push(Object.assign(new DecodedInsn(), d));
        off += d.len;
        linAddr = (linAddr + d.len) | 0;
        if (backend.endsBlock(d)) {
          ended = true;
          targets.push(...directTargets(d));
          break;
        }
      }
      if (list.length === 0) continue;
      if (!ended) targets.push(linAddr);
      insns += list.length;
      blocks.set(start, { start, insns: list, next: linAddr, ended });
      for (const t of targets) if (t >>> 12 === linPage && !blocks.has(t)) work.push(t);
    }
    const entry = blocks.get(b.lin);
    if (entry === undefined) {
      b.failed = true;
      return;
    }
    const region: Region = { entry: b.lin, blocks: [entry, ...[...blocks.values()].filter((x) => x !== entry)], mode, runLimit: REGION_RUN_LIMIT, hi: long ? b.hi : undefined };
    if (this.background && backend.compileAsync !== undefined) {
      this.compileInBackground(backend, backend.compileAsync.bind(backend), c, b, region, [...blocks.keys()]);
      return;
    }
    let fn: BlockFn;
    try {
      fn = backend.compile(region);
    } catch (e) {
      // A code generator bug: keep interpreting rather than crash the guest.
      b.failed = true;
      this.stats.compileErrors++;
      if (this.debug) console.error(`JIT (${backend.name}): cannot compile region at ${(b.lin >>> 0).toString(16)}: ${(e as Error).stack ?? String(e)}`);
      return;
    }
    this.install(c, b, fn, blocks.keys());
  }

  /**
   * Compile `region` (b's) while the interpreter runs on; installed once the engine is done,
   * unless its page was written or everything flushed since it was decoded. The page is
   * flagged as code now, so such a write is noticed.
   */
  private compileInBackground(backend: JitBackend, compile: (r: Region) => Promise<RegionFn>, c: Cpu, b: Block, region: Region, starts: number[]): void {
    const page = b.backingPage;
    const generation = this.pageGeneration.get(page) ?? 0;
    const epoch = this.epoch;
    b.pending = true;
    c.mem.flagCodePage(page, CODE_PAGE_JIT);
    const current = (): boolean => epoch === this.epoch && generation === (this.pageGeneration.get(page) ?? 0);
    let promise: Promise<RegionFn>;
    try {
      promise = compile(region);
    } catch (e) {
      promise = Promise.reject(e);
    }
    promise.then(
      (fn) => {
        b.pending = false;
        if (current()) this.install(c, b, fn, starts);
        else if (fn.slot !== undefined) backend.releaseSlot?.(fn.slot);
      },
      (e: unknown) => {
        b.pending = false;
        b.failed = true;
        this.stats.compileErrors++;
        if (this.debug) console.error(`JIT: cannot compile region at ${(b.lin >>> 0).toString(16)}: ${(e as Error).stack ?? String(e)}`);
      },
    );
  }

  /**
   * Run up to `budget` instructions, compiled where hot. Same exit codes as the
   * interpreter's run().
   */
  run(budget: number): number {
    // 64-bit code is compiled by the wasm backend; compatibility mode like 32-bit code.
    return runModes(this.cpu, budget, this.runLegacy, this.runLong);
  }

  /** The dispatch loop of 64-bit code (run64's exits and interrupt handling, compiled where hot). */
  private readonly runLong = (budget: number): number => {
    const c = this.cpu;
    if (c.shutdown) return EXIT_SHUTDOWN;
    c.exitRequested = false;
    if (c.halted) {
      if (!canTakeInterrupt(c)) return EXIT_HALT;
      if (!takeInterrupt64(c)) return shutdown(c);
      if (c.modeSwitch) return EXIT_REQUESTED;
    }
    const cache = this.cache64;
    let n = 0;
    const finish = (exit: number): number => {
      c.instructionCount += n;
      c.sliceInstructions = 0;
      return exit;
    };
    while (n < budget) {
      try {
        while (n < budget) {
          const inhibited = c.irqInhibit;
          if (inhibited) c.irqInhibit = false;
          else if (canTakeInterrupt(c)) {
            if (!takeInterrupt64(c)) return finish(shutdown(c));
            if (c.modeSwitch) return finish(EXIT_REQUESTED);
          }
          if (inhibited || (c.flags & TF) !== 0) {
            // One instruction: in an interrupt shadow, or single-stepping (with its trap).
            interpretOne64(c);
            c.sliceInstructions = ++n;
            if (c.exitRequested) return finish(c.halted ? EXIT_HALT : EXIT_REQUESTED);
            continue;
          }
          const ip = c.ip;
          const hi = c.lm.ripHi;
          let b = cache[hashSlot(ip ^ hi)];
          if (b === undefined || b.lin !== ip || b.hi !== hi || !this.pageStill(c, b)) {
            const found = this.lookup64(c);
            if (found === null) {
              // Interpret until the next control transfer.
              c.branched = false;
              const before = n;
              do {
                step64(c);
                c.sliceInstructions = ++n;
              } while (!c.branched && !this.single && !c.exitRequested && n < budget && (c.flags & TF) === 0 && !c.irqInhibit);
              this.stats.interpreted += n - before;
              if (c.exitRequested) return finish(c.halted ? EXIT_HALT : EXIT_REQUESTED);
              continue;
            }
            b = found;
          }
          n += this.runCompiled(c, b, budget - n, this.backend64);
          c.sliceInstructions = n;
          if (c.exitRequested) return finish(c.halted ? EXIT_HALT : EXIT_REQUESTED);
        }
      } catch (e) {
        if (e !== FAULT) throw e;
        n++;
        if (!faulted64(c)) return finish(shutdown(c));
        if (c.modeSwitch) return finish(EXIT_REQUESTED);
      }
    }
    return finish(EXIT_BUDGET);
  };

  /** Put compiled block b into the dispatcher's cache (its slot in the backend's table). */
  private mirror(b: Block, slot: number): void {
    const long = b.mode === MODE64;
    const d = long ? this.dispatch64 : this.dispatch32;
    const i = dispatchSlot(b.lin, b.hi) << 2;
    d[i] = b.lin;
    d[i + 1] = long ? b.hi : b.mode;
    d[i + 2] = b.pageBits;
    d[i + 3] = slot;
  }

  private unmirror(b: Block): void {
    const long = b.mode === MODE64;
    const d = long ? this.dispatch64 : this.dispatch32;
    const i = dispatchSlot(b.lin, b.hi) << 2;
    if (d[i] === b.lin && d[i + 1] === (long ? b.hi : b.mode)) d[i + 3] = 0;
  }

  /** Run compiled block b, and the compiled blocks after it through the backend's dispatcher when it has one. */
  private runCompiled(c: Cpu, b: Block, budget: number, backend: JitBackend | null): number {
    const fn = b.fn!;
    if (fn.slot === undefined || backend === null || backend.dispatch === undefined) return fn(c, c.ip);
    this.mirror(b, fn.slot);
    return backend.dispatch(c, budget, b.mode === MODE64);
  }

  /** b's page is still mapped to the same backing page, executable at this CPL. */
  private pageStill(c: Cpu, b: Block): boolean {
    const e = tlbEntry64(c, b.hi, b.lin);
    return (e & ~0xfff) === b.pageBits && (e & c.execMask) !== 0;
  }

  private readonly runLegacy = (budget: number): number => {
    const c = this.cpu;
    if (c.shutdown) return EXIT_SHUTDOWN;
    c.exitRequested = false;
    if (c.halted) {
      if (!canTakeInterrupt(c)) return EXIT_HALT;
      if (!takeInterrupt(c)) return shutdown(c);
      if (c.modeSwitch) return EXIT_REQUESTED;
    }
    const cache = this.cache;
    let n = 0;
    while (n < budget) {
      try {
        while (n < budget) {
          if (c.irqInhibit) {
            // One instruction runs with interrupts inhibited (after STI / MOV SS).
            c.irqInhibit = false;
            step(c);
            c.sliceInstructions = ++n;
            if (c.exitRequested) break;
            continue;
          }
          if ((c.intr && (c.flags & IF) !== 0) || c.nmiPending) {
            if (canTakeInterrupt(c) && !takeInterrupt(c)) {
              c.instructionCount += n;
              c.sliceInstructions = 0;
              return shutdown(c);
            }
            if (c.modeSwitch) break;
          }
          if ((c.flags & TF) !== 0) {
            // Single-stepping: one instruction at a time, each followed by its trap.
            if (!stepTraced(c)) {
              c.instructionCount += ++n;
              c.sliceInstructions = 0;
              return shutdown(c);
            }
            c.sliceInstructions = ++n;
            if (c.exitRequested) break;
            continue;
          }
          const ip = c.ip;
          let b = cache[hashSlot(ip)];
          if (b === undefined || b.lin !== ip || b.mode !== c.modeKey || (c.tlb[ip >>> 12] & ~0xfff) !== b.pageBits || (c.tlb[ip >>> 12] & c.execMask) === 0) {
            const found = this.lookup(c);
            if (found === null) {
              // Interpret until the next control transfer.
              c.branched = false;
              // Stop also when TF gets set (each instruction must then trap) or an STI/MOV SS
              // shadow begins (the loop above handles both).
              const before = n;
              do {
                step(c);
                c.sliceInstructions = ++n;
              } while (!c.branched && !this.single && !c.exitRequested && n < budget && (c.flags & TF) === 0 && !c.irqInhibit);
              this.stats.interpreted += n - before;
              if (c.exitRequested) break;
              continue;
            }
            b = found;
          }
          n += this.runCompiled(c, b, budget - n, this.backend);
          c.sliceInstructions = n;
          if (c.exitRequested) break;
        }
        if (c.exitRequested) {
          c.instructionCount += n;
          c.sliceInstructions = 0;
          return c.halted ? EXIT_HALT : EXIT_REQUESTED;
        }
      } catch (e) {
        if (e !== FAULT) throw e;
        n++;
        c.ip = c.instrStart;
        if (!deliverException(c)) {
          c.instructionCount += n;
          c.sliceInstructions = 0;
          return shutdown(c);
        }
      }
      if (c.modeSwitch) break;
    }
    c.instructionCount += n;
    c.sliceInstructions = 0;
    return c.modeSwitch ? EXIT_REQUESTED : EXIT_BUDGET;
  };
}

function hashSlot(ip: number): number {
  return (ip ^ (ip >>> CACHE_BITS)) & CACHE_MASK;
}
