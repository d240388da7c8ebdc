import { describe, expect, it } from 'vitest';
import type { AccessSize, PortIoHandler } from '../bus/io-bus.js';
import { FlatHarness } from '../../test/support/cpu/flat-harness.js';
import { assemble, nasmAvailable } from '../../test/support/nasm.js';

/** A port that hands out a counting byte sequence and records what it is sent. */
class SequencePort implements PortIoHandler {
  next = 0;
  sent: number[] = [];
  constructor(bulk: boolean) {
    if (!bulk) {
      this.ioReadString = undefined;
      this.ioWriteString = undefined;
    }
  }
  ioRead(_port: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= (this.next++ & 0xff) << (i * 8);
    return v >>> 0;
  }
  ioWrite(_port: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.sent.push((value >>> (i * 8)) & 0xff);
  }
  ioReadString?(_port: number, size: AccessSize, dst: Uint8Array, offset: number, count: number): number {
    // Deliberately short runs, to exercise the mix of bulk and single accesses.
    const n = Math.min(count, 37);
    for (let i = 0; i < n * size; i++) dst[offset + i] = this.next++ & 0xff;
    return n;
  }
  ioWriteString?(_port: number, size: AccessSize, src: Uint8Array, offset: number, count: number): number {
    const n = Math.min(count, 37);
    for (let i = 0; i < n * size; i++) this.sent.push(src[offset + i]);
    return n;
  }
}

function run(bulk: boolean) {
  const h = new FlatHarness();
  h.cpu.cpl = 0;
  h.cpu.updateMode();
  const port = new SequencePort(bulk);
  h.io.register(0x1f0, 1, port, 'test');
  // 3000 words into a buffer that straddles a page boundary, then echo 1000 dwords back out.
  const code = assemble(
    `mov dx, 0x1f0
     mov edi, 0x200f00
     mov ecx, 3000
     cld
     rep insw
     mov esi, 0x200f00
     mov ecx, 1000
     rep outsd
     hlt`,
    32,
    0x1000,
  );
  h.writeMemory(0x1000, code);
  h.setRegs({ eip: 0x1000, esp: 0x80000 });
  h.run(0x1000 + code.length - 1, 100_000);
  return { h, port, regs: h.getRegs(), mem: h.readMemory(0x200f00, 6000) };
}

describe.skipIf(!nasmAvailable())('REP INS/OUTS with a device that moves data in bulk', () => {
  it('leaves memory, registers and the device exactly as single accesses do', () => {
    const single = run(false);
    const bulk = run(true);
    expect(bulk.regs.edi).toBe(0x200f00 + 6000);
    expect(bulk.regs.ecx).toBe(0);
    expect(bulk.regs).toEqual(single.regs);
    expect(Buffer.from(bulk.mem).equals(Buffer.from(single.mem))).toBe(true);
    expect(bulk.mem[0]).toBe(0);
    expect(bulk.mem[5999]).toBe(5999 & 0xff);
    expect(bulk.port.sent).toEqual(single.port.sent);
    expect(bulk.port.sent).toHaveLength(4000);
  });
});
