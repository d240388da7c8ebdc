import { spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { mibPerSecond, patternBytes, patternCommand, servePattern, sha256Hex, uploadSink } from './host-peers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function fetchAll(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve(Buffer.concat(parts)));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('the test pattern', () => {
  it('is what the guest command prints (the same command, run by the host shell)', () => {
    for (const size of [0, 5, 8, 100_003]) {
      const r = spawnSync('sh', ['-c', patternCommand(size)], { maxBuffer: 1 << 24 });
      expect(r.stdout.length).toBe(size);
      expect(patternBytes(size).equals(r.stdout)).toBe(true);
    }
  });

  it('has no two equal 8-byte lines, so moved data changes the hash', () => {
    const p = patternBytes(1 << 20);
    const lines = new Set<string>();
    for (let o = 0; o < p.length; o += 8) lines.add(p.subarray(o, o + 8).toString());
    expect(lines.size).toBe(p.length / 8);
  });
});

describe('servePattern', () => {
  it('serves the pattern with its SHA-256, and times each completed download', async () => {
    const server = await servePattern(3 << 20, '/3M');
    cleanups.push(() => server.close());
    const body = await fetchAll(server.url('127.0.0.1'));
    expect(body.length).toBe(3 << 20);
    expect(sha256Hex(body)).toBe(server.sha256);
    expect(server.sha256).toBe(sha256Hex(patternBytes(3 << 20)));
    const t = await server.nextTransfer(5000);
    expect(t.bytes).toBe(3 << 20);
    expect(t.endMs).toBeGreaterThanOrEqual(t.startMs);
    expect(mibPerSecond(t)).toBeGreaterThan(0);
  });

  it('answers other paths with 404', async () => {
    const server = await servePattern(16, '/x');
    cleanups.push(() => server.close());
    const code = await new Promise<number | undefined>((resolve) => get(`http://127.0.0.1:${server.port}/y`, (res) => (res.resume(), resolve(res.statusCode))));
    expect(code).toBe(404);
  });
});

describe('uploadSink', () => {
  it('counts and hashes each upload to its end, and closes the connection', async () => {
    const sink = await uploadSink();
    cleanups.push(() => sink.close());
    const data = patternBytes(2 << 20);
    const closed = new Promise<void>((resolve) => {
      const s = connect(sink.port, '127.0.0.1', () => {
        for (let o = 0; o < data.length; o += 100_000) s.write(data.subarray(o, o + 100_000));
        s.end();
      });
      s.resume();
      s.on('close', () => resolve());
    });
    const up = await sink.nextUpload(5000);
    expect(up.bytes).toBe(data.length);
    expect(up.sha256).toBe(sha256Hex(data));
    await closed;
  });

  it('fails a wait when nothing arrives in time', async () => {
    const sink = await uploadSink();
    cleanups.push(() => sink.close());
    await expect(sink.nextUpload(20)).rejects.toThrow(/no transfer finished/);
  });
});
