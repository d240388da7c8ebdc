/**
 * Browser uploads into the host's media folder (PUT /api/media?name=…). The body streams to
 * a temp file that becomes visible only once it is complete and is what its name says
 * (an ISO has CD001, a .qcow2 its magic); anything else is deleted and refused.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { MediaFile } from '../contract/api.js';
import { AppError, toAppError } from '../errors.js';
import { inspectIso } from '../media/iso.js';
import { detectDiskFormat, mediaKind } from '../service/media.js';
import { uniqueName } from '../library/names.js';

export const MAX_UPLOAD_BYTES = 64 * 1024 ** 3;

export function uploadFileName(raw: string | null): string {
  const name = path.basename((raw ?? '').replace(/\\/g, '/')).trim();
  if (name === '' || name.startsWith('.') || /[\0<>:"|?*]/.test(name) || name.length > 200) {
    throw new AppError('BAD_INPUT', `"${raw ?? ''}" is not a usable file name.`, { field: 'name' });
  }
  if (mediaKind(name) === null) {
    throw new AppError('BAD_INPUT', `${name} is not an ISO, a disk image or a Linux kernel/initrd.`, { field: 'name', hint: 'Upload .iso, .img, .raw or .qcow2 files (or vmlinuz/initrd for direct boot).' });
  }
  return name;
}

export async function receiveUpload(req: IncomingMessage, mediaDir: string, rawName: string | null): Promise<MediaFile> {
  const name = uploadFileName(rawName);
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_UPLOAD_BYTES) throw new AppError('BAD_INPUT', `${name} is larger than 64 GiB.`);
  await fsp.mkdir(mediaDir, { recursive: true });
  const temp = path.join(mediaDir, `.upload-${randomBytes(6).toString('hex')}`);
  try {
    await pipeline(req, createWriteStream(temp, { flags: 'wx' }));
    const kind = mediaKind(name)!;
    let format: MediaFile['format'];
    if (kind.kind === 'iso') await inspectIso(temp).catch((e: unknown) => Promise.reject(renamed(e, name)));
    else if (kind.kind === 'disk') {
      format = await detectDiskFormat(temp);
      if (kind.format === 'qcow2' && format !== 'qcow2') throw new AppError('BAD_INPUT', `${name} is not a qcow2 image.`, { field: 'name' });
    }
    const taken = await fsp.readdir(mediaDir);
    const ext = path.extname(name);
    const finalName = uniqueName(name.slice(0, -ext.length), taken.map((t) => t.slice(0, t.length - path.extname(t).length))) + ext;
    const final = path.join(mediaDir, finalName);
    await fsp.rename(temp, final);
    const stat = await fsp.stat(final);
    const file: MediaFile = { path: final, fileName: finalName, kind: kind.kind, sizeBytes: stat.size, modifiedAt: stat.mtime.toISOString() };
    if (format !== undefined) file.format = format;
    return file;
  } catch (error) {
    await fsp.unlink(temp).catch(() => undefined);
    throw toAppError(error);
  }
}

/** inspectIso names the temp file; the user knows the file by its own name. */
function renamed(error: unknown, name: string): AppError {
  const e = toAppError(error);
  return new AppError(e.code, e.message.replace(/\.upload-[0-9a-f]+/, name), { hint: e.hint, field: 'name' });
}
