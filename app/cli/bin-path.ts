/** bin/terrarium.js, found from this module whether it runs from dist/ or from sources. */
import { existsSync } from 'node:fs';
import path from 'node:path';

export function terrariumBin(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'bin', 'terrarium.js');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('bin/terrarium.js not found');
}
