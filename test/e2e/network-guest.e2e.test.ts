/**
 * The real network guest (test/fixtures/build-net-guest.sh) driven from the UI in Chromium:
 * a forward to its httpd added in Settings → Network, the VM started with the Start button
 * (software CPU), its DHCP address and the forward shown in the Details pane and the status
 * bar, and 16 MiB fetched from it through the forward by the host. Then the guest, typing on
 * its serial console, tries the web host through the gateway 10.0.2.2 without the token:
 * every route it can name is refused, and nothing it sends reaches the service.
 *
 * The serial console is driven through the contract's subscribeSerial/sendSerial on a second
 * connection to the same service, which is what the UI's xterm.js tab does over the WebSocket.
 * One boot: the steps run in order on one running VM.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodName, Params, Result } from '../../app/contract/api.js';
import type { Connection } from '../../app/contract/connection.js';
import { resolveDataPaths, type DataPaths } from '../../app/host/paths.js';
import { tempDir } from '../../app/library/test-helpers.js';
import { TrustingPolicy } from '../../app/service/path-policy.js';
import { TerrariumService } from '../../app/service/service.js';
import { startWebHost, type WebHost } from '../../app/web/server.js';
import { fixturePath, missingFixtures } from '../fixtures/fixtures.js';
import { SerialShell } from '../support/net/guest-session.js';
import { patternBytes, sha256Hex } from '../support/net/host-peers.js';
import { bootNetGuest, NET_GUEST } from '../support/net/net-guest.js';
import { launchBrowser, missingPrerequisite, REPO, screenshot } from './harness.js';
import { addPresetForward, forwardField, freeTcpPort, httpSha256, openNetworkSettings, saveSettings, setForwardField } from './network.js';

const missingFixture = missingFixtures(NET_GUEST.kernel, NET_GUEST.initrd);
const missingTool = missingPrerequisite();
const skipped = missingTool ?? (missingFixture.length > 0 ? `fixture(s) ${missingFixture.join(', ')} not built (npm run fixtures)` : null);
if (skipped !== null) console.warn(`\n*** network guest end-to-end test SKIPPED: ${skipped} ***\n`);

/** The software CPU boots the guest in about a minute on a quiet machine; a loaded one took 400 s. */
const BOOT_MS = 15 * 60_000;
const VM = 'Net guest';

