/**
 * The wasm JIT backend against the interpreter: small hand-written programs, hot enough to
 * be compiled, must end with the same registers, flags and memory. Each also checks that the
 * wasm backend really compiled regions and ran most instructions in them.
 */
import { describe, expect, it } from 'vitest';
import { FS, GS } from '../../constants.js';
import { EXIT_HALT } from '../../cpu.js';
import { run as interpret } from '../../interpreter.js';
import { FlatHarness, type FlatRegs } from '../../../../test/support/cpu/flat-harness.js';
import { assemble, nasmAvailable } from '../../../../test/support/nasm.js';
import { Jit } from '../jit.js';
import { WasmBackend } from './index.js';

const CODE = 0x1000;
const DATA = 0x20000;
const DATA_BYTES = 0x10000;
const STACK = 0x80000;

interface Outcome {
  regs: FlatRegs;
  data: number[];
  instructions: number;
}

/** FS and GS bases (per-CPU data, thread-local storage): segment bases added to addresses. */
const FS_BASE = DATA + 0x100;
const GS_BASE = DATA + 0x2003;

function runOn(engine: 'interpreter' | 'js' | 'wasm', source: string, regs: Partial<FlatRegs> = {}): { out: Outcome; jit: Jit | null } {
  const h = new FlatHarness();
  h.cpu.cpl = 0;
  h.cpu.updateMode();
  h.cpu.segBase[FS] = FS_BASE;
  h.cpu.segBase[GS] = GS_BASE;
  h.writeMemory(CODE, assemble(source, 32, CODE));
  const init = new Uint8Array(DATA_BYTES);
  for (let i = 0; i < init.length; i++) init[i] = (i * 2654435761) >>> 13;
  h.writeMemory(DATA, init);
  h.setRegs({ eax: 0, ecx: 0, edx: 0, ebx: 0, esi: 0, edi: 0, ebp: 0, esp: STACK, eflags: 0x2, eip: CODE, ...regs });
  const jit = engine === 'interpreter' ? null : new Jit(h.cpu, { backend: engine, hotThreshold: 2, background: false });
  let exit = 0;
  for (let i = 0; i < 10_000 && exit !== EXIT_HALT; i++) exit = jit !== null ? jit.run(10_000) : interpret(h.cpu, 10_000);
  expect(exit, `${engine} reached HLT`).toBe(EXIT_HALT);
  return { out: { regs: h.getRegs(), data: [...h.readMemory(DATA, DATA_BYTES)], instructions: h.cpu.instructionCount }, jit };
}

/** Runs on the interpreter and the wasm backend; returns the interpreter's outcome after comparing. */
function compare(source: string, regs: Partial<FlatRegs> = {}): Outcome {
  const ref = runOn('interpreter', source, regs).out;
  const { out, jit } = runOn('wasm', source, regs);
  expect(out.regs).toEqual(ref.regs);
  // Memory compared as a whole, but reported by first difference.
  const diff = out.data.findIndex((b, i) => b !== ref.data[i]);
  expect(diff, diff >= 0 ? `first differing byte at ${(DATA + diff).toString(16)}` : '').toBe(-1);
  expect(out.instructions).toBe(ref.instructions);
  const backend = jit!.backend;
  expect(backend).toBeInstanceOf(WasmBackend);
  expect((backend as WasmBackend).stats.modules).toBeGreaterThan(0);
  // Most of the work ran in compiled regions, not in the dispatcher's interpreter.
  expect(jit!.stats.interpreted).toBeLessThan(ref.instructions / 4);
  return ref;
}

const CONDS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/**
 * For each op, width and operand form: the op on data words, then one Jcc (each of the 16
 * in turn, so conditions are tested right after the op that set the flags, the way compiled
 * code evaluates them), the taken mask and the full EFLAGS (PUSHFD) stored in memory.
 */
function flagProgram(): string {
  const ops = ['add', 'sub', 'cmp', 'and', 'or', 'xor', 'test', 'inc', 'dec', 'adc', 'sbb', 'neg', 'not', 'imul', 'shl', 'shr', 'sar', 'sal'];
  const widths: [string, string, string][] = [
    ['eax', 'ebx', 'dword'],
    ['ax', 'bx', 'word'],
    ['al', 'bl', 'byte'],
    ['ah', 'bh', 'byte'],
  ];
  const lines = [`  mov esi, ${DATA}`, '  mov ecx, 60', 'outer:', '  push ecx', '  xor edx, edx', '  mov edi, 0x8000'];
  let k = 0;
  for (const op of ops) {
    for (const [a, b, size] of widths) {
      if (op === 'imul' && size !== 'dword') continue;
      for (let form = 0; form < 3; form++) {
        CONDS.forEach((cc, i) => {
          lines.push(`  mov eax, [esi + ecx*8 + ${(k * 4) & 0x3ff}]`, `  mov ebx, [esi + ecx*8 + ${(k * 4 + 4) & 0x3ff}]`);
          if (op === 'imul') lines.push(form === 0 ? '  imul eax, ebx' : form === 1 ? `  imul eax, ebx, ${i * 977 + 3}` : `  imul eax, [esi + ${k * 4}]`);
          else if (op === 'shl' || op === 'shr' || op === 'sar' || op === 'sal') {
            // By 1, by a constant (some beyond the operand width), by CL (0-31).
            if (form === 2) lines.push(`  mov ecx, ${(i * 5 + k) & 31}`, `  ${op} ${a}, cl`, '  mov ecx, [esp]');
            else lines.push(`  ${op} ${a}, ${form === 0 ? 1 : ((i * 3 + k) & 31) || 1}`);
          } else if (op === 'inc' || op === 'dec' || op === 'neg' || op === 'not') lines.push(form === 2 ? `  ${op} ${size} [esi + 0x8000 + ${k * 4}]` : `  ${op} ${a}`);
          else if (form === 0) lines.push(`  ${op} ${a}, ${b}`);
          else if (form === 1) lines.push(`  ${op} ${a}, ${size === 'byte' ? 0x81 : size === 'word' ? 0x8001 : 0x7fffffff}`);
          else lines.push(`  ${op} ${size} [esi + 0x8000 + ${k * 4}], ${b}`);
          lines.push(`  j${cc} .t${k}_${i}`, `  add edx, ${1 + i * 3}`, `.t${k}_${i}:`);
        });
        lines.push('  pushfd', `  pop dword [esi + 0xc000 + ${k * 4}]`, `  add [esi + 0x9000 + ${k * 4}], edx`, `  mov [esi + 0xa000 + ${k * 4}], eax`, `  mov [esi + 0xb000 + ${k * 4}], ebx`);
        k++;
      }
    }
  }
  lines.push('  pop ecx', '  dec ecx', '  jnz outer', '  hlt');
  return lines.join('\n');
}

