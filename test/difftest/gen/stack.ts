/** PUSH POP (register, memory, immediate, ESP itself), PUSHA POPA, PUSHF POPF, ENTER LEAVE, CALL RET. */
import { AC, DF, ID, IF, IOPL, NT, OF } from '../../../emulator-core/cpu/constants.js';
import { EBP, ESP, REG32, type DiffCase } from '../case.js';
import { DATA_BASE, STACK_TOP } from '../layout.js';
import type { Rng } from '../prng.js';
import { Draft, hex, regName, type Size } from './draft.js';

/** ESP near STACK_TOP, sometimes misaligned. */
function stackPointer(rng: Rng): number {
  return STACK_TOP - rng.pick([0, 0, 4, 8, 0x40, 1, 2, 3, 0x101]);
}

function pushPop(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.claim(ESP);
  d.regs[ESP] = stackPointer(rng);
  const size: Size = rng.pick([16, 32, 32] as const);
  const o = size === 16 ? 'word' : 'dword';
  const kind = rng.int(8);
  let asm: string;
  if (kind === 0) asm = `push ${regName(size, rng.int(8))}`; // includes PUSH ESP (the old value)
  else if (kind === 1) asm = `pop ${regName(size, rng.int(8))}`; // includes POP ESP
  else if (kind === 2) {
    const imm = rng.pick([rng.int(256) - 128, rng.operand(size)]);
    asm = `push ${o} ${imm < 0 ? imm : hex(imm)}`;
  } else if (kind === 3) {
    const off = d.slot(size / 8);
    d.poke(off, rng.u32(), size / 8);
    asm = `push ${o} ${d.memRef(off)}`;
  } else if (kind === 4) {
    const off = d.slot(size / 8);
    asm = `pop ${o} ${d.memRef(off)}`;
  } else if (kind === 5) {
    // ESP-relative memory operands: PUSH computes the address before decrementing, POP after incrementing.
    const disp = rng.pick([0, 4, 8, -4, 2]);
    asm = `${rng.pick(['push', 'pop'])} ${o} [esp${disp < 0 ? disp : `+${disp}`}]`;
  } else if (kind === 6) {
    const r = rng.int(8);
    asm = `push ${regName(size, r)}\npop ${regName(size, rng.int(8))}`;
  } else {
    asm = `push ${o} [esp+4]\npop ${o} [esp+8]`;
  }
  return d.finish('PUSH/POP', asm);
}

function pushaPopa(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.regs[ESP] = stackPointer(rng);
  const size = rng.pick(['', 'w', 'd'] as const);
  const which = rng.pick(['pusha', 'popa', 'both'] as const);
  const asm = which === 'both' ? `pusha${size}\nnot ${rng.pick(REG32.filter((r) => r !== 'esp'))}\npopa${size}` : `${which}${size}`;
  return d.finish('PUSHA/POPA', asm);
}

function pushfPopf(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.regs[ESP] = stackPointer(rng);
  // A value for POPF: arithmetic flags and DF, plus the bits CPL 3 may or may not change
  // (IF and IOPL are silently kept; NT, ID change). TF and AC stay clear: TF would trap,
  // AC would enable alignment checks under Linux.
  const v = (rng.u32() & (0xcd5 | DF | OF | IF | IOPL | NT | ID)) & ~AC;
  const kind = rng.int(4);
  let asm: string;
  if (kind === 0) asm = rng.pick(['pushfd', 'pushfw']);
  else if (kind === 1) asm = `push dword ${hex(v)}\npopfd`;
  else if (kind === 2) asm = `push word ${hex(v & 0xffff)}\npopfw`;
  else asm = `push dword ${hex(v)}\npopfd\npushfd\npop eax`;
  return d.finish('PUSHF/POPF', asm);
}

function enterLeave(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.regs[ESP] = stackPointer(rng);
  // EBP points into the stack area: ENTER with a nesting level copies frame pointers from there.
  d.regs[EBP] = DATA_BASE + 0x1900 + rng.int(0x200);
  const size = rng.pick([0, 4, 8, 0x10, rng.int(0x100), 0xfffc, 0x8000]);
  const level = rng.pick([0, 0, 1, 1, 2, 3, rng.int(32), 31, 32 + rng.int(224)]);
  const o16 = rng.bool(0.2) ? 'o16 ' : '';
  const kind = rng.int(3);
  const asm = kind === 0 ? `${o16}enter ${hex(size)}, ${hex(level)}` : kind === 1 ? `${o16}leave` : `${o16}enter ${hex(size)}, ${hex(level)}\n${o16}leave`;
  return d.finish('ENTER/LEAVE', asm);
}

function callRet(rng: Rng): DiffCase {
  const d = new Draft(rng);
  d.claim(ESP);
  d.regs[ESP] = stackPointer(rng);
  const kind = rng.int(4);
  const imm = rng.pick([0, 4, 8, 2, 0x10]);
  const ret = imm === 0 ? 'ret' : `ret ${hex(imm)}`;
  let asm: string;
  if (kind === 0) asm = `call .f\njmp .e\n.f: ${ret}\n.e:`;
  else if (kind === 1) {
    const r = d.reg(32);
    asm = `mov ${REG32[r]}, .f\ncall ${REG32[r]}\njmp .e\n.f: ${ret}\n.e:`;
  } else if (kind === 2) {
    const off = d.slot(4);
    asm = `mov dword ${d.memRef(off)}, .f\ncall [${hex(DATA_BASE + off)}]\njmp .e\n.f: ${ret}\n.e:`;
  } else {
    // A return address left on the stack and read back with POP.
    const r = d.reg(32);
    asm = `call .f\n.f: pop ${REG32[r]}`;
  }
  return d.finish('CALL/RET', asm);
}

export const STACK_FAMILIES = ['PUSH/POP', 'PUSHA/POPA', 'PUSHF/POPF', 'ENTER/LEAVE', 'CALL/RET'];

export function genStack(rng: Rng, perFamily: number): DiffCase[] {
  const out: DiffCase[] = [];
  for (let i = 0; i < perFamily; i++) out.push(pushPop(rng), pushPop(rng), pushaPopa(rng), pushfPopf(rng), enterLeave(rng), callRet(rng));
  return out;
}

