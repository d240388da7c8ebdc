/**
 * Port forwards of a running VM through the session relay: the worker hands them to the
 * machine (the test double, which really listens) and brings back its refusal, naming the
 * rule, while the previous forwards keep working.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { NetStatus, PortForward } from '../../emulator-core/machine/types.js';
import { freeTcpPort, tcpExchange } from '../../test/support/net/loopback.js';
import { testDoubleWorkerUrl } from '../../test/e2e/doubles/index.js';
import { Library } from '../library/library.js';
import { newVm, tempDir } from '../library/test-helpers.js';
import { SessionManager } from './manager.js';
import type { Session } from './session.js';

const firmware = { bios: '/dev/null', vgaBios: null, searched: [] };
const managers: SessionManager[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.shutdownAll()));
  for (const s of servers.splice(0)) s.close();
});

async function listening(): Promise<Server> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: Server) => (server.address() as { port: number }).port;

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function run(mode: 'nat' | 'none', forwards: PortForward[] = [], options: { waitFor: 'running' | 'end' } = { waitFor: 'running' }): Promise<{ session: Session; net: NetStatus[] }> {
  const net: NetStatus[] = [];
  const manager = new SessionManager({
    owner: 'test',
    firmware,
    workerUrl: testDoubleWorkerUrl(),
    listener: { status: (_id, s) => s.net && net.push(s.net), screen: () => undefined, serial: () => undefined },
  });
  managers.push(manager);
  const lib = new Library(tempDir());
  await lib.create(newVm('Fwd', { disk: { kind: 'new', sizeMiB: 1, format: 'raw' } }));
  const vm = await lib.update('Fwd', (c) => ({ ...c, network: { ...c.network, mode, forwards: forwards.map((f) => ({ ...f, hostAddress: '127.0.0.1' })) } }));
  const session = await manager.start(vm);
  if (options.waitFor === 'end') await session.done;
  else await until(() => session.state === 'running');
  return { session, net };
}

const tcp = (hostPort: number, guestPort = 22): PortForward => ({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort, guestPort });

describe('port forwards of a running session', () => {
  it('starts with the configured forwards listening, then reports the lease', async () => {
    const port = await freeTcpPort();
    const { net } = await run('nat', [tcp(port)]);
    await until(() => net.some((n) => n.guestAddress !== null));
    expect(net[0]).toMatchObject({ mode: 'nat', guestAddress: null, forwards: [tcp(port)] });
    expect(net.at(-1)).toMatchObject({ mode: 'nat', guestAddress: '10.0.2.15', forwards: [tcp(port)] });
    expect(await tcpExchange(port)).toBe('double: guest port 22\n');
  });

  it('fails the start when a configured host port is in use, naming the rule', async () => {
    const busy = portOf(await listening());
    const { session } = await run('nat', [tcp(busy)], { waitFor: 'end' });
    expect(session.state).toBe('error');
    expect(session.error).toMatchObject({ code: 'BAD_INPUT', message: `port forward tcp 127.0.0.1:${busy} -> 22: host port ${busy} is in use` });
  });

  it('brings back the machine refusing a host port in use, naming the rule, and keeps the old forwards', async () => {
    const port = await freeTcpPort();
    const { session } = await run('nat', [tcp(port)]);
    await until(() => session.net !== null);
    const busy = portOf(await listening());
    const free = await freeTcpPort();
    await expect(session.setForwards([tcp(free, 80), tcp(busy)])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      field: 'forwards.1.hostPort',
      message: `port forward tcp 127.0.0.1:${busy} -> 22: host port ${busy} is in use`,
    });
    expect(await tcpExchange(port)).toBe('double: guest port 22\n');
    await expect(tcpExchange(free)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await session.setForwards([tcp(free, 80)]);
    expect(await tcpExchange(free)).toBe('double: guest port 80\n');
    expect(session.net?.forwards).toEqual([tcp(free, 80)]);
  });

  it('refuses live forwards when the machine was started without NAT', async () => {
    const { session } = await run('none');
    await expect(session.setForwards([tcp(await freeTcpPort())])).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('without a NAT adapter') });
  });
});
