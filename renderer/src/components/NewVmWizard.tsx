/**
 * New VM in three steps: name and OS (which fills in the presets), memory and CPUs, then
 * disk and ISO. The host checks every field as the user types; Next waits for a clean step.
 */
import { useState } from 'react';
import type { CreateVmParams, FieldErrors, IsoInfo, OsTypeInfo } from '../../../app/contract/api';
import { formatMiB, newOpId } from '../lib/format';
import { processorsHelp } from '../lib/processors';
import { useCheck } from '../lib/use-check';
import { useApi, useApp } from '../store/app';
import { Dialog, Field } from './Dialog';
import { MediaPicker } from './MediaPicker';
import { OsIcon } from './OsIcon';

const STEP_FIELDS: string[][] = [['name', 'osType'], ['memoryMiB', 'cpus'], ['disk', 'disk.sizeMiB', 'disk.format', 'disk.path', 'iso']];
const STEP_TITLES = ['Name and operating system', 'Memory and processors', 'Hard disk and installation media'];

interface Draft {
  name: string;
  osType: string;
  memoryMiB: string;
  cpus: string;
  diskKind: 'new' | 'existing' | 'none';
  diskSizeGiB: string;
  diskFormat: 'qcow2' | 'raw';
  diskPath: string | null;
  iso: string | null;
}

function toParams(d: Draft): CreateVmParams {
  const num = (s: string) => (s.trim() === '' ? Number.NaN : Number(s));
  const disk: CreateVmParams['disk'] =
    d.diskKind === 'new' ? { kind: 'new', sizeMiB: Math.round(num(d.diskSizeGiB) * 1024), format: d.diskFormat } : d.diskKind === 'existing' ? { kind: 'existing', path: d.diskPath ?? '' } : { kind: 'none' };
  return { name: d.name, osType: d.osType, memoryMiB: num(d.memoryMiB), cpus: num(d.cpus), disk, iso: d.iso };
}

function presetDraft(os: OsTypeInfo): Pick<Draft, 'memoryMiB' | 'cpus' | 'diskSizeGiB' | 'diskFormat' | 'diskKind'> {
  return { memoryMiB: String(os.memoryMiB), cpus: String(os.cpus), diskSizeGiB: String(os.diskMiB / 1024), diskFormat: os.diskFormat, diskKind: os.diskMiB > 0 ? 'new' : 'none' };
}

/** Zod reports NaN as "expected number"; say it the way a person would. */
function friendly(errors: FieldErrors): FieldErrors {
  const out: FieldErrors = {};
  for (const [k, v] of Object.entries(errors)) out[k] = /expected number|received NaN/i.test(v) ? 'Enter a number.' : v;
  return out;
}

