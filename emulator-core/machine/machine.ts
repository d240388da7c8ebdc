import { EmulatorError } from '../errors.js';
import type { MachineConfig, MachineExit, MachineListener, ScreenUpdate } from './types.js';

/**
 * A PC assembled from a MachineConfig. Under construction: the CPU backends and device
 * wiring land here; the method signatures are the contract app/ sessions and the CLI use.
 */
export class Machine {
  private constructor(
    readonly config: MachineConfig,
    readonly listener: MachineListener,
  ) {}

  /** Validate the config, load firmware/kernel/disks, wire devices. Throws typed errors on bad input. */
  static async create(config: MachineConfig, listener: MachineListener = {}): Promise<Machine> {
    return new Machine(config, listener);
  }

  /** Run until the guest powers off, halts for good, crashes, or stop() is called. */
  async run(): Promise<MachineExit> {
    throw new EmulatorError('INTERNAL', 'Machine.run is not implemented yet');
  }

  pause(): void {}
  resume(): void {}
  /** Hardware reset (the guest reboots). */
  reset(): void {}
  /** Pull the plug: run() resolves with { kind: 'stopped' }. */
  powerOff(): void {}
  /** Press the ACPI power button so the guest can shut down cleanly. */
  acpiShutdown(): void {}
  /** Bytes typed into COM1. */
  sendSerial(_bytes: Uint8Array): void {}
  /** A key by its KeyboardEvent.code (e.g. "KeyA", "Enter", "ControlLeft"). */
  sendKey(_code: string, _down: boolean): void {}
  /** Relative mouse motion and button state (bit 0 left, 1 right, 2 middle). */
  sendPointer(_dx: number, _dy: number, _buttons: number): void {}
  /** Insert (path) or eject (null) the CD-ROM medium. */
  changeCdrom(_path: string | null): void {}
  /** The whole current screen, or null when there is no display. */
  screenshot(): ScreenUpdate | null {
    return null;
  }
}
