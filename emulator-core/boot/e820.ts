/** The PC physical memory map reported to guests (BIOS e820 / Linux boot_params). */
export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

/** Conventional memory ends below the EBDA; the BIOS area and ROMs are reserved. */
export const LOW_RAM_END = 0x9fc00;

/** Memory map for a PC with `ramBytes` of RAM below the 32-bit hole. */
export function pcMemoryMap(ramBytes: number): E820Entry[] {
  const map: E820Entry[] = [
    { addr: 0, size: LOW_RAM_END, type: E820_RAM },
    { addr: LOW_RAM_END, size: 0xa0000 - LOW_RAM_END, type: E820_RESERVED },
    { addr: 0xf0000, size: 0x10000, type: E820_RESERVED },
  ];
  if (ramBytes > 0x100000) map.push({ addr: 0x100000, size: ramBytes - 0x100000, type: E820_RAM });
  return map;
}
