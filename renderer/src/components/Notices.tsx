import { useApp } from '../store/app';

export function Notices() {
  const { notices, dismiss } = useApp();
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice notice-${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'} data-testid={`notice-${n.kind}`}>
          <div className="notice-text">
            <div className="notice-message">{n.message}</div>
            {n.hint && <div className="notice-hint">{n.hint}</div>}
          </div>
          <button type="button" className="close" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
