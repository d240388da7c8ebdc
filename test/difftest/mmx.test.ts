// Differential tests (host CPU as oracle): MMX instructions and x87/MMX transitions.
import { genMmx, MMX_FAMILIES } from './gen/mmx.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: MMX vs host CPU',
  families: MMX_FAMILIES,
  generate: (rng, scale) => genMmx(rng, Math.round(300 * scale)),
});
