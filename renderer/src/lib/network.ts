/**
 * The port-forwarding table of the Settings dialog: rows as typed (ports are text until
 * they are numbers), the presets and what they pick, and how a rule reads to a person.
 * The host checks every rule (checkSettings); nothing here decides what is valid.
 */
import type { PortForwardSetting } from '../../../app/contract/api';
// Pure (no Node): the same generator the library uses for new VMs.
export { randomMac } from '../../../app/library/mac';

export interface ForwardRow {
  /** React key: stable while rows are added and removed. */
  key: number;
  protocol: 'tcp' | 'udp';
  hostAddress: string;
  hostPort: string;
  guestPort: string;
}

export interface ForwardPreset {
  id: 'ssh' | 'http';
  label: string;
  guestPort: number;
  /** Where the search for a free host port starts (a familiar unprivileged stand-in). */
  hostPort: number;
}

export const PRESETS: ForwardPreset[] = [
  { id: 'ssh', label: 'SSH (22)', guestPort: 22, hostPort: 2222 },
  { id: 'http', label: 'HTTP (80)', guestPort: 80, hostPort: 8080 },
];

export const LOOPBACK = '127.0.0.1';
export const ANY_ADDRESS = '0.0.0.0';
const FIRST_UNPRIVILEGED_PORT = 1024;

let nextKey = 1;

export function newRow(patch: Partial<Omit<ForwardRow, 'key'>> = {}): ForwardRow {
  return { key: nextKey++, protocol: 'tcp', hostAddress: LOOPBACK, hostPort: '', guestPort: '', ...patch };
}

export function rowsOf(forwards: PortForwardSetting[]): ForwardRow[] {
  return forwards.map((f) => newRow({ protocol: f.protocol, hostAddress: f.hostAddress, hostPort: String(f.hostPort), guestPort: String(f.guestPort) }));
}

/** Text that is not a number becomes NaN, which the host reports as "must be a number". */
function portOf(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

export function forwardsOf(rows: ForwardRow[]): PortForwardSetting[] {
  return rows.map((r) => ({ protocol: r.protocol, hostAddress: r.hostAddress.trim(), hostPort: portOf(r.hostPort), guestPort: portOf(r.guestPort) }));
}

/** The preset's host port, or the next one no row of the same protocol uses. */
export function freeHostPort(rows: ForwardRow[], protocol: ForwardRow['protocol'], preferred: number): number {
  const taken = new Set(rows.filter((r) => r.protocol === protocol).map((r) => portOf(r.hostPort)));
  let port = preferred;
  while (taken.has(port)) port = port >= 65535 ? FIRST_UNPRIVILEGED_PORT : port + 1;
  return port;
}

export function presetRow(rows: ForwardRow[], preset: ForwardPreset): ForwardRow {
  return newRow({ protocol: 'tcp', hostPort: String(freeHostPort(rows, 'tcp', preset.hostPort)), guestPort: String(preset.guestPort) });
}

/** The command that logs into the guest through this rule, when it forwards TCP to port 22. */
export function sshCommand(rule: Pick<PortForwardSetting, 'protocol' | 'hostPort' | 'guestPort'> & { hostAddress?: string }): string | null {
  if (rule.protocol !== 'tcp' || rule.guestPort !== 22 || !Number.isInteger(rule.hostPort)) return null;
  // 0.0.0.0 listens on every address, this computer's loopback among them.
  const host = rule.hostAddress === undefined || rule.hostAddress === ANY_ADDRESS ? LOOPBACK : rule.hostAddress;
  return `ssh -p ${rule.hostPort} root@${host}`;
}

/** "TCP 127.0.0.1:2222 → guest 22" */
export function describeRule(rule: { protocol: string; hostAddress?: string; hostPort: number; guestPort: number }): string {
  return `${rule.protocol.toUpperCase()} ${rule.hostAddress ?? LOOPBACK}:${rule.hostPort} → guest ${rule.guestPort}`;
}

