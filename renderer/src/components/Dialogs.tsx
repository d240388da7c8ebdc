import { useState } from 'react';
import type { IsoInfo } from '../../../app/contract/api';
import { ApiError } from '../api/client';
import { formatBytes, newOpId } from '../lib/format';
import { useApi, useApp } from '../store/app';
import { Dialog, Field } from './Dialog';
import { NewVmWizard } from './NewVmWizard';
import { SettingsDialog } from './SettingsDialog';

export function Dialogs() {
  const { dialog, vms } = useApp();
  if (dialog === null) return null;
  switch (dialog.kind) {
    case 'wizard':
      return <NewVmWizard {...(dialog.prefill ? { prefill: dialog.prefill } : {})} />;
    case 'settings': {
      const vm = vms.find((v) => v.id === dialog.id);
      return vm?.status === 'ok' ? <SettingsDialog key={vm.id} vm={vm} /> : null;
    }
    case 'delete':
      return <DeleteDialog id={dialog.id} />;
    case 'clone':
      return <CloneDialog id={dialog.id} />;
    case 'iso-create':
      return <CreateFromIso iso={dialog.iso} />;
    case 'iso-attached':
      return <BootFromIso id={dialog.id} iso={dialog.iso} />;
  }
}

function CreateFromIso({ iso }: { iso: IsoInfo }) {
  const { host, openDialog } = useApp();
  const os = host?.osTypes.find((o) => o.id === iso.guessedOsType);
  return (
    <Dialog
      title="Create a VM from this ISO?"
      testId="iso-create-dialog"
      onClose={() => openDialog(null)}
      footer={
        <>
          <button type="button" onClick={() => openDialog(null)}>
            Not now
          </button>
          <button type="button" className="primary" data-testid="iso-create-confirm" onClick={() => openDialog({ kind: 'wizard', prefill: { name: iso.suggestedName, osType: iso.guessedOsType, iso } })}>
            Create a VM…
          </button>
        </>
      }
    >
      <dl>
        <dt>File</dt>
        <dd className="path">{iso.fileName} ({formatBytes(iso.sizeBytes)})</dd>
        <dt>Volume label</dt>
        <dd data-testid="iso-label">{iso.volumeLabel || '(none)'}</dd>
        <dt>Looks like</dt>
        <dd data-testid="iso-os">{os?.label ?? iso.guessedOsType}</dd>
        <dt>Suggested name</dt>
        <dd data-testid="iso-name">{iso.suggestedName}</dd>
      </dl>
      {!iso.bootable && <p className="muted">This ISO has no El Torito boot record: it may not boot on its own.</p>}
    </Dialog>
  );
}

function BootFromIso({ id, iso }: { id: string; iso: IsoInfo }) {
  const api = useApi();
  const { openDialog, attempt, vms, setTab } = useApp();
  const vm = vms.find((v) => v.id === id);
  const running = vm?.status === 'ok' && vm.session.state !== 'stopped' && vm.session.state !== 'error';
  const boot = async () => {
    openDialog(null);
    await attempt(async () => {
      await api.attachIso({ id, path: iso.path, bootFirst: true });
      setTab('console');
      if (running) await api.resetVm({ id });
      else await api.startVm({ id });
    });
  };
  return (
    <Dialog
      title={`${iso.fileName} is in ${id}’s CD drive`}
      testId="iso-attached-dialog"
      onClose={() => openDialog(null)}
      footer={
        <>
          <button type="button" onClick={() => openDialog(null)}>
            Not now
          </button>
          <button type="button" className="primary" data-testid="boot-from-iso" onClick={() => void boot()}>
            {running ? 'Restart from it' : 'Boot from it'}
          </button>
        </>
      }
    >
      <p>Boot {id} from this ISO now? That puts the CD first in the boot order{running ? ' and resets the running VM' : ''}.</p>
    </Dialog>
  );
}

function DeleteDialog({ id }: { id: string }) {
  const api = useApi();
  const { openDialog, attempt, notify, vms } = useApp();
  const [keepDisks, setKeepDisks] = useState(false);
  const vm = vms.find((v) => v.id === id);
  const remove = async () => {
    const result = await attempt(() => api.deleteVm({ id, keepDisks }));
    if (result) {
      openDialog(null);
      notify('info', result.keptFolder ? `Deleted ${id}; its folder still holds the disks and your own files.` : `Deleted ${id}.`);
    }
  };
  return (
    <Dialog
      title={`Delete ${id}?`}
      testId="delete-dialog"
      onClose={() => openDialog(null)}
      footer={
        <>
          <button type="button" onClick={() => openDialog(null)}>
            Cancel
          </button>
          <button type="button" className="danger" data-testid="delete-confirm" onClick={() => void remove()}>
            Delete
          </button>
        </>
      }
    >
      <p>This removes the VM's settings, snapshots and logs{keepDisks ? '' : ' and the disk images in its folder'}. It cannot be undone.</p>
      {vm?.status === 'ok' && vm.disks.length > 0 && (
        <label className="check">
          <input type="checkbox" checked={keepDisks} onChange={(e) => setKeepDisks(e.target.checked)} /> Keep the disk images
        </label>
      )}
    </Dialog>
  );
}

function CloneDialog({ id }: { id: string }) {
  const api = useApi();
  const { openDialog, notify, select, setProgress, endProgress } = useApp();
  const [name, setName] = useState(`${id} clone`);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const clone = async () => {
    const opId = newOpId();
    setBusy(true);
    setProgress(opId, `Cloning ${id}`, 0);
    try {
      const copy = await api.cloneVm({ id, name, opId });
      openDialog(null);
      select(copy.id);
      notify('info', `Cloned ${id} as ${copy.id}.`);
    } catch (e) {
      if (e instanceof ApiError && e.field === 'name') setError(e.message);
      else if (e instanceof ApiError) notify('error', e.message, e.hint);
      else throw e;
    } finally {
      endProgress(opId);
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Clone ${id}`}
      testId="clone-dialog"
      onClose={() => openDialog(null)}
      footer={
        <>
          <button type="button" onClick={() => openDialog(null)}>
            Cancel
          </button>
          <button type="button" className="primary" data-testid="clone-confirm" disabled={busy || name.trim() === ''} onClick={() => void clone()}>
            Clone
          </button>
        </>
      }
    >
      <Field label="Name of the copy" error={error} help="Its disks are copied into its own folder.">
        <input
          data-testid="clone-name"
          autoFocus
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            setError(undefined);
          }}
        />
      </Field>
    </Dialog>
  );
}
