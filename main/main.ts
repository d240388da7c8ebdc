/**
 * Electron main process: one instance, one window, the app/ service behind IPC. Everything
 * that is not windows, menus and dialogs lives in app/.
 */
import { app, BrowserWindow, Menu } from 'electron';
import path from 'node:path';
import { resolveDataPaths } from '../app/host/paths.js';
import { TerrariumService } from '../app/service/service.js';
import { IpcBridge } from './ipc.js';
import { buildMenu } from './menu.js';
import { registerScheme, serveRenderer } from './protocol.js';
import { createMainWindow, hardenSession } from './window.js';

if (!app.requestSingleInstanceLock()) {
  // Another Terrarium owns the library and its running VMs: hand over to it.
  app.quit();
} else {
  registerScheme();
  let window: BrowserWindow | null = null;
  const service = new TerrariumService({ paths: resolveDataPaths(), transport: 'electron', version: app.getVersion(), owner: 'desktop app' });

  app.on('second-instance', () => {
    if (window === null) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });

  app.whenReady().then(async () => {
    await service.open();
    hardenSession();
    serveRenderer(path.resolve(import.meta.dirname, '../../renderer/dist'));
    const ipc = new IpcBridge(service);
    ipc.register();
    Menu.setApplicationMenu(buildMenu(ipc, service.options.paths.library));
    window = createMainWindow();
    window.on('closed', () => (window = null));
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) window = createMainWindow();
    });
  }, (error: unknown) => {
    console.error('Terrarium could not start:', error);
    app.exit(1);
  });

  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    // Power off running VMs (their disks flush) before the process goes.
    event.preventDefault();
    quitting = true;
    void service.close().finally(() => app.quit());
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
