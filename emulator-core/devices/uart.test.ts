import { describe, expect, it } from 'vitest';
import { IrqLine, type IrqSink } from '../bus/irq.js';
import { EmulatorError } from '../errors.js';
import { Uart } from './uart.js';

class Level implements IrqSink {
  high = false;
  rises = 0;
  setIrqLevel(_line: number, high: boolean): void {
    if (high && !this.high) this.rises++;
    this.high = high;
  }
}

const B = 0x3f8;
const RBR = B;
const IER = B + 1;
const IIR = B + 2;
const FCR = B + 2;
const LCR = B + 3;
const MCR = B + 4;
const LSR = B + 5;
const MSR = B + 6;
const SCR = B + 7;

function setup(): { uart: Uart; irq: Level; out: number[]; count(): number } {
  const irq = new Level();
  const out: number[] = [];
  let batches = 0;
  const uart = new Uart({
    base: B,
    irq: new IrqLine(4, [irq]),
    output: (bytes) => {
      batches++;
      out.push(...bytes);
    },
  });
  return { uart, irq, out, count: () => batches };
}

const r = (u: Uart, port: number): number => u.ioRead(port, 1);
const w = (u: Uart, port: number, v: number): void => u.ioWrite(port, 1, v);

describe('16550A UART', () => {
  it('echoes in loopback mode without transmitting', async () => {
    const { uart, out } = setup();
    w(uart, MCR, 0x10);
    w(uart, RBR, 0x41);
    expect(r(uart, LSR) & 0x01).toBe(0x01);
    expect(r(uart, RBR)).toBe(0x41);
    expect(r(uart, LSR)).toBe(0x60);
    await Promise.resolve();
    uart.flush();
    expect(out).toEqual([]);
  });

  it('maps MCR to MSR in loopback (the Linux autoconfig check) with delta bits', () => {
    const { uart } = setup();
    w(uart, MCR, 0x10 | 0x0a);
    expect(r(uart, MSR) & 0xf0).toBe(0x90);
    w(uart, MCR, 0x10 | 0x05);
    // CTS and DCD fell, DSR and RI rose: deltas for CTS, DSR, DCD; RI only on a trailing edge.
    expect(r(uart, MSR)).toBe(0x60 | 0x0b);
    w(uart, MCR, 0x10 | 0x01);
    expect(r(uart, MSR)).toBe(0x20 | 0x04);
    expect(r(uart, MSR)).toBe(0x20);
  });

  it('orders interrupts: line status, RX data, THRE, modem status', () => {
    const { uart, irq } = setup();
    w(uart, FCR, 0x00); // no FIFO: one byte of RX buffer
    w(uart, MCR, 0x10 | 0x08); // loopback, OUT2
    w(uart, RBR, 1);
    w(uart, RBR, 2); // overrun
    w(uart, IER, 0x0f);
    expect(irq.high).toBe(true);
    expect(r(uart, IIR)).toBe(0x06);
    expect(r(uart, LSR) & 0x03).toBe(0x03);
    expect(r(uart, IIR)).toBe(0x04);
    expect(r(uart, RBR)).toBe(1);
    expect(r(uart, IIR)).toBe(0x02);
    // Reading IIR cleared THRE: the modem status change from entering loopback is next.
    expect(r(uart, IIR)).toBe(0x00);
    r(uart, MSR);
    expect(r(uart, IIR)).toBe(0x01);
    expect(irq.high).toBe(false);
  });

  it('reasserts THRE whenever THRI is enabled with an empty transmitter', () => {
    const { uart } = setup();
    // serial8250_do_startup's UART_BUG_THRE test.
    w(uart, IER, 0x02);
    const iir1 = r(uart, IIR);
    w(uart, IER, 0x00);
    w(uart, IER, 0x02);
    const iir2 = r(uart, IIR);
    w(uart, IER, 0x00);
    expect(iir1 & 0x0f).toBe(0x02);
    expect(iir2 & 0x0f).toBe(0x02);
    // Once read, THRE stays quiet until the next THR write.
    w(uart, IER, 0x02);
    r(uart, IIR);
    expect(r(uart, IIR)).toBe(0x01);
    w(uart, RBR, 0x31);
    expect(r(uart, IIR)).toBe(0x02);
  });

  it('reports FIFOs in IIR bits 7..6 and nothing in bits 5..4', () => {
    const { uart } = setup();
    expect(r(uart, IIR)).toBe(0x01);
    w(uart, FCR, 0x01);
    expect(r(uart, IIR)).toBe(0xc1);
    w(uart, FCR, 0x21); // the 16750 64-byte bit does not stick
    expect(r(uart, IIR) >> 5).toBe(6);
    w(uart, FCR, 0x00);
    expect(r(uart, IIR)).toBe(0x01);
  });

  it('uses the RX trigger level: timeout below it, data available at it', () => {
    const { uart, irq } = setup();
    w(uart, FCR, 0xc7); // FIFO on, resets, trigger 14
    w(uart, MCR, 0x08);
    w(uart, IER, 0x01);
    uart.receive(new Uint8Array(10).fill(0x61));
    expect(irq.high).toBe(true);
    expect(r(uart, IIR)).toBe(0xcc);
    uart.receive(new Uint8Array(10).fill(0x62));
    expect(r(uart, IIR)).toBe(0xc4);
    expect(uart.pendingInput).toBe(20);
    for (let i = 0; i < 20; i++) r(uart, RBR);
    expect(r(uart, IIR)).toBe(0xc1);
    expect(irq.high).toBe(false);
  });

  it('never drops host input: it waits behind the FIFO until the guest reads', () => {
    const { uart } = setup();
    w(uart, FCR, 0x01);
    const data = new Uint8Array(5000).map((_, i) => (i * 7) & 0xff);
    uart.receive(data.subarray(0, 3000));
    uart.receive(data.subarray(3000));
    const got: number[] = [];
    while (r(uart, LSR) & 0x01) got.push(r(uart, RBR));
    expect(got).toEqual(Array.from(data));
    expect(r(uart, LSR) & 0x02).toBe(0); // no overrun
  });

  it('gates the IRQ line with MCR OUT2', () => {
    const { uart, irq } = setup();
    w(uart, IER, 0x01);
    uart.receive(Uint8Array.of(0x0d));
    expect(irq.high).toBe(false);
    w(uart, MCR, 0x0b);
    expect(irq.high).toBe(true);
    w(uart, MCR, 0x03);
    expect(irq.high).toBe(false);
  });

  it('re-raises the line for new input while it is still high', () => {
    const { uart, irq } = setup();
    w(uart, MCR, 0x08);
    w(uart, IER, 0x01);
    uart.receive(Uint8Array.of(1));
    uart.receive(Uint8Array.of(2));
    expect(irq.rises).toBe(2);
  });

  it('batches transmitted bytes into one sink call', async () => {
    const s = setup();
    for (const c of 'hello') w(s.uart, RBR, c.charCodeAt(0));
    expect(s.count()).toBe(0);
    await Promise.resolve();
    expect(s.count()).toBe(1);
    expect(String.fromCharCode(...s.out)).toBe('hello');
    for (let i = 0; i < 5000; i++) w(s.uart, RBR, 0x2e);
    expect(s.count()).toBe(2); // a full batch goes out at once
    s.uart.flush();
    expect(s.out.length).toBe(5005);
  });

  it('keeps the divisor latch behind DLAB and a scratch register', () => {
    const { uart } = setup();
    w(uart, LCR, 0x83);
    w(uart, RBR, 0x01);
    w(uart, IER, 0x00);
    expect(uart.baudDivisor).toBe(1);
    expect(r(uart, RBR)).toBe(0x01);
    w(uart, LCR, 0x03);
    expect(r(uart, IER)).toBe(0);
    expect(r(uart, LCR)).toBe(0x03);
    w(uart, SCR, 0x5a);
    expect(r(uart, SCR)).toBe(0x5a);
    w(uart, IER, 0xff);
    expect(r(uart, IER)).toBe(0x0f);
  });

  it('without FIFOs holds one byte at a time but still loses nothing', () => {
    const { uart } = setup();
    uart.receive(Uint8Array.of(1, 2, 3));
    expect(r(uart, IIR)).toBe(0x01);
    expect([r(uart, RBR), r(uart, RBR), r(uart, RBR)]).toEqual([1, 2, 3]);
    expect(r(uart, LSR) & 0x01).toBe(0);
    // Reading an empty RBR repeats the last byte.
    expect(r(uart, RBR)).toBe(3);
  });

  it('saves and restores pending input and registers; rejects malformed state', () => {
    const { uart } = setup();
    w(uart, FCR, 0x81);
    w(uart, LCR, 0x03);
    w(uart, MCR, 0x0b);
    w(uart, IER, 0x01);
    uart.receive(new Uint8Array([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180]));
    r(uart, RBR);
    const saved = JSON.parse(JSON.stringify(uart.save()));
    const other = setup();
    other.uart.restore(saved);
    expect(other.irq.high).toBe(true);
    expect(r(other.uart, IIR)).toBe(0xc4);
    const got: number[] = [];
    while (r(other.uart, LSR) & 1) got.push(r(other.uart, RBR));
    expect(got).toEqual([20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180]);
    expect(() => other.uart.restore({ ...saved, rx: new Array(17).fill(0) })).toThrow(EmulatorError);
    expect(() => other.uart.restore({ ...saved, host: [256] })).toThrow(EmulatorError);
    expect(() => other.uart.restore({ ...saved, ier: 0x10 })).toThrow(EmulatorError);
  });

  it('reset clears registers and the RX buffer but keeps the host queue', () => {
    const { uart, irq } = setup();
    w(uart, MCR, 0x08);
    w(uart, IER, 0x01);
    uart.receive(Uint8Array.of(1, 2));
    uart.reset();
    expect(irq.high).toBe(false);
    expect(r(uart, IER)).toBe(0);
    expect(r(uart, MCR)).toBe(0);
    expect(r(uart, LSR)).toBe(0x61);
    expect(r(uart, RBR)).toBe(2);
  });
});
