import { describe, expect, it } from 'vitest';
import { EmulatorError } from '../errors.js';
import { PostPort } from './post.js';

describe('POST port 0x80', () => {
  it('records the last code and reads it back', () => {
    const p = new PostPort();
    p.ioWrite(0x80, 1, 0x55);
    p.ioWrite(0x80, 1, 0x1a3);
    expect(p.lastCode).toBe(0xa3);
    expect(p.ioRead(0x80, 1)).toBe(0xa3);
    expect(p.writes).toBe(2);
    p.reset();
    expect(p.ioRead(0x80, 1)).toBe(0);
  });

  it('saves, restores and rejects malformed state', () => {
    const p = new PostPort();
    p.ioWrite(0x80, 1, 0x42);
    const q = new PostPort();
    q.restore(JSON.parse(JSON.stringify(p.save())));
    expect(q.lastCode).toBe(0x42);
    expect(() => q.restore({ version: 1 })).toThrow(EmulatorError);
    expect(() => q.restore({ version: 1, lastCode: -1 })).toThrow(EmulatorError);
  });
});
