/**
 * The one typed API between the UI and the application. The renderer imports these types
 * only; the same calls travel over Electron IPC (preload) or a WebSocket (web host), and
 * app/ validates every parameter as untrusted (schemas.ts) before acting.
 */
import type { NetStatus, RunState } from '../../emulator-core/machine/types.js';
import type { ErrorInfo } from '../errors.js';
import type { DiskEntry, DisplaySettings, NetworkSettings, PortForwardSetting, SerialSettings, StorageSettings, SystemSettings, VmConfig } from '../library/config-schema.js';

export type { ErrorInfo, RunState, VmConfig, SystemSettings, DisplaySettings, StorageSettings, SerialSettings, DiskEntry, NetworkSettings, PortForwardSetting, NetStatus };
export type DiskFormat = 'raw' | 'qcow2';
export type Accel = 'auto' | 'kvm' | 'interpreter';
export type BootDevice = 'cdrom' | 'disk';
export type OsFamily = 'linux' | 'bsd' | 'windows' | 'dos' | 'other';

export interface SessionInfo {
  state: RunState;
  /** The VM runs in another process (CLI, another window): this UI can only watch its state. */
  elsewhere?: { pid: number; owner: string };
  error?: ErrorInfo;
  accel?: { accel: 'kvm' | 'interpreter'; why: string };
  exitReason?: string;
  startedAt?: string;
  /** While it runs here with a network adapter: the guest's address (null until its DHCP lease) and the forwards listening now. */
  net?: NetStatus;
}

export interface DiskInfo extends DiskEntry {
  /** Absolute path on the host. */
  absolutePath: string;
  /** Virtual size in bytes when readable, else null (missing file). */
  sizeBytes: number | null;
  missing: boolean;
}

export type VmInfo =
  | { status: 'ok'; id: string; dir: string; config: VmConfig; disks: DiskInfo[]; session: SessionInfo; hasLastFrame: boolean }
  | { status: 'error'; id: string; dir: string; file: string; error: ErrorInfo };

export interface OsTypeInfo {
  id: string;
  label: string;
  family: OsFamily;
  memoryMiB: number;
  cpus: number;
  diskMiB: number;
  diskFormat: DiskFormat;
  display: boolean;
  serial: boolean;
}

export interface HostInfo {
  transport: 'electron' | 'web' | 'cli';
  version: string;
  platform: string;
  totalMemoryMiB: number;
  /** The most memory a VM may have here (the host's RAM less what the host needs). */
  maxVmMemoryMiB: number;
  cpus: number;
  kvm: { usable: boolean; why: string };
  firmware: { bios: string | null; vgaBios: string | null };
  libraryRoot: string;
  mediaDir: string;
  osTypes: OsTypeInfo[];
  /** The key that releases keyboard and pointer capture. */
  hostKey: { code: string; label: string };
  /** Web host: files can be uploaded to mediaDir. Electron: files are used where they are. */
  canUpload: boolean;
}

export interface IsoInfo {
  path: string;
  fileName: string;
  sizeBytes: number;
  volumeLabel: string;
  bootable: boolean;
  guessedOsType: string;
  suggestedName: string;
}

export interface MediaFile {
  path: string;
  fileName: string;
  /** boot: a kernel or initrd for direct Linux boot. */
  kind: 'iso' | 'disk' | 'boot';
  format?: DiskFormat;
  sizeBytes: number;
  modifiedAt: string;
}

/** A changed rectangle of a VM's screen, RGBA rows. */
export interface ScreenRect {
  width: number;
  height: number;
  x: number;
  y: number;
  w: number;
  h: number;
  rgba: Uint8Array;
}

export interface PngImage {
  width: number;
  height: number;
  png: Uint8Array;
}

export type FieldErrors = Record<string, string>;

export type ApiEvent =
  /** VMs were added, removed, renamed or changed: list again. */
  | { type: 'library' }
  | { type: 'session'; id: string; session: SessionInfo }
  /** Only for connections subscribed to this VM's screen. */
  | { type: 'screen'; id: string; rect: ScreenRect }
  /** Only for connections subscribed to this VM's serial port. */
  | { type: 'serial'; id: string; data: Uint8Array }
  /** Progress of a long call that was given this opId. */
  | { type: 'progress'; opId: string; message: string; fraction: number };

/** The settings a user edits (everything but bookkeeping). */
export type VmSettings = Omit<VmConfig, 'schemaVersion' | 'createdAt'>;

export type NewDiskChoice = { kind: 'new'; sizeMiB: number; format: DiskFormat } | { kind: 'existing'; path: string } | { kind: 'none' };

