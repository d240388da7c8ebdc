import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNELS, METHOD_NAMES } from './api.js';
import { paramSchemas } from './schemas.js';

describe('contract wiring', () => {
  it('the sandboxed preload uses the same IPC channel names (it cannot import them)', () => {
    const preload = readFileSync(path.resolve(import.meta.dirname, '../../main/preload.cts'), 'utf8');
    for (const channel of [CHANNELS.invoke, CHANNELS.event, CHANNELS.grant, CHANNELS.dialog, CHANNELS.menu]) {
      expect(preload).toContain(`'${channel}'`);
    }
  });

  it('every method has an input schema and is listed', () => {
    expect([...METHOD_NAMES].sort()).toEqual(Object.keys(paramSchemas).sort());
  });
});
