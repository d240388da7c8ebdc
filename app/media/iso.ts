/**
 * Reading what an ISO 9660 image says about itself: its volume label (which names the OS
 * on most install media) and whether it is bootable (El Torito). Anything without the
 * CD001 signature is refused before it reaches a VM's CD drive.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { AppError, toAppError } from '../errors.js';
import { guessOsType } from '../library/os-types.js';
import { sanitizeName } from '../library/names.js';

const SECTOR = 2048;
const PVD_SECTOR = 16;

export interface IsoInfo {
  path: string;
  fileName: string;
  sizeBytes: number;
  volumeLabel: string;
  bootable: boolean;
  guessedOsType: string;
  suggestedName: string;
}

export async function inspectIso(file: string): Promise<IsoInfo> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (error) {
    throw toAppError(error);
  }
  try {
    const stat = await handle.stat();
    const fileName = path.basename(file);
    if (!stat.isFile()) throw new AppError('BAD_INPUT', `${file} is not a file.`, { field: 'path' });
    const head = Buffer.alloc(SECTOR * 2);
    const { bytesRead } = await handle.read(head, 0, head.length, PVD_SECTOR * SECTOR);
    const pvd = head.subarray(0, SECTOR);
    if (bytesRead < SECTOR || pvd.toString('latin1', 1, 6) !== 'CD001' || pvd[0] !== 1) {
      throw new AppError('BAD_INPUT', `${fileName} is not an ISO image (no ISO 9660 volume descriptor).`, {
        hint: 'Drop a CD/DVD image (.iso). Disk images (.img, .qcow2) go in Settings → Storage.',
        field: 'path',
      });
    }
    const volumeLabel = pvd.toString('latin1', 40, 72).replace(/\0/g, '').trim();
    const boot = head.subarray(SECTOR, SECTOR * 2);
    const bootable = bytesRead >= SECTOR * 2 && boot[0] === 0 && boot.toString('latin1', 1, 6) === 'CD001' && boot.toString('latin1', 7, 30) === 'EL TORITO SPECIFICATION';
    const labelOrFile = volumeLabel !== '' ? volumeLabel : fileName.replace(/\.iso$/i, '');
    return {
      path: file,
      fileName,
      sizeBytes: stat.size,
      volumeLabel,
      bootable,
      guessedOsType: guessOsType(`${volumeLabel} ${fileName}`),
      suggestedName: sanitizeName(prettyLabel(labelOrFile)),
    };
  } finally {
    await handle.close();
  }
}

/** "DEBIAN_12_1_0_AMD64_N" → "Debian 12 1 0 amd64 N": labels are shouty and use underscores. */
export function prettyLabel(label: string): string {
  return label
    .replace(/[_]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w !== '')
    .map((w) => (/^[A-Z]{4,}$/.test(w) && !/^(AMD64|I386|X86|X64)$/.test(w) ? w[0] + w.slice(1).toLowerCase() : /^(AMD64|I386|X86|X64)$/.test(w) ? w.toLowerCase() : w))
    .join(' ');
}
