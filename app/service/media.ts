/** The media folder: ISOs and disk images brought to the host (uploads), and disk format sniffing. */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { DiskFormat, MediaFile } from '../contract/api.js';

const QCOW2_MAGIC = 0x514649fb;

export async function detectDiskFormat(file: string): Promise<DiskFormat> {
  const handle = await fsp.open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.readUInt32BE(0) === QCOW2_MAGIC ? 'qcow2' : 'raw';
  } finally {
    await handle.close();
  }
}

/** A disk image's virtual size: the qcow2 header's size field, or a raw file's length. */
export async function diskVirtualSize(file: string, format: DiskFormat): Promise<number> {
  if (format === 'raw') return (await fsp.stat(file)).size;
  const handle = await fsp.open(file, 'r');
  try {
    const head = Buffer.alloc(32);
    await handle.read(head, 0, 32, 0);
    return Number(head.readBigUInt64BE(24));
  } finally {
    await handle.close();
  }
}

/** Kernels and initrds for direct Linux boot go by name more than by extension. */
const BOOT_FILE = /^(vmlinu[xz]|bzimage|kernel|initrd|initramfs|rootfs)|\.(cpio|gz|xz|zst|lz4|bin)$/i;

export function mediaKind(fileName: string): { kind: 'iso' } | { kind: 'disk'; format?: DiskFormat } | { kind: 'boot' } | null {
  const ext = path.extname(fileName).toLowerCase();
  if (ext === '.iso') return { kind: 'iso' };
  if (ext === '.qcow2') return { kind: 'disk', format: 'qcow2' };
  if (ext === '.img' || ext === '.raw') return { kind: 'disk' };
  if (BOOT_FILE.test(fileName)) return { kind: 'boot' };
  return null;
}

export async function listMedia(dir: string): Promise<MediaFile[]> {
  await fsp.mkdir(dir, { recursive: true });
  const out: MediaFile[] = [];
  for (const name of await fsp.readdir(dir)) {
    if (name.startsWith('.')) continue;
    const kind = mediaKind(name);
    if (kind === null) continue;
    const full = path.join(dir, name);
    const stat = await fsp.stat(full).catch(() => null);
    if (stat === null || !stat.isFile()) continue;
    const file: MediaFile = { path: full, fileName: name, kind: kind.kind, sizeBytes: stat.size, modifiedAt: stat.mtime.toISOString() };
    if (kind.kind === 'disk') file.format = await detectDiskFormat(full).catch(() => 'raw' as const);
    out.push(file);
  }
  return out.sort((a, b) => a.fileName.localeCompare(b.fileName));
}
