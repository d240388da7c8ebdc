/**
 * Receive-side decisions that need no ring: the address filter (exact RA matches,
 * broadcast, the multicast hash table, promiscuous modes, VLAN filter), the buffer size
 * RCTL selects, and receive checksum offload (RXCSUM) status bits.
 */
import { finishChecksum, onesSum, pseudoHeaderSum } from '../../net/checksum.js';
import {
  MTA,
  RA,
  RAH_AV,
  RA_ENTRIES,
  RCTL_BAM,
  RCTL_BSEX,
  RCTL_BSIZE_SHIFT,
  RCTL_MO_SHIFT,
  RCTL_MPE,
  RCTL_UPE,
  RCTL_VFE,
  RXCSUM_IPOFL,
  RXCSUM_TUOFL,
  RXD_ERR_IPE,
  RXD_ERR_TCPE,
  RXD_STAT_IPCS,
  RXD_STAT_IXSM,
  RXD_STAT_TCPCS,
  VFTA,
} from './e1000-regs.js';

/** Buffer bytes per receive descriptor from RCTL.BSIZE and BSEX. */
export function rxBufferSize(rctl: number): number {
  const bsize = (rctl >>> RCTL_BSIZE_SHIFT) & 3;
  if ((rctl & RCTL_BSEX) !== 0 && bsize !== 0) return [0, 16384, 8192, 4096][bsize];
  return [2048, 1024, 512, 256][bsize];
}

export function isBroadcast(f: Uint8Array): boolean {
  return (f[0] & f[1] & f[2] & f[3] & f[4] & f[5]) === 0xff;
}

/** Multicast hash bit position for RCTL.MO (which 12 bits of the address index the MTA). */
const MO_SHIFT = [4, 3, 2, 0] as const;

/** Whether the filters accept a frame with destination `f[0..6)` (and its VLAN tag, if any). */
export function acceptFrame(regs: Uint32Array, rctl: number, f: Uint8Array, vlanId: number): boolean {
  if (vlanId >= 0 && (rctl & RCTL_VFE) !== 0) {
    const word = regs[(VFTA >>> 2) + ((vlanId >>> 5) & 0x7f)];
    if ((word & (1 << (vlanId & 31))) === 0) return false;
  }
  if (isBroadcast(f)) {
    if ((rctl & RCTL_BAM) !== 0) return true;
  } else if ((f[0] & 1) !== 0) {
    if ((rctl & RCTL_MPE) !== 0) return true;
  } else if ((rctl & RCTL_UPE) !== 0) return true;
  const low = (f[0] | (f[1] << 8) | (f[2] << 16) | (f[3] << 24)) >>> 0;
  const high = f[4] | (f[5] << 8);
  for (let i = 0; i < RA_ENTRIES; i++) {
    const rah = regs[(RA >>> 2) + i * 2 + 1];
    if ((rah & RAH_AV) !== 0 && regs[(RA >>> 2) + i * 2] === low && (rah & 0xffff) === high) return true;
  }
  if ((f[0] & 1) === 0) return false;
  const hash = (((f[5] << 8) | f[4]) >>> MO_SHIFT[(rctl >>> RCTL_MO_SHIFT) & 3]) & 0xfff;
  return (regs[(MTA >>> 2) + (hash >>> 5)] & (1 << (hash & 31))) !== 0;
}

const ETHERTYPE_IPV4 = 0x0800;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

/**
 * Status and error bits for a received frame (no VLAN tag; `len` bytes without padding):
 * status in bits 0-7, errors in bits 8-15. IXSM when nothing was checked.
 */
export function rxChecksumBits(f: Uint8Array, len: number, rxcsum: number): number {
  if ((rxcsum & (RXCSUM_IPOFL | RXCSUM_TUOFL)) === 0 || len < 34) return RXD_STAT_IXSM;
  if (((f[12] << 8) | f[13]) !== ETHERTYPE_IPV4 || f[14] >>> 4 !== 4) return RXD_STAT_IXSM;
  const ihl = (f[14] & 0xf) * 4;
  const total = (f[16] << 8) | f[17];
  if (ihl < 20 || total < ihl || 14 + total > len) return RXD_STAT_IXSM;
  let bits = 0;
  if ((rxcsum & RXCSUM_IPOFL) !== 0) {
    bits |= RXD_STAT_IPCS;
    if (finishChecksum(onesSum(f, 14, ihl)) !== 0) bits |= RXD_ERR_IPE << 8;
  }
  const proto = f[23];
  const fragment = (((f[20] << 8) | f[21]) & 0x3fff) !== 0;
  if ((rxcsum & RXCSUM_TUOFL) === 0 || fragment || (proto !== PROTO_TCP && proto !== PROTO_UDP)) {
    return bits === 0 ? RXD_STAT_IXSM : bits;
  }
  const l4 = 14 + ihl;
  const l4Len = total - ihl;
  if (proto === PROTO_UDP && (l4Len < 8 || (f[l4 + 6] | f[l4 + 7]) === 0)) return bits === 0 ? RXD_STAT_IXSM : bits;
  if (proto === PROTO_TCP && l4Len < 20) return bits === 0 ? RXD_STAT_IXSM : bits;
  const src = ((f[26] << 24) | (f[27] << 16) | (f[28] << 8) | f[29]) >>> 0;
  const dst = ((f[30] << 24) | (f[31] << 16) | (f[32] << 8) | f[33]) >>> 0;
  const sum = onesSum(f, l4, l4Len, pseudoHeaderSum(src, dst, proto, l4Len));
  bits |= RXD_STAT_TCPCS;
  if (finishChecksum(sum) !== 0) bits |= RXD_ERR_TCPE << 8;
  return bits;
}
