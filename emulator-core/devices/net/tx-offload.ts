/**
 * Transmit offloads of the 8254x: checksum insertion described by a context descriptor
 * (IP header checksum and TCP/UDP checksum over start/offset/end byte positions), and TCP
 * segmentation: a super-packet of one header and up to 1 MiB of payload becomes frames of
 * at most MSS payload bytes, each with its IP total length, IP ID, TCP sequence number,
 * flags and checksums fixed up.
 */
import { finishChecksum, onesSum } from '../../net/checksum.js';
import { TXD_CMD_IP, TXD_CMD_TCP, TXD_CMD_TSE, TXD_POPTS_IXSM, TXD_POPTS_TXSM } from './e1000-regs.js';

/** What a context descriptor sets up. Offsets are bytes from the start of the frame. */
export interface TxContext {
  ipcss: number;
  ipcso: number;
  /** Last byte of the IP checksum range (inclusive); 0 means the end of the frame. */
  ipcse: number;
  tucss: number;
  tucso: number;
  tucse: number;
  /** Payload bytes of a TSO super-packet (after the header). */
  paylen: number;
  hdrLen: number;
  mss: number;
  /** IPv4 (else IPv6) for TSO fixups. */
  ip: boolean;
  /** TCP (else UDP) for TSO fixups. */
  tcp: boolean;
  tse: boolean;
}

export function emptyContext(): TxContext {
  return { ipcss: 0, ipcso: 0, ipcse: 0, tucss: 0, tucso: 0, tucse: 0, paylen: 0, hdrLen: 0, mss: 0, ip: false, tcp: false, tse: false };
}

/** Fill `ctx` from a context descriptor's four little-endian dwords. */
export function parseContext(d0: number, d1: number, d2: number, d3: number, ctx: TxContext): void {
  ctx.ipcss = d0 & 0xff;
  ctx.ipcso = (d0 >>> 8) & 0xff;
  ctx.ipcse = d0 >>> 16;
  ctx.tucss = d1 & 0xff;
  ctx.tucso = (d1 >>> 8) & 0xff;
  ctx.tucse = d1 >>> 16;
  ctx.paylen = d2 & 0xfffff;
  ctx.ip = (d2 & TXD_CMD_IP) !== 0;
  ctx.tcp = (d2 & TXD_CMD_TCP) !== 0;
  ctx.tse = (d2 & TXD_CMD_TSE) !== 0;
  ctx.hdrLen = (d3 >>> 8) & 0xff;
  ctx.mss = d3 >>> 16;
}

/**
 * Sum bytes css..cse (inclusive; cse 0 = end of frame) of `buf[0..len)` and store the
 * finished checksum big-endian at `cso`. Whatever the field held (a pseudo-header sum put
 * there by the driver) is part of the sum, as on the hardware.
 */
export function insertChecksum(buf: Uint8Array, len: number, css: number, cso: number, cse: number): void {
  const end = cse !== 0 && cse < len ? cse + 1 : len;
  if (css >= end || cso + 2 > len) return;
  let sum = finishChecksum(onesSum(buf, css, end - css));
  // As hardware: a computed zero goes out as 0xFFFF (for UDP, zero means "no checksum").
  if (sum === 0) sum = 0xffff;
  buf[cso] = sum >>> 8;
  buf[cso + 1] = sum & 0xff;
}

/** Apply the offloads `popts` (TXSM, IXSM) asks for to a single frame. */
export function applyChecksums(buf: Uint8Array, len: number, ctx: TxContext, popts: number): void {
  if ((popts & TXD_POPTS_TXSM) !== 0) insertChecksum(buf, len, ctx.tucss, ctx.tucso, ctx.tucse);
  if ((popts & TXD_POPTS_IXSM) !== 0) insertChecksum(buf, len, ctx.ipcss, ctx.ipcso, ctx.ipcse);
}

function get16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

const IPV6_HEADER = 40;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;

/**
 * Cut the super-packet `pkt[0..len)` (header of ctx.hdrLen bytes, then payload) into
 * frames built in `scratch` (at least hdrLen + mss bytes), calling `emit` with each; the
 * frame is only valid during the call. Returns the number of frames, 0 when the context
 * cannot describe this packet.
 */
export function segment(pkt: Uint8Array, len: number, ctx: TxContext, popts: number, scratch: Uint8Array, emit: (frame: Uint8Array) => void): number {
  const hdr = ctx.hdrLen;
  const mss = ctx.mss;
  if (hdr === 0 || len < hdr || mss === 0 || hdr + mss > scratch.length) return 0;
  const payload = len - hdr;
  const count = Math.max(1, Math.ceil(payload / mss));
  const ipId = get16(pkt, ctx.ipcss + 4);
  const seq = ctx.tcp ? ((pkt[ctx.tucss + 4] << 24) | (pkt[ctx.tucss + 5] << 16) | (pkt[ctx.tucss + 6] << 8) | pkt[ctx.tucss + 7]) >>> 0 : 0;
  for (let i = 0; i < count; i++) {
    const off = i * mss;
    const chunk = Math.min(mss, payload - off);
    const segLen = hdr + chunk;
    scratch.set(pkt.subarray(0, hdr), 0);
    scratch.set(pkt.subarray(hdr + off, hdr + off + chunk), hdr);
    if (ctx.ip) {
      put16(scratch, ctx.ipcss + 2, segLen - ctx.ipcss);
      put16(scratch, ctx.ipcss + 4, (ipId + i) & 0xffff);
    } else {
      put16(scratch, ctx.ipcss + 4, segLen - ctx.ipcss - IPV6_HEADER);
    }
    const l4Len = segLen - ctx.tucss;
    if (ctx.tcp) {
      const s = (seq + off) >>> 0;
      scratch[ctx.tucss + 4] = s >>> 24;
      scratch[ctx.tucss + 5] = (s >>> 16) & 0xff;
      scratch[ctx.tucss + 6] = (s >>> 8) & 0xff;
      scratch[ctx.tucss + 7] = s & 0xff;
      if (i !== count - 1) scratch[ctx.tucss + 13] &= ~(TCP_FIN | TCP_PSH);
    } else {
      put16(scratch, ctx.tucss + 4, l4Len);
    }
    if ((popts & TXD_POPTS_TXSM) !== 0) {
      // The driver left the pseudo-header sum without the length: add this segment's.
      let partial = get16(scratch, ctx.tucso) + l4Len;
      partial = (partial & 0xffff) + (partial >>> 16);
      put16(scratch, ctx.tucso, partial);
    }
    applyChecksums(scratch, segLen, ctx, popts);
    emit(scratch.subarray(0, segLen));
  }
  return count;
}
