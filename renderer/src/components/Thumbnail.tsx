import { useEffect, useState } from 'react';
import type { VmInfo } from '../../../app/contract/api';
import { useApi } from '../store/app';

/** A live (running) or last-frame (stopped) picture of the VM's screen. */
export function Thumbnail({ vm }: { vm: Extract<VmInfo, { status: 'ok' }> }) {
  const api = useApi();
  const [url, setUrl] = useState<string | null>(null);
  const live = vm.session.state === 'running' || vm.session.state === 'paused' || vm.session.state === 'stopping';

  useEffect(() => {
    let cancelled = false;
    let current: string | null = null;
    const load = async () => {
      const image = await api.thumbnail({ id: vm.id }).catch(() => null);
      if (cancelled) return;
      const next = image === null ? null : URL.createObjectURL(new Blob([image.png.slice()], { type: 'image/png' }));
      if (current !== null) URL.revokeObjectURL(current);
      current = next;
      setUrl(next);
    };
    void load();
    const timer = live ? setInterval(() => void load(), 2000) : undefined;
    return () => {
      cancelled = true;
      clearInterval(timer);
      if (current !== null) URL.revokeObjectURL(current);
    };
  }, [api, vm.id, live, vm.hasLastFrame]);

  return <div className="thumb">{url !== null ? <img src={url} alt={`${vm.config.name} screen`} /> : <div className="thumb-empty" />}</div>;
}
