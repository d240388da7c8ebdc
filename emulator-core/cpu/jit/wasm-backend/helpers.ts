/**
 * The JavaScript functions a wasm region imports: the interpreter for one instruction, and
 * the slow paths of memory accesses (TLB misses, MMIO, page-crossing accesses, pages holding
 * code). Before calling one, a region has written its registers to the register file and its
 * scalars (with instrStart of the instruction) to the scalar area; each helper copies the
 * scalars into the Cpu first, so a fault it throws (FAULT) finds the Cpu exactly at the
 * faulting instruction, and copies them back after it returns (the interpreter changes them;
 * a write may set the SMC flag).
 */
import type { Cpu } from '../../cpu.js';
import { step } from '../../interpreter.js';
import type { ModuleBuilder } from '../wasm/module-builder.js';
import { ValType } from '../wasm/opcodes.js';
import type { ScalarArea } from './scalars.js';

/** Names and wasm signatures of the imports, in import order (index = function index). */
export const HELPER_NAMES = ['step', 'read8', 'read16', 'read32', 'write8', 'write16', 'write32', 'rmwRead8', 'rmwRead16', 'rmwRead32', 'rmwWrite8', 'rmwWrite16', 'rmwWrite32'] as const;
export type HelperName = (typeof HELPER_NAMES)[number];

const I = ValType.I32;
const SIGNATURES: Record<HelperName, [readonly ValType[], readonly ValType[]]> = {
  step: [[], []],
  read8: [[I], [I]],
  read16: [[I], [I]],
  read32: [[I], [I]],
  write8: [[I, I], []],
  write16: [[I, I], []],
  write32: [[I, I], []],
  rmwRead8: [[I], [I]],
  rmwRead16: [[I], [I]],
  rmwRead32: [[I], [I]],
  rmwWrite8: [[I], []],
  rmwWrite16: [[I], []],
  rmwWrite32: [[I], []],
};

/** Declare the imports in `mb` (module "h"); returns their function indices by name. */
export function importHelpers(mb: ModuleBuilder): Record<HelperName, number> {
  const out = {} as Record<HelperName, number>;
  for (const name of HELPER_NAMES) {
    const [params, results] = SIGNATURES[name];
    out[name] = mb.importFunction('h', name, mb.type(params, results));
  }
  return out;
}

/** The import object's functions, bound to one Cpu. */
export function makeHelpers(c: Cpu, area: ScalarArea): Record<HelperName, (...args: number[]) => number | void> {
  const around =
    <A extends number[], R>(fn: (...args: A) => R) =>
    (...args: A): R => {
      area.fromArea(c);
      const r = fn(...args);
      area.toArea(c);
      return r;
    };
  return {
    step: around(() => step(c)),
    read8: around((lin: number) => c.readLin8(lin)),
    read16: around((lin: number) => c.readLin16(lin)),
    read32: around((lin: number) => c.readLin32(lin)),
    write8: around((lin: number, v: number) => c.writeLin8(lin, v)),
    write16: around((lin: number, v: number) => c.writeLin16(lin, v)),
    write32: around((lin: number, v: number) => c.writeLin32(lin, v)),
    rmwRead8: around((lin: number) => c.rmwRead8(lin)),
    rmwRead16: around((lin: number) => c.rmwRead16(lin)),
    rmwRead32: around((lin: number) => c.rmwRead32(lin)),
    rmwWrite8: around((v: number) => c.rmwWrite8(v)),
    rmwWrite16: around((v: number) => c.rmwWrite16(v)),
    rmwWrite32: around((v: number) => c.rmwWrite32(v)),
  };
}
