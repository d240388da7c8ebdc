import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Envelope } from '../app/contract/bridge.js';
import { resolveDataPaths } from '../app/host/paths.js';
import { tempDir } from '../app/library/test-helpers.js';
import { TerrariumService } from '../app/service/service.js';
import { makeIso } from '../app/service/test-iso.js';

// Electron is not installed as a binary here: stand in for the bits ipc.ts touches.
type Handler = (event: unknown, ...args: unknown[]) => unknown;
const handlers = new Map<string, Handler>();
const dialogAnswer: { filePaths: string[]; canceled: boolean } = { filePaths: [], canceled: true };
vi.mock('electron', () => ({
  ipcMain: { handle: (channel: string, fn: Handler) => handlers.set(channel, fn) },
  BrowserWindow: { fromWebContents: () => null },
  dialog: { showOpenDialog: async () => dialogAnswer },
}));

const { IpcBridge } = await import('./ipc.js');

function fakeEvent(url: string, id = 1) {
  const sent: unknown[] = [];
  return {
    sent,
    event: {
      senderFrame: { url },
      sender: { id, getURL: () => url, isDestroyed: () => false, send: (_c: string, e: unknown) => sent.push(e), once: () => undefined },
    },
  };
}

const services: TerrariumService[] = [];
afterEach(async () => {
  handlers.clear();
  await Promise.all(services.splice(0).map((s) => s.close()));
});

async function setup() {
  const paths = resolveDataPaths(tempDir());
  const service = new TerrariumService({ paths, transport: 'electron', version: 'test', owner: 'desktop app' });
  services.push(service);
  await service.open({ watch: false });
  new IpcBridge(service).register();
  const invoke = (event: unknown, method: string, params: unknown) => handlers.get('terrarium:invoke')!(event, method, params) as Promise<Envelope>;
  return { invoke, paths };
}

describe('Electron IPC bridge', () => {
  it('answers the app page with envelopes, errors included', async () => {
    const { invoke } = await setup();
    const { event } = fakeEvent('terrarium://app/index.html');
    expect(await invoke(event, 'listVms', {})).toEqual({ ok: true, result: [] });
    expect(await invoke(event, 'getVm', { id: '../etc' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', field: 'id' } });
  });

  it('refuses calls from any other page', async () => {
    const { invoke } = await setup();
    const { event } = fakeEvent('https://evil.example/');
    expect(await invoke(event, 'listVms', {})).toMatchObject({ ok: false, error: { message: expect.stringContaining('unexpected page') } });
  });

  it('lets a window use a file only after a drop or a dialog granted it', async () => {
    const { invoke } = await setup();
    const iso = path.join(tempDir(), 'dropped.iso');
    writeFileSync(iso, makeIso('DROPPED'));
    const { event } = fakeEvent('terrarium://app/index.html', 7);
    expect(await invoke(event, 'inspectIso', { path: iso })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    await handlers.get('terrarium:grant-path')!(event, iso);
    expect(await invoke(event, 'inspectIso', { path: iso })).toMatchObject({ ok: true, result: { volumeLabel: 'DROPPED' } });
    // Another window has not been granted it.
    expect(await invoke(fakeEvent('terrarium://app/index.html', 8).event, 'inspectIso', { path: iso })).toMatchObject({ ok: false });

    const other = path.join(tempDir(), 'chosen.iso');
    writeFileSync(other, makeIso('CHOSEN'));
    dialogAnswer.canceled = false;
    dialogAnswer.filePaths = [other];
    expect(await handlers.get('terrarium:open-dialog')!(event, 'iso')).toBe(other);
    expect(await invoke(event, 'inspectIso', { path: other })).toMatchObject({ ok: true, result: { volumeLabel: 'CHOSEN' } });
  });

  it('pushes events to the window', async () => {
    const { invoke } = await setup();
    const { event, sent } = fakeEvent('terrarium://app/index.html', 9);
    await invoke(event, 'createVm', { name: 'Evented', osType: 'linux', memoryMiB: 64, cpus: 1, disk: { kind: 'none' }, iso: null });
    expect(sent).toContainEqual({ type: 'library' });
  });
});
