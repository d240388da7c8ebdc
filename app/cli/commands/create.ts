/** `terrarium create <name> [--os ID] [--memory 1G] [--disk-size 16G] [--iso FILE]`. */
import path from 'node:path';
import { AppError } from '../../errors.js';
import { OS_PRESETS, presetFor } from '../../library/os-types.js';
import { optString, oneVm, parseCount, parseSizeMiB } from '../args.js';
import type { CliCommand } from '../command.js';
import type { CreateVmParams } from '../../contract/api.js';
import { openService } from '../service.js';

const USAGE = 'create <name> [--os ID] [--memory SIZE] [--cpus N] [--disk-size SIZE] [--disk-format qcow2|raw] [--disk FILE | --no-disk] [--iso FILE] [--kernel FILE [--initrd FILE] [--append CMDLINE]] [--json]';

export const command: CliCommand = {
  name: 'create',
  summary: 'Create a VM (with a new disk unless --disk or --no-disk)',
  usage: USAGE,
  options: {
    os: { type: 'string' },
    memory: { type: 'string' },
    cpus: { type: 'string' },
    'disk-size': { type: 'string' },
    'disk-format': { type: 'string' },
    disk: { type: 'string' },
    'no-disk': { type: 'boolean' },
    iso: { type: 'string' },
    kernel: { type: 'string' },
    initrd: { type: 'string' },
    append: { type: 'string' },
    json: { type: 'boolean' },
  },
  help: {
    os: `OS type, sets the defaults: ${OS_PRESETS.map((p) => p.id).join(', ')}`,
    memory: 'Memory, e.g. 512M or 2G (default: the OS preset)',
    cpus: 'Number of CPUs',
    'disk-size': 'Size of the new disk, e.g. 16G',
    'disk-format': 'qcow2 (grows as used) or raw',
    disk: 'Use this existing disk image instead of a new one',
    'no-disk': 'No disk (live CDs)',
    iso: 'ISO to put in the CD drive and boot from',
    kernel: 'Boot this Linux kernel directly (no firmware)',
    initrd: 'Initial ramdisk for --kernel',
    append: 'Kernel command line for --kernel, e.g. "console=ttyS0"',
    json: 'Print the created VM as JSON',
  },
  async run({ values, positionals }, ctx) {
    const name = oneVm(positionals, USAGE);
    const osType = optString(values, 'os') ?? 'other';
    if (!OS_PRESETS.some((p) => p.id === osType)) {
      throw new AppError('BAD_INPUT', `--os ${osType} is not an OS type; use one of ${OS_PRESETS.map((p) => p.id).join(', ')}.`, { field: 'os' });
    }
    const preset = presetFor(osType);
    const existing = optString(values, 'disk');
    if (existing !== undefined && values['no-disk'] === true) throw new AppError('BAD_INPUT', '--disk and --no-disk contradict each other.');
    const format = optString(values, 'disk-format') ?? preset.diskFormat;
    if (format !== 'qcow2' && format !== 'raw') throw new AppError('BAD_INPUT', `--disk-format ${format}: use qcow2 or raw.`);
    const sizeText = optString(values, 'disk-size');
    const disk: CreateVmParams['disk'] =
      existing !== undefined
        ? { kind: 'existing', path: path.resolve(existing) }
        : values['no-disk'] === true || (preset.diskMiB === 0 && sizeText === undefined)
          ? { kind: 'none' }
          : { kind: 'new', sizeMiB: sizeText === undefined ? preset.diskMiB : parseSizeMiB(sizeText, 'disk-size'), format };
    const memoryText = optString(values, 'memory');
    const cpusText = optString(values, 'cpus');
    const iso = optString(values, 'iso');
    const kernel = optString(values, 'kernel');
    const initrd = optString(values, 'initrd');
    const append = optString(values, 'append');
    if (kernel === undefined && (initrd !== undefined || append !== undefined)) throw new AppError('BAD_INPUT', '--initrd and --append need --kernel.');
    const svc = await openService(ctx);
    try {
      let vm = await svc.call('createVm', {
        name,
        osType,
        memoryMiB: memoryText === undefined ? preset.memoryMiB : parseSizeMiB(memoryText, 'memory'),
        cpus: cpusText === undefined ? preset.cpus : parseCount(cpusText, 'cpus'),
        disk,
        iso: iso === undefined ? null : path.resolve(iso),
      });
      if (kernel !== undefined && vm.status === 'ok') {
        const { schemaVersion: _v, createdAt: _c, ...settings } = vm.config;
        const system = { ...settings.system, kernel: path.resolve(kernel), initrd: initrd === undefined ? null : path.resolve(initrd), cmdline: append ?? '' };
        try {
          vm = await svc.call('updateVm', { id: vm.id, settings: { ...settings, system } });
        } catch (error) {
          await svc.call('deleteVm', { id: vm.id, keepDisks: false }); // no half-made VM
          throw error;
        }
      }
      if (values.json === true) ctx.stdout(`${JSON.stringify(vm, null, 2)}\n`);
      else ctx.stdout(`Created "${vm.id}" in ${vm.dir}\n`);
      return 0;
    } finally {
      await svc.close();
    }
  },
};
