/**
 * A copy of a byte range that is a copy for every Uint8Array, Buffers included: Buffer#slice
 * shares memory (it is subarray), and frames may arrive as Buffers (a tap backend, a socket).
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}
