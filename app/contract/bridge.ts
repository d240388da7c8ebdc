/**
 * What the Electron preload exposes to the renderer (window.terrarium) through
 * contextBridge. Errors travel inside the envelope because Electron strips everything but
 * the message from a rejected IPC call.
 */
import type { ApiEvent, ErrorInfo } from './api.js';

export type Envelope = { ok: true; result: unknown } | { ok: false; error: ErrorInfo };

export type FileKind = 'iso' | 'disk' | 'kernel';

/** Application menu items the renderer acts on (they concern the selected VM or a dialog). */
export type MenuCommand =
  | { command: 'new-vm' | 'settings' | 'start' | 'pause' | 'acpi-shutdown' | 'power-off' | 'reset' | 'delete' | 'clone' | 'console' | 'serial' }
  /** File → Open ISO…: the chosen file is granted to the window already. */
  | { command: 'open-iso'; path: string };

export interface TerrariumBridge {
  invoke(method: string, params: unknown): Promise<Envelope>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
  /** The host path of a File the user dropped, now usable by this window ('' when none). */
  pathForFile(file: unknown): Promise<string>;
  /** A native open dialog; the chosen path is usable by this window. */
  openFileDialog(kind: FileKind): Promise<string | null>;
  onMenu(listener: (command: MenuCommand) => void): () => void;
}
