/** The application menu. Items about the selected VM are forwarded to the renderer, which knows the selection. */
import { app, BrowserWindow, Menu, shell, type MenuItemConstructorOptions } from 'electron';
import { CHANNELS } from '../app/contract/api.js';
import type { MenuCommand } from '../app/contract/bridge.js';
import type { IpcBridge } from './ipc.js';

function send(command: MenuCommand): void {
  BrowserWindow.getFocusedWindow()?.webContents.send(CHANNELS.menu, command);
}

export function buildMenu(ipc: IpcBridge, libraryRoot: string): Menu {
  const mac = process.platform === 'darwin';
  const item = (label: string, command: MenuCommand['command'], accelerator?: string): MenuItemConstructorOptions => ({
    label,
    ...(accelerator ? { accelerator } : {}),
    click: () => send({ command } as MenuCommand),
  });
  const template: MenuItemConstructorOptions[] = [
    ...(mac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        item('&New VM…', 'new-vm', 'CmdOrCtrl+N'),
        {
          label: '&Open ISO…',
          accelerator: 'CmdOrCtrl+O',
          click: async () => {
            const win = BrowserWindow.getFocusedWindow();
            if (win === null) return;
            const path = await ipc.openDialog({ sender: win.webContents }, 'iso');
            if (path !== null) send({ command: 'open-iso', path });
          },
        },
        { label: 'Show the VM &library folder', click: () => void shell.openPath(libraryRoot) },
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: '&Machine',
      submenu: [
        item('&Settings…', 'settings', 'CmdOrCtrl+S'),
        { type: 'separator' },
        item('S&tart', 'start'),
        item('&Pause', 'pause'),
        item('&ACPI shutdown', 'acpi-shutdown'),
        item('Power o&ff', 'power-off'),
        item('&Reset', 'reset'),
        { type: 'separator' },
        item('&Clone…', 'clone'),
        item('&Delete…', 'delete'),
      ],
    },
    {
      label: '&View',
      submenu: [item('&Console', 'console', 'CmdOrCtrl+1'), item('&Serial', 'serial', 'CmdOrCtrl+2'), { type: 'separator' }, { role: 'togglefullscreen' }, ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }])],
    },
    { label: '&Help', submenu: [{ label: `Terrarium ${app.getVersion()}`, enabled: false }] },
  ];
  return Menu.buildFromTemplate(template);
}
