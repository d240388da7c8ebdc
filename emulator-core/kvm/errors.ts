/** Typed KVM failures: which call failed and with which errno, in one line for the user. */
import { HostError } from '../errors.js';

/** errno values the KVM calls return, by number (Linux x86-64). */
const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  4: 'EINTR',
  5: 'EIO',
  6: 'ENXIO',
  9: 'EBADF',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  22: 'EINVAL',
  24: 'EMFILE',
  25: 'ENOTTY',
  28: 'ENOSPC',
  34: 'ERANGE',
  38: 'ENOSYS',
  95: 'EOPNOTSUPP',
  105: 'ENOBUFS',
};

const ERRNO_TEXT: Record<number, string> = {
  1: 'operation not permitted',
  2: 'no such file or directory',
  4: 'interrupted',
  5: 'input/output error',
  6: 'no such device or address',
  9: 'bad file descriptor',
  11: 'resource temporarily unavailable',
  12: 'out of memory',
  13: 'permission denied',
  14: 'bad address',
  16: 'device or resource busy',
  17: 'already exists',
  19: 'no such device',
  22: 'invalid argument',
  24: 'too many open files',
  25: 'not supported by this device',
  28: 'no space left',
  38: 'function not implemented',
  95: 'operation not supported',
  105: 'no buffer space available',
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** A refused KVM or libc call. `call` names the ioctl (KVM_RUN, KVM_SET_SREGS, ...) or function. */
export class KvmError extends HostError {
  constructor(
    message: string,
    readonly call: string,
    readonly errno: number,
  ) {
    const detail = errno === 0 ? '' : `: ${call} failed with ${errnoName(errno)} (${ERRNO_TEXT[errno] ?? 'error'})`;
    super(`${message}${detail}`, { call, errno, errnoName: errnoName(errno) });
    this.name = 'KvmError';
  }
}
