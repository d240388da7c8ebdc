/** Application menu commands (Electron) acting on the selection, like the toolbar does. */
import type { MenuCommand } from '../../../app/contract/bridge';
import { useApp } from '../store/app';

export async function handleMenu(command: MenuCommand): Promise<void> {
  const store = useApp.getState();
  const api = store.api;
  const vm = store.selected();
  if (api === null) return;
  switch (command.command) {
    case 'new-vm':
      return store.openDialog({ kind: 'wizard' });
    case 'open-iso': {
      const iso = await store.attempt(() => api.inspectIso({ path: command.path }));
      if (iso) store.openDialog({ kind: 'iso-create', iso });
      return;
    }
    case 'console':
      return store.setTab('console');
    case 'serial':
      return store.setTab('serial');
  }
  if (vm === null) {
    store.notify('error', 'Select a VM first.');
    return;
  }
  const id = vm.id;
  switch (command.command) {
    case 'settings':
      return store.openDialog({ kind: 'settings', id });
    case 'delete':
      return store.openDialog({ kind: 'delete', id });
    case 'clone':
      return store.openDialog({ kind: 'clone', id });
    case 'start':
      store.setTab('console');
      await store.attempt(() => api.startVm({ id }));
      return;
    case 'pause':
      await store.attempt(() => api.pauseVm({ id }));
      return;
    case 'acpi-shutdown':
      await store.attempt(() => api.acpiShutdown({ id }));
      return;
    case 'power-off':
      await store.attempt(() => api.powerOff({ id }));
      return;
    case 'reset':
      await store.attempt(() => api.resetVm({ id }));
      return;
  }
}
