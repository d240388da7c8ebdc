/**
 * Long-mode state that the 32-bit CPU model does not have: high halves of RIP, of the
 * FS/GS/descriptor-table bases and of CR2, the SYSCALL and KernelGSbase MSRs, CR8, and
 * the TLB for linear pages above 4 GiB. The low halves stay where the 32-bit model keeps
 * them (cpu.ip, segBase, gdtBase, idtBase, cr2), so compatibility-mode code sees them.
 */
import { T_GLOBAL, T_VALID } from '../constants.js';
import { CPU_STATE, TLB64_ENTRIES } from '../state-layout.js';
import { Insn64 } from './insn64.js';

const TLB64_SIZE = TLB64_ENTRIES;

/**
 * Direct-mapped TLB for linear pages whose address has non-zero high 32 bits (pages below
 * 4 GiB use the CPU's 32-bit TLB even in 64-bit mode). Entries have the 32-bit TLB's
 * format (backing offset | T_* flags); tags are the 64-bit linear page number.
 */
export class Tlb64 {
  readonly pageLo: Int32Array;
  readonly pageHi: Int32Array;
  readonly entry: Int32Array;
  readonly phys: Int32Array;
  /** Some entry may be valid (flushes of an unused TLB, i.e. outside long mode, cost nothing). */
  private used = false;

  /** Views over the CPU's state block (CPU_STATE.TLB64_*), where compiled 64-bit code looks entries up too. */
  constructor(buf: ArrayBufferLike, stateBase: number) {
    this.pageLo = new Int32Array(buf, stateBase + CPU_STATE.TLB64_PAGE_LO, TLB64_SIZE);
    this.pageHi = new Int32Array(buf, stateBase + CPU_STATE.TLB64_PAGE_HI, TLB64_SIZE);
    this.entry = new Int32Array(buf, stateBase + CPU_STATE.TLB64_ENTRY, TLB64_SIZE);
    this.phys = new Int32Array(buf, stateBase + CPU_STATE.TLB64_PHYS, TLB64_SIZE);
  }

  static index(hi: number, lo: number): number {
    return ((lo >>> 12) ^ (hi << 4) ^ (hi >>> 8)) & (TLB64_SIZE - 1);
  }

  /** The entry for (hi, lo) or 0 when it is not cached. */
  lookup(hi: number, lo: number): number {
    const i = Tlb64.index(hi, lo);
    return this.pageLo[i] === lo >>> 12 && this.pageHi[i] === hi ? this.entry[i] : 0;
  }

  physPage(hi: number, lo: number): number {
    return this.phys[Tlb64.index(hi, lo)];
  }

  insert(hi: number, lo: number, entry: number, phys: number): void {
    const i = Tlb64.index(hi, lo);
    this.pageLo[i] = lo >>> 12;
    this.pageHi[i] = hi;
    this.entry[i] = entry;
    this.phys[i] = phys;
    this.used = true;
  }

  invalidate(hi: number, lo: number): void {
    const i = Tlb64.index(hi, lo);
    if (this.pageLo[i] === lo >>> 12 && this.pageHi[i] === hi) this.entry[i] = 0;
  }

  flush(includeGlobal: boolean): void {
    if (!this.used) return;
    const e = this.entry;
    let kept = false;
    for (let i = 0; i < TLB64_SIZE; i++) {
      if ((e[i] & T_VALID) === 0) continue;
      if (includeGlobal || (e[i] & T_GLOBAL) === 0) e[i] = 0;
      else kept = true;
    }
    this.used = kept;
  }
}

export class LongState {
  /** High 32 bits of RIP (64-bit mode only; the low half is cpu.ip). */
  ripHi = 0;
  /** High half of the address where the current instruction started. */
  instrStartHi = 0;
  fsHi = 0;
  gsHi = 0;
  kgsLo = 0;
  kgsHi = 0;
  starLo = 0;
  starHi = 0;
  lstarLo = 0;
  lstarHi = 0;
  cstarLo = 0;
  cstarHi = 0;
  sfmask = 0;
  gdtHi = 0;
  idtHi = 0;
  trHi = 0;
  ldtHi = 0;
  cr2Hi = 0;
  cr8 = 0;
  readonly tlb: Tlb64;
  /** The 64-bit executor's current instruction (decoded record and operand state). */
  readonly insn = new Insn64();

  // Second results of the 64-bit executor's helpers (the first is their return value).
  /** alu64.ts: high half of the last 64-bit ALU/shift result, or of a negation; bits 32-63 of a product. */
  resHi = 0;
  /** alu64.ts: low half of the second result pair (product bits 64-95, or a division's remainder). */
  res2Lo = 0;
  /** alu64.ts: high half of the second result pair (product bits 96-127, or a division's remainder). */
  res2Hi = 0;
  /** alu64.ts: low half of the last 128/64 division's quotient. */
  quotLo = 0;
  /** alu64.ts: high half of the last 128/64 division's quotient. */
  quotHi = 0;
  /** exec64.ts aluSized: high half of its result (0 for operands below 64 bits). */
  aluHi = 0;
  /** memory.ts: high half of the last 64-bit value read (readSized of a narrower operand sets 0). */
  readHi = 0;
  /** memory.ts: the current memory reference is through RSP/RBP (non-canonical → #SS instead of #GP). */
  stackRef = false;
  /** system64.ts pop: high half of the value last popped. */
  popHi = 0;

  constructor(tlb: Tlb64) {
    this.tlb = tlb;
  }

  reset(): void {
    this.ripHi = 0;
    this.instrStartHi = 0;
    this.fsHi = this.gsHi = this.kgsLo = this.kgsHi = 0;
    this.starLo = this.starHi = this.lstarLo = this.lstarHi = this.cstarLo = this.cstarHi = 0;
    this.sfmask = 0;
    this.gdtHi = this.idtHi = this.trHi = this.ldtHi = 0;
    this.cr2Hi = 0;
    this.cr8 = 0;
    this.tlb.flush(true);
  }
}
