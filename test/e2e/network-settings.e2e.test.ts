/**
 * Settings → Network in Chromium against an in-process web host: the SSH preset and its
 * ssh line, saving and finding the forward again, bad ports refused inline with nothing
 * saved, and (with the TEST DOUBLE machine, which really listens on forwarded host ports)
 * the guest's address and a forward added while the VM runs. The screenshot of the section
 * (VM stopped, no guest involved) goes to docs/screenshots/; the running ones do not.
 */
import { spawn } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDataPaths } from '../../app/host/paths.js';
import { tempDir } from '../../app/library/test-helpers.js';
import { LOCK_FILE } from '../../app/session/lock.js';
import { TrustingPolicy } from '../../app/service/path-policy.js';
import { TerrariumService } from '../../app/service/service.js';
import { makeIso } from '../../app/service/test-iso.js';
import { startWebHost, type WebHost } from '../../app/web/server.js';
import { testDoubleWorkerUrl } from './doubles/index.js';
import { launchBrowser, missingPrerequisite, REPO, screenshot } from './harness.js';
import { addForward, addPresetForward, forwardCount, forwardField, freeTcpPort, listenTcp, openNetworkSettings, portIsFree, saveSettings, setForwardField, tcpExchange } from './network.js';

const missing = missingPrerequisite();
if (missing !== null) console.warn(`\n*** network settings end-to-end tests SKIPPED: ${missing} ***\n`);
const SHOTS = path.join(os.tmpdir(), 'terrarium-test-double-shots');

