import { describe, expect, it } from 'vitest';
import { UdpFlows } from './udp-flows.js';
import { DestinationPolicy } from './destination-policy.js';
import type { HostListener, HostNetwork, HostUdpSocket } from './host-network.js';
import type { TcpHostStream } from './tcp/api.js';
import { FakeClock } from '../../test/support/net/fake-clock.js';
import { GATEWAY, GUEST, ip } from '../../test/support/net/nat-guest.js';

class FakeSocket implements HostUdpSocket {
  readonly sent: string[] = [];
  closed = false;
  onMessage: (data: Uint8Array, address: string, port: number) => void = () => {};
  constructor(readonly port: number) {}
  send(data: Uint8Array, port: number, address: string): boolean {
    this.sent.push(`${address}:${port} ${new TextDecoder().decode(data)}`);
    return true;
  }
  close(): void {
    this.closed = true;
  }
}

class FakeUdpHost implements HostNetwork {
  readonly sockets: FakeSocket[] = [];
  connectTcp(): Promise<TcpHostStream> {
    return Promise.reject(new Error('no TCP here'));
  }
  listenTcp(): Promise<HostListener> {
    return Promise.reject(new Error('no TCP here'));
  }
  bindUdp(): Promise<HostUdpSocket> {
    const socket = new FakeSocket(30000 + this.sockets.length);
    this.sockets.push(socket);
    return Promise.resolve(socket);
  }
  hostAddresses(): string[] {
    return [];
  }
}

function setup(maxFlows = 256) {
  const clock = new FakeClock();
  const host = new FakeUdpHost();
  const toGuest: string[] = [];
  const flows = new UdpFlows({
    host,
    policy: new DestinationPolicy({ blockHostAccess: false, hostAddresses: () => [], now: () => clock.now() }),
    timers: clock,
    toGuest: (src, srcPort, dst, dstPort, data) => toGuest.push(`${src}:${srcPort}->${dst}:${dstPort} ${new TextDecoder().decode(data)}`),
    idleMs: 60_000,
    maxFlows,
  });
  return { clock, host, toGuest, flows };
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('UDP flows', () => {
  it('sends the guest port\'s datagrams from one host socket, and passes back answers only from peers it sent to', async () => {
    const { host, toGuest, flows } = setup();
    flows.send(GUEST, 5000, ip('93.184.216.34'), 123, text('a'));
    flows.send(GUEST, 5000, GATEWAY, 9999, text('b'));
    await tick();
    expect(host.sockets).toHaveLength(1);
    expect(host.sockets[0].sent).toEqual(['93.184.216.34:123 a', '127.0.0.1:9999 b']);
    host.sockets[0].onMessage(text('from ntp'), '93.184.216.34', 123);
    host.sockets[0].onMessage(text('from loopback'), '127.0.0.1', 9999);
    host.sockets[0].onMessage(text('from a stranger'), '203.0.113.9', 4444);
    expect(toGuest).toEqual([`${ip('93.184.216.34')}:123->${GUEST}:5000 from ntp`, `${GATEWAY}:9999->${GUEST}:5000 from loopback`]);
  });

  it('caps the number of flows, closing the least recently used, and closes idle ones', async () => {
    const { clock, host, flows } = setup(4);
    for (let port = 1; port <= 10; port++) {
      clock.advance(10);
      flows.send(GUEST, port, ip('1.1.1.1'), 53, text('q'));
    }
    await tick();
    expect(flows.size).toBe(4);
    expect(host.sockets.filter((s) => s.closed)).toHaveLength(6);
    clock.advance(59_000);
    expect(flows.size).toBe(4); // not idle for a minute yet
    // Flows are swept every quarter of the idle time: gone by 1.25 minutes.
    clock.advance(16_000);
    expect(flows.size).toBe(0);
    expect(host.sockets.every((s) => s.closed)).toBe(true);
  });

  it('refuses destinations the policy forbids without opening a socket', async () => {
    const { host, flows } = setup();
    expect(flows.send(GUEST, 5000, ip('127.0.0.1'), 53, text('x'))).toBe(false);
    expect(flows.send(GUEST, 5000, ip('10.0.2.9'), 53, text('x'))).toBe(false);
    expect(flows.send(GUEST, 5000, ip('224.0.0.251'), 5353, text('x'))).toBe(false);
    await tick();
    expect(host.sockets).toHaveLength(0);
  });
});
