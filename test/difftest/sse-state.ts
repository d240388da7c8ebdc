/**
 * How SSE state is shown in difference reports (32-bit and 64-bit suites): XMM registers as
 * four dwords, MXCSR with its fields named.
 */

/** An XMM register's 16 bytes as four dwords, most significant first: "7fc00000_00000000_3f800000_00000000". */
export function xmmHex(bytes: Uint8Array, reg = 0): string {
  const lanes: string[] = [];
  for (let l = 3; l >= 0; l--) {
    let v = '';
    for (let b = 3; b >= 0; b--) v += bytes[reg * 16 + l * 4 + b].toString(16).padStart(2, '0');
    lanes.push(v);
  }
  return lanes.join('_');
}

/** MXCSR with its fields spelled out: "0x00001f80 [IM DM ZM OM UM PM RC=nearest]". */
export function describeMxcsr(v: number): string {
  const bits: [number, string][] = [
    [0x0001, 'IE'],
    [0x0002, 'DE'],
    [0x0004, 'ZE'],
    [0x0008, 'OE'],
    [0x0010, 'UE'],
    [0x0020, 'PE'],
    [0x0040, 'DAZ'],
    [0x0080, 'IM'],
    [0x0100, 'DM'],
    [0x0200, 'ZM'],
    [0x0400, 'OM'],
    [0x0800, 'UM'],
    [0x1000, 'PM'],
    [0x8000, 'FZ'],
  ];
  const names = bits.filter(([b]) => (v & b) !== 0).map(([, n]) => n);
  const rc = ['nearest', 'down', 'up', 'zero'][(v >> 13) & 3];
  const reserved = v & 0xffff0000 ? ` reserved=0x${(v >>> 16).toString(16)}` : '';
  return `0x${(v >>> 0).toString(16).padStart(8, '0')} [${names.join(' ')} RC=${rc}${reserved}]`;
}
