/**
 * SSSE3 in its XMM (66) and MMX (no prefix) forms: PSHUFB, PHADD/PHSUB (W, D, SW),
 * PMADDUBSW, PSIGN, PMULHRSW (0F 38 00-0B), PABS (0F 38 1C-1E) and PALIGNR (0F 3A 0F).
 * The lane operations are mmx.ts's laneOp/laneAlignRight on 16- or 8-byte vectors; the
 * forms and their checks are int-sse2.ts's (defineLane, mmxBegin).
 */
import { laneAlignRight, OP_0F38 } from '../mmx.js';
import { defineLane, mmxBegin, mmxSrc } from './int-sse2.js';
import { defineSse, SSE_UNGATED } from './sse-table.js';
import { SRC, TMP, TMP2 } from './xmm-file.js';

const MAP_0F38 = 2;
const MAP_0F3A = 3;

for (let op = 0x00; op <= 0x0b; op++) defineLane(MAP_0F38, op, OP_0F38 | op, true);
for (let op = 0x1c; op <= 0x1e; op++) defineLane(MAP_0F38, op, OP_0F38 | op, true);

// 0F 3A 0F: PALIGNR mm, mm/m64, imm8 and PALIGNR xmm, xmm/m128 (aligned), imm8.
defineSse(
  MAP_0F3A,
  '-',
  0x0f,
  (u, d, h) => {
    const m = mmxBegin(u, h);
    const x = u.x;
    mmxSrc(m, u, d, h);
    m.mmxRead(d.reg & 7, x.u8, TMP2 * 16);
    laneAlignRight(x, d.imm & 0xff, TMP2 * 16, SRC * 16, TMP * 16, 8);
    m.mmxEnter();
    m.mmxStore(d.reg & 7, x.u8, TMP2 * 16);
  },
  SSE_UNGATED,
);
defineSse(MAP_0F3A, '6', 0x0f, (u, d, h) => {
  const s = u.src(d, h, 16, true);
  laneAlignRight(u.x, d.imm & 0xff, d.reg * 16, s * 16, TMP * 16, 16);
});
