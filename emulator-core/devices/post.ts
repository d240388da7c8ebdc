import type { AccessSize, PortIoHandler } from '../bus/io-bus.js';
import type { Device, DeviceState } from './device.js';
import { StateReader } from './state.js';

/**
 * The POST diagnostic port (0x80). Firmware writes progress codes here and Linux writes
 * to it as an I/O delay thousands of times a second, so a write only stores the byte;
 * reads return it, as on boards with a POST latch.
 */
export class PostPort implements Device, PortIoHandler {
  readonly name = 'post';
  lastCode = 0;
  /** Number of writes since power-on (cheap progress indicator for debugging). */
  writes = 0;

  ioRead(_port: number, _size: AccessSize): number {
    return this.lastCode;
  }

  ioWrite(_port: number, _size: AccessSize, value: number): void {
    this.lastCode = value & 0xff;
    this.writes++;
  }

  reset(): void {
    this.lastCode = 0;
  }

  save(): DeviceState {
    return { version: 1, lastCode: this.lastCode };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    this.lastCode = r.int('lastCode', 0, 0xff);
  }
}
