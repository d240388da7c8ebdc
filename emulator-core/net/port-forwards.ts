/**
 * Port forwarding (QEMU's hostfwd): host listeners whose connections and datagrams go to a
 * guest port. Rules are checked up front with forward-rules.ts (so privileged host ports,
 * below 1024, are refused everywhere alike, even for root: a VM should not need them).
 * setForwards() applies a new set live and, when a host port cannot be bound, leaves the
 * previous set working and throws a BadInputError that names the rule
 * ("port forward tcp 127.0.0.1:2222 -> 22: host port 2222 is in use").
 */
import { BadInputError } from '../errors.js';
import type { PortForward } from '../machine/types.js';
import type { TcpHostStream } from './tcp/api.js';
import { HostSocketError, type HostListener, type HostNetwork, type HostUdpSocket } from './host-network.js';
import { GATEWAY_IP, isGuestSideAddress, parseIpv4 } from './addresses.js';
import { DEFAULT_FORWARD_HOST, checkForwards, describeForward } from './forward-rules.js';

/** Check rules (forward-rules.ts, shared with the CLI and app) and that a given guest address is a guest's. */
export function validateForwards(rules: readonly PortForward[]): PortForward[] {
  checkForwards(rules);
  return rules.map((rule) => {
    if (rule.guestAddress !== undefined) {
      const guestIp = parseIpv4(rule.guestAddress);
      if (guestIp === null || !isGuestSideAddress(guestIp)) {
        throw new BadInputError(`port forward ${describeForward(rule)}: the guest address must be a guest's address in 10.0.2.0/24, such as 10.0.2.15`, { field: 'forward' });
      }
    }
    const clean: PortForward = { protocol: rule.protocol, hostAddress: rule.hostAddress ?? DEFAULT_FORWARD_HOST, hostPort: rule.hostPort, guestPort: rule.guestPort };
    if (rule.guestAddress !== undefined) clean.guestAddress = rule.guestAddress;
    return clean;
  });
}

export interface PortForwarderOptions {
  host: HostNetwork;
  /** The guest address a rule without one goes to (the DHCP lease). */
  defaultGuestIp: () => number;
  /** A host connection accepted for `rule`: splice it into the guest. */
  openToGuest(stream: TcpHostStream, guestIp: number, guestPort: number): void;
  /** A datagram for the guest from 10.0.2.2:srcPort. */
  udpToGuest(srcPort: number, guestIp: number, guestPort: number, data: Uint8Array): void;
}

interface ActiveForward {
  rule: PortForward;
  listener: HostListener | null;
  udp: HostUdpSocket | null;
  /** Where the guest's answers go: the host address that sent the last datagram. */
  lastSender: { address: string; port: number } | null;
}

function bindingKey(rule: PortForward): string {
  return `${rule.protocol}/${rule.hostAddress}/${rule.hostPort}`;
}

function sameTarget(a: PortForward, b: PortForward): boolean {
  return a.guestPort === b.guestPort && a.guestAddress === b.guestAddress;
}

