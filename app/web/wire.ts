/**
 * Server → browser message encoding. JSON, except that byte arrays (screen pixels, serial
 * output, PNGs) travel as raw attachments in one binary frame instead of bloated JSON:
 *   [u32 LE length of JSON][JSON {"v": value, "l": [attachment lengths]}][attachments...]
 * with each Uint8Array replaced by {"$b": index}. renderer/src/api/wire.ts decodes it.
 */
export function encodeMessage(value: unknown): string | Buffer {
  const attachments: Uint8Array[] = [];
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) {
      attachments.push(v);
      return { $b: attachments.length - 1 };
    }
    return v;
  });
  if (attachments.length === 0) return json;
  const header = Buffer.from(`{"v":${json},"l":[${attachments.map((a) => a.byteLength).join(',')}]}`, 'utf8');
  const out = Buffer.allocUnsafe(4 + header.length + attachments.reduce((n, a) => n + a.byteLength, 0));
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  let at = 4 + header.length;
  for (const a of attachments) {
    out.set(a, at);
    at += a.byteLength;
  }
  return out;
}
