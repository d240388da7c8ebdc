/**
 * End-to-end plumbing: Debian's Chromium through playwright-core, `terrarium serve` as a
 * child process, file drops, canvas sampling and screenshots for docs/screenshots/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The project root, whether this file runs from source (vitest) or compiled under dist/. */
export const REPO = (() => {
  const here = path.resolve(import.meta.dirname, '../..');
  return path.basename(here) === 'dist' ? path.dirname(here) : here;
})();
export const CHROMIUM = process.env.TERRARIUM_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(REPO, 'docs', 'screenshots');

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Why the UI end-to-end tests cannot run here, or null when they can. */
export function missingPrerequisite(): string | null {
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM} (apt install chromium, or set TERRARIUM_CHROMIUM)`;
  if (!existsSync(path.join(REPO, 'renderer/dist/index.html'))) return 'the renderer is not built (npm run build)';
  if (!existsSync(path.join(REPO, 'dist/app/cli/main.js'))) return 'the app is not built (npm run build)';
  return null;
}

export async function launchBrowser(): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'terrarium-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

/** `terrarium serve` on a free port, as a user would run it. */
export async function serve(home: string): Promise<ServeProcess> {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/terrarium.js'), 'serve', '--port', '0'], {
    cwd: REPO,
    env: { ...process.env, TERRARIUM_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`terrarium serve printed no URL in 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /running at (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`terrarium serve exited (${code}):\n${output}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

export async function screenshot(page: Page, name: string, dir = SCREENSHOTS): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

/** Drop a file on an element the way a file manager would (DataTransfer with a File). */
export async function dropFile(page: Page, selector: string, name: string, bytes: Buffer): Promise<void> {
  // In-page code is a string: this file is compiled without the DOM library.
  const arg = JSON.stringify({ name, b64: bytes.toString('base64') });
  const dataTransfer = await page.evaluateHandle(`(({ name, b64 }) => {
    const bin = atob(b64);
    const data = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
    const dt = new DataTransfer();
    dt.items.add(new File([data], name, { type: 'application/octet-stream' }));
    return dt;
  })(${arg})`);
  for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent(selector, type, { dataTransfer });
}

/** A cheap fingerprint of the console canvas's pixels (changes when the guest draws). */
export async function canvasFingerprint(page: Page): Promise<{ width: number; height: number; sum: number; nonBlack: number }> {
  return page.evaluate(`(() => {
    const canvas = document.querySelector('[data-testid=screen]');
    const ctx = canvas && canvas.getContext('2d');
    if (!canvas || !ctx) return { width: 0, height: 0, sum: 0, nonBlack: 0 };
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    let nonBlack = 0;
    for (let i = 0; i < data.length; i += 4) {
      const v = data[i] + data[i + 1] + data[i + 2];
      sum = (sum * 31 + v) >>> 0;
      if (v > 0) nonBlack++;
    }
    return { width: canvas.width, height: canvas.height, sum, nonBlack };
  })()`);
}

/** The text an xterm.js terminal shows. */
export async function terminalText(page: Page): Promise<string> {
  return page.locator('[data-testid=serial-terminal] .xterm-rows').innerText();
}

/** A bootable ISO from the guest fixtures (test/fixtures/out), or TERRARIUM_E2E_ISO. */
export function fixtureIso(): string | null {
  const env = process.env.TERRARIUM_E2E_ISO;
  if (env !== undefined && existsSync(env)) return env;
  const out = path.join(REPO, 'test/fixtures/out');
  // The guest built for this test: kernel log on the screen, a shell on COM1.
  const shell = path.join(out, 'shell-i386.iso');
  if (existsSync(shell)) return shell;
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 3 || !existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full, depth + 1);
      else if (name.endsWith('.iso')) found.push(full);
    }
  };
  walk(out, 0);
  return found.sort()[0] ?? null;
}
