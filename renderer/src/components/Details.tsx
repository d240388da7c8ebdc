import type { VmInfo } from '../../../app/contract/api';
import { formatBytes, formatMiB } from '../lib/format';
import { describeRule, sshCommand } from '../lib/network';
import { useApi, useApp } from '../store/app';
import { StateBadge } from './StateBadge';

type OkVm = Extract<VmInfo, { status: 'ok' }>;

export function Details({ vm }: { vm: OkVm }) {
  const api = useApi();
  const { host, attempt } = useApp();
  const c = vm.config;
  const os = host?.osTypes.find((o) => o.id === c.osType)?.label ?? c.osType;
  return (
    <div className="details" data-testid="details">
      <h1>{c.name}</h1>
      <StateBadge session={vm.session} />
      {vm.session.state === 'error' && vm.session.error && (
        <div className="error-box" role="alert">
          <p className="error-title">{vm.session.error.message}</p>
          {vm.session.error.hint && <p className="hint">{vm.session.error.hint}</p>}
          <button type="button" onClick={() => void attempt(() => api.dismissError({ id: vm.id }))}>
            Dismiss
          </button>
        </div>
      )}
      {vm.session.accel && (
        <p className="muted">
          {vm.session.state === 'stopped' || vm.session.state === 'error' ? 'Last run on' : 'Running on'} {vm.session.accel.accel === 'kvm' ? 'KVM' : 'the interpreter'} ({vm.session.accel.why.replace(/^(kvm|interpreter):\s*/, '')})
          {vm.session.exitReason && vm.session.state === 'stopped' ? `; it ended: ${vm.session.exitReason}` : ''}.
        </p>
      )}
      <section>
        <h2>General</h2>
        <dl>
          <dt>Operating system</dt>
          <dd data-testid="detail-os">{os}</dd>
          <dt>Folder</dt>
          <dd className="path">{vm.dir}</dd>
        </dl>
      </section>
      <section>
        <h2>System</h2>
        <dl>
          <dt>Memory</dt>
          <dd data-testid="detail-memory">{formatMiB(c.system.memoryMiB)}</dd>
          <dt>CPUs</dt>
          <dd>{c.system.cpus}</dd>
          <dt>Accelerator</dt>
          <dd>{c.system.accel}</dd>
          <dt>Boot order</dt>
          <dd>{c.system.bootOrder.join(', ')}</dd>
          {c.system.kernel && (
            <>
              <dt>Kernel</dt>
              <dd className="path">{c.system.kernel}</dd>
            </>
          )}
        </dl>
      </section>
      <section>
        <h2>Storage</h2>
        <dl>
          {vm.disks.map((d, i) => (
            <FragmentRow key={d.path} label={`Disk ${i}`} value={`${d.absolutePath} (${d.format}${d.sizeBytes !== null ? `, ${formatBytes(d.sizeBytes)}` : ''}${d.missing ? ', MISSING' : ''})`} />
          ))}
          <dt>CD/DVD</dt>
          <dd className="path" data-testid="detail-cdrom">
            {c.storage.cdrom ?? 'empty'}
            {c.storage.cdrom && (
              <button type="button" className="link" onClick={() => void attempt(() => api.ejectIso({ id: vm.id }))}>
                Eject
              </button>
            )}
          </dd>
        </dl>
      </section>
      <NetworkDetails vm={vm} />
      <section>
        <h2>Display and serial</h2>
        <dl>
          <dt>Display</dt>
          <dd>{c.display.enabled ? `VGA, ${c.display.scale === 'fit' ? 'scaled to fit' : '1:1'}` : 'none (serial console)'}</dd>
          <dt>Serial port</dt>
          <dd>{c.serial.enabled ? `COM1${c.serial.logToFile ? ', logged to Logs/serial.log' : ''}` : 'off'}</dd>
        </dl>
      </section>
      {c.notes && (
        <section>
          <h2>Notes</h2>
          <p className="notes">{c.notes}</p>
        </section>
      )}
    </div>
  );
}

function FragmentRow({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className="path">{value}</dd>
    </>
  );
}

/** The adapter as configured; while the VM runs here, the guest's address and the forwards listening now. */
function NetworkDetails({ vm }: { vm: OkVm }) {
  const { network } = vm.config;
  const { state, net, elsewhere } = vm.session;
  const live = state === 'starting' || state === 'running' || state === 'paused' || state === 'stopping';
  const forwards = live && net !== undefined ? net.forwards : network.forwards;
  let address = 'the VM is not running';
  if (live) address = elsewhere !== undefined ? `unknown here (it runs in ${elsewhere.owner})` : (net?.guestAddress ?? 'waiting for DHCP');
  return (
    <section>
      <h2>Network</h2>
      <dl>
        <dt>Adapter</dt>
        <dd data-testid="detail-net-adapter">{network.mode === 'nat' ? `Intel e1000, NAT (MAC ${network.mac})${network.blockHostAccess ? ', no access to this computer' : ''}` : 'not attached'}</dd>
        {network.mode === 'nat' && (
          <>
            <dt>Guest address</dt>
            <dd data-testid="detail-net-address">{address}</dd>
            <dt>{live && net !== undefined ? 'Active forwards' : 'Port forwards'}</dt>
            <dd data-testid="detail-net-forwards">
              {forwards.length === 0
                ? 'none'
                : forwards.map((f) => {
                    const ssh = sshCommand(f);
                    return (
                      <div key={`${f.protocol}:${f.hostAddress ?? ''}:${f.hostPort}`}>
                        {describeRule(f)}
                        {ssh !== null && <code className="inline-code">{ssh}</code>}
                      </div>
                    );
                  })}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}
