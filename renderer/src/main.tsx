import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { createApi, type Transport } from './api/client';
import { IpcTransport } from './api/ipc-transport';
import { WebSocketTransport } from './api/ws-transport';
import { App } from './components/App';
import { handleMenu } from './lib/menu';
import { useApp } from './store/app';

// Under Electron the preload provides the bridge; in a browser we talk to the web host.
const transport: Transport = window.terrarium ? new IpcTransport(window.terrarium) : new WebSocketTransport();
void useApp.getState().init(createApi(transport), transport);
window.terrarium?.onMenu((command) => void handleMenu(command));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
