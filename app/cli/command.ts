/**
 * What a CLI subcommand is. Each lives in app/cli/commands/<name>.ts and exports
 * `command: CliCommand`; the registry finds them there, so adding one touches no other file.
 */
import type { ParseArgsConfig } from 'node:util';
import type { DataPaths } from '../host/paths.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export interface CliContext extends CliIo {
  /** Data folders, after --home / TERRARIUM_HOME. */
  paths: DataPaths;
  /** The argv that started this process after the subcommand (to re-spawn it detached). */
  argv: readonly string[];
}

export interface CliCommand {
  name: string;
  /** One line for `terrarium help`. */
  summary: string;
  /** Usage lines after "terrarium ", e.g. "start <vm> [--foreground]". */
  usage: string;
  options: OptionSpec;
  /** Option descriptions for `terrarium <cmd> --help`. */
  help?: Record<string, string>;
  run(args: { values: OptionValues; positionals: string[] }, ctx: CliContext): Promise<number>;
}
