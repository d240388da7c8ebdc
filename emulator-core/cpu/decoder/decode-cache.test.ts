import { describe, expect, it } from 'vitest';
import { BufferReader } from './code-reader.js';
import { DecodeCache } from './decode-cache.js';
import { DecodeStatus } from './decoded-insn.js';
import { X86Decoder } from './decoder.js';

describe('decode cache', () => {
  const decoder = new X86Decoder();
  const code = Uint8Array.from([0x48, 0x03, 0x05, 0x10, 0x00, 0x00, 0x00, 0x90]);

  function fill(cache: DecodeCache, lo: number): void {
    const d = cache.claim(lo);
    expect(decoder.decode(new BufferReader(code).at(0, code.length), 64, d)).toBe(DecodeStatus.Ok);
    cache.remember(lo, 0, 64, code, 0);
  }

  it('returns the record while the bytes are the same', () => {
    const cache = new DecodeCache();
    fill(cache, 0x1000);
    expect(cache.lookup(0x1000, 0, 64, code, 0, 8)).toMatchObject({ len: 7, op: 0x03, ripRel: true });
  });

  it('misses when the bytes, the address, the code size or the readable length differ', () => {
    const cache = new DecodeCache();
    fill(cache, 0x1000);
    const changed = code.slice();
    changed[3] = 0x20;
    expect(cache.lookup(0x1000, 0, 64, changed, 0, 8)).toBeNull();
    expect(cache.lookup(0x1000, 1, 64, code, 0, 8)).toBeNull();
    expect(cache.lookup(0x1000, 0, 32, code, 0, 8)).toBeNull();
    expect(cache.lookup(0x1000, 0, 64, code, 0, 6)).toBeNull();
  });

  it('forgets an entry whose record is claimed for decoding again', () => {
    const cache = new DecodeCache();
    fill(cache, 0x1000);
    cache.claim(0x1000);
    expect(cache.lookup(0x1000, 0, 64, code, 0, 8)).toBeNull();
  });

  it('notices a change in any byte of a 15-byte instruction, wherever it starts in the buffer', () => {
    // ES x5, 66, 81 /0 with SIB and disp32, imm16: ADD word [es:esp+0x12345678], 0xabcd.
    const insn = Uint8Array.from([0x26, 0x26, 0x26, 0x26, 0x26, 0x66, 0x81, 0x84, 0x24, 0x78, 0x56, 0x34, 0x12, 0xcd, 0xab]);
    for (let at = 0; at < 4; at++) {
      const buf = new Uint8Array(64);
      buf.set(insn, at);
      const cache = new DecodeCache();
      const d = cache.claim(0x2000);
      expect(decoder.decode(new BufferReader(buf).at(at, buf.length), 32, d)).toBe(DecodeStatus.Ok);
      expect(d.len).toBe(15);
      cache.remember(0x2000, 0, 32, buf, at);
      expect(cache.lookup(0x2000, 0, 32, buf, at, 64 - at)).toBe(d);
      for (let i = 0; i < 15; i++) {
        buf[at + i] ^= 0x40;
        expect(cache.lookup(0x2000, 0, 32, buf, at, 64 - at)).toBeNull();
        buf[at + i] ^= 0x40;
      }
      // Bytes after the instruction are not part of it.
      buf[at + 15] ^= 0xff;
      expect(cache.lookup(0x2000, 0, 32, buf, at, 64 - at)).toBe(d);
    }
  });

  it('trusts an entry under its page generation without reading the bytes, and compares again once the generation moves', () => {
    const gens = new Int32Array(1);
    const cache = new DecodeCache(gens);
    const buf = new Uint8Array(4096);
    buf.set(code, 0x100);
    const d = cache.claim(0x1100);
    expect(decoder.decode(new BufferReader(buf).at(0x100, buf.length), 64, d)).toBe(DecodeStatus.Ok);
    cache.remember(0x1100, 0, 64, buf, 0x100, true);
    // A write the owner was told about bumps the generation; until then the bytes are not looked at.
    buf[0x103] ^= 0xff;
    expect(cache.trusted(0x1100, 0, 64, 0x100, 100)).toBe(d);
    expect(cache.lookup(0x1100, 0, 64, buf, 0x100, 100)).toBe(d);
    gens[0]++;
    expect(cache.trusted(0x1100, 0, 64, 0x100, 100)).toBeNull();
    expect(cache.lookup(0x1100, 0, 64, buf, 0x100, 100)).toBeNull();
    buf[0x103] ^= 0xff;
    expect(cache.lookup(0x1100, 0, 64, buf, 0x100, 100)).toBe(d);
  });
});

