import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent, MethodName, Params, Result } from '../contract/api.js';
import { testDoubleWorkerUrl } from '../../test/e2e/doubles/index.js';
import { resolveDataPaths } from '../host/paths.js';
import { tempDir } from '../library/test-helpers.js';
import { RootsPolicy } from './path-policy.js';
import { TerrariumService } from './service.js';
import { makeIso } from './test-iso.js';

const services: TerrariumService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
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
  const iso = path.join(paths.media, 'debian-12.iso');
  writeFileSync(iso, makeIso('DEBIAN_12_AMD64'));
  return { service, paths, conn, call, raw, events, iso };
}

const newVm = (iso: string | null) => ({ name: 'Deb', osType: 'debian', memoryMiB: 256, cpus: 1, disk: { kind: 'new' as const, sizeMiB: 64, format: 'qcow2' as const }, iso });

describe('contract input validation', () => {
  it('refuses unknown methods and malformed parameters with a field', async () => {
    const { raw } = await setup();
    await expect(raw('rm -rf', {})).rejects.toMatchObject({ code: 'BAD_INPUT', message: 'Unknown method "rm -rf".' });
    await expect(raw('__proto__', {})).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(raw('getVm', { id: '../../etc' })).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'id' });
    await expect(raw('getVm', { id: 'x', extra: 1 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(raw('getVm', null)).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'id' });
    await expect(raw('sendKey', { id: 'x', code: '<script>', down: true })).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'code' });
    await expect(raw('sendPointer', { id: 'x', dx: 1.5, dy: 0, buttons: 0 })).rejects.toMatchObject({ field: 'dx' });
    await expect(raw('sendPointer', { id: 'x', dx: 0, dy: 0, buttons: 8 })).rejects.toMatchObject({ field: 'buttons' });
    await expect(raw('sendSerial', { id: 'x', data: 'a'.repeat(70_000) })).rejects.toMatchObject({ field: 'data' });
    await expect(raw('inspectIso', { path: 'relative.iso' })).rejects.toMatchObject({ field: 'path', message: expect.stringContaining('absolute') });
    await expect(raw('createVm', { ...newVm(null), memoryMiB: '512' })).rejects.toMatchObject({ field: 'memoryMiB' });
    await expect(raw('createVm', { ...newVm(null), name: 'a/b' })).rejects.toMatchObject({ field: 'name', message: expect.stringContaining('cannot contain "/"') });
  });

  it('explains field problems as the user types, including host limits', async () => {
    const { call, iso, paths } = await setup();
    const notIso = path.join(paths.media, 'notes.iso');
    writeFileSync(notIso, 'hello');
    expect(await call('checkNewVm', { draft: newVm(iso) })).toEqual({});
    const errors = await call('checkNewVm', { draft: { ...newVm(notIso), name: '', memoryMiB: 999_999 } });
    expect(errors.name).toBe('Give the VM a name.');
    expect(errors.memoryMiB).toBe('This host can give a VM at most 2048 MiB (it keeps the rest for itself).');
    expect(errors.iso).toMatch(/notes\.iso is not an ISO image/);
    expect((await call('checkNewVm', { draft: { name: 'x' } })).osType).toBeDefined();
  });

  it('refuses host paths outside the media folder and the library in the browser', async () => {
    const { call, raw } = await setup();
    const outside = path.join(tempDir(), 'elsewhere.iso');
    writeFileSync(outside, makeIso('ELSEWHERE'));
    await expect(call('inspectIso', { path: outside })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('not in the media folder') });
    await expect(raw('inspectIso', { path: '/etc/passwd' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('TerrariumService', () => {
  it('creates, lists, updates, clones and deletes VMs, announcing library changes', async () => {
    const { call, events, iso } = await setup();
    const created = await call('createVm', { ...newVm(iso), opId: 'op1' });
    expect(created).toMatchObject({ status: 'ok', id: 'Deb', session: { state: 'stopped' } });
    expect(events.some((e) => e.type === 'progress' && e.opId === 'op1')).toBe(true);
    expect(events.some((e) => e.type === 'library')).toBe(true);
    if (created.status !== 'ok') throw new Error('not ok');
    expect(created.config.storage.cdrom).toBe(iso);
    expect(created.config.system.bootOrder).toEqual(['cdrom', 'disk']);
    expect(created.disks[0]).toMatchObject({ sizeBytes: 64 * 1024 * 1024, missing: false });
    await expect(call('createVm', newVm(iso))).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'name' });

    const { schemaVersion: _v, createdAt: _c, ...settings } = created.config;
    const bad = await call('checkSettings', { id: 'Deb', settings: { ...settings, system: { ...settings.system, bootOrder: [] } } });
    expect(bad['system.bootOrder']).toBe('Choose at least one boot device.');
    await expect(call('updateVm', { id: 'Deb', settings: { ...settings, system: { ...settings.system, memoryMiB: 4096 } } })).rejects.toMatchObject({ field: 'system.memoryMiB' });
    const updated = await call('updateVm', { id: 'Deb', settings: { ...settings, system: { ...settings.system, memoryMiB: 512 } } });
    expect(updated.status === 'ok' && updated.config.system.memoryMiB).toBe(512);

    const clone = await call('cloneVm', { id: 'Deb', name: 'Deb copy' });
    expect(clone.id).toBe('Deb copy');
    expect((await call('listVms', {})).map((v) => v.id)).toEqual(['Deb', 'Deb copy']);
    expect(await call('deleteVm', { id: 'Deb copy', keepDisks: false })).toEqual({ keptFolder: false });
    expect((await call('listVms', {})).map((v) => v.id)).toEqual(['Deb']);
  });

  it('reads ISO labels to suggest a name and an OS type', async () => {
    const { call, iso } = await setup();
    expect(await call('inspectIso', { path: iso })).toMatchObject({ volumeLabel: 'DEBIAN_12_AMD64', guessedOsType: 'debian', suggestedName: 'Debian 12 amd64', bootable: false });
  });

  it('attaches and ejects ISOs, refusing files that are not ISOs', async () => {
    const { call, iso, paths } = await setup();
    await call('createVm', { ...newVm(null), disk: { kind: 'none' } });
    const fake = path.join(paths.media, 'photo.iso');
    writeFileSync(fake, Buffer.alloc(40_000));
    await expect(call('attachIso', { id: 'Deb', path: fake, bootFirst: true })).rejects.toMatchObject({ code: 'BAD_INPUT', message: 'photo.iso is not an ISO image (no ISO 9660 volume descriptor).' });
    const attached = await call('attachIso', { id: 'Deb', path: iso, bootFirst: true });
    expect(attached.status === 'ok' && attached.config.storage.cdrom).toBe(iso);
    const ejected = await call('ejectIso', { id: 'Deb' });
    expect(ejected.status === 'ok' && ejected.config.storage.cdrom).toBeNull();
  });

  it('refuses to start a VM whose ISO or disk went away, naming the file and the fix', async () => {
    const { call, iso, paths } = await setup({ workerUrl: testDoubleWorkerUrl() });
    await call('createVm', newVm(iso));
    const configFile = path.join(paths.library, 'Deb', 'Deb.terrarium.json');
    const config = readFileSync(configFile, 'utf8');
    renameSync(iso, `${iso}.away`);
    await expect(call('startVm', { id: 'Deb' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: `The CD/DVD image debian-12.iso is missing (${iso}).`,
      hint: expect.stringContaining('eject it'),
    });
    renameSync(`${iso}.away`, iso);
    const disk = readdirSync(path.join(paths.library, 'Deb')).find((f) => f.endsWith('.qcow2'))!;
    renameSync(path.join(paths.library, 'Deb', disk), path.join(paths.library, 'Deb', 'moved.qcow2'));
    await expect(call('startVm', { id: 'Deb' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining(`The disk image ${disk} is missing`) });
    expect((await call('getVm', { id: 'Deb' })).status).toBe('ok');
    expect(readFileSync(configFile, 'utf8')).toBe(config);
  });

  it('lists a corrupt VM as an error and refuses to delete it, keeping its files', async () => {
    const { call, paths } = await setup();
    mkdirSync(path.join(paths.library, 'Bad'));
    const file = path.join(paths.library, 'Bad', 'Bad.terrarium.json');
    writeFileSync(file, 'not json');
    const [entry] = await call('listVms', {});
    expect(entry).toMatchObject({ status: 'error', id: 'Bad', error: { code: 'CORRUPT', hint: expect.stringContaining('untouched') } });
    await expect(call('deleteVm', { id: 'Bad', keepDisks: false })).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(readFileSync(file, 'utf8')).toBe('not json');
  });

  it('runs a VM (test double) and streams its screen and serial port to subscribers', async () => {
    const { call, events, iso, paths } = await setup({ workerUrl: testDoubleWorkerUrl() });
    await call('createVm', newVm(iso));
    await call('startVm', { id: 'Deb' });
    const waitFor = async (pred: (e: ApiEvent) => boolean) => {
      for (let i = 0; i < 250 && !events.some(pred); i++) await new Promise((r) => setTimeout(r, 20));
      expect(events.some(pred)).toBe(true);
    };
    await waitFor((e) => e.type === 'session' && e.session.state === 'running');
    await call('subscribeScreen', { id: 'Deb' });
    await call('subscribeSerial', { id: 'Deb' });
    await waitFor((e) => e.type === 'screen' && e.rect.width === 320);
    await call('sendSerial', { id: 'Deb', data: 'ping\r' });
    await waitFor((e) => e.type === 'serial' && new TextDecoder().decode(e.data).includes('double: ping'));
    const shot = await call('screenshot', { id: 'Deb' });
    expect(existsSync(shot.savedAs)).toBe(true);
    expect((await call('thumbnail', { id: 'Deb' }))?.width).toBe(320);
    // Settings that need a stopped VM are refused while it runs; the CD may change.
    const info = await call('getVm', { id: 'Deb' });
    if (info.status !== 'ok') throw new Error('not ok');
    const { schemaVersion: _v, createdAt: _c, ...settings } = info.config;
    await expect(call('updateVm', { id: 'Deb', settings: { ...settings, system: { ...settings.system, memoryMiB: 128 } } })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(call('deleteVm', { id: 'Deb', keepDisks: false })).rejects.toMatchObject({ code: 'CONFLICT' });
    await call('powerOff', { id: 'Deb' });
    await waitFor((e) => e.type === 'session' && e.session.state === 'stopped');
    expect(existsSync(path.join(paths.library, 'Deb', 'last-frame.png'))).toBe(true);
  });
});

describe('VMs run by `terrarium start` in another process', () => {
  it('are shut down (SIGTERM) and powered off (SIGHUP) through their process', async () => {
    const { call, paths } = await setup();
    await call('createVm', { ...newVm(null), disk: { kind: 'none' } });
    const { spawn } = await import('node:child_process');
    const { hostname } = await import('node:os');
    const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => { console.log('TERM'); process.exit(0); }); setInterval(() => {}, 1000); console.log('ready')"], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 20));
    writeFileSync(path.join(paths.library, 'Deb', '.terrarium.lock'), JSON.stringify({ pid: child.pid, host: hostname(), owner: 'cli', startedAt: 'now' }));
    const info = await call('getVm', { id: 'Deb' });
    expect(info.status === 'ok' && info.session).toMatchObject({ state: 'running', elsewhere: { owner: 'cli', pid: child.pid } });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await call('acpiShutdown', { id: 'Deb' });
    await exited;
    expect(out).toContain('TERM');
  });
});
