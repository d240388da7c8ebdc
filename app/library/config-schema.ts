/**
 * The on-disk VM config (`<name>.terrarium.json`). Versioned: `schemaVersion` says which
 * layout a file uses; older layouts are upgraded by library/migrate.ts, newer ones are
 * refused (never rewritten) so an older Terrarium cannot destroy a newer one's settings.
 */
import { z } from 'zod';
import { checkForward, checkForwards, checkMac, FIRST_UNPRIVILEGED_PORT, isIpv4 } from '../../emulator-core/net/forward-rules.js';
import { NAME_MAX, nameProblem } from './names.js';
import { OS_TYPE_IDS } from './os-types.js';

/** 2: the network adapter (`network`), see migrate.ts. */
export const CONFIG_SCHEMA_VERSION = 2;
export const CONFIG_SUFFIX = '.terrarium.json';

/** Static bounds; the host's own limit (its RAM) is checked where the host is known. */
export const MEMORY_MIN_MIB = 4;
export const MEMORY_MAX_MIB = 1024 * 1024;
/** The emulator core's MAX_CPUS (emulator-core/machine/machine.ts): each software CPU's state takes 8 MiB of the one 4 GiB memory. */
export const CPUS_MAX = 16;
export const DISK_MIN_MIB = 1;
export const DISK_MAX_MIB = 16 * 1024 * 1024;

