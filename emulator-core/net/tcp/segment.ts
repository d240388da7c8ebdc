/** TCP header parsing and building (RFC 793 §3.1, options from RFC 7323 and RFC 879). */
import { finishChecksum, onesSum, pseudoHeaderSum } from '../checksum.js';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export const IP_PROTOCOL_TCP = 6;
export const TCP_HEADER_BYTES = 20;
/** MSS (4 bytes) + NOP + window scale (3 bytes): the options this engine puts on a SYN. */
export const SYN_OPTION_BYTES = 8;
/** Largest shift RFC 7323 allows. */
export const MAX_WINDOW_SCALE = 14;

export const EMPTY_BYTES = new Uint8Array(0);

/** The fields of one incoming segment. The engine parses every input into one reused instance. */
export class ParsedSegment {
  bytes: Uint8Array = EMPTY_BYTES;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  /** The raw 16-bit window field (unscaled). */
  window = 0;
  dataOffset = 0;
  dataLength = 0;
  /** Options, read on SYN segments only: 0 / -1 when absent. */
  mss = 0;
  windowScale = -1;

  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }
}

/** Fill `out` from `bytes`; false when the header is malformed. */
export function parseSegment(bytes: Uint8Array, out: ParsedSegment): boolean {
  if (bytes.length < TCP_HEADER_BYTES) return false;
  const headerLength = (bytes[12] >> 4) * 4;
  if (headerLength < TCP_HEADER_BYTES || headerLength > bytes.length) return false;
  out.bytes = bytes;
  out.srcPort = (bytes[0] << 8) | bytes[1];
  out.dstPort = (bytes[2] << 8) | bytes[3];
  out.seq = ((bytes[4] << 24) | (bytes[5] << 16) | (bytes[6] << 8) | bytes[7]) >>> 0;
  out.ack = ((bytes[8] << 24) | (bytes[9] << 16) | (bytes[10] << 8) | bytes[11]) >>> 0;
  out.flags = bytes[13] & 0x3f;
  out.window = (bytes[14] << 8) | bytes[15];
  out.dataOffset = headerLength;
  out.dataLength = bytes.length - headerLength;
  out.mss = 0;
  out.windowScale = -1;
  if ((out.flags & SYN) !== 0 && headerLength > TCP_HEADER_BYTES) parseSynOptions(bytes, headerLength, out);
  return true;
}

function parseSynOptions(bytes: Uint8Array, end: number, out: ParsedSegment): void {
  let i = TCP_HEADER_BYTES;
  while (i < end) {
    const kind = bytes[i];
    if (kind === 0) return; // end of options
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) return;
    const len = bytes[i + 1];
    if (len < 2 || i + len > end) return;
    if (kind === 2 && len === 4) out.mss = (bytes[i + 2] << 8) | bytes[i + 3];
    else if (kind === 3 && len === 3) out.windowScale = Math.min(bytes[i + 2], MAX_WINDOW_SCALE);
    i += len;
  }
}

/** Whether a segment's checksum (over the IPv4 pseudo-header) is right. */
export function checksumOk(srcIp: number, dstIp: number, segment: Uint8Array): boolean {
  const sum = onesSum(segment, 0, segment.length, pseudoHeaderSum(srcIp, dstIp, IP_PROTOCOL_TCP, segment.length));
  return finishChecksum(sum) === 0;
}

/** Write a 20-byte header (plus `optionBytes` of room for options) at the start of `buf`. */
export function writeHeader(
  buf: Uint8Array,
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  optionBytes = 0,
): void {
  buf[0] = srcPort >>> 8;
  buf[1] = srcPort & 0xff;
  buf[2] = dstPort >>> 8;
  buf[3] = dstPort & 0xff;
  buf[4] = seq >>> 24;
  buf[5] = (seq >>> 16) & 0xff;
  buf[6] = (seq >>> 8) & 0xff;
  buf[7] = seq & 0xff;
  buf[8] = ack >>> 24;
  buf[9] = (ack >>> 16) & 0xff;
  buf[10] = (ack >>> 8) & 0xff;
  buf[11] = ack & 0xff;
  buf[12] = ((TCP_HEADER_BYTES + optionBytes) / 4) << 4;
  buf[13] = flags;
  buf[14] = window >>> 8;
  buf[15] = window & 0xff;
  buf[16] = 0;
  buf[17] = 0;
  buf[18] = 0;
  buf[19] = 0;
}

/** The SYN options: MSS, then (when windowScale >= 0) NOP + window scale; SYN_OPTION_BYTES long. */
export function writeSynOptions(buf: Uint8Array, mss: number, windowScale: number): void {
  const o = TCP_HEADER_BYTES;
  buf[o] = 2;
  buf[o + 1] = 4;
  buf[o + 2] = mss >>> 8;
  buf[o + 3] = mss & 0xff;
  if (windowScale >= 0) {
    buf[o + 4] = 1;
    buf[o + 5] = 3;
    buf[o + 6] = 3;
    buf[o + 7] = windowScale;
  } else {
    buf.fill(0, o + 4, o + 8); // end-of-options padding
  }
}

/** Store the checksum of a complete segment travelling from srcIp to dstIp. */
export function fillChecksum(segment: Uint8Array, srcIp: number, dstIp: number): void {
  segment[16] = 0;
  segment[17] = 0;
  const sum = onesSum(segment, 0, segment.length, pseudoHeaderSum(srcIp, dstIp, IP_PROTOCOL_TCP, segment.length));
  const c = finishChecksum(sum);
  segment[16] = c >>> 8;
  segment[17] = c & 0xff;
}
