import { describe, expect, it } from 'vitest';
import { NatBackend, type NatOptions } from './nat.js';
import { TcpEngine } from './tcp/engine.js';
import { finishChecksum, internetChecksum, onesSum, pseudoHeaderSum } from './checksum.js';
import type { NetStatus } from '../machine/types.js';
import { FakeClock } from '../../test/support/net/fake-clock.js';
import {
  DNS,
  FakeNic,
  GATEWAY,
  GATEWAY_MAC,
  GUEST,
  GUEST_MAC,
  RecordingHostNetwork,
  arpRequest,
  dhcpMessage,
  dhcpOptions,
  ethernet,
  icmpEcho,
  ip,
  ipBytes,
  ipv4,
  parseTcp,
  tcp,
  udpFrame,
  type ReceivedFrame,
} from '../../test/support/net/nat-guest.js';

function makeNat(overrides: Partial<NatOptions> = {}): { nat: NatBackend; nic: FakeNic; host: RecordingHostNetwork; clock: FakeClock; statuses: NetStatus[] } {
  const host = new RecordingHostNetwork();
  const clock = new FakeClock();
  const statuses: NetStatus[] = [];
  const nat = new NatBackend({
    mac: '52:54:00:12:34:56',
    blockHostAccess: false,
    dnsServers: [],
    host,
    timers: clock,
    createTcpEngine: (o) => new TcpEngine(o),
    onStatus: (s) => statuses.push(s),
    ...overrides,
  });
  const nic = new FakeNic();
  nat.attach(nic);
  return { nat, nic, host, clock, statuses };
}

const ping = (dst: number, seq: number, data: Uint8Array, ttl = 64): Uint8Array =>
  ethernet(GATEWAY_MAC, GUEST_MAC, 0x0800, ipv4(GUEST, dst, 1, icmpEcho(0x4242, seq, data), { ttl, id: seq }));

describe('NAT: ARP', () => {
  it('answers who-has 10.0.2.2 with the gateway MAC, and stays silent for addresses it does not serve', () => {
    const { nat, nic } = makeNat();
    nat.transmit(arpRequest(GUEST, GATEWAY));
    const [reply] = nic.take();
    expect(reply.type).toBe(0x0806);
    expect(reply.dstMac).toEqual(GUEST_MAC);
    const arp = reply.bytes.subarray(14);
    expect((arp[6] << 8) | arp[7]).toBe(2); // reply
    expect([...arp.subarray(8, 14)]).toEqual(GATEWAY_MAC);
    expect([...arp.subarray(14, 18)]).toEqual(ipBytes(GATEWAY));
    expect([...arp.subarray(18, 24)]).toEqual(GUEST_MAC);
    expect([...arp.subarray(24, 28)]).toEqual(ipBytes(GUEST));

    nat.transmit(arpRequest(GUEST, DNS));
    expect([...nic.take()[0].bytes.subarray(14 + 8, 14 + 14)]).toEqual([0x52, 0x55, 0x0a, 0x00, 0x02, 0x03]);

    nat.transmit(arpRequest(GUEST, ip('10.0.2.77')));
    nat.transmit(arpRequest(GUEST, ip('10.0.2.15')));
    expect(nic.take()).toEqual([]);
  });
});

