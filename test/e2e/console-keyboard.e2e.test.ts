/**
 * Keys typed on the console canvas reach the guest: the Debian 12 installer ISO (built by
 * `npm run fixtures`) boots to its graphical menu under `terrarium serve`, a click captures
 * the keyboard, ArrowDown moves the highlight, Right Ctrl releases, Enter (captured again)
 * starts the installer's kernel in a new video mode.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../app/library/test-helpers.js';
import { canvasFingerprint, launchBrowser, missingPrerequisite, REPO, screenshot, serve, type ServeProcess } from './harness.js';

const ISO = path.join(REPO, 'test/fixtures/out/debian-installer-i386.iso');
const missing = missingPrerequisite() ?? (existsSync(ISO) ? null : `${ISO} is missing (npm run fixtures builds it)`);
if (missing !== null) console.warn(`\n*** console keyboard end-to-end test SKIPPED: ${missing} ***\n`);

const VM = 'Installer';

describe.skipIf(missing !== null).sequential('the console takes the keyboard', () => {
  let host: ServeProcess;
  let browser: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    const home = tempDir('terrarium-e2e-kbd-');
    execFileSync(process.execPath, [path.join(REPO, 'bin/terrarium.js'), 'create', VM, '--os', 'debian', '--memory', '512M', '--no-disk', '--iso', ISO], {
      env: { ...process.env, TERRARIUM_HOME: home },
    });
    host = await serve(home);
    browser = await launchBrowser();
    page = browser.pages()[0] ?? (await browser.newPage());
  });

  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  const resolution = () => page.locator('[data-testid=resolution]').innerText().catch(() => '');

  it('boots the installer ISO to its graphical menu on the canvas', async () => {
    await page.goto(host.url);
    await page.click(`[data-testid="vm-item-${VM}"]`);
    await page.click('[data-testid=start]');
    await page.click('[data-testid=tab-console]');
    await expect.poll(resolution, { timeout: 180_000, interval: 1000 }).toBe('640×480');
    // The menu is drawn once its background image is decoded: wait for a still screen.
    let last = -1;
    await expect
      .poll(
        async () => {
          const { sum, nonBlack } = await canvasFingerprint(page);
          const still = sum === last && nonBlack > 100_000;
          last = sum;
          return still;
        },
        { timeout: 120_000, interval: 2000 },
      )
      .toBe(true);
  }, 320_000);

  it('moves the menu highlight with a key typed after a click on the canvas', async () => {
    const before = (await canvasFingerprint(page)).sum;
    await page.click('[data-testid=screen]');
    await page.getByText('press Right Ctrl to release').waitFor();
    await page.keyboard.press('ArrowDown');
    await expect.poll(async () => (await canvasFingerprint(page)).sum, { timeout: 30_000, interval: 250 }).not.toBe(before);
    await screenshot(page, '15-installer-menu');
    await page.keyboard.press('ArrowUp');
    // Right Ctrl gives the keyboard back to the page: keys no longer reach the guest.
    await page.keyboard.press('ControlRight');
    await page.getByText('press Right Ctrl to release').waitFor({ state: 'detached' });
  });

  it('starts the installer with Enter: its kernel switches the video mode', async () => {
    await page.click('[data-testid=screen]');
    await page.keyboard.press('Enter');
    await expect.poll(resolution, { timeout: 120_000, interval: 1000 }).not.toBe('640×480');
    // The mouse belongs to the guest until Right Ctrl releases it.
    await page.keyboard.press('ControlRight');
    await page.getByText('press Right Ctrl to release').waitFor({ state: 'detached' });
    await page.click('[data-testid=power-off]');
    await page.locator(`[data-testid="vm-item-${VM}"] [data-state=stopped]`).waitFor({ timeout: 30_000 });
  }, 150_000);
});
