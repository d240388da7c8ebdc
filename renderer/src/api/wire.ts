/**
 * Decoding the web host's messages: JSON text frames, or binary frames carrying byte arrays
 * as attachments (the format is documented in app/web/wire.ts, which encodes it).
 */
const decoder = new TextDecoder();

export function decodeMessage(data: string | ArrayBuffer): unknown {
  if (typeof data === 'string') return JSON.parse(data);
  const view = new DataView(data);
  const headerLength = view.getUint32(0, true);
  const header = JSON.parse(decoder.decode(new Uint8Array(data, 4, headerLength))) as { v: unknown; l: number[] };
  const attachments: Uint8Array[] = [];
  let at = 4 + headerLength;
  for (const length of header.l) {
    attachments.push(new Uint8Array(data, at, length));
    at += length;
  }
  return revive(header.v, attachments);
}

function revive(value: unknown, attachments: Uint8Array[]): unknown {
  if (Array.isArray(value)) return value.map((v) => revive(v, attachments));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === '$b' && typeof record.$b === 'number') return attachments[record.$b];
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = revive(record[key], attachments);
  return out;
}
