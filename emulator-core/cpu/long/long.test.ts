/**
 * Long mode unit tests: the 4-level page walk (translations, A/D bits, every #PF error
 * code bit and CR2 with a high half, the long-mode TLB), and 64-bit interrupt delivery
 * (16-byte gates, IST and TSS.RSP0 stacks, the frame layout, IRETQ to CPL 3) plus
 * SYSCALL/SYSRET, run through the interpreter's run loop on a small nasm guest.
 */
import { describe, expect, it } from 'vitest';
import { IoBus } from '../../bus/io-bus.js';
import { ManualClock } from '../../machine/clock.js';
import { GuestMemory } from '../../memory/guest-memory.js';
import { AR_DB, AR_G, AR_L, AR_P, AR_S, CS, DS, ES, SS, TR } from '../constants.js';
import { Cpu, EXIT_HALT, FAULT } from '../cpu.js';
import { run } from '../interpreter.js';
import { Jit } from '../jit/jit.js';
import { assemble, nasmAvailable } from '../../../test/support/nasm.js';
import { getCpuState, setCpuState } from '../state-convert.js';
import type { CpuState } from '../state.js';
import { physFor64 } from './memory.js';
import { lar64, lsl64, verr64, verw64 } from './system64.js';

const P = 1;
const RW = 2;
const US = 4;
const PS = 0x80;
const NX_HI = 0x80000000 | 0;

function longModeCpu(): Cpu {
  const mem = new GuestMemory(8 * 1024 * 1024);
  const c = new Cpu(mem, new IoBus(), { clock: new ManualClock() });
  c.cr0 = 0x80010033; // PG WP NE ET PE
  c.cr4 = 0x20;
  c.efer = 0xd01; // NXE LMA LME SCE
  c.cr3 = 0x1000;
  const seg = (s: number, sel: number, access: number): void => {
    c.segSel[s] = sel;
    c.segBase[s] = 0;
    c.segLimit[s] = -1;
    c.segAccess[s] = access;
    c.updateSegCheck(s);
  };
  seg(CS, 0x08, AR_P | AR_S | 0xb | AR_L | AR_G);
  for (const s of [SS, DS, ES]) seg(s, 0x10, AR_P | AR_S | 0x3 | AR_DB | AR_G);
  c.cpl = 0;
  c.updateMode();
  c.flushTlb(true);
  return c;
}

function w64(c: Cpu, addr: number, lo: number, hi = 0): void {
  c.mem.write32(addr, lo);
  c.mem.write32(addr + 4, hi);
}

/** Expect a #PF with `code` and CR2 = hi:lo. */
function expectPf(c: Cpu, f: () => void, code: number, hi: number, lo: number): void {
  try {
    f();
  } catch (e) {
    expect(e).toBe(FAULT);
    expect(c.excVector).toBe(14);
    expect(c.excCode).toBe(code);
    expect([c.lm.cr2Hi >>> 0, c.cr2 >>> 0]).toEqual([hi >>> 0, lo >>> 0]);
    return;
  }
  throw new Error('no page fault');
}

