/** IPv4 headers: parse with validation, build with the header checksum. */
import { internetChecksum } from './checksum.js';
import { readIpv4, writeIpv4 } from './addresses.js';

export const IPV4_HEADER_LENGTH = 20;
export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const DEFAULT_TTL = 64;

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;

/** One parsed header; the NAT reuses a single instance per frame instead of allocating. */
export class Ipv4Header {
  headerLength = 0;
  totalLength = 0;
  id = 0;
  moreFragments = false;
  /** Fragment offset in bytes. */
  fragmentOffset = 0;
  ttl = 0;
  protocol = 0;
  src = 0;
  dst = 0;

  get isFragment(): boolean {
    return this.moreFragments || this.fragmentOffset !== 0;
  }

  /**
   * Parse the header at `off`, `available` bytes long. false when the packet is malformed:
   * not version 4, a bad length or a bad header checksum.
   */
  parse(bytes: Uint8Array, off: number, available: number): boolean {
    if (available < IPV4_HEADER_LENGTH) return false;
    const versionIhl = bytes[off];
    if (versionIhl >>> 4 !== 4) return false;
    const headerLength = (versionIhl & 0x0f) * 4;
    const totalLength = (bytes[off + 2] << 8) | bytes[off + 3];
    // Frames may carry Ethernet padding after the packet, never less than the packet.
    if (headerLength < IPV4_HEADER_LENGTH || totalLength < headerLength || totalLength > available) return false;
    if (internetChecksum(bytes, off, headerLength) !== 0) return false;
    const flagsOffset = (bytes[off + 6] << 8) | bytes[off + 7];
    this.headerLength = headerLength;
    this.totalLength = totalLength;
    this.id = (bytes[off + 4] << 8) | bytes[off + 5];
    this.moreFragments = (flagsOffset & FLAG_MF) !== 0;
    this.fragmentOffset = (flagsOffset & 0x1fff) * 8;
    this.ttl = bytes[off + 8];
    this.protocol = bytes[off + 9];
    this.src = readIpv4(bytes, off + 12);
    this.dst = readIpv4(bytes, off + 16);
    return true;
  }
}

export interface Ipv4HeaderFields {
  src: number;
  dst: number;
  protocol: number;
  id: number;
  /** Bytes after the header in this packet (or fragment). */
  payloadLength: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** Byte offset of this fragment; a multiple of 8. */
  fragmentOffset?: number;
  ttl?: number;
}

/** Write a 20-byte header (no options) at `off`, checksum included. */
export function writeIpv4Header(bytes: Uint8Array, off: number, f: Ipv4HeaderFields): void {
  const total = IPV4_HEADER_LENGTH + f.payloadLength;
  const flagsOffset = (f.dontFragment ? FLAG_DF : 0) | (f.moreFragments ? FLAG_MF : 0) | ((f.fragmentOffset ?? 0) >>> 3);
  bytes[off] = 0x45;
  bytes[off + 1] = 0;
  bytes[off + 2] = total >>> 8;
  bytes[off + 3] = total & 0xff;
  bytes[off + 4] = (f.id >>> 8) & 0xff;
  bytes[off + 5] = f.id & 0xff;
  bytes[off + 6] = flagsOffset >>> 8;
  bytes[off + 7] = flagsOffset & 0xff;
  bytes[off + 8] = f.ttl ?? DEFAULT_TTL;
  bytes[off + 9] = f.protocol;
  bytes[off + 10] = 0;
  bytes[off + 11] = 0;
  writeIpv4(bytes, off + 12, f.src);
  writeIpv4(bytes, off + 16, f.dst);
  const sum = internetChecksum(bytes, off, IPV4_HEADER_LENGTH);
  bytes[off + 10] = sum >>> 8;
  bytes[off + 11] = sum & 0xff;
}
