/** `terrarium delete <vm> [--keep-disks]`. */
import { oneVm } from '../args.js';
import type { CliCommand } from '../command.js';
import { openService } from '../service.js';

export const command: CliCommand = {
  name: 'delete',
  summary: 'Delete a stopped VM and the disks in its folder (--keep-disks keeps them)',
  usage: 'delete <vm> [--keep-disks]',
  options: { 'keep-disks': { type: 'boolean' } },
  help: { 'keep-disks': 'Leave the disk images in the VM folder' },
  async run({ values, positionals }, ctx) {
    const id = oneVm(positionals, 'delete <vm> [--keep-disks]');
    const svc = await openService(ctx);
    try {
      const { keptFolder } = await svc.call('deleteVm', { id, keepDisks: values['keep-disks'] === true });
      ctx.stdout(keptFolder ? `Deleted "${id}"; its folder keeps the disks and files Terrarium did not make.\n` : `Deleted "${id}".\n`);
      return 0;
    } finally {
      await svc.close();
    }
  },
};
