/**
 * The few libc functions the KVM backend calls, through koffi, behind typed wrappers. koffi
 * is loaded on first use only, so the software CPU never touches native code.
 *
 * Pointers are plain numbers: user-space addresses on x86-64 Linux fit in 47 bits.
 */
import { createRequire } from 'node:module';
import type KoffiDefault from 'koffi';
import { KvmError } from './errors.js';

export type Koffi = typeof KoffiDefault;
type NativeFn = (...args: unknown[]) => unknown;

let koffiModule: Koffi | null = null;

/** koffi itself (CommonJS build, loaded once per thread). */
export function koffi(): Koffi {
  // One loader (require) everywhere: mixing the ESM and CJS builds would load the addon twice.
  koffiModule ??= createRequire(import.meta.url)('koffi') as Koffi;
  return koffiModule;
}

export const O_RDWR = 2;
export const O_CLOEXEC = 0o2000000;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const SIG_BLOCK = 0;
/** glibc's sigset_t is 1024 bits; the kernel's (what KVM_SET_SIGNAL_MASK takes) is 64. */
export const SIGSET_BYTES = 128;
export const KERNEL_SIGSET_BYTES = 8;

export interface Libc {
  /** open(2); returns the fd or -errno. */
  open(path: string, flags: number): number;
  close(fd: number): void;
  /** ioctl(2) with a pointer argument (a buffer koffi passes by address); returns the result or -errno. */
  ioctlPtr(fd: number, request: number, arg: Uint8Array): number;
  /** ioctl(2) with an integer argument; returns the result or -errno. */
  ioctlInt(fd: number, request: number, arg: number): number;
  /** mmap(2) of `length` bytes of `fd`, shared and read-write; returns the address. */
  mmapShared(fd: number, length: number, what: string): number;
  munmap(addr: number, length: number): void;
  /** Copy `length` bytes from a native address into `dst`. */
  copyFrom(dst: Uint8Array, src: number, length: number): void;
  /** Copy `length` bytes of `src` to a native address. */
  copyTo(dst: number, src: Uint8Array, length: number): void;
  /** Address of a typed array's first byte (its backing store must not move: shared or external). */
  addressOf(view: Uint8Array): number;
  pthreadSelf(): number;
  /** pthread_kill(3); returns 0 or an errno value. */
  pthreadKill(thread: number, signal: number): number;
  /** Block `signal` in the calling thread; returns the previous mask (glibc sigset_t). */
  blockSignal(signal: number): Uint8Array;
  /** Take a pending `signal` off the calling thread without waiting; true if one was pending. */
  consumeSignal(signal: number): boolean;
  /** The first real-time signal glibc leaves to applications. */
  sigrtmin(): number;
}

let libcInstance: Libc | null = null;

export function sigsetWith(signal: number): Uint8Array {
  const set = new Uint8Array(SIGSET_BYTES);
  set[(signal - 1) >> 3] |= 1 << ((signal - 1) & 7);
  return set;
}

/** libc through koffi; throws KvmError when it cannot be loaded (not Linux, koffi missing). */
export function libc(): Libc {
  if (libcInstance !== null) return libcInstance;
  let k: Koffi;
  let lib: ReturnType<Koffi['load']>;
  try {
    k = koffi();
    lib = k.load('libc.so.6');
  } catch (e) {
    throw new KvmError(`cannot load the native bridge to KVM (koffi/libc): ${(e as Error).message}`, 'load', 0);
  }
  const fn = (name: string, result: string, args: string[]): NativeFn => lib.func(name, result, args) as NativeFn;
  const open = fn('open', 'int', ['str', 'int', 'int']);
  const close = fn('close', 'int', ['int']);
  // ioctl is variadic; fixed prototypes are ABI-compatible for one integer or pointer argument.
  const ioctlP = fn('ioctl', 'int', ['int', 'ulong', 'void *']);
  const ioctlN = fn('ioctl', 'int', ['int', 'ulong', 'ulong']);
  const mmap = fn('mmap', 'uint64', ['void *', 'size_t', 'int', 'int', 'int', 'int64']);
  const munmap = fn('munmap', 'int', ['uint64', 'size_t']);
  const memcpyIn = fn('memcpy', 'void *', ['void *', 'uint64', 'size_t']);
  const memcpyOut = fn('memcpy', 'void *', ['uint64', 'void *', 'size_t']);
  const pthreadSelf = fn('pthread_self', 'uint64', []);
  const pthreadKill = fn('pthread_kill', 'int', ['uint64', 'int']);
  const pthreadSigmask = fn('pthread_sigmask', 'int', ['int', 'void *', 'void *']);
  const sigtimedwait = fn('sigtimedwait', 'int', ['void *', 'void *', 'void *']);
  const sigrtmin = fn('__libc_current_sigrtmin', 'int', []);
  const errno = (): number => k.errno();
  const zeroTimeout = new Uint8Array(16);

  libcInstance = {
    open(path, flags) {
      const fd = open(path, flags, 0) as number;
      return fd < 0 ? -errno() : fd;
    },
    close(fd) {
      close(fd);
    },
    ioctlPtr(fd, request, arg) {
      const r = ioctlP(fd, request, arg) as number;
      return r < 0 ? -errno() : r;
    },
    ioctlInt(fd, request, arg) {
      const r = ioctlN(fd, request, arg) as number;
      return r < 0 ? -errno() : r;
    },
    mmapShared(fd, length, what) {
      const addr = mmap(null, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) as number | bigint;
      // MAP_FAILED is (void *)-1, which does not fit a double and comes back as a BigInt.
      if (typeof addr === 'bigint') throw new KvmError(`mmap of ${what} failed`, 'mmap', errno());
      return addr;
    },
    munmap(addr, length) {
      munmap(addr, length);
    },
    copyFrom(dst, src, length) {
      memcpyIn(dst, src, length);
    },
    copyTo(dst, src, length) {
      memcpyOut(dst, src, length);
    },
    addressOf(view) {
      return Number(k.address(view));
    },
    pthreadSelf() {
      return pthreadSelf() as number;
    },
    pthreadKill(thread, signal) {
      return pthreadKill(thread, signal) as number;
    },
    blockSignal(signal) {
      const old = new Uint8Array(SIGSET_BYTES);
      const r = pthreadSigmask(SIG_BLOCK, sigsetWith(signal), old) as number;
      if (r !== 0) throw new KvmError(`cannot block signal ${signal} in the vCPU thread`, 'pthread_sigmask', r);
      return old;
    },
    consumeSignal(signal) {
      return (sigtimedwait(sigsetWith(signal), null, zeroTimeout) as number) === signal;
    },
    sigrtmin() {
      return sigrtmin() as number;
    },
  };
  return libcInstance;
}