describe('NAT: DHCP', () => {
  const offerOf = (frames: ReceivedFrame[]): ReceivedFrame => {
    const f = frames.find((x) => x.udp?.srcPort === 67 && x.udp.dstPort === 68);
    if (!f?.udp) throw new Error('no DHCP reply');
    return f;
  };

  it('offers and acknowledges 10.0.2.15 with router, DNS, mask and a one-day lease, and reports the lease', () => {
    const { nat, nic, statuses } = makeNat();
    const zero = 0;
    const bcast = ip('255.255.255.255');
    const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    nat.transmit(udpFrame(zero, 68, bcast, 67, dhcpMessage(1, 0xabcd, [[55, [1, 3, 6, 15]]]), BCAST));
    const offer = offerOf(nic.take());
    const msg = offer.udp!.data;
    expect(msg[0]).toBe(2);
    expect(new DataView(msg.buffer, msg.byteOffset).getUint32(4)).toBe(0xabcd);
    expect([...msg.subarray(16, 20)]).toEqual(ipBytes(GUEST)); // yiaddr
    expect([...msg.subarray(28, 34)]).toEqual(GUEST_MAC);
    expect(msg.length).toBeGreaterThanOrEqual(300);
    const o = dhcpOptions(msg);
    expect(o.get(53)).toEqual([2]);
    expect(o.get(54)).toEqual(ipBytes(GATEWAY));
    expect(o.get(1)).toEqual([255, 255, 255, 0]);
    expect(o.get(3)).toEqual(ipBytes(GATEWAY));
    expect(o.get(6)).toEqual(ipBytes(DNS));
    expect(o.get(51)).toEqual(ipBytes(86400));
    expect(offer.ip!.src).toBe(GATEWAY);
    expect(statuses).toEqual([]); // an offer is not a lease

    nat.transmit(udpFrame(zero, 68, bcast, 67, dhcpMessage(3, 0xabce, [[50, ipBytes(GUEST)], [54, ipBytes(GATEWAY)]]), BCAST));
    const ack = offerOf(nic.take());
    expect(dhcpOptions(ack.udp!.data).get(53)).toEqual([5]);
    expect([...ack.udp!.data.subarray(16, 20)]).toEqual(ipBytes(GUEST));
    expect(nat.status().guestAddress).toBe('10.0.2.15');
    expect(statuses.at(-1)?.guestAddress).toBe('10.0.2.15');

    // Renewing from its address: unicast answer, same address.
    nat.transmit(udpFrame(GUEST, 68, GATEWAY, 67, dhcpMessage(3, 0xabcf, [], GUEST)));
    const renew = offerOf(nic.take());
    expect(renew.ip!.dst).toBe(GUEST);
    expect(dhcpOptions(renew.udp!.data).get(53)).toEqual([5]);

    // Asking for an address outside the pool gets NAK.
    nat.transmit(udpFrame(zero, 68, bcast, 67, dhcpMessage(3, 0xabd0, [[50, ipBytes(ip('192.168.0.9'))]]), BCAST));
    expect(dhcpOptions(offerOf(nic.take()).udp!.data).get(53)).toEqual([6]);

    nat.transmit(udpFrame(GUEST, 68, GATEWAY, 67, dhcpMessage(7, 0xabd1, [[54, ipBytes(GATEWAY)]], GUEST)));
    expect(nat.status().guestAddress).toBeNull();
  });

  it('gives a second MAC the next address', () => {
    const { nat, nic } = makeNat();
    const bcast = ip('255.255.255.255');
    const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    nat.transmit(udpFrame(0, 68, bcast, 67, dhcpMessage(3, 1, [[50, ipBytes(GUEST)]]), BCAST));
    expect(dhcpOptions(offerOf(nic.take()).udp!.data).get(53)).toEqual([5]);
    const other = dhcpMessage(1, 2);
    other.set([0x52, 0x54, 0, 0, 0, 9], 28);
    nat.transmit(udpFrame(0, 68, bcast, 67, other, BCAST));
    expect([...offerOf(nic.take()).udp!.data.subarray(16, 20)]).toEqual(ipBytes(ip('10.0.2.16')));
  });
});

