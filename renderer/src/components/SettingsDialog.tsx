/**
 * VM settings by section (System, Display, Storage, Network, Serial, General). Edits a copy;
 * the host checks it as the user types and explains each problem under its field, and a
 * refusal on save (a host port in use) lands there too. While the VM runs, only the CD, the
 * scale, the notes and the network can change.
 */
import { useEffect, useState } from 'react';
import type { BootDevice, DiskEntry, FieldErrors, VmInfo, VmSettings } from '../../../app/contract/api';
import { ApiError } from '../api/client';
import { formatBytes, newOpId } from '../lib/format';
import { forwardsOf, rowsOf, type ForwardRow } from '../lib/network';
import { processorsHelp } from '../lib/processors';
import { useCheck } from '../lib/use-check';
import { useApi, useApp } from '../store/app';
import { Dialog, Field } from './Dialog';
import { MediaPicker } from './MediaPicker';
import { NetworkSettings, type AdapterSettings } from './NetworkSettings';

type OkVm = Extract<VmInfo, { status: 'ok' }>;
type Section = 'system' | 'display' | 'storage' | 'network' | 'serial' | 'general';
const SECTIONS: Array<[Section, string]> = [
  ['system', 'System'],
  ['display', 'Display'],
  ['storage', 'Storage'],
  ['network', 'Network'],
  ['serial', 'Serial port'],
  ['general', 'General'],
];

function settingsOf(vm: OkVm): VmSettings {
  const { schemaVersion: _v, createdAt: _c, ...settings } = vm.config;
  return structuredClone(settings);
}

function sectionOf(field: string): Section {
  const head = field.split('.')[0];
  return head === 'system' || head === 'display' || head === 'storage' || head === 'network' || head === 'serial' ? head : 'general';
}

