/**
 * New MAC addresses for the VMs' network adapters: QEMU's locally administered 52:54:00
 * prefix and three bytes of our own, from a strong random source (or derived, for upgraded
 * configs). Pure (no Node imports): the Settings dialog's "regenerate" uses it too.
 * Checking a MAC is emulator-core/net/forward-rules.ts's checkMac.
 */
export const MAC_PREFIX = '52:54:00';

/** 52:54:00 followed by the first three of these bytes. */
export function macFromBytes(bytes: Uint8Array): string {
  if (bytes.length < 3) throw new RangeError('A MAC needs three bytes after the prefix.');
  return [MAC_PREFIX, ...Array.from(bytes.subarray(0, 3), (b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** A fresh MAC (Web Crypto: present in Node and in the browser). */
export function randomMac(): string {
  return macFromBytes(globalThis.crypto.getRandomValues(new Uint8Array(3)));
}
