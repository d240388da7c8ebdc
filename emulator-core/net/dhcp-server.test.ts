import { describe, expect, it } from 'vitest';
import { DhcpServer } from './dhcp-server.js';
import { dhcpMessage, dhcpOptions, ip, ipBytes } from '../../test/support/net/nat-guest.js';

const withMac = (message: Uint8Array, last: number): Uint8Array => {
  message.set([0x52, 0x54, 0, 0, 1, last], 28);
  return message;
};
const yiaddr = (m: Uint8Array): number => new DataView(m.buffer, m.byteOffset).getUint32(16);

describe('DHCP server', () => {
  it('never offers an address a client declined', () => {
    const dhcp = new DhcpServer(() => 0);
    const offer = dhcp.handle(withMac(dhcpMessage(1, 1), 1))!;
    expect(yiaddr(offer.message)).toBe(ip('10.0.2.15'));
    dhcp.handle(withMac(dhcpMessage(4, 2, [[50, ipBytes(ip('10.0.2.15'))], [54, ipBytes(ip('10.0.2.2'))]]), 1));
    expect(yiaddr(dhcp.handle(withMac(dhcpMessage(1, 3), 1))!.message)).toBe(ip('10.0.2.16'));
  });

  it('answers INFORM with configuration but no lease, to the client\'s address', () => {
    const dhcp = new DhcpServer(() => 0);
    const reply = dhcp.handle(withMac(dhcpMessage(8, 1, [], ip('10.0.2.15')), 1))!;
    const o = dhcpOptions(reply.message);
    expect(o.get(53)).toEqual([5]);
    expect(o.get(51)).toBeUndefined();
    expect(o.get(6)).toEqual(ipBytes(ip('10.0.2.3')));
    expect(yiaddr(reply.message)).toBe(0);
    expect(reply.dstIp).toBe(ip('10.0.2.15'));
  });

  it('forgets its offer when the client chose another server, and stays silent when the pool is empty', () => {
    let bound = 0;
    const dhcp = new DhcpServer(() => 0, { bound: () => bound++ });
    dhcp.handle(withMac(dhcpMessage(1, 1), 1));
    expect(dhcp.handle(withMac(dhcpMessage(3, 2, [[50, ipBytes(ip('192.168.0.50'))], [54, ipBytes(ip('192.168.0.1'))]]), 1))).toBeNull();
    // The address offered to MAC 1 is free again for MAC 2.
    expect(yiaddr(dhcp.handle(withMac(dhcpMessage(1, 3), 2))!.message)).toBe(ip('10.0.2.15'));
    for (let mac = 3; mac <= 17; mac++) expect(dhcp.handle(withMac(dhcpMessage(1, mac), mac))).not.toBeNull();
    expect(dhcp.handle(withMac(dhcpMessage(1, 99), 99))).toBeNull(); // 16 addresses, all offered
    expect(bound).toBe(0);
  });

  it('holds no more clients than the pool, however many MACs a guest invents over time', () => {
    let now = 0;
    const dhcp = new DhcpServer(() => now);
    for (let round = 0; round < 2000; round++) {
      now += 1000;
      const m = withMac(dhcpMessage(1, round), round & 0xff);
      m[32] = round >> 8;
      dhcp.handle(m);
    }
    expect(dhcp.clients).toBeLessThanOrEqual(16);
  });
});
