/** DAA DAS AAA AAS AAM AAD, with every AL value reachable and AF/CF both ways. */
import { AF, CF } from '../../../emulator-core/cpu/constants.js';
import { EAX, type DiffCase } from '../case.js';
import { UNDEFINED_FLAGS } from '../masks.js';
import type { Rng } from '../prng.js';
import { Draft, hex } from './draft.js';

function adjust(rng: Rng, mnemonic: 'daa' | 'das' | 'aaa' | 'aas'): DiffCase {
  const d = new Draft(rng);
  d.claim(EAX);
  d.setReg(16, EAX, rng.bool(0.7) ? rng.int(0x10000) : rng.pick([0x0000, 0x0009, 0x000a, 0x0099, 0x009a, 0x00f9, 0x00fa, 0x00ff, 0xff0f, 0xfffa, 0x0f66]));
  // Both adjustment inputs matter: make sure every AF/CF combination shows up.
  d.eflags = (d.eflags & ~(AF | CF)) | (rng.bool() ? AF : 0) | (rng.bool() ? CF : 0);
  d.undefinedFlags = mnemonic === 'daa' || mnemonic === 'das' ? UNDEFINED_FLAGS.daa : UNDEFINED_FLAGS.aaa;
  return d.finish(mnemonic.toUpperCase(), mnemonic);
}

function aamAad(rng: Rng, mnemonic: 'aam' | 'aad'): DiffCase {
  const d = new Draft(rng);
  d.claim(EAX);
  d.setReg(16, EAX, rng.int(0x10000));
  const base = rng.pick([10, 10, 10, 0, 1, 2, 16, 0xff, rng.int(256)]);
  if (mnemonic === 'aam' && base === 0) d.expect = 0;
  d.undefinedFlags = UNDEFINED_FLAGS.aam;
  return d.finish(mnemonic.toUpperCase(), base === 10 && rng.bool() ? mnemonic : `${mnemonic} ${hex(base)}`);
}

export const BCD_FAMILIES = ['DAA', 'DAS', 'AAA', 'AAS', 'AAM', 'AAD'];

export function genBcd(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) {
    for (const m of ['daa', 'das', 'aaa', 'aas'] as const) out.push(adjust(rng, m));
    out.push(aamAad(rng, 'aam'), aamAad(rng, 'aad'));
  }
  return out;
}
