import { EmulatorError } from '../errors.js';

export type AccessSize = 1 | 2 | 4;

/** A device's port range. Sizes are 1, 2 or 4 bytes; values are unsigned. */
export interface PortIoHandler {
  ioRead(port: number, size: AccessSize): number;
  ioWrite(port: number, size: AccessSize, value: number): void;
  /**
   * Optional REP INS fast path: move up to `count` units of `size` bytes from the port into
   * `dst` at `offset` (a view of guest memory) as `count` single reads would. Returns the
   * units moved; 0 means "use single accesses".
   */
  ioReadString?(port: number, size: AccessSize, dst: Uint8Array, offset: number, count: number): number;
  /** Optional REP OUTS fast path, the mirror of ioReadString. */
  ioWriteString?(port: number, size: AccessSize, src: Uint8Array, offset: number, count: number): number;
}

const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

/**
 * Port I/O dispatch shared by both CPU backends. One array slot per port keeps the lookup
 * to a single indexed load; unclaimed ports read as all ones, as on a real ISA bus.
 */
export class IoBus {
  private readonly handlers: (PortIoHandler | undefined)[] = new Array<PortIoHandler | undefined>(0x10000).fill(undefined);
  private readonly owners: (string | undefined)[] = new Array<string | undefined>(0x10000).fill(undefined);
  /** Called for accesses no device claims (for tracing); null by default. */
  onUnhandled: ((port: number, size: AccessSize, write: boolean, value: number) => void) | null = null;
  /**
   * Called before every access: the machine fires timers that are already due, so a guest
   * reading a timer after it expired always finds its interrupt raised.
   */
  beforeAccess: (() => void) | null = null;

  register(start: number, count: number, handler: PortIoHandler, owner: string): void {
    for (let p = start; p < start + count; p++) {
      const existing = this.owners[p];
      if (existing !== undefined && existing !== owner) {
        throw new EmulatorError('INTERNAL', `port 0x${p.toString(16)} claimed by both ${existing} and ${owner}`);
      }
      this.handlers[p] = handler;
      this.owners[p] = owner;
    }
  }

  unregister(start: number, count: number): void {
    for (let p = start; p < start + count; p++) {
      this.handlers[p] = undefined;
      this.owners[p] = undefined;
    }
  }

  ownerOf(port: number): string | undefined {
    return this.owners[port & 0xffff];
  }

  read(port: number, size: AccessSize): number {
    port &= 0xffff;
    if (this.beforeAccess !== null) this.beforeAccess();
    const h = this.handlers[port];
    if (h !== undefined) return h.ioRead(port, size);
    if (this.onUnhandled !== null) this.onUnhandled(port, size, false, 0);
    return ALL_ONES[size];
  }

  /** REP INS in bulk when the device supports it; returns units moved (0: do single reads). */
  readString(port: number, size: AccessSize, dst: Uint8Array, offset: number, count: number): number {
    const h = this.handlers[port & 0xffff];
    if (h === undefined || h.ioReadString === undefined) return 0;
    if (this.beforeAccess !== null) this.beforeAccess();
    return h.ioReadString(port & 0xffff, size, dst, offset, count);
  }

  /** REP OUTS in bulk when the device supports it; returns units moved (0: do single writes). */
  writeString(port: number, size: AccessSize, src: Uint8Array, offset: number, count: number): number {
    const h = this.handlers[port & 0xffff];
    if (h === undefined || h.ioWriteString === undefined) return 0;
    if (this.beforeAccess !== null) this.beforeAccess();
    return h.ioWriteString(port & 0xffff, size, src, offset, count);
  }

  write(port: number, size: AccessSize, value: number): void {
    port &= 0xffff;
    if (this.beforeAccess !== null) this.beforeAccess();
    const h = this.handlers[port];
    if (h !== undefined) {
      h.ioWrite(port, size, value);
      return;
    }
    if (this.onUnhandled !== null) this.onUnhandled(port, size, true, value);
  }
}
