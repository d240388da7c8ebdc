/**
 * 64-bit code that rewrites its own instructions: the interpreter keeps decoded
 * instructions (cpu/decoder/decode-cache.ts) and must notice the new bytes.
 */
import { expect, it } from 'vitest';
import { IoBus } from '../../bus/io-bus.js';
import { ManualClock } from '../../machine/clock.js';
import { GuestMemory } from '../../memory/guest-memory.js';
import { AR_DB, AR_G, AR_L, AR_P, AR_S, CS, DS, ES, SS } from '../constants.js';
import { Cpu, EXIT_HALT } from '../cpu.js';
import { run } from '../interpreter.js';

it('64-bit code sees its own stores to the next instructions', () => {
  const mem = new GuestMemory(4 * 1024 * 1024);
  const c = new Cpu(mem, new IoBus(), { clock: new ManualClock() });
  c.cr0 = 0x80010033;
  c.cr4 = 0x20;
  c.efer = 0xd01;
  c.cr3 = 0x1000;
  const seg = (s: number, access: number): void => {
    c.segSel[s] = s === CS ? 0x08 : 0x10;
    c.segBase[s] = 0;
    c.segLimit[s] = -1;
    c.segAccess[s] = access;
    c.updateSegCheck(s);
  };
  seg(CS, AR_P | AR_S | 0xb | AR_L | AR_G);
  for (const s of [SS, DS, ES]) seg(s, AR_P | AR_S | 0x3 | AR_DB | AR_G);
  c.cpl = 0;
  c.updateMode();
  // Identity map of the first 4 MiB with 2 MiB pages: PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000.
  mem.write32(0x1000, 0x2003);
  mem.write32(0x2000, 0x3003);
  mem.write32(0x3000, 0x83);
  mem.write32(0x3008, 0x200083);
  c.flushTlb(true);
  const code = [
    0xb8, 0x01, 0x00, 0x00, 0x00, // 100000: mov eax, 1 (the immediate is rewritten)
    0x01, 0xc3, // add ebx, eax
    0xfe, 0x05, 0xf4, 0xff, 0xff, 0xff, // inc byte [rip - 12]: the mov's immediate
    0xff, 0xc9, // dec ecx
    0x75, 0xef, // jnz 100000
    0xf4, // hlt
  ];
  code.forEach((b, i) => mem.write8(0x100000 + i, b));
  c.ip = 0x100000;
  c.r32[1] = 10;
  c.r32[3] = 0;
  c.r32[4] = 0x300000;
  expect(run(c, 1000)).toBe(EXIT_HALT);
  expect(c.r32[3]).toBe(55); // 1 + 2 + ... + 10
});
