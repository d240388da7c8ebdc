/** Ethernet II framing (no FCS, no VLAN tags: the NAT drops tagged frames). */

export const ETH_HEADER_LENGTH = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
/** Largest IPv4 packet in one frame toward the guest (the e1000's standard MTU). */
export const MTU = 1500;
export const MAX_FRAME_LENGTH = ETH_HEADER_LENGTH + MTU;

export function etherType(frame: Uint8Array): number {
  return (frame[12] << 8) | frame[13];
}

export function isBroadcastMac(bytes: Uint8Array, off: number): boolean {
  return (bytes[off] & bytes[off + 1] & bytes[off + 2] & bytes[off + 3] & bytes[off + 4] & bytes[off + 5]) === 0xff;
}

export function sameMac(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

export function writeEthernetHeader(frame: Uint8Array, dst: Uint8Array, src: Uint8Array, type: number): void {
  frame.set(dst, 0);
  frame.set(src, 6);
  frame[12] = type >>> 8;
  frame[13] = type & 0xff;
}
