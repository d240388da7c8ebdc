/**
 * The SSE register file: XMM0-XMM15 and MXCSR, plus scratch slots the unit loads memory
 * operands into, so every instruction works on slot numbers whatever its operand came from.
 *
 * One ArrayBuffer seen through typed-array views of every lane width, so a handler reads
 * slot `s`, lane `i` of a width as `view[s * (16 / width) + i]` without allocating. The
 * views assume a little-endian host (checked at load), which makes lane order the guest's.
 */
import { HostError } from '../../errors.js';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new HostError('The SSE unit needs a little-endian host');
}

/** Architectural registers XMM0-XMM15 are slots 0-15. */
export const XMM_COUNT = 16;
/** Scratch slot holding a memory source operand (or a copy of a register source). */
export const SRC = 16;
/** Scratch slots for results built lane by lane before they overwrite the destination. */
export const TMP = 17;
export const TMP2 = 18;
const SLOTS = 19;

/** MXCSR after reset: all exceptions masked, round to nearest. */
export const MXCSR_RESET = 0x1f80;
/** MXCSR bits this CPU implements (DAZ included, as CPUs since the Pentium 4 do): others are reserved, #GP on load. */
export const MXCSR_MASK = 0xffff;

export class XmmFile {
  readonly buffer = new ArrayBuffer(SLOTS * 16);
  readonly u8 = new Uint8Array(this.buffer);
  readonly i8 = new Int8Array(this.buffer);
  readonly u16 = new Uint16Array(this.buffer);
  readonly i16 = new Int16Array(this.buffer);
  readonly u32 = new Uint32Array(this.buffer);
  readonly i32 = new Int32Array(this.buffer);
  readonly f32 = new Float32Array(this.buffer);
  readonly f64 = new Float64Array(this.buffer);
  readonly u64 = new BigUint64Array(this.buffer);
  readonly i64 = new BigInt64Array(this.buffer);
  mxcsr = MXCSR_RESET;

  reset(): void {
    this.u8.fill(0);
    this.mxcsr = MXCSR_RESET;
  }

  /** Copy all 16 bytes of slot `from` to slot `to`. */
  copy(to: number, from: number): void {
    if (to !== from) this.u8.copyWithin(to * 16, from * 16, from * 16 + 16);
  }

  /** Zero the bytes [from, 16) of slot `s` (a scalar load clears the rest of the register). */
  zeroFrom(s: number, from: number): void {
    this.u8.fill(0, s * 16 + from, s * 16 + 16);
  }

  /** Register `r` as 32 hex digits, most significant first (state snapshots). */
  hex(r: number): string {
    let s = '';
    for (let i = 15; i >= 0; i--) s += this.u8[r * 16 + i]!.toString(16).padStart(2, '0');
    return s;
  }

  setHex(r: number, hex: string): void {
    const h = hex.padStart(32, '0');
    for (let i = 0; i < 16; i++) this.u8[r * 16 + i] = parseInt(h.slice(30 - i * 2, 32 - i * 2), 16);
  }
}
