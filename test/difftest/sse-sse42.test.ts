// Differential tests (host CPU as oracle): SSE4.2 string compares, PCMPGTQ, CRC32, POPCNT, MOVBE, and their memory faults.
import { genSse42, SSE42_FAMILIES } from './gen/sse-sse42.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: SSE4.2 vs host CPU',
  families: SSE42_FAMILIES,
  generate: (rng, scale) => genSse42(rng, Math.round(1200 * scale)),
});
