/**
 * Config schema upgrades. A migration turns a plain object of version N into version N+1;
 * the chain runs in memory on load, and the upgraded config reaches the disk only when the
 * VM is next saved (after a backup of the old file), so a downgrade can still read it.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';
import { CONFIG_SCHEMA_VERSION } from './config-schema.js';
import { macFromBytes } from './mac.js';

export type JsonObject = Record<string, unknown>;
export type Migration = (config: JsonObject) => JsonObject;

export interface MigrationPlan {
  /** Migrations keyed by the version they upgrade from. */
  migrations: ReadonlyMap<number, Migration>;
  current: number;
}

/**
 * 1 → 2 adds the network adapter. Version 1 VMs had no network only because Terrarium had
 * no NIC, so they get what a new VM gets (NAT, like VirtualBox and QEMU by default): with
 * no forwards nothing reaches in, and the guest's installed drivers find an e1000. Their
 * MAC is derived from the VM's creation time and name rather than drawn at random, because
 * the upgraded config is rebuilt on every load until the VM is saved, and the MAC must not
 * change between loads (a guest keys its DHCP lease and interface name on it).
 */
export function v1ToV2(v1: JsonObject): JsonObject {
  const seed = `${String(v1.createdAt)}\0${String(v1.name)}`;
  const mac = macFromBytes(createHash('sha256').update(seed).digest());
  return { ...v1, network: { mode: 'nat', mac, blockHostAccess: false, forwards: [] } };
}

export const MIGRATIONS: MigrationPlan = { migrations: new Map([[1, v1ToV2]]), current: CONFIG_SCHEMA_VERSION };

export interface Migrated {
  config: JsonObject;
  /** The version the file had, when it was older than `current`. */
  upgradedFrom?: number;
}

export function readSchemaVersion(raw: unknown, file: string): number {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AppError('CORRUPT', `${file}: the config is not a JSON object.`, { field: 'schemaVersion' });
  }
  const version = (raw as JsonObject).schemaVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new AppError('CORRUPT', `${file}: schemaVersion is missing or not a positive whole number.`, { field: 'schemaVersion' });
  }
  return version;
}

export function migrateConfig(raw: unknown, file: string, plan: MigrationPlan = MIGRATIONS): Migrated {
  const from = readSchemaVersion(raw, file);
  if (from > plan.current) {
    throw new AppError('UNSUPPORTED', `${file} was written by a newer Terrarium (config version ${from}; this one reads up to ${plan.current}).`, {
      hint: 'Update Terrarium to open this VM. The file was left untouched.',
      field: 'schemaVersion',
    });
  }
  let config = raw as JsonObject;
  for (let v = from; v < plan.current; v++) {
    const step = plan.migrations.get(v);
    if (step === undefined) throw new AppError('INTERNAL', `No migration from config version ${v} to ${v + 1}.`);
    config = { ...step(config), schemaVersion: v + 1 };
  }
  return from < plan.current ? { config, upgradedFrom: from } : { config };
}
