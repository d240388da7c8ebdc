import type { AccessSize, PortIoHandler } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import type { Device, DeviceState } from './device.js';
import { StateReader } from './state.js';

const IER_RDI = 0x01;
const IER_THRI = 0x02;
const IER_RLSI = 0x04;
const IER_MSI = 0x08;

const IIR_NONE = 0x01;
const IIR_MSI = 0x00;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_RLSI = 0x06;
const IIR_TIMEOUT = 0x0c;
const IIR_FIFO_BITS = 0xc0;

const LCR_DLAB = 0x80;

const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_ERRORS = 0x1e;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;

const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;

const FIFO_SIZE = 16;
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;
const TX_BATCH = 4096;

export interface UartOptions {
  /** First of the 8 ports (COM1 0x3F8, COM2 0x2F8, ...). */
  base: number;
  /** The UART's interrupt line (COM1: IRQ4), gated by MCR OUT2 as on a PC. */
  irq: IrqLine;
  /** Receives transmitted bytes, in batches. The array is the receiver's to keep. */
  output: (bytes: Uint8Array) => void;
  /** Device name for snapshots and errors; default "uart@<base>". */
  name?: string;
  /** Modem status inputs while not in loopback; default CTS, DSR and DCD asserted. */
  modemStatus?: number;
}

/**
 * National 16550A UART. Transmission is immediate (no baud-rate delay): THR and the
 * transmitter are always empty again by the time the guest looks. Host input waits in an
 * unbounded queue and moves into the 16-byte RX FIFO as the guest drains it, so no input is
 * ever lost to an overrun.
 */
export class Uart implements Device, PortIoHandler {
  readonly name: string;
  readonly base: number;
  private readonly irq: IrqLine;
  private readonly output: (bytes: Uint8Array) => void;
  private readonly hostModem: number;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private divisor = 12;
  private fcr = 0;
  private lsrErrors = 0;
  private msr = 0;
  private lastRx = 0;
  /** A THRE interrupt is pending (cleared by reading IIR or writing THR). */
  private thrPending = false;

  private readonly rx = new Uint8Array(FIFO_SIZE);
  private rxHead = 0;
  private rxCount = 0;

  private host = new Uint8Array(256);
  private hostHead = 0;
  private hostCount = 0;

  private readonly tx = new Uint8Array(TX_BATCH);
  private txLen = 0;
  private flushQueued = false;
  private readonly flushTask = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  constructor(options: UartOptions) {
    this.base = options.base;
    this.irq = options.irq;
    this.output = options.output;
    this.name = options.name ?? `uart@${options.base.toString(16)}`;
    this.hostModem = (options.modemStatus ?? MSR_CTS | MSR_DSR | MSR_DCD) & 0xf0;
    this.reset();
  }

  // --- host side -----------------------------------------------------------------------

  /** Queue host input for the guest. Nothing is dropped, however much arrives. */
  receive(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const need = this.hostCount + bytes.length;
    if (need > this.host.length) {
      let size = this.host.length * 2;
      while (size < need) size *= 2;
      const grown = new Uint8Array(size);
      for (let i = 0; i < this.hostCount; i++) grown[i] = this.host[(this.hostHead + i) % this.host.length]!;
      this.host = grown;
      this.hostHead = 0;
    }
    const cap = this.host.length;
    for (let i = 0; i < bytes.length; i++) this.host[(this.hostHead + this.hostCount + i) % cap] = bytes[i]!;
    this.hostCount += bytes.length;
    this.refill();
    if (this.irq.high && this.ier & IER_RDI) {
      // The ISA PIC input is edge-triggered: a line still high from work the guest left
      // unfinished would never interrupt again, so new input re-announces itself.
      this.irq.lower();
    }
    this.updateIrq();
  }

  /** Bytes waiting in the host queue and the RX FIFO. */
  get pendingInput(): number {
    return this.hostCount + this.rxCount;
  }

  /** Hand buffered output to the sink now (it is otherwise flushed from a microtask). */
  flush(): void {
    if (this.txLen === 0) return;
    const out = this.tx.slice(0, this.txLen);
    this.txLen = 0;
    this.output(out);
  }

  /** The divisor latch (115200 / divisor is the baud rate the guest chose). */
  get baudDivisor(): number {
    return this.divisor;
  }