export interface CreateVmParams {
  name: string;
  osType: string;
  memoryMiB: number;
  cpus: number;
  disk: NewDiskChoice;
  /** ISO to put in the CD drive (and boot from first), or null. */
  iso: string | null;
  opId?: string;
}

type Id = { id: string };
type None = Record<string, never>;

export interface ApiMethods {
  hostInfo: { params: None; result: HostInfo };
  listVms: { params: None; result: VmInfo[] };
  getVm: { params: Id; result: VmInfo };
  /** Validation as you type: the same checks createVm/updateVm make, without doing anything. */
  checkNewVm: { params: { draft: object }; result: FieldErrors };
  checkSettings: { params: Id & { settings: object }; result: FieldErrors };
  createVm: { params: CreateVmParams; result: VmInfo };
  updateVm: { params: Id & { settings: VmSettings }; result: VmInfo };
  cloneVm: { params: Id & { name: string; opId?: string }; result: VmInfo };
  deleteVm: { params: Id & { keepDisks: boolean }; result: { keptFolder: boolean } };
  /**
   * Replace the VM's port forwards: at once in a VM running here (a host port in use is a
   * BAD_INPUT naming the rule, and the previous forwards stay), then in its config.
   */
  setForwards: { params: Id & { forwards: PortForwardSetting[] }; result: VmInfo };

  startVm: { params: Id; result: SessionInfo };
  pauseVm: { params: Id; result: SessionInfo };
  resumeVm: { params: Id; result: SessionInfo };
  resetVm: { params: Id; result: SessionInfo };
  acpiShutdown: { params: Id; result: SessionInfo };
  powerOff: { params: Id; result: SessionInfo };
  /** Forget the error of a run that failed. */
  dismissError: { params: Id; result: SessionInfo };

  attachIso: { params: Id & { path: string; bootFirst: boolean }; result: VmInfo };
  ejectIso: { params: Id; result: VmInfo };
  createDisk: { params: Id & { sizeMiB: number; format: DiskFormat; opId?: string }; result: VmInfo };
  inspectIso: { params: { path: string }; result: IsoInfo };
  listMedia: { params: None; result: MediaFile[] };

  /** Start screen events for this connection; the whole current screen comes first. */
  subscribeScreen: { params: Id; result: { width: number; height: number } | null };
  unsubscribeScreen: { params: Id; result: null };
  /** Start serial events; returns what the guest printed so far (the last 64 KiB). */
  subscribeSerial: { params: Id; result: { history: Uint8Array } };
  unsubscribeSerial: { params: Id; result: null };

  sendKey: { params: Id & { code: string; down: boolean }; result: null };
  /** Press these keys in order, then release them in reverse (Ctrl+Alt+Del). */
  sendKeyCombo: { params: Id & { codes: string[] }; result: null };
  sendPointer: { params: Id & { dx: number; dy: number; buttons: number }; result: null };
  sendSerial: { params: Id & { data: string }; result: null };

  /** The whole screen as PNG; also saved in the VM's folder (Screenshots/). */
  screenshot: { params: Id; result: PngImage & { savedAs: string } };
  /** A small live screen, or the last frame of the last run, or null. */
  thumbnail: { params: Id; result: PngImage | null };
}

export type MethodName = keyof ApiMethods;
export type Params<M extends MethodName> = ApiMethods[M]['params'];
export type Result<M extends MethodName> = ApiMethods[M]['result'];

/** The typed client the renderer uses, whichever transport carries it. */
export type TerrariumApi = { [M in MethodName]: (params: Params<M>) => Promise<Result<M>> };

export const METHOD_NAMES = [
  'hostInfo', 'listVms', 'getVm', 'checkNewVm', 'checkSettings', 'createVm', 'updateVm', 'cloneVm', 'deleteVm', 'setForwards',
  'startVm', 'pauseVm', 'resumeVm', 'resetVm', 'acpiShutdown', 'powerOff', 'dismissError',
  'attachIso', 'ejectIso', 'createDisk', 'inspectIso', 'listMedia',
  'subscribeScreen', 'unsubscribeScreen', 'subscribeSerial', 'unsubscribeSerial',
  'sendKey', 'sendKeyCombo', 'sendPointer', 'sendSerial', 'screenshot', 'thumbnail',
] as const satisfies readonly MethodName[];

/** IPC channel names (Electron) and the WebSocket path (web host). */
export const CHANNELS = { invoke: 'terrarium:invoke', event: 'terrarium:event', grant: 'terrarium:grant-path', dialog: 'terrarium:open-dialog', menu: 'terrarium:menu' } as const;
export const WS_PATH = '/api/ws';
export const UPLOAD_PATH = '/api/media';
