import { describe, expect, it } from 'vitest';
import { forwardsOf, freeHostPort, newRow, PRESETS, presetRow, randomMac, rowsOf, sshCommand } from './network';

const ssh = PRESETS.find((p) => p.id === 'ssh')!;
const http = PRESETS.find((p) => p.id === 'http')!;

describe('port-forwarding table', () => {
  it('presets pick 2222 and 8080, or the next port no rule of the same protocol uses', () => {
    expect(presetRow([], ssh)).toMatchObject({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: '2222', guestPort: '22' });
    expect(presetRow([], http)).toMatchObject({ hostPort: '8080', guestPort: '80' });
    const rows = [newRow({ hostPort: '2222' }), newRow({ hostPort: '2223' }), newRow({ protocol: 'udp', hostPort: '2224' })];
    expect(presetRow(rows, ssh).hostPort).toBe('2224'); // a UDP rule does not take a TCP port
    expect(freeHostPort([newRow({ hostPort: '65535' })], 'tcp', 65535)).toBe(1024);
  });

  it('turns rows into rules, text that is no number into NaN for the host to refuse', () => {
    const rules = [{ protocol: 'udp' as const, hostAddress: '0.0.0.0', hostPort: 5353, guestPort: 53 }];
    expect(forwardsOf(rowsOf(rules))).toEqual(rules);
    const [typed] = forwardsOf([newRow({ hostAddress: ' 127.0.0.1 ', hostPort: 'ssh', guestPort: '' })]);
    expect(typed?.hostAddress).toBe('127.0.0.1');
    expect(typed?.hostPort).toBeNaN();
    expect(typed?.guestPort).toBeNaN();
    expect(new Set(rowsOf([...rules, ...rules]).map((r) => r.key)).size).toBe(2);
  });

  it('offers an ssh line only for TCP to guest port 22, through loopback when the rule listens everywhere', () => {
    expect(sshCommand({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 })).toBe('ssh -p 2222 root@127.0.0.1');
    expect(sshCommand({ protocol: 'tcp', hostAddress: '0.0.0.0', hostPort: 2200, guestPort: 22 })).toBe('ssh -p 2200 root@127.0.0.1');
    expect(sshCommand({ protocol: 'tcp', hostAddress: '192.168.1.9', hostPort: 2200, guestPort: 22 })).toBe('ssh -p 2200 root@192.168.1.9');
    expect(sshCommand({ protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 })).toBeNull();
    expect(sshCommand({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 })).toBeNull();
    expect(sshCommand({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: Number.NaN, guestPort: 22 })).toBeNull();
  });

  it('regenerates MACs in the 52:54:00 range', () => {
    const macs = new Set(Array.from({ length: 20 }, () => randomMac()));
    for (const mac of macs) expect(mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(macs.size).toBeGreaterThan(1);
  });
});
