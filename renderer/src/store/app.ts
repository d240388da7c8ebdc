/**
 * The UI's state: what the host told us (library, sessions), what is selected and open,
 * and the notices and progress bars of long operations. Components read slices; actions
 * here talk to the API and turn failures into notices with advice.
 */
import { create } from 'zustand';
import type { ApiEvent, HostInfo, IsoInfo, SessionInfo, TerrariumApi, VmInfo } from '../../../app/contract/api';
import { ApiError, type ConnectionState, type Transport } from '../api/client';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  message: string;
  hint?: string;
}

export interface Progress {
  id: string;
  label: string;
  fraction: number;
}

export type Dialog =
  | { kind: 'wizard'; prefill?: { name: string; osType: string; iso: IsoInfo } }
  | { kind: 'settings'; id: string }
  | { kind: 'delete'; id: string }
  | { kind: 'clone'; id: string }
  | { kind: 'iso-create'; iso: IsoInfo }
  | { kind: 'iso-attached'; id: string; iso: IsoInfo }
  | null;

export type Tab = 'details' | 'console' | 'serial';

interface State {
  api: TerrariumApi | null;
  transport: Transport | null;
  connection: ConnectionState;
  host: HostInfo | null;
  vms: VmInfo[];
  loaded: boolean;
  selectedId: string | null;
  tab: Tab;
  dialog: Dialog;
  notices: Notice[];
  progress: Progress[];
  /** The console has keyboard and pointer. */
  captured: boolean;
}

interface Actions {
  init(api: TerrariumApi, transport: Transport): Promise<void>;
  refresh(): Promise<void>;
  select(id: string | null): void;
  setTab(tab: Tab): void;
  openDialog(dialog: Dialog): void;
  notify(kind: Notice['kind'], message: string, hint?: string): void;
  dismiss(id: number): void;
  /** Run an action; an error becomes a notice. Returns undefined on failure. */
  attempt<T>(action: () => Promise<T>, context?: string): Promise<T | undefined>;
  setProgress(id: string, label: string, fraction: number): void;
  endProgress(id: string): void;
  setCaptured(captured: boolean): void;
  /** The selected VM when it loads cleanly. */
  selected(): Extract<VmInfo, { status: 'ok' }> | null;
}

let noticeId = 1;

export const useApp = create<State & Actions>()((set, get) => ({
  api: null,
  transport: null,
  connection: 'connecting',
  host: null,
  vms: [],
  loaded: false,
  selectedId: null,
  tab: 'details',
  dialog: null,
  notices: [],
  progress: [],
  captured: false,

  async init(api, transport) {
    set({ api, transport });
    transport.onConnection((connection) => {
      set({ connection });
      if (connection === 'open') void get().refresh();
    });
    transport.onEvent((event) => handleEvent(event));
    // VMs run by another process (the CLI) change state without telling us: look again now and then.
    setInterval(() => {
      if (get().vms.some((v) => v.status === 'ok' && v.session.elsewhere !== undefined)) void get().refresh();
    }, 3000);
    const host = await get().attempt(() => api.hostInfo({}), 'Connecting to the host');
    if (host !== undefined) set({ host });
  },

  async refresh() {
    const api = get().api;
    if (api === null) return;
    const vms = await get().attempt(() => api.listVms({}), 'Listing VMs');
    if (vms === undefined) return;
    const selectedId = get().selectedId;
    set({ vms, loaded: true, selectedId: selectedId !== null && vms.some((v) => v.id === selectedId) ? selectedId : (vms[0]?.id ?? null) });
  },

  select(id) {
    set({ selectedId: id });
  },
  setTab(tab) {
    set({ tab });
  },
  openDialog(dialog) {
    set({ dialog });
  },
  notify(kind, message, hint) {
    const notice: Notice = { id: noticeId++, kind, message };
    if (hint !== undefined) notice.hint = hint;
    set({ notices: [...get().notices.slice(-4), notice] });
    if (kind === 'info') setTimeout(() => get().dismiss(notice.id), 6000);
  },
  dismiss(id) {
    set({ notices: get().notices.filter((n) => n.id !== id) });
  },
  async attempt(action, context) {
    try {
      return await action();
    } catch (error) {
      if (error instanceof ApiError) get().notify('error', error.message, error.hint);
      else get().notify('error', `${context ?? 'Something'} failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  },
  setProgress(id, label, fraction) {
    const others = get().progress.filter((p) => p.id !== id);
    set({ progress: [...others, { id, label, fraction }] });
  },
  endProgress(id) {
    set({ progress: get().progress.filter((p) => p.id !== id) });
  },
  setCaptured(captured) {
    set({ captured });
  },
  selected() {
    const { vms, selectedId } = get();
    const vm = vms.find((v) => v.id === selectedId);
    return vm?.status === 'ok' ? vm : null;
  },
}));

/** Screen and serial events go to the components that subscribed; these go to the store. */
function handleEvent(event: ApiEvent): void {
  const store = useApp.getState();
  if (event.type === 'library') void store.refresh();
  else if (event.type === 'session') updateSession(event.id, event.session);
  else if (event.type === 'progress') {
    if (event.fraction >= 1) store.endProgress(event.opId);
    else store.setProgress(event.opId, event.message, event.fraction);
  }
  for (const l of eventListeners) l(event);
}

function updateSession(id: string, session: SessionInfo): void {
  const { vms } = useApp.getState();
  useApp.setState({ vms: vms.map((v) => (v.id === id && v.status === 'ok' ? { ...v, session } : v)) });
  const previous = vms.find((v) => v.id === id);
  const was = previous?.status === 'ok' ? previous.session.state : null;
  // Booting can take a while on the interpreter: show it with the other long operations.
  if (session.state === 'starting') useApp.getState().setProgress(`boot:${id}`, `Starting ${id}…`, -1);
  else useApp.getState().endProgress(`boot:${id}`);
  if (session.state === 'error' && was !== 'error' && session.error) useApp.getState().notify('error', `${id}: ${session.error.message}`, session.error.hint);
  if (session.state === 'stopped' && was !== 'stopped') void useApp.getState().refresh();
}

const eventListeners = new Set<(e: ApiEvent) => void>();

/** For components that stream (console, serial): events for as long as they are mounted. */
export function onApiEvent(listener: (e: ApiEvent) => void): () => void {
  eventListeners.add(listener);
  return () => eventListeners.delete(listener);
}

export function useApi(): TerrariumApi {
  const api = useApp((s) => s.api);
  if (api === null) throw new Error('API used before init');
  return api;
}
