/**
 * Direct Linux boot onto attached drives (QEMU's -kernel with -hda/-cdrom), under the software
 * CPU: the i386 netboot kernel and the disk guest's initramfs (build-disk-guest.sh) load
 * ata_piix and find the PIIX IDE drives the machine attaches without firmware. Disks sit on
 * the primary channel in config order (sda, sdb), the CD-ROM on the secondary master (sr0).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../../emulator-core/machine/machine.js';
import type { MachineConfig, MachineExit } from '../../emulator-core/machine/types.js';
import { createDisk, openDisk } from '../../emulator-core/storage/index.js';
import { fixturePath, missingFixtures } from '../fixtures/fixtures.js';
import { SerialShell } from '../support/net/guest-session.js';

const KERNEL = 'vmlinuz-i386';
const INITRD = 'disk-i386.cpio.gz';
const APPEND = 'console=ttyS0 panic=-1';
const missing = missingFixtures(KERNEL, INITRD);
const haveXorriso = spawnSync('xorriso', ['-version'], { stdio: 'ignore' }).status === 0;
if (!haveXorriso) console.warn('\n*** SKIPPING the direct-boot CD-ROM test: xorriso is not installed (apt install xorriso) ***\n');

const DISK_BYTES = 8 << 20;
/** Where the guest writes, and what: a whole sector, so nothing else in it changes. */
const WRITE_OFFSET = 3 << 20;
const BOOT_MS = 500_000;

