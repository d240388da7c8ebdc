/**
 * A real Linux guest on the network through Terrarium's e1000 and NAT, under the software CPU:
 * it gets its address by DHCP, downloads from a server on the host's loopback (10.0.2.2),
 * resolves a name through 10.0.2.3 against a DNS server the test runs, and serves a file
 * that a host client fetches through a forwarded port.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dnsPacket from 'dns-packet';
import { Machine } from '../../emulator-core/machine/machine.js';
import type { NetStatus } from '../../emulator-core/machine/types.js';
import { fixturePath, missingFixtures } from '../fixtures/fixtures.js';
import { SerialShell } from '../support/net/guest-session.js';
import { freeTcpPort, httpSha256 } from '../support/net/loopback.js';
import { bootNetGuest, NET_GUEST } from '../support/net/net-guest.js';
import { patternBytes, servePattern, sha256Hex, type PatternServer } from '../support/net/host-peers.js';

const missing = missingFixtures(NET_GUEST.kernel, NET_GUEST.initrd);
const DOWNLOAD_BYTES = 64 << 20;

/** A DNS server on the loopback that answers A queries for one name. */
async function stubDns(name: string, address: string): Promise<{ socket: Socket; port: number; queries: string[] }> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    if (question === undefined) return;
    queries.push(`${question.type} ${question.name}`);
    // The name exists (NOERROR) with one A record; other names do not (rcode 3, NXDOMAIN).
    const known = question.name === name;
    const answer = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
      questions: q.questions,
      answers: known && question.type === 'A' ? [{ type: 'A', name, ttl: 60, data: address }] : [],
    });
    socket.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, queries };
}

describe.skipIf(missing.length > 0)('a Linux guest on the NAT (e1000, software CPU)', () => {
  let machine: Machine;
  let shell: SerialShell;
  let run: Promise<unknown>;
  let server: PatternServer;
  let dns: Awaited<ReturnType<typeof stubDns>>;
  let forwardPort = 0;
  const statuses: NetStatus[] = [];

  beforeAll(async () => {
    server = await servePattern(DOWNLOAD_BYTES, '/64M');
    dns = await stubDns('files.terrarium.test', '192.0.2.77');
    forwardPort = await freeTcpPort();
    machine = await Machine.create(
      {
        memoryMiB: NET_GUEST.memoryMiB,
        accel: 'interpreter',
        kernel: fixturePath(NET_GUEST.kernel),
        initrd: fixturePath(NET_GUEST.initrd),
        cmdline: NET_GUEST.append,
        net: {
          mode: 'nat',
          dnsServers: [`127.0.0.1:${dns.port}`],
          forwards: [{ protocol: 'tcp', hostPort: forwardPort, guestPort: NET_GUEST.httpPort }],
        },
      },
      {
        serialOutput: (bytes) => shell.feed(bytes),
        networkChanged: (s) => statuses.push(s),
      },
    );
    shell = new SerialShell((text) => machine.sendSerial(Buffer.from(text, 'latin1')));
    run = machine.run();
  }, 60_000);

  afterAll(async () => {
    machine?.powerOff();
    await run;
    await server?.close();
    dns?.socket.close();
  });

  it('gets 10.0.2.15 by DHCP, with 10.0.2.2 as router and 10.0.2.3 as DNS', async () => {
    const lease = await bootNetGuest(shell, 600_000);
    expect(lease).toEqual({ ip: '10.0.2.15', gateway: '10.0.2.2', dns: ['10.0.2.3'] });
    expect(statuses.at(-1)?.guestAddress).toBe('10.0.2.15');
    expect(machine.netStatus()?.forwards).toEqual([{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: forwardPort, guestPort: NET_GUEST.httpPort }]);
  }, 660_000);

  it('downloads 64 MiB from the host through 10.0.2.2 with the right SHA-256', async () => {
    const out = await shell.run(`wget -q -O - ${server.url()} | sha256sum`, 900_000);
    expect(out.split(/\s+/)[0]).toBe(server.sha256);
  }, 960_000);

  it('resolves a name through 10.0.2.3 against the host-side DNS server', async () => {
    const out = await shell.run('nslookup files.terrarium.test 10.0.2.3', 60_000);
    expect(out).toMatch(/192\.0\.2\.77/);
    expect(dns.queries).toContain('A files.terrarium.test');
  }, 120_000);

  it('serves its 16 MiB file to a host client through the forwarded port', async () => {
    const got = await httpSha256(`http://127.0.0.1:${forwardPort}${NET_GUEST.servedPath}`, 600_000);
    expect(got.bytes).toBe(NET_GUEST.servedBytes);
    expect(got.sha256).toBe(sha256Hex(patternBytes(NET_GUEST.servedBytes)));
  }, 660_000);
});

if (missing.length > 0) {
  it.skip(`network guest tests need fixtures: ${missing.join(', ')}`, () => {});
}