describe('4-level paging', () => {
  // High-half address 0xffff8000_00201000: PML4[256] -> PDPT 0x3000 -> PD 0x4000 -> PT 0x5000.
  const HI = 0xffff8000 | 0;
  const LO = 0x00201000;

  function tables(c: Cpu, leafLo: number, leafHi = 0, upper = P | RW | US): void {
    w64(c, 0x1000 + 256 * 8, 0x3000 | upper);
    w64(c, 0x3000, 0x4000 | upper);
    w64(c, 0x4000 + 1 * 8, 0x5000 | upper);
    w64(c, 0x5000 + 1 * 8, leafLo, leafHi);
    c.flushTlb(true);
  }

  it('translates a high-half 4 KiB page and sets accessed and dirty bits', () => {
    const c = longModeCpu();
    tables(c, 0x123000 | P | RW | US);
    expect(physFor64(c, HI, LO + 0x45, 0, false)).toBe(0x123045);
    expect(c.mem.read32(0x5008) & 0x60).toBe(0x20); // A, not D
    expect(c.mem.read32(0x1000 + 256 * 8) & 0x20).toBe(0x20);
    physFor64(c, HI, LO, 1, false);
    expect(c.mem.read32(0x5008) & 0x60).toBe(0x60);
  });

  it('translates 2 MiB pages, also below 4 GiB through the 32-bit TLB', () => {
    const c = longModeCpu();
    w64(c, 0x1000, 0x3000 | P | RW);
    w64(c, 0x3000 + 3 * 8, 0x4000 | P | RW); // 3-4 GiB
    w64(c, 0x4000 + 511 * 8, 0x600000 | P | RW | PS);
    c.flushTlb(true);
    expect(physFor64(c, 0, 0xffe12345 | 0, 0, false)).toBe(0x612345);
    expect(c.readLin32(0xffe12344 | 0)).toBe(c.mem.read32(0x612344));
  });

  it('reports not-present, user, write, NX and reserved-bit faults with the right error code and a 64-bit CR2', () => {
    const c = longModeCpu();
    // Not present at the PML4: supervisor read, user write, supervisor fetch.
    expectPf(c, () => physFor64(c, HI, LO, 0, false), 0, HI, LO);
    expectPf(c, () => physFor64(c, HI, LO + 8, 1, true), 6, HI, LO + 8);
    expectPf(c, () => physFor64(c, HI, LO, 2, false), 0x10, HI, LO);
    // Supervisor-only page from CPL 3.
    tables(c, 0x123000 | P | RW);
    expectPf(c, () => physFor64(c, HI, LO, 0, true), 5, HI, LO);
    // Read-only page: user write faults; supervisor write faults only with CR0.WP.
    tables(c, 0x123000 | P | US);
    expectPf(c, () => physFor64(c, HI, LO, 1, true), 7, HI, LO);
    expectPf(c, () => physFor64(c, HI, LO, 1, false), 3, HI, LO);
    c.cr0 &= ~0x10000;
    c.flushTlb(true);
    expect(physFor64(c, HI, LO, 1, false)).toBe(0x123000);
    c.cr0 |= 0x10000;
    // Read-only at an upper level restricts the whole walk.
    tables(c, 0x123000 | P | RW | US, 0, P | US);
    expectPf(c, () => physFor64(c, HI, LO, 1, true), 7, HI, LO);
    // NX on the leaf: fetch faults (I/D bit), reads work.
    tables(c, 0x123000 | P | RW | US, NX_HI);
    expect(physFor64(c, HI, LO, 0, true)).toBe(0x123000);
    expectPf(c, () => physFor64(c, HI, LO, 2, true), 0x15, HI, LO);
    // Reserved bits: physical address bit 40 in the leaf, NX without EFER.NXE, PS in the PML4.
    tables(c, 0x123000 | P | RW | US, 0x100);
    expectPf(c, () => physFor64(c, HI, LO, 1, false), 0xb, HI, LO);
    tables(c, 0x123000 | P | RW | US, NX_HI);
    c.efer &= ~0x800;
    expectPf(c, () => physFor64(c, HI, LO, 0, true), 0xd, HI, LO);
    c.efer |= 0x800;
    tables(c, 0x123000 | P | RW | US);
    w64(c, 0x1000 + 256 * 8, 0x3000 | P | RW | US | PS);
    c.flushTlb(true);
    expectPf(c, () => physFor64(c, HI, LO, 0, false), 9, HI, LO);
  });

  it('caches high-half translations until INVLPG-style invalidation or a flush', () => {
    const c = longModeCpu();
    tables(c, 0x123000 | P | RW | US);
    expect(physFor64(c, HI, LO, 0, false)).toBe(0x123000);
    w64(c, 0x5008, 0x456000 | P | RW | US | 0x20);
    expect(physFor64(c, HI, LO, 0, false)).toBe(0x123000);
    c.lm.tlb.invalidate(HI, LO);
    expect(physFor64(c, HI, LO, 0, false)).toBe(0x456000);
    w64(c, 0x5008, 0x789000 | P | RW | US | 0x20);
    c.flushTlb(false);
    expect(physFor64(c, HI, LO, 0, false)).toBe(0x789000);
  });

  it('raises #GP(0) for non-canonical addresses', () => {
    const c = longModeCpu();
    expect(() => physFor64(c, 0x00008000, 0, 0, false)).toThrow();
    expect(c.excVector).toBe(13);
    expect(c.excCode).toBe(0);
  });
});

const haveNasm = nasmAvailable();
if (!haveNasm) console.warn('*** SKIPPING the 64-bit interrupt delivery test: nasm is not installed ***');