export class PortForwarder {
  private readonly active = new Map<string, ActiveForward>();
  /** setForwards calls run one after another. */
  private applying: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: PortForwarderOptions) {}

  /** The rules listening now, host address filled in. */
  list(): PortForward[] {
    return [...this.active.values()].map((a) => ({ ...a.rule }));
  }

  /**
   * Replace the active rules with `rules`. On failure the previous rules stay in force and the
   * error (BadInputError naming the rule) is thrown.
   */
  setForwards(rules: readonly PortForward[]): Promise<void> {
    const run = this.applying.then(() => this.apply(rules));
    this.applying = run.catch(() => {});
    return run;
  }

  /**
   * A datagram the guest sent to 10.0.2.2: if it answers a UDP forward (from the rule's guest
   * address and port to its host port), relay it to the last host sender and return true.
   */
  udpFromGuest(guestIp: number, guestPort: number, dstIp: number, dstPort: number, data: Uint8Array): boolean {
    if (dstIp !== GATEWAY_IP) return false;
    for (const forward of this.active.values()) {
      const rule = forward.rule;
      if (rule.protocol !== 'udp' || rule.hostPort !== dstPort || rule.guestPort !== guestPort || this.guestIpOf(rule) !== guestIp) continue;
      if (forward.udp && forward.lastSender) forward.udp.send(data, forward.lastSender.port, forward.lastSender.address);
      return true;
    }
    return false;
  }

  close(): void {
    this.closed = true;
    for (const forward of this.active.values()) this.release(forward);
    this.active.clear();
  }

  private guestIpOf(rule: PortForward): number {
    return rule.guestAddress ? (parseIpv4(rule.guestAddress) ?? this.options.defaultGuestIp()) : this.options.defaultGuestIp();
  }

  private async apply(rules: readonly PortForward[]): Promise<void> {
    if (this.closed) throw new BadInputError('the network is closed');
    const wanted = new Map(validateForwards(rules).map((r) => [bindingKey(r), r]));
    const added = [...wanted].filter(([key]) => !this.active.has(key)).map(([, rule]) => rule);
    const removed = [...this.active].filter(([key]) => !wanted.has(key));
    // A removed rule on a port a new rule wants must let go first (127.0.0.1:P -> 0.0.0.0:P).
    const clashing = removed.filter(([, f]) => added.some((r) => r.protocol === f.rule.protocol && r.hostPort === f.rule.hostPort));
    for (const [, forward] of clashing) this.release(forward);
    const opened: ActiveForward[] = [];
    try {
      for (const rule of added) opened.push(await this.open(rule));
    } catch (error) {
      for (const forward of opened) this.release(forward);
      for (const [key, forward] of clashing) {
        try {
          this.active.set(key, await this.open(forward.rule));
        } catch {
          this.active.delete(key); // lost: the port went to someone else meanwhile
        }
      }
      throw error;
    }
    for (const [key, forward] of removed) {
      this.release(forward);
      this.active.delete(key);
    }
    for (const forward of opened) this.active.set(bindingKey(forward.rule), forward);
    // Rules that keep their host socket but point elsewhere in the guest change in place.
    for (const [key, rule] of wanted) {
      const forward = this.active.get(key);
      if (forward && !sameTarget(forward.rule, rule)) forward.rule = rule;
    }
    if (this.closed) this.close();
  }

  private async open(rule: PortForward): Promise<ActiveForward> {
    const forward: ActiveForward = { rule, listener: null, udp: null, lastSender: null };
    const address = rule.hostAddress ?? DEFAULT_FORWARD_HOST;
    try {
      if (rule.protocol === 'tcp') {
        forward.listener = await this.options.host.listenTcp(address, rule.hostPort, (stream) => {
          this.options.openToGuest(stream, this.guestIpOf(forward.rule), forward.rule.guestPort);
        });
      } else {
        const socket = await this.options.host.bindUdp(4, address, rule.hostPort);
        socket.onMessage = (data, from, port) => {
          forward.lastSender = { address: from, port };
          this.options.udpToGuest(forward.rule.hostPort, this.guestIpOf(forward.rule), forward.rule.guestPort, data);
        };
        forward.udp = socket;
      }
    } catch (error) {
      throw forwardError(rule, error);
    }
    return forward;
  }

  private release(forward: ActiveForward): void {
    forward.listener?.close();
    forward.udp?.close();
    forward.listener = null;
    forward.udp = null;
  }
}

function forwardError(rule: PortForward, error: unknown): BadInputError {
  const what = `port forward ${describeForward(rule)}`;
  const kind = error instanceof HostSocketError ? error.kind : 'other';
  const reason =
    kind === 'in-use'
      ? `host port ${rule.hostPort} is in use`
      : kind === 'permission'
        ? `not allowed to listen on host port ${rule.hostPort}`
        : kind === 'address-unavailable'
          ? `${rule.hostAddress} is not an address of this computer`
          : `cannot listen: ${(error as Error).message}`;
  return new BadInputError(`${what}: ${reason}`, { field: 'forward' });
}
