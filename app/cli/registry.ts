/**
 * The table of subcommands: every module in ./commands/ that exports `command`. Discovery
 * keeps commands owned by different people (run, disk) out of each other's files.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CliCommand } from './command.js';

function isCommand(value: unknown): value is CliCommand {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<CliCommand>;
  return typeof c.name === 'string' && typeof c.summary === 'string' && typeof c.run === 'function' && typeof c.options === 'object';
}

export async function loadCommands(dir: URL = new URL('./commands/', import.meta.url)): Promise<Map<string, CliCommand>> {
  // From dist/ the modules are .js; under vitest they are the .ts sources.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const folder = fileURLToPath(dir);
  const files = (await fsp.readdir(folder)).filter((f) => f.endsWith(ext) && !f.endsWith(`.test${ext}`) && !f.endsWith(`.d${ext}`)).sort();
  const table = new Map<string, CliCommand>();
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(folder, file)).href)) as { command?: unknown };
    if (!isCommand(mod.command)) continue;
    if (table.has(mod.command.name)) throw new Error(`Two CLI commands are named "${mod.command.name}" (${file})`);
    table.set(mod.command.name, mod.command);
  }
  return table;
}