describe.skipIf(!haveNasm)('64-bit interrupts, IRETQ, SYSCALL/SYSRET', () => {
  const CODE = 0x100000;
  it('delivers through 16-byte gates with IST and RSP0, builds the frame, returns with IRETQ and SYSRET', () => {
    const c = longModeCpu();
    // Identity-map 0-4 MiB with 2 MiB user pages.
    w64(c, 0x1000, 0x2000 | P | RW | US);
    w64(c, 0x2000, 0x3000 | P | RW | US);
    w64(c, 0x3000, 0 | P | RW | US | PS);
    w64(c, 0x3008, 0x200000 | P | RW | US | PS);
    // GDT at 0x5000: null, kernel code64 0x08, kernel data 0x10, user data 0x1b (SYSRET SS), user code64 0x23, TSS 0x28.
    w64(c, 0x5008, 0x0000ffff, 0x00af9a00);
    w64(c, 0x5010, 0x0000ffff, 0x00cf9200);
    w64(c, 0x5018, 0x0000ffff, 0x00cff200);
    w64(c, 0x5020, 0x0000ffff, 0x00affa00);
    w64(c, 0x5028, 0x60000067, 0x00008900);
    w64(c, 0x5030, 0, 0);
    c.gdtBase = 0x5000;
    c.gdtLimit = 0x37;
    // TSS at 0x6000: RSP0 = 0x90000, IST1 = 0xa0008 (not 16-byte aligned: the CPU aligns it).
    w64(c, 0x6004, 0x90000);
    w64(c, 0x6024, 0xa0008);
    const bin = assemble(
      `
start:
  lgdt [rel gdtr]
  mov ax, 0x28
  ltr ax
  lidt [rel idtr]
  xor eax, eax
  int 0x40                 ; same privilege, no IST
  mov rbp, rax
  ; SYSCALL/SYSRET set-up
  mov ecx, 0xc0000081
  xor eax, eax
  mov edx, 0x00100008      ; SYSRET base 0x10 (user CS 0x23, SS 0x1b), SYSCALL CS 0x08
  wrmsr
  mov ecx, 0xc0000082
  lea rax, [rel sys_entry]
  mov rdx, rax
  shr rdx, 32
  wrmsr
  ; to CPL 3 through IRETQ
  push 0x1b
  push 0x80000
  push 0x202
  push 0x23
  lea rcx, [rel user]
  push rcx
  iretq
user:
  mov r12, 7
  syscall                  ; back in user mode after sysret with r12 = 8
  mov rbx, 0x0000800000000000
fault:
  mov rdx, [rbx]           ; #GP(0) -> vector 13, IST1
  hlt

int40:
  inc rax
  mov r13, rsp
  mov r9, [rsp + 8]
  mov r10, [rsp + 24]
  iretq

sys_entry:
  inc r12
  mov r14, rsp
  o64 sysret

gp:
  mov r15, rsp
  hlt

gdtr: dw 0x37
  dq 0x5000
idtr: dw 0xfff
  dq 0x7000
`,
      64,
      CODE,
    );
    c.mem.u8.set(bin, CODE);
    // IDT at 0x7000: vector 0x40 (interrupt gate DPL 3), 13 (interrupt gate, IST1).
    const gate = (vector: number, target: number, ist: number, dpl: number): void => {
      const base = 0x7000 + vector * 16;
      c.mem.write32(base, (0x08 << 16) | (target & 0xffff));
      c.mem.write32(base + 4, (target & 0xffff0000) | 0x8e00 | (dpl << 13) | ist);
      c.mem.write32(base + 8, 0);
      c.mem.write32(base + 12, 0);
    };
    const labels = labelOffsets(bin);
    gate(0x40, CODE + labels.int40, 0, 3);
    gate(13, CODE + labels.gp, 1, 0);
    c.r32[4] = 0x70000;
    c.ip = CODE;
    c.lm.ripHi = 0;
    expect(run(c, 10_000)).toBe(EXIT_HALT);
    expect(c.r32[5]).toBe(1); // INT 0x40 ran and IRETQ came back
    // Same-privilege frame: RIP, CS, RFLAGS, RSP, SS on the current (aligned) stack.
    expect(c.r32[13]).toBe(0x70000 - 40);
    expect(c.r32[9]).toBe(0x08);
    expect(c.r32[10]).toBe(0x70000);
    // SYSCALL from CPL 3: RSP unchanged, R12 incremented, SYSRET back to CPL 3.
    expect(c.r32[12]).toBe(8);
    expect(c.r32[14]).toBe(0x80000);
    // #GP from CPL 3 on IST1 (aligned down to 0xa0000): error code, RIP, CS, RFLAGS, RSP, SS.
    expect(c.cpl).toBe(0);
    expect(c.mode64).toBe(true);
    expect(c.r32[15]).toBe(0xa0000 - 48);
    const f = 0xa0000 - 48;
    expect(c.mem.read32(f)).toBe(0);
    expect(c.mem.read32(f + 8)).toBe(CODE + labels.fault);
    expect(c.mem.read32(f + 16)).toBe(0x23);
    expect(c.mem.read32(f + 24) & 0x200).toBe(0x200);
    expect(c.mem.read32(f + 32)).toBe(0x80000);
    expect(c.mem.read32(f + 40)).toBe(0x1b);
    expect(c.segSel[TR]).toBe(0x28);
  });
});

