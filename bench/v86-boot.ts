/**
 * One boot under v86 (the `v86` npm package, a devDependency, driven through its Node API) in
 * this process: a bzImage + initrd, or a CD image through the BIOS, with SeaBIOS and its VGA
 * BIOS from the same search Terrarium uses (app/host/firmware.ts). Reports, as one JSON line
 * on stdout, when the marker first appeared on COM1 (ms since this process started) and
 * v86's instruction counter then; or why v86 could not run (skip).
 *   node dist/bench/v86-boot.js '{"kernel"?, "initrd"?, "cmdline"?, "cdrom"?, "memoryMiB", "marker", "timeoutMs"}'
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFirmware } from '../app/host/firmware.js';

export interface V86BootSpec {
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  cdrom?: string;
  memoryMiB: number;
  /** Regex source matched against all serial output so far. */
  marker: string;
  timeoutMs: number;
}

export type V86BootResult =
  | { skip: string }
  | { ok: true; ms: number; instructions: number; version: string; bios: string }
  | { ok: false; reason: string; output: string };

function image(path: string): { buffer: ArrayBuffer } {
  const b = readFileSync(path);
  return { buffer: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer };
}

function report(r: V86BootResult): never {
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as V86BootSpec;
  let v86: typeof import('v86');
  let pkgDir: string;
  try {
    const entry = import.meta.resolve('v86');
    pkgDir = join(dirname(fileURLToPath(entry)), '..');
    v86 = await import('v86');
  } catch (e) {
    report({ skip: `the v86 package is not installed (npm install): ${(e as Error).message.split('\n')[0]}` });
  }
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  for (const f of [spec.kernel, spec.initrd, spec.cdrom]) if (f !== undefined && !existsSync(f)) report({ skip: `${f} missing; run \`npm run fixtures\`` });
  const fw = findFirmware();
  if (fw.bios === null) report({ skip: `no SeaBIOS image (bios-256k.bin or bios.bin) in ${fw.searched.join(', ')}; apt install seabios` });

  const options: import('v86').V86Options = {
    wasm_path: join(pkgDir, 'build/v86.wasm'),
    memory_size: spec.memoryMiB * 1048576,
    bios: image(fw.bios),
    autostart: true,
    disable_speaker: true,
    log_level: 0,
  };
  if (fw.vgaBios !== null) options.vga_bios = image(fw.vgaBios);
  if (spec.kernel !== undefined) {
    options.bzimage = image(spec.kernel);
    if (spec.initrd !== undefined) options.initrd = image(spec.initrd);
    if (spec.cmdline !== undefined) options.cmdline = spec.cmdline;
  }
  if (spec.cdrom !== undefined) options.cdrom = image(spec.cdrom);

  const marker = new RegExp(spec.marker);
  let emulator: import('v86').V86;
  try {
    emulator = new v86.V86(options);
  } catch (e) {
    report({ ok: false, reason: `v86 did not start: ${(e as Error).message}`, output: '' });
  }
  // The counter is 32 bits wide: sample it often enough to count its wraps.
  let wraps = 0;
  let last = 0;
  const instructions = (): number => {
    const now = emulator.get_instruction_counter() >>> 0;
    if (now < last) wraps++;
    last = now;
    return wraps * 2 ** 32 + now;
  };
  const sampler = setInterval(instructions, 200);
  let out = '';
  emulator.add_listener('serial0-output-byte', (byte: number) => {
    out += String.fromCharCode(byte);
    if (byte === 10 && marker.test(out)) {
      const ms = performance.now();
      clearInterval(sampler);
      report({ ok: true, ms, instructions: instructions(), version, bios: fw.bios! });
    }
  });
  setTimeout(() => report({ ok: false, reason: `no marker after ${spec.timeoutMs / 1000} s`, output: out.slice(-1500) }), spec.timeoutMs);
}

await main();
