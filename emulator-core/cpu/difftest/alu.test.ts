// Differential tests (host CPU as oracle): ALU and BCD instructions.
import { ALU_FAMILIES, genAlu } from './gen/alu.js';
import { BCD_FAMILIES, genBcd } from './gen/bcd.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: ALU and BCD vs host CPU',
  families: [...ALU_FAMILIES, ...BCD_FAMILIES],
  generate: (rng, scale) => [...genAlu(rng, Math.round(150 * scale)), ...genBcd(rng, Math.round(150 * scale))],
});