describe.skipIf(!nasmAvailable())('wasm JIT backend vs the interpreter', () => {
  it('ALU operations of every width on registers, immediates and memory, with all conditions', () => {
    compare(flagProgram());
  });

  it('a loop of loads, stores, read-modify-writes, LEA, MOVZX/MOVSX, IMUL, CMOV, SETcc, XCHG, shifts and fallbacks', () => {
    compare(`
      mov esi, ${DATA}
      mov ecx, 500
      mov edx, 0x12345678
    again:
      mov edi, [esi + ecx*4 - 4]
      add eax, edi
      sub ebx, edi
      xor edx, eax
      and edi, 0xff00ff
      or ebx, edi
      cmp eax, ebx
      jb .skip1
      inc dword [esi + 0x800]
    .skip1:
      add byte [esi + 0x804], al
      sub word [esi + 0x806], bx
      xor [esi + 0x808], edx
      or [esi + 0x80c], cl
      and dword [esi + 0x810], 0xfffff7ff
      test dl, 0x80
      jnz .s2
      dec ebx
    .s2:
      mov [esi + ecx*4 + 0x1000], eax
      mov [esi + 0xffe], eax          ; crosses a page: the slow path
      mov edi, [esi + 0x1ffd]         ; crosses a page
      add eax, edi
      mov al, [esi + ecx]
      mov ah, dh
      mov [esi + ecx + 0x3000], ah
      mov word [esi + ecx*2 + 0x4000], 0x5a5a
      mov byte [esi + ecx + 0x5000], 0xa5
      add ax, 0x1234
      adc eax, ebx
      lea edi, [eax + ebx*2 + 7]
      lea bp, [edi + 3]
      cmp di, 0x4000
      jl .s3
      jo .s3
      neg edi
    .s3:
      shl edi, 3
      movzx edi, di
      movsx edx, byte [esi + ecx]
      movsx ebp, bx
      imul edx, ebx
      imul ebp, [esi + ecx*4], 12345
      imul edi, edi, -3
      cdq
      cwde
      xchg eax, edx
      xchg bl, bh
      cmp eax, edx
      cmovg eax, ebp
      cmovbe edx, [esi + 0x808]
      setnz bl
      setl [esi + ecx + 0x6000]
      sar ebp, 5
      shr edx, 1
      shl ebp, 1
      add eax, ebp
      mov edx, [fs:ecx*4]
      add [gs:ecx*2 + 0x10], edx
      inc byte [fs:0x40]
      cmp dword [gs:ecx], 0x1000
      cmovb edx, [fs:0x44]
      mov [fs:ecx + 0x6800], dl
      test [esi + 0x810], edi
      jz .s4
      dec byte [esi + 0x820]
    .s4:
      dec ecx
      jnz again
      hlt`);
  });

  it('CALL, RET, PUSH and POP (recursive Fibonacci)', () => {
    const out = compare(`
      mov ebx, 0
      mov esi, 0
    outer:
      mov eax, 15
      call fib
      add esi, eax
      inc ebx
      cmp ebx, 6
      jne outer
      hlt
    fib:
      cmp eax, 2
      jae .rec
      ret
    .rec:
      push ebp
      mov ebp, esp
      push eax
      push dword [ebp - 4]
      pop eax
      dec eax
      call fib
      pop ecx
      leave
      push eax
      lea eax, [ecx - 2]
      call fib
      pop edx
      add eax, edx
      ret`);
    expect(out.regs.esi).toBe(610 * 6);
  });

  it('releases the regions of a page written over, so modules do not pile up', () => {
    const before = WasmBackend.liveRegions;
    const { out, jit } = runOn(
      'wasm',
      `
      mov ebx, 0
    outer:
      mov ecx, 50
    inner:
      dec ecx
      jnz inner
      mov [patch + 1], ebx     ; the code page is written: its regions go
      inc ebx
      cmp ebx, 40
      jne outer
    patch:
      mov eax, 0
      hlt`,
    );
    expect(out.regs.eax).toBe(39);
    const backend = jit!.backend as WasmBackend;
    expect(jit!.stats.invalidations).toBeGreaterThanOrEqual(39);
    expect(backend.stats.modules).toBeGreaterThanOrEqual(39);
    // Every recompilation's predecessor was released: only the last page's regions are live.
    expect(WasmBackend.liveRegions - before).toBeLessThanOrEqual(3);
  });
});
