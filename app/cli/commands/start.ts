/**
 * `terrarium start <vm>`: boots a VM headless in a background process and returns once it
 * runs (or failed, with why). `--foreground` keeps it in this process until it stops;
 * `--serial` then connects the guest's serial port to stdin/stdout.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ApiEvent, SessionInfo } from '../../contract/api.js';
import { AppError } from '../../errors.js';
import { optString, oneVm, parseCount } from '../args.js';
import { terrariumBin } from '../bin-path.js';
import type { CliCommand, CliContext } from '../command.js';
import { openService } from '../service.js';
import { readState, writeState } from '../state-file.js';

const USAGE = 'start <vm> [--foreground [--serial]] [--timeout SECONDS]';

export const command: CliCommand = {
  name: 'start',
  summary: 'Start a VM headless (in the background unless --foreground)',
  usage: USAGE,
  options: { foreground: { type: 'boolean' }, serial: { type: 'boolean' }, timeout: { type: 'string' }, 'shutdown-timeout': { type: 'string' } },
  help: {
    foreground: 'Run in this process until the VM stops (Ctrl+C: ACPI shutdown, twice: power off)',
    serial: 'With --foreground: the guest serial port on stdin/stdout',
    timeout: 'Seconds to wait for the VM to be running (default 30)',
    'shutdown-timeout': 'Seconds a guest gets to shut down on SIGTERM before power off (default 60)',
  },
  async run({ values, positionals }, ctx) {
    const id = oneVm(positionals, USAGE);
    if (values.foreground === true) return foreground(id, ctx, values.serial === true, parseCount(optString(values, 'shutdown-timeout') ?? '60', 'shutdown-timeout'));
    return background(id, ctx, parseCount(optString(values, 'timeout') ?? '30', 'timeout'));
  },
};

async function background(id: string, ctx: CliContext, timeoutS: number): Promise<number> {
  const svc = await openService(ctx);
  let dir: string;
  try {
    const vm = await svc.call('getVm', { id });
    if (vm.status === 'error') throw new AppError(vm.error.code, vm.error.message, { hint: vm.error.hint });
    if (vm.session.state !== 'stopped' && vm.session.state !== 'error') {
      throw new AppError('CONFLICT', `"${id}" is already ${vm.session.state}${vm.session.elsewhere ? ` (${vm.session.elsewhere.owner}, process ${vm.session.elsewhere.pid})` : ''}.`);
    }
    dir = vm.dir;
  } finally {
    await svc.close();
  }
  const logs = path.join(dir, 'Logs');
  mkdirSync(logs, { recursive: true });
  const logFile = path.join(logs, 'session.log');
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [terrariumBin(), 'start', id, '--foreground', '--home', ctx.paths.home], { detached: true, stdio: ['ignore', log, log], env: ctx.env });
  closeSync(log);
  child.unref();
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  const deadline = Date.now() + timeoutS * 1000;
  while (Date.now() < deadline) {
    const state = await readState(dir);
    if (state !== null && state.pid === child.pid && state.state === 'running') {
      ctx.stdout(`Started "${id}" (process ${child.pid}). Stop it with: terrarium stop "${id}"\n`);
      return 0;
    }
    if (state !== null && state.pid === child.pid && state.state === 'error') {
      throw new AppError('GUEST', `"${id}" failed to start: ${state.error?.message ?? 'unknown error'}`, { hint: state.error?.hint ?? `See ${logFile}.` });
    }
    if (exited !== null) throw new AppError('GUEST', `"${id}" stopped right away (exit code ${exited}).`, { hint: `See ${logFile}.` });
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new AppError('HOST', `"${id}" is still starting after ${timeoutS} s.`, { hint: `It keeps going in process ${child.pid}; see ${logFile}.` });
}

async function foreground(id: string, ctx: CliContext, serial: boolean, shutdownS: number): Promise<number> {
  let last: SessionInfo | null = null;
  let dir = '';
  let settled: (info: SessionInfo) => void = () => undefined;
  const over = new Promise<SessionInfo>((resolve) => (settled = resolve));
  const onEvent = (event: ApiEvent) => {
    if (event.type === 'serial' && serial) process.stdout.write(event.data);
    if (event.type !== 'session' || event.id !== id) return;
    last = event.session;
    if (dir !== '') void writeState(dir, { pid: process.pid, state: event.session.state, ...(event.session.error ? { error: event.session.error } : {}) });
    ctx.stderr(`[terrarium] ${id}: ${event.session.state}${event.session.error ? ` — ${event.session.error.message}` : ''}${event.session.exitReason ? ` (${event.session.exitReason})` : ''}\n`);
    if (event.session.state === 'stopped' || event.session.state === 'error') settled(event.session);
  };
  const svc = await openService(ctx, onEvent);
  const signals: Array<[NodeJS.Signals, () => void]> = [];
  try {
    const vm = await svc.call('getVm', { id });
    dir = vm.dir;
    await svc.call('startVm', { id });
    if (serial) {
      await svc.call('subscribeSerial', { id });
      process.stdin.on('data', (chunk: Buffer) => void svc.call('sendSerial', { id, data: chunk.toString('latin1') }).catch(() => undefined));
    }
    let asked = false;
    const powerOff = () => void svc.call('powerOff', { id }).catch(() => undefined);
    const shutdown = () => {
      if (asked) return powerOff();
      asked = true;
      void svc.call('acpiShutdown', { id }).catch(powerOff);
      setTimeout(powerOff, shutdownS * 1000).unref();
    };
    signals.push(['SIGTERM', shutdown], ['SIGINT', shutdown], ['SIGHUP', powerOff]);
    for (const [sig, fn] of signals) process.on(sig, fn);
    const end: SessionInfo = await over;
    return end.state === 'error' ? 1 : 0;
  } catch (error) {
    if (dir !== '' && last === null) await writeState(dir, { pid: process.pid, state: 'error', error: { code: 'BAD_INPUT', message: (error as Error).message } });
    throw error;
  } finally {
    for (const [sig, fn] of signals) process.off(sig, fn);
    process.stdin.pause();
    await svc.close();
  }
}
