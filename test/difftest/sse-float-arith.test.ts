// Differential tests (host CPU as oracle): SSE-SSE4.1 floating-point arithmetic, compares,
// conversions, SSE3 and SSE4.1 (emulator-core/cpu/sse/float-arith.ts), 32-bit code with
// memory operands, on the interpreter and through the block JIT (which hands SSE
// instructions to the interpreter). Lane-level host comparison with far more cases and the
// 64-bit REX.W forms: sse-float/sse-float.test.ts.
import { genSseFloatArith, SSE_FLOAT_ARITH_FAMILIES } from './gen/sse-float-arith.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: SSE float arithmetic vs host CPU',
  families: SSE_FLOAT_ARITH_FAMILIES,
  generate: (rng, scale) => genSseFloatArith(rng, Math.round(150 * scale)),
});

diffSuite({
  title: 'difftest: SSE float arithmetic through the block JIT vs host CPU',
  families: SSE_FLOAT_ARITH_FAMILIES,
  generate: (rng, scale) => genSseFloatArith(rng, Math.max(1, Math.round(20 * scale))),
  jit: true,
});
