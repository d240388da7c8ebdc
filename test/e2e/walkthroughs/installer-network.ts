/**
 * Walkthrough (not part of `npm test`: it takes 20-40 minutes on the software CPU): the Debian 12
 * i386 netboot installer, started from the app in Chromium, answers language, location and
 * keymap with Enter, detects the e1000, gets its address from the NAT's DHCP server and stops
 * at the hostname question. Saves docs/screenshots/18-installer-network-hostname.png.
 * With `--arch amd64 --first-screen` it boots the amd64 installer ISO instead (64-bit code,
 * SSE) and stops at its first dialog, "Select a language", saving
 * docs/screenshots/19-installer-amd64-language.png.
 *
 *   npm run build && node dist/test/e2e/walkthroughs/installer-network.js [--out DIR] [--arch i386|amd64] [--first-screen]
 *
 * Screens are told apart by the guest's own pixels: a screen counts as "waiting for the user"
 * once its coarse image has not changed for STILL_MS (the installer's cursor may blink, so a
 * few blocks may differ) and it looks like a newt dialog: a light gray box inside the blue
 * screen border (docs/screenshots/installer-first-screen.png). The DHCP step is confirmed by
 * the status bar, which shows the lease the NAT handed out.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { tempDir } from '../../../app/library/test-helpers.js';
import { launchBrowser, missingPrerequisite, REPO, SCREENSHOTS, serve } from '../harness.js';

const ARCH = process.argv.includes('--arch') ? process.argv[process.argv.indexOf('--arch') + 1]! : 'i386';
const FIRST_SCREEN_ONLY = process.argv.includes('--first-screen');
const ISO = path.join(REPO, `test/fixtures/out/debian-installer-${ARCH}.iso`);
const VM = 'Debian installer';
const STILL_MS = 20_000;
const POLL_MS = 2_000;
const DEADLINE_MS = 180 * 60_000;
const ANSWERS = ['language', 'location', 'keymap'];

interface Coarse {
  width: number;
  height: number;
  blocks: number[];
  /** Share of pixels in the installer's blue (its screen border) and its light gray (the dialog). */
  blue: number;
  gray: number;
}

/** The canvas averaged into 32×24 blocks, and the shares of the installer's blue and gray. */
async function coarse(page: Page): Promise<Coarse> {
  return page.evaluate(`(() => {
    const canvas = document.querySelector('[data-testid=screen]');
    const ctx = canvas && canvas.getContext('2d');
    if (!canvas || !ctx || canvas.width === 0) return { width: 0, height: 0, blocks: [], blue: 0, gray: 0 };
    const { width, height } = canvas;
    const data = ctx.getImageData(0, 0, width, height).data;
    const bw = 32, bh = 24;
    const sums = new Array(bw * bh).fill(0);
    let blue = 0, gray = 0;
    for (let y = 0; y < height; y++) {
      const by = Math.min(bh - 1, Math.floor((y * bh) / height));
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        const r = data[i], g = data[i + 1], b = data[i + 2];
        sums[by * bw + Math.min(bw - 1, Math.floor((x * bw) / width))] += r + g * 3 + b * 7;
        if (b > 120 && r < 60 && g < 60) blue++;
        else if (r > 150 && r < 190 && Math.abs(r - g) < 8 && Math.abs(r - b) < 8) gray++;
      }
    }
    const per = (width * height) / (bw * bh);
    return { width, height, blocks: sums.map((s) => Math.round(s / per)), blue: blue / (width * height), gray: gray / (width * height) };
  })()`);
}

/** How many blocks differ noticeably between two coarse images (all of them if the size changed). */
function changedBlocks(a: Coarse, b: Coarse): number {
  if (a.width !== b.width || a.height !== b.height || a.blocks.length !== b.blocks.length) return Number.MAX_SAFE_INTEGER;
  let n = 0;
  for (let i = 0; i < a.blocks.length; i++) if (Math.abs(a.blocks[i]! - b.blocks[i]!) > 4) n++;
  return n;
}

const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where the latest screen is saved once a minute while waiting (to see what a slow run is doing). */
let latestShot: string | null = null;

