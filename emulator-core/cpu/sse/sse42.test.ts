import { describe, expect, it } from 'vitest';
import { FlatHarness } from '../../../test/support/cpu/flat-harness.js';
import { assemble, nasmAvailable } from '../../../test/support/nasm.js';
import { CASE_STRIDE, DATA, DATA_SIZE, Long64Machine, RSP_INIT } from '../../../test/difftest/long64/run.js';
import { AF, CF, CR4_OSFXSR, OF, PF, SF, ZF } from '../constants.js';

const CODE = 0x1000;
const ARITH = CF | PF | AF | ZF | SF | OF;

function run(src: string, osfxsr = true) {
  const h = new FlatHarness();
  h.cpu.sse.enabled = true;
  if (osfxsr) h.cpu.cr4 |= CR4_OSFXSR;
  const code = assemble(src + '\nend_marker:', 32, CODE);
  h.writeMemory(CODE, code);
  // Flags set beforehand so that "cleared" is observable.
  h.setRegs({ esp: 0x80000, eip: CODE, eflags: 0x202 | ARITH });
  const res = h.run(CODE + code.length);
  return { h, res, regs: h.getRegs() };
}

/** Run 64-bit code (ending in INT3) at CPL 3 with the 64-bit difftest machine's layout. */
function run64(src: string) {
  const code = assemble(`mov rsp, ${RSP_INIT}\n${src}\nint3`, 64, 0x10000000);
  const padded = new Uint8Array(Math.ceil(code.length / CASE_STRIDE) * CASE_STRIDE).fill(0xcc);
  padded.set(code);
  const m = new Long64Machine(padded);
  m.cpu.sse.enabled = true;
  m.cpu.cr4 |= CR4_OSFXSR;
  return { m, out: m.run(0) };
}

function xmm0(h: FlatHarness): number[] {
  return [...h.cpu.sse.x.u8.subarray(0, 16)];
}

/** A nasm data line holding `s` as bytes, zero-padded to 16. */
function str16(s: string): string {
  const b = [...s].map((c) => c.charCodeAt(0));
  while (b.length < 16) b.push(0);
  return `db ${b.join(', ')}`;
}

/** PCMPISTRI/PCMPISTRM etc. on xmm1 = `a`, [b] = `b`. */
function strOp(insn: string, a: string, b: string, imm: number, pre = '') {
  return run(`
    movdqu xmm1, [sa]
    ${pre}
    ${insn} xmm1, [sb], ${imm}
    jmp end_marker
  sa: ${a}
  sb: ${b}`);
}

