/** Parsing option values the way people type them: sizes like 16G, counts, exactly one VM name. */
import { AppError } from '../errors.js';
import type { OptionValues } from './command.js';

const UNITS: Record<string, number> = { '': 1, m: 1, mb: 1, mib: 1, g: 1024, gb: 1024, gib: 1024, t: 1024 * 1024, tb: 1024 * 1024, tib: 1024 * 1024 };

/** "16G", "512M", "512" (MiB) → MiB. */
export function parseSizeMiB(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new AppError('BAD_INPUT', `--${option} ${text}: give a size like 512M, 16G or 1T.`, { field: option });
  const mib = Number(m[1]) * unit;
  if (!Number.isInteger(mib)) throw new AppError('BAD_INPUT', `--${option} ${text} is not a whole number of MiB.`, { field: option });
  return mib;
}

export function parseCount(text: string, option: string): number {
  if (!/^\d+$/.test(text)) throw new AppError('BAD_INPUT', `--${option} ${text}: give a whole number.`, { field: option });
  return Number(text);
}

export function optString(values: OptionValues, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

export function oneVm(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new AppError('BAD_INPUT', `Name exactly one VM (usage: terrarium ${usage}).`);
  return positionals[0]!;
}
