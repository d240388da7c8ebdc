/**
 * `terrarium disk create FILE --size 20G [--format qcow2|raw] [--backing FILE]`: make an
 * empty disk image (qcow2 by default), or a qcow2 overlay on a backing image. Exit codes:
 * 0 created, 2 bad input (one line; nothing is created or modified).
 */
import path from 'node:path';
import { EmulatorError } from '../../../emulator-core/errors.js';
import { createDisk, parseSize } from '../../../emulator-core/storage/index.js';
import type { CliCommand, CliContext, OptionValues } from '../command.js';

class UsageError extends Error {}

function str(values: OptionValues, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

function fail(ctx: CliContext, message: string, code: number): number {
  ctx.stderr(`terrarium disk: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  return code;
}

function human(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    u++;
  }
  return `${v} ${units[u]}`;
}

export const command: CliCommand = {
  name: 'disk',
  summary: 'Create virtual disk images (qcow2 or raw)',
  usage: 'disk create FILE --size SIZE [--format qcow2|raw] [--backing FILE]',
  options: {
    size: { type: 'string' },
    format: { type: 'string' },
    backing: { type: 'string' },
  },
  help: {
    size: 'virtual size, e.g. 20G, 512M (binary units); optional with --backing',
    format: 'qcow2 (default) or raw',
    backing: 'a base image the new qcow2 image starts as a copy-on-write overlay of',
  },
  async run({ values, positionals }, ctx) {
    let file: string;
    let format: 'qcow2' | 'raw';
    let sizeBytes: number | undefined;
    let backing: string | undefined;
    try {
      const [sub, target, ...extra] = positionals;
      if (sub === undefined) throw new UsageError('name a subcommand: disk create FILE --size SIZE');
      if (sub !== 'create') throw new UsageError(`unknown subcommand "${sub}" (only "create")`);
      if (target === undefined) throw new UsageError('name the image file to create: disk create FILE --size SIZE');
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
      file = target;
      const f = str(values, 'format') ?? 'qcow2';
      if (f !== 'qcow2' && f !== 'raw') throw new UsageError(`--format ${f}: choose qcow2 or raw`);
      format = f;
      const size = str(values, 'size');
      sizeBytes = size === undefined ? undefined : parseSize(size);
      const b = str(values, 'backing');
      if (b !== undefined) {
        if (format === 'raw') throw new UsageError('--backing needs --format qcow2 (raw images have no backing file)');
        // The user names the backing file from the working directory; the image stores it
        // relative to its own folder, as qemu-img does.
        backing = path.relative(path.dirname(path.resolve(file)), path.resolve(b));
      }
      if (sizeBytes === undefined && backing === undefined) throw new UsageError('--size is required (e.g. --size 20G)');
    } catch (e) {
      if (e instanceof UsageError || e instanceof EmulatorError) return fail(ctx, e.message, 2);
      throw e;
    }
    try {
      const created = await createDisk({ path: file, format, sizeBytes, backing });
      const on = created.backing !== null ? ` on ${created.backing} (${created.backingFormat ?? 'raw'})` : '';
      ctx.stdout(`created ${created.path}: ${created.format}, ${human(created.sizeBytes)}${on}\n`);
      return 0;
    } catch (e) {
      if (e instanceof EmulatorError) return fail(ctx, e.message, e.code === 'INTERNAL' ? 1 : 2);
      throw e;
    }
  },
};
