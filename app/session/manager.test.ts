import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunState } from '../../emulator-core/machine/types.js';
import { testDoubleWorkerUrl } from '../../test/e2e/doubles/index.js';
import { Library } from '../library/library.js';
import { newVm, tempDir } from '../library/test-helpers.js';
import { LOCK_FILE } from './lock.js';
import { SessionManager, type SessionStatus } from './manager.js';

const firmware = { bios: '/dev/null', vgaBios: null, searched: [] };

function harness(workerUrl?: URL) {
  const statuses: SessionStatus[] = [];
  const serial: string[] = [];
  let rects = 0;
  const manager = new SessionManager({
    owner: 'test',
    firmware,
    ...(workerUrl ? { workerUrl } : {}),
    listener: {
      status: (_id, s) => statuses.push(s),
      screen: () => rects++,
      serial: (_id, bytes) => serial.push(new TextDecoder().decode(bytes)),
    },
  });
  return { manager, statuses, serial: () => serial.join(''), rects: () => rects };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.shutdownAll()));
});

/** A VM with an ISO that exists (its content does not matter to the test double). */
async function vmWithIso(name: string, memoryMiB = 64, cpus = 1) {
  const dir = tempDir();
  const iso = path.join(dir, 'disc.iso');
  writeFileSync(iso, Buffer.alloc(2048 * 16));
  const lib = new Library(path.join(dir, 'VMs'));
  const vm = await lib.create(newVm(name, { cdrom: iso, system: { ...newVm(name).system, memoryMiB, cpus } }));
  return { lib, vm };
}

describe('SessionManager with the test-double machine', () => {
  it('runs a VM in a worker: states, screen, serial echo, pause, ACPI shutdown', async () => {
    const h = harness(testDoubleWorkerUrl());
    managers.push(h.manager);
    const { vm } = await vmWithIso('Double');
    const session = await h.manager.start(vm);
    expect(existsSync(path.join(vm.dir, LOCK_FILE))).toBe(true);
    await until(() => session.state === 'running');
    await until(() => h.rects() > 3 && h.serial().includes('double login: '));
    expect(session.screen.width).toBe(320);
    session.sendSerial(new TextEncoder().encode('hello\r'));
    await until(() => h.serial().includes('double: hello'));
    session.pause();
    await until(() => session.state === 'paused');
    session.resume();
    await until(() => session.state === 'running');
    session.acpiShutdown();
    expect(session.state).toBe('stopping');
    await session.done;
    await until(() => !existsSync(path.join(vm.dir, LOCK_FILE)));
    const states = h.statuses.map((s) => s.state);
    expect(states).toEqual(expect.arrayContaining<RunState>(['starting', 'running', 'paused', 'stopping', 'stopped']));
    expect((await h.manager.status(vm.id, vm.dir)).exitReason).toBe('guest shut down (ACPI)');
    expect(new TextDecoder().decode(h.manager.serialHistory(vm.id))).toContain('double: hello');
    expect(existsSync(path.join(vm.dir, 'last-frame.png'))).toBe(true);
  });

  it('refuses to run a VM twice, in this process or another', async () => {
    const a = harness(testDoubleWorkerUrl());
    const b = harness(testDoubleWorkerUrl());
    managers.push(a.manager, b.manager);
    const { vm } = await vmWithIso('Once');
    const session = await a.manager.start(vm);
    await expect(a.manager.start(vm)).rejects.toMatchObject({ code: 'CONFLICT' });
    // Another manager in the same process stands in for another host process here.
    writeFileSync(path.join(vm.dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: (await import('node:os')).hostname(), owner: 'cli', startedAt: 'x' }));
    await expect(b.manager.start(vm)).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already running (cli') });
    session.powerOff();
    await session.done;
  });

  it('takes over a stale lock left by a dead process', async () => {
    const h = harness(testDoubleWorkerUrl());
    managers.push(h.manager);
    const { vm } = await vmWithIso('Stale');
    writeFileSync(path.join(vm.dir, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), owner: 'gone', startedAt: 'x' }));
    const session = await h.manager.start(vm);
    await until(() => session.state === 'running');
    session.powerOff();
    await session.done;
    expect(session.state).toBe('stopped');
  });

  it('reports a machine that fails to start as an error with its reason', async () => {
    const h = harness(testDoubleWorkerUrl());
    managers.push(h.manager);
    const { vm } = await vmWithIso('Refused', 13);
    const session = await h.manager.start(vm);
    await session.done;
    expect(session.state).toBe('error');
    expect(session.error?.message).toContain('refusing 13 MiB');
    await until(() => !existsSync(path.join(vm.dir, LOCK_FILE)));
    expect((await h.manager.status(vm.id, vm.dir)).error?.message).toContain('refusing 13 MiB');
  });

  it('refuses to start a VM whose ISO went away, naming the file, and takes no lock', async () => {
    const h = harness(testDoubleWorkerUrl());
    const { vm } = await vmWithIso('Gone');
    const { rmSync } = await import('node:fs');
    rmSync(vm.config.storage.cdrom!);
    await expect(h.manager.start(vm)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('The CD/DVD image disc.iso is missing') });
    expect(existsSync(path.join(vm.dir, LOCK_FILE))).toBe(false);
  });

  it('refuses to start a VM with nothing to boot', async () => {
    const h = harness(testDoubleWorkerUrl());
    const lib = new Library(tempDir());
    const vm = await lib.create(newVm('Empty', { disk: { kind: 'none' } }));
    await expect(h.manager.start(vm)).rejects.toMatchObject({ code: 'BAD_INPUT', hint: expect.stringContaining('Attach an ISO') });
  });
});

describe('SessionManager with the real Machine', () => {
  it('leaves "starting" for running or a reported error (Machine.run is still being written)', async () => {
    const h = harness();
    managers.push(h.manager);
    const { vm } = await vmWithIso('Real');
    const session = await h.manager.start(vm);
    await until(() => session.state === 'running' || session.over, 20_000);
    if (session.state === 'error') expect(session.error?.message).toBeTruthy();
    session.powerOff();
    await session.done;
  });
});

describe('VM log', () => {
  it('records the start, the states and how the run ended in Logs/vm.log', async () => {
    const h = harness(testDoubleWorkerUrl());
    managers.push(h.manager);
    const { vm } = await vmWithIso('Logged');
    const session = await h.manager.start(vm);
    await until(() => session.state === 'running');
    session.acpiShutdown();
    await session.done;
    await until(() => !existsSync(path.join(vm.dir, LOCK_FILE)));
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(path.join(vm.dir, 'Logs', 'vm.log'), 'utf8');
    expect(text).toMatch(/start by test \(process \d+\): 64 MiB, 1 CPU, accel auto,/);
    expect(text).toContain('state: running');
    expect(text).toContain('accelerator: interpreter (test double)');
    expect(text).toContain('ended: guest shut down (ACPI)');
  });

  it('names the CPU count in the start line of a VM with several CPUs', async () => {
    const h = harness(testDoubleWorkerUrl());
    managers.push(h.manager);
    const { vm } = await vmWithIso('Pair', 64, 2);
    const session = await h.manager.start(vm);
    await until(() => session.state === 'running');
    session.powerOff();
    await session.done;
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(path.join(vm.dir, 'Logs', 'vm.log'), 'utf8')).toMatch(/start by test \(process \d+\): 64 MiB, 2 CPUs, accel auto,/);
  });
});