/** Waits until the installer shows a dialog that has stayed put for STILL_MS and differs from `previous`. */
async function waitForDialog(page: Page, previous: Coarse | null, deadline: number): Promise<Coarse> {
  let candidate: Coarse | null = null;
  let since = 0;
  let lastShot = 0;
  while (Date.now() < deadline) {
    const now = await coarse(page);
    if (latestShot !== null && Date.now() - lastShot > 60_000) {
      await page.screenshot({ path: latestShot });
      lastShot = Date.now();
    }
    // A newt dialog: a light gray box on the blue screen, filling most of it between them (a
    // screen with one of the two alone is still being drawn). Wide dialogs leave little blue,
    // narrow ones (the keymap list) little gray.
    const drawn = now.blue > 0.02 && now.gray > 0.05 && now.blue + now.gray > 0.6;
    const isDialog = drawn && (previous === null || changedBlocks(now, previous) > 8);
    if (candidate !== null && isDialog && changedBlocks(now, candidate) <= 2) {
      if (Date.now() - since >= STILL_MS) return now;
    } else {
      candidate = isDialog ? now : null;
      since = Date.now();
    }
    await sleep(POLL_MS);
  }
  throw new Error('the installer showed no new dialog before the deadline');
}

async function main(): Promise<void> {
  const outIdx = process.argv.indexOf('--out');
  const out = outIdx > 0 ? path.resolve(process.argv[outIdx + 1]!) : SCREENSHOTS;
  const missing = missingPrerequisite() ?? (existsSync(ISO) ? null : `${ISO} is missing (npm run fixtures builds it)`);
  if (missing !== null) throw new Error(missing);
  mkdirSync(out, { recursive: true });
  const steps = path.join(out, 'installer-network-steps');
  mkdirSync(steps, { recursive: true });
  latestShot = path.join(steps, 'latest.png');

  const home = tempDir('terrarium-walk-installer-');
  // The Debian preset's 1 GiB for amd64: with 512 MiB its installer enters low memory mode
  // (English only, a "Low memory" dialog first) instead of asking for a language.
  const memory = ARCH === 'amd64' ? '1G' : '512M';
  execFileSync(process.execPath, [path.join(REPO, 'bin/terrarium.js'), 'create', VM, '--os', 'debian', '--memory', memory, '--no-disk', '--iso', ISO], {
    env: { ...process.env, TERRARIUM_HOME: home },
  });
  const host = await serve(home);
  const browser = await launchBrowser();
  const started = Date.now();
  const deadline = started + DEADLINE_MS;
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(host.url);
    await page.click(`[data-testid="vm-item-${VM}"]`);
    await page.click('[data-testid=start]');
    await page.click('[data-testid=tab-console]');
    const resolution = () => page.locator('[data-testid=resolution]').innerText().catch(() => '');
    while ((await resolution()) !== '640×480') await sleep(1000);
    await sleep(15_000); // the boot menu's background image
    log(`boot menu (${elapsed()}); Enter starts the installer`);
    await page.click('[data-testid=screen]');
    await page.keyboard.press('Enter');

    let previous: Coarse | null = null;
    if (FIRST_SCREEN_ONLY) {
      const first = await waitForDialog(page, previous, deadline);
      log(`first dialog still for ${STILL_MS / 1000} s at ${elapsed()} (${first.width}×${first.height})`);
      const file = path.join(out, `19-installer-${ARCH}-language.png`);
      await page.screenshot({ path: file });
      log(`saved ${file}`);
      return;
    }
    for (const [i, name] of ANSWERS.entries()) {
      previous = await waitForDialog(page, previous, deadline);
      await page.screenshot({ path: path.join(steps, `${i + 1}-${name}.png`) });
      log(`${name} screen still for ${STILL_MS / 1000} s at ${elapsed()} (${previous.width}×${previous.height}); Enter`);
      await page.keyboard.press('Enter');
    }

    const status = page.locator('[data-testid=status-net]');
    while (Date.now() < deadline && !(await status.innerText().catch(() => '')).includes('10.0.2.15')) await sleep(POLL_MS);
    log(`status bar: "${await status.innerText()}" at ${elapsed()}`);
    const hostname = await waitForDialog(page, previous, deadline);
    log(`next dialog still at ${elapsed()} (${hostname.width}×${hostname.height})`);
    await page.keyboard.press('ControlRight'); // release the keyboard so the status bar reads normally
    await sleep(1000);
    const file = path.join(out, '18-installer-network-hostname.png');
    await page.screenshot({ path: file });
    log(`saved ${file}`);
  } finally {
    await browser.close();
    await host.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
