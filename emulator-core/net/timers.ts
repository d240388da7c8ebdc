/** The host clock and timers as the NAT and its TCP engine use them (tests inject a fake clock). */
import type { TcpTimers } from './tcp/api.js';

export const systemTimers: TcpTimers = {
  now: () => performance.now(),
  setTimeout: (fn: () => void, ms: number) => {
    const handle = setTimeout(fn, ms);
    // The NAT's timers never keep a process alive on their own: sockets and the VM do.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
