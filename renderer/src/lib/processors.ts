import type { HostInfo } from '../../../app/contract/api';

/** The core's MAX_CPUS (app/library/config-schema.ts CPUS_MAX); the checks enforce it, this only says it. */
const CPUS_MAX = 16;

/**
 * The Processors field's help, in the wizard and in Settings. Under KVM each processor is a
 * host thread; the software CPU runs them in turns on one: say which, so that neither the
 * host's core count nor a preset's 2 CPUs promises speed the VM will not have.
 */
export function processorsHelp(host: Pick<HostInfo, 'cpus' | 'kvm'>): string {
  const how = host.kvm.usable ? 'Under KVM each runs on a host thread of its own' : 'They take turns on one host thread (the software CPU)';
  return `Up to ${CPUS_MAX}. ${how}; this host has ${host.cpus} CPUs.`;
}
