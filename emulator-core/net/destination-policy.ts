/**
 * Where the guest's outgoing connections and datagrams go on the host:
 *   10.0.2.2          -> the host's loopback, 127.0.0.1 (refused when host access is blocked)
 *   10.0.2.0/24 else  -> refused (10.0.2.3 is the NAT's DNS, reached through its own paths)
 *   0/8, 127/8, multicast, 240/4 and broadcast -> always refused: nothing may reach the host's
 *                        loopback or "this host" except through the rule for 10.0.2.2
 *   the host's own addresses -> refused when host access is blocked
 *   anything else     -> itself
 */
import { GATEWAY_IP, formatIpv4, isInNatNetwork, isNeverRoutable, parseIpv4 } from './addresses.js';

export interface DestinationPolicyOptions {
  blockHostAccess: boolean;
  /** The host's own IPv4 addresses (re-read at most every few seconds). */
  hostAddresses: () => string[];
  now: () => number;
}

const HOST_ADDRESS_REFRESH_MS = 5_000;

export class DestinationPolicy {
  private hostAddresses = new Set<number>();
  private hostAddressesRead = -Infinity;

  constructor(private readonly options: DestinationPolicyOptions) {}

  get blockHostAccess(): boolean {
    return this.options.blockHostAccess;
  }

  /** The host address to use for guest destination `ip`, or null when the NAT refuses it. */
  hostAddressFor(ip: number): string | null {
    if (ip === GATEWAY_IP) return this.options.blockHostAccess ? null : '127.0.0.1';
    if (isInNatNetwork(ip) || isNeverRoutable(ip)) return null;
    if (this.options.blockHostAccess && this.isHostAddress(ip)) return null;
    return formatIpv4(ip);
  }

  private isHostAddress(ip: number): boolean {
    const now = this.options.now();
    // Interfaces come and go (VPNs, Wi-Fi): refresh the set now and then.
    if (now - this.hostAddressesRead >= HOST_ADDRESS_REFRESH_MS) {
      this.hostAddressesRead = now;
      const set = new Set<number>();
      for (const text of this.options.hostAddresses()) {
        const parsed = parseIpv4(text);
        if (parsed !== null) set.add(parsed);
      }
      this.hostAddresses = set;
    }
    return this.hostAddresses.has(ip);
  }
}