const dir = mkdtempSync(join(tmpdir(), 'terrarium-kdisk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `bytes` of "<name> sector N\n" lines, each sector different, so a misplaced read shows. */
function pattern(name: string, bytes: number): Buffer {
  const buf = Buffer.alloc(bytes, 0x2e);
  for (let s = 0; s < bytes / 512; s++) buf.write(`${name} sector ${s}\n`, s * 512, 'latin1');
  return buf;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A booted disk guest with its shell, and its run() promise. */
interface Guest {
  machine: Machine;
  shell: SerialShell;
  exit: Promise<MachineExit>;
}

async function bootGuest(drives: Pick<MachineConfig, 'disks' | 'cdrom'>): Promise<Guest> {
  let shell: SerialShell | null = null;
  const machine = await Machine.create(
    {
      memoryMiB: 128,
      accel: 'interpreter',
      kernel: fixturePath(KERNEL),
      initrd: fixturePath(INITRD),
      cmdline: APPEND,
      net: { mode: 'none' },
      ...drives,
    },
    { serialOutput: (bytes) => shell?.feed(bytes) },
  );
  shell = new SerialShell((text) => machine.sendSerial(Buffer.from(text, 'latin1')));
  const exit = machine.run();
  const t0 = performance.now();
  try {
    await shell.waitFor(/DISK-GUEST: ready/, BOOT_MS);
    await shell.sync(20_000);
  } catch (e) {
    machine.powerOff(); // a guest that never came up must not keep running beside the next one
    await exit;
    throw e;
  }
  console.log(`disk guest: shell after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { machine, shell, exit };
}

/** Wait for the guest's block devices; when they do not come, fail with what the kernel logged about its drives. */
async function waitForDevices(sh: SerialShell, names: string): Promise<void> {
  const r = await sh.exec(`waitdev ${names}`, 150_000);
  if (r.status === 0) return;
  const log = await sh.exec('dmesg | grep -i -E "ata|piix|scsi|sd |sr |irq"', 30_000);
  throw new Error(`${r.output}; the guest's kernel log about its drives:\n${log.output}`);
}

describe.skipIf(missing.length > 0)('--kernel with --disk: the guest finds the disks on the PIIX IDE', () => {
  const raw = join(dir, 'raw.img');
  const qcow2 = join(dir, 'disk.qcow2');
  const rawData = pattern('raw', DISK_BYTES);
  const qcowData = pattern('qcow2', DISK_BYTES);
  const text = 'written by the guest onto its disk';
  /** The sector the guest writes: the line, padded with zeros by dd conv=sync. */
  const written = Buffer.alloc(512);
  written.write(`${text}\n`, 0, 'latin1');
  let guest: Guest;

  beforeAll(async () => {
    writeFileSync(raw, rawData);
    await createDisk({ path: qcow2, format: 'qcow2', sizeBytes: DISK_BYTES });
    const q = await openDisk(qcow2, { format: 'qcow2' });
    await q.write(0, qcowData);
    await q.close();
    guest = await bootGuest({ disks: [{ path: raw, format: 'raw' }, { path: qcow2, format: 'qcow2' }] });
  }, BOOT_MS + 120_000);

  afterAll(async () => {
    guest?.machine.powerOff();
    await guest?.exit;
  });

  /** The sd names of the primary master and slave: Linux probes them asynchronously, so which is sda varies. */
  let master = '';
  let slave = '';

  it('sees the raw disk as the primary master and the qcow2 disk as the primary slave, with their sizes and contents', async () => {
    const sh = guest.shell;
    await waitForDevices(sh, 'sda sdb');
    // libata puts the master at SCSI target 0 and the slave at target 1 of the channel's host.
    const map = await sh.run('for d in sda sdb; do echo $d $(basename $(readlink /sys/block/$d/device)); done', 10_000);
    for (const line of map.split('\n')) {
      const [dev, addr] = line.trim().split(' ');
      if (addr?.endsWith(':0:0:0')) master = dev!;
      else if (addr?.endsWith(':0:1:0')) slave = dev!;
    }
    expect([master, slave].sort(), map).toEqual(['sda', 'sdb']);
    // Sizes in 512-byte sectors, as the IDENTIFY data gives them.
    expect(await sh.run(`cat /sys/block/${master}/size /sys/block/${slave}/size`, 10_000)).toBe(`${DISK_BYTES / 512}\n${DISK_BYTES / 512}`);
    // Hashing 16 MiB takes about 20 s alone on the software CPU and over 60 s beside another
    // guest boot (CI runs two test files at once): the limit only catches a hang.
    const sums = await sh.run(`sha256sum /dev/${master} /dev/${slave}`, 240_000);
    expect(sums).toBe(`${sha256(rawData)}  /dev/${master}\n${sha256(qcowData)}  /dev/${slave}`);
  }, 480_000);

  it('writes to both disks; after power-off the host files hold what it wrote', async () => {
    const sh = guest.shell;
    const seek = WRITE_OFFSET / 512;
    for (const dev of [master, slave]) await sh.run(`echo '${text}' | dd of=/dev/${dev} bs=512 seek=${seek} conv=sync,fsync 2>/dev/null`, 60_000);
    sh.exec('sync; poweroff -f', 60_000).catch(() => undefined); // the guest goes away mid-command
    const exit = await guest.exit;
    expect(exit.kind, exit.reason).toBe('poweroff');

    const expectRaw = Buffer.from(rawData);
    written.copy(expectRaw, WRITE_OFFSET);
    expect(sha256(readFileSync(raw))).toBe(sha256(expectRaw));
    const q = await openDisk(qcow2, { format: 'qcow2', readOnly: true });
    const qBytes = await q.read(0, DISK_BYTES);
    await q.close();
    const expectQcow = Buffer.from(qcowData);
    written.copy(expectQcow, WRITE_OFFSET);
    expect(Buffer.from(qBytes.subarray(WRITE_OFFSET, WRITE_OFFSET + 512)).toString('latin1')).toBe(written.toString('latin1'));
    expect(sha256(qBytes)).toBe(sha256(expectQcow));
  }, 120_000);
});

/** An ISO 9660 image (Rock Ridge names) holding `files`, made with xorriso. */
function makeIso(name: string, label: string, files: Record<string, string>): string {
  const tree = join(dir, `${name}-tree`);
  mkdirSync(tree, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(tree, file), text);
  const iso = join(dir, `${name}.iso`);
  const r = spawnSync('xorriso', ['-as', 'mkisofs', '-R', '-V', label, '-o', iso, tree], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`xorriso failed: ${r.stderr}`);
  return iso;
}

describe.skipIf(missing.length > 0 || !haveXorriso)('--kernel with --cdrom: the guest reads the CD and sees media changes', () => {
  let first = '';
  let second = '';
  let guest: Guest;

  beforeAll(async () => {
    first = makeIso('first', 'TERRARIUM_ONE', { 'hello.txt': 'hello from the first disc\n' });
    second = makeIso('second', 'TERRARIUM_TWO', { 'other.txt': 'the second disc was inserted while the guest ran\n' });
    guest = await bootGuest({ cdrom: first });
  }, BOOT_MS + 120_000);

  afterAll(async () => {
    guest?.machine.powerOff();
    await guest?.exit;
  });

  it('mounts /dev/sr0 and reads a file from the ISO', async () => {
    const sh = guest.shell;
    await waitForDevices(sh, 'sr0');
    // The first 32 KiB (the system area, then the primary volume descriptor's sector) as on the host.
    const head = await sh.run('dd if=/dev/sr0 bs=2048 count=17 2>/dev/null | sha256sum', 30_000);
    expect(head.split(/\s+/)[0]).toBe(sha256(readFileSync(first).subarray(0, 17 * 2048)));
    await sh.run('mount -t iso9660 -o ro /dev/sr0 /mnt', 30_000);
    expect(await sh.run('cat /mnt/hello.txt', 10_000)).toBe('hello from the first disc');
    await sh.run('umount /mnt', 10_000);
  }, 240_000);

  it('sees no disc after an eject and the new disc after an insert', async () => {
    const sh = guest.shell;
    await guest.machine.setCdrom(null);
    const empty = await sh.exec('mount -t iso9660 -o ro /dev/sr0 /mnt', 30_000);
    expect(empty.status, empty.output).not.toBe(0);
    await guest.machine.setCdrom(second);
    await sh.run('mount -t iso9660 -o ro /dev/sr0 /mnt', 30_000);
    expect(await sh.run('ls /mnt; cat /mnt/other.txt', 10_000)).toBe('other.txt\nthe second disc was inserted while the guest ran');
    await sh.run('umount /mnt', 10_000);
  }, 120_000);
});

if (missing.length > 0) {
  it.skip(`direct-boot drive tests need fixtures: ${missing.join(', ')}`, () => {});
}
