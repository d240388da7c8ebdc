/**
 * Where the guest's TCP connections go: the destination policy's host address, or for
 * 10.0.2.3:53 (DNS over TCP, after a truncated UDP answer) the first upstream DNS server.
 */
import type { TcpConnector, TcpHostStream } from './tcp/api.js';
import type { HostNetwork } from './host-network.js';
import type { DestinationPolicy } from './destination-policy.js';
import type { DnsServer } from './dns-message.js';
import { DNS_IP } from './addresses.js';

/** Host connections being set up at once; beyond it the guest gets RST (a SYN flood toward a black hole). */
const MAX_CONNECTING = 256;

export class NatTcpConnector implements TcpConnector {
  private connecting = 0;
  private closed = false;
  /** Connections refused by the policy or by the host. */
  refused = 0;

  constructor(
    private readonly host: HostNetwork,
    private readonly policy: DestinationPolicy,
    private readonly dnsUpstream: () => DnsServer | null,
  ) {}

  connect(dstIp: number, dstPort: number, _srcIp: number, _srcPort: number, done: (stream: TcpHostStream | null) => void): void {
    let address: string | null;
    let port = dstPort;
    if (dstIp === DNS_IP && dstPort === 53) {
      const upstream = this.dnsUpstream();
      address = upstream?.address ?? null;
      port = upstream?.port ?? 0;
    } else {
      address = this.policy.hostAddressFor(dstIp);
    }
    if (address === null || port === 0 || this.closed || this.connecting >= MAX_CONNECTING) {
      this.refused++;
      done(null);
      return;
    }
    this.connecting++;
    this.host.connectTcp(address, port).then(
      (stream) => {
        this.connecting--;
        if (this.closed) {
          stream.destroy();
          return;
        }
        done(stream);
      },
      () => {
        this.connecting--;
        this.refused++;
        if (!this.closed) done(null);
      },
    );
  }

  close(): void {
    this.closed = true;
  }
}
