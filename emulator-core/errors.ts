/**
 * Typed errors of the emulation core. Each carries enough context for a one-line message
 * to the user; `code` lets callers (CLI, app) map them to exit codes and UI text.
 */
export type EmulatorErrorCode =
  | 'BAD_INPUT' // a file or argument the user gave is unusable
  | 'GUEST_CRASH' // the guest did something fatal (triple fault, opcode storm)
  | 'HOST' // the host refused something (memory, permissions, KVM)
  | 'INTERNAL'; // a bug in Terrarium

export class EmulatorError extends Error {
  constructor(
    readonly code: EmulatorErrorCode,
    message: string,
    readonly context: Readonly<Record<string, string | number | boolean>> = {},
  ) {
    super(message);
    this.name = 'EmulatorError';
  }
}

export class BadInputError extends EmulatorError {
  constructor(message: string, context: Readonly<Record<string, string | number | boolean>> = {}) {
    super('BAD_INPUT', message, context);
    this.name = 'BadInputError';
  }
}

export class GuestCrashError extends EmulatorError {
  constructor(message: string, context: Readonly<Record<string, string | number | boolean>> = {}) {
    super('GUEST_CRASH', message, context);
    this.name = 'GuestCrashError';
  }
}

export class HostError extends EmulatorError {
  constructor(message: string, context: Readonly<Record<string, string | number | boolean>> = {}) {
    super('HOST', message, context);
    this.name = 'HostError';
  }
}