export function NewVmWizard({ prefill }: { prefill?: { name: string; osType: string; iso: IsoInfo } }) {
  const api = useApi();
  const { host, openDialog, attempt, select, setProgress, endProgress, setTab, notify } = useApp();
  const osTypes = host?.osTypes ?? [];
  const initialOs = osTypes.find((o) => o.id === (prefill?.osType ?? 'linux')) ?? osTypes[0];
  const [step, setStep] = useState(0);
  const [busy, setBusy] = useState(false);
  const [draft, setDraft] = useState<Draft>(() => ({
    name: prefill?.name ?? '',
    osType: initialOs?.id ?? 'other',
    ...(initialOs ? presetDraft(initialOs) : { memoryMiB: '512', cpus: '1', diskSizeGiB: '8', diskFormat: 'qcow2', diskKind: 'new' }),
    diskPath: null,
    iso: prefill?.iso.path ?? null,
  }));
  const params = toParams(draft);
  const { errors: raw, checking } = useCheck(params, (p) => api.checkNewVm({ draft: p }));
  const errors = friendly(raw);
  const stepErrors = (i: number) => STEP_FIELDS[i]!.filter((f) => errors[f] !== undefined);
  const update = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const chooseOs = (id: string) => {
    const os = osTypes.find((o) => o.id === id);
    update({ osType: id, ...(os ? presetDraft(os) : {}) });
  };
  const close = () => openDialog(null);

  const create = async () => {
    const opId = newOpId();
    setBusy(true);
    setProgress(opId, `Creating ${draft.name}`, 0);
    try {
      const vm = await attempt(() => api.createVm({ ...params, opId }));
      if (vm) {
        select(vm.id);
        setTab('details');
        close();
        notify('info', `Created ${vm.id}.${draft.iso ? ' Start it to boot the installer.' : ''}`);
      }
    } finally {
      endProgress(opId);
      setBusy(false);
    }
  };

  const last = step === STEP_FIELDS.length - 1;
  const blocked = checking || stepErrors(step).length > 0 || busy;
  const memoryMax = host?.maxVmMemoryMiB;

  return (
    <Dialog
      title={`New virtual machine — ${STEP_TITLES[step]}`}
      testId="wizard"
      onClose={close}
      footer={
        <>
          <span className="steps">Step {step + 1} of {STEP_FIELDS.length}</span>
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button type="button" disabled={step === 0} onClick={() => setStep(step - 1)}>
            Back
          </button>
          {last ? (
            <button type="button" className="primary" data-testid="wizard-create" disabled={blocked || Object.keys(errors).length > 0} onClick={() => void create()}>
              Create
            </button>
          ) : (
            <button type="button" className="primary" data-testid="wizard-next" disabled={blocked} onClick={() => setStep(step + 1)}>
              Next
            </button>
          )}
        </>
      }
    >
      {step === 0 && (
        <>
          <Field label="Name" error={errors.name} help="Also the name of the VM's folder.">
            <input data-testid="wizard-name" autoFocus value={draft.name} onChange={(e) => update({ name: e.target.value })} placeholder="e.g. Debian 12" />
          </Field>
          <Field label="Operating system" error={errors.osType}>
            <div className="os-grid" role="radiogroup">
              {osTypes.map((os) => (
                <button type="button" role="radio" aria-checked={draft.osType === os.id} key={os.id} data-testid={`os-${os.id}`} className={`os-choice${draft.osType === os.id ? ' selected' : ''}`} onClick={() => chooseOs(os.id)}>
                  <OsIcon family={os.family} size={22} />
                  {os.label}
                </button>
              ))}
            </div>
          </Field>
          {(() => {
            const os = osTypes.find((o) => o.id === draft.osType);
            if (os === undefined) return null;
            const devices = [os.display ? 'VGA display' : null, os.serial ? 'serial console' : null].filter(Boolean).join(' and ');
            return (
              <p className="muted" data-testid="wizard-preset">
                {os.label} preset: {formatMiB(os.memoryMiB)} of memory, {os.cpus} CPU{os.cpus > 1 ? 's' : ''}, {os.diskMiB > 0 ? `a ${formatMiB(os.diskMiB)} ${os.diskFormat} disk` : 'no disk'}, {devices}. You can change them next.
              </p>
            );
          })()}
          {prefill && <p className="muted">From {prefill.iso.fileName} (volume label “{prefill.iso.volumeLabel || 'none'}”).</p>}
        </>
      )}
      {step === 1 && (
        <>
          <Field label="Memory (MiB)" error={errors.memoryMiB} help={memoryMax ? `Up to ${formatMiB(memoryMax)} on this host.` : undefined}>
            <div className="slider-row">
              <input type="range" min={16} max={memoryMax ?? 8192} step={16} value={Number(draft.memoryMiB) || 16} onChange={(e) => update({ memoryMiB: e.target.value })} />
              <input data-testid="wizard-memory" className="num" inputMode="numeric" value={draft.memoryMiB} onChange={(e) => update({ memoryMiB: e.target.value })} />
            </div>
          </Field>
          <Field label="Processors" error={errors.cpus} help={host ? processorsHelp(host) : undefined}>
            <input data-testid="wizard-cpus" className="num" inputMode="numeric" value={draft.cpus} onChange={(e) => update({ cpus: e.target.value })} />
          </Field>
        </>
      )}
      {step === 2 && (
        <>
          <fieldset className="radio-group">
            <legend>Hard disk</legend>
            <label>
              <input type="radio" name="disk" checked={draft.diskKind === 'new'} onChange={() => update({ diskKind: 'new' })} /> Create a new disk
            </label>
            <label>
              <input type="radio" name="disk" checked={draft.diskKind === 'existing'} onChange={() => update({ diskKind: 'existing' })} /> Use an existing disk image
            </label>
            <label>
              <input type="radio" name="disk" checked={draft.diskKind === 'none'} onChange={() => update({ diskKind: 'none' })} /> No disk (live CD)
            </label>
          </fieldset>
          {draft.diskKind === 'new' && (
            <div className="row">
              <Field label="Size (GiB)" error={errors['disk.sizeMiB']}>
                <input data-testid="wizard-disk-size" className="num" inputMode="decimal" value={draft.diskSizeGiB} onChange={(e) => update({ diskSizeGiB: e.target.value })} />
              </Field>
              <Field label="Format" error={errors['disk.format']} help={draft.diskFormat === 'qcow2' ? 'Grows as the guest writes.' : 'A plain image; sparse where the host allows.'}>
                <select value={draft.diskFormat} onChange={(e) => update({ diskFormat: e.target.value as Draft['diskFormat'] })}>
                  <option value="qcow2">qcow2</option>
                  <option value="raw">raw</option>
                </select>
              </Field>
            </div>
          )}
          {draft.diskKind === 'existing' && (
            <Field label="Disk image" error={errors['disk.path']}>
              <MediaPicker kind="disk" testId="wizard-disk-picker" value={draft.diskPath} allowNone={false} onChange={(p) => update({ diskPath: p })} />
            </Field>
          )}
          <Field label="Installation ISO (optional)" error={errors.iso} help="The VM boots from it first.">
            <MediaPicker kind="iso" testId="wizard-iso-picker" value={draft.iso} onChange={(p) => update({ iso: p })} />
          </Field>
        </>
      )}
    </Dialog>
  );
}