/** Offsets of the handler and fault labels, found by their instruction bytes. */
function labelOffsets(bin: Uint8Array): { int40: number; gp: number; fault: number } {
  // int40: inc rax (48 ff c0); mov r13, rsp (49 89 e5); iretq (48 cf)
  const find = (seq: number[]): number => {
    outer: for (let i = 0; i + seq.length <= bin.length; i++) {
      for (let k = 0; k < seq.length; k++) if (bin[i + k] !== seq[k]) continue outer;
      return i;
    }
    throw new Error('label not found');
  };
  return {
    int40: find([0x48, 0xff, 0xc0, 0x49, 0x89, 0xe5]),
    gp: find([0x49, 0x89, 0xe7, 0xf4]),
    fault: find([0x48, 0x8b, 0x13]),
  };
}

/**
 * Map 0xffff800000000000 (PML4 256 -> PDPT 0x4000 -> PD 0x9000) onto the supervisor-only 2 MiB
 * page at physical 0x200000 and put the GDT at 0xffff800000005000 (physical 0x205000), as
 * Linux keeps its GDT above 4 GiB; linear 0x5000 holds zeros. Returns the GDT's physical address.
 */
function highGdt(c: Cpu, limit: number): number {
  w64(c, 0x1000 + 256 * 8, 0x4000 | P | RW);
  w64(c, 0x4000, 0x9000 | P | RW);
  w64(c, 0x9000, 0x200000 | P | RW | PS);
  c.gdtBase = 0x5000;
  c.lm.gdtHi = 0xffff8000 | 0;
  c.gdtLimit = limit;
  return 0x205000;
}

/**
 * Set up SYSCALL (STAR: kernel CS 0x08, SYSRET to CS 0x1b, SS 0x23; CSTAR
 * at `cstar`) and SYSRET in its 32-bit form to `user32`: compatibility mode at CPL 3.
 */
const SYSRET_TO_COMPAT = `
bits 64
  mov ecx, 0xc0000081
  xor eax, eax
  mov edx, 0x00180008
  wrmsr
  mov ecx, 0xc0000083      ; CSTAR
  lea rax, [rel cstar]
  xor edx, edx
  wrmsr
  lea rcx, [rel user32]
  mov r11, 0x202
  sysret                   ; 32-bit form: compatibility mode, CPL 3
`;

describe('LAR, LSL, VERR, VERW in 64-bit mode', () => {
  it('read the GDT at its 64-bit base and accept only the IA-32e system types', () => {
    const c = longModeCpu();
    const g = highGdt(c, 0x37);
    w64(c, g + 0x08, 0x0000ffff, 0x00af9a00); // code64, readable
    w64(c, g + 0x10, 0x0000ffff, 0x00cf9200); // data, writable
    w64(c, g + 0x18, 0x0000ffff, 0x00cff200); // data, DPL 3
    w64(c, g + 0x20, 0x00000067, 0x00008100); // type 1: 16-bit TSS (no such type in IA-32e mode)
    w64(c, g + 0x28, 0x60000067, 0x00008900); // 64-bit TSS, available
    // Linux's MDS mitigation: VERW of __KERNEL_DS on every return to user mode.
    expect(verw64(c, 0x10)).toBe(true);
    expect(verw64(c, 0x08)).toBe(false);
    expect(verr64(c, 0x08)).toBe(true);
    expect(lar64(c, 0x18)).toBe(0x00c0f200);
    expect(lsl64(c, 0x10)).toBe(-1);
    expect(lsl64(c, 0x28)).toBe(0x67);
    expect(lar64(c, 0x20)).toBeNull();
    expect(lsl64(c, 0x20)).toBeNull();
    expect(verw64(c, 0)).toBe(false);
    expect(verr64(c, 0x38)).toBe(false); // beyond the limit
  });
});

