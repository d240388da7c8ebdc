/**
 * What devices may ask of the machine: reset, power, and the A20 gate. Devices get this
 * interface, never the Machine itself.
 */
export interface MachineControl {
  requestReset(reason: string): void;
  requestPowerOff(reason: string): void;
  setA20(enabled: boolean): void;
  readonly a20: boolean;
}
