// Differential tests (host CPU as oracle): exceptions raised in user mode and where they point.
import { EXCEPTION_FAMILIES, genExceptions } from './gen/exceptions.js';
import { genPageFaults, PAGEFAULT_FAMILIES } from './gen/pagefault.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: exceptions vs host CPU',
  families: [...EXCEPTION_FAMILIES, ...PAGEFAULT_FAMILIES],
  generate: (rng, scale) => [...genExceptions(rng, Math.round(60 * scale)), ...genPageFaults(rng, Math.round(150 * scale))],
});
