/** Assemble test code with nasm (installed by CI) into raw bytes. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let available: boolean | null = null;

export function nasmAvailable(): boolean {
  if (available === null) {
    try {
      execFileSync('nasm', ['-v'], { stdio: 'ignore' });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/** Assemble `source` (flat binary, `bits` 16 or 32, origin `org`) and return the bytes. */
export function assemble(source: string, bits: 16 | 32 | 64 = 32, org = 0): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'terrarium-nasm-'));
  try {
    const src = join(dir, 'a.asm');
    const out = join(dir, 'a.bin');
    writeFileSync(src, `bits ${bits}\norg ${org}\n${source}\n`);
    execFileSync('nasm', ['-f', 'bin', '-o', out, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