export const vmNameSchema = z.string().superRefine((name, ctx) => {
  const problem = nameProblem(name);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

export const accelSchema = z.enum(['auto', 'kvm', 'interpreter']);
export const bootDeviceSchema = z.enum(['cdrom', 'disk']);
export const diskFormatSchema = z.enum(['raw', 'qcow2']);
export const osTypeSchema = z.enum(OS_TYPE_IDS);

const pathSchema = z.string().min(1, 'A path cannot be empty.').max(4096).refine((p) => !p.includes('\0'), 'A path cannot contain NUL.');

export const memorySchema = z
  .number({ error: 'Memory must be a number of MiB.' })
  .int('Memory must be a whole number of MiB.')
  .min(MEMORY_MIN_MIB, `Memory must be at least ${MEMORY_MIN_MIB} MiB.`)
  .max(MEMORY_MAX_MIB, `Memory must be at most ${MEMORY_MAX_MIB} MiB.`);

export const cpusSchema = z
  .number({ error: 'CPUs must be a number.' })
  .int('CPUs must be a whole number.')
  .min(1, 'A VM needs at least one CPU.')
  .max(CPUS_MAX, `At most ${CPUS_MAX} CPUs.`);

export const diskSizeSchema = z
  .number({ error: 'Disk size must be a number of MiB.' })
  .int('Disk size must be a whole number of MiB.')
  .min(DISK_MIN_MIB, `A disk must be at least ${DISK_MIN_MIB} MiB.`)
  .max(DISK_MAX_MIB, 'A disk can be at most 16 TiB.');

export const bootOrderSchema = z
  .array(bootDeviceSchema)
  .min(1, 'Choose at least one boot device.')
  .refine((order) => new Set(order).size === order.length, 'A boot device can appear only once.');

export const systemSchema = z.strictObject({
  memoryMiB: memorySchema,
  cpus: cpusSchema,
  accel: accelSchema,
  bootOrder: bootOrderSchema,
  /** Direct Linux boot, bypassing the firmware's boot order. */
  kernel: pathSchema.nullable(),
  initrd: pathSchema.nullable(),
  cmdline: z.string().max(4096, 'A kernel command line has at most 4096 characters.'),
});

export const displaySchema = z.strictObject({
  /** false: no VGA, the serial port is the console. */
  enabled: z.boolean(),
  scale: z.enum(['fit', '1:1']),
});

export const diskEntrySchema = z.strictObject({
  /** Relative to the VM folder for disks it owns, absolute for disks elsewhere. */
  path: pathSchema,
  format: diskFormatSchema,
  readOnly: z.boolean(),
});

export const storageSchema = z.strictObject({
  disks: z.array(diskEntrySchema).max(4, 'The IDE controller takes at most 4 drives.'),
  /** ISO in the CD drive (absolute path) or null when empty. */
  cdrom: pathSchema.nullable(),
});

export const serialSchema = z.strictObject({
  enabled: z.boolean(),
  /** Also append the guest's serial output to Logs/serial.log. */
  logToFile: z.boolean(),
});

export const netModeSchema = z.enum(['nat', 'none'], { error: 'The network mode is "nat" or "none".' });
export const FORWARDS_MAX = 64;
export { FIRST_UNPRIVILEGED_PORT };

/** The message of what `check` throws, or null when it passes (the shared checkers throw). */
function problemOf(check: () => void): string | null {
  try {
    check();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export const macSchema = z
  .string({ error: 'A MAC address is required.' })
  .superRefine((mac, ctx) => {
    const problem = problemOf(() => checkMac(mac)) ?? (/^(00:){5}00$/.test(mac) ? '00:00:00:00:00:00 is not a usable MAC address.' : null);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  })
  .toLowerCase();

function portSchema(what: string) {
  const range = `${what} must be between 1 and 65535.`;
  return z.number({ error: `${what} must be a number.` }).int(`${what} must be a whole number.`).min(1, range).max(65535, range);
}

export const portForwardSchema = z.strictObject({
  protocol: z.enum(['tcp', 'udp'], { error: 'The protocol is "tcp" or "udp".' }),
  /** 127.0.0.1: this computer only; 0.0.0.0: every interface, so the whole network. */
  hostAddress: z.string({ error: 'A host address is required.' }).refine(isIpv4, 'The host address must be an IPv4 address such as 127.0.0.1 (or 0.0.0.0 for every interface).'),
  hostPort: portSchema('The host port').refine(
    (port) => port < 1 || port >= FIRST_UNPRIVILEGED_PORT,
    `Host ports below ${FIRST_UNPRIVILEGED_PORT} are privileged: only root may listen on them, and Terrarium does not run as root. Use ${FIRST_UNPRIVILEGED_PORT}-65535 (2222 for SSH, 8080 for HTTP).`,
  ),
  guestPort: portSchema('The guest port'),
});

export const forwardsSchema = z
  .array(portForwardSchema)
  .max(FORWARDS_MAX, `At most ${FORWARDS_MAX} port forwarding rules.`)
  .superRefine((rules, ctx) => {
    // Rules with a problem of their own already carry it on their fields; the rest must not clash.
    const accepted: PortForwardSetting[] = [];
    for (const [i, rule] of rules.entries()) {
      if (problemOf(() => checkForward(rule)) !== null) continue;
      const clash = problemOf(() => checkForwards([...accepted, rule]));
      if (clash === null) accepted.push(rule);
      else ctx.addIssue({ code: 'custom', path: [i, 'hostPort'], message: clash });
    }
  });

/** The VM's network adapter: an e1000 behind Terrarium's NAT, or none. */
export const networkSchema = z.strictObject({
  mode: netModeSchema,
  /** Generated when the VM is created; kept across runs so the guest's DHCP lease and udev names stay. */
  mac: macSchema,
  /** The guest cannot open connections to the host itself (10.0.2.2, the host's loopback). */
  blockHostAccess: z.boolean(),
  forwards: forwardsSchema,
});

export const vmConfigSchema = z.strictObject({
  /** Checked against the migration plan's current version by the loader. */
  schemaVersion: z.number().int().min(1),
  name: vmNameSchema,
  osType: osTypeSchema,
  createdAt: z.iso.datetime(),
  system: systemSchema,
  display: displaySchema,
  storage: storageSchema,
  serial: serialSchema,
  network: networkSchema,
  notes: z.string().max(10_000),
});

export type VmConfig = z.infer<typeof vmConfigSchema>;
export type SystemSettings = z.infer<typeof systemSchema>;
export type DisplaySettings = z.infer<typeof displaySchema>;
export type StorageSettings = z.infer<typeof storageSchema>;
export type SerialSettings = z.infer<typeof serialSchema>;
export type DiskEntry = z.infer<typeof diskEntrySchema>;
export type NetworkSettings = z.infer<typeof networkSchema>;
export type PortForwardSetting = z.infer<typeof portForwardSchema>;

export { NAME_MAX };

/** One line per problem, each naming the field: "system.memoryMiB: Memory must be ...". */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