describe('NAT: ICMP and IPv4', () => {
  it('answers ping to 10.0.2.2 and 10.0.2.3 with a correct echo reply', () => {
    const { nat, nic } = makeNat();
    const data = new TextEncoder().encode('abcdefghijklmnopqrstuvwxyz012345678');
    for (const dst of [GATEWAY, DNS]) {
      nat.transmit(ping(dst, 7, data));
      const [reply] = nic.take(); // parseFrame checked the IPv4 and ICMP checksums
      expect(reply.dstMac).toEqual(GUEST_MAC);
      expect(reply.ip).toMatchObject({ src: dst, dst: GUEST, protocol: 1 });
      const icmp = reply.ip!.payload;
      expect(icmp[0]).toBe(0);
      expect([...icmp.subarray(4, 8)]).toEqual([0x42, 0x42, 0, 7]);
      expect(icmp.subarray(8)).toEqual(data);
    }
  });

  it('reassembles a fragmented ping sent out of order, and fragments the reply', () => {
    const { nat, nic } = makeNat();
    const data = new Uint8Array(3000).map((_, i) => (i * 7) & 255);
    const whole = icmpEcho(1, 1, data);
    const cuts = [0, 1480, 2960, whole.length];
    const fragments = cuts.slice(0, -1).map((start, k) =>
      ethernet(
        GATEWAY_MAC,
        GUEST_MAC,
        0x0800,
        ipv4(GUEST, GATEWAY, 1, whole.subarray(start, cuts[k + 1]), { id: 99, fragmentOffset: start, moreFragments: k < cuts.length - 2 }),
      ),
    );
    for (const k of [2, 0, 1]) nat.transmit(fragments[k]);
    const replies = nic.take();
    expect(replies.length).toBeGreaterThan(1);
    const reassembled = new Uint8Array(whole.length);
    let last: ReceivedFrame | undefined;
    for (const f of replies) {
      expect(f.ip!.id).toBe(replies[0].ip!.id);
      expect(f.bytes.length).toBeLessThanOrEqual(1514);
      reassembled.set(f.ip!.payload, f.ip!.fragmentOffset);
      if (!f.ip!.moreFragments) last = f;
    }
    expect(last!.ip!.fragmentOffset + last!.ip!.payload.length).toBe(whole.length);
    expect(reassembled[0]).toBe(0); // echo reply
    expect(internetChecksum(reassembled)).toBe(0);
    expect(reassembled.subarray(8)).toEqual(data);
    expect(nat.counters().datagramsReassembled).toBe(1);
  });

  it('drops incomplete datagrams after the timeout', () => {
    const { nat, nic, clock } = makeNat();
    const part = ipv4(GUEST, GATEWAY, 1, new Uint8Array(800), { id: 5, moreFragments: true });
    nat.transmit(ethernet(GATEWAY_MAC, GUEST_MAC, 0x0800, part));
    clock.advance(40_000);
    nat.transmit(ethernet(GATEWAY_MAC, GUEST_MAC, 0x0800, ipv4(GUEST, GATEWAY, 1, new Uint8Array(8), { id: 5, fragmentOffset: 800 })));
    expect(nic.take()).toEqual([]);
    expect(nat.counters().fragmentsDropped).toBeGreaterThanOrEqual(1);
  });

  it('drops malformed frames without throwing and keeps working', () => {
    const logged: string[] = [];
    const { nat, nic } = makeNat({ log: (line) => logged.push(line) });
    const good = ping(GATEWAY, 1, new Uint8Array(16));
    const badChecksum = good.slice();
    badChecksum[14 + 10] ^= 0xff;
    const badVersion = good.slice();
    badVersion[14] = 0x65;
    const tooLong = good.slice(0, good.length - 4);
    const badIcmp = good.slice();
    badIcmp[good.length - 1] ^= 1;
    const random = (n: number, seed: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 131 + seed * 17) & 255);
    const malformed: Uint8Array[] = [new Uint8Array(0), new Uint8Array(5), good.slice(0, 20), badChecksum, badVersion, tooLong, badIcmp, arpRequest(GUEST, GATEWAY).slice(0, 30)];
    for (let seed = 0; seed < 300; seed++) {
      const frame = random(14 + (seed % 90), seed);
      frame.set(GATEWAY_MAC, 0);
      frame[12] = 0x08;
      frame[13] = seed & 1 ? 0x00 : 0x06;
      malformed.push(frame);
    }
    for (const frame of malformed) expect(() => nat.transmit(frame)).not.toThrow();
    expect(nic.take().filter((f) => f.type === 0x0800)).toEqual([]);
    expect(nat.counters().malformed).toBeGreaterThanOrEqual(7);
    nat.transmit(good);
    expect(nic.take()).toHaveLength(1);
    expect(logged).toEqual([]); // dropped by the parsers, not by the safety net
  });

  it('survives corrupted versions of every kind of frame it serves (header checksums made right so the inner parsers see them)', async () => {
    const logged: string[] = [];
    const { nat } = makeNat({ log: (line) => logged.push(line) });
    const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    const seeds = [
      arpRequest(GUEST, GATEWAY),
      udpFrame(0, 68, ip('255.255.255.255'), 67, dhcpMessage(1, 9, [[50, ipBytes(GUEST)], [55, [1, 3, 6]]]), BCAST),
      udpFrame(GUEST, 68, GATEWAY, 67, dhcpMessage(3, 9, [[54, ipBytes(GATEWAY)]], GUEST)),
      udpFrame(GUEST, 4000, DNS, 53, new Uint8Array([1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1])),
      ping(GATEWAY, 3, new Uint8Array(40)),
      ethernet(GATEWAY_MAC, GUEST_MAC, 0x0800, ipv4(GUEST, GATEWAY, 1, new Uint8Array(64), { moreFragments: true, id: 3 })),
      ethernet(GATEWAY_MAC, GUEST_MAC, 0x0800, ipv4(GUEST, GATEWAY, 6, tcp(GUEST, GATEWAY, { srcPort: 1, dstPort: 2, seq: 5, ack: 0, flags: 2 }))),
    ];
    let state = 12345;
    const rand = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    for (let round = 0; round < 3000; round++) {
      const frame = seeds[round % seeds.length].slice();
      // Mostly past the IPv4 header, so the inner parsers (DHCP, DNS, ICMP, TCP) get the damage.
      const from = round % 4 === 0 ? 14 : Math.min(frame.length - 1, 34);
      for (let k = 1 + rand(4); k > 0; k--) frame[from + rand(frame.length - from)] = rand(256);
      if (round % 4 !== 0 && frame[12] === 0x08 && frame[13] === 0) fixChecksums(frame);
      nat.transmit(frame);
    }
    await new Promise((r) => setTimeout(r, 10));
    const c = nat.counters();
    expect(c.dhcpReplies + c.dns.queries + c.tcp.segmentsIn + c.echoReplies).toBeGreaterThan(100);
    expect(logged).toEqual([]);
  });

  it('answers a packet leaving with TTL 1 with time exceeded from the gateway', () => {
    const { nat, nic, host } = makeNat();
    nat.transmit(ethernet(GATEWAY_MAC, GUEST_MAC, 0x0800, ipv4(GUEST, ip('8.8.8.8'), 1, icmpEcho(1, 1, new Uint8Array(4)), { ttl: 1 })));
    const [err] = nic.take();
    expect(err.ip).toMatchObject({ src: GATEWAY, dst: GUEST, protocol: 1 });
    expect(err.ip!.payload[0]).toBe(11);
    expect(host.calls).toEqual([]);
  });
});

