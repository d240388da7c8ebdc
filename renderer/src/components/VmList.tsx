import { useApp } from '../store/app';
import { OsIcon } from './OsIcon';
import { Thumbnail } from './Thumbnail';
import { StateBadge } from './StateBadge';

export function VmList() {
  const { vms, selectedId, select, host, loaded } = useApp();
  const family = (osType: string) => host?.osTypes.find((o) => o.id === osType)?.family ?? 'other';
  return (
    <nav className="vm-list" aria-label="Virtual machines" data-testid="vm-list">
      {loaded && vms.length === 0 && (
        <div className="vm-list-empty">
          <p>No VMs yet.</p>
          <p>Click <strong>New</strong>, or drop an ISO file anywhere on this window.</p>
        </div>
      )}
      {vms.map((vm) => (
        <button
          type="button"
          key={vm.id}
          className={`vm-item${vm.id === selectedId ? ' selected' : ''}${vm.status === 'error' ? ' broken' : ''}`}
          data-testid={`vm-item-${vm.id}`}
          data-vm-id={vm.id}
          aria-current={vm.id === selectedId}
          onClick={() => select(vm.id)}
        >
          {vm.status === 'ok' ? (
            <>
              <OsIcon family={family(vm.config.osType)} title={vm.config.osType} />
              <div className="vm-item-text">
                <div className="vm-name">{vm.config.name}</div>
                <StateBadge session={vm.session} />
              </div>
              <Thumbnail vm={vm} />
            </>
          ) : (
            <>
              <OsIcon family="other" title="unreadable" />
              <div className="vm-item-text">
                <div className="vm-name">{vm.id}</div>
                <div className="state state-error">cannot be read</div>
              </div>
            </>
          )}
        </button>
      ))}
    </nav>
  );
}
