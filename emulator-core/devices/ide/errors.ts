import { EmulatorError } from '../../errors.js';

/**
 * save() was called while disk requests are in flight. Their results would land in a
 * machine that no longer matches the snapshot, so the caller must pause the CPU, await
 * IdeController.whenIdle() and save again.
 */
export class IdeBusyError extends EmulatorError {
  constructor(device: string, pending: number) {
    super('INTERNAL', `${device}: cannot snapshot while ${pending} disk request(s) are in flight; pause the CPU and await whenIdle() first`, {
      device,
      pending,
    });
    this.name = 'IdeBusyError';
  }
}

/** A CD-ROM read found no medium (ejected while the command was queued). The guest sees NOT READY. */
export class MediumAbsentError extends EmulatorError {
  constructor(device: string) {
    super('BAD_INPUT', `${device}: no medium in the drive`, { device });
    this.name = 'MediumAbsentError';
  }
}
