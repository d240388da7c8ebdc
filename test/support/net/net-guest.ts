/**
 * The network guest built by test/fixtures/build-net-guest.sh: where it is, how to boot it,
 * and the lines it prints on its serial port. Whatever runs it (QEMU, Terrarium), give it
 * an e1000 on NAT, feed its serial output to a SerialShell and call bootNetGuest.
 */
import { SerialShellError, type SerialShell } from './guest-session.js';

export const NET_GUEST = {
  /** Fixture names in test/fixtures/out (see test/fixtures/fixtures.ts). */
  kernel: 'vmlinuz-i386',
  initrd: 'net-i386.cpio.gz',
  append: 'console=ttyS0 quiet panic=-1',
  memoryMiB: 256,
  /** busybox httpd in the guest serves /srv here; /srv/16M is patternBytes(16 MiB). */
  httpPort: 8080,
  servedPath: '/16M',
  servedBytes: 16 << 20,
  /** The interactive shell's prompt on ttyS0. */
  prompt: 'net-guest# ',
  marks: {
    boot: /NET-GUEST: boot/,
    /**
     * "dhcp IP gw ROUTER dns DNS..." or "dhcp failed"; printed once, before ready. Matched only
     * with its line end, so a line still arriving on the serial port is never taken half-read.
     */
    dhcp: /NET-GUEST: dhcp (?:(\d+\.\d+\.\d+\.\d+) gw (\S*) dns ([^\r\n]*)|failed)\r?\n/,
    ready: /NET-GUEST: ready/,
  },
} as const;

export interface NetGuestLease {
  ip: string;
  gateway: string;
  dns: string[];
}

/**
 * Wait for the guest to boot, take its DHCP lease from the serial line, and wait until its
 * shell answers commands. Fails with the serial tail when DHCP failed or time ran out.
 */
export async function bootNetGuest(shell: SerialShell, timeoutMs: number): Promise<NetGuestLease> {
  const deadline = performance.now() + timeoutMs;
  const left = (): number => Math.max(1, deadline - performance.now());
  const m = await shell.waitFor(NET_GUEST.marks.dhcp, left());
  if (m[1] === undefined) throw new SerialShellError('the net guest got no DHCP lease', shell.transcript());
  await shell.waitFor(NET_GUEST.marks.ready, left());
  await shell.sync(left());
  return { ip: m[1], gateway: m[2] ?? '', dns: (m[3] ?? '').split(/\s+/).filter((s) => s !== '') };
}
