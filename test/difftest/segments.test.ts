// Differential tests (host CPU as oracle): segmentation, 16-bit code, stacks and addressing.
import { genSegments, SEGMENT_FAMILIES } from './gen/segments.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: segmentation and 16-bit code vs host CPU',
  families: SEGMENT_FAMILIES,
  generate: (rng, scale) => genSegments(rng, Math.round(60 * scale)),
  needsLdt: true,
  // 16-bit code runs in a segment based at CODE_BASE with a 64 KiB limit.
  batchSize: 300,
});
