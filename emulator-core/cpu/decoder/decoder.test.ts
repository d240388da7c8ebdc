/**
 * Focused cases for the rules random bytes rarely pin down: RIP-relative addressing, REX
 * placement, 16-bit addressing, the 15-byte limit, truncation and #UD reporting.
 * (objdump-oracle.test.ts compares thousands of random instructions with objdump.)
 */
import { describe, expect, it } from 'vitest';
import { BufferReader } from './code-reader.js';
import { BP, BX, DecodedInsn, DecodeStatus, DI, SI } from './decoded-insn.js';
import { X86Decoder, type CodeBits } from './decoder.js';

const decoder = new X86Decoder();
const d = new DecodedInsn();

function bytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.split(/\s+/).filter((s) => s !== ''), (s) => parseInt(s, 16));
}

/** Decode `hex` (all of it readable) and return the shared record. */
function dec(bits: CodeBits, hex: string, readable?: number): DecodedInsn {
  const b = bytes(hex);
  decoder.decode(new BufferReader(b).at(0, readable ?? b.length), bits, d);
  return d;
}

const SS = 2;
const DS = 3;
const FS = 4;

describe('x86 decoder', () => {
  describe('RIP-relative addressing', () => {
    it('mod=00 rm=101 in 64-bit mode is relative to the next instruction, disp32 signed', () => {
      expect(dec(64, '48 8b 05 f0 ff ff ff')).toMatchObject({ status: DecodeStatus.Ok, len: 7, ripRel: true, base: -1, index: -1, disp: -16, opSize: 8, reg: 0 });
      // REX.B does not make it R13-based.
      expect(dec(64, '41 8b 05 10 00 00 00')).toMatchObject({ len: 7, ripRel: true, base: -1, disp: 0x10 });
      // With 0x67 it stays RIP-relative (the address is truncated to 32 bits by the executor).
      expect(dec(64, '67 8b 05 10 00 00 00')).toMatchObject({ len: 7, ripRel: true, addrSize: 4 });
    });

    it('counts immediates after the displacement, so len gives the next RIP', () => {
      expect(dec(64, 'c7 05 10 00 00 00 78 56 34 12')).toMatchObject({ len: 10, ripRel: true, disp: 0x10, imm: 0x12345678 });
      expect(dec(64, '48 83 3d 10 00 00 00 ff')).toMatchObject({ len: 8, ripRel: true, imm: 0xff });
      expect(dec(64, '66 81 3d 10 00 00 00 34 12')).toMatchObject({ len: 9, ripRel: true, imm: 0x1234, opSize: 2 });
    });

    it('is an absolute disp32 outside 64-bit mode, and through SIB with no base', () => {
      expect(dec(32, '8b 05 10 00 00 00')).toMatchObject({ len: 6, ripRel: false, base: -1, index: -1, disp: 0x10 });
      expect(dec(64, '8b 04 25 10 00 00 00')).toMatchObject({ len: 7, ripRel: false, base: -1, index: -1, disp: 0x10 });
      expect(dec(64, '41 8b 04 25 10 00 00 00')).toMatchObject({ ripRel: false, base: -1 });
    });
  });

  describe('REX', () => {
    it('extends reg, base and index; index 100 is none unless REX.X makes it R12', () => {
      expect(dec(64, '4c 8b 04 24')).toMatchObject({ len: 4, rex: 0x4c, opSize: 8, reg: 8, base: 4, index: -1, defSeg: SS });
      expect(dec(64, '43 8b 04 2c')).toMatchObject({ base: 12, index: 13, scale: 0 });
      expect(dec(64, '42 8b 04 a5 00 01 00 00')).toMatchObject({ base: -1, index: 12, scale: 2, disp: 0x100 });
      expect(dec(64, '49 89 c8')).toMatchObject({ mod: 3, reg: 1, rm: 8, opSize: 8 });
    });

    it('R12 and R13 bases are not stack references', () => {
      expect(dec(64, '41 8b 44 24 08')).toMatchObject({ base: 12, disp: 8, defSeg: DS });
      expect(dec(64, '41 8b 45 00')).toMatchObject({ base: 13, disp: 0, defSeg: DS });
      expect(dec(64, '8b 45 00')).toMatchObject({ base: 5, defSeg: SS });
    });

    it('counts only as the last prefix: one followed by a legacy prefix is ignored', () => {
      expect(dec(64, '48 66 01 c0')).toMatchObject({ len: 4, rex: 0, opSize: 2, p66: true });
      expect(dec(64, '66 48 01 c0')).toMatchObject({ len: 4, rex: 0x48, opSize: 8 });
      // Two REX prefixes: the last one counts.
      expect(dec(64, '48 41 01 c0')).toMatchObject({ len: 4, rex: 0x41, opSize: 4, rm: 8 });
    });

    it('REX.W gives MOV r64 an imm64, over 0x66', () => {
      expect(dec(64, '48 b8 01 02 03 04 05 06 07 08')).toMatchObject({ len: 10, opSize: 8, imm: 0x04030201, immHi: 0x08070605 });
      expect(dec(64, '66 49 bf 01 02 03 04 05 06 07 88')).toMatchObject({ len: 11, immHi: 0x88070605 | 0 });
      expect(dec(64, 'b8 01 02 03 04')).toMatchObject({ len: 5, opSize: 4, immHi: 0 });
    });

    it('is INC/DEC outside 64-bit mode', () => {
      expect(dec(32, '48 01 c0')).toMatchObject({ len: 1, op: 0x48, rex: 0 });
    });
  });

  describe('operand sizes in 64-bit mode', () => {
    it('PUSH/POP default to 64 (0x66: 16); near branches are 64 whatever 0x66 says', () => {
      expect(dec(64, '50')).toMatchObject({ opSize: 8 });
      expect(dec(64, '66 50')).toMatchObject({ opSize: 2 });
      expect(dec(64, '66 68 34 12')).toMatchObject({ len: 4, opSize: 2, imm: 0x1234 });
      expect(dec(64, '66 e8 00 00 00 00')).toMatchObject({ len: 6, opSize: 8 });
      expect(dec(64, '66 0f 85 00 01 00 00')).toMatchObject({ len: 7, op: 0x185, opSize: 8, imm: 0x100 });
      expect(dec(64, '66 ff d0')).toMatchObject({ opSize: 8 }); // CALL r/m: forced
      expect(dec(64, '66 ff f0')).toMatchObject({ opSize: 2 }); // PUSH r/m: default
      expect(dec(64, 'ff c0')).toMatchObject({ opSize: 4 }); // INC: neither
    });

    it('moffs has the address size', () => {
      expect(dec(64, 'a1 01 02 03 04 05 06 07 08')).toMatchObject({ len: 9, imm: 0x04030201, immHi: 0x08070605 });
      expect(dec(64, '67 a1 01 02 03 04')).toMatchObject({ len: 6, immHi: 0 });
      expect(dec(32, 'a1 01 02 03 04')).toMatchObject({ len: 5 });
      expect(dec(16, 'a1 01 02')).toMatchObject({ len: 3, imm: 0x0201 });
      expect(dec(16, '67 a1 01 02 03 04')).toMatchObject({ len: 6 });
    });
  });

  describe('16-bit addressing', () => {
    const forms: [number, number, number, number][] = [
      // rm, base, index, default segment
      [0, BX, SI, DS],
      [1, BX, DI, DS],
      [2, BP, SI, SS],
      [3, BP, DI, SS],
      [4, SI, -1, DS],
      [5, DI, -1, DS],
      [6, BP, -1, SS],
      [7, BX, -1, DS],
    ];
    it.each(forms)('rm=%i: base %i, index %i, segment %i, with disp8 and disp16', (rm, base, index, seg) => {
      const m1 = (0x40 | rm).toString(16);
      const m2 = (0x80 | rm).toString(16);
      expect(dec(16, `8b ${m1} fe`)).toMatchObject({ len: 3, base, index, defSeg: seg, disp: -2, addrSize: 2 });
      expect(dec(16, `8b ${m2} 34 92`)).toMatchObject({ len: 4, base, index, defSeg: seg, disp: 0x9234 - 0x10000 });
      if (rm !== 6) expect(dec(16, `8b ${rm.toString(16).padStart(2, '0')}`)).toMatchObject({ len: 2, base, index, disp: 0 });
    });

    it('mod=00 rm=110 is a bare disp16 in DS', () => {
      expect(dec(16, '8b 06 34 12')).toMatchObject({ len: 4, base: -1, index: -1, disp: 0x1234, defSeg: DS });
      expect(dec(32, '67 8b 06 fe ff')).toMatchObject({ len: 5, base: -1, disp: -2, addrSize: 2 });
    });

    it('0x67 gives 16-bit code 32-bit addressing with SIB', () => {
      expect(dec(16, '67 8b 04 24')).toMatchObject({ len: 4, base: 4, index: -1, defSeg: SS, addrSize: 4 });
      expect(dec(16, '66 b8 01 00 00 00')).toMatchObject({ len: 6, opSize: 4, imm: 1 });
    });
  });

  describe('the 15-byte limit', () => {
    it('allows 15 bytes and reports #GP for more', () => {
      expect(dec(32, `${'66 '.repeat(14)}90`)).toMatchObject({ status: DecodeStatus.Ok, len: 15 });
      expect(dec(32, `${'66 '.repeat(15)}90`)).toMatchObject({ status: DecodeStatus.TooLong, len: 15 });
      // Ten prefixes and ADD EAX, imm32 fit; eleven do not.
      expect(dec(32, `${'2e '.repeat(10)}05 01 02 03 04`)).toMatchObject({ status: DecodeStatus.Ok, len: 15 });
      expect(dec(32, `${'2e '.repeat(11)}05 01 02 03 04`)).toMatchObject({ status: DecodeStatus.TooLong });
      expect(dec(64, `${'f0 '.repeat(6)}48 b8 01 02 03 04 05 06 07 08`)).toMatchObject({ status: DecodeStatus.TooLong });
    });

    it('reports truncation (e.g. at a page end) apart from the limit', () => {
      expect(dec(32, '05 01 02 03 04', 3)).toMatchObject({ status: DecodeStatus.Truncated, len: 3 });
      expect(dec(32, '0f', 1)).toMatchObject({ status: DecodeStatus.Truncated });
      expect(dec(64, '8b 04', 2)).toMatchObject({ status: DecodeStatus.Truncated });
    });
  });

  describe('#UD', () => {
    it.each(['06', '07', '0e', '16', '17', '1e', '1f', '27', '2f', '37', '3f', '60', '61', '62 00', '82 c0 01', '9a 00 00 00 00 00 00', 'c4 00', 'c5 00', 'ce', 'd4 0a', 'd5 0a', 'd6', 'ea 00 00 00 00 00 00'])(
      '%s is invalid in 64-bit mode only',
      (hex) => {
        expect(dec(64, hex).status).toBe(DecodeStatus.Invalid);
        expect(dec(32, hex).status).toBe(DecodeStatus.Ok);
      },
    );

    it('register forms of memory-only instructions, VEX and XOP in 32-bit code', () => {
      for (const hex of ['8d c0', 'c4 c0 00', 'c5 c0', '62 c0', '0f b2 c0', 'ff d8', 'ff e8', '8f c8 00'])
        expect(dec(32, hex).status, hex).toBe(DecodeStatus.Invalid);
      expect(dec(32, '8d 00')).toMatchObject({ status: DecodeStatus.Ok, len: 2 });
      expect(dec(32, '8f c0').status).toBe(DecodeStatus.Ok);
    });

    it('undefined opcodes and group members, but not UD0/UD1/UD2 (defined to raise #UD)', () => {
      for (const hex of ['0f 04', '0f 0a', '0f 0c', '0f 36', '0f a6', 'fe d0', 'ff f8', 'c6 c8 00', '0f ba c0 01'])
        expect(dec(32, hex).status, hex).toBe(DecodeStatus.Invalid);
      expect(dec(32, '0f 0b')).toMatchObject({ status: DecodeStatus.Ok, len: 2 });
      expect(dec(32, '0f b9 c0')).toMatchObject({ status: DecodeStatus.Ok, len: 3 });
      expect(dec(32, '0f ff 00')).toMatchObject({ status: DecodeStatus.Ok, len: 3 });
    });
  });

  describe('prefixes and maps', () => {
    it('the last segment override and the last of F2/F3 win; 64-bit mode ignores ES/CS/SS/DS', () => {
      expect(dec(32, '26 2e 8b 00')).toMatchObject({ seg: 1 });
      expect(dec(32, 'f2 f3 a4')).toMatchObject({ rep: 0xf3, pp: 2 });
      expect(dec(32, 'f3 f2 a4')).toMatchObject({ rep: 0xf2, pp: 3 });
      expect(dec(64, '26 8b 00')).toMatchObject({ seg: -1 });
      expect(dec(64, '64 26 8b 00')).toMatchObject({ seg: FS });
      expect(dec(32, 'f0 01 00')).toMatchObject({ lock: true });
    });

    it('group immediates: TEST in F6/F7 /0 and /1 only', () => {
      expect(dec(32, 'f6 c0 12')).toMatchObject({ len: 3, imm: 0x12 });
      expect(dec(32, 'f6 c8 12')).toMatchObject({ len: 3 });
      expect(dec(32, 'f6 d0')).toMatchObject({ len: 2 });
      expect(dec(32, 'f7 c0 01 02 03 04')).toMatchObject({ len: 6 });
      expect(dec(32, '66 f7 c0 01 02')).toMatchObject({ len: 5, imm: 0x0201 });
      expect(dec(64, '48 f7 00 ff ff ff ff')).toMatchObject({ len: 7, imm: -1, immHi: 0 });
    });

    it('mandatory prefixes pick 0F 38 / 0F 3A rows; F2/F3 win over 66', () => {
      expect(dec(32, '66 0f 38 00 c1')).toMatchObject({ status: DecodeStatus.Ok, len: 5, op: 0x200, pp: 1 });
      expect(dec(32, '66 0f 3a 0f c1 08')).toMatchObject({ status: DecodeStatus.Ok, len: 6, op: 0x30f, imm: 8 });
      expect(dec(32, '66 0f 3a 63 00 12')).toMatchObject({ len: 6, op: 0x363, imm: 0x12 }); // PCMPISTRI
      expect(dec(32, 'f2 0f 38 f1 c0')).toMatchObject({ status: DecodeStatus.Ok, op: 0x2f1, pp: 3 }); // CRC32
      expect(dec(32, '66 f2 0f 38 f1 c0')).toMatchObject({ status: DecodeStatus.Ok, pp: 3, opSize: 2 });
      expect(dec(32, '0f 38 f0 00')).toMatchObject({ status: DecodeStatus.Ok, len: 4 }); // MOVBE
      expect(dec(32, '0f 38 f0 c0').status).toBe(DecodeStatus.Invalid); // MOVBE needs memory
      expect(dec(32, 'f3 0f b8 c0')).toMatchObject({ status: DecodeStatus.Ok, op: 0x1b8 }); // POPCNT
      expect(dec(32, '0f b8 c0').status).toBe(DecodeStatus.Invalid);
      expect(dec(32, '0f 3a 20 c0 01').status).toBe(DecodeStatus.Invalid); // PINSRB needs 66
    });

    it('MOV CRn/DRn ignore mod: no displacement ever follows', () => {
      expect(dec(32, '0f 20 00')).toMatchObject({ len: 3, mod: 3, rm: 0 });
      expect(dec(64, '44 0f 22 45')).toMatchObject({ len: 4, mod: 3, reg: 8, rm: 5 });
    });

    it('ENTER and far pointers carry two immediates', () => {
      expect(dec(32, 'c8 10 00 02')).toMatchObject({ len: 4, imm: 0x10, imm2: 2 });
      expect(dec(32, '9a 01 02 03 04 05 06')).toMatchObject({ len: 7, imm: 0x04030201, imm2: 0x0605 });
      expect(dec(32, '66 ea 01 02 03 04')).toMatchObject({ len: 6, imm: 0x0201, imm2: 0x0403 });
    });

    it('reuses the record: nothing survives from the previous instruction', () => {
      dec(64, '4c 8b 84 24 00 01 00 00');
      expect(dec(32, '90')).toMatchObject({ len: 1, rex: 0, reg: 0, rm: 0, base: -1, index: -1, disp: 0, hasModrm: false, mod: 3, imm: 0, seg: -1 });
    });
  });
});
