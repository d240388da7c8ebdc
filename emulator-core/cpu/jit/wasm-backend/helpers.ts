/**
 * The JavaScript functions a wasm region imports: the interpreter for one instruction, and
 * the slow paths of memory accesses (TLB misses, MMIO, page-crossing accesses, pages holding
 * code). Before calling one, a region has written its registers to the register file and its
 * scalars (with instrStart of the instruction) to the scalar area; a helper copies the
 * scalars into the Cpu before it lets a fault (FAULT) through, so the fault finds the Cpu
 * exactly at the faulting instruction. step() gets them before and returns them after.
 */
import type { Cpu } from '../../cpu.js';
import { step } from '../../interpreter.js';
import type { ModuleBuilder } from '../wasm/module-builder.js';
import { ValType } from '../wasm/opcodes.js';
import type { ScalarArea } from './scalars.js';

/** Names and wasm signatures of the imports, in import order (index = function index). */
export const HELPER_NAMES = ['step', 'checkSegment', 'read8', 'read16', 'read32', 'write8', 'write16', 'write32', 'rmwRead8', 'rmwRead16', 'rmwRead32', 'rmwWrite8', 'rmwWrite16', 'rmwWrite32'] as const;
export type HelperName = (typeof HELPER_NAMES)[number];

const I = ValType.I32;
const SIGNATURES: Record<HelperName, [readonly ValType[], readonly ValType[]]> = {
  step: [[], []],
  checkSegment: [[I, I], []],
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

/**
 * The import object's functions, bound to one Cpu. step() needs every scalar in the Cpu and
 * changes them; a memory access needs them only when it faults (the Cpu is then left at the
 * faulting instruction), and a write may set the SMC flag.
 */
export function makeHelpers(c: Cpu, area: ScalarArea): Record<HelperName, (...args: never[]) => number | void> {
  const fault = (e: unknown): never => {
    area.fromArea(c);
    throw e;
  };
  /** After an access that may have reached a device or compiled code. */
  const after = (): void => {
    if (c.smc) area.setSmc();
    area.checkStop(c);
  };
  return {
    step: (): void => {
      area.fromArea(c);
      area.syncSlice(c);
      step(c);
      area.toArea(c);
      area.checkStop(c);
    },
    checkSegment: (seg: number, off: number): void => {
      try {
        c.checkSegment(seg, off);
      } catch (e) {
        fault(e);
      }
    },
    read8: (lin: number): number => {
      area.syncSlice(c);
      let v: number;
      try {
        v = c.readLin8(lin);
      } catch (e) {
        return fault(e);
      }
      after();
      return v;
    },
    read16: (lin: number): number => {
      area.syncSlice(c);
      let v: number;
      try {
        v = c.readLin16(lin);
      } catch (e) {
        return fault(e);
      }
      after();
      return v;
    },
    read32: (lin: number): number => {
      area.syncSlice(c);
      let v: number;
      try {
        v = c.readLin32(lin);
      } catch (e) {
        return fault(e);
      }
      after();
      return v;
    },
    write8: (lin: number, v: number): void => {
      area.syncSlice(c);
      try {
        c.writeLin8(lin, v);
      } catch (e) {
        fault(e);
      }
      after();
    },
    write16: (lin: number, v: number): void => {
      area.syncSlice(c);
      try {
        c.writeLin16(lin, v);
      } catch (e) {
        fault(e);
      }
      after();
    },
    write32: (lin: number, v: number): void => {
      area.syncSlice(c);
      try {
        c.writeLin32(lin, v);
      } catch (e) {
        fault(e);
      }
      after();
    },
    rmwRead8: (lin: number): number => {
      area.syncSlice(c);
      let v: number;
      try {
        v = c.rmwRead8(lin);
      } catch (e) {
        return fault(e);
      }
      after();
      return v;
    },
    rmwRead16: (lin: number): number => {
      area.syncSlice(c);
      let v: number;
      try {
        v = c.rmwRead16(lin);
      } catch (e) {
        return fault(e);
      }
      after();
      return v;
    },
    rmwRead32: (lin: number): number => {
      area.syncSlice(c);
      let v: number;
      try {
        v = c.rmwRead32(lin);
      } catch (e) {
        return fault(e);
      }
      after();
      return v;
    },
    // The read translated for writing: these cannot fault.
    rmwWrite8: (v: number): void => {
      c.rmwWrite8(v);
      after();
    },
    rmwWrite16: (v: number): void => {
      c.rmwWrite16(v);
      after();
    },
    rmwWrite32: (v: number): void => {
      c.rmwWrite32(v);
      after();
    },
  };
}
