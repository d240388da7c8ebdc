/**
 * Addresses of the NAT's virtual network (QEMU's and VirtualBox's layout) and the IPv4/MAC
 * conversions every NAT module uses. IPv4 addresses are unsigned 32-bit numbers inside the NAT.
 */

/** 10.0.2.0/24 */
export const NAT_NETWORK = 0x0a000200;
export const NAT_NETMASK = 0xffffff00;
export const NAT_BROADCAST = 0x0a0002ff;
/** The gateway: the NAT itself, and the host's loopback unless host access is blocked. */
export const GATEWAY_IP = 0x0a000202;
/** The DNS forwarder. */
export const DNS_IP = 0x0a000203;
/** The first address the DHCP server leases. */
export const FIRST_GUEST_IP = 0x0a00020f;
export const LIMITED_BROADCAST = 0xffffffff;

export const BROADCAST_MAC: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** MAC of one of the NAT's own addresses: 52:55 followed by the IPv4 address, as QEMU's slirp. */
export function natMacFor(ip: number): Uint8Array {
  return new Uint8Array([0x52, 0x55, ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff]);
}

export const GATEWAY_MAC: Uint8Array = natMacFor(GATEWAY_IP);
export const DNS_MAC: Uint8Array = natMacFor(DNS_IP);

/** "a.b.c.d" to a number, or null when it is not a dotted-quad IPv4 address. */
export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const byte = Number(part);
    if (byte > 255) return null;
    value = value * 256 + byte;
  }
  return value >>> 0;
}

export function formatIpv4(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

export function readIpv4(bytes: Uint8Array, off: number): number {
  return ((bytes[off] << 24) | (bytes[off + 1] << 16) | (bytes[off + 2] << 8) | bytes[off + 3]) >>> 0;
}

export function writeIpv4(bytes: Uint8Array, off: number, ip: number): void {
  bytes[off] = ip >>> 24;
  bytes[off + 1] = (ip >>> 16) & 0xff;
  bytes[off + 2] = (ip >>> 8) & 0xff;
  bytes[off + 3] = ip & 0xff;
}

export function formatMac(mac: Uint8Array, off = 0): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(mac[off + i].toString(16).padStart(2, '0'));
  return out.join(':');
}

export function isInNatNetwork(ip: number): boolean {
  return ((ip & NAT_NETMASK) >>> 0) === NAT_NETWORK;
}

/** An address the guest may use as its own: inside 10.0.2.0/24, not the NAT's, network or broadcast. */
export function isGuestSideAddress(ip: number): boolean {
  return isInNatNetwork(ip) && ip !== NAT_NETWORK && ip !== NAT_BROADCAST && ip !== GATEWAY_IP && ip !== DNS_IP;
}

/** 0.0.0.0/8, 127.0.0.0/8, multicast 224.0.0.0/4 and reserved 240.0.0.0/4 (which holds the broadcast). */
export function isNeverRoutable(ip: number): boolean {
  const first = ip >>> 24;
  return first === 0 || first === 127 || first >= 224;
}
