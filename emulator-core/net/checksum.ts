/** The Internet checksum (RFC 1071) used by IPv4, ICMP, UDP and TCP. */

/** One's-complement sum of `len` bytes at `off`, added to `sum` (not folded, not inverted). */
export function onesSum(bytes: Uint8Array, off: number, len: number, sum = 0): number {
  let i = off;
  const end = off + len - 1;
  for (; i < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i === end) sum += bytes[i] << 8;
  // Fold now and then so the sum never leaves the safe-integer range on jumbo buffers.
  return sum > 0x7fffffff ? (sum & 0xffff) + Math.floor(sum / 0x10000) : sum;
}

/** Fold a one's-complement sum to 16 bits and invert it: the value to store in a header. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Checksum of a byte range. */
export function internetChecksum(bytes: Uint8Array, off = 0, len = bytes.length - off): number {
  return finishChecksum(onesSum(bytes, off, len));
}

/** Sum of the IPv4 pseudo-header for TCP/UDP: addresses as 32-bit numbers, protocol, length. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
