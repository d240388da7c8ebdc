/**
 * `terrarium run` with --bios and --accel: the same ROM prints the same thing on KVM and on
 * the interpreter; auto explains its choice in one line; bad input exits 2 with one line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nasmAvailable } from '../support/nasm.js';
import { buildRom, PRINT_AND_HALT } from './guests.js';
import { kvmFlavour, kvmMissing } from './harness.js';

const BIN = new URL('../../bin/terrarium.js', import.meta.url).pathname;
const haveNasm = nasmAvailable();
if (!haveNasm) console.warn('*** SKIPPING KVM CLI tests that need a ROM: nasm is not installed ***');
if (kvmMissing !== null) console.warn(`*** SKIPPING KVM CLI tests that run a guest on KVM: ${kvmMissing} ***`);

let dir = '';
let rom = '';

function run(args: string[], env: Record<string, string> = {}, shellPrefix = ''): { code: number | null; stdout: string; stderr: string } {
  const r =
    shellPrefix === ''
      ? spawnSync(process.execPath, [BIN, 'run', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } })
      : spawnSync('bash', ['-c', `${shellPrefix} "$0" "$@"`, process.execPath, BIN, 'run', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'terrarium-kvm-cli-'));
  if (haveNasm) rom = buildRom('print-and-halt', PRINT_AND_HALT);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!haveNasm)('terrarium run --bios', () => {
  it.skipIf(kvmMissing !== null)('--accel kvm and --accel interpreter print the same serial output for a ROM that prints and halts', () => {
    const kvm = run(['--bios', rom, '--accel', 'kvm', '--memory', '16']);
    const interp = run(['--bios', rom, '--accel', 'interpreter', '--memory', '16']);
    expect(interp.stdout).toContain('hello from a 64 KiB ROM\n');
    expect(kvm.stdout).toBe(interp.stdout);
    expect([kvm.code, interp.code]).toEqual([0, 0]);
  });

  const pvmHost = kvmMissing === null && kvmFlavour === 'pvm';
  it.skipIf(!pvmHost)('--accel auto on a PVM host chooses the interpreter and says why, in one line', () => {
    const r = run(['--bios', rom, '--memory', '16']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hello from a 64 KiB ROM');
    oneLine(r.stderr, /^terrarium run: accelerator interpreter: \/dev\/kvm is PVM \(kernel module kvm_pvm, no VMX\/SVM\).*--accel kvm forces it$/);
  });
  if (!pvmHost) console.warn(`*** SKIPPING the PVM auto-choice check: ${kvmMissing ?? `this host's KVM is ${kvmFlavour}`} ***`);

  it('a ROM of the wrong size exits 2 with one line', () => {
    const small = join(dir, 'small.rom');
    writeFileSync(small, Buffer.alloc(1000, 0x90));
    for (const accel of kvmMissing === null ? ['kvm', 'interpreter'] : ['interpreter']) {
      const r = run(['--bios', small, '--accel', accel, '--memory', '16']);
      expect(r.code).toBe(2);
      oneLine(r.stderr, /small\.rom is not a BIOS image: 1000 bytes/);
    }
  });

  it('a missing or non-KVM /dev/kvm exits 2 with one line under --accel kvm', () => {
    const missing = run(['--bios', rom, '--accel', 'kvm', '--memory', '16'], { TERRARIUM_KVM_DEVICE: join(dir, 'no-such-kvm') });
    expect(missing.code).toBe(2);
    oneLine(missing.stderr, /^terrarium run: --accel kvm: .*no-such-kvm does not exist \(the kvm module is not loaded/);
    const notKvm = run(['--bios', rom, '--accel', 'kvm', '--memory', '16'], { TERRARIUM_KVM_DEVICE: '/dev/null' });
    expect(notKvm.code).toBe(2);
    oneLine(notKvm.stderr, /^terrarium run: \/dev\/null is not a KVM device: KVM_GET_API_VERSION failed with ENOTTY/);
    // auto just falls back.
    const auto = run(['--bios', rom, '--memory', '16'], { TERRARIUM_KVM_DEVICE: join(dir, 'no-such-kvm') });
    expect(auto.code).toBe(0);
    oneLine(auto.stderr, /^terrarium run: accelerator interpreter: .*does not exist/);
  });

  const canDropRoot = process.getuid?.() === 0 && existsSync('/usr/sbin/runuser') && existsSync('/dev/kvm');
  it.skipIf(!canDropRoot)('an unreadable /dev/kvm (another user) exits 2 with one line saying permission denied', () => {
    const r = run(['--bios', rom, '--accel', 'kvm', '--memory', '16'], {}, 'runuser -u nobody --');
    expect(r.code).toBe(2);
    oneLine(r.stderr, /^terrarium run: --accel kvm: \/dev\/kvm is not accessible: permission denied/);
  });

  it('memory the host refuses exits 2 with one line, on each backend the host has', () => {
    for (const accel of kvmMissing === null ? ['kvm', 'interpreter'] : ['interpreter']) {
      const r = run(['--bios', rom, '--accel', accel, '--memory', '3000'], {}, 'ulimit -v 3000000;');
      expect(r.code).toBe(2);
      oneLine(r.stderr, /^terrarium run: the host refused \d+ MiB for guest memory$/);
    }
  });
});
