import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialShell, SerialShellError, spawnSerialGuest, type SerialGuest } from './guest-session.js';

/**
 * A stand-in for a guest's serial console: it echoes each typed line as a terminal does
 * ("\r\n" endings), answers the begin/end markers the way `sh` would for a few known
 * commands, and hands the bytes back one at a time, as a slow UART would.
 */
function fakeConsole(outputs: Record<string, { out: string; status: number }>): SerialShell {
  const shell: SerialShell = new SerialShell((typed) => {
    const m = /^echo __TB""(\d+)__; (.*); echo __TE""\1__ \$\?\n$/.exec(typed);
    let reply = `${typed.replace(/\n/g, '\r\n')}`;
    if (m) {
      const r = outputs[m[2]!] ?? { out: `sh: ${m[2]}: not found\r\n`, status: 127 };
      reply += `__TB${m[1]}__\r\n${r.out}__TE${m[1]}__ ${r.status}\r\nnet-guest# \x1b[6n`;
    }
    queueMicrotask(() => {
      for (const ch of reply) shell.feed(new Uint8Array([ch.charCodeAt(0)]));
    });
  });
  return shell;
}

describe('SerialShell over a console that echoes and trickles bytes', () => {
  it('returns what a command printed and its status, not the echoed command line', async () => {
    const shell = fakeConsole({
      'wget -q -O - http://10.0.2.2/x | sha256sum': { out: 'abc123  -\r\n', status: 0 },
      'printf two\\\\nlines': { out: 'two\r\nlines', status: 0 },
      'false': { out: '', status: 1 },
    });
    expect(await shell.exec('wget -q -O - http://10.0.2.2/x | sha256sum', 1000)).toEqual({ output: 'abc123  -', status: 0 });
    expect(await shell.run('printf two\\\\nlines', 1000)).toBe('two\nlines');
    expect(await shell.exec('false', 1000)).toEqual({ output: '', status: 1 });
    await expect(shell.run('false', 1000)).rejects.toThrow(/exited 1/);
  });

  it('reads a multi-digit status whole, though its digits arrive one at a time', async () => {
    const shell = fakeConsole({});
    expect(await shell.exec('ipconfig', 1000)).toEqual({ output: 'sh: ipconfig: not found', status: 127 });
  });

  it('runs commands issued together one after another, in order', async () => {
    const shell = fakeConsole({ 'echo a': { out: 'a\r\n', status: 0 }, 'echo b': { out: 'b\r\n', status: 0 } });
    const results = await Promise.all([shell.run('echo a', 1000), shell.run('echo b', 1000), shell.run('echo a', 1000)]);
    expect(results).toEqual(['a', 'b', 'a']);
  });

  it('waits for a marker split across chunks, and consumes it', async () => {
    const shell = new SerialShell(() => undefined);
    const dhcp = shell.waitFor(/NET-GUEST: dhcp (\S+)/, 1000);
    shell.feed('[ 1.0] e1000 0000:00:03.0 eth0: (PCI:33MHz:32-bit)\r\nNET-GUEST: dh');
    shell.feed('cp 10.0.2.15 gw 10.0.2.2\r\n');
    expect((await dhcp)[1]).toBe('10.0.2.15');
    // The same line is not found twice.
    await expect(shell.waitFor(/NET-GUEST: dhcp/, 50)).rejects.toBeInstanceOf(SerialShellError);
  });

  it('times out with the serial tail in the error', async () => {
    const shell = new SerialShell(() => undefined);
    shell.feed('Kernel panic - not syncing: VFS');
    await expect(shell.waitFor(/NET-GUEST: ready/, 30)).rejects.toThrow(/Kernel panic - not syncing/);
  });

  it('fails pending and later waits at once when the guest goes away', async () => {
    const shell = new SerialShell(() => undefined);
    const pending = shell.exec('sleep 100', 60_000);
    shell.close('qemu-system-i386 exited (1)');
    await expect(pending).rejects.toThrow(/exited \(1\)/);
    await expect(shell.waitFor(/x/, 60_000)).rejects.toThrow(/exited \(1\)/);
  });

  it('refuses multi-line commands, whose echo would interleave with their output', async () => {
    await expect(new SerialShell(() => undefined).exec('echo a\necho b', 1000)).rejects.toThrow(RangeError);
  });
});

// A real shell on a pseudo-terminal (util-linux `script`): genuine echo, "\r\n" and line editing.
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasScript) console.warn('\n*** SKIPPING the pty shell test: `script` (util-linux) is not installed ***\n');

describe.skipIf(!hasScript)('SerialShell driving sh on a pseudo-terminal', () => {
  let guest: SerialGuest | undefined;
  afterEach(async () => guest?.stop());

  it('runs commands and reports their output and status', async () => {
    guest = spawnSerialGuest('script', ['-qfc', 'sh', '/dev/null']);
    await guest.shell.sync(10_000);
    expect(await guest.shell.run('echo hello; printf "a\\nb"', 10_000)).toBe('hello\na\nb');
    expect((await guest.shell.exec('exit_status() { return 3; }; exit_status', 10_000)).status).toBe(3);
    expect(await guest.shell.run(`seq 1 2000 | wc -l`, 10_000)).toMatch(/^\s*2000$/);
  });

  it('reports the guest exiting to whoever waits', async () => {
    guest = spawnSerialGuest('script', ['-qfc', 'sh', '/dev/null']);
    await guest.shell.sync(10_000);
    const waiting = guest.shell.waitFor(/never printed/, 60_000);
    guest.shell.exec('exit 0', 10_000).catch(() => undefined);
    await expect(waiting).rejects.toThrow(/script exited/);
  });
});
