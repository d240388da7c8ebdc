import { BadInputError, EmulatorError, HostError } from '../errors.js';

type Context = Readonly<Record<string, string | number | boolean>>;

/**
 * A disk image we refuse to open or to keep using: bad magic, out-of-range header fields,
 * metadata pointing outside the file, features we do not implement. The message is one
 * line that starts with the file's path, so the CLI and the UI can show it as is.
 */
export class DiskFormatError extends BadInputError {
  constructor(
    readonly path: string,
    problem: string,
    context: Context = {},
  ) {
    super(`${path}: ${problem}`, { path, ...context });
    this.name = 'DiskFormatError';
  }
}

/**
 * A request a device model should never have issued: misaligned, past the end, or a write
 * to a read-only disk. Device models map it to their bus's error status (e.g. ATA IDNF).
 */
export class BlockRequestError extends BadInputError {
  constructor(
    readonly path: string,
    problem: string,
    context: Context = {},
  ) {
    super(`${path}: ${problem}`, { path, ...context });
    this.name = 'BlockRequestError';
  }
}

/** Used after close(): a bug in the caller, not bad input. */
export function closedError(path: string, op: string): EmulatorError {
  return new EmulatorError('INTERNAL', `${path}: ${op} after close`, { path, op });
}

/** Wrap an fs error (ENOSPC, EIO, EACCES...) with the file, the operation and the offset. */
export function hostIoError(path: string, op: string, cause: unknown, context: Context = {}): HostError {
  const code = errnoCode(cause);
  const detail = cause instanceof Error ? cause.message : String(cause);
  const err = new HostError(`${path}: ${op} failed: ${detail}`, { path, op, ...(code ? { errno: code } : {}), ...context });
  (err as Error & { cause?: unknown }).cause = cause;
  return err;
}

export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
