import type { VmInfo } from '../../../app/contract/api';
import { formatBytes, formatMiB } from '../lib/format';
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
