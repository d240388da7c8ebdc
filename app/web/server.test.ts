import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { resolveDataPaths } from '../host/paths.js';
import { tempDir } from '../library/test-helpers.js';
import { TerrariumService } from '../service/service.js';
import { makeIso } from '../service/test-iso.js';
import { startWebHost, type WebHost } from './server.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function host(): Promise<{ web: WebHost; service: TerrariumService; media: string }> {
  const paths = resolveDataPaths(tempDir());
  const rendererDir = tempDir();
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Terrarium</title>');
  const service = new TerrariumService({ paths, transport: 'web', version: 'test', owner: 'web host' });
  await service.open();
  const web = await startWebHost({ service, rendererDir, token: 'secret-token' });
  cleanups.push(async () => {
    await web.close();
    await service.close();
  });
  return { web, service, media: paths.media };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(port: number, pathname: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('web host', () => {
  it('answers 401 to every request without the token, and trades the token for a cookie', async () => {
    const { web } = await host();
    expect(web.url).toBe(`http://127.0.0.1:${web.port}/?token=secret-token`);
    expect((await http(web.port, '/')).status).toBe(401);
    expect((await http(web.port, '/assets/app.js')).status).toBe(401);
    expect((await http(web.port, '/?token=wrong')).status).toBe(401);
    expect((await http(web.port, '/api/media?name=x.iso', { method: 'PUT', body: Buffer.from('x') })).status).toBe(401);
    const first = await http(web.port, '/?token=secret-token');
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toBe('terrarium_token=secret-token');
    expect(String(first.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await http(web.port, '/', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Terrarium</title>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('serves nothing outside the renderer folder', async () => {
    const { web } = await host();
    const headers = { cookie: 'terrarium_token=secret-token' };
    for (const probe of ['/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd']) {
      const reply = await http(web.port, probe, { headers });
      expect(reply.body, probe).not.toContain('root:');
    }
  });

  it('refuses foreign Host and Origin headers (DNS rebinding, cross-site pages)', async () => {
    const { web } = await host();
    expect((await http(web.port, '/?token=secret-token', { headers: { host: 'evil.example:80' } })).status).toBe(403);
    expect((await http(web.port, '/', { headers: { host: 'evil.example:80' } })).status).toBe(401);
    expect((await http(web.port, '/?token=secret-token', { headers: { origin: 'http://evil.example' } })).status).toBe(403);
  });

  it('serves the contract over WebSocket only with the token', async () => {
    const { web } = await host();
    const refused = new WebSocket(`ws://127.0.0.1:${web.port}/api/ws`);
    const status = await new Promise<number>((resolve) => refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(401);

    const ws = new WebSocket(`ws://127.0.0.1:${web.port}/api/ws`, { headers: { cookie: 'terrarium_token=secret-token' } });
    await new Promise((resolve, reject) => ws.on('open', resolve).on('error', reject));
    const replies: unknown[] = [];
    ws.on('message', (data) => replies.push(JSON.parse(String(data))));
    ws.send(JSON.stringify({ id: 1, method: 'listVms', params: {} }));
    ws.send(JSON.stringify({ id: 2, method: 'getVm', params: { id: '../x' } }));
    ws.send('not json');
    while (replies.length < 3) await new Promise((r) => setTimeout(r, 10));
    ws.close();
    expect(replies).toContainEqual({ id: 1, result: [] });
    expect(replies).toContainEqual({ id: 2, error: expect.objectContaining({ code: 'BAD_INPUT', field: 'id' }) });
    expect(replies).toContainEqual({ id: null, error: expect.objectContaining({ code: 'BAD_INPUT' }) });
  });

  it('stores uploaded ISOs in the media folder and refuses files that are not ISOs', async () => {
    const { web, media } = await host();
    const headers = { cookie: 'terrarium_token=secret-token' };
    mkdirSync(media, { recursive: true });
    const bad = await http(web.port, '/api/media?name=holiday.iso', { method: 'PUT', headers, body: Buffer.from('JPEG pretending') });
    expect(bad.status).toBe(415);
    expect(JSON.parse(bad.body).error.message).toBe('holiday.iso is not an ISO image (no ISO 9660 volume descriptor).');
    expect(readdirSync(media)).toEqual([]);
    const evil = await http(web.port, '/api/media?name=../../escape.iso', { method: 'PUT', headers, body: makeIso('X') });
    expect(evil.status).toBe(200);
    expect(JSON.parse(evil.body).path).toBe(path.join(media, 'escape.iso'));
    const good = await http(web.port, '/api/media?name=alpine.iso', { method: 'PUT', headers, body: makeIso('ALPINE_3') });
    expect(good.status).toBe(200);
    expect(JSON.parse(good.body)).toMatchObject({ fileName: 'alpine.iso', kind: 'iso' });
    const again = await http(web.port, '/api/media?name=alpine.iso', { method: 'PUT', headers, body: makeIso('ALPINE_3') });
    expect(JSON.parse(again.body).fileName).toBe('alpine (2).iso');
    expect((await http(web.port, '/api/media?name=notes.txt', { method: 'PUT', headers, body: Buffer.from('x') })).status).toBe(415);
  });
});
