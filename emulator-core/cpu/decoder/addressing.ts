/**
 * The memory operand of a ModRM byte (mod != 3): SIB, displacement and the default
 * segment, for 16-bit addressing and for 32/64-bit addressing with REX and RIP-relative.
 */
import { BP, BX, DI, SI, type DecodedInsn } from './decoded-insn.js';
import type { InsnCursor } from './insn-cursor.js';

const SS = 2;
const DS = 3;
// 16-bit addressing by ModRM.rm: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 alone when
// mod = 0), BX.
const BASE16 = [BX, BX, BP, BP, SI, DI, BP, BX];
const INDEX16 = [SI, DI, SI, DI, -1, -1, -1, -1];

/** Fill d's base, index, scale, disp, ripRel and defSeg; cur.status says if bytes ran out. */
export function decodeAddress(cur: InsnCursor, d: DecodedInsn, modrm: number, rex: number, addrSize: number, mode64: boolean): void {
  const mod = modrm >> 6;
  const rm = modrm & 7;
  let base: number;
  let index = -1;
  let scale = 0;
  let disp = 0;
  let ripRel = false;
  if (addrSize === 2) {
    if (mod === 0 && rm === 6) {
      base = -1;
      disp = (cur.u16() << 16) >> 16;
    } else {
      base = BASE16[rm];
      index = INDEX16[rm];
    }
  } else if (rm === 4) {
    const sib = cur.u8();
    scale = sib >> 6;
    // Index 100 means none; with REX.X it is R12.
    const i = ((sib >> 3) & 7) | ((rex & 2) << 2);
    if (i !== 4) index = i;
    if ((sib & 7) === 5 && mod === 0) {
      // No base, disp32 (REX.B does not matter: R13 needs mod != 0 here too).
      base = -1;
      disp = cur.u32();
    } else base = (sib & 7) | ((rex & 1) << 3);
  } else if (rm === 5 && mod === 0) {
    base = -1;
    disp = cur.u32();
    ripRel = mode64;
  } else base = rm | ((rex & 1) << 3);
  if (mod === 1) disp = (cur.u8() << 24) >> 24;
  else if (mod === 2) disp = addrSize === 2 ? (cur.u16() << 16) >> 16 : cur.u32();
  d.base = base;
  d.index = index;
  d.scale = scale;
  d.disp = disp;
  d.ripRel = ripRel;
  // SP and BP (only those: R12/R13 are not stack references) address the stack.
  d.defSeg = base === 4 || base === 5 ? SS : DS;
}
