/**
 * `terrarium run` exit codes and messages: 0 for a guest that halts for good, 1 with one
 * line for a crash, 2 with one line for bad input, 124 on --timeout.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nasmAvailable } from '../support/nasm.js';
import { buildTinyBzImage, printThen } from './tiny-kernel.js';

const BIN = new URL('../../bin/terrarium.js', import.meta.url).pathname;
let dir = '';

function run(args: string[], timeoutMs = 60_000) {
  const r = spawnSync(process.execPath, [BIN, 'run', ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'terrarium-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('terrarium run: bad input exits 2 with one line', () => {
  it('missing kernel file', () => {
    const r = run(['--kernel', join(dir, 'nope'), '--accel', 'interpreter']);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /kernel .*nope does not exist/);
  });

  it('a file that is not a bzImage', () => {
    const f = join(dir, 'notakernel');
    writeFileSync(f, Buffer.alloc(8192, 0x41));
    const r = run(['--kernel', f, '--accel', 'interpreter']);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /not a bzImage/);
  });

  it('memory too small and too large', () => {
    const f = join(dir, 'notakernel2');
    writeFileSync(f, Buffer.alloc(8192));
    for (const mem of ['1', '999999']) {
      const r = run(['--kernel', f, '--memory', mem, '--accel', 'interpreter']);
      expect(r.code).toBe(2);
      expectOneLine(r.stderr, /memory must be a whole number of MiB from 4 to 3584/);
    }
  });

  it('firmware options with --kernel, which boots without firmware', () => {
    for (const [opt, value] of [['--boot', 'disk'], ['--bios', 'bios.bin'], ['--vga-bios', 'vga.bin']]) {
      const r = run(['--kernel', 'x', '--disk', 'd.img', opt!, value!]);
      expect(r.code).toBe(2);
      expectOneLine(r.stderr, new RegExp(`^terrarium run: ${opt} is for booting through the BIOS and cannot be combined with --kernel$`));
    }
    const r = run(['--kernel', 'x', '--screenshot', 'x.png']);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /--screenshot needs a display; direct --kernel boot has none/);
  });

  it('--kernel with --disk and --cdrom opens the drives: a missing one is named', () => {
    const k = join(dir, 'kernel-for-drives');
    writeFileSync(k, Buffer.alloc(8192, 0x41));
    const disk = join(dir, 'nodisk.img');
    let r = run(['--kernel', k, '--disk', disk, '--accel', 'interpreter', '--net', 'none']);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /nodisk\.img: no such file/);
    const iso = join(dir, 'notiso.iso');
    writeFileSync(iso, Buffer.alloc(1000));
    r = run(['--kernel', k, '--cdrom', iso, '--accel', 'interpreter', '--net', 'none']);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /CD-ROM image .*notiso\.iso is 1000 bytes, not a whole number of 2048-byte sectors/);
  });

  it('an unknown accelerator and an unknown option', () => {
    expect(run(['--kernel', 'x', '--accel', 'warp']).code).toBe(2);
    const r = run(['--kernel', 'x', '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('terrarium run: bad network options exit 2 with one line naming the problem', () => {
  const cases: [string[], RegExp][] = [
    [['--net', 'bridge'], /--net bridge: choose nat or none/],
    [['--forward', 'tcp:2222'], /--forward tcp:2222: write tcp\|udp:\[HOSTADDR:\]HOSTPORT:GUESTPORT/],
    [['--forward', 'sctp:2222:22'], /protocol "sctp" is neither tcp nor udp/],
    [['--forward', 'tcp:2222:70000'], /guest port must be from 1 to 65535/],
    [['--forward', 'tcp:80:80'], /host port 80 is privileged/],
    [['--forward', 'tcp:localhost:2222:22'], /host address must be an IPv4 address/],
    [['--forward', 'tcp:2222:22', '--forward', 'tcp:0.0.0.0:2222:80'], /host port 2222 is already forwarded by tcp 127.0.0.1:2222 -> 22/],
    [['--net', 'none', '--forward', 'tcp:2222:22'], /--forward needs --net nat/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), () => {
      const r = run(['--kernel', 'x', ...args]);
      expect(r.code).toBe(2);
      expectOneLine(r.stderr, message);
    });
  }
});

describe.skipIf(!nasmAvailable())('terrarium run: guest outcomes', () => {
  if (!nasmAvailable()) console.warn('*** SKIPPING guest outcome tests: nasm is not installed ***');

  it('exits 0 when the guest prints and halts with interrupts disabled', () => {
    const k = join(dir, 'hello.bzimage');
    buildTinyBzImage(k, printThen('hello from a tiny guest\n', 'cli\n hlt'));
    const r = run(['--kernel', k, '--accel', 'interpreter', '--memory', '16']);
    expect(r.stdout).toContain('hello from a tiny guest');
    expect(r.code).toBe(0);
  });

  it('exits 2 naming the rule when a forward\'s host port is in use, with --net none unaffected', async () => {
    const k = join(dir, 'hello-net.bzimage');
    buildTinyBzImage(k, printThen('hello\n', 'cli\n hlt'));
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const r = run(['--kernel', k, '--accel', 'interpreter', '--memory', '16', '--forward', `tcp:${port}:22`]);
      expect(r.code).toBe(2);
      expectOneLine(r.stderr, new RegExp(`port forward tcp 127\\.0\\.0\\.1:${port} -> 22: host port ${port} is in use`));
      expect(run(['--kernel', k, '--accel', 'interpreter', '--memory', '16', '--net', 'none']).code).toBe(0);
    } finally {
      busy.close();
    }
  });

  it('exits 1 with one line on a triple fault', () => {
    const k = join(dir, 'crash.bzimage');
    // An empty IDT makes the breakpoint exception fault into #GP, #DF and shutdown.
    buildTinyBzImage(k, printThen('about to crash\n', 'lidt [idt]\n int3\n idt: dw 0\n dd 0'));
    const r = run(['--kernel', k, '--accel', 'interpreter', '--memory', '16']);
    expect(r.stdout).toContain('about to crash');
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, /guest crashed: triple fault at 0010:/);
  });

  it('exits 124 when --timeout expires', () => {
    const k = join(dir, 'spin.bzimage');
    buildTinyBzImage(k, 'spin: jmp spin');
    const t0 = Date.now();
    const r = run(['--kernel', k, '--accel', 'interpreter', '--memory', '16', '--timeout', '1']);
    expect(r.code).toBe(124);
    expectOneLine(r.stderr, /timed out after 1 s/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('sends stdin to COM1 and the guest echoes it', () => {
    const k = join(dir, 'echo.bzimage');
    // Echo received bytes until a '.' arrives, then halt.
    buildTinyBzImage(
      k,
      `again:
        mov dx, 0x3fd
      .rx: in al, dx
        test al, 1
        jz .rx
        mov dx, 0x3f8
        in al, dx
        out dx, al
        cmp al, '.'
        jne again
        cli
        hlt`,
    );
    const r = spawnSync(process.execPath, [BIN, 'run', '--kernel', k, '--accel', 'interpreter', '--memory', '16'], {
      input: 'typed text.',
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout).toContain('typed text.');
    expect(r.status).toBe(0);
  });
});
