/** UDP headers: checksum check for the guest's datagrams, header building for the NAT's. */
import { finishChecksum, onesSum, pseudoHeaderSum } from './checksum.js';
import { PROTO_UDP } from './ipv4.js';

export const UDP_HEADER_LENGTH = 8;

/**
 * Validate a datagram (header and data) from src to dst. Returns its data length, or -1 when
 * the length field or the checksum is wrong. A zero checksum means "not computed" in IPv4.
 */
export function checkUdp(datagram: Uint8Array, src: number, dst: number): number {
  if (datagram.length < UDP_HEADER_LENGTH) return -1;
  const length = (datagram[4] << 8) | datagram[5];
  if (length < UDP_HEADER_LENGTH || length > datagram.length) return -1;
  const stored = (datagram[6] << 8) | datagram[7];
  if (stored !== 0 && finishChecksum(onesSum(datagram, 0, length, pseudoHeaderSum(src, dst, PROTO_UDP, length))) !== 0) return -1;
  return length - UDP_HEADER_LENGTH;
}

/** Fill `header` (8 bytes) for `data` sent from src:srcPort to dst:dstPort, checksum included. */
export function writeUdpHeader(header: Uint8Array, src: number, srcPort: number, dst: number, dstPort: number, data: Uint8Array): void {
  const length = UDP_HEADER_LENGTH + data.length;
  header[0] = srcPort >>> 8;
  header[1] = srcPort & 0xff;
  header[2] = dstPort >>> 8;
  header[3] = dstPort & 0xff;
  header[4] = length >>> 8;
  header[5] = length & 0xff;
  header[6] = 0;
  header[7] = 0;
  const sum = finishChecksum(onesSum(data, 0, data.length, onesSum(header, 0, UDP_HEADER_LENGTH, pseudoHeaderSum(src, dst, PROTO_UDP, length))));
  // A computed 0 is sent as 0xffff: 0 would mean "no checksum".
  const stored = sum === 0 ? 0xffff : sum;
  header[6] = stored >>> 8;
  header[7] = stored & 0xff;
}