describe.skipIf(skipped !== null).sequential('the network guest started from the UI, reached through a forward', () => {
  let paths: DataPaths;
  let service: TerrariumService;
  let conn: Connection;
  let web: WebHost;
  let browser: BrowserContext;
  let page: Page;
  let vmId: string;
  let hostPort: number;
  let shell: SerialShell;
  /** Serial output that arrived before the history it follows was fed to the shell. */
  let early: Uint8Array[] | null = [];
  const vm = `[data-testid="vm-item-${VM}"]`;
  const call = <M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> => service.dispatch(method, params, conn) as Promise<Result<M>>;

  beforeAll(async () => {
    paths = resolveDataPaths(tempDir('terrarium-net-guest-e2e-'));
    service = new TerrariumService({ paths, transport: 'web', version: 'test', owner: 'web host' });
    await service.open();
    const serial = (data: Uint8Array): void => (early === null ? shell.feed(data) : void early.push(data));
    conn = service.connect({ send: (event) => (event.type === 'serial' && event.id === vmId ? serial(event.data) : undefined), backlog: () => 0 }, new TrustingPolicy());
    // As a user would: kernel and initrd uploaded to the media folder, set in Settings → System.
    const media = (name: string): string => {
      copyFileSync(fixturePath(name), path.join(paths.media, name));
      return path.join(paths.media, name);
    };
    const created = await call('createVm', { name: VM, osType: 'linux', memoryMiB: NET_GUEST.memoryMiB, cpus: 1, disk: { kind: 'none' }, iso: null });
    if (created.status !== 'ok') throw new Error(`createVm: ${created.error.message}`);
    vmId = created.id;
    const { schemaVersion: _version, createdAt: _created, ...settings } = created.config;
    await call('updateVm', {
      id: vmId,
      settings: {
        ...settings,
        system: { ...settings.system, accel: 'interpreter', kernel: media(NET_GUEST.kernel), initrd: media(NET_GUEST.initrd), cmdline: NET_GUEST.append },
        // The guest's console is ttyS0; no VGA to draw saves the software CPU some work.
        display: { ...settings.display, enabled: false },
        serial: { ...settings.serial, enabled: true },
      },
    });
    web = await startWebHost({ service, rendererDir: path.join(REPO, 'renderer/dist') });
    browser = await launchBrowser();
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.goto(web.url);
    await page.locator(vm).waitFor();
  }, 120_000);

  afterAll(async () => {
    if (vmId !== undefined) await call('powerOff', { id: vmId }).catch(() => undefined);
    await browser?.close();
    await web?.close();
    await service?.close();
  });

  it('adds a forward from a free host port to the guest httpd in Settings → Network', async () => {
    await openNetworkSettings(page, vm);
    const row = await addPresetForward(page, 'http');
    hostPort = await freeTcpPort();
    await setForwardField(page, row, 'hostPort', String(hostPort));
    await setForwardField(page, row, 'guestPort', String(NET_GUEST.httpPort));
    expect(await forwardField(page, row, 'guestPort')).toBe(String(NET_GUEST.httpPort));
    await saveSettings(page);
    const saved = JSON.parse(readFileSync(path.join(paths.library, VM, `${VM}.terrarium.json`), 'utf8')) as { network: { forwards: unknown[] } };
    expect(saved.network.forwards).toEqual([{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort, guestPort: NET_GUEST.httpPort }]);
  });

  it(
    'starts the guest with the Start button; the Details pane and the status bar show its DHCP address and the forward',
    async () => {
      await page.click(vm);
      await page.click('[data-testid=start]');
      await page.locator(`${vm} [data-state=running]`).waitFor({ timeout: 60_000 });
      shell = new SerialShell((text) => void call('sendSerial', { id: vmId, data: text }));
      const { history } = await call('subscribeSerial', { id: vmId });
      for (const data of [history, ...(early ?? [])]) shell.feed(data);
      early = null;
      const started = performance.now();
      // The serial line first: when DHCP fails, its transcript says why.
      const lease = await bootNetGuest(shell, BOOT_MS);
      console.warn(`network guest: DHCP lease ${lease.ip} and shell ready ${((performance.now() - started) / 1000).toFixed(0)} s after Start`);
      expect(lease).toEqual({ ip: '10.0.2.15', gateway: '10.0.2.2', dns: ['10.0.2.3'] });

      await page.click('[data-testid=tab-details]'); // starting opened the console
      const shown = { timeout: 30_000 };
      await expect.poll(() => page.locator('[data-testid=detail-net-address]').innerText(), shown).toBe('10.0.2.15');
      await expect.poll(() => page.locator('[data-testid=status-net]').innerText(), shown).toBe(`Guest 10.0.2.15 · tcp ${hostPort}→${NET_GUEST.httpPort}`);
      expect(await page.locator('[data-testid=detail-net-forwards]').innerText()).toContain(`TCP 127.0.0.1:${hostPort} → guest ${NET_GUEST.httpPort}`);
      await screenshot(page, '17-network-guest-running');
    },
    BOOT_MS + 120_000,
  );

  it('serves its 16 MiB file to the host through the forward, byte for byte', async () => {
    const started = performance.now();
    const got = await httpSha256(`http://127.0.0.1:${hostPort}${NET_GUEST.servedPath}`, 120_000);
    const seconds = (performance.now() - started) / 1000;
    console.warn(`network guest: ${NET_GUEST.servedBytes >> 20} MiB through the forward in ${seconds.toFixed(1)} s`);
    expect(got.status).toBe(200);
    expect(got.bytes).toBe(NET_GUEST.servedBytes);
    expect(got.sha256).toBe(sha256Hex(patternBytes(NET_GUEST.servedBytes)));
  }, 600_000);

  it('refuses the guest at 10.0.2.2 on every web host route without the token', async () => {
    const gateway = `10.0.2.2:${web.port}`;
    // What a client on the host's loopback would name: the Host check passes, so only the token guards.
    const loopback = `127.0.0.1:${web.port}`;
    const refusal = /^HTTP\/1\.1 401 Unauthorized\r?\n/;

    // The renderer's page and the API path, as any HTTP client in the guest would ask.
    for (const route of ['/', '/api/ws', '/index.html?token=guessed']) {
      const r = await shell.exec(`wget -O - 'http://${gateway}${route}' 2>&1`, 60_000);
      expect(r.status, route).not.toBe(0);
      expect(r.output, route).toMatch(/server returned error: HTTP\/1\.1 401 Unauthorized/);
    }
    // The contract's WebSocket, asked for properly: no 101 Switching Protocols.
    const upgrade = await guestRawHttp(shell, gateway, `GET /api/ws HTTP/1.1\r\nHost: ${loopback}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
    expect(upgrade).toMatch(refusal);
    // An upload into the media folder (the one write route): refused, and no file appears.
    const upload = await guestRawHttp(shell, gateway, `PUT /api/media?name=evil.iso HTTP/1.1\r\nHost: ${loopback}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`);
    expect(upload).toMatch(refusal);
    expect(upload).toContain('Missing or wrong token');
    expect(existsSync(path.join(paths.media, 'evil.iso'))).toBe(false);
    // Nothing else of the host is open to the guest: the web host listens on loopback only,
    // and the NAT forwards exactly the one rule the user added (into the guest, not out of it).
    expect(new URL(web.url).hostname).toBe('127.0.0.1');
    const info = await call('getVm', { id: vmId });
    expect(info.status === 'ok' ? info.session.net?.forwards : null).toEqual([{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort, guestPort: NET_GUEST.httpPort }]);
  }, 600_000);
});

if (skipped !== null) {
  it.skip(`network guest end-to-end test needs: ${skipped}`, () => {});
}

/** Send a raw HTTP request from the guest with busybox nc; resolves with the response (headers and body). */
async function guestRawHttp(shell: SerialShell, hostPort: string, request: string): Promise<string> {
  const [host, port] = hostPort.split(':');
  // printf turns \r\n back into bytes; the typed line itself stays one line.
  const typed = request.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  const r = await shell.exec(`printf '${typed}' | nc ${host} ${port}`, 60_000);
  return r.output;
}
