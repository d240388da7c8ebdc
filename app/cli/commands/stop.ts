/**
 * `terrarium stop <vm> [--force]`: asks a VM started with `terrarium start` to shut down
 * (ACPI; --force pulls the plug) and waits until it has. A VM the desktop app or the web
 * host runs is stopped from there.
 */
import { AppError } from '../../errors.js';
import { liveLock } from '../../session/lock.js';
import { optString, oneVm, parseCount } from '../args.js';
import type { CliCommand } from '../command.js';
import { openService } from '../service.js';

const USAGE = 'stop <vm> [--force] [--timeout SECONDS]';

export const command: CliCommand = {
  name: 'stop',
  summary: 'Shut down a VM started by "terrarium start" (--force: power off)',
  usage: USAGE,
  options: { force: { type: 'boolean' }, timeout: { type: 'string' } },
  help: { force: 'Power off at once instead of asking the guest', timeout: 'Seconds the guest gets to shut down before it is powered off (default 60)' },
  async run({ values, positionals }, ctx) {
    const id = oneVm(positionals, USAGE);
    const timeoutS = parseCount(optString(values, 'timeout') ?? '60', 'timeout');
    const svc = await openService(ctx);
    let dir: string;
    try {
      dir = (await svc.call('getVm', { id })).dir;
    } finally {
      await svc.close();
    }
    const lock = await liveLock(dir);
    if (lock === null) {
      ctx.stdout(`"${id}" is not running.\n`);
      return 0;
    }
    if (lock.owner !== 'cli') {
      throw new AppError('CONFLICT', `"${id}" runs in the ${lock.owner} (process ${lock.pid}).`, { hint: 'Stop it from there.' });
    }
    const force = values.force === true;
    const gone = async (ms: number) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const still = await liveLock(dir);
        if (still === null || still.pid !== lock.pid) return true;
        await new Promise((r) => setTimeout(r, 200));
      }
      return false;
    };
    if (!force) {
      process.kill(lock.pid, 'SIGTERM'); // the VM's process presses the ACPI power button
      if (await gone(timeoutS * 1000)) {
        ctx.stdout(`Stopped "${id}".\n`);
        return 0;
      }
      ctx.stderr(`"${id}" did not shut down within ${timeoutS} s; powering it off.\n`);
    }
    process.kill(lock.pid, 'SIGHUP'); // power off
    if (await gone(10_000)) {
      ctx.stdout(`Powered off "${id}".\n`);
      return 0;
    }
    throw new AppError('HOST', `"${id}" (process ${lock.pid}) did not stop.`, { hint: `Kill process ${lock.pid}; the VM's lock is released when it is gone.` });
  },
};
