import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA_VERSION, describeIssues, networkSchema, type NetworkSettings } from './config-schema.js';
import { Library } from './library.js';
import { newVm, tempDir } from './test-helpers.js';

/** What a generated MAC looks like: QEMU's prefix, lower-case hex. */
const MAC_PATTERN = /^52:54:00(:[0-9a-f]{2}){3}$/;
const nat = (patch: Partial<NetworkSettings> = {}): NetworkSettings => ({ mode: 'nat', mac: '52:54:00:12:34:56', blockHostAccess: false, forwards: [], ...patch });
const ssh = { protocol: 'tcp' as const, hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 };

/** The field and message of each problem, as the UI shows them. */
function problems(value: unknown): Record<string, string> {
  const parsed = networkSchema.safeParse(value);
  if (parsed.success) return {};
  return Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.'), i.message]));
}

/** Rewrite a library VM's file as Terrarium version 1 wrote it: no network adapter. */
function downgradeToV1(file: string): string {
  const config = JSON.parse(readFileSync(file, 'utf8'));
  delete config.network;
  config.schemaVersion = 1;
  const text = JSON.stringify(config, null, 2);
  writeFileSync(file, text);
  return text;
}

describe('network adapter in the VM config', () => {
  it('gives every new VM NAT and a MAC of its own, kept across loads', async () => {
    const lib = new Library(tempDir());
    const a = await lib.create(newVm('A'));
    const b = await lib.create(newVm('B'));
    expect(a.config.network).toMatchObject({ mode: 'nat', blockHostAccess: false, forwards: [] });
    for (const mac of [a.config.network.mac, b.config.network.mac]) {
      expect(mac).toMatch(MAC_PATTERN);
    }
    expect(a.config.network.mac).not.toBe(b.config.network.mac);
    expect((await lib.getOk('A')).config.network.mac).toBe(a.config.network.mac);
  });

  it('gives a clone its own MAC and the same forwards', async () => {
    const lib = new Library(tempDir());
    await lib.create(newVm('Source', { disk: { kind: 'none' } }));
    await lib.update('Source', (c) => ({ ...c, network: { ...c.network, forwards: [ssh] } }));
    const source = await lib.getOk('Source');
    const copy = await lib.clone('Source', 'Copy');
    expect(copy.config.network.forwards).toEqual([ssh]);
    expect(copy.config.network.mac).toMatch(MAC_PATTERN);
    expect(copy.config.network.mac).not.toBe(source.config.network.mac);
  });

  it(`upgrades a version 1 config to ${CONFIG_SCHEMA_VERSION}: NAT, no forwards, one stable MAC per VM`, async () => {
    const lib = new Library(tempDir());
    const one = await lib.create(newVm('Old One'));
    const two = await lib.create(newVm('Old Two'));
    const text = downgradeToV1(one.file);
    downgradeToV1(two.file);
    const first = await lib.getOk('Old One');
    expect(first.upgradedFrom).toBe(1);
    expect(first.config.network).toMatchObject({ mode: 'nat', blockHostAccess: false, forwards: [] });
    expect(first.config.network.mac).toMatch(MAC_PATTERN);
    // Each load rebuilds the upgrade until the VM is saved: the MAC must not change meanwhile.
    expect((await lib.getOk('Old One')).config.network.mac).toBe(first.config.network.mac);
    expect((await lib.getOk('Old Two')).config.network.mac).not.toBe(first.config.network.mac);
    expect(readFileSync(one.file, 'utf8')).toBe(text);
    await lib.update('Old One', (c) => ({ ...c, notes: 'saved once' }));
    const saved = JSON.parse(readFileSync(one.file, 'utf8'));
    expect(saved.schemaVersion).toBe(CONFIG_SCHEMA_VERSION);
    expect(saved.network.mac).toBe(first.config.network.mac);
    expect(readFileSync(`${one.file}.v1.bak`, 'utf8')).toBe(text);
  });

  it('lists a config with a bad network setting as broken, naming the field', async () => {
    const lib = new Library(tempDir());
    const vm = await lib.create(newVm('Bad Net'));
    const raw = JSON.parse(readFileSync(vm.file, 'utf8'));
    raw.network.forwards = [ssh, { ...ssh, guestPort: 2022 }];
    writeFileSync(vm.file, JSON.stringify(raw));
    const entry = await lib.get('Bad Net');
    expect(entry).toMatchObject({ status: 'error', error: { code: 'CORRUPT', field: 'network.forwards.1.hostPort' } });
    if (entry.status === 'error') expect(entry.error.message).toContain('network.forwards.1.hostPort: port forward tcp 127.0.0.1:2222 -> 2022: host port 2222 is already forwarded by tcp 127.0.0.1:2222 -> 22');
  });

  it('refuses an update with a bad network setting and keeps the file', async () => {
    const lib = new Library(tempDir());
    const vm = await lib.create(newVm('Keep'));
    const before = readFileSync(vm.file, 'utf8');
    await expect(lib.update('Keep', (c) => ({ ...c, network: { ...c.network, mode: 'bridge' as 'nat' } }))).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'network.mode' });
    expect(readFileSync(vm.file, 'utf8')).toBe(before);
  });
});

