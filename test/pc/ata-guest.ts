/** The ATA guest of the disk tests (test/fixtures/build-pc-isos.sh builds its CD). */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fixturePath } from '../fixtures/fixtures.js';
import { terrarium, type CliResult } from './cli-run.js';

/** md5 of the pattern the guest writes: 4 MiB of "TERRARIUM-DISK-PATTERN\n". */
export function patternMd5(): string {
  const line = Buffer.from('TERRARIUM-DISK-PATTERN\n');
  const buf = Buffer.alloc(4 << 20);
  for (let o = 0; o < buf.length; o += line.length) line.copy(buf, o, 0, Math.min(line.length, buf.length - o));
  return createHash('md5').update(buf).digest('hex');
}

/** Boot the ATA guest with `disk` attached: it writes the pattern, or reads it back when present. */
export function bootAta(disk: string): Promise<CliResult> {
  return terrarium(['run', '--cdrom', fixturePath('ata-i386.iso'), '--disk', disk, '--memory', '256', '--accel', 'interpreter', '--timeout', '900']);
}

export function qemuImgCheck(image: string): { status: number | null; out: string } {
  const r = spawnSync('qemu-img', ['check', image], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}
