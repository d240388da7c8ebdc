/**
 * `terrarium <command> [options]`: parses, dispatches, and turns errors into one line.
 * Exit codes: 0 done, 1 the operation failed (host, guest), 2 the user's input was wrong.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { AppError, toAppError } from '../errors.js';
import { resolveDataPaths } from '../host/paths.js';
import type { CliCommand, CliIo, OptionSpec } from './command.js';
import { loadCommands } from './registry.js';

const GLOBAL_OPTIONS: OptionSpec = {
  home: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const USER_ERRORS = new Set(['BAD_INPUT', 'NOT_FOUND', 'CONFLICT', 'CORRUPT', 'UNSUPPORTED']);

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function overview(table: Map<string, CliCommand>): string {
  const width = Math.max(...[...table.keys()].map((n) => n.length));
  const lines = [...table.values()].map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: terrarium <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nEvery command takes --home DIR (or TERRARIUM_HOME) to use another data folder.\nRun "terrarium <command> --help" for its options.\n`;
}

function commandHelp(c: CliCommand): string {
  const opts = Object.entries(c.help ?? {}).map(([k, v]) => `  --${k.padEnd(16)} ${v}`);
  return `Usage: terrarium ${c.usage}\n\n${c.summary}\n${opts.length > 0 ? `\nOptions:\n${opts.join('\n')}\n` : ''}`;
}

export async function runCli(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const table = await loadCommands();
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && rest[0] !== undefined ? table.get(rest[0]) : undefined;
    io.stdout(topic ? commandHelp(topic) : overview(table));
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${version()}\n`);
    return 0;
  }
  const command = table.get(name);
  if (command === undefined) {
    io.stderr(`terrarium: unknown command "${name}" (try "terrarium help")\n`);
    return 2;
  }
  try {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: [...rest], options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
    } catch (error) {
      throw new AppError('BAD_INPUT', `${(error as Error).message.replace(/\. To specify.*$/s, '')} (usage: terrarium ${command.usage})`);
    }
    if (parsed.values.help === true) {
      io.stdout(commandHelp(command));
      return 0;
    }
    const home = typeof parsed.values.home === 'string' ? parsed.values.home : undefined;
    return await command.run({ values: parsed.values, positionals: parsed.positionals }, { ...io, paths: resolveDataPaths(home, io.env), argv: rest });
  } catch (error) {
    const e = toAppError(error);
    const message = e.hint !== undefined && !/[.!?)]$/.test(e.message) ? `${e.message}.` : e.message;
    const hint = e.hint !== undefined ? ` ${e.hint}` : '';
    io.stderr(`terrarium ${name}: ${`${message}${hint}`.replace(/\s*\n\s*/g, ' ')}\n`);
    if (io.env.TERRARIUM_DEBUG === '1' && e.cause instanceof Error && e.cause.stack) io.stderr(`${e.cause.stack}\n`);
    return USER_ERRORS.has(e.code) ? 2 : 1;
  }
}

function defaultIo(): CliIo {
  return { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env };
}
