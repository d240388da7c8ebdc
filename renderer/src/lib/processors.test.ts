import { describe, expect, it } from 'vitest';
import { CPUS_MAX } from '../../../app/library/config-schema';
import { processorsHelp } from './processors';

describe('Processors help', () => {
  it('states the limit the checks enforce, and how the processors run: a thread each under KVM, in turns on the software CPU', () => {
    const withKvm = processorsHelp({ cpus: 8, kvm: { usable: true, why: 'kvm' } });
    expect(withKvm).toContain(`Up to ${CPUS_MAX}.`);
    expect(withKvm).toContain('this host has 8 CPUs');
    expect(withKvm).toContain('Under KVM each runs on a host thread of its own');
    const software = processorsHelp({ cpus: 2, kvm: { usable: false, why: 'no /dev/kvm' } });
    expect(software).not.toContain('KVM');
    expect(software).toContain('take turns on one host thread');
  });
});
