// Differential tests (host CPU as oracle): ALU and BCD instructions.
import { ALU_FAMILIES, genAlu } from './gen/alu.js';
import { BCD_FAMILIES, genBcd } from './gen/bcd.js';
import { FLAGCHAIN_FAMILIES, genFlagChains } from './gen/flagchain.js';
import { diffSuite } from './vitest-glue.js';

diffSuite({
  title: 'difftest: ALU, BCD and flag chains vs host CPU',
  families: [...ALU_FAMILIES, ...BCD_FAMILIES, ...FLAGCHAIN_FAMILIES],
  generate: (rng, scale) => [...genAlu(rng, Math.round(150 * scale)), ...genBcd(rng, Math.round(150 * scale)), ...genFlagChains(rng, Math.round(600 * scale))],
});
