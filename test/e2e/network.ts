/**
 * Helpers for end-to-end tests of networking: the Network section of the Settings dialog
 * (presets, rule fields, save) and host-side sockets (a free port, a busy one, a TCP read
 * through a forward, an HTTP download hashed as it streams). The UI steps work the same against the test double and a real guest.
 */
import { createHash } from 'node:crypto';
import { get } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import type { Page } from 'playwright-core';

export type ForwardField = 'protocol' | 'hostAddress' | 'hostPort' | 'guestPort';

/** Open the selected VM's Settings on the Network section. */
export async function openNetworkSettings(page: Page, vmSelector: string): Promise<void> {
  await page.click(vmSelector);
  await page.click('[data-testid=settings]');
  await page.locator('[data-testid=settings-dialog]').waitFor();
  await page.click('[data-testid=settings-network]');
  await page.locator('[data-testid=forwards]').waitFor();
}

/** Rules in the forwarding table now. */
export function forwardCount(page: Page): Promise<number> {
  return page.locator('[data-testid^=forward-row-]').count();
}

/** Click a preset ("ssh" or "http"); returns the index of the row it added. */
export async function addPresetForward(page: Page, preset: 'ssh' | 'http'): Promise<number> {
  const index = await forwardCount(page);
  await page.click(`[data-testid=net-preset-${preset}]`);
  await page.locator(`[data-testid=forward-row-${index}]`).waitFor();
  return index;
}

/** Add a rule by hand (TCP unless told); returns its row index. */
export async function addForward(page: Page, rule: { protocol?: 'tcp' | 'udp'; hostAddress?: string; hostPort: number | string; guestPort: number | string }): Promise<number> {
  const index = await forwardCount(page);
  await page.click('[data-testid=net-add]');
  await page.locator(`[data-testid=forward-row-${index}]`).waitFor();
  if (rule.protocol !== undefined) await setForwardField(page, index, 'protocol', rule.protocol);
  if (rule.hostAddress !== undefined) await setForwardField(page, index, 'hostAddress', rule.hostAddress);
  await setForwardField(page, index, 'hostPort', String(rule.hostPort));
  await setForwardField(page, index, 'guestPort', String(rule.guestPort));
  return index;
}

export async function setForwardField(page: Page, index: number, field: ForwardField, value: string): Promise<void> {
  if (field === 'protocol') await page.selectOption(`[data-testid=forward-protocol-${index}]`, value);
  else await page.fill(`[data-testid=forward-${field}-${index}]`, value);
}

export function forwardField(page: Page, index: number, field: Exclude<ForwardField, 'protocol'>): Promise<string> {
  return page.inputValue(`[data-testid=forward-${field}-${index}]`);
}

/** Wait for the host's checks to pass, then save and wait for the dialog to close. */
export async function saveSettings(page: Page, timeout = 10_000): Promise<void> {
  await page.locator('[data-testid=settings-save]:enabled').waitFor({ timeout });
  await page.click('[data-testid=settings-save]');
  await page.locator('[data-testid=settings-dialog]').waitFor({ state: 'detached', timeout });
}

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
