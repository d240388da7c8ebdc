/** Serving the built renderer (renderer/dist) with a strict Content-Security-Policy. */
import { existsSync, promises as fsp } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** renderer/dist from dist/app/web (built) or app/web (sources under vitest). */
export function defaultRendererDir(): string {
  for (const up of ['../../../renderer/dist', '../../renderer/dist']) {
    const dir = path.resolve(import.meta.dirname, up);
    if (existsSync(path.join(dir, 'index.html'))) return dir;
  }
  return path.resolve(import.meta.dirname, '../../../renderer/dist');
}

/**
 * Scripts only from this origin; inline styles are allowed because xterm.js and React's
 * style props need them (styles cannot run code).
 */
export function contentSecurityPolicy(wsOrigin: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${wsOrigin}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function securityHeaders(res: ServerResponse, csp: string): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // The first URL carries the token: never send it elsewhere.
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
}

export async function serveStatic(res: ServerResponse, rendererDir: string, urlPath: string): Promise<void> {
  const rel = decodeURIComponent(urlPath).replace(/^\/+/, '');
  let file = path.resolve(rendererDir, rel === '' ? 'index.html' : rel);
  if (!file.startsWith(rendererDir + path.sep) && file !== rendererDir) {
    res.writeHead(404).end();
    return;
  }
  let stat = await fsp.stat(file).catch(() => null);
  // Client-side routes fall back to the app shell.
  if (stat === null || stat.isDirectory()) {
    file = path.join(rendererDir, 'index.html');
    stat = await fsp.stat(file).catch(() => null);
  }
  if (stat === null) {
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('The Terrarium UI is not built. Run `npm run build`, then start the host again.\n');
    return;
  }
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  const immutable = file.includes(`${path.sep}assets${path.sep}`);
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': stat.size, 'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' });
  res.end(await fsp.readFile(file));
}
