/**
 * The SSE unit's view of the CPU in real, protected, VM86 and compatibility mode: the
 * operand address is segment base + offset (32-bit linear), registers are EAX..EDI.
 */
import { AF, CF, DS, OF, PF, SF, ZF } from '../constants.js';
import type { Cpu } from '../cpu.js';
import type { DecodedInsn } from '../decoder/decoded-insn.js';
import type { SseHost } from './sse-host.js';

const ARITH = OF | SF | ZF | AF | PF | CF;

export class LegacySseHost implements SseHost {
  private lin = 0;
  readonly long = false;

  constructor(private readonly c: Cpu) {}

  get cr0(): number {
    return this.c.cr0;
  }

  get cr4(): number {
    return this.c.cr4;
  }

  begin(d: DecodedInsn): void {
    if (d.mod !== 3) this.lin = this.c.ea();
  }

  beginDi(d: DecodedInsn): void {
    const c = this.c;
    this.lin = c.segAddr(d.seg >= 0 ? d.seg : DS, d.addrSize === 2 ? c.r32[7]! & 0xffff : c.r32[7]!);
  }

  memRead(u8: Uint8Array, at: number, n: number, disp = 0): void {
    const c = this.c;
    const lin = (this.lin + disp) | 0;
    if (n === 1) u8[at] = c.readLin8(lin);
    else if (n === 2) {
      const v = c.readLin16(lin);
      u8[at] = v;
      u8[at + 1] = v >>> 8;
    } else {
      for (let k = 0; k < n; k += 4) {
        const v = c.readLin32((lin + k) | 0);
        u8[at + k] = v;
        u8[at + k + 1] = v >>> 8;
        u8[at + k + 2] = v >>> 16;
        u8[at + k + 3] = v >>> 24;
      }
    }
  }

  memCheckWrite(n: number, disp = 0): void {
    this.c.checkWritable((this.lin + disp) | 0, n);
  }

  memWrite(u8: Uint8Array, at: number, n: number, disp = 0): void {
    const c = this.c;
    const lin = (this.lin + disp) | 0;
    if (n === 1) c.writeLin8(lin, u8[at]!);
    else if (n === 2) c.writeLin16(lin, u8[at]! | (u8[at + 1]! << 8));
    else {
      c.checkWritable(lin, n);
      for (let k = 0; k < n; k += 4) c.writeLin32((lin + k) | 0, u8[at + k]! | (u8[at + k + 1]! << 8) | (u8[at + k + 2]! << 16) | (u8[at + k + 3]! << 24));
    }
  }

  memLow(): number {
    return this.lin;
  }

  gpr(r: number): number {
    return this.c.r32[r & 7]!;
  }

  gprHi(): number {
    return 0;
  }

  setGpr(r: number, _size: 4 | 8, lo: number): void {
    this.c.r32[r & 7] = lo;
  }

  setArithFlags(flags: number): void {
    this.c.setEflags(flags, ARITH);
  }

  raise(vector: number, code = -1): never {
    return this.c.raise(vector, code);
  }

  undefinedOpcode(): never {
    return this.c.undefinedOpcode();
  }
}