/** Make a corrupted IPv4 frame's IPv4 header checksum right again, and its UDP or TCP checksum. */
function fixChecksums(frame: Uint8Array): void {
  const hl = (frame[14] & 15) * 4;
  if (hl < 20 || 14 + hl > frame.length) return;
  frame[24] = 0;
  frame[25] = 0;
  const sum = internetChecksum(frame, 14, hl);
  frame[24] = sum >> 8;
  frame[25] = sum & 255;
  const total = (frame[16] << 8) | frame[17];
  const at = 14 + hl;
  if (total > frame.length - 14 || total <= hl) return;
  const dv = new DataView(frame.buffer, frame.byteOffset);
  if (frame[23] === 17 && at + 8 <= 14 + total) {
    frame[at + 6] = 0; // "no checksum" is legal for UDP over IPv4
    frame[at + 7] = 0;
  } else if (frame[23] === 6 && at + 20 <= 14 + total) {
    const length = total - hl;
    dv.setUint16(at + 16, 0);
    dv.setUint16(at + 16, finishChecksum(onesSum(frame, at, length, pseudoHeaderSum(dv.getUint32(26), dv.getUint32(30), 6, length))));
  }
}

describe('NAT: the queue toward the guest', () => {
  it('keeps frames the NIC refuses, in order, up to a bounded size, and delivers them on rxSpace', () => {
    const { nat, nic } = makeNat({ rxQueueBytes: 64 * 1024 });
    nic.full = true;
    const data = new Uint8Array(1000);
    for (let seq = 0; seq < 500; seq++) nat.transmit(ping(GATEWAY, seq, data));
    const c = nat.counters().link;
    // Datagrams may use half of the queue: 32 KiB.
    expect(c.queuedBytes).toBeLessThanOrEqual(32 * 1024);
    expect(c.peakQueuedBytes).toBeLessThanOrEqual(32 * 1024);
    expect(c.queueDrops).toBeGreaterThan(400);
    const queued = c.queuedFrames;
    expect(queued).toBeGreaterThan(10);
    nic.full = false;
    nat.rxSpace();
    const frames = nic.take();
    expect(frames).toHaveLength(queued);
    const seqs = frames.map((f) => (f.ip!.payload[6] << 8) | f.ip!.payload[7]);
    expect(seqs).toEqual(seqs.map((_, i) => i)); // the first ones, in order
    expect(nat.counters().link.queuedBytes).toBe(0);
  });
});

