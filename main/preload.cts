/**
 * The only bridge between the sandboxed renderer and the main process: the contract's
 * invoke/events, file paths of real drops (webUtils), native dialogs and menu commands.
 * Sandboxed preloads are CommonJS and may require only 'electron'.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { ApiEvent } from '../app/contract/api.js';
import type { Envelope, FileKind, MenuCommand, TerrariumBridge } from '../app/contract/bridge.js';

// Literal copies of CHANNELS (app/contract/api.ts): a sandboxed preload cannot import it.
const INVOKE = 'terrarium:invoke';
const EVENT = 'terrarium:event';
const GRANT = 'terrarium:grant-path';
const DIALOG = 'terrarium:open-dialog';
const MENU = 'terrarium:menu';

const bridge: TerrariumBridge = {
  invoke: (method: string, params: unknown) => ipcRenderer.invoke(INVOKE, method, params) as Promise<Envelope>,
  onEvent: (listener: (event: ApiEvent) => void) => {
    const handler = (_e: IpcRendererEvent, event: ApiEvent) => listener(event);
    ipcRenderer.on(EVENT, handler);
    return () => void ipcRenderer.off(EVENT, handler);
  },
  pathForFile: async (file: unknown) => {
    // Only a File the user really dropped has a path; one made in JavaScript gives ''.
    let path: string;
    try {
      path = webUtils.getPathForFile(file as File);
    } catch {
      path = ''; // not a File at all
    }
    if (path !== '') await ipcRenderer.invoke(GRANT, path);
    return path;
  },
  openFileDialog: (kind: FileKind) => ipcRenderer.invoke(DIALOG, kind) as Promise<string | null>,
  onMenu: (listener: (command: MenuCommand) => void) => {
    const handler = (_e: IpcRendererEvent, command: MenuCommand) => listener(command);
    ipcRenderer.on(MENU, handler);
    return () => void ipcRenderer.off(MENU, handler);
  },
};

contextBridge.exposeInMainWorld('terrarium', bridge);
