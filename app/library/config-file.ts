/**
 * Reading and writing one VM config file. Loading never throws for a bad file: it returns
 * the reason, so the library can list the VM as broken instead of failing the whole list.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { AppError, toAppError, type ErrorInfo, toErrorInfo } from '../errors.js';
import { describeIssues, vmConfigSchema, type VmConfig } from './config-schema.js';
import { writeFileAtomic, type AtomicFs } from './atomic-write.js';
import { MIGRATIONS, migrateConfig, type MigrationPlan } from './migrate.js';

/** Config files are small; anything larger is not one of ours. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export type LoadedConfig =
  | { ok: true; config: VmConfig; upgradedFrom?: number }
  | { ok: false; error: ErrorInfo };

export async function loadConfigFile(file: string, plan: MigrationPlan = MIGRATIONS): Promise<LoadedConfig> {
  try {
    return { ok: true, ...(await parseConfigFile(file, plan)) };
  } catch (error) {
    return { ok: false, error: toErrorInfo(error) };
  }
}

async function parseConfigFile(file: string, plan: MigrationPlan): Promise<{ config: VmConfig; upgradedFrom?: number }> {
  const name = path.basename(file);
  const stat = await fsp.stat(file);
  if (stat.size > MAX_CONFIG_BYTES) throw new AppError('CORRUPT', `${name} is ${stat.size} bytes, too large to be a VM config.`);
  const text = await fsp.readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AppError('CORRUPT', `${name} is not valid JSON (${(error as Error).message}).`, {
      hint: 'Restore the file from a backup, or fix it in a text editor. Terrarium leaves it untouched.',
    });
  }
  const migrated = migrateConfig(raw, name, plan);
  const parsed = vmConfigSchema.safeParse(migrated.config);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new AppError('CORRUPT', `${name}: ${describeIssues(parsed.error)}`, {
      hint: 'Fix the named field in a text editor, or delete the VM folder. Terrarium leaves the file untouched.',
      field: first?.path.join('.'),
    });
  }
  if (parsed.data.schemaVersion !== plan.current) {
    throw new AppError('CORRUPT', `${name}: schemaVersion ${parsed.data.schemaVersion} after upgrade, expected ${plan.current}.`);
  }
  return migrated.upgradedFrom === undefined ? { config: parsed.data } : { config: parsed.data, upgradedFrom: migrated.upgradedFrom };
}

export interface SaveOptions {
  /** The file on disk has this older version: keep a copy before replacing it. */
  upgradedFrom?: number;
  fs?: AtomicFs;
}

export async function saveConfigFile(file: string, config: VmConfig, options: SaveOptions = {}): Promise<void> {
  const checked = vmConfigSchema.safeParse(config);
  if (!checked.success) throw new AppError('INTERNAL', `Refusing to save an invalid config: ${describeIssues(checked.error)}`);
  try {
    if (options.upgradedFrom !== undefined) {
      await fsp.copyFile(file, `${file}.v${options.upgradedFrom}.bak`, fsp.constants.COPYFILE_EXCL).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST' && error.code !== 'ENOENT') throw error;
      });
    }
    await writeFileAtomic(file, `${JSON.stringify(checked.data, null, 2)}\n`, options.fs);
  } catch (error) {
    throw toAppError(error);
  }
}
