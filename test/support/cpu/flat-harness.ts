/**
 * Runs instruction sequences on the software CPU in a flat 32-bit protected-mode
 * environment (or real mode), stopping at a given EIP or at the first exception, which is
 * reported instead of delivered. This is what the differential tests compare against the
 * host CPU running the same bytes natively.
 */
import { IoBus } from '../../../emulator-core/bus/io-bus.js';
import { ManualClock } from '../../../emulator-core/machine/clock.js';
import { GuestMemory } from '../../../emulator-core/memory/guest-memory.js';
import { AR_DB, AR_G, AR_P, AR_S, CR0_PE, CS, DS, ES, FS, GS, SS } from '../../../emulator-core/cpu/constants.js';
import { Cpu, FAULT, type FpuUnit } from '../../../emulator-core/cpu/cpu.js';
import { step } from '../../../emulator-core/cpu/interpreter.js';

export interface FlatRegs {
  eax: number;
  ecx: number;
  edx: number;
  ebx: number;
  esp: number;
  ebp: number;
  esi: number;
  edi: number;
  eflags: number;
  eip: number;
}

export const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;

export interface FlatRunResult {
  /** Exception vector raised (the run stops there), or null. */
  exception: number | null;
  errorCode: number | null;
  instructions: number;
}

export interface FlatHarnessOptions {
  memoryBytes?: number;
  /** 'flat32': CPL 3 flat 4 GiB segments (like a Linux process); 'real16': real mode. */
  mode?: 'flat32' | 'real16';
  createFpu?: (cpu: Cpu) => FpuUnit;
}

export class FlatHarness {
  readonly mem: GuestMemory;
  readonly io = new IoBus();
  readonly clock = new ManualClock();
  readonly cpu: Cpu;

  constructor(options: FlatHarnessOptions = {}) {
    this.mem = new GuestMemory(options.memoryBytes ?? 16 * 1024 * 1024);
    this.cpu = new Cpu(this.mem, this.io, { clock: this.clock, createFpu: options.createFpu });
    if ((options.mode ?? 'flat32') === 'flat32') this.enterFlat32();
  }

  private enterFlat32(): void {
    const c = this.cpu;
    c.cr0 |= CR0_PE;
    const code = AR_P | AR_S | (3 << 5) | 0xb | AR_DB | AR_G;
    const data = AR_P | AR_S | (3 << 5) | 0x3 | AR_DB | AR_G;
    for (const seg of [ES, SS, DS, FS, GS]) this.setSeg(seg, 0x23, data);
    this.setSeg(CS, 0x1b, code);
    c.cpl = 3;
    c.updateMode();
    c.flushTlb(true);
  }

  private setSeg(seg: number, sel: number, access: number): void {
    const c = this.cpu;
    c.segSel[seg] = sel;
    c.segBase[seg] = 0;
    c.segLimit[seg] = -1;
    c.segAccess[seg] = access;
    c.updateSegCheck(seg);
  }

  writeMemory(addr: number, bytes: Uint8Array): void {
    this.mem.writeBytes(addr, bytes);
  }

  readMemory(addr: number, length: number): Uint8Array {
    return this.mem.readBytes(addr, length);
  }

  setRegs(regs: Partial<FlatRegs>): void {
    const c = this.cpu;
    REG_NAMES.forEach((name, i) => {
      const v = regs[name];
      if (v !== undefined) c.r32[i] = v;
    });
    if (regs.eflags !== undefined) c.setEflags(regs.eflags, 0x3f7fd5 & ~0x20000);
    if (regs.eip !== undefined) c.setEip(regs.eip);
  }

  getRegs(): FlatRegs {
    const c = this.cpu;
    return {
      eax: c.r32[0] >>> 0,
      ecx: c.r32[1] >>> 0,
      edx: c.r32[2] >>> 0,
      ebx: c.r32[3] >>> 0,
      esp: c.r32[4] >>> 0,
      ebp: c.r32[5] >>> 0,
      esi: c.r32[6] >>> 0,
      edi: c.r32[7] >>> 0,
      eflags: c.getEflags() >>> 0,
      eip: c.eip >>> 0,
    };
  }

  /** Execute from the current EIP until EIP == stopEip, an exception, or maxInstructions. */
  run(stopEip: number, maxInstructions = 1_000_000): FlatRunResult {
    const c = this.cpu;
    let n = 0;
    while (n < maxInstructions && c.eip >>> 0 !== stopEip >>> 0) {
      try {
        step(c);
        n++;
      } catch (e) {
        if (e !== FAULT) throw e;
        c.ip = c.instrStart;
        return { exception: c.excVector, errorCode: c.excCode < 0 ? null : c.excCode, instructions: n };
      }
    }
    return { exception: null, errorCode: null, instructions: n };
  }
}
