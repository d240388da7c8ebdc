/**
 * The SSE unit and its instruction families. Importing this module defines every family's
 * instructions in the SSE table (sse-table.ts); add a family by importing it here.
 */
import './moves.js'; // MOVUPS/MOVAPS/MOVDQA/MOVDQU/MOVSS/MOVSD/MOVD/MOVQ, XORPS/PXOR
import './float-arith.js'; // SSE-SSE4.1 floating-point arithmetic, compares, conversions, MXCSR exceptions
import './float-moves.js'; // floating-point shuffles, unpacks, blends, logic, MOVH/L, MOVMSK
import './int-sse2.js'; // SSE2 integer instructions on XMM (lane ALU shared with MMX) and the SSE MMX additions
import './int-ssse3.js'; // SSSE3, XMM and MMX forms
import './int-sse41.js'; // SSE4.1 integer instructions
import './sse42.js'; // SSE4.2: PCMPxSTRx, PCMPGTQ, CRC32; POPCNT

export { SseUnit } from './sse-unit.js';
export type { SseHost } from './sse-host.js';
