/**
 * The block JIT: finds hot basic blocks, compiles them to JavaScript functions and runs
 * them, falling back to the interpreter for cold code. Blocks are looked up by linear
 * address through a direct-mapped cache and checked against the current TLB mapping and
 * CPU mode, so a remapped or mode-changed address never runs stale code. Pages holding
 * compiled code lose direct write access in the TLB; a write to one drops its blocks.
 */
import { ACCESS_EXEC, type Cpu, FAULT, EXIT_BUDGET, EXIT_HALT, EXIT_REQUESTED, EXIT_SHUTDOWN } from '../cpu.js';
import { IF } from '../constants.js';
import { step } from '../interpreter.js';
import { deliverException, deliverInterrupt } from '../protected.js';
import { BlockCompiler, type BlockMode } from './codegen.js';
import { decode, newInsn } from './decoder.js';
import { helpers } from './runtime.js';

/** Executions of a block start before it is compiled. */
const HOT_THRESHOLD = 12;
const MAX_BLOCK_INSNS = 64;
const CACHE_BITS = 16;
const CACHE_MASK = (1 << CACHE_BITS) - 1;
/** A page whose code keeps being overwritten stops being compiled. */
const MAX_PAGE_INVALIDATIONS = 64;

type BlockFn = (c: Cpu) => number;

export class Block {
  fn: BlockFn | null = null;
  count = 0;
  /** Could not be compiled (first instruction undecodable): always interpret. */
  failed = false;
  constructor(
    readonly lin: number,
    readonly mode: number,
    /** TLB entry bits of the backing page (entry & ~0xfff). */
    readonly pageBits: number,
    readonly backingPage: number,
  ) {}
}

export interface JitStats {
  compiled: number;
  invalidations: number;
  blockRuns: number;
  interpreted: number;
}

export class Jit {
  private readonly cache: (Block | undefined)[] = new Array<Block | undefined>(1 << CACHE_BITS).fill(undefined);
  private readonly blocks = new Map<number, Block>();
  /** Blocks by backing page, for invalidation. */
  private readonly byPage = new Map<number, Block[]>();
  private readonly invalidationsByPage = new Map<number, number>();
  private readonly insn = Array.from({ length: MAX_BLOCK_INSNS + 1 }, newInsn);
  readonly stats: JitStats = { compiled: 0, invalidations: 0, blockRuns: 0, interpreted: 0 };

  constructor(private readonly cpu: Cpu) {
    cpu.mem.onCodeWrite = (page) => this.invalidatePage(page);
  }

  invalidatePage(backingPage: number): void {
    this.cpu.mem.codePages[backingPage] = 0;
    const list = this.byPage.get(backingPage);
    if (list === undefined) return;
    for (const b of list) {
      const slot = hashSlot(b.lin);
      if (this.cache[slot] === b) this.cache[slot] = undefined;
      if (this.blocks.get(b.lin) === b) this.blocks.delete(b.lin);
    }
    this.byPage.delete(backingPage);
    this.stats.invalidations++;
    this.invalidationsByPage.set(backingPage, (this.invalidationsByPage.get(backingPage) ?? 0) + 1);
  }

  /** Forget all compiled code (e.g. after a reset or snapshot restore). */
  clear(): void {
    for (const page of this.byPage.keys()) this.cpu.mem.codePages[page] = 0;
    this.cache.fill(undefined);
    this.blocks.clear();
    this.byPage.clear();
  }

  /** Find the block starting at the current ip, creating or compiling it; null to interpret. */
  private lookup(c: Cpu): Block | null {
    const ip = c.ip;
    let e = c.tlb[ip >>> 12];
    if ((e & c.execMask) === 0) {
      c.instrStart = ip;
      c.physFor(ip, ACCESS_EXEC, c.cpl === 3);
      e = c.tlb[ip >>> 12];
      if ((e & c.execMask) === 0) return null; // executing from MMIO
    }
    const pageBits = e & ~0xfff;
    let b = this.blocks.get(ip);
    if (b === undefined || b.mode !== c.modeKey || b.pageBits !== pageBits) {
      b = new Block(ip, c.modeKey, pageBits, pageBits >>> 12);
      this.blocks.set(ip, b);
    }
    if (b.fn !== null) {
      this.cache[hashSlot(ip)] = b;
      return b;
    }
    if (b.failed || ++b.count < HOT_THRESHOLD) return null;
    if ((this.invalidationsByPage.get(b.backingPage) ?? 0) > MAX_PAGE_INVALIDATIONS) {
      b.failed = true;
      return null;
    }
    this.compile(c, b);
    if (b.fn === null) return null;
    this.cache[hashSlot(ip)] = b;
    return b;
  }

