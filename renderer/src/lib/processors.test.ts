import { describe, expect, it } from 'vitest';
import { CPUS_MAX } from '../../../app/library/config-schema';
import { processorsHelp } from './processors';

describe('Processors help', () => {
  it('states the limit the checks enforce and that KVM runs one CPU only where KVM is usable', () => {
    const withKvm = processorsHelp({ cpus: 8, kvm: { usable: true, why: 'kvm' } });
    expect(withKvm).toContain(`Up to ${CPUS_MAX}.`);
    expect(withKvm).toContain('this host has 8 CPUs');
    expect(withKvm).toContain('not KVM');
    expect(processorsHelp({ cpus: 2, kvm: { usable: false, why: 'no /dev/kvm' } })).not.toContain('KVM');
  });
});