describe('long-mode state conversion', () => {
  it('carries 64-bit registers, RIP, EFER, FS/GS/KernelGS bases, SYSCALL MSRs and 64-bit table bases', () => {
    const c = longModeCpu();
    for (let i = 0; i < 16; i++) {
      c.r32[i] = 0x1000 + i;
      c.rh[i] = (0xfedc0000 + i) | 0;
    }
    c.ip = 0x1234;
    c.lm.ripHi = 0xffff8000 | 0;
    c.segBase[4] = 0x5000;
    c.lm.fsHi = 0x7fff;
    c.lm.gsHi = 0xffff8888 | 0;
    c.lm.kgsLo = 0x42;
    c.lm.kgsHi = 0xffff9999 | 0;
    c.lm.starHi = 0x00230010;
    c.lm.lstarLo = 0x8000;
    c.lm.lstarHi = 0xffffffff | 0;
    c.lm.sfmask = 0x47700;
    c.lm.gdtHi = 0xffff8000 | 0;
    c.lm.idtHi = 0xffff8001 | 0;
    c.lm.trHi = 0xffff8002 | 0;
    c.lm.cr2Hi = 0xffff8003 | 0;
    const s = getCpuState(c);
    expect(s.gprHigh[15]).toBe(0xfedc000f);
    expect(s.ripHigh).toBe(0xffff8000);
    expect(s.msrs['0xc0000100']).toBe('0x00007fff00005000');
    const d = longModeCpu();
    d.reset();
    setCpuState(d, JSON.parse(JSON.stringify(s)) as CpuState);
    expect(d.mode64).toBe(true);
    expect(d.efer & 0x500).toBe(0x500);
    expect(getCpuState(d)).toEqual({ ...s, tsc: getCpuState(d).tsc });
  });
});

describe.skipIf(!haveNasm)('switching between 64-bit and compatibility mode', () => {
  const CODE = 0x100000;
  const source = `
bits 64
start:
  lgdt [rel gdtr]
  lidt [rel idtr]
  push 0x30                ; 32-bit code: compatibility mode
  lea rax, [rel compat]
  push rax
  o64 retf
bits 32
compat:
  mov ecx, 100
  xor ebx, ebx
.l:
  add ebx, ecx             ; hot enough for the JIT
  loop .l
  int 0x41                 ; 64-bit gate from compatibility mode, IRETQ back
  mov dword [0x90000], 0x12345678
  jmp far [ptr]
bits 64
back64:
  mov r8, 0x1122334455667788
  hlt
int41:
  inc rsi
  iretq
ptr: dd back64
  dw 0x08
gdtr: dw 0x37
  dq 0x5000
idtr: dw 0xfff
  dq 0x7000
`;

  function setup(): Cpu {
    const c = longModeCpu();
    w64(c, 0x1000, 0x2000 | P | RW);
    w64(c, 0x2000, 0x3000 | P | RW);
    w64(c, 0x3000, 0 | P | RW | PS);
    w64(c, 0x5008, 0x0000ffff, 0x00af9a00);
    w64(c, 0x5010, 0x0000ffff, 0x00cf9200);
    w64(c, 0x5030, 0x0000ffff, 0x00cf9a00);
    const bin = assemble(source, 64, CODE);
    c.mem.u8.set(bin, CODE);
    const handler = bin.findIndex((_, i) => bin[i] === 0x48 && bin[i + 1] === 0xff && bin[i + 2] === 0xc6 && bin[i + 3] === 0x48 && bin[i + 4] === 0xcf);
    const target = CODE + handler;
    c.mem.write32(0x7000 + 0x41 * 16, (0x08 << 16) | (target & 0xffff));
    c.mem.write32(0x7000 + 0x41 * 16 + 4, (target & 0xffff0000) | 0x8e00);
    c.r32[4] = 0x70000;
    c.ip = CODE;
    return c;
  }

  function check(c: Cpu): void {
    expect(c.r32[3]).toBe(5050);
    expect(c.r32[6]).toBe(1);
    expect(c.mem.read32(0x90000)).toBe(0x12345678);
    expect([c.r32[8] >>> 0, c.rh[8] >>> 0]).toEqual([0x55667788, 0x11223344]);
    expect(c.mode64).toBe(true);
    expect(c.segSel[CS]).toBe(0x08);
  }

  it('on the interpreter', () => {
    const c = setup();
    expect(run(c, 100_000)).toBe(EXIT_HALT);
    check(c);
  });

  it('with the JIT compiling the compatibility-mode loop', () => {
    const c = setup();
    const jit = new Jit(c, { background: false });
    expect(jit.run(100_000)).toBe(EXIT_HALT);
    expect(jit.stats.compiled).toBeGreaterThan(0);
    check(c);
  });
});

