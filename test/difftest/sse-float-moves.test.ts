// Differential tests (host CPU as oracle): SSE-SSE4.1 moves, shuffles, blends, logic and
// insert/extract (emulator-core/cpu/sse/float-moves.ts), 32-bit code, on the interpreter
// and through the block JIT (whose compiled blocks hand SSE instructions to the interpreter).
// 64-bit code: sse-float-moves64.test.ts.
import { FLOAT_MOVES_FAMILIES, genFloatMoves } from './gen/sse-float-moves.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: SSE float moves vs host CPU',
  families: FLOAT_MOVES_FAMILIES,
  generate: (rng, scale) => genFloatMoves(rng, Math.round(40 * scale)),
});

diffSuite({
  title: 'difftest: SSE float moves through the block JIT vs host CPU',
  families: FLOAT_MOVES_FAMILIES,
  generate: (rng, scale) => genFloatMoves(rng, Math.max(1, Math.round(8 * scale))),
  jit: true,
});
