// Differential tests (host CPU as oracle): string instructions and the stack.
import { genStack, STACK_FAMILIES } from './gen/stack.js';
import { genString, STRING_FAMILIES } from './gen/string.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: string and stack instructions vs host CPU',
  families: [...STRING_FAMILIES, ...STACK_FAMILIES],
  generate: (rng, scale) => [...genString(rng, Math.round(150 * scale)), ...genStack(rng, Math.round(120 * scale))],
});