describe.skipIf(!haveNasm)('segment loads in compatibility mode', () => {
  it('read the GDT at its 64-bit base and set the accessed bit as a system access from CPL 3', () => {
    const c = longModeCpu();
    const CODE = 0x100000;
    w64(c, 0x1000, 0x2000 | P | RW | US);
    w64(c, 0x2000, 0x3000 | P | RW | US);
    w64(c, 0x3000, 0 | P | RW | US | PS);
    const g = highGdt(c, 0x2f);
    w64(c, g + 0x08, 0x0000ffff, 0x00af9a00); // 0x08 code64 DPL0
    w64(c, g + 0x10, 0x0000ffff, 0x00cf9200); // 0x10 data DPL0
    w64(c, g + 0x18, 0x0000ffff, 0x00cffa00); // 0x18 code32 DPL3 (SYSRET CS)
    w64(c, g + 0x20, 0x0000ffff, 0x00cff300); // 0x20 data DPL3 (SYSRET SS)
    w64(c, g + 0x28, 0x5000ffff, 0x00cff034); // 0x28 data DPL3, base 0x345000, not yet accessed
    const bin = assemble(
      `${SYSRET_TO_COMPAT}
bits 32
user32:
  mov ax, 0x2b
  mov es, ax               ; reads GDT entry 5 above 4 GiB, sets its accessed bit
  mov ebx, es
  syscall
bits 64
cstar:
  hlt
`,
      64,
      CODE,
    );
    c.mem.u8.set(bin, CODE);
    c.r32[4] = 0x70000;
    c.ip = CODE;
    expect(run(c, 10_000)).toBe(EXIT_HALT);
    expect(c.segSel[CS]).toBe(0x08); // back through CSTAR, no fault on the way
    expect(c.r32[3] & 0xffff).toBe(0x2b);
    expect(c.segSel[ES]).toBe(0x2b);
    expect(c.segBase[ES]).toBe(0x345000);
    expect(c.mem.u8[g + 0x28 + 5]! & 1).toBe(1);
  });
});

describe.skipIf(!haveNasm)('SYSRET to compatibility mode and SYSCALL from it', () => {
  it('returns to 32-bit CPL 3 code at ECX and enters CSTAR with RCX = the next EIP', () => {
    const c = longModeCpu();
    const CODE = 0x100000;
    w64(c, 0x1000, 0x2000 | P | RW | US);
    w64(c, 0x2000, 0x3000 | P | RW | US);
    w64(c, 0x3000, 0 | P | RW | US | PS);
    w64(c, 0x5008, 0x0000ffff, 0x00af9a00); // 0x08 code64 DPL0
    w64(c, 0x5010, 0x0000ffff, 0x00cf9200); // 0x10 data DPL0
    w64(c, 0x5018, 0x0000ffff, 0x00cffa00); // 0x18 code32 DPL3 (SYSRET CS)
    w64(c, 0x5020, 0x0000ffff, 0x00cff200); // 0x20 data DPL3 (SYSRET SS)
    c.gdtBase = 0x5000;
    c.gdtLimit = 0x27;
    const bin = assemble(
      `${SYSRET_TO_COMPAT}
bits 32
user32:
  mov edi, 41
  inc edi
  syscall
after:
  hlt
bits 64
cstar:
  mov rbx, rcx
  hlt
`,
      64,
      CODE,
    );
    c.mem.u8.set(bin, CODE);
    c.r32[4] = 0x70000;
    c.ip = CODE;
    expect(run(c, 10_000)).toBe(EXIT_HALT);
    expect(c.r32[7]).toBe(42);
    expect(c.mode64).toBe(true);
    expect(c.cpl).toBe(0);
    expect(c.segSel[CS]).toBe(0x08);
    // RCX = the EIP after SYSCALL (2 bytes long), zero-extended.
    const after = bin.findIndex((b, i) => b === 0x0f && bin[i + 1] === 0x05) + 2;
    expect([c.r32[3] >>> 0, c.rh[3]]).toEqual([CODE + after, 0]);
  });
});
