/** `terrarium list [--json]`: the VMs in the library, with their state. */
import type { VmInfo } from '../../contract/api.js';
import type { CliCommand } from '../command.js';
import { openService } from '../service.js';

function row(vm: VmInfo): string[] {
  if (vm.status === 'error') return [vm.id, 'broken', '-', '-', '-', vm.error.message];
  const c = vm.config;
  const state = vm.session.elsewhere ? `${vm.session.state} (${vm.session.elsewhere.owner})` : vm.session.state;
  return [vm.id, state, c.osType, `${c.system.memoryMiB} MiB`, String(vm.disks.length), c.storage.cdrom ?? ''];
}

export const command: CliCommand = {
  name: 'list',
  summary: 'List the VMs in the library (--json for scripts)',
  usage: 'list [--json]',
  options: { json: { type: 'boolean' } },
  help: { json: 'Print a JSON array instead of a table' },
  async run({ values }, ctx) {
    const svc = await openService(ctx);
    try {
      const vms = await svc.call('listVms', {});
      if (values.json === true) {
        ctx.stdout(`${JSON.stringify(vms.map((vm) => (vm.status === 'error' ? { id: vm.id, status: 'error', error: vm.error } : { id: vm.id, status: 'ok', state: vm.session.state, dir: vm.dir, config: vm.config })), null, 2)}\n`);
        return 0;
      }
      if (vms.length === 0) {
        ctx.stdout(`No VMs in ${ctx.paths.library}. Create one with: terrarium create <name> --iso <file.iso>\n`);
        return 0;
      }
      const rows = [['NAME', 'STATE', 'OS', 'MEMORY', 'DISKS', 'CD / PROBLEM'], ...vms.map(row)];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      ctx.stdout(rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n');
      return 0;
    } finally {
      await svc.close();
    }
  },
};
