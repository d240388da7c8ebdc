/** Where the compiled test-double worker is (tests run from sources; workers need the build). */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function testDoubleWorkerUrl(): URL {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../../../dist/test/e2e/doubles/test-double-worker.js', here) : new URL('./test-double-worker.js', here);
  if (!existsSync(fileURLToPath(url))) throw new Error(`${fileURLToPath(url)} is missing: run \`npm run build\` first`);
  return url;
}
