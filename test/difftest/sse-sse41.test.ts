// Differential tests (host CPU as oracle): SSE4.1 integer instructions, register and memory forms, alignment and page faults.
import { genSse41, SSE41_FAMILIES } from './gen/sse-sse41.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: SSE4.1 integer vs host CPU',
  families: SSE41_FAMILIES,
  generate: (rng, scale) => genSse41(rng, Math.round(1200 * scale)),
});