  // --- internals -----------------------------------------------------------------------

  private get fifoOn(): boolean {
    return (this.fcr & 1) !== 0;
  }

  private refill(): void {
    const cap = this.fifoOn ? FIFO_SIZE : 1;
    while (this.rxCount < cap && this.hostCount > 0) {
      const b = this.host[this.hostHead]!;
      this.hostHead = (this.hostHead + 1) % this.host.length;
      this.hostCount--;
      this.rx[(this.rxHead + this.rxCount) % FIFO_SIZE] = b;
      this.rxCount++;
    }
  }

  private transmit(b: number): void {
    if (this.mcr & MCR_LOOP) {
      const cap = this.fifoOn ? FIFO_SIZE : 1;
      if (this.rxCount >= cap) {
        this.lsrErrors |= LSR_OE;
        return;
      }
      this.rx[(this.rxHead + this.rxCount) % FIFO_SIZE] = b;
      this.rxCount++;
      return;
    }
    this.tx[this.txLen++] = b;
    if (this.txLen === TX_BATCH) {
      this.flush();
    } else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushTask);
    }
  }

  private interruptId(): number {
    const ier = this.ier;
    if (ier & IER_RLSI && this.lsrErrors !== 0) return IIR_RLSI;
    if (ier & IER_RDI && this.rxCount > 0) {
      // Below the trigger level the 16550 reports a character timeout; no more input is on
      // its way when the FIFO is not full, so the timeout is immediate.
      if (this.fifoOn && this.rxCount < TRIGGER_LEVELS[this.fcr >> 6]!) return IIR_TIMEOUT;
      return IIR_RDI;
    }
    if (ier & IER_THRI && this.thrPending) return IIR_THRI;
    if (ier & IER_MSI && (this.msr & 0x0f) !== 0) return IIR_MSI;
    return IIR_NONE;
  }

  private updateIrq(): void {
    this.irq.set((this.mcr & MCR_OUT2) !== 0 && this.interruptId() !== IIR_NONE);
  }

  private setModemStatus(status: number): void {
    const old = this.msr & 0xf0;
    let delta = 0;
    if ((old ^ status) & MSR_CTS) delta |= 0x01;
    if ((old ^ status) & MSR_DSR) delta |= 0x02;
    if (old & MSR_RI && !(status & MSR_RI)) delta |= 0x04; // trailing edge of RI
    if ((old ^ status) & MSR_DCD) delta |= 0x08;
    this.msr = status | (this.msr & 0x0f) | delta;
  }

  private loopbackStatus(): number {
    const m = this.mcr;
    return (m & MCR_DTR ? MSR_DSR : 0) | (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
  }

  // --- ports ---------------------------------------------------------------------------

  ioRead(port: number, _size: AccessSize): number {
    switch ((port - this.base) & 7) {
      case 0: {
        if (this.lcr & LCR_DLAB) return this.divisor & 0xff;
        if (this.rxCount > 0) {
          this.lastRx = this.rx[this.rxHead]!;
          this.rxHead = (this.rxHead + 1) % FIFO_SIZE;
          this.rxCount--;
          this.refill();
          this.updateIrq();
        }
        return this.lastRx;
      }
      case 1:
        return this.lcr & LCR_DLAB ? this.divisor >> 8 : this.ier;
      case 2: {
        const id = this.interruptId();
        if (id === IIR_THRI) {
          this.thrPending = false;
          this.updateIrq();
        }
        return id | (this.fifoOn ? IIR_FIFO_BITS : 0);
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        const v = (this.rxCount > 0 ? LSR_DR : 0) | this.lsrErrors | LSR_THRE | LSR_TEMT;
        if (this.lsrErrors !== 0) {
          this.lsrErrors = 0;
          this.updateIrq();
        }
        return v;
      }
      case 6: {
        const v = this.msr;
        if (v & 0x0f) {
          this.msr = v & 0xf0;
          this.updateIrq();
        }
        return v;
      }
      default:
        return this.scr;
    }
  }

  ioWrite(port: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    switch ((port - this.base) & 7) {
      case 0:
        if (this.lcr & LCR_DLAB) {
          this.divisor = (this.divisor & 0xff00) | value;
          return;
        }
        this.transmit(value);
        // The transmitter empties at once, so THRE is pending again straight away.
        this.thrPending = true;
        break;
      case 1: {
        if (this.lcr & LCR_DLAB) {
          this.divisor = (this.divisor & 0xff) | (value << 8);
          return;
        }
        const old = this.ier;
        this.ier = value & 0x0f;
        // Enabling THRI while the transmitter is empty asserts THRE again; Linux's
        // serial8250 startup checks for exactly this.
        if (this.ier & IER_THRI && !(old & IER_THRI)) this.thrPending = true;
        break;
      }
      case 2: {
        const enableChanged = ((this.fcr ^ value) & 1) !== 0;
        if (enableChanged || value & 0x02) {
          this.rxHead = 0;
          this.rxCount = 0;
        }
        // Reset bits self-clear; the rest is remembered (FCR itself is write-only).
        this.fcr = value & 0xc9;
        this.refill();
        break;
      }
      case 3:
        this.lcr = value;
        return;
      case 4: {
        const wasLoop = (this.mcr & MCR_LOOP) !== 0;
        this.mcr = value & 0x1f;
        const loop = (this.mcr & MCR_LOOP) !== 0;
        if (loop) this.setModemStatus(this.loopbackStatus());
        else if (wasLoop) this.setModemStatus(this.hostModem);
        break;
      }
      case 5:
      case 6:
        return; // LSR and MSR are read-only here
      default:
        this.scr = value;
        return;
    }
    this.updateIrq();
  }

  // --- Device --------------------------------------------------------------------------

  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.fcr = 0;
    this.scr = 0;
    this.divisor = 12;
    this.lsrErrors = 0;
    this.msr = this.hostModem;
    this.thrPending = false;
    this.lastRx = 0;
    this.rxHead = 0;
    this.rxCount = 0;
    // Host input survives a guest reset; it moves in once the guest reads again.
    this.refill();
    this.irq.lower();
  }

  save(): DeviceState {
    this.flush();
    const rx: number[] = [];
    for (let i = 0; i < this.rxCount; i++) rx.push(this.rx[(this.rxHead + i) % FIFO_SIZE]!);
    const host: number[] = [];
    for (let i = 0; i < this.hostCount; i++) host.push(this.host[(this.hostHead + i) % this.host.length]!);
    return {
      version: 1,
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      scr: this.scr,
      divisor: this.divisor,
      fcr: this.fcr,
      lsrErrors: this.lsrErrors,
      msr: this.msr,
      lastRx: this.lastRx,
      thrPending: this.thrPending,
      rx,
      host,
    };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    const ier = r.int('ier', 0, 0x0f);
    const lcr = r.int('lcr', 0, 0xff);
    const mcr = r.int('mcr', 0, 0x1f);
    const scr = r.int('scr', 0, 0xff);
    const divisor = r.int('divisor', 0, 0xffff);
    const fcr = r.int('fcr', 0, 0xff);
    const lsrErrors = r.int('lsrErrors', 0, 0xff);
    const msr = r.int('msr', 0, 0xff);
    const lastRx = r.int('lastRx', 0, 0xff);
    const thrPending = r.bool('thrPending');
    const rx = r.ints('rx', 0, 0xff, 0, fcr & 1 ? FIFO_SIZE : 1);
    const host = r.ints('host', 0, 0xff, 0, Number.MAX_SAFE_INTEGER);
    if (lsrErrors & ~LSR_ERRORS) r.fail('lsrErrors', 'has bits outside OE/PE/FE/BI');
    this.ier = ier;
    this.lcr = lcr;
    this.mcr = mcr;
    this.scr = scr;
    this.divisor = divisor;
    this.fcr = fcr & 0xc9;
    this.lsrErrors = lsrErrors;
    this.msr = msr;
    this.lastRx = lastRx;
    this.thrPending = thrPending;
    this.rxHead = 0;
    this.rxCount = rx.length;
    this.rx.set(rx);
    let size = 256;
    while (size < host.length) size *= 2;
    this.host = new Uint8Array(size);
    this.host.set(host);
    this.hostHead = 0;
    this.hostCount = host.length;
    this.updateIrq();
  }
}
