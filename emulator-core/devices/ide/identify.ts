/** Helpers for the 512-byte IDENTIFY (PACKET) DEVICE blocks of both device kinds. */

/**
 * ATA strings put the first character of each pair in the high byte of a word, padded
 * with spaces. Characters outside printable ASCII become '?'.
 */
export function putAtaString(id: Uint16Array, word: number, bytes: number, text: string): void {
  for (let i = 0; i < bytes; i += 2) {
    id[word + i / 2] = (asciiAt(text, i) << 8) | asciiAt(text, i + 1);
  }
}

/** Space-padded ASCII for SCSI INQUIRY fields (plain byte order). */
export function putScsiString(buf: Uint8Array, offset: number, bytes: number, text: string): void {
  for (let i = 0; i < bytes; i++) buf[offset + i] = asciiAt(text, i);
}

function asciiAt(text: string, i: number): number {
  if (i >= text.length) return 0x20;
  const c = text.charCodeAt(i);
  return c >= 0x20 && c < 0x7f ? c : 0x3f;
}

/** Word 255: signature 0xA5 and a checksum byte making the 512 bytes sum to zero. */
export function setIdentifyChecksum(id: Uint16Array): void {
  id[255] = 0x00a5;
  let sum = 0;
  for (let w = 0; w < 256; w++) sum += (id[w] & 0xff) + (id[w] >>> 8);
  id[255] |= ((0x100 - (sum & 0xff)) & 0xff) << 8;
}

/**
 * Word 93, the hardware reset result. Device 0 says whether it saw device 1 (DASP-) or
 * answers for it (SeaBIOS then skips probing the slave); bit 13 reports an 80-conductor
 * cable so drivers that trust the drive allow fast UDMA modes.
 */
export function word93(unit: 0 | 1, peerPresent: boolean): number {
  if (unit === 1) return 0x4000 | 0x2000 | 0x0100 | 0x0200 | 0x0800;
  return 0x4000 | 0x2000 | 0x0001 | 0x0002 | 0x0008 | (peerPresent ? 0x0020 : 0x0040);
}

/** A serial number that stays the same for the same image (Linux names disks by it). */
export function stableSerial(prefix: string, seed: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return prefix + (h >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
