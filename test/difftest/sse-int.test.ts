// Differential tests (host CPU as oracle): SSE2 integer instructions on XMM registers, the
// SSE/SSE2 integer additions on MMX registers and SSSE3 in both forms, with XMM0-7, MXCSR
// and the x87/MMX state compared after every case.
import { genSseInt, SSE_INT_FAMILIES } from './gen/sse-int.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: SSE2/SSSE3 integer vs host CPU',
  families: SSE_INT_FAMILIES,
  generate: (rng, scale) => genSseInt(rng, Math.round(250 * scale)),
});

// The same mix through both JIT code generators (SSE instructions run as interpreter
// fallbacks inside compiled blocks; each case runs until compiled, so fewer of them).
for (const backend of ['js', 'wasm'] as const) {
  diffSuite({
    title: `difftest: SSE2/SSSE3 integer under the block JIT (${backend}) vs host CPU`,
    families: SSE_INT_FAMILIES,
    generate: (rng, scale) => genSseInt(rng, Math.max(1, Math.round(25 * scale))),
    jit: true,
    jitBackend: backend,
  });
}
