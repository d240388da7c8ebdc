import { useApp } from '../store/app';

export function StatusBar() {
  const { host, captured, connection, vms, selectedId } = useApp();
  const vm = vms.find((v) => v.id === selectedId);
  const accel = vm?.status === 'ok' ? vm.session.accel : undefined;
  return (
    <footer className="statusbar" data-testid="statusbar">
      <span data-testid="capture-state">
        {captured ? `Keyboard and mouse captured — press ${host?.hostKey.label ?? 'Right Ctrl'} to release` : `Host key: ${host?.hostKey.label ?? 'Right Ctrl'}`}
      </span>
      {accel && <span>{accel.accel === 'kvm' ? 'KVM' : 'Interpreter'}</span>}
      <span className="spacer" />
      {host && <span title={host.kvm.why}>/dev/kvm: {host.kvm.usable ? 'present' : 'not usable'}</span>}
      {host && <span>Host: {Math.round(host.totalMemoryMiB / 1024)} GiB, {host.cpus} CPUs</span>}
      <span className={`conn conn-${connection}`}>{host?.transport === 'web' ? `Web host: ${connection}` : 'Desktop'}</span>
    </footer>
  );
}
