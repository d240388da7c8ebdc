/**
 * The web host: the renderer and the contract over HTTP + WebSocket, for browsers. Loopback
 * by default; every request needs the per-run token (query once, then its cookie).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { UPLOAD_PATH, WS_PATH } from '../contract/api.js';
import { toErrorInfo } from '../errors.js';
import { RootsPolicy } from '../service/path-policy.js';
import type { TerrariumService } from '../service/service.js';
import { allowedHosts, checkRequest, COOKIE, newToken, type Guard } from './auth.js';
import { receiveUpload } from './upload.js';
import { contentSecurityPolicy, defaultRendererDir, securityHeaders, serveStatic } from './static-files.js';
import { encodeMessage } from './wire.js';

export interface WebHostOptions {
  service: TerrariumService;
  port?: number;
  host?: string;
  rendererDir?: string;
  /** Fixed token (tests); a fresh random one otherwise. */
  token?: string;
}

export interface WebHost {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MAX_MESSAGE = 1024 * 1024;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const { service } = options;
  const bindHost = options.host ?? '127.0.0.1';
  const rendererDir = options.rendererDir ?? defaultRendererDir();
  const token = options.token ?? newToken();
  const bindAny = bindHost === '0.0.0.0' || bindHost === '::';
  const guard: Guard = { token, hosts: new Set() };
  const { paths } = service.options;

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: toErrorInfo(error) });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const verdict = checkRequest(req, url, guard, bindAny);
    securityHeaders(res, contentSecurityPolicy(`ws://${req.headers.host ?? ''}`));
    if (!verdict.ok) {
      res.writeHead(verdict.status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${verdict.status === 401 ? '401 Unauthorized' : '403 Forbidden'}: ${verdict.reason}\n`);
      return;
    }
    if (verdict.viaQuery) {
      // Trade the token in the URL for a cookie, and take it out of the address bar.
      url.searchParams.delete('token');
      res.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      if (req.method === 'GET') {
        res.writeHead(302, { Location: url.pathname + url.search }).end();
        return;
      }
    }
    if (url.pathname === UPLOAD_PATH && req.method === 'PUT') {
      try {
        json(res, 200, await receiveUpload(req, paths.media, url.searchParams.get('name')));
      } catch (error) {
        const info = toErrorInfo(error);
        json(res, info.code === 'BAD_INPUT' ? 415 : info.code === 'HOST' ? 507 : 500, { error: info });
      }
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    await serveStatic(res, rendererDir, url.pathname);
  }

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const verdict = checkRequest(req, url, guard, bindAny);
    if (!verdict.ok || url.pathname !== WS_PATH) {
      const status = verdict.ok ? '404 Not Found' : verdict.status === 401 ? '401 Unauthorized' : '403 Forbidden';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  function attach(ws: WebSocket): void {
    const send = (message: unknown) => {
      if (ws.readyState === ws.OPEN) ws.send(encodeMessage(message));
    };
    const conn = service.connect({ send: (event) => send({ event }), backlog: () => ws.bufferedAmount }, new RootsPolicy([paths.media, paths.library]));
    ws.on('message', (data: RawData, isBinary) => {
      let request: { id?: unknown; method?: unknown; params?: unknown };
      try {
        if (isBinary) throw new Error('binary');
        request = JSON.parse(data.toString()) as typeof request;
        if (typeof request !== 'object' || request === null) throw new Error('not an object');
      } catch {
        send({ id: null, error: { code: 'BAD_INPUT', message: 'Requests are JSON objects {id, method, params}.' } });
        return;
      }
      const id = typeof request.id === 'number' ? request.id : null;
      service.dispatch(request.method, request.params, conn).then(
        (result) => send({ id, result }),
        (error: unknown) => send({ id, error: toErrorInfo(error) }),
      );
    });
    ws.on('close', () => service.disconnect(conn));
    ws.on('error', () => ws.close());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, bindHost, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  for (const h of allowedHosts(bindHost, port)) (guard.hosts as Set<string>).add(h);
  const shown = bindHost.includes(':') ? `[${bindHost}]` : bindAny ? '127.0.0.1' : bindHost;
  return {
    url: `http://${shown}:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}
