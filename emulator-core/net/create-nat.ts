/** The NAT as the machine builds it: real host sockets, the TCP engine, the host's resolvers. */
import { getServers } from 'node:dns';
import { BadInputError } from '../errors.js';
import type { NetConfig, NetStatus } from '../machine/types.js';
import type { HostNetwork } from './host-network.js';
import type { TcpTimers } from './tcp/api.js';
import { NatBackend } from './nat.js';
import { NodeHostNetwork } from './node-host-network.js';
import { TcpEngine } from './tcp/engine.js';
import { DEFAULT_MAC, checkMac } from './forward-rules.js';
import { parseDnsServer, parseDnsServers, type DnsServer } from './dns-message.js';

export interface CreateNatOptions {
  /** The guest's lease or the active forwards changed (the machine relays it as networkChanged). */
  onStatus?: (status: NetStatus) => void;
  log?: (line: string) => void;
  /** Tests inject these; the machine leaves them out. */
  host?: HostNetwork;
  timers?: TcpTimers;
  dnsAttemptTimeoutMs?: number;
}

/** The resolvers the host itself uses, as node sees them (resolv.conf on Linux). */
function hostResolvers(): DnsServer[] {
  return getServers()
    .map(parseDnsServer)
    .filter((s): s is DnsServer => s !== null);
}

/**
 * Build the NAT for `config` and open its port forwards. Rejects with BadInputError for a bad
 * MAC, DNS server or forward (naming it, e.g. "port forward tcp 127.0.0.1:2222 -> 22: host port
 * 2222 is in use"); nothing stays open then.
 */
export async function createNat(config: NetConfig, options: CreateNatOptions = {}): Promise<NatBackend> {
  if (config.mode !== 'nat') throw new BadInputError(`network mode "${config.mode}" has no NAT`, { field: 'net' });
  const mac = config.mac ?? DEFAULT_MAC;
  checkMac(mac);
  const dnsServers = config.dnsServers ? parseDnsServers(config.dnsServers) : hostResolvers();
  const nat = new NatBackend({
    mac,
    blockHostAccess: config.blockHostAccess ?? false,
    dnsServers,
    host: options.host ?? new NodeHostNetwork(),
    timers: options.timers,
    createTcpEngine: (engineOptions) => new TcpEngine(engineOptions),
    onStatus: options.onStatus,
    log: options.log,
    dnsAttemptTimeoutMs: options.dnsAttemptTimeoutMs,
  });
  try {
    await nat.setForwards(config.forwards ?? []);
  } catch (error) {
    nat.close();
    throw error;
  }
  return nat;
}
