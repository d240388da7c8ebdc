import type { HostInfo } from '../../../app/contract/api';

/** The core's MAX_CPUS (app/library/config-schema.ts CPUS_MAX); the checks enforce it, this only says it. */
const CPUS_MAX = 16;

/**
 * The Processors field's help, in the wizard and in Settings. The software CPU runs a VM's
 * processors in turns on one host thread, and KVM runs one: say so, so that neither the
 * host's core count nor a preset's 2 CPUs promises speed the VM will not have.
 */
export function processorsHelp(host: Pick<HostInfo, 'cpus' | 'kvm'>): string {
  return `Up to ${CPUS_MAX}. They take turns on one host thread (this host has ${host.cpus} CPUs)${host.kvm.usable ? '; more than one needs the software CPU, not KVM' : ''}.`;
}
