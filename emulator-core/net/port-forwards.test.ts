/** Port forwards on real loopback sockets: binding errors, live changes, TCP and UDP into the guest. */
import { afterEach, describe, expect, it } from 'vitest';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { freeTcpPort } from '../../test/support/net/loopback.js';
import { createNat } from './create-nat.js';
import type { NatBackend } from './nat.js';
import { validateForwards } from './port-forwards.js';
import { BadInputError } from '../errors.js';
import type { NetStatus, PortForward } from '../machine/types.js';
import { FakeNic, GATEWAY, GUEST, MiniTcp, until, udpFrame } from '../../test/support/net/nat-guest.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function listen(port = 0): Promise<net.Server> {
  const server = net.createServer((s) => s.end());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  cleanups.push(() => server.close());
  return server;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function nat(forwards: PortForward[] = [], statuses: NetStatus[] = []): Promise<{ nat: NatBackend; nic: FakeNic }> {
  const backend = await createNat({ mode: 'nat', dnsServers: [], forwards }, { onStatus: (s) => statuses.push(s) });
  cleanups.push(() => backend.close());
  const nic = new FakeNic();
  backend.attach(nic);
  return { nat: backend, nic };
}

describe('port forwards', () => {
  it('refuses a host port already in use with an error naming the rule, and opens nothing', async () => {
    const busy = await listen();
    const port = (busy.address() as net.AddressInfo).port;
    const other = await freeTcpPort();
    const rules: PortForward[] = [
      { protocol: 'tcp', hostPort: other, guestPort: 80 },
      { protocol: 'tcp', hostPort: port, guestPort: 22 },
    ];
    const attempt = createNat({ mode: 'nat', dnsServers: [], forwards: rules });
    await expect(attempt).rejects.toThrow(BadInputError);
    await expect(attempt).rejects.toThrow(`port forward tcp 127.0.0.1:${port} -> 22: host port ${port} is in use`);
    expect(await accepts(other)).toBe(false); // the rule that did bind was let go
  });

  it('applies a new set live, and keeps the old set when the new one cannot be bound', async () => {
    const [p1, p2] = [await freeTcpPort(), await freeTcpPort()];
    const statuses: NetStatus[] = [];
    const { nat: backend } = await nat([{ protocol: 'tcp', hostPort: p1, guestPort: 22 }], statuses);
    expect(await accepts(p1)).toBe(true);
    expect(backend.status().forwards).toEqual([{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: p1, guestPort: 22 }]);

    await backend.setForwards([{ protocol: 'tcp', hostPort: p2, guestPort: 80 }]);
    expect(await accepts(p1)).toBe(false);
    expect(await accepts(p2)).toBe(true);
    expect(statuses.at(-1)?.forwards.map((f) => f.hostPort)).toEqual([p2]);

    const busy = await listen();
    const busyPort = (busy.address() as net.AddressInfo).port;
    await expect(
      backend.setForwards([
        { protocol: 'tcp', hostPort: p2, guestPort: 80 },
        { protocol: 'udp', hostPort: p1, guestPort: 53 },
        { protocol: 'tcp', hostPort: busyPort, guestPort: 443 },
      ]),
    ).rejects.toThrow(`host port ${busyPort} is in use`);
    expect(backend.status().forwards.map((f) => f.hostPort)).toEqual([p2]);
    expect(await accepts(p2)).toBe(true);

    // Same host port, different guest port: changed in place, the listener stays.
    await backend.setForwards([{ protocol: 'tcp', hostPort: p2, guestPort: 8080 }]);
    expect(backend.status().forwards).toEqual([{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: p2, guestPort: 8080 }]);
    expect(await accepts(p2)).toBe(true);
  });

  it('splices a host connection into the guest port from 10.0.2.2, both directions', async () => {
    const port = await freeTcpPort();
    const { nat: backend, nic } = await nat([{ protocol: 'tcp', hostPort: port, guestPort: 22 }]);
    const guest = new MiniTcp((f) => backend.transmit(f), nic, 22, GATEWAY);
    const client = net.connect(port, '127.0.0.1');
    cleanups.push(() => client.destroy());
    let fromGuest = '';
    client.on('data', (d) => (fromGuest += d.toString()));
    client.write('ping');
    await until(() => guest.receivedBytes === 4, 5000, 'the guest to receive');
    expect(Buffer.concat(guest.received).toString()).toBe('ping');
    guest.write(new TextEncoder().encode('pong'));
    await until(() => fromGuest === 'pong', 5000, 'the host client to receive');
  });

  it('relays UDP from a host sender to the guest and the guest\'s answer back to that sender', async () => {
    const port = await freeTcpPort();
    const { nat: backend, nic } = await nat([{ protocol: 'udp', hostPort: port, guestPort: 5353 }]);
    const client = dgram.createSocket('udp4');
    cleanups.push(() => client.close());
    const answers: string[] = [];
    client.on('message', (m) => answers.push(m.toString()));
    client.send('question', port, '127.0.0.1');
    const frame = await nic.waitFor((f) => f.udp?.dstPort === 5353);
    expect(frame.ip).toMatchObject({ src: GATEWAY, dst: GUEST });
    expect(frame.udp!.srcPort).toBe(port);
    expect(new TextDecoder().decode(frame.udp!.data)).toBe('question');
    backend.transmit(udpFrame(GUEST, 5353, GATEWAY, port, new TextEncoder().encode('answer')));
    await until(() => answers.length === 1, 3000, 'the answer');
    expect(answers).toEqual(['answer']);
  });

  it('rejects bad rules before binding anything', () => {
    const check = (rules: PortForward[]): string => {
      try {
        validateForwards(rules);
        return 'accepted';
      } catch (error) {
        expect(error).toBeInstanceOf(BadInputError);
        return (error as Error).message;
      }
    };
    expect(check([{ protocol: 'tcp', hostPort: 80, guestPort: 80 }])).toMatch(/privileged/);
    expect(check([{ protocol: 'tcp', hostPort: 70000, guestPort: 80 }])).toMatch(/1 to 65535/);
    expect(
      check([
        { protocol: 'tcp', hostPort: 2222, guestPort: 22 },
        { protocol: 'tcp', hostAddress: '0.0.0.0', hostPort: 2222, guestPort: 23 },
      ]),
    ).toMatch(/already forwarded/);
    expect(check([{ protocol: 'tcp', hostPort: 2222, guestPort: 22, guestAddress: '192.168.1.4' }])).toMatch(/10\.0\.2\.0\/24/);
    expect(
      check([
        { protocol: 'tcp', hostPort: 2222, guestPort: 22 },
        { protocol: 'udp', hostPort: 2222, guestPort: 22 },
      ]),
    ).toBe('accepted');
  });
});
