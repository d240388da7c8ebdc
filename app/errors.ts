/**
 * Typed errors of the application layer. Every error that reaches a user (CLI line, UI
 * banner, contract reply) is an AppError: a stable code, a one-line message, and a hint
 * that says what to do next. Anything else is a bug and is reported as INTERNAL.
 */
import { EmulatorError } from '../emulator-core/errors.js';

export type AppErrorCode =
  | 'BAD_INPUT' // the caller sent something invalid (a field is named in `field`)
  | 'NOT_FOUND' // no such VM, file or medium
  | 'CONFLICT' // the operation clashes with the current state (VM running, name taken)
  | 'CORRUPT' // a file on disk cannot be read as what it should be
  | 'UNSUPPORTED' // a newer config version, or a feature this build lacks
  | 'HOST' // the host refused (permissions, disk full, no memory)
  | 'GUEST' // the guest or the machine failed while running
  | 'INTERNAL'; // a bug in Terrarium

export type ErrorContext = Readonly<Record<string, string | number | boolean>>;

export interface AppErrorOptions {
  /** What the user can do about it, one sentence. */
  hint?: string;
  /** Dotted path of the offending input field, for inline display. */
  field?: string;
  context?: ErrorContext;
  cause?: unknown;
}

export class AppError extends Error {
  readonly hint: string | undefined;
  readonly field: string | undefined;
  readonly context: ErrorContext;

  constructor(
    readonly code: AppErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.hint = options.hint;
    this.field = options.field;
    this.context = options.context ?? {};
  }
}

/** The wire form of an error: what the contract and the CLI show. */
export interface ErrorInfo {
  code: AppErrorCode;
  message: string;
  hint?: string;
  field?: string;
}

const EMULATOR_CODE_MAP: Record<EmulatorError['code'], AppErrorCode> = {
  BAD_INPUT: 'BAD_INPUT',
  GUEST_CRASH: 'GUEST',
  HOST: 'HOST',
  INTERNAL: 'INTERNAL',
};

/** Node's errno codes that mean "the host refused", with advice. */
const HOST_ERRNO_HINTS: Record<string, string> = {
  ENOSPC: 'The disk is full: free some space and try again.',
  EACCES: 'Terrarium has no permission there: check the folder permissions.',
  EPERM: 'Terrarium has no permission there: check the folder permissions.',
  EROFS: 'The file system is read-only.',
  EMFILE: 'Too many open files: close some programs and try again.',
  ENOENT: 'The file or folder does not exist (any more).',
};

function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

/** Turn anything thrown into an AppError without losing its message. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof EmulatorError) {
    return new AppError(EMULATOR_CODE_MAP[error.code], error.message, {
      context: error.context,
      cause: error,
      hint: error.code === 'INTERNAL' ? 'This is a bug in Terrarium; please report it with the VM log.' : undefined,
    });
  }
  const errno = errnoCode(error);
  if (errno !== undefined && errno in HOST_ERRNO_HINTS) {
    const code: AppErrorCode = errno === 'ENOENT' ? 'NOT_FOUND' : 'HOST';
    return new AppError(code, error instanceof Error ? error.message : String(error), {
      hint: HOST_ERRNO_HINTS[errno],
      cause: error,
      context: { errno },
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AppError('INTERNAL', message, { cause: error, hint: 'This is a bug in Terrarium; please report it.' });
}

export function toErrorInfo(error: unknown): ErrorInfo {
  const e = toAppError(error);
  const info: ErrorInfo = { code: e.code, message: e.message };
  if (e.hint !== undefined) info.hint = e.hint;
  if (e.field !== undefined) info.field = e.field;
  return info;
}
