/**
 * Modules built with the emitter, compiled and run by the engine: the shapes the wasm JIT
 * backend needs (loops in locals, i64 arithmetic, guest RAM and CPU state in one imported
 * memory, a br_table entry switch, slow-path calls into JavaScript, regions in a shared table
 * calling and tail-calling each other, a shared memory with an exit-request word).
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { CodeBuilder } from './code-builder.js';
import { wasmSimd, wasmTailCalls, wasmThreads } from './features.js';
import { ModuleBuilder } from './module-builder.js';
import { BlockType, ExternalKind, Op, ValType } from './opcodes.js';
import { Wasm, type WasmImports, type WasmMemory } from './wasm-api.js';

const { I32, I64, F64, V128 } = ValType;

function instantiate(mb: ModuleBuilder, imports?: WasmImports): Record<string, unknown> {
  return new Wasm.Instance(new Wasm.Module(mb.finish()), imports).exports;
}

type I32Fn = (...args: number[]) => number;
type I64Fn = (...args: bigint[]) => bigint;

function* randomInt64(n: number, seed: bigint): Generator<bigint> {
  let s = seed;
  for (let i = 0; i < n; i++) {
    s ^= s >> 12n;
    s ^= BigInt.asUintN(64, s << 25n);
    s ^= s >> 27n;
    yield BigInt.asIntN(64, BigInt.asUintN(64, s * 0x2545f4914f6cdd1dn)) >> BigInt((i * 7) % 64);
  }
}

describe('modules built by the emitter run', () => {
  it('sums 1..n in a loop over i32 locals', () => {
    const mb = new ModuleBuilder();
    const f = mb.func(mb.type([I32], [I32]));
    const acc = f.addLocal(I32);
    const exit = f.block();
    const top = f.loop();
    f.localGet(0);
    f.i32Eqz();
    f.brIfTo(exit);
    f.localGet(acc);
    f.localGet(0);
    f.i32Add();
    f.localSet(acc);
    f.localGet(0);
    f.i32Const(1);
    f.i32Sub();
    f.localSet(0);
    f.brTo(top);
    f.end();
    f.end();
    f.localGet(acc);
    mb.exportFunction('sum', f.index);
    const sum = instantiate(mb).sum as I32Fn;
    expect(sum(0)).toBe(0);
    expect(sum(1)).toBe(1);
    expect(sum(100)).toBe(5050);
    expect(sum(65535)).toBe(2147450880);
    expect(sum(100000)).toBe((100000 * 100001) / 2 | 0); // wraps like the guest's 32-bit add
  });

  it('does i64 arithmetic, shifts, rotates and bit counts like BigInt', () => {
    const mb = new ModuleBuilder();
    const bin = mb.type([I64, I64], [I64]);
    const un = mb.type([I64], [I64]);
    expect(mb.type([I64, I64], [I64])).toBe(bin); // deduplicated
    const binOps: [string, (c: CodeBuilder) => void, (a: bigint, b: bigint) => bigint][] = [
      ['add', (c) => c.i64Add(), (a, b) => a + b],
      ['sub', (c) => c.i64Sub(), (a, b) => a - b],
      ['mul', (c) => c.i64Mul(), (a, b) => a * b],
      ['and', (c) => c.i64And(), (a, b) => a & b],
      ['or', (c) => c.i64Or(), (a, b) => a | b],
      ['xor', (c) => c.i64Xor(), (a, b) => a ^ b],
      ['shl', (c) => c.i64Shl(), (a, b) => a << (b & 63n)],
      ['shr_s', (c) => c.i64ShrS(), (a, b) => a >> (b & 63n)],
      ['shr_u', (c) => c.i64ShrU(), (a, b) => BigInt.asUintN(64, a) >> (b & 63n)],
      ['rotl', (c) => c.i64Rotl(), (a, b) => { const u = BigInt.asUintN(64, a); const s = b & 63n; return (u << s) | (u >> ((64n - s) & 63n)); }],
      ['rotr', (c) => c.i64Rotr(), (a, b) => { const u = BigInt.asUintN(64, a); const s = b & 63n; return (u >> s) | (u << ((64n - s) & 63n)); }],
      ['lt_u', (c) => { c.i64LtU(); c.i64ExtendI32U(); }, (a, b) => (BigInt.asUintN(64, a) < BigInt.asUintN(64, b) ? 1n : 0n)],
      ['ge_s', (c) => { c.i64GeS(); c.i64ExtendI32U(); }, (a, b) => (a >= b ? 1n : 0n)],
      ['eq', (c) => { c.i64Eq(); c.i64ExtendI32U(); }, (a, b) => (a === b ? 1n : 0n)],
      ['ne', (c) => { c.i64Ne(); c.i64ExtendI32U(); }, (a, b) => (a !== b ? 1n : 0n)],
      ['lt_s', (c) => { c.i64LtS(); c.i64ExtendI32U(); }, (a, b) => (a < b ? 1n : 0n)],
      ['gt_s', (c) => { c.i64GtS(); c.i64ExtendI32U(); }, (a, b) => (a > b ? 1n : 0n)],
      ['gt_u', (c) => { c.i64GtU(); c.i64ExtendI32U(); }, (a, b) => (BigInt.asUintN(64, a) > BigInt.asUintN(64, b) ? 1n : 0n)],
      ['le_s', (c) => { c.i64LeS(); c.i64ExtendI32U(); }, (a, b) => (a <= b ? 1n : 0n)],
      ['le_u', (c) => { c.i64LeU(); c.i64ExtendI32U(); }, (a, b) => (BigInt.asUintN(64, a) <= BigInt.asUintN(64, b) ? 1n : 0n)],
      ['ge_u', (c) => { c.i64GeU(); c.i64ExtendI32U(); }, (a, b) => (BigInt.asUintN(64, a) >= BigInt.asUintN(64, b) ? 1n : 0n)],
      ['div_s', (c) => c.i64DivS(), (a, b) => a / b],
      ['div_u', (c) => c.i64DivU(), (a, b) => BigInt.asUintN(64, a) / BigInt.asUintN(64, b)],
      ['rem_s', (c) => c.i64RemS(), (a, b) => a % b],
      ['rem_u', (c) => c.i64RemU(), (a, b) => BigInt.asUintN(64, a) % BigInt.asUintN(64, b)],
    ];
    const unOps: [string, (c: CodeBuilder) => void, (a: bigint) => bigint][] = [
      ['clz', (c) => c.i64Clz(), (a) => BigInt(64 - BigInt.asUintN(64, a).toString(2).replace(/^0+$/, '').length)],
      ['ctz', (c) => c.i64Ctz(), (a) => (a === 0n ? 64n : BigInt(BigInt.asUintN(64, a).toString(2).length - 1 - BigInt.asUintN(64, a).toString(2).lastIndexOf('1')))],
      ['popcnt', (c) => c.i64Popcnt(), (a) => BigInt(BigInt.asUintN(64, a).toString(2).replace(/0/g, '').length)],
      ['eqz', (c) => { c.i64Eqz(); c.i64ExtendI32U(); }, (a) => (a === 0n ? 1n : 0n)],
      ['wrap_extend8', (c) => { c.i32WrapI64(); c.i32Extend8S(); c.i64ExtendI32S(); }, (a) => BigInt.asIntN(8, a)],
      ['extend16', (c) => c.i64Extend16S(), (a) => BigInt.asIntN(16, a)],
      ['extend32', (c) => c.i64Extend32S(), (a) => BigInt.asIntN(32, a)],
      ['wrap_extend_u', (c) => { c.i32WrapI64(); c.i64ExtendI32U(); }, (a) => BigInt.asUintN(32, a)],
    ];
    for (const [name, emit] of binOps) {
      const f = mb.func(bin);
      f.localGet(0);
      f.localGet(1);
      emit(f);
      mb.exportFunction(name, f.index);
    }
    for (const [name, emit] of unOps) {
      const f = mb.func(un);
      f.localGet(0);
      emit(f);
      mb.exportFunction(name, f.index);
    }
    // Constants from two int32 halves, and from BigInt.
    const constants = [0n, -1n, 1n << 32n, -(1n << 63n), (1n << 63n) - 1n, 0x123456789abcdef0n, -0x8000_0001n];
    const constType = mb.type([], [I64]);
    constants.forEach((v, i) => {
      const f = mb.func(constType);
      f.i64Const(Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n)));
      const g = mb.func(constType);
      g.i64ConstBig(v);
      f.op(Op.Nop);
      mb.exportFunction(`const${i}`, f.index);
      mb.exportFunction(`big${i}`, g.index);
    });
    const ex = instantiate(mb);
    const values = [...randomInt64(300, 0x1234567n), 0n, -1n, 1n, 63n, 64n, -(1n << 63n)];
    for (const [name, , ref] of binOps) {
      const fn = ex[name] as I64Fn;
      for (let i = 0; i < values.length; i++) {
        const a = values[i];
        const b = name.startsWith('sh') || name.startsWith('rot') ? values[(i * 13) % values.length] & 127n : values[(i * 13) % values.length];
        if (name.startsWith('div') || name.startsWith('rem')) {
          if (b === 0n || (name.endsWith('_s') && a === -(1n << 63n) && b === -1n)) continue; // traps
        }
        expect(fn(a, b), `${name}(${a}, ${b})`).toBe(BigInt.asIntN(64, ref(a, b)));
      }
    }
    for (const [name, , ref] of unOps) {
      const fn = ex[name] as I64Fn;
      for (const a of values) expect(fn(a), `${name}(${a})`).toBe(BigInt.asIntN(64, ref(a)));
    }
    constants.forEach((v, i) => {
      expect((ex[`const${i}`] as () => bigint)()).toBe(v);
      expect((ex[`big${i}`] as () => bigint)()).toBe(v);
    });
  });

  it('does i32 and f64 arithmetic, comparisons and conversions like JavaScript (every opcode number checked)', () => {
    const mb = new ModuleBuilder();
    const i2 = mb.type([I32, I32], [I32]);
    const i1 = mb.type([I32], [I32]);
    const f2 = mb.type([F64, F64], [F64]);
    const f2i = mb.type([F64, F64], [I32]);
    const f1 = mb.type([F64], [F64]);
    const rotl = (a: number, b: number) => ((a << (b & 31)) | (a >>> ((32 - (b & 31)) & 31))) | 0;
    const cases: [string, number, (c: CodeBuilder) => void, (...x: number[]) => number][] = [
      ['i32.sub', i2, (c) => c.i32Sub(), (a, b) => (a - b) | 0],
      ['i32.mul', i2, (c) => c.i32Mul(), (a, b) => Math.imul(a, b)],
      ['i32.div_s', i2, (c) => c.i32DivS(), (a, b) => (a / b) | 0],
      ['i32.div_u', i2, (c) => c.i32DivU(), (a, b) => ((a >>> 0) / (b >>> 0)) | 0],
      ['i32.rem_s', i2, (c) => c.i32RemS(), (a, b) => (a % b) | 0],
      ['i32.rem_u', i2, (c) => c.i32RemU(), (a, b) => ((a >>> 0) % (b >>> 0)) | 0],
      ['i32.and', i2, (c) => c.i32And(), (a, b) => a & b],
      ['i32.or', i2, (c) => c.i32Or(), (a, b) => a | b],
      ['i32.xor', i2, (c) => c.i32Xor(), (a, b) => a ^ b],
      ['i32.shl', i2, (c) => c.i32Shl(), (a, b) => a << b],
      ['i32.shr_s', i2, (c) => c.i32ShrS(), (a, b) => a >> b],
      ['i32.shr_u', i2, (c) => c.i32ShrU(), (a, b) => (a >>> b) | 0],
      ['i32.rotl', i2, (c) => c.i32Rotl(), rotl],
      ['i32.rotr', i2, (c) => c.i32Rotr(), (a, b) => rotl(a, 32 - (b & 31))],
      ['i32.eq', i2, (c) => c.i32Eq(), (a, b) => +(a === b)],
      ['i32.ne', i2, (c) => c.i32Ne(), (a, b) => +(a !== b)],
      ['i32.lt_s', i2, (c) => c.i32LtS(), (a, b) => +(a < b)],
      ['i32.lt_u', i2, (c) => c.i32LtU(), (a, b) => +(a >>> 0 < b >>> 0)],
      ['i32.gt_s', i2, (c) => c.i32GtS(), (a, b) => +(a > b)],
      ['i32.gt_u', i2, (c) => c.i32GtU(), (a, b) => +(a >>> 0 > b >>> 0)],
      ['i32.le_s', i2, (c) => c.i32LeS(), (a, b) => +(a <= b)],
      ['i32.le_u', i2, (c) => c.i32LeU(), (a, b) => +(a >>> 0 <= b >>> 0)],
      ['i32.ge_s', i2, (c) => c.i32GeS(), (a, b) => +(a >= b)],
      ['i32.ge_u', i2, (c) => c.i32GeU(), (a, b) => +(a >>> 0 >= b >>> 0)],
      ['i32.clz', i1, (c) => c.i32Clz(), (a) => Math.clz32(a)],
      ['i32.ctz', i1, (c) => c.i32Ctz(), (a) => (a === 0 ? 32 : 31 - Math.clz32(a & -a))],
      ['i32.popcnt', i1, (c) => c.i32Popcnt(), (a) => (a >>> 0).toString(2).replace(/0/g, '').length],
      ['i32.extend8_s', i1, (c) => c.i32Extend8S(), (a) => (a << 24) >> 24],
      ['i32.extend16_s', i1, (c) => c.i32Extend16S(), (a) => (a << 16) >> 16],
      ['i64.extend_i32_s+wrap', i1, (c) => { c.i64ExtendI32S(); c.i64Const(0, 1); c.i64Add(); c.i32WrapI64(); }, (a) => a],
      ['f64.add', f2, (c) => c.f64Add(), (a, b) => a + b],
      ['f64.sub', f2, (c) => c.f64Sub(), (a, b) => a - b],
      ['f64.mul', f2, (c) => c.f64Mul(), (a, b) => a * b],
      ['f64.div', f2, (c) => c.f64Div(), (a, b) => a / b],
      ['f64.min', f2, (c) => c.f64Min(), (a, b) => Math.min(a, b)],
      ['f64.max', f2, (c) => c.f64Max(), (a, b) => Math.max(a, b)],
      ['f64.copysign', f2, (c) => c.f64Copysign(), (a, b) => Math.abs(a) * (Object.is(b, -0) || b < 0 ? -1 : 1)],
      ['f64.eq', f2i, (c) => c.f64Eq(), (a, b) => +(a === b)],
      ['f64.ne', f2i, (c) => c.f64Ne(), (a, b) => +(a !== b)],
      ['f64.lt', f2i, (c) => c.f64Lt(), (a, b) => +(a < b)],
      ['f64.gt', f2i, (c) => c.f64Gt(), (a, b) => +(a > b)],
      ['f64.le', f2i, (c) => c.f64Le(), (a, b) => +(a <= b)],
      ['f64.ge', f2i, (c) => c.f64Ge(), (a, b) => +(a >= b)],
      ['f64.abs', f1, (c) => c.f64Abs(), (a) => Math.abs(a)],
      ['f64.neg', f1, (c) => c.f64Neg(), (a) => -a],
      ['f64.ceil', f1, (c) => c.f64Ceil(), (a) => Math.ceil(a)],
      ['f64.floor', f1, (c) => c.f64Floor(), (a) => Math.floor(a)],
      ['f64.trunc', f1, (c) => c.f64Trunc(), (a) => Math.trunc(a)],
      ['f64.nearest', f1, (c) => c.f64Nearest(), (a) => { const r = Math.round(a); return Math.abs(a % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r; }],
      ['i32.trunc_f64_s', mb.type([F64], [I32]), (c) => c.i32TruncF64S(), (a) => Math.trunc(a) | 0],
      ['i32.trunc_f64_u', mb.type([F64], [I32]), (c) => c.i32TruncF64U(), (a) => Math.trunc(a) | 0],
      ['f64.convert_i32_u', mb.type([I32], [F64]), (c) => c.f64ConvertI32U(), (a) => a >>> 0],
      ['i64.trunc_f64_s+convert_i64_s', f1, (c) => { c.i64TruncF64S(); c.f64ConvertI64S(); }, (a) => Math.trunc(a) + 0],
      ['i64.trunc_f64_u+convert_i64_u', f1, (c) => { c.i64TruncF64U(); c.f64ConvertI64U(); }, (a) => Math.trunc(a) + 0],
    ];
    for (const [name, t, emit] of cases) {
      const f = mb.func(t);
      for (let i = 0; i < (t === i2 || t === f2 || t === f2i ? 2 : 1); i++) f.localGet(i);
      emit(f);
      mb.exportFunction(name, f.index);
    }
    const ex = instantiate(mb);
    const ints = [0, 1, -1, 7, -7, 31, 32, 33, 0x7fffffff, -0x80000000, 0x12345678, -0x789abcdf, 255, 0x8000];
    const floats = [0, -0, 1.5, -2.5, 2.5, 3.5, 1e9, -1e9, 0.1, 123456.75];
    for (const [name, t, , ref] of cases) {
      const fn = ex[name] as (...x: number[]) => number;
      if (t === i2) {
        for (const a of ints) {
          for (const b of ints) {
            if (name.includes('div') || name.includes('rem')) {
              if (b === 0 || (name.endsWith('_s') && a === -0x80000000 && b === -1)) continue; // traps
            }
            expect(fn(a, b), `${name}(${a}, ${b})`).toBe(ref(a, b));
          }
        }
      } else if (t === f2 || t === f2i) {
        for (const a of floats) for (const b of floats) expect(fn(a, b), `${name}(${a}, ${b})`).toBe(ref(a, b));
      } else if (name.startsWith('f64.') || name.startsWith('i64.trunc') || name.startsWith('i32.trunc')) {
        for (const a of floats) {
          if (name.includes('_u') && a < 0 && Math.trunc(a) !== 0) continue; // traps
          expect(fn(a), `${name}(${a})`).toBe(ref(a));
        }
      } else {
        for (const a of ints) expect(fn(a), `${name}(${a})`).toBe(ref(a));
      }
    }
    expect(() => (ex['i32.div_s'] as I32Fn)(1, 0)).toThrow(Wasm.RuntimeError);
  });

  it('unreachable traps; nop and drop do nothing', () => {
    const mb = new ModuleBuilder();
    const f = mb.func(mb.type([I32], [I32]));
    f.localGet(0);
    f.if();
    f.unreachable();
    f.end();
    f.nop();
    f.i32Const(5);
    f.i32Const(6);
    f.drop();
    mb.exportFunction('f', f.index);
    const fn = instantiate(mb).f as I32Fn;
    expect(fn(0)).toBe(5);
    expect(() => fn(1)).toThrow(/unreachable/);
  });

  it('loads and stores every width on an imported memory that JavaScript sees too', () => {
    const memory = new Wasm.Memory({ initial: 1, maximum: 1 });
    const dv = new DataView(memory.buffer);
    const mb = new ModuleBuilder();
    mb.importMemory('env', 'mem', { min: 1, max: 1 });
    const OFF = 5; // memarg offset, so most accesses below are unaligned
    const loads: [string, (c: CodeBuilder) => void, typeof I32 | typeof I64, (a: number) => number | bigint][] = [
      ['i32.load', (c) => c.i32Load(OFF, 0), I32, (a) => dv.getInt32(a, true)],
      ['i32.load8_s', (c) => c.i32Load8S(OFF), I32, (a) => dv.getInt8(a)],
      ['i32.load8_u', (c) => c.i32Load8U(OFF), I32, (a) => dv.getUint8(a)],
      ['i32.load16_s', (c) => c.i32Load16S(OFF, 0), I32, (a) => dv.getInt16(a, true)],
      ['i32.load16_u', (c) => c.i32Load16U(OFF, 0), I32, (a) => dv.getUint16(a, true)],
      ['i64.load', (c) => c.i64Load(OFF, 0), I64, (a) => dv.getBigInt64(a, true)],
      ['i64.load8_s', (c) => c.i64Load8S(OFF), I64, (a) => BigInt(dv.getInt8(a))],
      ['i64.load8_u', (c) => c.i64Load8U(OFF), I64, (a) => BigInt(dv.getUint8(a))],
      ['i64.load16_s', (c) => c.i64Load16S(OFF, 0), I64, (a) => BigInt(dv.getInt16(a, true))],
      ['i64.load16_u', (c) => c.i64Load16U(OFF, 0), I64, (a) => BigInt(dv.getUint16(a, true))],
      ['i64.load32_s', (c) => c.i64Load32S(OFF, 0), I64, (a) => BigInt(dv.getInt32(a, true))],
      ['i64.load32_u', (c) => c.i64Load32U(OFF, 0), I64, (a) => BigInt(dv.getUint32(a, true))],
    ];
    for (const [name, emit, t] of loads) {
      const f = mb.func(mb.type([I32], [t]));
      f.localGet(0);
      emit(f);
      mb.exportFunction(name, f.index);
    }
    const stores: [string, (c: CodeBuilder) => void, typeof I32 | typeof I64, number][] = [
      ['i32.store', (c) => c.i32Store(OFF, 0), I32, 4],
      ['i32.store8', (c) => c.i32Store8(OFF), I32, 1],
      ['i32.store16', (c) => c.i32Store16(OFF, 0), I32, 2],
      ['i64.store', (c) => c.i64Store(OFF, 0), I64, 8],
      ['i64.store8', (c) => c.i64Store8(OFF), I64, 1],
      ['i64.store16', (c) => c.i64Store16(OFF, 0), I64, 2],
      ['i64.store32', (c) => c.i64Store32(OFF, 0), I64, 4],
    ];
    for (const [name, emit, t] of stores) {
      const f = mb.func(mb.type([I32, t], []));
      f.localGet(0);
      f.localGet(1);
      emit(f);
      mb.exportFunction(name, f.index);
    }
    // An aligned CPU-state-style access: a fixed field at a constant offset from address 0.
    const fieldAdd = mb.func(mb.type([I32], []));
    fieldAdd.i32Const(0);
    fieldAdd.i32Const(0);
    fieldAdd.i32Load(0x100);
    fieldAdd.localGet(0);
    fieldAdd.i32Add();
    fieldAdd.i32Store(0x100);
    mb.exportFunction('fieldAdd', fieldAdd.index);
    const ex = instantiate(mb, { env: { mem: memory } });

    const bytes = new Uint8Array(memory.buffer);
    for (let i = 0; i < 64; i++) bytes[i] = (i * 37 + 0x91) & 0xff; // JS writes, wasm reads
    for (const [name, , , ref] of loads) {
      for (let a = 0; a < 40; a += 3) expect((ex[name] as (a: number) => number | bigint)(a), `${name} at ${a}`).toBe(ref(a + OFF));
    }
    const pattern = 0x8877665544332211n;
    for (const [name, , t, size] of stores) {
      bytes.fill(0xee, 0, 64);
      const addr = 7;
      if (t === I32) (ex[name] as (a: number, v: number) => void)(addr, Number(BigInt.asIntN(32, pattern)));
      else (ex[name] as (a: number, v: bigint) => void)(addr, BigInt.asIntN(64, pattern));
      for (let i = 0; i < 16; i++) {
        const at = addr + OFF - 4 + i;
        const inside = at >= addr + OFF && at < addr + OFF + size;
        expect(bytes[at], `${name}: byte ${at}`).toBe(inside ? Number((pattern >> BigInt(8 * (at - addr - OFF))) & 0xffn) : 0xee);
      }
    }
    const state = new Int32Array(memory.buffer);
    state[0x40] = 1000; // the field at byte 0x100
    (ex.fieldAdd as (v: number) => void)(234);
    expect(state[0x40]).toBe(1234);
  });

  it('dispatches region entries through br_table', () => {
    const mb = new ModuleBuilder();
    const f = mb.func(mb.type([I32], [I32]));
    const acc = f.addLocal(I32);
    // Entry k falls through blocks k..3; each appends a digit.
    f.block();
    f.block();
    f.block();
    f.block();
    f.localGet(0);
    f.brTable([0, 1, 2], 3);
    for (const digit of [1, 2, 3, 9]) {
      f.end();
      f.localGet(acc);
      f.i32Const(10);
      f.i32Mul();
      f.i32Const(digit);
      f.i32Add();
      f.localSet(acc);
    }
    f.localGet(acc);
    mb.exportFunction('enter', f.index);

    // A dispatch loop: block 0 counts, block 1 decides whether to go around again.
    const g = mb.func(mb.type([], [I32]));
    const next = g.addLocal(I32);
    const count = g.addLocal(I32);
    const top = g.loop();
    const exit = g.block();
    const b1 = g.block();
    g.block();
    g.localGet(next);
    g.brTable([0, g.depthOf(b1)], g.depthOf(exit));
    g.end();
    // block 0
    g.localGet(count);
    g.i32Const(1);
    g.i32Add();
    g.localSet(count);
    g.i32Const(1);
    g.localSet(next);
    g.brTo(top);
    g.end();
    // block 1
    g.i32Const(0); // count < 10: block 0 again
    g.i32Const(2); // otherwise: out
    g.localGet(count);
    g.i32Const(10);
    g.i32LtU();
    g.select();
    g.localSet(next);
    g.brTo(top);
    g.end();
    g.end();
    g.localGet(count);
    mb.exportFunction('run', g.index);

    const ex = instantiate(mb);
    const enter = ex.enter as I32Fn;
    expect([0, 1, 2, 3, 4, -1].map((e) => enter(e))).toEqual([1239, 239, 39, 9, 9, 9]);
    expect((ex.run as I32Fn)()).toBe(10);
  });

  it('calls an imported JavaScript helper that sees state written before the call', () => {
    const memory = new Wasm.Memory({ initial: 1, maximum: 1 });
    const state = new Int32Array(memory.buffer);
    const calls: number[] = [];
    const mb = new ModuleBuilder();
    const helperType = mb.type([I32], [I32]);
    const helper = mb.importFunction('env', 'slowPath', helperType);
    mb.importMemory('env', 'mem', { min: 1, max: 1 });
    const f = mb.func(mb.type([I32], [I32]));
    const i = f.addLocal(I32);
    const acc = f.addLocal(I32);
    f.block();
    f.loop();
    f.localGet(i);
    f.localGet(0);
    f.i32GeU();
    f.brIf(1);
    // write back "a register" before the helper runs, as the JIT must
    f.i32Const(0);
    f.localGet(i);
    f.i32Const(100);
    f.i32Mul();
    f.i32Store(16);
    f.localGet(i);
    f.call(helper);
    f.localGet(acc);
    f.i32Add();
    f.localSet(acc);
    f.localGet(i);
    f.i32Const(1);
    f.i32Add();
    f.localSet(i);
    f.br(0);
    f.end();
    f.end();
    f.localGet(acc);
    mb.exportFunction('run', f.index);
    const ex = instantiate(mb, {
      env: {
        mem: memory,
        slowPath: (x: number) => {
          calls.push(x);
          return state[4] + x; // reads the written-back register
        },
      },
    });
    expect((ex.run as I32Fn)(5)).toBe(0 + 101 + 202 + 303 + 404);
    expect(calls).toEqual([0, 1, 2, 3, 4]);
  });

  it('calls through a table shared by two modules, slots filled by element segments', () => {
    const table = new Wasm.Table({ element: 'anyfunc', initial: 8 });
    const region = (mb: ModuleBuilder) => mb.type([I32], [I32]);

    // Module B: two regions placed at slots 2 and 3 by a constant-offset element segment.
    const b = new ModuleBuilder();
    b.importTable('env', 'table', { min: 8 });
    const dbl = b.func(region(b));
    dbl.localGet(0);
    dbl.i32Const(1);
    dbl.i32Shl();
    const neg = b.func(region(b));
    neg.i32Const(0);
    neg.localGet(0);
    neg.i32Sub();
    b.element([dbl.index, neg.index], 2);
    instantiate(b, { env: { table } });

    // Module C: compiled once, instantiated into two slots chosen by an imported global.
    const c = new ModuleBuilder();
    c.importTable('env', 'table', { min: 8 });
    const slot = c.importGlobal('env', 'slot', I32, false);
    const add = c.func(region(c));
    add.localGet(0);
    add.globalGet(slot);
    add.i32Add();
    c.elementAtGlobal([add.index], slot);
    const cModule = new Wasm.Module(c.finish());
    for (const s of [5, 6]) new Wasm.Instance(cModule, { env: { table, slot: new Wasm.Global({ value: 'i32' }, s) } });

    // Module A: calls whatever a slot holds.
    const a = new ModuleBuilder();
    const t = region(a);
    a.importTable('env', 'table', { min: 8 });
    const f = a.func(a.type([I32, I32], [I32]));
    f.localGet(1);
    f.localGet(0);
    f.callIndirect(t);
    a.exportFunction('callSlot', f.index);
    const callSlot = instantiate(a, { env: { table } }).callSlot as I32Fn;
    expect(callSlot(2, 21)).toBe(42);
    expect(callSlot(3, 21)).toBe(-21);
    expect(callSlot(5, 1)).toBe(6);
    expect(callSlot(6, 1)).toBe(7);
    expect(() => callSlot(0, 1)).toThrow(Wasm.RuntimeError); // empty slot traps
  });

  it('supports tail calls on this engine (Node >= 20: on by default)', () => {
    expect(wasmTailCalls()).toBe(true);
  });

  it.runIf(wasmTailCalls())('chains regions of two modules with return_call_indirect, never returning to JavaScript', () => {
    const table = new Wasm.Table({ element: 'anyfunc', initial: 2 });
    // Two "regions": each does a little work and jumps to the other through the table.
    const build = (slot: number, other: number, step: number, tail: boolean) => {
      const mb = new ModuleBuilder();
      const t = mb.type([I32, I32], [I32]);
      mb.importTable('env', 'table', { min: 2 });
      const f = mb.func(t);
      f.localGet(0);
      f.i32Eqz();
      f.if();
      f.localGet(1);
      f.return();
      f.end();
      f.localGet(0);
      f.i32Const(1);
      f.i32Sub();
      f.localGet(1);
      f.i32Const(step);
      f.i32Add();
      f.i32Const(other);
      if (tail) f.returnCallIndirect(t);
      else f.callIndirect(t);
      mb.element([f.index], slot);
      mb.exportFunction('enter', f.index);
      return instantiate(mb, { env: { table } }).enter as I32Fn;
    };
    const ping = build(0, 1, 1, true);
    build(1, 0, 2, true);
    // A million region changes: with real calls this would overflow the stack.
    expect(ping(1_000_000, 0)).toBe(500_000 * 1 + 500_000 * 2);

    // The same chain with plain call_indirect does overflow, which is what makes the above a test.
    const table2Ping = build(0, 1, 1, false);
    build(1, 0, 2, false);
    expect(() => table2Ping(1_000_000, 0)).toThrow(RangeError);
  });

  it.runIf(wasmTailCalls())('return_call within a module', () => {
    const mb = new ModuleBuilder();
    const f = mb.func(mb.type([I32, I32], [I32]));
    f.localGet(0);
    f.if(BlockType.I32);
    f.localGet(0);
    f.i32Const(1);
    f.i32Sub();
    f.localGet(1);
    f.i32Const(3);
    f.i32Add();
    f.returnCall(f.index);
    f.else();
    f.localGet(1);
    f.end();
    mb.exportFunction('count', f.index);
    expect((instantiate(mb).count as I32Fn)(2_000_000, 0)).toBe(6_000_000);
  });

  it.runIf(wasmThreads())('runs on a shared memory; a worker raises the exit-request word of a spinning loop', async () => {
    const memory = new Wasm.Memory({ initial: 1, maximum: 1, shared: true });
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const words = new Int32Array(memory.buffer);
    const mb = new ModuleBuilder();
    mb.importMemory('env', 'mem', { min: 1, max: 1, shared: true });
    const f = mb.func(mb.type([I32], [I32]));
    const count = f.addLocal(I32);
    f.i32Const(0);
    f.i32Const(1);
    f.i32AtomicStore(4); // "running"
    const exit = f.block();
    const top = f.loop();
    f.i32Const(0);
    f.i32AtomicLoad(0); // the exit-request word, checked on the back edge
    f.brIfTo(exit);
    f.localGet(count);
    f.i32Const(1);
    f.i32Add();
    f.localTee(count);
    f.localGet(0);
    f.i32LtU();
    f.brIfTo(top);
    f.end();
    f.end();
    f.i32Const(0);
    f.localGet(count);
    f.i32Store(8); // plain store to a shared memory, seen by JS below
    f.localGet(count);
    mb.exportFunction('spin', f.index);
    const spin = instantiate(mb, { env: { mem: memory } }).spin as I32Fn;

    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const w = new Int32Array(workerData);
       parentPort.postMessage('ready');
       while (Atomics.load(w, 1) === 0) {}
       Atomics.store(w, 0, 1);`,
      { eval: true, workerData: memory.buffer },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      const cap = 0x7fffffff;
      const n = spin(cap);
      expect(n).toBeLessThan(cap);
      expect(Atomics.load(words, 0)).toBe(1);
      expect(words[2]).toBe(n);
    } finally {
      await worker.terminate();
    }
  });

  it('declares i32, i64, f64 and v128 locals and does f64 arithmetic', () => {
    const memory: WasmMemory = new Wasm.Memory({ initial: 1, maximum: 1 });
    const mb = new ModuleBuilder();
    mb.importMemory('env', 'mem', { min: 1 });
    const f = mb.func(mb.type([I32, I32], [F64]));
    const x = f.addLocal(F64);
    const wide = f.addLocals(I64, 2);
    const y = f.addLocal(F64);
    expect([x, wide, y]).toEqual([2, 3, 5]);
    f.localGet(0);
    f.f64ConvertI32S();
    f.localGet(1);
    f.f64ConvertI32U();
    f.f64Div();
    f.localTee(x);
    f.f64Sqrt();
    f.localSet(y);
    f.localGet(y);
    f.i64ReinterpretF64();
    f.localSet(wide);
    f.localGet(wide);
    f.f64ReinterpretI64();
    f.f64Const(0.25);
    f.f64Add();
    mb.exportFunction('f', f.index);
    if (wasmSimd()) {
      const g = mb.func(mb.type([], []));
      const v = g.addLocal(V128);
      g.i32Const(0);
      g.v128Load(0, 0);
      g.localSet(v);
      g.i32Const(0);
      g.localGet(v);
      g.v128Store(32);
      g.i32Const(48);
      g.v128Const(1, 2, 3, -1);
      g.v128Store(0);
      mb.exportFunction('copy16', g.index);
    }
    const ex = instantiate(mb, { env: { mem: memory } });
    expect((ex.f as I32Fn)(-18, 2)).toBeNaN(); // sqrt(-9)
    expect((ex.f as I32Fn)(18, 2)).toBe(3.25);
    if (wasmSimd()) {
      const bytes = new Uint8Array(memory.buffer);
      for (let i = 0; i < 16; i++) bytes[i] = i + 1;
      (ex.copy16 as () => void)();
      expect(Array.from(bytes.subarray(32, 48))).toEqual(Array.from(bytes.subarray(0, 16)));
      expect(Array.from(new Int32Array(memory.buffer, 48, 4))).toEqual([1, 2, 3, -1]);
    }
  });

  it('reuses one builder for module after module, producing identical bytes for identical input', () => {
    const mb = new ModuleBuilder();
    const build = (k: number) => {
      mb.reset();
      const f = mb.func(mb.type([I32], [I32]));
      for (let i = 0; i < k; i++) f.addLocal(i % 2 === 0 ? I64 : I32);
      f.localGet(0);
      f.i32Const(k);
      f.i32Add();
      mb.exportFunction('f', f.index);
      mb.export('g', ExternalKind.Func, f.index);
      return mb.finish();
    };
    const first = build(5).slice();
    const fA = new Wasm.Instance(new Wasm.Module(build(5))).exports.f as I32Fn;
    expect(build(5)).toEqual(first);
    const fB = new Wasm.Instance(new Wasm.Module(build(0))).exports.f as I32Fn;
    const fC = new Wasm.Instance(new Wasm.Module(build(300))).exports.f as I32Fn;
    expect([fA(1), fB(1), fC(1)]).toEqual([6, 1, 301]);
  });
});
