/**
 * Port forwards and the network adapter through the contract: inline errors that name the
 * field, nothing saved on a refusal, and live changes to a running VM (the test double
 * really listens on each forward's host port).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent, MethodName, Params, PortForwardSetting, Result, VmInfo, VmSettings } from '../contract/api.js';
import { freeTcpPort, tcpExchange } from '../../test/support/net/loopback.js';
import { testDoubleWorkerUrl } from '../../test/e2e/doubles/index.js';
import { resolveDataPaths } from '../host/paths.js';
import { tempDir } from '../library/test-helpers.js';
import { RootsPolicy } from './path-policy.js';
import { TerrariumService } from './service.js';

const services: TerrariumService[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
  for (const s of servers.splice(0)) s.close();
});

async function setup(options: { workerUrl?: URL } = {}) {
  const paths = resolveDataPaths(tempDir());
  const service = new TerrariumService({ paths, transport: 'web', version: 'test', owner: 'test', maxMemoryMiB: 2048, ...options });
  services.push(service);
  await service.open();
  const events: ApiEvent[] = [];
  const conn = service.connect({ send: (e) => events.push(e), backlog: () => 0 }, new RootsPolicy([paths.media, paths.library]));
  const call = <M extends MethodName>(method: M, params: Params<M>) => service.dispatch(method, params, conn) as Promise<Result<M>>;
  const raw = (method: unknown, params: unknown) => service.dispatch(method, params, conn);
  const vm = await call('createVm', { name: 'Net', osType: 'linux', memoryMiB: 64, cpus: 1, disk: { kind: 'new', sizeMiB: 1, format: 'raw' }, iso: null });
  const file = path.join(paths.library, 'Net', 'Net.terrarium.json');
  return { call, raw, events, vm: ok(vm), file };
}

function ok(vm: VmInfo): Extract<VmInfo, { status: 'ok' }> {
  if (vm.status !== 'ok') throw new Error(`${vm.id} is broken: ${vm.error.message}`);
  return vm;
}

function settingsOf(vm: VmInfo): VmSettings {
  const { schemaVersion: _v, createdAt: _c, ...settings } = ok(vm).config;
  return settings;
}

/** Hold a TCP port as another program would. */
async function occupy(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const rule = (hostPort: number, guestPort = 22): PortForwardSetting => ({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort, guestPort });

describe('network settings through the contract', () => {
  it('gives a new VM NAT and saves forwards of a stopped VM', async () => {
    const { call, vm, file } = await setup();
    expect(vm.config.network).toMatchObject({ mode: 'nat', forwards: [] });
    const port = await freeTcpPort();
    const saved = ok(await call('setForwards', { id: 'Net', forwards: [rule(port)] }));
    expect(saved.config.network.forwards).toEqual([rule(port)]);
    expect(JSON.parse(readFileSync(file, 'utf8')).network.forwards).toEqual([rule(port)]);
  });

  it('refuses bad forwards with the field named, saving nothing', async () => {
    const { call, raw, vm, file } = await setup();
    const before = readFileSync(file, 'utf8');
    await expect(raw('setForwards', { id: 'Net', forwards: [rule(80)] })).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'forwards.0.hostPort', message: expect.stringContaining('privileged') });
    await expect(raw('setForwards', { id: 'Net', forwards: [{ ...rule(2222), hostPort: 70_000 }] })).rejects.toMatchObject({ field: 'forwards.0.hostPort' });
    await expect(raw('setForwards', { id: 'Net', forwards: [{ ...rule(2222), hostAddress: 'example.com' }] })).rejects.toMatchObject({ field: 'forwards.0.hostAddress' });
    await expect(raw('setForwards', { id: 'Net', forwards: [rule(2222), rule(2222, 80)] })).rejects.toMatchObject({ field: 'forwards.1.hostPort', message: expect.stringContaining('already forwarded') });
    const busy = await occupy();
    await expect(raw('setForwards', { id: 'Net', forwards: [rule(busy)] })).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'forwards.0.hostPort', message: `TCP port ${busy} on 127.0.0.1 is in use by another program (or another VM's forward).` });
    const settings = settingsOf(vm);
    const bad = { ...settings, network: { ...settings.network, forwards: [rule(busy)] } };
    expect(await call('checkSettings', { id: 'Net', settings: bad })).toEqual({ 'network.forwards.0.hostPort': expect.stringContaining('is in use') });
    await expect(call('updateVm', { id: 'Net', settings: bad })).rejects.toMatchObject({ field: 'network.forwards.0.hostPort' });
    await expect(raw('updateVm', { id: 'Net', settings: { ...settings, network: { ...settings.network, mac: '03:00:00:00:00:01' } } })).rejects.toMatchObject({ field: 'settings.network.mac' });
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it("refuses another VM's MAC", async () => {
    const { call, vm } = await setup();
    const other = ok(await call('createVm', { name: 'Other', osType: 'linux', memoryMiB: 64, cpus: 1, disk: { kind: 'none' }, iso: null }));
    expect(other.config.network.mac).not.toBe(vm.config.network.mac);
    const settings = settingsOf(vm);
    const errors = await call('checkSettings', { id: 'Net', settings: { ...settings, network: { ...settings.network, mac: other.config.network.mac.toUpperCase() } } });
    expect(errors).toEqual({ 'network.mac': 'The VM "Other" already has this MAC address.' });
  });

  it('changes the forwards of a running VM at once and reports its address and active forwards', async () => {
    const { call, events, vm, file } = await setup({ workerUrl: testDoubleWorkerUrl() });
    const first = await freeTcpPort();
    await call('setForwards', { id: 'Net', forwards: [rule(first)] });
    await call('startVm', { id: 'Net' });
    const net = () => [...events].reverse().find((e): e is Extract<ApiEvent, { type: 'session' }> => e.type === 'session' && e.session.net !== undefined)?.session.net;
    await until(() => net()?.guestAddress === '10.0.2.15');
    expect(net()?.forwards).toEqual([rule(first)]);
    expect(await tcpExchange(first)).toBe('double: guest port 22\n');

    // Through the Settings dialog's call: forwards apply now, a new MAC waits for the next start.
    const second = await freeTcpPort();
    const settings = settingsOf(await call('getVm', { id: 'Net' }));
    const updated = ok(await call('updateVm', { id: 'Net', settings: { ...settings, network: { ...settings.network, mac: '52:54:00:aa:bb:cc', forwards: [rule(second, 80)] } } }));
    expect(updated.config.network).toMatchObject({ mac: '52:54:00:aa:bb:cc', forwards: [rule(second, 80)] });
    await until(() => net()?.forwards[0]?.hostPort === second);
    expect(net()?.mac).toBe(vm.config.network.mac);
    expect(await tcpExchange(second)).toBe('double: guest port 80\n');
    await expect(tcpExchange(first)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(ok(await call('getVm', { id: 'Net' })).session.net?.guestAddress).toBe('10.0.2.15');
    expect(JSON.parse(readFileSync(file, 'utf8')).network.forwards).toEqual([rule(second, 80)]);
  });
});
