import { describe, expect, it } from 'vitest';
import type { ApiEvent, MethodName, SessionInfo, TerrariumApi, VmInfo } from '../../../app/contract/api';
import { ApiError, createApi, type ConnectionState, type Transport } from '../api/client';
import { onApiEvent, useApp } from './app';

/** A transport whose host is a table of canned answers; events are pushed by the test. */
function fakeTransport(answers: Partial<Record<MethodName, unknown>>) {
  const eventListeners = new Set<(e: ApiEvent) => void>();
  const transport: Transport = {
    kind: 'web',
    invoke: async (method) => {
      if (method in answers) return answers[method];
      throw new ApiError({ code: 'BAD_INPUT', message: `no ${method}`, hint: 'test hint' });
    },
    onEvent: (l) => {
      eventListeners.add(l);
      return () => eventListeners.delete(l);
    },
    onConnection: (l: (s: ConnectionState) => void) => {
      l('open');
      return () => undefined;
    },
  };
  return { transport, emit: (e: ApiEvent) => eventListeners.forEach((l) => l(e)) };
}

const stopped: SessionInfo = { state: 'stopped' };
const vm = (id: string, session: SessionInfo = stopped): VmInfo =>
  ({ status: 'ok', id, dir: `/vms/${id}`, disks: [], session, hasLastFrame: false, config: { name: id } }) as unknown as VmInfo;

async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

describe('UI store', () => {
  it('loads the library, follows session events and shows boot progress', async () => {
    const { transport, emit } = fakeTransport({ hostInfo: { transport: 'web' }, listVms: [vm('a'), vm('b')] });
    const api: TerrariumApi = createApi(transport);
    await useApp.getState().init(api, transport);
    await settle();
    expect(useApp.getState().vms.map((v) => v.id)).toEqual(['a', 'b']);
    expect(useApp.getState().selectedId).toBe('a');

    emit({ type: 'session', id: 'b', session: { state: 'starting' } });
    expect(useApp.getState().progress).toEqual([{ id: 'boot:b', label: 'Starting b…', fraction: -1 }]);
    emit({ type: 'session', id: 'b', session: { state: 'error', error: { code: 'GUEST', message: 'triple fault', hint: 'Reset it' } } });
    expect(useApp.getState().progress).toEqual([]);
    const b = useApp.getState().vms.find((v) => v.id === 'b');
    expect(b?.status === 'ok' && b.session.state).toBe('error');
    expect(useApp.getState().notices.at(-1)).toMatchObject({ kind: 'error', message: 'b: triple fault', hint: 'Reset it' });

    emit({ type: 'progress', opId: 'op1', message: 'Creating disk', fraction: 0.5 });
    expect(useApp.getState().progress).toContainEqual({ id: 'op1', label: 'Creating disk', fraction: 0.5 });
    emit({ type: 'progress', opId: 'op1', message: 'Done', fraction: 1 });
    expect(useApp.getState().progress.find((p) => p.id === 'op1')).toBeUndefined();
  });

  it('turns failed calls into notices with the host’s advice', async () => {
    const { transport } = fakeTransport({ hostInfo: { transport: 'web' }, listVms: [] });
    const api = createApi(transport);
    await useApp.getState().init(api, transport);
    const result = await useApp.getState().attempt(() => api.startVm({ id: 'x' }));
    expect(result).toBeUndefined();
    expect(useApp.getState().notices.at(-1)).toMatchObject({ kind: 'error', message: 'no startVm', hint: 'test hint' });
  });

  it('hands screen and serial events to the components that listen', async () => {
    const { transport, emit } = fakeTransport({ hostInfo: { transport: 'web' }, listVms: [] });
    await useApp.getState().init(createApi(transport), transport);
    const seen: string[] = [];
    const off = onApiEvent((e) => seen.push(e.type));
    emit({ type: 'serial', id: 'a', data: new Uint8Array([65]) });
    off();
    emit({ type: 'serial', id: 'a', data: new Uint8Array([66]) });
    expect(seen).toEqual(['serial']);
  });
});
