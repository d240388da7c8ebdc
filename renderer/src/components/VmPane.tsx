import { useApp, type Tab } from '../store/app';
import { Details } from './Details';
import { Console } from './Console';
import { SerialTerminal } from './SerialTerminal';

const TABS: Array<[Tab, string]> = [
  ['details', 'Details'],
  ['console', 'Console'],
  ['serial', 'Serial'],
];

export function VmPane() {
  const { vms, selectedId, tab, setTab } = useApp();
  const vm = vms.find((v) => v.id === selectedId);
  if (vm === undefined) {
    return (
      <main className="pane empty" data-testid="welcome">
        <h1>Welcome to Terrarium</h1>
        <p>Create a virtual machine with <strong>New</strong>, or drop an installer ISO on this window.</p>
      </main>
    );
  }
  if (vm.status === 'error') {
    return (
      <main className="pane padded" data-testid="broken-vm">
        <h1>{vm.id}</h1>
        <div className="error-box" role="alert">
          <p className="error-title">This VM's configuration cannot be read.</p>
          <p>{vm.error.message}</p>
          {vm.error.hint && <p className="hint">{vm.error.hint}</p>}
          <p className="path">File: {vm.file}</p>
          <p>Terrarium will not change or delete this VM: fix the file, or remove the folder {vm.dir} yourself.</p>
        </div>
      </main>
    );
  }
  return (
    <main className="pane">
      <div className="tabs" role="tablist">
        {TABS.map(([id, label]) => (
          <button type="button" role="tab" key={id} aria-selected={tab === id} data-testid={`tab-${id}`} className={tab === id ? 'active' : ''} onClick={() => setTab(id)}>
            {label}
          </button>
        ))}
      </div>
      <div className="tab-body">
        {tab === 'details' && <Details vm={vm} />}
        {tab === 'console' && <Console key={vm.id} vm={vm} />}
        {tab === 'serial' && <SerialTerminal key={vm.id} vm={vm} />}
      </div>
    </main>
  );
}