describe('NAT: where the guest may go', () => {
  const syn = (dst: number, dstPort: number): Uint8Array =>
    ethernet(GATEWAY_MAC, GUEST_MAC, 0x0800, ipv4(GUEST, dst, 6, tcp(GUEST, dst, { srcPort: 40000, dstPort, seq: 1000, ack: 0, flags: 2 })));

  it('with blockHostAccess, refuses 10.0.2.2 and the host\'s own addresses without touching the host', async () => {
    const { nat, nic, host } = makeNat({ blockHostAccess: true });
    nat.transmit(syn(GATEWAY, 22));
    nat.transmit(syn(ip('192.168.1.5'), 22));
    nat.transmit(syn(ip('127.0.0.1'), 22));
    await new Promise((r) => setTimeout(r, 10));
    const rsts = nic.take().map(parseTcp);
    expect(rsts.filter((s) => s.flags & 4).length).toBeGreaterThanOrEqual(2);
    nat.transmit(udpFrame(GUEST, 5000, GATEWAY, 7, new Uint8Array(3)));
    const [unreachable] = nic.take();
    expect(unreachable.ip!.protocol).toBe(1);
    expect(unreachable.ip!.payload[0]).toBe(3);
    expect(host.calls).toEqual([]);
  });

  it('without it, sends 10.0.2.2 to the host loopback but never 127.0.0.1 or 10.0.2.x directly', async () => {
    const { nat, host } = makeNat();
    nat.transmit(syn(GATEWAY, 8080));
    nat.transmit(syn(ip('127.0.0.1'), 8081));
    nat.transmit(syn(ip('10.0.2.9'), 8082));
    nat.transmit(syn(ip('0.0.0.0'), 8083));
    nat.transmit(syn(ip('93.184.216.34'), 80));
    await new Promise((r) => setTimeout(r, 10));
    expect(host.calls).toEqual(['connect 127.0.0.1:8080', 'connect 93.184.216.34:80']);
  });

  it('sends DNS over TCP to 10.0.2.3:53 to the upstream resolver, even with host access blocked, and nothing else at 10.0.2.3', async () => {
    const { nat, host } = makeNat({ blockHostAccess: true, dnsServers: [{ address: '127.0.0.53', port: 5353, family: 4 }] });
    nat.transmit(syn(DNS, 53));
    nat.transmit(syn(DNS, 80));
    await new Promise((r) => setTimeout(r, 10));
    expect(host.calls).toEqual(['connect 127.0.0.53:5353']);
  });
});