describe('network settings validation', () => {
  it('accepts NAT with forwards, 0.0.0.0 and the same port over TCP and UDP', () => {
    expect(problems(nat({ forwards: [ssh, { ...ssh, protocol: 'udp' }, { protocol: 'tcp', hostAddress: '0.0.0.0', hostPort: 8080, guestPort: 80 }] }))).toEqual({});
    expect(problems(nat({ mode: 'none' }))).toEqual({});
  });

  it('keeps MACs in lower case and refuses malformed, multicast and zero ones', () => {
    expect(networkSchema.parse(nat({ mac: '52:54:00:AB:CD:EF' })).mac).toBe('52:54:00:ab:cd:ef');
    expect(problems(nat({ mac: '02:00:00:00:00:01' }))).toEqual({}); // locally administered, unicast
    expect(problems(nat({ mac: '52-54-00-12-34-56' })).mac).toMatch(/six hex pairs/);
    expect(problems(nat({ mac: '52:54:00:12:34' })).mac).toMatch(/six hex pairs/);
    expect(problems(nat({ mac: '01:00:5e:00:00:01' })).mac).toMatch(/is a multicast address; a NIC needs a unicast one/);
    expect(problems(nat({ mac: '00:00:00:00:00:00' })).mac).toMatch(/not a usable MAC/);
  });

  it('names the field of each bad forward', () => {
    const rule = (patch: object) => problems(nat({ forwards: [{ ...ssh, ...patch }] as NetworkSettings['forwards'] }));
    expect(rule({ protocol: 'icmp' })['forwards.0.protocol']).toBe('The protocol is "tcp" or "udp".');
    expect(rule({ hostAddress: 'localhost' })['forwards.0.hostAddress']).toMatch(/IPv4 address such as 127\.0\.0\.1/);
    expect(rule({ hostAddress: '::1' })['forwards.0.hostAddress']).toMatch(/IPv4/);
    expect(rule({ hostAddress: '127.0.0.256' })['forwards.0.hostAddress']).toMatch(/IPv4/);
    expect(rule({ hostPort: 0 })['forwards.0.hostPort']).toBe('The host port must be between 1 and 65535.');
    expect(rule({ hostPort: 65536 })['forwards.0.hostPort']).toBe('The host port must be between 1 and 65535.');
    expect(rule({ hostPort: 2222.5 })['forwards.0.hostPort']).toBe('The host port must be a whole number.');
    expect(rule({ hostPort: '2222' })['forwards.0.hostPort']).toBe('The host port must be a number.');
    expect(rule({ guestPort: 0 })['forwards.0.guestPort']).toBe('The guest port must be between 1 and 65535.');
    expect(rule({ guestPort: 22 })).toEqual({}); // privileged ports are fine inside the guest
  });

  it('refuses privileged host ports, saying why', () => {
    for (const hostPort of [22, 80, 1023]) {
      expect(problems(nat({ forwards: [{ ...ssh, hostPort }] }))['forwards.0.hostPort']).toMatch(/below 1024 are privileged: only root may listen on them.*Use 1024-65535/);
    }
    expect(problems(nat({ forwards: [{ ...ssh, hostPort: 1024 }] }))).toEqual({});
  });

  it('refuses two rules on one protocol and host port, 0.0.0.0 clashing with every address', () => {
    expect(problems(nat({ forwards: [ssh, { ...ssh, guestPort: 23 }] }))).toEqual({ 'forwards.1.hostPort': 'port forward tcp 127.0.0.1:2222 -> 23: host port 2222 is already forwarded by tcp 127.0.0.1:2222 -> 22' });
    expect(problems(nat({ forwards: [ssh, { ...ssh, hostAddress: '0.0.0.0' }] }))['forwards.1.hostPort']).toMatch(/0\.0\.0\.0:2222 -> 22: host port 2222 is already forwarded/);
    expect(problems(nat({ forwards: [ssh, { ...ssh, hostAddress: '192.168.1.5' }] }))).toEqual({});
    // A rule with its own problem is not also reported as a clash.
    expect(problems(nat({ forwards: [ssh, { ...ssh, hostPort: 80 }, { ...ssh, guestPort: 24 }] }))).toEqual({
      'forwards.1.hostPort': expect.stringMatching(/privileged/),
      'forwards.2.hostPort': expect.stringMatching(/already forwarded by tcp 127\.0\.0\.1:2222 -> 22/),
    });
  });

  it('describes several problems at once, one per field', () => {
    const parsed = networkSchema.safeParse({ mode: 'bridged', mac: 'x', blockHostAccess: 'yes', forwards: [] });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(describeIssues(parsed.error).split('; ').map((p) => p.split(':')[0])).toEqual(['mode', 'mac', 'blockHostAccess']);
  });
});
