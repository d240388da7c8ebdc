// Differential tests (host CPU as oracle): exceptions raised in user mode and where they point.
import { EXCEPTION_FAMILIES, genExceptions } from './gen/exceptions.js';
import { genHotFaults, HOTFAULT_FAMILIES } from './gen/hotfault.js';
import { genPageFaults, PAGEFAULT_FAMILIES } from './gen/pagefault.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: exceptions vs host CPU',
  families: [...EXCEPTION_FAMILIES, ...PAGEFAULT_FAMILIES, ...HOTFAULT_FAMILIES],
  generate: (rng, scale) => [...genExceptions(rng, Math.round(60 * scale)), ...genPageFaults(rng, Math.round(150 * scale)), ...genHotFaults(rng, Math.round(100 * scale))],
});