describe.skipIf(!nasmAvailable())('SSE4.2 string compares', () => {
  it('equal any finds the first (or last) character of a set, as strpbrk does', () => {
    const first = strOp('pcmpistri', str16('aeiou'), str16('rhythm and blues'), 0x00);
    expect(first.res.exception).toBeNull();
    expect(first.regs.ecx).toBe(7); // the 'a' of "and"
    expect(first.regs.eflags & ARITH).toBe(CF | SF); // a match; the set has a null, the 16-byte text none
    const last = strOp('pcmpistri', str16('aeiou'), str16('rhythm and blues'), 0x40);
    expect(last.regs.ecx).toBe(14); // the 'e' of "blues"
    const none = strOp('pcmpistri', str16('xyz'), str16('hello'), 0x00);
    expect(none.regs.ecx).toBe(16);
    expect(none.regs.eflags & ARITH).toBe(ZF | SF);
  });

  it('ranges match characters between pairs of bounds (here letters) and ignore an unpaired last bound', () => {
    const r = strOp('pcmpistrm', str16('azAZ0'), str16('a1-Z_0q'), 0x44); // byte mask
    expect(r.res.exception).toBeNull();
    expect(xmm0(r.h)).toEqual([0xff, 0, 0, 0xff, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(r.regs.eflags & ARITH).toBe(CF | ZF | SF | OF);
    // Signed bytes: -1 (0xff) lies in [-128, 0]; unsigned it would not.
    const signed = strOp('pcmpestri', 'db 0x80, 0x00, 0,0,0,0,0,0,0,0,0,0,0,0,0,0', 'db 5, 0xff, 7, 0,0,0,0,0,0,0,0,0,0,0,0,0', 0x06, 'mov eax, 2\nmov edx, 3');
    expect(signed.regs.ecx).toBe(1);
    const unsigned = strOp('pcmpestri', 'db 0x80, 0x00, 0,0,0,0,0,0,0,0,0,0,0,0,0,0', 'db 5, 0xff, 7, 0,0,0,0,0,0,0,0,0,0,0,0,0', 0x04, 'mov eax, 2\nmov edx, 3');
    expect(unsigned.regs.ecx).toBe(16);
  });

  it('equal each compares position by position; past both ends counts as equal (strcmp with negative polarity)', () => {
    const diff = strOp('pcmpistri', str16('hello world'), str16('hello wOrld'), 0x18); // negative: first difference
    expect(diff.regs.ecx).toBe(7);
    const same = strOp('pcmpistri', str16('hello'), str16('hello'), 0x18);
    expect(same.regs.ecx).toBe(16); // the padding after both nulls is "equal"
    expect(same.regs.eflags & ARITH).toBe(ZF | SF);
    const prefix = strOp('pcmpistri', str16('hello'), str16('hell'), 0x18);
    expect(prefix.regs.ecx).toBe(4); // b ended, a did not
    // Masked negative: only b's valid elements are inverted, so positions past b's end keep IntRes1 (equal = 1).
    const masked = strOp('pcmpistrm', str16('abc'), str16('abd'), 0x38);
    expect(masked.h.cpu.sse.x.u32[0]).toBe(0b1111111111111_100);
    expect(masked.regs.eflags & ARITH).toBe(CF | ZF | SF);
  });

  it('equal ordered finds a substring, including one cut off at the end of the fragment (strstr)', () => {
    const found = strOp('pcmpistri', str16('world'), str16('hello world'), 0x0c);
    expect(found.regs.ecx).toBe(6);
    // "worlds": b ends after "world", so no full match at 6.
    const longer = strOp('pcmpistri', str16('worlds'), str16('hello world'), 0x0c);
    expect(longer.regs.ecx).toBe(16);
    // With no terminator in b, a match running past byte 15 counts (the caller rechecks).
    const cut = strOp('pcmpistrm', str16('xyz'), 'db "abcdefghijklmnxy"', 0x0c);
    expect(cut.h.cpu.sse.x.u32[0]).toBe(1 << 14);
    expect(cut.regs.eflags & ARITH).toBe(CF | SF);
    // An empty needle matches everywhere.
    const empty = strOp('pcmpistrm', str16(''), str16('abc'), 0x0c);
    expect(empty.h.cpu.sse.x.u32[0]).toBe(0xffff);
    expect(empty.regs.eflags & ARITH).toBe(CF | ZF | SF | OF);
  });

  it('word elements: 8 per register, word masks, signed ranges', () => {
    const r = strOp('pcmpestrm', 'dw -100, 100, 0,0,0,0,0,0', 'dw -101, -100, 0, 100, 101, 0x7fff, -1, 50', 0x47, 'mov eax, 2\nmov edx, 8');
    expect(r.res.exception).toBeNull();
    expect([...r.h.cpu.sse.x.u16.subarray(0, 8)]).toEqual([0, 0xffff, 0xffff, 0xffff, 0, 0, 0xffff, 0xffff]);
    expect(r.regs.eflags & ARITH).toBe(CF | SF);
    const idx = strOp('pcmpestri', 'dw -100, 100, 0,0,0,0,0,0', 'dw -101, -100, 0, 100, 101, 0x7fff, -1, 50', 0x47, 'mov eax, 2\nmov edx, 8');
    expect(idx.regs.ecx).toBe(7);
    const none = strOp('pcmpistri', 'dw 1, 2, 0,0,0,0,0,0', 'dw 3, 4, 5, 6, 7, 8, 9, 10', 0x01);
    expect(none.regs.ecx).toBe(8);
  });

  it('explicit lengths are absolute values saturated at 16 or 8; ZF and SF report lengths below that', () => {
    const a = str16('abcabcabcabcabca');
    const b = str16('cccccccccccccccc');
    // |EAX| = 1 ("a"), |EDX| = 3: equal any, bit mask. -3 is the same length as 3.
    for (const edx of [3, -3]) {
      const r = strOp('pcmpestrm', a, b, 0x00, `mov eax, -1\nmov edx, ${edx}`);
      expect(r.h.cpu.sse.x.u32[0]).toBe(0);
      expect(r.regs.eflags & ARITH).toBe(ZF | SF);
    }
    const r = strOp('pcmpestrm', a, b, 0x00, 'mov eax, 3\nmov edx, 0x80000000');
    expect(r.h.cpu.sse.x.u32[0]).toBe(0xffff);
    expect(r.regs.eflags & ARITH).toBe(CF | SF | OF);
    const w = strOp('pcmpestrm', a, b, 0x01, 'mov eax, 100\nmov edx, -9');
    expect(w.regs.eflags & (ZF | SF)).toBe(0);
    // Zero-length strings: equal each says "equal" everywhere.
    const e = strOp('pcmpestri', a, b, 0x08, 'xor eax, eax\nxor edx, edx');
    expect(e.regs.ecx).toBe(0);
    expect(e.regs.eflags & ARITH).toBe(CF | ZF | SF | OF);
  });

  it('does not require an aligned memory operand, and PCMPISTRI ignores EAX/EDX', () => {
    const r = run(`
      mov eax, 1
      mov edx, 1
      movdqu xmm1, [sa]
      pcmpistri xmm1, [sb + 1], 0x0c
      jmp end_marker
      align 16
    sa: ${str16('lo')}
    sb: db 0
        ${str16('hello')}`);
    expect(r.res.exception).toBeNull();
    expect(r.regs.ecx).toBe(3);
  });

  it('uses RAX/RDX with REX.W in 64-bit mode, saturating 64-bit lengths, and writes ECX zero-extended', () => {
    const { out } = run64(`
      lea rsi, [rel sa]
      movdqu xmm1, [rsi]
      mov rcx, -1
      mov rax, 0x100000003     ; 32-bit view: 3
      mov rdx, -0x100000000    ; 32-bit view: 0
      pcmpestri xmm1, [rsi + 16], 0x08
      mov r8, rcx
      pushfq
      pop r9
      mov rcx, -1
      db 0x66, 0x48, 0x0f, 0x3a, 0x61, 0x4e, 0x10, 0x08 ; pcmpestri xmm1, [rsi+16], 8 with REX.W
      mov r10, rcx
      pushfq
      pop r11
      jmp done
    sa: ${str16('abcdefghijklmnop')}
    sb: ${str16('abcdefghijklmnop')}
    done:`);
    expect(out.vector).toBe(-1);
    // 32-bit lengths 3 and 0: position 0 differs (a valid, b not): equal each gives IntRes2 bit 0 clear.
    expect(out.gpr[8]).toBe(3n);
    expect(Number(out.gpr[9]) & (ZF | SF)).toBe(ZF | SF);
    // 64-bit lengths saturate to 16 each: all equal, index 0, neither ZF nor SF.
    expect(out.gpr[10]).toBe(0n);
    expect(Number(out.gpr[11]) & (ZF | SF | CF)).toBe(CF);
  });
});

describe.skipIf(!nasmAvailable())('PCMPGTQ', () => {
  it('compares signed quadwords', () => {
    const r = run(`
      movdqu xmm2, [a]
      pcmpgtq xmm2, [b]
      movdqu xmm3, [b]
      pcmpgtq xmm3, [a]
      jmp end_marker
      align 16
    a: dq -1, 0x100000000
    b: dq -2, 0xffffffff`);
    expect(r.res.exception).toBeNull();
    const x = r.h.cpu.sse.x;
    expect([...x.i32.subarray(8, 12)]).toEqual([-1, -1, -1, -1]);
    expect([...x.i32.subarray(12, 16)]).toEqual([0, 0, 0, 0]);
  });
});

describe.skipIf(!nasmAvailable())('CRC32, POPCNT, MOVBE', () => {
  // CRC-32C of "123456789" with the usual ~0 initial value and final inversion: the standard check value.
  const CHECK = 0xe3069283;

  it('CRC32 r32, r/m8|16|32 gives the CRC-32C check value through every operand width', () => {
    for (const body of [
      'crc32 eax, byte [esi + ecx]\ninc ecx\ncmp ecx, 9\njb crcloop',
      'mov bl, [esi + ecx]\ncrc32 eax, bl\ninc ecx\ncmp ecx, 9\njb crcloop',
      'mov dh, [esi + ecx]\ncrc32 eax, dh\ninc ecx\ncmp ecx, 9\njb crcloop',
      'crc32 eax, word [esi]\ncrc32 eax, dword [esi + 2]\nmov bx, [esi + 6]\ncrc32 eax, bx\ncrc32 eax, byte [esi + 8]',
    ]) {
      const r = run(`
        mov esi, s
        mov eax, -1
        xor ecx, ecx
      crcloop:
        ${body}
        not eax
        jmp end_marker
      s: db "123456789"`);
      expect(r.res.exception, body).toBeNull();
      expect(r.regs.eax, body).toBe(CHECK);
    }
  });

  it('CRC32 and POPCNT need no CR4.OSFXSR; POPCNT counts 16/32-bit operands and sets only ZF', () => {
    const r = run(
      `
      mov eax, -1
      crc32 eax, byte [s]
      mov ebx, 0x12345678
      mov ecx, 0xdead0000
      popcnt cx, bx
      mov edx, 0x80000001
      popcnt edi, edx
      pushfd
      pop esi
      popcnt edx, [zero]
      jmp end_marker
    s: db "1"
    zero: dd 0`,
      false,
    );
    expect(r.res.exception).toBeNull();
    expect(r.regs.ecx).toBe(0xdead0000 + 8); // popcount(0x5678) = 8, upper half kept
    expect(r.regs.edi).toBe(2);
    expect(r.regs.esi & ARITH).toBe(0);
    expect(r.regs.edx).toBe(0);
    expect(r.regs.eflags & ARITH).toBe(ZF);
    // The same byte through a software CRC-32C (bit by bit, reflected polynomial 0x82F63B78).
    let crc = 0xffffffff ^ 0x31;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    expect(r.regs.eax).toBe(crc >>> 0);
  });

  it('16-bit code: CRC32/POPCNT/MOVBE default to 16-bit operands, 66 makes them 32-bit; CRC32 still writes EAX', () => {
    const h = new FlatHarness({ mode: 'real16' });
    h.cpu.sse.enabled = true;
    const code = assemble(
      `
      mov eax, -1
      mov si, s
      crc32 eax, word [si]          ; F2 0F 38 F1: r/m16 here
      crc32 eax, dword [si + 2]     ; 66 F2 0F 38 F1
      crc32 eax, word [si + 6]
      crc32 eax, byte [si + 8]
      not eax
      mov ebx, 0xffff0000
      popcnt bx, [si]               ; "12" = 0x3231: 3 + 3 bits
      popcnt edx, [si]              ; "1234"
      mov ecx, 0x11110000
      movbe cx, [si]
      jmp done
    s: db "123456789"
    done:`,
      16,
      0x7c00,
    );
    h.writeMemory(0x7c00, code);
    h.cpu.loadRealSegmentRaw(1, 0, 0xffff, h.cpu.segAccess[1]!);
    h.cpu.setEip(0x7c00);
    const res = h.run(0x7c00 + code.length);
    expect(res.exception).toBeNull();
    const r = h.getRegs();
    expect(r.eax).toBe(CHECK);
    expect(r.ebx).toBe(0xffff0006);
    expect(r.edx).toBe(3 + 3 + 4 + 3);
    expect(r.ecx).toBe(0x11113132);
  });

  it('PCMPISTRI still needs CR4.OSFXSR (#UD without it)', () => {
    expect(run('pcmpistri xmm0, xmm1, 0', false).res.exception).toBe(6);
  });

  it('MOVBE loads and stores byte-reversed 16- and 32-bit values', () => {
    const r = run(`
      mov ebx, 0xaaaaaaaa
      movbe ebx, [v]
      mov ecx, 0xcccccccc
      movbe cx, [v]
      mov edx, 0x11223344
      movbe [out], edx
      movbe [out + 4], dx
      mov eax, [out]
      movzx esi, word [out + 4]
      jmp end_marker
    v: db 1, 2, 3, 4
    out: dd 0, 0`);
    expect(r.res.exception).toBeNull();
    expect(r.regs.ebx).toBe(0x01020304);
    expect(r.regs.ecx).toBe(0xcccc0102);
    expect(r.regs.eax).toBe(0x44332211);
    expect(r.regs.esi).toBe(0x4433);
  });

  it('64-bit: CRC32 r64 (REX.W) over qwords, byte registers SPL..DIL and R8B, POPCNT r64, MOVBE r64', () => {
    const { out } = run64(`
      lea rsi, [rel s]
      mov eax, -1
      crc32 rax, qword [rsi]
      crc32 eax, byte [rsi + 8]
      not eax
      mov rbx, rax
      mov eax, -1
      mov r8b, [rsi]
      crc32 eax, r8b
      mov dil, [rsi + 1]        ; DIL, not BH
      crc32 eax, dil
      mov rcx, -1
      crc32 rcx, byte [rsi]
      mov rdx, 0xf0f0f0f0f0f0f0f1
      popcnt r12, rdx
      movbe r13, [rel v]
      jmp done
    s: db "123456789"
    v: db 1, 2, 3, 4, 5, 6, 7, 8
    done:`);
    expect(out.vector).toBe(-1);
    expect(out.gpr[3]).toBe(BigInt(CHECK));
    let crc = 0xffffffff;
    for (const byte of [0x31, 0x32]) {
      crc ^= byte;
      for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    }
    expect(out.gpr[0]).toBe(BigInt(crc >>> 0));
    expect(out.gpr[1] >> 32n).toBe(0n); // 64-bit destination zero-extended
    expect(out.gpr[12]).toBe(33n);
    expect(out.gpr[13]).toBe(0x0102030405060708n);
  });

  it('64-bit: PMOVZXBQ reads only its 2 bytes at the end of a mapped page; PMOVZXBD there faults', () => {
    const end = DATA + DATA_SIZE;
    const ok = run64(`mov rbx, ${end - 2}\npmovzxbq xmm0, [rbx]`);
    expect(ok.out.vector).toBe(-1);
    const bad = run64(`mov rbx, ${end - 2}\npmovzxbd xmm0, [rbx]`);
    expect(bad.out.vector).toBe(14);
    expect(bad.out.cr2).toBe(BigInt(end));
  });
});
