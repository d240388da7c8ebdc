// Differential tests (host CPU as oracle): SSE moves, XORPS/XORPD/PXOR, FXSAVE/FXRSTOR and
// LDMXCSR/STMXCSR, with XMM0-7 and MXCSR compared after every case.
import { genSseMoves, SSE_MOVES_FAMILIES } from './gen/sse-moves.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: SSE moves vs host CPU',
  families: SSE_MOVES_FAMILIES,
  generate: (rng, scale) => genSseMoves(rng, Math.round(250 * scale)),
});
