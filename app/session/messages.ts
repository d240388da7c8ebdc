/**
 * The messages between a session (main thread) and its worker (which owns the Machine).
 * Plain structured-clonable data; pixel and serial buffers are transferred, not copied.
 */
import type { MachineConfig, MachineExit, NetStatus, PortForward, RunState, ScreenUpdate } from '../../emulator-core/machine/types.js';
import type { ErrorInfo } from '../errors.js';

export type ToWorker =
  | { type: 'start'; config: MachineConfig }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'reset' }
  | { type: 'powerOff' }
  | { type: 'acpiShutdown' }
  | { type: 'key'; code: string; down: boolean }
  | { type: 'pointer'; dx: number; dy: number; buttons: number }
  | { type: 'serial'; bytes: Uint8Array }
  | { type: 'cdrom'; path: string | null }
  | { type: 'screenshot'; requestId: number }
  /** Replace the NAT's port forwards; answered by 'forwardsSet' with the same requestId. */
  | { type: 'setForwards'; requestId: number; forwards: PortForward[] };

export type FromWorker =
  | { type: 'state'; state: RunState }
  | { type: 'accel'; accel: 'kvm' | 'interpreter'; why: string }
  | { type: 'screen'; update: ScreenUpdate }
  | { type: 'serial'; bytes: Uint8Array }
  | { type: 'log'; line: string }
  /** run() returned: the machine is off. */
  | { type: 'exit'; exit: MachineExit }
  /** create() or run() threw: the machine is off, with this reason. */
  | { type: 'failed'; error: ErrorInfo }
  | { type: 'screenshot'; requestId: number; update: ScreenUpdate | null }
  /** The guest got its DHCP lease, or the forwards listening changed. */
  | { type: 'net'; status: NetStatus }
  /** error null: the forwards are active. Otherwise the previous ones still are; `rule` is the index of the rule at fault when known. */
  | { type: 'forwardsSet'; requestId: number; error: ErrorInfo | null; rule?: number };

/** What a session needs of a machine: the Machine class's public methods. */
export interface MachineLike {
  run(): Promise<MachineExit>;
  pause(): void;
  resume(): void;
  reset(): void;
  powerOff(): void;
  acpiShutdown(): void;
  sendSerial(bytes: Uint8Array): void;
  sendKey(code: string, down: boolean): void;
  sendPointer(dx: number, dy: number, buttons: number): void;
  changeCdrom(path: string | null): void;
  screenshot(): ScreenUpdate | null;
  /**
   * Replace the port forwards of a running NAT adapter; rejects (BadInputError naming the
   * rule, e.g. a host port in use) leaving the previous forwards active. Optional until the
   * Machine has it: without it, forwards change at the next start only.
   */
  setForwards?(rules: PortForward[]): Promise<void>;
  /** The network adapter's address and forwards now, or null without one. */
  netStatus?(): NetStatus | null;
}
