/** `terrarium serve [--port N] [--host 127.0.0.1]`: the UI in a browser, until Ctrl+C. */
import { AppError } from '../../errors.js';
import { TerrariumService } from '../../service/service.js';
import { isLoopback, startWebHost } from '../../web/server.js';
import { optString, parseCount } from '../args.js';
import type { CliCommand } from '../command.js';
import { version } from '../main.js';

export const command: CliCommand = {
  name: 'serve',
  summary: 'Serve the Terrarium UI to a browser (loopback only by default)',
  usage: 'serve [--port N] [--host ADDRESS]',
  options: { port: { type: 'string' }, host: { type: 'string' } },
  help: { port: 'TCP port (default: any free port)', host: 'Address to listen on (default 127.0.0.1)' },
  async run({ values, positionals }, ctx) {
    if (positionals.length > 0) throw new AppError('BAD_INPUT', `serve takes no arguments (got "${positionals[0]}").`);
    const portText = optString(values, 'port');
    const port = portText === undefined ? 0 : parseCount(portText, 'port');
    if (port > 65535) throw new AppError('BAD_INPUT', `--port ${port}: a port is at most 65535.`);
    const host = optString(values, 'host') ?? '127.0.0.1';
    const service = new TerrariumService({ paths: ctx.paths, transport: 'web', version: version(), owner: 'web host' });
    await service.open();
    let web;
    try {
      web = await startWebHost({ service, port, host });
    } catch (error) {
      await service.close();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new AppError('CONFLICT', `Port ${port} is in use.`, { hint: 'Choose another with --port, or leave it out to take a free one.' });
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new AppError('BAD_INPUT', `--host ${host} is not an address of this machine.`);
      throw error;
    }
    if (!isLoopback(host)) ctx.stderr(`Warning: listening on ${host}: anyone who can reach this machine and has the URL controls your VMs.\n`);
    ctx.stdout(`Terrarium is running at ${web.url}\nLibrary: ${ctx.paths.library}\nPress Ctrl+C to stop.\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    ctx.stdout('Stopping: powering off running VMs...\n');
    await web.close();
    await service.close();
    return 0;
  },
};
