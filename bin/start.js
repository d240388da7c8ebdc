#!/usr/bin/env node
// `npm start`: the desktop app when Electron's binary is there, otherwise the web UI.
// `npm install` does not run Electron's download (package.json allowScripts denies it), so
// that installing works on machines that cannot reach Electron's download host; the first
// `npm start` fetches the binary instead, and falls back to the web UI when it cannot.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The electron package's folder, or null when it is not installed. */
function electronDir() {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
}

function electronBinary() {
  const dir = electronDir();
  if (dir === null) return { binary: null, why: 'the electron package is not installed' };
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return { binary: null, why: 'its binary was never downloaded (no node_modules/electron/path.txt)' };
  const binary = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? { binary, why: '' } : { binary: null, why: `its binary is missing (${binary})` };
}

if (!existsSync(path.join(root, 'dist/app/cli/main.js')) || !existsSync(path.join(root, 'renderer/dist/index.html'))) {
  process.stderr.write('Terrarium is not built yet: run "npm run build" first.\n');
  process.exit(2);
}

/** Runs Electron's own installer once; returns null on success or a one-line reason. */
function downloadElectron() {
  const dir = electronDir();
  if (dir === null) return 'the electron package is not installed';
  process.stdout.write("Electron's binary is not downloaded yet: fetching it (about 100 MB, once)...\n");
  const started = Date.now();
  const ticker = process.stdout.isTTY
    ? setInterval(() => process.stdout.write(`\r  ${Math.round((Date.now() - started) / 1000)} s`), 1000)
    : null;
  const run = spawnSync(process.execPath, [path.join(dir, 'install.js')], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (ticker !== null) {
    clearInterval(ticker);
    process.stdout.write('\n');
  }
  if (run.status === 0) return null;
  // The installer prints a stack; its first line says what went wrong (e.g. getaddrinfo ENOTFOUND).
  const first = `${run.stderr ?? ''}${run.error?.message ?? ''}`.split('\n').find((l) => l.trim() !== '') ?? `exit code ${run.status}`;
  return `its binary could not be downloaded (${first.trim()})`;
}

let { binary, why } = electronBinary();
if (binary === null && process.env.TERRARIUM_WEB !== '1' && why.startsWith('its binary was never downloaded')) {
  const failure = downloadElectron();
  ({ binary, why } = electronBinary());
  if (failure !== null) why = failure;
}
if (binary !== null && process.env.TERRARIUM_WEB !== '1') {
  const child = spawn(binary, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
} else {
  process.stdout.write(binary !== null ? 'TERRARIUM_WEB=1: starting the web UI instead of Electron.\n' : `Electron is not available: ${why}. Starting the web UI instead.\n`);
  const { runCli } = await import(new URL('../dist/app/cli/main.js', import.meta.url).href);
  process.exitCode = await runCli(['serve', ...process.argv.slice(2)]);
}
