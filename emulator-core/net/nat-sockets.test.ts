/** The NAT on real loopback sockets: UDP, the DNS forwarder, and TCP through 10.0.2.2. */
import { afterEach, describe, expect, it } from 'vitest';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { createHash } from 'node:crypto';
import { createNat } from './create-nat.js';
import { NatBackend } from './nat.js';
import { NodeHostNetwork } from './node-host-network.js';
import { TcpEngine } from './tcp/engine.js';
import { DNS, FakeNic, GATEWAY, GUEST, MiniTcp, until, udpFrame, type ReceivedFrame } from '../../test/support/net/nat-guest.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function udpServer(onMessage: (socket: dgram.Socket, msg: Buffer, from: dgram.RemoteInfo) => void): Promise<{ port: number; socket: dgram.Socket }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, from) => onMessage(socket, msg, from));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanups.push(() => socket.close());
  return { port: socket.address().port, socket };
}

function attach(nat: NatBackend): FakeNic {
  const nic = new FakeNic();
  nat.attach(nic);
  cleanups.push(() => nat.close());
  return nic;
}

/** A DNS query for `name`, type A, with the given id. */
function dnsQuery(id: number, name: string): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  return new Uint8Array([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}

const fromDns = (port: number) => (f: ReceivedFrame) => f.udp?.srcPort === 53 && f.ip?.src === DNS && f.udp.dstPort === port;

describe('NAT on host sockets: UDP', () => {
  it('relays a datagram to a host UDP echo server through 10.0.2.2 and the answer back, and expires the idle flow', async () => {
    const echo = await udpServer((s, msg, from) => s.send(msg, from.port, from.address));
    const nat = new NatBackend({
      mac: '52:54:00:12:34:56',
      blockHostAccess: false,
      dnsServers: [],
      host: new NodeHostNetwork(),
      createTcpEngine: (o) => new TcpEngine(o),
      udpIdleMs: 200,
    });
    const nic = attach(nat);
    const payload = new TextEncoder().encode('hello through the NAT');
    nat.transmit(udpFrame(GUEST, 5555, GATEWAY, echo.port, payload));
    const reply = await nic.waitFor((f) => f.udp?.dstPort === 5555);
    expect(reply.ip).toMatchObject({ src: GATEWAY, dst: GUEST });
    expect(reply.udp!.srcPort).toBe(echo.port);
    expect(new TextDecoder().decode(reply.udp!.data)).toBe('hello through the NAT');
    expect(nat.counters().udp.flows).toBe(1);
    await until(() => nat.counters().udp.flows === 0, 2000, 'the flow to expire');
  });
});

describe('NAT on host sockets: DNS forwarder', () => {
  it('relays a query to the upstream server and its answer back with the guest\'s id', async () => {
    const answers: Buffer[] = [];
    const stub = await udpServer((s, query, from) => {
      const answer = Buffer.concat([query, Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4])]);
      answer.writeUInt16BE(0x8180, 2);
      answer.writeUInt16BE(1, 6);
      answers.push(answer);
      s.send(answer, from.port, from.address);
    });
    const nat = await createNat({ mode: 'nat', dnsServers: [`127.0.0.1:${stub.port}`] });
    const nic = attach(nat);
    // As a Buffer: frames from a socket-backed link are Buffers, whose slice() does not copy.
    nat.transmit(Buffer.from(udpFrame(GUEST, 40000, DNS, 53, dnsQuery(0x1234, 'example.test'))));
    const reply = await nic.waitFor(fromDns(40000));
    expect(answers).toHaveLength(1);
    const data = reply.udp!.data;
    expect((data[0] << 8) | data[1]).toBe(0x1234);
    expect(Buffer.from(data.subarray(2))).toEqual(answers[0].subarray(2));
    expect([...data.subarray(data.length - 4)]).toEqual([1, 2, 3, 4]);
  });

  it('answers SERVFAIL when no upstream server answers, after trying each', async () => {
    const heard: number[] = [];
    const silent1 = await udpServer(() => heard.push(1));
    const silent2 = await udpServer(() => heard.push(2));
    const nat = await createNat({ mode: 'nat', dnsServers: [`127.0.0.1:${silent1.port}`, `127.0.0.1:${silent2.port}`] }, { dnsAttemptTimeoutMs: 100 });
    const nic = attach(nat);
    const query = dnsQuery(0xbeef, 'nowhere.test');
    nat.transmit(udpFrame(GUEST, 40001, DNS, 53, query));
    const reply = await nic.waitFor(fromDns(40001));
    const data = reply.udp!.data;
    expect((data[0] << 8) | data[1]).toBe(0xbeef);
    expect(data[2] & 0x80).toBe(0x80); // a response
    expect(data[3] & 0x0f).toBe(2); // SERVFAIL
    expect(data.subarray(12)).toEqual(query.subarray(12)); // the question, echoed
    expect(heard).toEqual([1, 2]);
  });

  it('answers SERVFAIL at once when it has no upstream servers', async () => {
    const nat = await createNat({ mode: 'nat', dnsServers: [] });
    const nic = attach(nat);
    nat.transmit(udpFrame(GUEST, 40002, DNS, 53, dnsQuery(7, 'a.test')));
    expect(nic.take().find(fromDns(40002))?.udp!.data[3]).toBe(0x82);
  });
});

describe('NAT on host sockets: TCP through 10.0.2.2', () => {
  it('connects the guest to a host server on the loopback, both directions, and closes cleanly', async () => {
    const download = new Uint8Array(1 << 20).map((_, i) => (i * 2654435761) >>> 24);
    let uploaded = '';
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('data', (d) => (uploaded += d.toString()));
      socket.on('end', () => socket.end(download));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => server.close());
    const port = (server.address() as net.AddressInfo).port;
    const nat = await createNat({ mode: 'nat', dnsServers: [] });
    const nic = attach(nat);
    const guest = new MiniTcp((f) => nat.transmit(f), nic, 40100, GATEWAY, port);
    guest.connect();
    await until(() => guest.established, 3000, 'the handshake');
    guest.write(new TextEncoder().encode('GET /please'));
    guest.close();
    await until(() => guest.finReceived, 10_000, 'the download');
    expect(uploaded).toBe('GET /please');
    const got = Buffer.concat(guest.received);
    expect(got.length).toBe(download.length);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(download).digest('hex'));
    expect(nat.counters().tcp.bytesToGuest).toBe(download.length);
  });

  it('answers a connection to a closed host port with RST', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const nat = await createNat({ mode: 'nat', dnsServers: [] });
    const nic = attach(nat);
    const guest = new MiniTcp((f) => nat.transmit(f), nic, 40101, GATEWAY, port);
    guest.connect();
    await until(() => guest.reset, 3000, 'the RST');
    expect(guest.established).toBe(false);
  });
});
