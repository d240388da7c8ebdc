/**
 * Writes that land on compiled code (self-modifying code, or a page that once held code and
 * now holds a stack) leave the compiled region after the writing instruction has finished:
 * a PUSH still moves ESP, a CALL still jumps. Found as a Linux kernel oops: a kernel stack
 * on a page that had held compiled user code lost a PUSH EBP, and the function returned into
 * its caller's saved registers.
 */
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../cpu.js';
import { run as interpret } from '../interpreter.js';
import { FlatHarness } from '../../../test/support/cpu/flat-harness.js';
import { assemble, nasmAvailable } from '../../../test/support/nasm.js';
import { Jit } from './jit.js';

const CODE = 0x1000;
/** A page holding a hot function; the stack lives in its upper half. */
const SHARED = 0x3000;

/** The interpreter's outcome, then the JIT's with each code generator. */
function runBoth(main: string, shared: string, regs: { esp: number }): Array<{ eax: number; ebx: number; esp: number; halted: boolean }> {
  return (['interpreter', 'js', 'wasm'] as const).map((engine) => {
    const h = new FlatHarness();
    h.cpu.cpl = 0;
    h.cpu.updateMode();
    h.writeMemory(CODE, assemble(main, 32, CODE));
    h.writeMemory(SHARED, assemble(shared, 32, SHARED));
    h.setRegs({ eip: CODE, esp: regs.esp, eax: 0, ebx: 0 });
    const jit = engine !== 'interpreter' ? new Jit(h.cpu, { backend: engine, background: false }) : null;
    let exit = 0;
    for (let i = 0; i < 1000 && exit !== EXIT_HALT; i++) exit = jit !== null ? jit.run(10_000) : interpret(h.cpu, 10_000);
    const r = h.getRegs();
    if (jit !== null) expect(jit.stats.invalidations, 'the stack writes must hit compiled code').toBeGreaterThan(0);
    return { eax: r.eax, ebx: r.ebx, esp: r.esp, halted: exit === EXIT_HALT };
  });
}

/** Calls the function on the shared page 200 times. */
const MAIN = `
  mov ecx, 200
again:
  call ${SHARED}
  dec ecx
  jnz again
  hlt`;

describe.skipIf(!nasmAvailable())('JIT: writes over compiled code', () => {
  it('a CALL whose return address lands on compiled code still calls, and moves ESP', () => {
    const shared = `
      add eax, 1
      ret`;
    const [interp, js, wasm] = runBoth(MAIN, shared, { esp: SHARED + 0xff0 });
    expect(interp).toEqual({ eax: 200, ebx: 0, esp: SHARED + 0xff0, halted: true });
    expect(js).toEqual(interp);
    expect(wasm).toEqual(interp);
  });

  it('a PUSH onto compiled code moves ESP before the block is left', () => {
    // The function's own PUSH lands on its page: the write invalidates the function that is
    // running, which must still pop what it pushed and return to its caller.
    const shared = `
      push ebp
      mov ebp, esp
      add eax, 1
      add ebx, [ebp + 4]
      pop ebp
      ret`;
    const [interp, js, wasm] = runBoth(MAIN, shared, { esp: SHARED + 0xff0 });
    expect(interp.eax).toBe(200);
    expect(interp.esp).toBe(SHARED + 0xff0);
    expect(js).toEqual(interp);
    expect(wasm).toEqual(interp);
  });
});
