import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../../app/web/wire';
import { decodeMessage } from './wire';

function toArrayBuffer(data: string | Buffer): string | ArrayBuffer {
  if (typeof data === 'string') return data;
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}

describe('web host wire format', () => {
  it('round-trips plain JSON as text', () => {
    const message = { id: 3, result: [{ id: 'vm', status: 'ok' }] };
    const encoded = encodeMessage(message);
    expect(typeof encoded).toBe('string');
    expect(decodeMessage(toArrayBuffer(encoded))).toEqual(message);
  });

  it('carries byte arrays as binary attachments, nested anywhere', () => {
    const rgba = Uint8Array.from({ length: 64 }, (_, i) => i);
    const serial = new TextEncoder().encode('login: ');
    const message = { event: { type: 'screen', id: 'vm', rect: { x: 1, y: 2, w: 4, h: 4, width: 8, height: 8, rgba } }, extra: [serial, { $b: 'not an attachment' }] };
    const encoded = encodeMessage(message);
    expect(Buffer.isBuffer(encoded)).toBe(true);
    const decoded = decodeMessage(toArrayBuffer(encoded)) as typeof message;
    expect(Array.from(decoded.event.rect.rgba)).toEqual(Array.from(rgba));
    expect(new TextDecoder().decode(decoded.extra[0] as Uint8Array)).toBe('login: ');
    expect(decoded.extra[1]).toEqual({ $b: 'not an attachment' });
  });
});
