/**
 * Choosing a host file for a VM. Desktop: the native open dialog. Browser: the host's media
 * folder, plus uploading a file into it (with progress).
 */
import { useEffect, useRef, useState } from 'react';
import type { MediaFile } from '../../../app/contract/api';
import type { FileKind } from '../../../app/contract/bridge';
import { findUploaded, uploadMedia } from '../api/upload';
import { newOpId } from '../lib/format';
import { looksLikeIso } from '../lib/iso-sniff';
import { useApi, useApp } from '../store/app';

export function MediaPicker({ kind, value, onChange, testId, allowNone = true }: { kind: FileKind; value: string | null; onChange: (path: string | null) => void; testId: string; allowNone?: boolean }) {
  const api = useApi();
  const { host, attempt, setProgress, endProgress, notify } = useApp();
  const [media, setMedia] = useState<MediaFile[]>([]);
  const input = useRef<HTMLInputElement>(null);
  const desktop = host?.transport === 'electron';

  useEffect(() => {
    if (!desktop) void api.listMedia({}).then(setMedia, () => undefined);
  }, [api, desktop]);

  const wanted = media.filter((m) => (kind === 'iso' ? m.kind === 'iso' : kind === 'disk' ? m.kind === 'disk' : m.kind === 'boot'));
  const options = value !== null && !wanted.some((m) => m.path === value) ? [{ path: value, fileName: value }, ...wanted] : wanted;

  const browse = async () => {
    const chosen = await attempt(() => window.terrarium!.openFileDialog(kind));
    if (chosen) onChange(chosen);
  };

  const upload = async (file: File) => {
    if (kind === 'iso' && !(await looksLikeIso(file))) {
      notify('error', `${file.name} is not an ISO image.`, 'Choose a CD/DVD image (.iso).');
      return;
    }
    const already = await findUploaded(api, file);
    if (already) {
      onChange(already.path);
      return;
    }
    const op = newOpId();
    setProgress(op, `Uploading ${file.name}`, 0);
    try {
      const stored = await attempt(() => uploadMedia(file, (f) => setProgress(op, `Uploading ${file.name}`, f)));
      if (stored) {
        setMedia((m) => [...m.filter((x) => x.path !== stored.path), stored]);
        onChange(stored.path);
      }
    } finally {
      endProgress(op);
    }
  };

  if (desktop) {
    return (
      <div className="picker" data-testid={testId}>
        <input type="text" readOnly value={value ?? ''} placeholder={allowNone ? 'None' : 'Choose a file'} />
        <button type="button" onClick={() => void browse()}>
          Browse…
        </button>
        {allowNone && value !== null && (
          <button type="button" onClick={() => onChange(null)}>
            Clear
          </button>
        )}
      </div>
    );
  }
  return (
    <div className="picker" data-testid={testId}>
      <select value={value ?? ''} onChange={(e) => onChange(e.target.value === '' ? null : e.target.value)}>
        {allowNone && <option value="">None</option>}
        {!allowNone && value === null && <option value="">Choose…</option>}
        {options.map((m) => (
          <option key={m.path} value={m.path}>
            {m.fileName}
          </option>
        ))}
      </select>
      <button type="button" onClick={() => input.current?.click()}>
        Upload…
      </button>
      <input
        ref={input}
        type="file"
        hidden
        accept={kind === 'iso' ? '.iso' : kind === 'disk' ? '.img,.raw,.qcow2' : undefined}
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) void upload(file);
        }}
      />
    </div>
  );
}