  private compile(c: Cpu, b: Block): void {
    const mode: BlockMode = { code32: c.code32, ss32: c.ss32, flat: c.flatData };
    const gen = new BlockCompiler(mode);
    const u8 = c.u8;
    const pageStart = (b.pageBits >>> 0) as number;
    const pageOff = b.lin & 0xfff;
    const end = pageStart + 0x1000;
    let off = pageStart + pageOff;
    let linAddr = b.lin;
    let n = 0;
    let ended = false;
    while (n < MAX_BLOCK_INSNS) {
      const d = this.insn[n];
      if (!decode(u8, off, end, linAddr, c.code32, d)) break;
      n++;
      if (gen.emit(d, n) === 'end') {
        ended = true;
        break;
      }
      off += d.len;
      linAddr = (linAddr + d.len) | 0;
    }
    if (n === 0) {
      b.failed = true;
      return;
    }
    const body = gen.finish(linAddr, n, ended);
    try {
      const factory = new Function('h', 'step', `return function block(c) {\n${body}\n};`) as (h: typeof helpers, s: typeof step) => BlockFn;
      b.fn = factory(helpers, step);
    } catch (e) {
      // A code generator bug: keep interpreting this block rather than crash the guest.
      b.failed = true;
      if (process.env.TERRARIUM_JIT_DEBUG === '1') console.error(`JIT: cannot compile block at ${(b.lin >>> 0).toString(16)}: ${(e as Error).message}\n${body}`);
      return;
    }
    this.stats.compiled++;
    let list = this.byPage.get(b.backingPage);
    if (list === undefined) {
      list = [];
      this.byPage.set(b.backingPage, list);
    }
    list.push(b);
    if (c.mem.codePages[b.backingPage] === 0) {
      c.mem.codePages[b.backingPage] = 1;
      // Existing TLB entries may allow direct writes to this page; drop them.
      c.flushTlb(true);
    }
  }

  /**
   * Run up to `budget` instructions, compiled where hot. Same exit codes as the
   * interpreter's run().
   */
  run(budget: number): number {
    const c = this.cpu;
    if (c.shutdown) return EXIT_SHUTDOWN;
    c.exitRequested = false;
    if (c.halted) {
      if (!((c.nmiPending && !c.nmiBlocked) || (c.intr && (c.flags & IF) !== 0))) return EXIT_HALT;
      if (!takeInterrupt(c)) return shutdown(c);
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
            n++;
            if (c.exitRequested) break;
            continue;
          }
          if ((c.intr && (c.flags & IF) !== 0) || c.nmiPending) {
            if (((c.nmiPending && !c.nmiBlocked) || (c.intr && (c.flags & IF) !== 0)) && !takeInterrupt(c)) {
              c.instructionCount += n;
              return shutdown(c);
            }
          }
          const ip = c.ip;
          let b = cache[hashSlot(ip)];
          if (b === undefined || b.lin !== ip || b.mode !== c.modeKey || (c.tlb[ip >>> 12] & ~0xfff) !== b.pageBits || (c.tlb[ip >>> 12] & c.execMask) === 0) {
            const found = this.lookup(c);
            if (found === null) {
              // Interpret until the next control transfer.
              c.branched = false;
              do {
                step(c);
                n++;
              } while (!c.branched && !c.exitRequested && n < budget);
              if (c.exitRequested) break;
              continue;
            }
            b = found;
          }
          n += b.fn!(c);
          if (c.exitRequested) break;
        }
        if (c.exitRequested) {
          c.instructionCount += n;
          return c.halted ? EXIT_HALT : EXIT_REQUESTED;
        }
      } catch (e) {
        if (e !== FAULT) throw e;
        n++;
        c.ip = c.instrStart;
        if (!deliverException(c)) {
          c.instructionCount += n;
          return shutdown(c);
        }
      }
    }
    c.instructionCount += n;
    return EXIT_BUDGET;
  }
}

function hashSlot(ip: number): number {
  return (ip ^ (ip >>> CACHE_BITS)) & CACHE_MASK;
}

function takeInterrupt(c: Cpu): boolean {
  c.instrStart = c.ip;
  c.halted = false;
  try {
    if (c.nmiPending && !c.nmiBlocked) {
      c.nmiPending = false;
      c.nmiBlocked = true;
      deliverInterrupt(c, 2, false, -1, true);
    } else {
      const vector = c.pic === null ? 0xff : c.pic.acknowledge();
      deliverInterrupt(c, vector, false, -1, true);
    }
    return true;
  } catch (e) {
    if (e !== FAULT) throw e;
    return deliverException(c);
  }
}

function shutdown(c: Cpu): number {
  c.shutdown = true;
  c.hooks.onShutdown();
  return EXIT_SHUTDOWN;
}
