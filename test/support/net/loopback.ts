/**
 * Host-side socket helpers for tests that talk to guests or forwards on the loopback: free
 * and held ports, a read-until-close exchange, and a hashed HTTP download.
 */
import { createHash } from 'node:crypto';
import { get } from 'node:http';
import { connect, createServer, type Server } from 'node:net';

/** A TCP port of 127.0.0.1 that nobody listens on now (the kernel picked it). */
export async function freeTcpPort(): Promise<number> {
  const server = await listenTcp();
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Nobody listens on this TCP port of 127.0.0.1 now. */
export async function portIsFree(port: number): Promise<boolean> {
  const server = await listenTcp(port).catch(() => null);
  if (server === null) return false;
  await new Promise((resolve) => server.close(resolve));
  return true;
}

/** Hold a TCP port of 127.0.0.1, as another program would; close the server when done. */
export async function listenTcp(port = 0): Promise<Server> {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

/** Send `request` (if any) to 127.0.0.1:port and read until the other side closes. */
export function tcpExchange(port: number, request?: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => {
      if (request !== undefined) socket.write(request);
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from 127.0.0.1:${port} in ${timeoutMs} ms`)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

export interface HashedDownload {
  status: number;
  bytes: number;
  sha256: string;
}

/** GET `url` and hash the body as it arrives (nothing is kept in memory). */
export function httpSha256(url: string, timeoutMs: number): Promise<HashedDownload> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        hash.update(d);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url}: no progress in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
