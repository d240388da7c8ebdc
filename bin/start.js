#!/usr/bin/env node
// `npm start`: the desktop app when Electron's binary is installed, otherwise the web UI.
// Electron's npm package downloads its binary on install (or on first use in recent
// versions); we look for it ourselves so that a machine without it never triggers a download.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function electronBinary() {
  let dir;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { binary: null, why: 'the electron package is not installed' };
  }
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return { binary: null, why: 'its binary was never downloaded (no node_modules/electron/path.txt)' };
  const binary = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? { binary, why: '' } : { binary: null, why: `its binary is missing (${binary})` };
}

if (!existsSync(path.join(root, 'dist/app/cli/main.js')) || !existsSync(path.join(root, 'renderer/dist/index.html'))) {
  process.stderr.write('Terrarium is not built yet: run "npm run build" first.\n');
  process.exit(2);
}

const { binary, why } = electronBinary();
if (binary !== null && process.env.TERRARIUM_WEB !== '1') {
  const child = spawn(binary, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
} else {
  process.stdout.write(binary !== null ? 'TERRARIUM_WEB=1: starting the web UI instead of Electron.\n' : `Electron is not available: ${why}. Starting the web UI instead.\n`);
  const { runCli } = await import(new URL('../dist/app/cli/main.js', import.meta.url).href);
  process.exitCode = await runCli(['serve', ...process.argv.slice(2)]);
}
