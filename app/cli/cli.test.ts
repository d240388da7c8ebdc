import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../library/test-helpers.js';
import { makeIso } from '../service/test-iso.js';
import { runCli } from './main.js';
import { loadCommands } from './registry.js';

async function cli(home: string, ...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), env: { TERRARIUM_HOME: home } });
  return { code, out, err };
}

describe('terrarium CLI', () => {
  it('finds its subcommands in one table', async () => {
    const names = [...(await loadCommands()).keys()];
    expect(names).toEqual(expect.arrayContaining(['create', 'delete', 'list', 'serve', 'start', 'stop']));
  });

  it('creates, lists (table and JSON) and deletes VMs', async () => {
    const home = tempDir();
    const iso = path.join(home, 'd.iso');
    writeFileSync(iso, makeIso('DEBIAN'));
    expect(await cli(home, 'create', 'web server', '--os', 'debian', '--memory', '512M', '--disk-size', '1G', '--iso', iso)).toMatchObject({ code: 0, err: '' });
    const table = await cli(home, 'list');
    expect(table.out).toMatch(/^NAME\s+STATE\s+OS\s+MEMORY/);
    expect(table.out).toMatch(/web server\s+stopped\s+debian\s+512 MiB\s+1\s+.*d\.iso/);
    const json = JSON.parse((await cli(home, 'list', '--json')).out);
    expect(json[0]).toMatchObject({ id: 'web server', state: 'stopped', config: { system: { memoryMiB: 512 } } });
    expect(await cli(home, 'delete', 'web server')).toMatchObject({ code: 0, out: 'Deleted "web server".\n' });
  });

  it('reports user errors in one line on stderr with exit code 2', async () => {
    const home = tempDir();
    const cases = [
      ['create', 'a/b'],
      ['create', 'x', '--memory', 'lots'],
      ['create', 'x', '--memory', '64G'],
      ['create', 'x', '--os', 'amiga'],
      ['create', 'x', '--iso', '/nonexistent.iso'],
      ['create', 'x', '--bogus'],
      ['start', 'nope'],
      ['delete'],
      ['serve', '--port', '99999'],
      ['serve', 'now'],
      ['create', 'x', '--initrd', '/tmp/initrd'],
      ['frobnicate'],
    ];
    for (const argv of cases) {
      const r = await cli(home, ...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err.trimEnd().split('\n'), argv.join(' ')).toHaveLength(1);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect((await cli(home, 'create', 'x', '--memory', '64G')).err).toMatch(/(can give a VM|virtual PC takes) at most \d+ MiB/);
  });

  it('start reports a VM that cannot run in one line, and leaves no lock behind', async () => {
    const home = tempDir();
    const iso = path.join(home, 'boot.iso');
    writeFileSync(iso, makeIso('BOOT', { bootable: true }));
    await cli(home, 'create', 'box', '--iso', iso, '--no-disk');
    const bin = path.resolve(import.meta.dirname, '../../bin/terrarium.js');
    const run = promisify(execFile);
    const result = await run(process.execPath, [bin, 'start', 'box', '--timeout', '20'], { env: { ...process.env, TERRARIUM_HOME: home } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    if (result.code === 0) {
      // The Machine boots (emulator-core is done): stop it again.
      expect(result.stdout).toContain('Started "box"');
      await run(process.execPath, [bin, 'stop', 'box', '--force'], { env: { ...process.env, TERRARIUM_HOME: home } });
    } else {
      expect(result.code).toBe(1);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/^terrarium start: "box" failed to start: /);
    }
    expect((await cli(home, 'list', '--json')).out).toContain('"state"');
  });
});
