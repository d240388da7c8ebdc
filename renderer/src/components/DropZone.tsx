/**
 * Drag an ISO onto the window: on a VM it is attached there (and we offer to boot from
 * it), anywhere else we offer to create a VM from it. Desktop: the file is used where it
 * is. Browser: it is uploaded to the host's media folder first, with progress. Files that
 * are not ISOs are refused before anything is copied.
 */
import { useRef, useState, type ReactNode } from 'react';
import { findUploaded, uploadMedia } from '../api/upload';
import { newOpId } from '../lib/format';
import { looksLikeIso } from '../lib/iso-sniff';
import { useApp } from '../store/app';

function vmIdAt(target: EventTarget | null): string | null {
  const el = target instanceof Element ? target.closest('[data-vm-id]') : null;
  return el?.getAttribute('data-vm-id') ?? null;
}

export function DropZone({ children }: { children: ReactNode }) {
  const { api, host, vms, attempt, notify, setProgress, endProgress, openDialog, select } = useApp();
  const [over, setOver] = useState<{ vmId: string | null } | null>(null);
  const depth = useRef(0);

  const hasFiles = (e: React.DragEvent) => Array.from(e.dataTransfer.types).includes('Files');

  const hostPath = async (file: File): Promise<string | undefined> => {
    if (window.terrarium) {
      const p = await window.terrarium.pathForFile(file);
      if (p === '') notify('error', `${file.name} has no path on this computer.`, 'Drop a file from the file manager.');
      return p === '' ? undefined : p;
    }
    if (api === null) return undefined;
    const already = await findUploaded(api, file);
    if (already) return already.path;
    const op = newOpId();
    setProgress(op, `Uploading ${file.name}`, 0);
    try {
      const stored = await attempt(() => uploadMedia(file, (f) => setProgress(op, `Uploading ${file.name}`, f)));
      return stored?.path;
    } finally {
      endProgress(op);
    }
  };

  const onDrop = async (e: React.DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth.current = 0;
    setOver(null);
    const vmId = vmIdAt(e.target);
    const file = e.dataTransfer.files[0];
    if (file === undefined || api === null) return;
    if (e.dataTransfer.files.length > 1) notify('info', `Using ${file.name}; drop one ISO at a time.`);
    if (!(await looksLikeIso(file))) {
      notify('error', `${file.name} is not an ISO image, so it was not used.`, 'Drop a CD/DVD image (.iso). Disk images go in Settings → Storage.');
      return;
    }
    const path = await hostPath(file);
    if (path === undefined) return;
    const iso = await attempt(() => api.inspectIso({ path }));
    if (iso === undefined) return;
    const target = vms.find((v) => v.id === vmId && v.status === 'ok');
    if (target) {
      const attached = await attempt(() => api.attachIso({ id: target.id, path: iso.path, bootFirst: false }));
      if (attached) {
        select(target.id);
        openDialog({ kind: 'iso-attached', id: target.id, iso });
      }
    } else {
      openDialog({ kind: 'iso-create', iso });
    }
  };

  return (
    <div
      className="dropzone"
      data-testid="dropzone"
      onDragEnter={(e) => {
        if (!hasFiles(e)) return;
        depth.current++;
        setOver({ vmId: vmIdAt(e.target) });
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        const vmId = vmIdAt(e.target);
        if (over?.vmId !== vmId) setOver({ vmId });
      }}
      onDragLeave={(e) => {
        if (!hasFiles(e)) return;
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setOver(null);
      }}
      onDrop={(e) => void onDrop(e)}
    >
      {children}
      {over && (
        <div className="drop-overlay" data-testid="drop-overlay">
          <div className="drop-message">
            {over.vmId ? `Drop to insert the ISO into “${over.vmId}”` : host?.transport === 'web' ? 'Drop an ISO to upload it and create a VM from it' : 'Drop an ISO to create a VM from it'}
          </div>
        </div>
      )}
    </div>
  );
}