describe.skipIf(missing !== null).sequential('Settings → Network in Chromium', () => {
  let service: TerrariumService;
  let web: WebHost;
  let browser: BrowserContext;
  let page: Page;
  let configFile: string;
  let sshPort: number;
  const busy: Server[] = [];
  const vm = '[data-testid="vm-item-Net"]';
  const dialog = () => page.locator('[data-testid=settings-dialog]');
  const savedForwards = () => JSON.parse(readFileSync(configFile, 'utf8')).network.forwards as unknown[];

  beforeAll(async () => {
    const paths = resolveDataPaths(tempDir('terrarium-net-e2e-'));
    service = new TerrariumService({ paths, transport: 'web', version: 'test', owner: 'web host', workerUrl: testDoubleWorkerUrl() });
    await service.open();
    const iso = path.join(paths.media, 'net.iso');
    writeFileSync(iso, makeIso('NET'));
    const conn = service.connect({ send: () => undefined, backlog: () => 0 }, new TrustingPolicy());
    await service.dispatch('createVm', { name: 'Net', osType: 'linux', memoryMiB: 64, cpus: 1, disk: { kind: 'none' }, iso }, conn);
    configFile = path.join(paths.library, 'Net', 'Net.terrarium.json');
    web = await startWebHost({ service, rendererDir: path.join(REPO, 'renderer/dist') });
    browser = await launchBrowser();
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.goto(web.url);
    await page.locator(vm).waitFor();
  });

  afterAll(async () => {
    for (const s of busy) s.close();
    await browser?.close();
    await web?.close();
    await service?.close();
  });

  it('shows a new VM on NAT with its MAC and no forwards', async () => {
    await page.click(vm);
    const mac = JSON.parse(readFileSync(configFile, 'utf8')).network.mac as string;
    expect(await page.locator('[data-testid=detail-net-adapter]').innerText()).toBe(`Intel e1000, NAT (MAC ${mac})`);
    expect(await page.locator('[data-testid=detail-net-forwards]').innerText()).toBe('none');
    expect(await page.locator('[data-testid=detail-net-address]').innerText()).toBe('the VM is not running');
  });

  it('adds an SSH forward with the preset, shows the ssh line, saves it and finds it again', async () => {
    await openNetworkSettings(page, vm);
    expect(await forwardCount(page)).toBe(0);
    const first = await addPresetForward(page, 'ssh');
    expect(await forwardField(page, first, 'hostPort')).toBe('2222');
    expect(await forwardField(page, first, 'guestPort')).toBe('22');
    await expect.poll(() => page.locator(`[data-testid=ssh-line-${first}]`).innerText()).toBe('ssh -p 2222 root@127.0.0.1');
    // A second SSH preset takes the next port the table does not use.
    const second = await addPresetForward(page, 'ssh');
    expect(await forwardField(page, second, 'hostPort')).toBe('2223');
    await page.click(`[data-testid=forward-remove-${second}]`);
    // 2222 may be taken on this host: then use a port the kernel says is free; the ssh line follows.
    sshPort = (await portIsFree(2222)) ? 2222 : await freeTcpPort();
    await setForwardField(page, first, 'hostPort', '');
    await expect.poll(() => page.locator(`[data-testid=ssh-line-${first}]`).count()).toBe(0);
    await setForwardField(page, first, 'hostPort', String(sshPort));
    await expect.poll(() => page.locator(`[data-testid=ssh-line-${first}]`).innerText()).toBe(`ssh -p ${sshPort} root@127.0.0.1`);
    await page.locator('[data-testid=settings-save]:enabled').waitFor();
    await screenshot(page, '16-network-settings');
    await saveSettings(page);
    expect(savedForwards()).toEqual([{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: sshPort, guestPort: 22 }]);
    await expect.poll(() => page.locator('[data-testid=detail-net-forwards]').innerText()).toContain(`TCP 127.0.0.1:${sshPort} → guest 22`);
    expect(await page.locator('[data-testid=detail-net-forwards]').innerText()).toContain(`ssh -p ${sshPort} root@127.0.0.1`);
    await openNetworkSettings(page, vm);
    expect(await forwardCount(page)).toBe(1);
    expect(await forwardField(page, 0, 'hostPort')).toBe(String(sshPort));
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('explains bad ports and addresses inline and saves nothing', async () => {
    const before = readFileSync(configFile, 'utf8');
    await openNetworkSettings(page, vm);
    const row = await addForward(page, { hostPort: 80, guestPort: 80 });
    const error = page.locator(`[data-testid=forward-error-${row}]`);
    await expect.poll(() => error.innerText()).toMatch(/^Host ports below 1024 are privileged: only root may listen on them/);
    expect(await page.isEnabled('[data-testid=settings-save]')).toBe(false);
    await screenshot(page, 'network-bad-port', SHOTS);
    await setForwardField(page, row, 'hostPort', '70000');
    await expect.poll(() => error.innerText()).toBe('The host port must be between 1 and 65535.');
    await setForwardField(page, row, 'hostPort', 'ssh');
    await expect.poll(() => error.innerText()).toBe('The host port must be a number.');
    await setForwardField(page, row, 'hostPort', String(sshPort));
    await expect.poll(() => error.innerText()).toMatch(new RegExp(`host port ${sshPort} is already forwarded by tcp 127\\.0\\.0\\.1:${sshPort} -> 22`));
    const taken = await listenTcp();
    busy.push(taken);
    const takenPort = (taken.address() as { port: number }).port;
    await setForwardField(page, row, 'hostPort', String(takenPort));
    await expect.poll(() => error.innerText()).toBe(`TCP port ${takenPort} on 127.0.0.1 is in use by another program (or another VM's forward).`);
    await setForwardField(page, row, 'hostPort', String(await freeTcpPort()));
    await setForwardField(page, row, 'hostAddress', 'localhost');
    await expect.poll(() => error.innerText()).toMatch(/^The host address must be an IPv4 address/);
    await setForwardField(page, row, 'hostAddress', '0.0.0.0');
    await page.locator(`[data-testid=forward-warning-${row}]`).getByText('other computers on your network can reach guest port 80').waitFor();
    await page.fill('[data-testid=net-mac]', '01:00:5e:00:00:01');
    await dialog().getByText(/is a multicast address; a NIC needs a unicast one/).waitFor();
    expect(await page.isEnabled('[data-testid=settings-save]')).toBe(false);
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(readFileSync(configFile, 'utf8')).toBe(before);
  });

  it('shows the guest address and active forwards of the running VM, and adds a forward live', async () => {
    await page.click(vm);
    await page.click('[data-testid=start]');
    await page.locator(`${vm} [data-state=running]`).waitFor();
    await page.click('[data-testid=tab-details]'); // starting opens the console
    await expect.poll(() => page.locator('[data-testid=detail-net-address]').innerText()).toBe('10.0.2.15');
    await expect.poll(() => page.locator('[data-testid=status-net]').innerText()).toBe(`Guest 10.0.2.15 · tcp ${sshPort}→22`);
    expect(await tcpExchange(sshPort)).toBe('double: guest port 22\n');

    await openNetworkSettings(page, vm);
    await page.locator('[data-testid=net-running-note]').waitFor();
    const row = await addPresetForward(page, 'http');
    const httpPort = await freeTcpPort();
    await setForwardField(page, row, 'hostPort', String(httpPort));
    await screenshot(page, 'network-running', SHOTS);
    await saveSettings(page);
    expect(await tcpExchange(httpPort)).toBe('double: guest port 80\n');
    await expect.poll(() => page.locator('[data-testid=status-net]').innerText()).toBe(`Guest 10.0.2.15 · tcp ${sshPort}→22, tcp ${httpPort}→80`);
    expect(await page.locator('[data-testid=detail-net-forwards]').innerText()).toContain(`TCP 127.0.0.1:${httpPort} → guest 80`);
    await screenshot(page, 'network-details-running', SHOTS);
    expect(savedForwards()).toHaveLength(2);

    await page.click('[data-testid=power-off]');
    await page.locator(`${vm} [data-state=stopped]`).waitFor();
    await expect(tcpExchange(httpPort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('shows a refusal on save under the forwarding table, saving nothing', async () => {
    const before = readFileSync(configFile, 'utf8');
    await openNetworkSettings(page, vm);
    const row = await addPresetForward(page, 'ssh');
    await setForwardField(page, row, 'hostPort', String(await freeTcpPort()));
    await page.locator('[data-testid=settings-save]:enabled').waitFor();
    // Meanwhile the VM was started in another process (`terrarium start`): its forwards can change only there.
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const lock = path.join(path.dirname(configFile), LOCK_FILE);
    writeFileSync(lock, JSON.stringify({ pid: other.pid, host: os.hostname(), owner: 'cli', startedAt: new Date().toISOString() }));
    try {
      await page.click('[data-testid=settings-save]');
      await dialog().getByRole('alert').getByText(`"Net" runs in cli (process ${other.pid}): its port forwards cannot change from here while it runs.`).waitFor();
      expect(await page.isEnabled('[data-testid=settings-save]')).toBe(false);
      expect(readFileSync(configFile, 'utf8')).toBe(before);
      await page.getByRole('button', { name: 'Cancel' }).click();
    } finally {
      unlinkSync(lock);
      other.kill();
    }
  });
});
