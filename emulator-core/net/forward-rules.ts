/**
 * Port-forwarding rules and the NIC's MAC address as people write them: parsing the command
 * line's `tcp:[HOSTADDR:]HOSTPORT:GUESTPORT`, checking rules from any source (CLI, VM config,
 * the UI), and naming a rule in messages. The CLI, the app and the NAT all use these.
 */
import { BadInputError } from '../errors.js';
import type { PortForward } from '../machine/types.js';

export const DEFAULT_FORWARD_HOST = '127.0.0.1';
export const DEFAULT_MAC = '52:54:00:12:34:56';
/** Host ports below this need privileges most users do not have (and should not give a VM). */
export const FIRST_UNPRIVILEGED_PORT = 1024;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

/** "tcp 127.0.0.1:2222 -> 22" */
export function describeForward(rule: PortForward): string {
  const guest = rule.guestAddress !== undefined ? `${rule.guestAddress}:${rule.guestPort}` : String(rule.guestPort);
  return `${rule.protocol} ${rule.hostAddress ?? DEFAULT_FORWARD_HOST}:${rule.hostPort} -> ${guest}`;
}

/** Parse `tcp|udp:[HOSTADDR:]HOSTPORT:GUESTPORT` (the --forward syntax). */
export function parseForwardSpec(text: string): PortForward {
  const parts = text.split(':');
  const usage = `--forward ${text}: write tcp|udp:[HOSTADDR:]HOSTPORT:GUESTPORT, e.g. tcp:2222:22 or tcp:0.0.0.0:8080:80`;
  if (parts.length !== 3 && parts.length !== 4) throw new BadInputError(usage, { field: 'forward' });
  const protocol = parts[0]!.toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp') throw new BadInputError(`${usage} (protocol "${parts[0]}" is neither tcp nor udp)`, { field: 'forward' });
  const hostAddress = parts.length === 4 ? parts[1]! : undefined;
  const port = (s: string): number => (/^\d{1,5}$/.test(s) ? Number(s) : NaN);
  const rule: PortForward = { protocol, hostPort: port(parts[parts.length - 2]!), guestPort: port(parts[parts.length - 1]!) };
  if (hostAddress !== undefined) rule.hostAddress = hostAddress;
  if (Number.isNaN(rule.hostPort) || Number.isNaN(rule.guestPort)) throw new BadInputError(`${usage} (ports are numbers from 1 to 65535)`, { field: 'forward' });
  checkForward(rule);
  return rule;
}

/** Throw BadInputError naming the rule when it cannot work. */
export function checkForward(rule: PortForward): void {
  const name = `port forward ${describeForward(rule)}`;
  if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') throw new BadInputError(`${name}: the protocol must be tcp or udp`, { field: 'forward' });
  for (const [what, p] of [['host port', rule.hostPort], ['guest port', rule.guestPort]] as const) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new BadInputError(`${name}: the ${what} must be from 1 to 65535`, { field: 'forward' });
  }
  if (rule.hostPort < FIRST_UNPRIVILEGED_PORT) {
    throw new BadInputError(`${name}: host port ${rule.hostPort} is privileged (below ${FIRST_UNPRIVILEGED_PORT}); choose a host port from ${FIRST_UNPRIVILEGED_PORT} up`, { field: 'forward' });
  }
  if (rule.hostAddress !== undefined && !isIpv4(rule.hostAddress)) throw new BadInputError(`${name}: the host address must be an IPv4 address such as 127.0.0.1`, { field: 'forward' });
  if (rule.guestAddress !== undefined && !isIpv4(rule.guestAddress)) throw new BadInputError(`${name}: the guest address must be an IPv4 address such as 10.0.2.15`, { field: 'forward' });
}

/** Check every rule and that no two listen on the same host address, port and protocol. */
export function checkForwards(rules: readonly PortForward[]): void {
  const seen = new Map<string, PortForward>();
  for (const rule of rules) {
    checkForward(rule);
    const host = rule.hostAddress ?? DEFAULT_FORWARD_HOST;
    // 0.0.0.0 listens on every address, so it collides with any address on the same port.
    for (const [key, other] of seen) {
      const [proto, addr, port] = key.split('|');
      if (proto === rule.protocol && Number(port) === rule.hostPort && (addr === host || addr === '0.0.0.0' || host === '0.0.0.0')) {
        throw new BadInputError(`port forward ${describeForward(rule)}: host port ${rule.hostPort} is already forwarded by ${describeForward(other)}`, { field: 'forward' });
      }
    }
    seen.set(`${rule.protocol}|${host}|${rule.hostPort}`, rule);
  }
}

/** True when the rule listens on every host address (the UI and CLI warn about it). */
export function exposesToNetwork(rule: PortForward): boolean {
  return (rule.hostAddress ?? DEFAULT_FORWARD_HOST) === '0.0.0.0';
}

/** Check a MAC address: six hex pairs, unicast (the I/G bit of the first octet clear). */
export function checkMac(mac: string): void {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw new BadInputError(`MAC address ${mac}: write six hex pairs such as 52:54:00:12:34:56`, { field: 'mac' });
  if ((parseInt(mac.slice(0, 2), 16) & 1) !== 0) throw new BadInputError(`MAC address ${mac} is a multicast address; a NIC needs a unicast one (first octet even)`, { field: 'mac' });
}

/** The six bytes of a checked MAC address. */
export function macBytes(mac: string): Uint8Array {
  checkMac(mac);
  return Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
}

/** A random MAC in QEMU's 52:54:00 range, for a new VM. */
export function randomMac(random: () => number = Math.random): string {
  const b = [0x52, 0x54, 0x00, 0, 0, 0].map((v, i) => (i < 3 ? v : Math.floor(random() * 256)));
  return b.map((v) => v.toString(16).padStart(2, '0')).join(':');
}
