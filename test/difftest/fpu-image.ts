/**
 * The x87 state in FNSAVE's 108-byte 32-bit protected-mode layout, which is what the native
 * harness captures; Terrarium's FpuState (physical registers R0-R7 as hex) is converted to it
 * so both sides are decoded and compared by one piece of code.
 */
import type { FpuState } from '../../emulator-core/cpu/state.js';

export const FNSAVE_BYTES = 108;

export interface DecodedFpu {
  control: number;
  status: number;
  tag: number;
  ip: number;
  opcode: number;
  dp: number;
  /** ST(0)..ST(7) as 20 hex digits (sign+exponent, then significand), as in FpuState. */
  st: string[];
}

export function fpuStateToImage(s: FpuState): Uint8Array {
  const img = new Uint8Array(FNSAVE_BYTES);
  const dv = new DataView(img.buffer);
  dv.setUint16(0, s.control, true);
  dv.setUint16(4, s.status, true);
  dv.setUint16(8, s.tag, true);
  dv.setUint32(12, s.ip >>> 0, true);
  dv.setUint16(16, s.cs, true);
  dv.setUint16(18, s.opcode & 0x7ff, true);
  dv.setUint32(20, s.dp >>> 0, true);
  dv.setUint16(24, s.ds, true);
  const top = (s.status >> 11) & 7;
  for (let i = 0; i < 8; i++) {
    const hex = s.regs[(top + i) & 7].padStart(20, '0');
    // Big-endian hex digits to the little-endian 10-byte memory format.
    for (let b = 0; b < 10; b++) img[28 + i * 10 + b] = parseInt(hex.slice(18 - 2 * b, 20 - 2 * b), 16);
  }
  return img;
}

export function decodeFnsave(img: Uint8Array): DecodedFpu {
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const st: string[] = [];
  for (let i = 0; i < 8; i++) {
    let hex = '';
    for (let b = 9; b >= 0; b--) hex += img[28 + i * 10 + b].toString(16).padStart(2, '0');
    st.push(hex);
  }
  return {
    control: dv.getUint16(0, true),
    status: dv.getUint16(4, true),
    tag: dv.getUint16(8, true),
    ip: dv.getUint32(12, true),
    opcode: dv.getUint16(18, true) & 0x7ff,
    dp: dv.getUint32(20, true),
    st,
  };
}
