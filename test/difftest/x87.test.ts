// Differential tests (host CPU as oracle): x87 arithmetic, conversions, compares and control.
import { genX87, X87_FAMILIES } from './gen/x87.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: x87 vs host CPU',
  families: X87_FAMILIES,
  generate: (rng, scale) => genX87(rng, Math.round(120 * scale)),
});
