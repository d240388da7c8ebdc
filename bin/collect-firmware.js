#!/usr/bin/env node
// Copies the BIOS and VGA BIOS into build/firmware for electron-builder's extraResources.
// They come from the host's SeaBIOS package (Debian: apt install seabios), or from
// TERRARIUM_FIRMWARE_DIR.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'build', 'firmware');
const dirs = [process.env.TERRARIUM_FIRMWARE_DIR, '/usr/share/seabios', '/usr/share/qemu'].filter(Boolean);
const wanted = [
  ['bios.bin', ['bios.bin', 'bios-256k.bin']],
  ['vgabios-stdvga.bin', ['vgabios-stdvga.bin', 'vgabios.bin']],
];

mkdirSync(out, { recursive: true });
let missing = 0;
for (const [target, names] of wanted) {
  const found = dirs.flatMap((d) => names.map((n) => path.join(d, n))).find((f) => existsSync(f));
  if (found === undefined) {
    process.stderr.write(`collect-firmware: ${target} not found in ${dirs.join(', ')} (install seabios)\n`);
    missing++;
    continue;
  }
  copyFileSync(found, path.join(out, target));
  process.stdout.write(`collect-firmware: ${found} -> build/firmware/${target}\n`);
}
process.exitCode = missing > 0 ? 1 : 0;
