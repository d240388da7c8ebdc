import type { OsFamily } from '../../../app/contract/api';

const LOOK: Record<OsFamily, { color: string; glyph: string }> = {
  linux: { color: '#e8a33d', glyph: 'L' },
  bsd: { color: '#c0392b', glyph: 'B' },
  windows: { color: '#2f80ed', glyph: 'W' },
  dos: { color: '#6c7a89', glyph: 'D' },
  other: { color: '#8e7cc3', glyph: '?' },
};

export function OsIcon({ family, size = 28, title }: { family: OsFamily; size?: number; title?: string }) {
  const look = LOOK[family];
  return (
    <svg className="os-icon" width={size} height={size} viewBox="0 0 28 28" role="img" aria-label={title ?? family}>
      <rect x="1" y="1" width="26" height="26" rx="6" fill={look.color} />
      <text x="14" y="19" textAnchor="middle" fontSize="14" fontWeight="700" fill="#fff" fontFamily="system-ui, sans-serif">
        {look.glyph}
      </text>
    </svg>
  );
}
