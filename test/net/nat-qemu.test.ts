/**
 * The NAT against a real Linux guest whose NIC and CPU are QEMU's, not ours: QEMU's e1000
 * carries frames over `-netdev socket,udp=` to a UDP socket this test feeds into the NAT. A
 * failure here is the NAT's (or the host side's), never our e1000's or our CPU's, which is what
 * makes it worth having beside the guest test on Terrarium's own machine.
 */
import { createSocket, type Socket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNat } from '../../emulator-core/net/create-nat.js';
import type { NatBackend } from '../../emulator-core/net/nat.js';
import type { NetStatus } from '../../emulator-core/machine/types.js';
import { fixturePath, missingFixtures } from '../fixtures/fixtures.js';
import { spawnSerialGuest, type SerialGuest } from '../support/net/guest-session.js';
import { bootNetGuest, NET_GUEST, type NetGuestLease } from '../support/net/net-guest.js';
import { freeTcpPort, httpSha256 } from '../support/net/loopback.js';
import { servePattern, uploadSink, type PatternServer, type UploadSink } from '../support/net/host-peers.js';

const QEMU = 'qemu-system-i386';
const DOWNLOAD_BYTES = 16 << 20;

function qemuMissing(): boolean {
  try {
    execFileSync(QEMU, ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
}

const missing = [...missingFixtures(NET_GUEST.kernel, NET_GUEST.initrd), ...(qemuMissing() ? [QEMU] : [])];

async function bound(socket: Socket): Promise<number> {
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket.address().port;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  const port = await bound(s);
  s.close();
  return port;
}

/** A DNS server that answers every A query with 10.9.8.7 and other types with no records. */
async function stubDns(): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('message', (query, from) => {
    const isA = query.readUInt16BE(query.length - 4) === 1;
    const answer = isA ? Buffer.concat([query, Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 9, 8, 7])]) : Buffer.from(query);
    answer.writeUInt16BE(0x8180, 2);
    answer.writeUInt16BE(isA ? 1 : 0, 6);
    socket.send(answer, from.port, from.address);
  });
  await bound(socket);
  return socket;
}

describe.skipIf(missing.length > 0)('the NAT with a Linux guest on QEMU\'s e1000', () => {
  let nat: NatBackend;
  let wire: Socket;
  let dns: Socket;
  let guest: SerialGuest;
  let pattern: PatternServer;
  let sink: UploadSink;
  let lease: NetGuestLease;
  let forwardPort: number;
  const statuses: NetStatus[] = [];

  beforeAll(async () => {
    dns = await stubDns();
    pattern = await servePattern(DOWNLOAD_BYTES, '/big');
    sink = await uploadSink();
    forwardPort = await freeTcpPort();
    nat = await createNat(
      { mode: 'nat', dnsServers: [`127.0.0.1:${dns.address().port}`], forwards: [{ protocol: 'tcp', hostPort: forwardPort, guestPort: NET_GUEST.httpPort }] },
      { onStatus: (s) => statuses.push(s) },
    );
    wire = createSocket('udp4');
    const wirePort = await bound(wire);
    const qemuPort = await freeUdpPort();
    wire.on('message', (frame) => nat.transmit(frame));
    nat.attach({
      deliver: (frame) => {
        wire.send(Buffer.from(frame), qemuPort, '127.0.0.1');
        return true;
      },
    });
    guest = spawnSerialGuest(QEMU, [
      ...['-accel', 'tcg', '-m', String(NET_GUEST.memoryMiB), '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot'],
      ...['-kernel', fixturePath(NET_GUEST.kernel), '-initrd', fixturePath(NET_GUEST.initrd), '-append', NET_GUEST.append],
      ...['-device', 'e1000,netdev=n0,mac=52:54:00:12:34:56', '-netdev', `socket,id=n0,udp=127.0.0.1:${wirePort},localaddr=127.0.0.1:${qemuPort}`],
    ]);
    lease = await bootNetGuest(guest.shell, 240_000);
  });

  afterAll(async () => {
    await guest?.stop();
    nat?.close();
    wire?.close();
    dns?.close();
    await pattern?.close();
    await sink?.close();
  });

  it('leases 10.0.2.15 with gateway 10.0.2.2 and DNS 10.0.2.3, and reports it', () => {
    expect(lease).toEqual({ ip: '10.0.2.15', gateway: '10.0.2.2', dns: ['10.0.2.3'] });
    expect(statuses.at(-1)?.guestAddress).toBe('10.0.2.15');
  });

  it('answers ping to the gateway and resolves names through 10.0.2.3', async () => {
    expect((await guest.shell.exec('ping -c 2 -W 5 10.0.2.2', 30_000)).status).toBe(0);
    const lookup = await guest.shell.exec('nslookup some.name.test', 30_000);
    expect(lookup.output).toContain('10.9.8.7');
  });

  it('downloads from the host loopback through 10.0.2.2 and uploads back, byte for byte', async () => {
    const download = await guest.shell.exec(`wget -q -O - ${pattern.url()} | sha256sum`, 300_000);
    expect(download.output.slice(0, 64)).toBe(pattern.sha256);
    const served = (await guest.shell.exec(`sha256sum /srv${NET_GUEST.servedPath}`, 60_000)).output.slice(0, 64);
    const upload = guest.shell.exec(`nc 10.0.2.2 ${sink.port} < /srv${NET_GUEST.servedPath}`, 300_000);
    const received = await sink.nextUpload(300_000);
    await upload;
    expect(received.bytes).toBe(NET_GUEST.servedBytes);
    expect(received.sha256).toBe(served);
  });

  it('serves the guest\'s web server to a host client through the forwarded port', async () => {
    const served = (await guest.shell.exec(`sha256sum /srv${NET_GUEST.servedPath}`, 60_000)).output.slice(0, 64);
    const fetched = await httpSha256(`http://127.0.0.1:${forwardPort}${NET_GUEST.servedPath}`, 600_000);
    expect(fetched).toEqual({ status: 200, bytes: NET_GUEST.servedBytes, sha256: served });
  });
});

if (missing.length > 0) {
  it.skip(`the NAT-on-QEMU test needs: ${missing.join(', ')}`, () => {});
}
