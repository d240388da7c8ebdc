import type { VmInfo } from '../../../app/contract/api';
import { useApi, useApp } from '../store/app';
import { Icon } from './Icon';

function isRunning(vm: VmInfo | undefined): boolean {
  return vm?.status === 'ok' && vm.session.state !== 'stopped' && vm.session.state !== 'error';
}

export function Toolbar() {
  const api = useApi();
  const { vms, selectedId, openDialog, attempt, setTab } = useApp();
  const vm = vms.find((v) => v.id === selectedId);
  const ok = vm?.status === 'ok' ? vm : null;
  const state = ok?.session.state;
  const running = isRunning(vm);
  const elsewhere = ok?.session.elsewhere !== undefined;
  // A VM started with `terrarium start` can still be shut down or powered off from here.
  const stoppable = !elsewhere || ok?.session.elsewhere?.owner === 'cli';

  const start = async () => {
    if (!ok) return;
    setTab('console');
    await attempt(() => api.startVm({ id: ok.id }));
  };

  return (
    <header className="toolbar" role="toolbar" aria-label="VM actions">
      <div className="brand">Terrarium</div>
      <button type="button" data-testid="new-vm" onClick={() => openDialog({ kind: 'wizard' })}>
        <Icon name="plus" />New
      </button>
      <button type="button" data-testid="settings" disabled={!ok || elsewhere} onClick={() => ok && openDialog({ kind: 'settings', id: ok.id })}>
        <Icon name="gear" />Settings
      </button>
      {state === 'paused' ? (
        <button type="button" data-testid="resume" onClick={() => ok && void attempt(() => api.resumeVm({ id: ok.id }))}>
          <Icon name="play" />Resume
        </button>
      ) : (
        <button type="button" data-testid="start" disabled={!ok || running} onClick={() => void start()}>
          <Icon name="play" />Start
        </button>
      )}
      <button type="button" data-testid="pause" disabled={!ok || state !== 'running' || elsewhere} onClick={() => ok && void attempt(() => api.pauseVm({ id: ok.id }))}>
        <Icon name="pause" />Pause
      </button>
      <div className="split">
        <button type="button" data-testid="stop" disabled={!ok || !running || !stoppable} title="Ask the guest to shut down (ACPI power button)" onClick={() => ok && void attempt(() => api.acpiShutdown({ id: ok.id }))}>
          <Icon name="power" />Stop
        </button>
        <button type="button" data-testid="power-off" disabled={!ok || !running || !stoppable} title="Pull the plug: unsaved guest data is lost" onClick={() => ok && void attempt(() => api.powerOff({ id: ok.id }))}>
          Power off
        </button>
        <button type="button" data-testid="reset" disabled={!ok || (state !== 'running' && state !== 'paused') || elsewhere} title="Hardware reset" onClick={() => ok && void attempt(() => api.resetVm({ id: ok.id }))}>
          Reset
        </button>
      </div>
      <button type="button" data-testid="clone" disabled={!ok || running} onClick={() => ok && openDialog({ kind: 'clone', id: ok.id })}>
        <Icon name="copy" />
        Clone
      </button>
      <button type="button" data-testid="delete" disabled={!ok || running} title={vm?.status === 'error' ? 'Terrarium does not delete a VM whose config it cannot read' : undefined} onClick={() => ok && openDialog({ kind: 'delete', id: ok.id })}>
        <Icon name="trash" />Delete
      </button>
    </header>
  );
}
