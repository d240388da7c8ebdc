/**
 * The console and serial UI, driven by the TEST DOUBLE machine (test/e2e/doubles) in an
 * in-process web host: canvas updates from dirty rectangles, keyboard capture and the host
 * key, Ctrl+Alt+Del, screenshots, xterm.js input and output, pause and power off. The real
 * guest flow is ui.e2e.test.ts; screenshots from here stay out of docs/ (no real guest).
 */
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDataPaths } from '../../app/host/paths.js';
import { tempDir } from '../../app/library/test-helpers.js';
import { TrustingPolicy } from '../../app/service/path-policy.js';
import { TerrariumService } from '../../app/service/service.js';
import { makeIso } from '../../app/service/test-iso.js';
import { startWebHost, type WebHost } from '../../app/web/server.js';
import { writeFileSync } from 'node:fs';
import { testDoubleWorkerUrl } from './doubles/index.js';
import { canvasFingerprint, launchBrowser, missingPrerequisite, REPO, screenshot, terminalText } from './harness.js';

const missing = missingPrerequisite();
if (missing !== null) console.warn(`\n*** console end-to-end tests (test double) SKIPPED: ${missing} ***\n`);
const SHOTS = path.join(os.tmpdir(), 'terrarium-test-double-shots');

describe.skipIf(missing !== null).sequential('console and serial UI with the test-double machine', () => {
  let service: TerrariumService;
  let web: WebHost;
  let browser: BrowserContext;
  let page: Page;
  const vm = '[data-testid="vm-item-Double"]';

  beforeAll(async () => {
    const paths = resolveDataPaths(tempDir('terrarium-double-'));
    service = new TerrariumService({ paths, transport: 'web', version: 'test', owner: 'web host', workerUrl: testDoubleWorkerUrl() });
    await service.open();
    const iso = path.join(paths.media, 'double.iso');
    writeFileSync(iso, makeIso('DOUBLE'));
    const conn = service.connect({ send: () => undefined, backlog: () => 0 }, new TrustingPolicy());
    await service.dispatch('createVm', { name: 'Double', osType: 'linux', memoryMiB: 64, cpus: 1, disk: { kind: 'none' }, iso }, conn);
    web = await startWebHost({ service, rendererDir: path.join(REPO, 'renderer/dist') });
    browser = await launchBrowser();
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.goto(web.url);
    await page.locator(vm).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await service?.close();
  });

  it('paints the screen from dirty rectangles as they arrive', async () => {
    await page.click(vm);
    await page.click('[data-testid=start]');
    await page.locator(`${vm} [data-state=running]`).waitFor();
    await expect.poll(async () => (await canvasFingerprint(page)).width).toBe(320);
    const first = await canvasFingerprint(page);
    await expect.poll(async () => (await canvasFingerprint(page)).sum).not.toBe(first.sum);
    expect(await page.locator('[data-testid=resolution]').innerText()).toBe('320×200');
    await screenshot(page, 'console', SHOTS);
  });

  it('captures the keyboard on click and releases it with the host key', async () => {
    await page.click('[data-testid=screen]');
    await page.getByText('Keyboard and mouse captured — press Right Ctrl to release').waitFor();
    await page.keyboard.press('KeyA');
    await page.keyboard.press('ControlRight');
    await page.getByText('Host key: Right Ctrl').waitFor();
    await page.click('[data-testid=ctrl-alt-del]');
  });

  it('takes a screenshot saved on the host', async () => {
    await page.click('[data-testid=screenshot]');
    await page.getByText(/Screenshot saved on the host: .*Screenshots/).waitFor();
  });

  it('shows serial output in xterm.js and sends what the user types', async () => {
    await page.click('[data-testid=tab-serial]');
    await expect.poll(() => terminalText(page)).toContain('double login:');
    await page.click('[data-testid=serial-terminal]');
    await page.keyboard.type('hello');
    await page.keyboard.press('Enter');
    await expect.poll(() => terminalText(page)).toContain('double: hello');
    await screenshot(page, 'serial', SHOTS);
  });

  it('pauses, resumes and stops the VM, keeping a last-frame thumbnail', async () => {
    await page.click('[data-testid=pause]');
    await page.locator(`${vm} [data-state=paused]`).waitFor();
    await page.click('[data-testid=resume]');
    await page.locator(`${vm} [data-state=running]`).waitFor();
    await page.click('[data-testid=stop]');
    await page.locator(`${vm} [data-state=stopped]`).waitFor();
    await expect.poll(() => page.locator(`${vm} .thumb img`).count()).toBe(1);
  });

  it('clones the stopped VM, refusing a name that is taken', async () => {
    await page.click('[data-testid=clone]');
    await page.fill('[data-testid=clone-name]', 'double');
    await page.click('[data-testid=clone-confirm]');
    await page.getByText('A VM named "double" already exists.').waitFor();
    await page.fill('[data-testid=clone-name]', 'Double copy');
    await page.click('[data-testid=clone-confirm]');
    await page.locator('[data-testid="vm-item-Double copy"]').waitFor();
    await page.click(vm);
  });

  it('deletes the stopped VM after confirmation', async () => {
    await page.click('[data-testid=delete]');
    await page.locator('[data-testid=delete-dialog]').waitFor();
    await page.click('[data-testid=delete-confirm]');
    await page.locator(vm).waitFor({ state: 'detached' });
  });
});
