/** Plain, JSON-compatible data: what a device's save() returns and restore() accepts. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type DeviceState = { [key: string]: JsonValue };

/**
 * Every device model implements this. Devices never know which CPU backend runs the guest:
 * they see port/MMIO accesses through the bus and raise interrupts through IrqLines.
 */
export interface Device {
  readonly name: string;
  /** Back to power-on state (also used for a machine reset). */
  reset(): void;
  /** Snapshot of the device's state as plain data. */
  save(): DeviceState;
  /** Inverse of save(); throws a typed error on malformed state. */
  restore(state: DeviceState): void;
}
