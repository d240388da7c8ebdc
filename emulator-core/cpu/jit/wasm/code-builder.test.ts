/**
 * Emitter bugs fail where they are made, with a message that says what is wrong, instead of
 * producing a module the engine rejects (or, worse, one that means something else).
 */
import { describe, expect, it } from 'vitest';
import { WasmEmitError } from './code-builder.js';
import { ModuleBuilder } from './module-builder.js';
import { BlockType, ValType } from './opcodes.js';
import { Wasm } from './wasm-api.js';

const { I32 } = ValType;

function oneFunction() {
  const mb = new ModuleBuilder();
  const f = mb.func(mb.type([I32], [I32]));
  return { mb, f };
}

describe('emit-time errors', () => {
  it('a branch deeper than the open blocks', () => {
    const { f } = oneFunction();
    f.block();
    f.loop();
    f.br(2); // the function body: legal
    expect(() => f.br(3)).toThrow(/function 0, body offset \d+: br depth 3, but only 2 blocks are open/);
    expect(() => f.brIf(-1)).toThrow(WasmEmitError);
    expect(() => f.brTable([0, 1, 5], 0)).toThrow(/br_table entry 2: depth 5/);
    expect(() => f.brTable([0], 9)).toThrow(/br_table default: depth 9/);
  });

  it('end, else and labels that do not match the nesting', () => {
    const { f } = oneFunction();
    expect(() => f.end()).toThrow(/end with no open block/);
    expect(() => f.else()).toThrow(/else with no open if/);
    const outer = f.block();
    f.loop();
    expect(() => f.else()).toThrow(/else inside loop opened at body offset 2, not an if/);
    f.end();
    expect(f.depthOf(outer)).toBe(0);
    f.end();
    expect(() => f.depthOf(outer)).toThrow(/label 1 is not open/);
    f.localGet(0);
    f.if();
    f.else();
    expect(() => f.else()).toThrow(/else inside else/);
  });

  it('an if with a result but no else', () => {
    const { f } = oneFunction();
    f.localGet(0);
    f.if(BlockType.I32);
    f.i32Const(1);
    expect(() => f.end()).toThrow(/if with a result \(opened at body offset 2\) ends without an else/);
  });

  it('a function finished with blocks still open', () => {
    const { mb, f } = oneFunction();
    f.block();
    f.loop(BlockType.I32);
    expect(() => mb.finish()).toThrow(/function 0, .*2 blocks still open at the end of the function \(innermost: loop opened at body offset 2\)/);
  });

  it('undeclared locals and bad memargs', () => {
    const { f } = oneFunction();
    f.localGet(0);
    expect(() => f.localGet(1)).toThrow(/local 1 is not declared \(1 locals\)/);
    expect(() => f.localSet(-1)).toThrow(/local -1 is not declared/);
    const t = f.addLocal(I32);
    f.localTee(t);
    expect(() => f.i32Load(0, 3)).toThrow(/alignment 2\^3 exceeds the natural 2\^2/);
    expect(() => f.i32Load16U(0, 2)).toThrow(/alignment 2\^2 exceeds the natural 2\^1/);
    expect(() => f.i64Load(-4)).toThrow(/memarg offset -4 is not a uint32/);
    expect(() => f.i32Store(2 ** 32)).toThrow(/not a uint32/);
  });

  it('module-level references checked when the module is finished', () => {
    const cases: [string, (mb: ModuleBuilder) => void, RegExp][] = [
      ['call to a missing function', (mb) => mb.func(mb.type([], [])).call(7), /function 0 calls function 7, but the module has 1 functions/],
      ['call_indirect without a table', (mb) => { const t = mb.type([], []); const f = mb.func(t); f.i32Const(0); f.callIndirect(t); }, /function 0 uses table 0, but the module has 0 tables/],
      ['call_indirect to a missing type', (mb) => { mb.importTable('e', 't', { min: 1 }); const f = mb.func(mb.type([], [])); f.i32Const(0); f.callIndirect(4); }, /uses type 4 in call_indirect, but the module has 1 types/],
      ['memory access without a memory', (mb) => { const f = mb.func(mb.type([], [])); f.i32Const(0); f.i32Load(); f.drop(); }, /function 0 accesses memory, but the module has no memory/],
      ['a missing global', (mb) => { const f = mb.func(mb.type([], [])); f.globalGet(0); f.drop(); }, /uses global 0, but the module has 0 globals/],
      ['export of a missing function', (mb) => mb.exportFunction('run', 3), /export "run" names function 3, but the module has 0/],
      ['an export name used twice', (mb) => { const f = mb.func(mb.type([], [])); mb.exportFunction('a', f.index); mb.exportFunction('a', f.index); }, /export name "a" is used twice/],
      ['an element segment naming a missing function', (mb) => { mb.importTable('e', 't', { min: 1 }); mb.element([2]); }, /element segment names function 2, but the module has 0 functions/],
      ['an element segment without a table', (mb) => { mb.func(mb.type([], [])); mb.element([0]); }, /element segment targets table 0, but the module has 0 tables/],
    ];
    for (const [what, build, message] of cases) {
      const mb = new ModuleBuilder();
      build(mb);
      expect(() => mb.finish(), what).toThrow(message);
    }
  });

  it('declarations out of order or out of range', () => {
    const mb = new ModuleBuilder();
    const t = mb.type([], []);
    mb.func(t);
    expect(() => mb.importFunction('env', 'late', t)).toThrow(/import of function env.late after 1 defined function\(s\)/);
    expect(() => mb.func(3)).toThrow(/func\(\): type 3 is not declared \(1 types\)/);
    expect(() => mb.importMemory('env', 'mem', { min: 1, shared: true })).toThrow(/a shared memory needs a max/);
    expect(() => mb.importMemory('env', 'mem', { min: 4, max: 2 })).toThrow(/max 2 pages is out of range 4\.\.65536/);
    mb.importMemory('env', 'mem', { min: 1 });
    expect(() => mb.importMemory('env', 'mem2', { min: 1 })).toThrow(/already has a memory/);
  });

  it('no changes to a finished module or function until reset()', () => {
    const { mb, f } = oneFunction();
    f.localGet(0);
    mb.finish();
    expect(() => mb.finish()).toThrow(/already finished/);
    expect(() => mb.type([], [])).toThrow(/already finished/);
    expect(() => f.block()).toThrow(/the function is already finished/);
    mb.reset();
    const g = mb.func(mb.type([], [I32]));
    g.i32Const(3);
    mb.exportFunction('g', g.index);
    expect((new Wasm.Instance(new Wasm.Module(mb.finish())).exports.g as () => number)()).toBe(3);
  });

  it('operand type errors are left to the engine, which rejects the module loudly', () => {
    const { mb, f } = oneFunction();
    f.i64Const(1); // an i64 where the function returns i32
    expect(() => new Wasm.Module(mb.finish())).toThrow(Wasm.CompileError);
  });
});
