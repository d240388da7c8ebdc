import { useApp } from '../store/app';

export function ProgressPanel() {
  const progress = useApp((s) => s.progress);
  if (progress.length === 0) return null;
  return (
    <div className="progress-panel" data-testid="progress">
      {progress.map((p) => (
        <div key={p.id} className="progress-item">
          <div className="progress-label">{p.label}</div>
          <progress max={1} value={p.fraction >= 0 ? p.fraction : undefined} />
          <div className="progress-pct">{p.fraction >= 0 ? `${Math.round(p.fraction * 100)}%` : ''}</div>
        </div>
      ))}
    </div>
  );
}
