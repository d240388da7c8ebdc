/**
 * IA-32e 4-level paging (SDM vol. 3 §4.5): PML4 → PDPT → PD → PT, 4 KiB and 2 MiB pages,
 * NX, A/D bits, MAXPHYADDR 36. 1 GiB pages are not advertised, so PDPTE.PS is reserved.
 * Translations of linear addresses below 4 GiB go into the CPU's 32-bit TLB (which is how
 * compatibility-mode code and the 32-bit helpers reach memory while LMA=1); others into
 * the long-mode TLB.
 */
import {
  CR0_WP,
  CR4_PGE,
  EFER_NXE,
  EXC_PF,
  PF_I,
  PF_P,
  PF_RSVD,
  PF_U,
  PF_W,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_PS,
  PTE_RW,
  PTE_US,
  T_EXEC,
  T_EXEC_USER,
  T_GLOBAL,
  T_READ,
  T_READ_USER,
  T_VALID,
  T_WRITE,
  T_WRITE_USER,
} from '../constants.js';
import type { Cpu } from '../cpu.js';

const ACCESS_WRITE = 1;
const ACCESS_EXEC = 2;
/** Physical address of pages we do not model (above 4 GiB): reads as all ones. */
export const PHYS_NONE = -1;

// Scratch for the entry just read.
let eLo = 0;
let eHi = 0;

function readEntry(c: Cpu, tableLo: number, tableHi: number, index: number): number {
  const addr = ((tableLo & ~0xfff) + index * 8) >>> 0;
  if ((tableHi & 0xf) !== 0) {
    // A table above 4 GiB: nothing is there, the entry reads as all ones.
    eLo = -1;
    eHi = -1;
  } else {
    eLo = c.mem.read32(addr);
    eHi = c.mem.read32(addr + 4);
  }
  return addr;
}

function fault(c: Cpu, hi: number, lo: number, code: number, access: number, user: boolean): never {
  if (access === ACCESS_WRITE) code |= PF_W;
  if (user) code |= PF_U;
  if (access === ACCESS_EXEC && (c.efer & EFER_NXE) !== 0) code |= PF_I;
  c.cr2 = lo;
  c.lm.cr2Hi = hi;
  return c.raise(EXC_PF, code);
}

/**
 * Walk the 4-level tables for linear address hi:lo (canonical), fill the TLB and return
 * the physical address (PHYS_NONE above 4 GiB). Raises #PF with CR2 = hi:lo.
 */
export function walkLong(c: Cpu, hi: number, lo: number, access: number, user: boolean): number {
  const nxe = (c.efer & EFER_NXE) !== 0;
  // Bits 36-51 are reserved (MAXPHYADDR 36); bit 63 unless NXE.
  const rsvdHi = nxe ? 0x000ffff0 : 0x800ffff0 | 0;
  let rw = PTE_RW;
  let us = PTE_US;
  let nx = false;
  const idx4 = (hi >>> 7) & 0x1ff;
  const idx3 = ((hi & 0x7f) << 2) | (lo >>> 30);
  const idx2 = (lo >>> 21) & 0x1ff;
  const idx1 = (lo >>> 12) & 0x1ff;
  // Entry addresses and values of each level, for the A/D updates after the checks.
  const a4 = readEntry(c, c.cr3, 0, idx4);
  const l4 = eLo;
  if ((l4 & PTE_P) === 0) fault(c, hi, lo, 0, access, user);
  if ((eHi & rsvdHi) !== 0 || (l4 & PTE_PS) !== 0) fault(c, hi, lo, PF_P | PF_RSVD, access, user);
  rw &= l4;
  us &= l4;
  nx = nx || (nxe && eHi < 0);
  const a3 = readEntry(c, l4, eHi, idx3);
  const l3 = eLo;
  if ((l3 & PTE_P) === 0) fault(c, hi, lo, 0, access, user);
  if ((eHi & rsvdHi) !== 0 || (l3 & PTE_PS) !== 0) fault(c, hi, lo, PF_P | PF_RSVD, access, user);
  rw &= l3;
  us &= l3;
  nx = nx || (nxe && eHi < 0);
  const a2 = readEntry(c, l3, eHi, idx2);
  const l2 = eLo;
  const l2Hi = eHi;
  if ((l2 & PTE_P) === 0) fault(c, hi, lo, 0, access, user);
  if ((l2Hi & rsvdHi) !== 0 || ((l2 & PTE_PS) !== 0 && (l2 & 0x1fe000) !== 0)) fault(c, hi, lo, PF_P | PF_RSVD, access, user);
  rw &= l2;
  us &= l2;
  nx = nx || (nxe && l2Hi < 0);
  let a1 = -1;
  let leaf = l2;
  let leafHi = l2Hi;
  let phys: number;
  if ((l2 & PTE_PS) === 0) {
    a1 = readEntry(c, l2, l2Hi, idx1);
    leaf = eLo;
    leafHi = eHi;
    if ((leaf & PTE_P) === 0) fault(c, hi, lo, 0, access, user);
    if ((leafHi & rsvdHi) !== 0) fault(c, hi, lo, PF_P | PF_RSVD, access, user);
    rw &= leaf;
    us &= leaf;
    nx = nx || (nxe && leafHi < 0);
    phys = (leafHi & 0xf) !== 0 ? PHYS_NONE : leaf & ~0xfff;
  } else {
    phys = (leafHi & 0xf) !== 0 ? PHYS_NONE : (l2 & 0xffe00000) | (lo & 0x1ff000);
  }
  const wp = (c.cr0 & CR0_WP) !== 0;
  if (user && us === 0) fault(c, hi, lo, PF_P, access, user);
  if (access === ACCESS_WRITE && rw === 0 && (user || wp)) fault(c, hi, lo, PF_P, access, user);
  if (access === ACCESS_EXEC && nx) fault(c, hi, lo, PF_P, access, user);
  // Accessed bits on every level, dirty on the leaf.
  const mem = c.mem;
  if ((l4 & PTE_A) === 0) mem.write32(a4, l4 | PTE_A);
  if ((l3 & PTE_A) === 0) mem.write32(a3, l3 | PTE_A);
  const leafAddr = a1 >= 0 ? a1 : a2;
  if (a1 >= 0 && (l2 & PTE_A) === 0) mem.write32(a2, l2 | PTE_A);
  let updated = leaf | PTE_A;
  if (access === ACCESS_WRITE) updated |= PTE_D;
  if (updated !== leaf) mem.write32(leafAddr, updated);
  const dirty = (updated & PTE_D) !== 0;
  let flags = T_READ;
  if (us !== 0) flags |= T_READ_USER;
  if (dirty) {
    if (rw !== 0 || !wp) flags |= T_WRITE;
    if (rw !== 0 && us !== 0) flags |= T_WRITE_USER;
  }
  if (!nx) {
    flags |= T_EXEC;
    if (us !== 0) flags |= T_EXEC_USER;
  }
  if ((leaf & PTE_G) !== 0 && (c.cr4 & CR4_PGE) !== 0) flags |= T_GLOBAL;
  if (phys === PHYS_NONE) {
    const entry = T_VALID | (flags & T_GLOBAL);
    if (hi === 0) c.tlbInsert(lo >>> 12, entry, PHYS_NONE);
    else c.lm.tlb.insert(hi, lo, entry, PHYS_NONE);
    return PHYS_NONE;
  }
  if (hi === 0) c.fillTlb(lo >>> 12, phys, flags);
  else c.lm.tlb.insert(hi, lo, c.tlbEntry(phys, flags), phys);
  return (phys | (lo & 0xfff)) >>> 0;
}
