/**
 * Where the session worker's compiled JavaScript is. Workers need JS: from dist/ it sits
 * beside this module; when this module runs from TypeScript sources (vitest), use the build.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.js';

export function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  let url = here.endsWith('.ts') ? new URL('../../dist/app/session/worker.js', here) : new URL('./worker.js', here);
  // Packaged desktop app: workers run from the unpacked copy (electron-builder asarUnpack).
  if (url.pathname.includes('/app.asar/')) url = new URL(url.href.replace('/app.asar/', '/app.asar.unpacked/'));
  if (!existsSync(fileURLToPath(url))) {
    throw new AppError('INTERNAL', `The session worker ${fileURLToPath(url)} is missing.`, { hint: 'Run `npm run build` first.' });
  }
  return url;
}
