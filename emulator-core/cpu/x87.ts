/**
 * Connects the x87/MMX unit (fpu.ts) to the integer CPU: decodes the operands the unit
 * needs (MMX memory address, shift immediate, general register) and applies its results
 * (AX for FNSTSW AX, EFLAGS for FCOMI, a general register for MOVD r32, mm).
 */
import { AF, CF, OF, PF, SF, ZF } from './constants.js';
import type { Cpu, FpuUnit } from './cpu.js';
import type { FpuInstructionInfo } from './fpu-host.js';
import { Fpu, FPU_OUT_AX, FPU_OUT_EFLAGS, FPU_OUT_GPR } from './fpu.js';
import type { FpuState } from './state.js';

export class X87Unit implements FpuUnit {
  readonly fpu: Fpu;

  constructor(cpu: Cpu) {
    this.fpu = new Fpu(cpu);
  }

  reset(): void {
    this.fpu.reset();
  }

  checkPendingException(): void {
    this.fpu.wait();
  }

  exec(opcode: number, modrm: number, lin: number, info: FpuInstructionInfo, cpu: Cpu): void {
    const r = this.fpu.exec(opcode, modrm, lin, info, cpu.getEflags());
    if ((r & FPU_OUT_AX) !== 0) cpu.r16[0] = this.fpu.out.ax;
    if ((r & FPU_OUT_EFLAGS) !== 0) cpu.setEflags(this.fpu.out.eflags, ZF | PF | CF | OF | SF | AF);
  }

  execMmx(opcode: number, modrm: number, cpu: Cpu): void {
    const lin = modrm < 0xc0 ? cpu.ea() : 0;
    const imm8 = opcode >= 0x71 && opcode <= 0x73 ? cpu.insn.imm : 0;
    const r = this.fpu.execMmx(opcode, modrm, lin, imm8, cpu.r32[modrm & 7], 0, false);
    if ((r & FPU_OUT_GPR) !== 0) cpu.r32[modrm & 7] = this.fpu.out.gprLo;
  }

  save(): FpuState {
    return this.fpu.save();
  }

  restore(state: FpuState): void {
    this.fpu.restore(state);
  }
}
