/**
 * The web host's guard: a per-run token (in the printed URL, then in a cookie), a Host
 * header check against DNS rebinding, and an Origin check against cross-site pages.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE = 'terrarium_token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
  }
  return out;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface Guard {
  token: string;
  /** host:port values a request may name (the bound address and loopback aliases). */
  hosts: ReadonlySet<string>;
}

export function allowedHosts(bindHost: string, port: number): Set<string> {
  const names = new Set([bindHost, '127.0.0.1', 'localhost', '[::1]']);
  if (bindHost.includes(':') && !bindHost.startsWith('[')) names.add(`[${bindHost}]`);
  return new Set([...names].map((n) => `${n}:${port}`));
}

export type Verdict = { ok: true; viaQuery: boolean } | { ok: false; status: 401 | 403; reason: string };

export function checkRequest(req: IncomingMessage, url: URL, guard: Guard, bindAny: boolean): Verdict {
  // The token first: any request without it is a 401, whatever else is wrong with it.
  const query = url.searchParams.get('token');
  const viaQuery = query !== null && same(query, guard.token);
  const cookie = parseCookies(req.headers.cookie).get(COOKIE);
  if (!viaQuery && !(cookie !== undefined && same(cookie, guard.token))) {
    return { ok: false, status: 401, reason: 'Missing or wrong token: open the URL that `terrarium serve` printed.' };
  }
  const host = req.headers.host ?? '';
  if (!bindAny && !guard.hosts.has(host)) return { ok: false, status: 403, reason: `Host "${host}" is not this server.` };
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) return { ok: false, status: 403, reason: 'Cross-origin requests are refused.' };
  return { ok: true, viaQuery };
}
