// Differential tests (host CPU as oracle) of the block JIT: the cases of the other suites,
// each run until its blocks are compiled, with the compiled run compared to the host.
import { ALU_FAMILIES, genAlu } from './gen/alu.js';
import { BCD_FAMILIES, genBcd } from './gen/bcd.js';
import { BITS_FAMILIES, genBits } from './gen/bits.js';
import { EXCEPTION_FAMILIES, genExceptions } from './gen/exceptions.js';
import { FLAGCHAIN_FAMILIES, genFlagChains } from './gen/flagchain.js';
import { genHotFaults, HOTFAULT_FAMILIES } from './gen/hotfault.js';
import { genMisc, MISC_FAMILIES } from './gen/misc.js';
import { genMmx, MMX_FAMILIES } from './gen/mmx.js';
import { genMulDiv, MULDIV_FAMILIES } from './gen/muldiv.js';
import { genPrefixes, PREFIX_FAMILIES } from './gen/prefixes.js';
import { genSegments, SEGMENT_FAMILIES } from './gen/segments.js';
import { genPageFaults, PAGEFAULT_FAMILIES } from './gen/pagefault.js';
import { genShift, SHIFT_FAMILIES } from './gen/shift.js';
import { genSmc, SMC_FAMILIES } from './gen/smc.js';
import { genStack, STACK_FAMILIES } from './gen/stack.js';
import { genString, STRING_FAMILIES } from './gen/string.js';
import { genX87, X87_FAMILIES } from './gen/x87.js';
import type { DiffCase } from './case.js';
import { diffSuite } from './vitest-glue.js';

/** The same case mix as the interpreter suites, fewer of each (every case runs 14 times). */
function generate(rng: import('./prng.js').Rng, scale: number): DiffCase[] {
  const n = (k: number): number => Math.max(1, Math.round(k * scale));
  return [
    ...genAlu(rng, n(15)),
    ...genBcd(rng, n(10)),
    ...genShift(rng, n(15)),
    ...genMulDiv(rng, n(15)),
    ...genBits(rng, n(10)),
    ...genMisc(rng, n(15)),
    ...genString(rng, n(15)),
    ...genStack(rng, n(15)),
    ...genExceptions(rng, n(5)),
    ...genPageFaults(rng, n(15)),
    ...genX87(rng, n(8)),
    ...genMmx(rng, n(15)),
    ...genFlagChains(rng, n(150)),
    ...genPrefixes(rng, n(40)),
    ...genHotFaults(rng, n(60)),
    ...genSmc(rng, n(40)),
  ];
}

const ALL_FAMILIES = [
  ...ALU_FAMILIES,
  ...BCD_FAMILIES,
  ...SHIFT_FAMILIES,
  ...MULDIV_FAMILIES,
  ...BITS_FAMILIES,
  ...MISC_FAMILIES,
  ...STRING_FAMILIES,
  ...STACK_FAMILIES,
  ...EXCEPTION_FAMILIES,
  ...PAGEFAULT_FAMILIES,
  ...X87_FAMILIES,
  ...MMX_FAMILIES,
  ...FLAGCHAIN_FAMILIES,
  ...PREFIX_FAMILIES,
  ...HOTFAULT_FAMILIES,
  ...SMC_FAMILIES,
];

// Each code generator (JitOptions.backend) runs the same mix.
for (const backend of ['js', 'wasm'] as const) {
  const name = backend === 'js' ? 'block JIT' : 'block JIT (wasm backend)';
  diffSuite({
    title: `difftest: ${name} vs host CPU`,
    families: ALL_FAMILIES,
    generate,
    jit: true,
    jitBackend: backend,
  });

  // Segmentation and 16-bit code under the JIT (non-flat and 16-bit block modes).
  diffSuite({
    title: `difftest: ${name} with segments and 16-bit code vs host CPU`,
    families: SEGMENT_FAMILIES,
    generate: (rng, scale) => genSegments(rng, Math.max(1, Math.round(15 * scale))),
    needsLdt: true,
    batchSize: 300,
    jit: true,
    jitBackend: backend,
  });
}
