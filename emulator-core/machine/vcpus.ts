/**
 * One interface over the machine's processors, whichever backend runs them (cloud-hypervisor's
 * `Vcpu` trait, at the scope of the whole set): the software CPU's processors taking turns on
 * this thread (software-vcpus.ts), or KVM's vCPUs in their worker threads (kvm-vcpus.ts). The
 * Machine holds one `Vcpus` and never asks which kind it is; devices reach the processors
 * only through interrupt sinks (the PIC's pins, the APIC bus, or KVM's in-kernel irqchip).
 */
import type { CpuState } from '../cpu/state.js';
import type { Clock } from './clock.js';
import type { EmulatorOptions } from './options.js';
import type { DeferredPins, PcBoard } from './pc.js';
import type { MachineConfig, MachineExit } from './types.js';

/**
 * Where the bootstrap processor starts, as an edit of its power-on state (direct Linux boot);
 * null keeps the reset vector (firmware boot). Each backend applies it to its own power-on
 * state, so the reset values are defined once per backend and nowhere else.
 */
export type EntryEdit = (powerOn: CpuState) => CpuState;

/** What a backend's run loop needs of the machine around it. */
export interface RunHost {
  readonly board: PcBoard;
  readonly clock: Clock;
  readonly config: MachineConfig;
  readonly options: EmulatorOptions;
  /** The PIC's INTR/NMI output, for a backend that delivers it itself. */
  readonly pins: DeferredPins;
  resetRequested: string | null;
  powerOffRequested: string | null;
  stopRequested: string | null;
  paused: boolean;
  /** Devices, memory, boot images and processors back to power-on (calls `Vcpus.reset`). */
  hardReset(): void;
  /** Resolve when a host event (resume, input, stop) wakes the machine. */
  waitForWake(): Promise<void>;
  /** Sleep up to `ms`, or less when a host event wakes the machine. */
  sleep(ms: number): Promise<void>;
}

export interface Vcpus {
  /** How many processors the guest has. */
  readonly count: number;
  /** Which Linux entry suits this backend when the options leave it to us ('auto'). */
  readonly preferredLinuxEntry: '32' | '64';
  /**
   * Processors a direct boot's MADT lists, with the I/O APIC (ID 0 at 0xFEC00000) and the
   * timer's override to pin 2; null: the guest has no APICs to describe (a PIC-only PC).
   */
  readonly madtCpus: number | null;
  /** Instructions the guest has retired, all processors together; null where the hardware does not count them. */
  readonly instructionsRetired: number | null;
  /**
   * Power-on or RESET: every processor to its power-on state, the application processors
   * waiting for a start-up IPI; the BSP then takes `entry` (null: the reset vector).
   */
  reset(entry: EntryEdit | null): void;
  /** Run the guest until it powers off, halts for good, crashes or the machine stops it. */
  run(host: RunHost): Promise<MachineExit>;
  /** Make the processors come back to their run loop soon (pause, reset, power-off). */
  kick(): void;
  /** The A20 gate (the keyboard controller's or port 0x92's). */
  setA20(enabled: boolean): void;
  /** Give back what the backend holds (KVM's VM and /dev/kvm); the machine has stopped. */
  close(): void;
}
