// Differential tests (host CPU as oracle): data movement, conditions, exchanges, LEA, flag instructions.
import { genMisc, MISC_FAMILIES } from './gen/misc.js';
import { genPrefixes, PREFIX_FAMILIES } from './gen/prefixes.js';
import { genSmc, SMC_FAMILIES } from './gen/smc.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: data movement and conditions vs host CPU',
  families: [...MISC_FAMILIES, ...PREFIX_FAMILIES, ...SMC_FAMILIES],
  generate: (rng, scale) => [...genMisc(rng, Math.round(150 * scale)), ...genPrefixes(rng, Math.round(300 * scale)), ...genSmc(rng, Math.round(100 * scale))],
});
