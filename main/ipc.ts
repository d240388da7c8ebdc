/**
 * IPC handlers: each delegates to the app's contract service. One contract connection per
 * window; only our own page (terrarium://app) may call; errors come back in the envelope.
 */
import { BrowserWindow, dialog, ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { Envelope, FileKind } from '../app/contract/bridge.js';
import { CHANNELS } from '../app/contract/api.js';
import type { Connection } from '../app/contract/connection.js';
import { toErrorInfo } from '../app/errors.js';
import { RootsPolicy } from '../app/service/path-policy.js';
import type { TerrariumService } from '../app/service/service.js';
import { APP_ORIGIN } from './protocol.js';

const FILTERS: Record<FileKind, Electron.FileFilter[]> = {
  iso: [{ name: 'CD/DVD images', extensions: ['iso'] }],
  disk: [{ name: 'Disk images', extensions: ['qcow2', 'img', 'raw'] }],
  kernel: [{ name: 'All files', extensions: ['*'] }],
};

export class IpcBridge {
  private readonly connections = new Map<number, Connection>();

  constructor(private readonly service: TerrariumService) {}

  register(): void {
    ipcMain.handle(CHANNELS.invoke, async (event, method: unknown, params: unknown): Promise<Envelope> => {
      try {
        const conn = this.connectionFor(event);
        return { ok: true, result: await this.service.dispatch(method, params, conn) };
      } catch (error) {
        return { ok: false, error: toErrorInfo(error) };
      }
    });
    ipcMain.handle(CHANNELS.grant, (event, file: unknown) => {
      if (typeof file === 'string' && file !== '') this.connectionFor(event).paths.grant(file);
    });
    ipcMain.handle(CHANNELS.dialog, async (event, kind: unknown) => this.openDialog(event, kind));
  }

  /** A native open dialog; its answer is granted to that window. */
  async openDialog(event: IpcMainInvokeEvent | { sender: WebContents }, kind: unknown): Promise<string | null> {
    const k: FileKind = kind === 'disk' || kind === 'kernel' ? kind : 'iso';
    const win = BrowserWindow.fromWebContents(event.sender);
    const options: Electron.OpenDialogOptions = { properties: ['openFile'], filters: FILTERS[k], title: k === 'iso' ? 'Choose an ISO' : k === 'disk' ? 'Choose a disk image' : 'Choose a file' };
    const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
    const file = result.canceled ? undefined : result.filePaths[0];
    if (file === undefined) return null;
    this.connectionFor(event).paths.grant(file);
    return file;
  }

  connectionFor(event: { sender: WebContents; senderFrame?: Electron.WebFrameMain | null }): Connection {
    const frameUrl = event.senderFrame?.url ?? event.sender.getURL();
    if (!frameUrl.startsWith(`${APP_ORIGIN}/`)) throw new Error(`IPC from an unexpected page: ${frameUrl}`);
    const contents = event.sender;
    let conn = this.connections.get(contents.id);
    if (conn === undefined) {
      const { paths } = this.service.options;
      conn = this.service.connect(
        {
          send: (e) => {
            if (!contents.isDestroyed()) contents.send(CHANNELS.event, e);
          },
          backlog: () => 0,
        },
        new RootsPolicy([paths.media, paths.library]),
      );
      this.connections.set(contents.id, conn);
      const created = conn;
      contents.once('destroyed', () => {
        this.service.disconnect(created);
        this.connections.delete(contents.id);
      });
    }
    return conn;
  }
}