function numberOr(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

export function SettingsDialog({ vm }: { vm: OkVm }) {
  const api = useApi();
  const { host, openDialog, attempt, setProgress, endProgress, notify } = useApp();
  const [section, setSection] = useState<Section>('system');
  const [s, setS] = useState<VmSettings>(() => settingsOf(vm));
  const [memoryText, setMemoryText] = useState(String(vm.config.system.memoryMiB));
  const [cpusText, setCpusText] = useState(String(vm.config.system.cpus));
  const [newDisk, setNewDisk] = useState({ sizeGiB: '8', format: 'qcow2' as 'qcow2' | 'raw' });
  const [forwardRows, setForwardRows] = useState<ForwardRow[]>(() => rowsOf(vm.config.network.forwards));
  const [saving, setSaving] = useState(false);
  /** What the host refused when saving, by field, until the user edits again. */
  const [refused, setRefused] = useState<FieldErrors>({});
  const running = vm.session.state !== 'stopped' && vm.session.state !== 'error';
  const draft: VmSettings = { ...s, system: { ...s.system, memoryMiB: numberOr(memoryText), cpus: numberOr(cpusText) }, network: { ...s.network, forwards: forwardsOf(forwardRows) } };
  const draftKey = JSON.stringify(draft);
  useEffect(() => setRefused({}), [draftKey]);
  const { errors: raw, checking } = useCheck(draft, (d) => api.checkSettings({ id: vm.id, settings: d }));
  const errors: FieldErrors = { ...Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, /expected number|received NaN/i.test(v) ? 'Enter a number.' : v])), ...refused };
  const bad = new Set(Object.keys(errors).map(sectionOf));
  const close = () => openDialog(null);
  const sys = (patch: Partial<VmSettings['system']>) => setS((x) => ({ ...x, system: { ...x.system, ...patch } }));
  const storage = (patch: Partial<VmSettings['storage']>) => setS((x) => ({ ...x, storage: { ...x.storage, ...patch } }));
  const adapter = (patch: Partial<AdapterSettings>) => setS((x) => ({ ...x, network: { ...x.network, ...patch } }));

  const save = async () => {
    setSaving(true);
    try {
      const saved = await api.updateVm({ id: vm.id, settings: draft });
      notify('info', `Saved the settings of ${saved.id}.`);
      close();
    } catch (error) {
      // A refusal about one field (a host port in use) is shown under that field.
      const field = error instanceof ApiError ? error.field?.replace(/^settings\./, '') : undefined;
      if (error instanceof ApiError && field !== undefined) {
        setRefused({ [field]: error.message });
        setSection(sectionOf(field));
      } else if (error instanceof ApiError) notify('error', error.message, error.hint);
      else notify('error', `Saving the settings failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setSaving(false);
    }
  };

  const addDisk = async () => {
    const opId = newOpId();
    setProgress(opId, 'Creating a disk', 0);
    const updated = await attempt(() => api.createDisk({ id: vm.id, sizeMiB: Math.round(numberOr(newDisk.sizeGiB) * 1024), format: newDisk.format, opId }));
    endProgress(opId);
    if (updated?.status === 'ok') storage({ disks: updated.config.storage.disks });
  };

  const moveBoot = (device: BootDevice, enabled: boolean) => {
    const order = s.system.bootOrder.filter((d) => d !== device);
    sys({ bootOrder: enabled ? [...order, device] : order });
  };

  return (
    <Dialog
      wide
      title={`${vm.config.name} — Settings`}
      testId="settings-dialog"
      onClose={close}
      footer={
        <>
          {running && <span className="muted">The VM is running: only the CD, the scale, the notes and the network can change now.</span>}
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button type="button" className="primary" data-testid="settings-save" disabled={checking || saving || Object.keys(errors).length > 0} onClick={() => void save()}>
            Save
          </button>
        </>
      }
    >
      <div className="settings">
        <div className="settings-nav" role="tablist">
          {SECTIONS.map(([id, label]) => (
            <button type="button" role="tab" key={id} aria-selected={section === id} data-testid={`settings-${id}`} className={`${section === id ? 'active' : ''}${bad.has(id) ? ' has-error' : ''}`} onClick={() => setSection(id)}>
              {label}
            </button>
          ))}
        </div>
        <div className="settings-body">
          {section === 'system' && (
            <fieldset disabled={running}>
              <Field label="Memory (MiB)" error={errors['system.memoryMiB']} help={host ? `Up to ${host.maxVmMemoryMiB} MiB on this host.` : undefined}>
                <input data-testid="settings-memory" className="num" value={memoryText} onChange={(e) => setMemoryText(e.target.value)} />
              </Field>
              <Field label="Processors" error={errors['system.cpus']} help={host ? processorsHelp(host) : undefined}>
                <input data-testid="settings-cpus" className="num" value={cpusText} onChange={(e) => setCpusText(e.target.value)} />
              </Field>
              <Field label="Accelerator" error={errors['system.accel']} help={host?.kvm.why}>
                <select data-testid="settings-accel" value={s.system.accel} onChange={(e) => sys({ accel: e.target.value as VmSettings['system']['accel'] })}>
                  <option value="auto">Automatic (KVM when it can run this guest)</option>
                  <option value="kvm">KVM</option>
                  <option value="interpreter">Interpreter</option>
                </select>
              </Field>
              <Field label="Boot order" error={errors['system.bootOrder']}>
                <div className="boot-order">
                  {s.system.bootOrder.map((d, i) => (
                    <div key={d} className="boot-item">
                      <span>
                        {i + 1}. {d === 'cdrom' ? 'CD/DVD' : 'Hard disk'}
                      </span>
                      <button type="button" disabled={i === 0} onClick={() => sys({ bootOrder: [d, ...s.system.bootOrder.filter((x) => x !== d)] })}>
                        Move to top
                      </button>
                      <button type="button" data-testid={`boot-remove-${d}`} onClick={() => moveBoot(d, false)}>
                        Remove
                      </button>
                    </div>
                  ))}
                  {(['cdrom', 'disk'] as const)
                    .filter((d) => !s.system.bootOrder.includes(d))
                    .map((d) => (
                      <button type="button" key={d} onClick={() => moveBoot(d, true)}>
                        Add {d === 'cdrom' ? 'CD/DVD' : 'hard disk'}
                      </button>
                    ))}
                </div>
              </Field>
              <details>
                <summary>Direct Linux boot (skips the firmware)</summary>
                <Field label="Kernel" error={errors['system.kernel']}>
                  <MediaPicker kind="kernel" testId="settings-kernel" value={s.system.kernel} onChange={(p) => sys({ kernel: p })} />
                </Field>
                <Field label="Initrd" error={errors['system.initrd']}>
                  <MediaPicker kind="kernel" testId="settings-initrd" value={s.system.initrd} onChange={(p) => sys({ initrd: p })} />
                </Field>
                <Field label="Kernel command line" error={errors['system.cmdline']}>
                  <input value={s.system.cmdline} onChange={(e) => sys({ cmdline: e.target.value })} placeholder="console=ttyS0" />
                </Field>
              </details>
            </fieldset>
          )}
          {section === 'display' && (
            <>
              <label className="check">
                <input type="checkbox" disabled={running} checked={s.display.enabled} onChange={(e) => setS({ ...s, display: { ...s.display, enabled: e.target.checked } })} /> VGA display (off: the serial port is the console)
              </label>
              <Field label="Console scale" error={errors['display.scale']}>
                <select value={s.display.scale} onChange={(e) => setS({ ...s, display: { ...s.display, scale: e.target.value as 'fit' | '1:1' } })}>
                  <option value="fit">Fit to window</option>
                  <option value="1:1">1:1</option>
                </select>
              </Field>
            </>
          )}
          {section === 'storage' && (
            <>
              <h3>Hard disks (IDE)</h3>
              {errors['storage.disks'] && <p className="field-error">{errors['storage.disks']}</p>}
              <ul className="disk-list">
                {s.storage.disks.map((d: DiskEntry, i) => {
                  const info = vm.disks.find((x) => x.path === d.path);
                  return (
                    <li key={d.path}>
                      <span className="path">{info?.absolutePath ?? d.path}</span> <span className="muted">{d.format}{info?.sizeBytes != null ? `, ${formatBytes(info.sizeBytes)}` : ''}</span>
                      {errors[`storage.disks.${i}.path`] && <span className="field-error">{errors[`storage.disks.${i}.path`]}</span>}
                      <button type="button" disabled={running} onClick={() => storage({ disks: s.storage.disks.filter((_, j) => j !== i) })}>
                        Detach
                      </button>
                    </li>
                  );
                })}
              </ul>
              <fieldset disabled={running} className="row">
                <Field label="New disk size (GiB)">
                  <input className="num" value={newDisk.sizeGiB} onChange={(e) => setNewDisk({ ...newDisk, sizeGiB: e.target.value })} />
                </Field>
                <Field label="Format">
                  <select value={newDisk.format} onChange={(e) => setNewDisk({ ...newDisk, format: e.target.value as 'qcow2' | 'raw' })}>
                    <option value="qcow2">qcow2</option>
                    <option value="raw">raw</option>
                  </select>
                </Field>
                <button type="button" data-testid="settings-add-disk" onClick={() => void addDisk()}>
                  Create and attach
                </button>
              </fieldset>
              <Field label="Attach an existing disk image">
                <MediaPicker kind="disk" testId="settings-existing-disk" value={null} onChange={(p) => p && storage({ disks: [...s.storage.disks, { path: p, format: 'raw', readOnly: false }] })} />
              </Field>
              <h3>CD/DVD drive</h3>
              <Field label="ISO" error={errors['storage.cdrom']}>
                <MediaPicker kind="iso" testId="settings-cdrom" value={s.storage.cdrom} onChange={(p) => storage({ cdrom: p })} />
              </Field>
            </>
          )}
          {section === 'network' && <NetworkSettings adapter={s.network} rows={forwardRows} errors={errors} running={running} onAdapter={adapter} onRows={setForwardRows} />}
          {section === 'serial' && (
            <fieldset disabled={running}>
              <label className="check">
                <input type="checkbox" checked={s.serial.enabled} onChange={(e) => setS({ ...s, serial: { ...s.serial, enabled: e.target.checked } })} /> COM1 (shown in the Serial tab)
              </label>
              <label className="check">
                <input type="checkbox" checked={s.serial.logToFile} onChange={(e) => setS({ ...s, serial: { ...s.serial, logToFile: e.target.checked } })} /> Also write it to Logs/serial.log in the VM folder
              </label>
            </fieldset>
          )}
          {section === 'general' && (
            <>
              <Field label="Name" error={errors.name} help="Renames the VM's folder too.">
                <input data-testid="settings-name" disabled={running} value={s.name} onChange={(e) => setS({ ...s, name: e.target.value })} />
              </Field>
              <Field label="Operating system" error={errors.osType}>
                <select disabled={running} value={s.osType} onChange={(e) => setS({ ...s, osType: e.target.value })}>
                  {host?.osTypes.map((o) => (
                    <option key={o.id} value={o.id}>
                      {o.label}
                    </option>
                  ))}
                </select>
              </Field>
              <Field label="Notes" error={errors.notes}>
                <textarea rows={4} value={s.notes} onChange={(e) => setS({ ...s, notes: e.target.value })} />
              </Field>
            </>
          )}
        </div>
      </div>
    </Dialog>
  );
}
