/**
 * Which dwords of the 128 KiB register space exist and how plain ones behave: storage
 * (read back what was written, within a mask), statistics (clear on read), or registers
 * with side effects that the device handles itself. Everything else reads 0 and ignores
 * writes.
 */
import * as R from './e1000-regs.js';

export const REG_NONE = 0;
/** Plain storage. */
export const REG_STORE = 1;
/** Statistics counter: clear on read, writes ignored. */
export const REG_STAT = 2;
/** Handled by the device, value kept in the register array (saved with it). */
export const REG_SPECIAL = 3;
/** Handled by the device, value kept elsewhere (not in the register array). */
export const REG_SPECIAL_ELSEWHERE = 4;

export const REG_DWORDS = R.MMIO_BYTES >>> 2;

function build(): Uint8Array {
  const kind = new Uint8Array(REG_DWORDS);
  const store = (off: number, count = 1, step = 4): void => {
    for (let i = 0; i < count; i++) kind[(off + i * step) >>> 2] = REG_STORE;
  };
  for (const off of [
    R.CTRL_EXT, R.FLA, R.FCAL, R.FCAH, R.FCT, R.VET, R.ITR, R.FCTTV, R.TXCW, R.TIPG, R.AIT, R.LEDCTL, R.PBA, R.FCRTL, R.FCRTH,
    R.RDBAL, R.RDBAH, R.RDLEN, R.RDH, R.RDTR, R.RXDCTL, R.RADV, R.RSRPD, R.TXDMAC, R.TDBAL, R.TDBAH, R.TDLEN, R.TDH, R.TIDV,
    R.TXDCTL, R.TADV, R.TSPMT, R.RXCSUM, R.RXCSUM + 8, R.WUC, R.WUFC, R.WUS, R.MANC, R.IPAV, R.WUPL,
  ]) {
    store(off);
  }
  store(R.RDFH, 5, 8);
  store(R.TDFH, 5, 8);
  store(R.MTA, R.MTA_WORDS);
  store(R.RA, R.RA_ENTRIES * 2);
  store(R.VFTA, R.VFTA_WORDS);
  store(R.IP4AT, 7, 4);
  store(R.IP6AT, 4);
  store(R.WUPM, 32);
  store(R.FFLT, 4, 8);
  store(R.FFMT, 128, 8);
  store(R.FFVT, 128, 8);
  store(R.PBM, 0x10000 >>> 2);
  for (let off = R.STATS_FIRST; off <= R.STATS_LAST; off += 4) kind[off >>> 2] = REG_STAT;
  for (const off of [R.CTRL, R.STATUS, R.EERD, R.MDIC, R.RCTL, R.TCTL, R.RDT, R.TDT]) kind[off >>> 2] = REG_SPECIAL;
  for (const off of [R.EECD, R.ICR, R.ICS, R.IMS, R.IMC]) kind[off >>> 2] = REG_SPECIAL_ELSEWHERE;
  return kind;
}

/** Kind of each dword (index = byte offset >> 2). */
export const REG_KIND = build();

/** Bits a plain store keeps, where not all 32. */
export const STORE_MASK = new Map<number, number>([
  [R.ITR, 0xffff],
  [R.RDTR, 0xffff],
  [R.RADV, 0xffff],
  [R.TIDV, 0xffff],
  [R.TADV, 0xffff],
  [R.AIT, 0xffff],
  [R.RDH, 0xffff],
  [R.TDH, 0xffff],
  [R.RDLEN, 0xfff80],
  [R.TDLEN, 0xfff80],
  [R.RDBAL, 0xfffffff0],
  [R.TDBAL, 0xfffffff0],
  [R.VET, 0xffff],
]);
