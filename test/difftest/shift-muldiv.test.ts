// Differential tests (host CPU as oracle): shifts and rotates, multiply and divide, bit operations.
import { BITS_FAMILIES, genBits } from './gen/bits.js';
import { genMulDiv, MULDIV_FAMILIES } from './gen/muldiv.js';
import { genShift, SHIFT_FAMILIES } from './gen/shift.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: shifts, multiply/divide and bit operations vs host CPU',
  families: [...SHIFT_FAMILIES, ...MULDIV_FAMILIES, ...BITS_FAMILIES],
  generate: (rng, scale) => [...genShift(rng, Math.round(200 * scale)), ...genMulDiv(rng, Math.round(200 * scale)), ...genBits(rng, Math.round(150 * scale))],
});
