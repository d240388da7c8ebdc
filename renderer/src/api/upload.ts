/** Browser uploads to the host's media folder, with progress (XHR: fetch has no upload progress). */
import type { ErrorInfo, MediaFile, TerrariumApi } from '../../../app/contract/api';
import { ApiError } from './client';

export function uploadMedia(file: File, onProgress: (fraction: number) => void): Promise<MediaFile> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `/api/media?name=${encodeURIComponent(file.name)}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 200) resolve(body as MediaFile);
      else if (body !== null && typeof body === 'object' && 'error' in body) reject(new ApiError((body as { error: ErrorInfo }).error));
      else reject(new ApiError({ code: 'HOST', message: `Uploading ${file.name} failed (HTTP ${xhr.status}).` }));
    };
    xhr.onerror = () => reject(new ApiError({ code: 'HOST', message: `Uploading ${file.name} failed: the connection broke.`, hint: 'Check that the Terrarium host still runs, then drop the file again.' }));
    xhr.send(file);
  });
}

/** The same file (name and size) already in the media folder: no need to send gigabytes again. */
export async function findUploaded(api: TerrariumApi, file: File): Promise<MediaFile | undefined> {
  const media = await api.listMedia({}).catch(() => [] as MediaFile[]);
  return media.find((m) => m.fileName === file.name && m.sizeBytes === file.size);
}
