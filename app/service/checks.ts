/**
 * Field-by-field checks of a new VM or of edited settings: the schema's rules, then what
 * only the host knows (names taken, its memory, whether a file is really an ISO). The UI
 * calls these as the user types; create and update run them again before acting.
 */
import { MAX_MEMORY_MIB } from '../../emulator-core/machine/machine.js';
import path from 'node:path';
import type { z } from 'zod';
import type { CreateVmParams, FieldErrors, VmSettings } from '../contract/api.js';
import { createVmSchema, vmSettingsSchema } from '../contract/schemas.js';
import { AppError, toAppError } from '../errors.js';
import type { PortForwardSetting } from '../library/config-schema.js';
import type { Library, OkEntry } from '../library/library.js';
import { sameName } from '../library/names.js';
import { inspectIso } from '../media/iso.js';
import type { PathPolicy } from './path-policy.js';
import { listenProblem } from './port-probe.js';

export interface CheckContext {
  library: Library;
  maxMemoryMiB: number;
  paths: PathPolicy;
}

function issuesToFields(error: z.ZodError): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.join('.') || '_';
    fields[key] ??= issue.message;
  }
  return fields;
}

function memoryProblem(memoryMiB: number, max: number): string | null {
  if (memoryMiB <= max) return null;
  return max === MAX_MEMORY_MIB
    ? `Terrarium's virtual PC takes at most ${max} MiB of memory (RAM sits below its 32-bit PCI hole).`
    : `This host can give a VM at most ${max} MiB (it keeps the rest for itself).`;
}

async function isoProblem(file: string, ctx: CheckContext): Promise<string | null> {
  try {
    await inspectIso(await ctx.paths.check(file, 'iso'));
    return null;
  } catch (error) {
    return toAppError(error).message;
  }
}

async function pathProblem(file: string, field: string, ctx: CheckContext): Promise<string | null> {
  try {
    await ctx.paths.check(file, field);
    return null;
  } catch (error) {
    return toAppError(error).message;
  }
}

async function nameTaken(name: string, ctx: CheckContext, except?: string): Promise<boolean> {
  const entries = await ctx.library.list();
  return entries.some((e) => e.id !== except && (sameName(e.id, name) || (e.status === 'ok' && sameName(e.config.name, name))));
}

export async function checkNewVm(draft: unknown, ctx: CheckContext): Promise<FieldErrors> {
  const parsed = createVmSchema.safeParse(draft);
  const fields = parsed.success ? {} : issuesToFields(parsed.error);
  const d = (typeof draft === 'object' && draft !== null ? draft : {}) as Partial<CreateVmParams>;
  if (fields.name === undefined && typeof d.name === 'string' && (await nameTaken(d.name, ctx))) fields.name = `A VM named "${d.name}" already exists.`;
  if (fields.memoryMiB === undefined && typeof d.memoryMiB === 'number') {
    const p = memoryProblem(d.memoryMiB, ctx.maxMemoryMiB);
    if (p !== null) fields.memoryMiB = p;
  }
  if (fields.iso === undefined && typeof d.iso === 'string') {
    const p = await isoProblem(d.iso, ctx);
    if (p !== null) fields.iso = p;
  }
  if (fields['disk.path'] === undefined && d.disk?.kind === 'existing' && typeof d.disk.path === 'string') {
    const p = await pathProblem(d.disk.path, 'disk.path', ctx);
    if (p !== null) fields['disk.path'] = p;
  }
  return fields;
}

export async function checkSettings(entry: OkEntry, settings: unknown, ctx: CheckContext): Promise<FieldErrors> {
  const parsed = vmSettingsSchema.safeParse(settings);
  const fields = parsed.success ? {} : issuesToFields(parsed.error);
  if (!parsed.success) return fields;
  const s: VmSettings = parsed.data;
  const old = entry.config;
  if (s.name !== old.name && !sameName(s.name, entry.id) && (await nameTaken(s.name, ctx, entry.id))) fields.name = `A VM named "${s.name}" already exists.`;
  if (s.system.memoryMiB !== old.system.memoryMiB) {
    const p = memoryProblem(s.system.memoryMiB, ctx.maxMemoryMiB);
    if (p !== null) fields['system.memoryMiB'] = p;
  }
  if (s.storage.cdrom !== null && s.storage.cdrom !== old.storage.cdrom) {
    const p = await isoProblem(s.storage.cdrom, ctx);
    if (p !== null) fields['storage.cdrom'] = p;
  }
  for (const [i, disk] of s.storage.disks.entries()) {
    if (old.storage.disks.some((d) => d.path === disk.path)) continue; // unchanged: already allowed
    if (!path.isAbsolute(disk.path)) fields[`storage.disks.${i}.path`] = 'A new disk must be given by its full path.';
    else {
      const p = await pathProblem(disk.path, `storage.disks.${i}.path`, ctx);
      if (p !== null) fields[`storage.disks.${i}.path`] = p;
    }
  }
  for (const key of ['kernel', 'initrd'] as const) {
    const value = s.system[key];
    if (value !== null && value !== old.system[key]) {
      const p = await pathProblem(value, `system.${key}`, ctx);
      if (p !== null) fields[`system.${key}`] = p;
    }
  }
  if (s.system.kernel === null && s.system.initrd !== null) fields['system.initrd'] = 'An initrd needs a kernel: choose the kernel too, or clear the initrd.';
  if (s.network.mac !== old.network.mac) {
    const other = (await ctx.library.list()).find((e) => e.id !== entry.id && e.status === 'ok' && e.config.network.mac === s.network.mac);
    if (other !== undefined) fields['network.mac'] = `The VM "${other.id}" already has this MAC address.`;
  }
  return { ...fields, ...(await forwardProblems(s.network.forwards, old.network.forwards, 'network.forwards.')) };
}

/**
 * New rules whose host port this host cannot listen on right now. A rule on a protocol and
 * port the config already forwards is skipped: while the VM runs, its machine holds it.
 */
export async function forwardProblems(rules: PortForwardSetting[], old: PortForwardSetting[], fieldPrefix: string): Promise<FieldErrors> {
  const fields: FieldErrors = {};
  await Promise.all(
    rules.map(async (rule, i) => {
      if (old.some((o) => o.protocol === rule.protocol && o.hostPort === rule.hostPort)) return;
      const problem = await listenProblem(rule);
      if (problem !== null) fields[`${fieldPrefix}${i}.hostPort`] = problem;
    }),
  );
  return fields;
}

/** The first field error as an exception (create/update refuse what the checks refuse). */
export function throwIfAny(fields: FieldErrors): void {
  const [field, message] = Object.entries(fields)[0] ?? [];
  if (field !== undefined && message !== undefined) {
    throw new AppError('BAD_INPUT', message, { field, hint: Object.keys(fields).length > 1 ? `${Object.keys(fields).length - 1} more field(s) need attention too.` : undefined });
  }
}
