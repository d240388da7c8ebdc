/**
 * The desktop UI in a browser, end to end, against `terrarium serve`: wizard, drops,
 * settings, console, serial, stop, host restart. Saves a screenshot of each screen under
 * docs/screenshots/ (the README shows them).
 *
 * Steps that need a booting guest run only when the real Machine boots the fixture ISO
 * (capability.ts, built by `npm run fixtures`); without it they are skipped with the reason
 * printed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../app/library/test-helpers.js';
import { makeIso } from '../../app/service/test-iso.js';
import { probeGuest, type Capability } from './capability.js';
import { canvasFingerprint, dropFile, launchBrowser, missingPrerequisite, screenshot, serve, terminalText, type ServeProcess } from './harness.js';

const missing = missingPrerequisite();
if (missing !== null) console.warn(`\n*** UI end-to-end tests SKIPPED: ${missing} ***\n`);

const VM = 'Test VM';
const vmItem = `[data-testid="vm-item-${VM}"]`;

function status(url: string, cookie?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: cookie ? { cookie } : {} }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(missing !== null).sequential('Terrarium in Chromium against terrarium serve', () => {
  let home: string;
  let host: ServeProcess;
  let browser: BrowserContext;
  let page: Page;
  let guest: Capability;
  let iso: { name: string; bytes: Buffer };

  beforeAll(async () => {
    guest = await probeGuest();
    console.warn(guest.boots && guest.serial ? `e2e: guest-dependent steps run: ${guest.reason}` : `\n*** e2e: guest-dependent steps (some or all) SKIPPED: ${guest.reason} ***\n`);
    iso = guest.iso !== null ? { name: path.basename(guest.iso), bytes: readFileSync(guest.iso) } : { name: 'debian-12.5.0-amd64-netinst.iso', bytes: makeIso('DEBIAN_12_5_0_AMD64_NETINST', { bootable: true }) };
    home = tempDir('terrarium-e2e-');
    host = await serve(home);
    browser = await launchBrowser();
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (error) => console.error('page error:', error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('refuses every request without the token', async () => {
    const bare = host.url.replace(/\?token=.*$/, '');
    expect(await status(bare)).toBe(401);
    expect(await status(`${bare}api/ws`)).toBe(401);
  });

  it('opens on an empty library', async () => {
    await page.goto(host.url);
    await page.getByText('No VMs yet.').waitFor();
    await page.getByText('Web host: open').waitFor();
    await screenshot(page, '01-empty-library');
  });

  it('creates a VM with the wizard, explaining wrong input as the user types', async () => {
    await page.click('[data-testid=new-vm]');
    const wizard = page.locator('[data-testid=wizard]');
    await wizard.waitFor();
    await page.fill('[data-testid=wizard-name]', 'bad/name');
    await wizard.getByText('A name cannot contain "/"').waitFor();
    await page.fill('[data-testid=wizard-name]', VM);
    await page.click('[data-testid=os-debian]');
    await expect.poll(() => page.isEnabled('[data-testid=wizard-next]')).toBe(true);
    await screenshot(page, '02-wizard-name');
    await page.click('[data-testid=wizard-next]');
    await page.fill('[data-testid=wizard-memory]', '64000');
    await wizard.getByText(/(This host can give a VM|Terrarium's virtual PC takes) at most \d+ MiB/).waitFor();
    await screenshot(page, '03-wizard-memory-error');
    await page.fill('[data-testid=wizard-memory]', '256');
    await expect.poll(() => page.isEnabled('[data-testid=wizard-next]')).toBe(true);
    await page.click('[data-testid=wizard-next]');
    await page.fill('[data-testid=wizard-disk-size]', '1');
    await expect.poll(() => page.isEnabled('[data-testid=wizard-create]')).toBe(true);
    await screenshot(page, '04-wizard-disk');
    await page.click('[data-testid=wizard-create]');
    await wizard.waitFor({ state: 'detached' });
    await page.locator(vmItem).waitFor();
    await expect.poll(() => page.locator('[data-testid=detail-memory]').innerText()).toBe('256 MiB');
    expect(existsSync(path.join(home, 'VMs', VM, `${VM}.terrarium.json`))).toBe(true);
    await screenshot(page, '05-library');
  });

  it('refuses a dropped file that is not an ISO, uploading nothing', async () => {
    await dropFile(page, '[data-testid=dropzone]', 'holiday.jpg', Buffer.from('\xff\xd8\xff\xe0 not an iso', 'latin1'));
    await page.getByText('holiday.jpg is not an ISO image, so it was not used.').waitFor();
    const media = path.join(home, 'Media');
    expect(existsSync(media) ? readdirSync(media) : []).toEqual([]);
    await screenshot(page, '06-drop-refused');
    await page.locator('[data-testid=notice-error] .close').first().click();
  });

  it('drops an ISO onto the VM: uploads it, attaches it and offers to boot from it', async () => {
    await dropFile(page, vmItem, iso.name, iso.bytes);
    await page.locator('[data-testid=iso-attached-dialog]').waitFor();
    await screenshot(page, '07-iso-attached');
    await page.getByRole('button', { name: 'Not now' }).click();
    await expect.poll(() => page.locator('[data-testid=detail-cdrom]').innerText()).toContain(iso.name);
    expect(readdirSync(path.join(home, 'Media'))).toEqual([iso.name]);
  });

  it('drops an ISO onto the window: offers a VM with a name and OS guessed from the volume label', async () => {
    await dropFile(page, '[data-testid=details]', iso.name, iso.bytes);
    const dialog = page.locator('[data-testid=iso-create-dialog]');
    await dialog.waitFor();
    const suggested = await page.locator('[data-testid=iso-name]').innerText();
    expect(suggested.length).toBeGreaterThan(0);
    if (guest.iso === null) {
      expect(await page.locator('[data-testid=iso-os]').innerText()).toBe('Debian');
      expect(suggested).toBe('Debian 12 5 0 amd64 Netinst');
    }
    await screenshot(page, '08-iso-create');
    await page.click('[data-testid=iso-create-confirm]');
    await page.locator('[data-testid=wizard]').waitFor();
    expect(await page.inputValue('[data-testid=wizard-name]')).toBe(suggested);
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(readdirSync(path.join(home, 'Media'))).toEqual([iso.name]); // the same file is not uploaded twice
  });

  it('edits settings: invalid values are explained inline, valid ones are saved', async () => {
    await page.click(vmItem);
    await page.click('[data-testid=settings]');
    const dialog = page.locator('[data-testid=settings-dialog]');
    await dialog.waitFor();
    await page.fill('[data-testid=settings-memory]', '64000');
    await dialog.getByText(/(This host can give a VM|Terrarium's virtual PC takes) at most \d+ MiB/).waitFor();
    expect(await page.isEnabled('[data-testid=settings-save]')).toBe(false);
    await screenshot(page, '09-settings-error');
    await page.fill('[data-testid=settings-memory]', '384');
    await page.click('[data-testid=settings-storage]');
    await page.click('[data-testid=settings-add-disk]');
    await expect.poll(() => dialog.locator('.disk-list li').count()).toBe(2);
    await expect.poll(() => page.isEnabled('[data-testid=settings-save]')).toBe(true);
    await page.click('[data-testid=settings-save]');
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('[data-testid=detail-memory]').innerText()).toBe('384 MiB');
  });

  it('starts the VM', async (ctx) => {
    if (!guest.boots && !guest.serial) ctx.skip(`needs a booting guest: ${guest.reason}`);
    await page.click(vmItem);
    await page.click('[data-testid=start]');
    await page.locator(`${vmItem} [data-state=running]`).waitFor({ timeout: 60_000 });
  });

  it('shows the guest screen on the console canvas, changing as it boots', async (ctx) => {
    if (!guest.boots) ctx.skip(`needs a guest that paints its screen: ${guest.reason}`);
    await page.click('[data-testid=tab-console]');
    await expect.poll(async () => (await canvasFingerprint(page)).nonBlack, { timeout: 60_000 }).toBeGreaterThan(0);
    const first = await canvasFingerprint(page);
    await expect.poll(async () => (await canvasFingerprint(page)).sum, { timeout: 120_000, interval: 1000 }).not.toBe(first.sum);
    await screenshot(page, '11-console');
  });

  it('types into the serial tab and the guest answers', async (ctx) => {
    if (!guest.serial) ctx.skip(`needs a guest with a shell on COM1: ${guest.reason}`);
    await page.click('[data-testid=tab-serial]');
    await page.locator('[data-testid=serial-terminal] .xterm-rows').waitFor();
    // Keys typed before the shell opens the port are lost (Linux clears the UART FIFOs when a
    // program opens it), so wait for the guest to say its shell is there, or for a prompt.
    await expect.poll(() => terminalText(page), { timeout: 300_000, interval: 1000 }).toMatch(/TERRARIUM-SHELL ready|^\/ # /m);
    await page.click('[data-testid=serial-terminal]');
    await page.keyboard.type('echo $((6*7))');
    await page.keyboard.press('Enter');
    await expect.poll(() => terminalText(page), { timeout: 60_000 }).toMatch(/^42\s*$/m);
    await screenshot(page, '12-serial');
  }, 420_000);

  it('stops the VM', async (ctx) => {
    if (!guest.boots && !guest.serial) ctx.skip(`needs a booting guest: ${guest.reason}`);
    await page.click('[data-testid=stop]');
    try {
      await page.locator(`${vmItem} [data-state=stopped]`).waitFor({ timeout: 60_000 });
    } catch {
      await page.click('[data-testid=power-off]'); // the guest ignored the ACPI button
      await page.locator(`${vmItem} [data-state=stopped]`).waitFor({ timeout: 30_000 });
    }
  });

  it('refuses to start a VM whose ISO is gone, saying what to do, and keeps the VM', async () => {
    const media = path.join(home, 'Media', iso.name);
    const config = readFileSync(path.join(home, 'VMs', VM, `${VM}.terrarium.json`), 'utf8');
    renameSync(media, `${media}.away`);
    try {
      await page.click(vmItem);
      await page.click('[data-testid=start]');
      const notice = page.locator('[data-testid=notice-error]').filter({ hasText: `The CD/DVD image ${iso.name} is missing` });
      await notice.waitFor({ timeout: 30_000 });
      expect(await notice.innerText()).toContain('eject it or choose another ISO in Settings');
      await screenshot(page, '10-start-refused');
      expect(await page.locator(`${vmItem} [data-state=stopped]`).count()).toBe(1);
      expect(readFileSync(path.join(home, 'VMs', VM, `${VM}.terrarium.json`), 'utf8')).toBe(config);
      await notice.locator('.close').click();
    } finally {
      renameSync(`${media}.away`, media);
    }
  });

  it('finds the VM and its settings unchanged after the host restarts', async () => {
    const before = readFileSync(path.join(home, 'VMs', VM, `${VM}.terrarium.json`), 'utf8');
    // A VM whose config was damaged while the host was down.
    const broken = path.join(home, 'VMs', 'Broken VM', 'Broken VM.terrarium.json');
    mkdirSync(path.dirname(broken));
    writeFileSync(broken, '{"schemaVersion": 1, "name": "Broken VM", "system": ');
    const oldUrl = host.url;
    expect(await host.stop()).toBe(0);
    await page.locator('[data-testid=connection-banner]').getByText('Lost the connection to the Terrarium host').waitFor();
    host = await serve(home);
    expect(host.url).not.toBe(oldUrl);
    const oldCookie = `terrarium_token=${new URL(oldUrl).searchParams.get('token')}`;
    expect(await status(host.url.replace(/\?token=.*$/, ''), oldCookie)).toBe(401);
    await page.goto(host.url);
    await page.locator(vmItem).click();
    await expect.poll(() => page.locator('[data-testid=detail-memory]').innerText()).toBe('384 MiB');
    expect(await page.locator('[data-testid=detail-os]').innerText()).toBe('Debian');
    expect(await page.locator('[data-testid=detail-cdrom]').innerText()).toContain(iso.name);
    const after = JSON.parse(readFileSync(path.join(home, 'VMs', VM, `${VM}.terrarium.json`), 'utf8'));
    expect(after).toEqual(JSON.parse(before));
    await screenshot(page, '13-after-restart');
  });

  it('lists a corrupt config as an error with the reason, and never rewrites it', async () => {
    const broken = path.join(home, 'VMs', 'Broken VM', 'Broken VM.terrarium.json');
    await page.click('[data-testid="vm-item-Broken VM"]');
    const pane = page.locator('[data-testid=broken-vm]');
    await pane.getByText('Broken VM.terrarium.json is not valid JSON').waitFor();
    await pane.getByText(/Terrarium leaves it untouched/).waitFor();
    expect(await page.isEnabled('[data-testid=settings]')).toBe(false);
    expect(await page.isEnabled('[data-testid=delete]')).toBe(false);
    expect(readFileSync(broken, 'utf8')).toBe('{"schemaVersion": 1, "name": "Broken VM", "system": ');
    await screenshot(page, '14-broken-config');
  });
});
