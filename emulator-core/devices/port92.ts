import type { AccessSize, PortIoHandler } from '../bus/io-bus.js';
import type { MachineControl } from '../machine/control.js';
import type { Device, DeviceState } from './device.js';
import { StateReader } from './state.js';

/**
 * PS/2 system control port A (0x92): the "fast" A20 gate (bit 1) and fast CPU reset
 * (bit 0, on a 0 → 1 write). Bit 1 reads the machine's A20 state, whoever last set it.
 */
export class Port92 implements Device, PortIoHandler {
  readonly name = 'port92';
  /** The other bits as written (bit 3 is the CMOS lock, bits 6-7 the disk LEDs). */
  private latch = 0;

  constructor(private readonly control: MachineControl) {}

  ioRead(_port: number, _size: AccessSize): number {
    return (this.latch & ~0x02) | (this.control.a20 ? 0x02 : 0);
  }

  ioWrite(_port: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    const old = this.latch;
    this.latch = value;
    const a20 = (value & 0x02) !== 0;
    if (a20 !== this.control.a20) this.control.setA20(a20);
    if (value & 0x01 && !(old & 0x01)) this.control.requestReset('port 0x92 fast reset');
  }

  reset(): void {
    this.latch = 0;
  }

  save(): DeviceState {
    return { version: 1, latch: this.latch };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    this.latch = r.int('latch', 0, 0xff);
  }
}
