/**
 * Bochs/QEMU debug console port (0x402 as SeaBIOS uses it): bytes written are firmware
 * debug output, collected into lines for the machine log. Reading returns 0xE9, which
 * is how SeaBIOS detects that someone listens; the machine installs it only on request
 * (TERRARIUM_FIRMWARE_DEBUG=1), since firmware prints a lot once it knows.
 */
import type { AccessSize, PortIoHandler } from '../bus/io-bus.js';
import type { Device, DeviceState } from './device.js';

export const DEBUGCON_PORT = 0x402;
const READBACK = 0xe9;

export class DebugCon implements Device, PortIoHandler {
  readonly name = 'debugcon';
  private line = '';

  constructor(private readonly output: (line: string) => void) {}

  ioRead(_port: number, _size: AccessSize): number {
    return READBACK;
  }

  ioWrite(_port: number, _size: AccessSize, value: number): void {
    const c = value & 0xff;
    if (c === 0x0a) {
      this.output(this.line);
      this.line = '';
    } else if (c !== 0x0d && this.line.length < 4096) {
      this.line += String.fromCharCode(c);
    }
  }

  reset(): void {
    this.line = '';
  }

  save(): DeviceState {
    return { version: 1 };
  }

  restore(_state: DeviceState): void {}
}
