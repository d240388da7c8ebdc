import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../app/library/test-helpers.js';

type Handler = (request: Request) => Promise<Response>;
let handler: Handler | null = null;
vi.mock('electron', () => ({
  protocol: { handle: (_scheme: string, fn: Handler) => (handler = fn), registerSchemesAsPrivileged: () => undefined },
  // net.fetch of file:// URLs, as Electron does it.
  net: {
    fetch: async (url: string) => {
      try {
        return new Response(readFileSync(fileURLToPath(url)), { status: 200, headers: { 'content-type': url.endsWith('.html') ? 'text/html' : 'text/javascript' } });
      } catch {
        return new Response('', { status: 404 });
      }
    },
  },
}));

const { serveRenderer, CSP } = await import('./protocol.js');

describe('terrarium:// protocol', () => {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<title>Terrarium</title>');
  writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(path.join(path.dirname(dir), 'secret.txt'), 'secret');
  serveRenderer(dir);
  const get = (url: string) => handler!(new Request(url));

  it('serves the renderer with the strict CSP', async () => {
    const page = await get('terrarium://app/index.html');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Terrarium</title>');
    expect(page.headers.get('content-security-policy')).toBe(CSP);
    expect(CSP).toContain("script-src 'self'");
    expect((await get('terrarium://app/assets/app.js')).status).toBe(200);
  });

  it('serves nothing outside the renderer folder or for another host', async () => {
    expect((await get('terrarium://app/..%2fsecret.txt')).status).toBe(404);
    expect((await get('terrarium://app/%2e%2e/secret.txt')).status).toBe(404);
    expect((await get('terrarium://other/index.html')).status).toBe(404);
    expect((await get('terrarium://app/missing.js')).status).toBe(404);
  });
});
