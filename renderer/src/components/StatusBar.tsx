import type { VmInfo } from '../../../app/contract/api';
import { describeRule } from '../lib/network';
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
      {vm?.status === 'ok' && <GuestNetwork vm={vm} />}
      <span className="spacer" />
      {host && <span title={host.kvm.why}>/dev/kvm: {host.kvm.usable ? 'present' : 'not usable'}</span>}
      {host && <span>Host: {Math.round(host.totalMemoryMiB / 1024)} GiB, {host.cpus} CPUs</span>}
      <span className={`conn conn-${connection}`}>{host?.transport === 'web' ? `Web host: ${connection}` : 'Desktop'}</span>
    </footer>
  );
}

/** The selected VM's guest address and active forwards while it runs here with NAT. */
function GuestNetwork({ vm }: { vm: Extract<VmInfo, { status: 'ok' }> }) {
  const { state, net, elsewhere } = vm.session;
  const live = state === 'starting' || state === 'running' || state === 'paused';
  if (!live || elsewhere !== undefined || vm.config.network.mode !== 'nat') return null;
  const forwards = net?.forwards ?? [];
  return (
    <span data-testid="status-net" title={forwards.map(describeRule).join('\n')}>
      Guest {net?.guestAddress ?? 'waiting for DHCP'}
      {forwards.length > 0 && ` · ${forwards.map((f) => `${f.protocol} ${f.hostPort}→${f.guestPort}`).join(', ')}`}
    </span>
  );
}
