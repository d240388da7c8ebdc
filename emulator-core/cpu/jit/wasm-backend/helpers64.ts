/**
 * The JavaScript functions a 64-bit region imports: the 64-bit interpreter for one
 * instruction, and the slow paths of memory accesses by 64-bit linear address (TLB misses,
 * MMIO, page-crossing accesses, pages holding code, non-canonical addresses). Addresses
 * and values cross as int32 halves, so no BigInt is made; a 64-bit read returns its low
 * half and leaves the high half at CPU_STATE.VALUE_HI. The contract is helpers.ts's: the
 * region has stored its registers and scalars (with the instruction's start) before the
 * call, and a helper copies the scalars into the Cpu before it lets a fault through.
 */
import type { Cpu } from '../../cpu.js';
import { checkWritable64, readSized, writeSized } from '../../long/memory.js';
import { step64 } from '../../long/exec64.js';
import { CPU_STATE } from '../../state-layout.js';
import type { ModuleBuilder } from '../wasm/module-builder.js';
import { ValType } from '../wasm/opcodes.js';
import type { ScalarArea } from './scalars.js';

/** Names of the imports, in import order. */
export const HELPER64_NAMES = ['step', 'read', 'write', 'checkWrite'] as const;
export type Helper64Name = (typeof HELPER64_NAMES)[number];

const I = ValType.I32;
const SIGNATURES: Record<Helper64Name, [readonly ValType[], readonly ValType[]]> = {
  step: [[], []],
  /** (lo, hi, bytes, stackRef) -> low half */
  read: [[I, I, I, I], [I]],
  /** (lo, hi, bytes, valueLo, valueHi, stackRef) */
  write: [[I, I, I, I, I, I], []],
  /** (lo, hi, bytes, stackRef): fault now unless the operand can be written */
  checkWrite: [[I, I, I, I], []],
};

/** Declare the imports in `mb` (module "h"); returns their function indices by name. */
export function importHelpers64(mb: ModuleBuilder): Record<Helper64Name, number> {
  const out = {} as Record<Helper64Name, number>;
  for (const name of HELPER64_NAMES) {
    const [params, results] = SIGNATURES[name];
    out[name] = mb.importFunction('h', name, mb.type(params, results));
  }
  return out;
}

/** The import object's functions, bound to one Cpu. */
export function makeHelpers64(c: Cpu, area: ScalarArea): Record<Helper64Name, (...args: never[]) => number | void> {
  const valueHi = (c.stateBase + CPU_STATE.VALUE_HI) >>> 2;
  const i32 = c.mem.i32;
  const fault = (e: unknown): never => {
    area.fromArea(c);
    throw e;
  };
  return {
    step: (): void => {
      area.fromArea(c);
      area.syncSlice(c);
      step64(c);
      area.toArea(c);
      area.checkStop(c);
    },
    read: (lo: number, hi: number, bytes: number, stack: number): number => {
      area.syncSlice(c);
      let v: number;
      try {
        c.lm.stackRef = stack !== 0;
        v = readSized(c, hi, lo, bytes);
        i32[valueHi] = c.lm.readHi;
      } catch (e) {
        return fault(e);
      }
      area.checkStop(c);
      return v;
    },
    write: (lo: number, hi: number, bytes: number, vLo: number, vHi: number, stack: number): void => {
      area.syncSlice(c);
      try {
        c.lm.stackRef = stack !== 0;
        writeSized(c, hi, lo, bytes, vLo, vHi);
      } catch (e) {
        fault(e);
      }
      if (c.smc) area.setSmc();
      area.checkStop(c);
    },
    checkWrite: (lo: number, hi: number, bytes: number, stack: number): void => {
      try {
        c.lm.stackRef = stack !== 0;
        checkWritable64(c, hi, lo, bytes, c.cpl === 3);
      } catch (e) {
        fault(e);
      }
    },
  };
}
