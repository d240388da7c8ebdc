import type { AccessSize } from '../../bus/io-bus.js';
import type { MmioHandler } from '../../memory/guest-memory.js';
import {
  BROADCAST_DEST,
  DM_LOWEST_PRIORITY,
  SHORTHAND_ALL_EXCLUDING_SELF,
  SHORTHAND_NONE,
  SHORTHAND_SELF,
} from './constants.js';

/** What the bus needs from a local APIC (LocalApic implements it). */
export interface ApicBusTarget extends MmioHandler {
  /** IA32_APIC_BASE.EN: a globally disabled APIC takes no part in bus messages. */
  readonly hardwareEnabled: boolean;
  /** The 8-bit APIC ID, as the guest last wrote it. */
  readonly apicId: number;
  /** Does the logical destination `mda` select this APIC (flat or cluster, by its own DFR)? */
  matchesLogical(mda: number): boolean;
  /** Take one interrupt message; false when it was not accepted (e.g. fixed while software-disabled). */
  receive(mode: number, vector: number, levelTriggered: boolean): boolean;
}

/** What an I/O APIC exposes to the bus: the EOI broadcast of level-triggered vectors. */
export interface EoiListener {
  onEoi(vector: number): void;
}

/**
 * The APIC bus (really the system bus in xAPIC): carries interrupt messages from I/O APICs and
 * ICR writes to the local APICs, and EOI broadcasts from local APICs back to the I/O APICs.
 * Delivery is instantaneous, so the senders' delivery-status bits always read idle.
 *
 * It also decodes the local APIC page: every vCPU sees its own APIC at the same address, so
 * the run loop sets `current` to the index of the vCPU it is about to run and the bus (one
 * MmioHandler registered at the APIC base) forwards the access there.
 */
export class ApicBus implements MmioHandler {
  private readonly locals: ApicBusTarget[] = [];
  private readonly ioApics: EoiListener[] = [];
  /** Index (attach order) of the local APIC whose vCPU is running. */
  current = 0;

  /** Local APICs in attach order; index i is vCPU i. */
  get localApics(): readonly ApicBusTarget[] {
    return this.locals;
  }

  /** Add a local APIC (LocalApic's constructor does this); returns its index. */
  attachLocal(apic: ApicBusTarget): number {
    this.locals.push(apic);
    return this.locals.length - 1;
  }

  /** Add an I/O APIC (IoApic's constructor does this) so it hears EOI broadcasts. */
  attachIoApic(ioApic: EoiListener): void {
    this.ioApics.push(ioApic);
  }

  /** Does destination `dest` (physical or logical) select `apic`? */
  private matches(apic: ApicBusTarget, dest: number, logical: boolean): boolean {
    if (logical) return apic.matchesLogical(dest);
    return dest === BROADCAST_DEST || apic.apicId === dest;
  }

  /**
   * Deliver one interrupt message. `source` is the sending local APIC (for the self and
   * all-excluding-self shorthands; null for an I/O APIC). Lowest-priority messages go to the
   * lowest-numbered matching APIC that accepts them (no arbitration on TPR: documented
   * simplification). Returns whether any APIC accepted the message.
   */
  deliver(
    dest: number,
    logical: boolean,
    mode: number,
    vector: number,
    levelTriggered: boolean,
    shorthand: number = SHORTHAND_NONE,
    source: ApicBusTarget | null = null,
  ): boolean {
    if (shorthand === SHORTHAND_SELF) {
      return source !== null && source.hardwareEnabled && source.receive(mode, vector, levelTriggered);
    }
    const lowest = mode === DM_LOWEST_PRIORITY;
    let accepted = false;
    for (const apic of this.locals) {
      if (!apic.hardwareEnabled) continue;
      if (shorthand === SHORTHAND_ALL_EXCLUDING_SELF && apic === source) continue;
      if (shorthand === SHORTHAND_NONE && !this.matches(apic, dest & 0xff, logical)) continue;
      // SHORTHAND_ALL_INCLUDING_SELF: every enabled APIC.
      if (apic.receive(mode, vector, levelTriggered)) {
        accepted = true;
        if (lowest) return true;
      }
    }
    return accepted;
  }

  /** A local APIC retired a level-triggered vector: every I/O APIC clears the matching Remote IRR. */
  broadcastEoi(vector: number): void {
    for (const io of this.ioApics) io.onEoi(vector);
  }

  mmioRead(addr: number, size: AccessSize): number {
    const apic = this.locals[this.current];
    return apic === undefined ? 0 : apic.mmioRead(addr, size);
  }

  mmioWrite(addr: number, size: AccessSize, value: number): void {
    const apic = this.locals[this.current];
    if (apic !== undefined) apic.mmioWrite(addr, size, value);
  }
}
