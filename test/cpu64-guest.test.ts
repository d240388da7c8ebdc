/**
 * The 64-bit CPU-bound guest of `npm run bench` (test/fixtures/cpu64-guest/) on the software
 * CPU, at reduced sizes: `terrarium run --kernel` enters its 32-bit entry, it switches to long
 * mode, SHA-256s generated data and round-trips it through an LZ compressor, prints the
 * digest and powers off; the digest is checked against Node's SHA-256 of the same data. The
 * bench runs the same image at 64 MiB beside QEMU. (Through the built CLI like the other
 * guest boots: the interpreter runs several times slower under vitest's module transform.)
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CPU64_GUEST, CPU64_RESULT, cpu64Digest } from './fixtures/cpu64-guest.js';
import { fixturePath, missingFixtures } from './fixtures/fixtures.js';

const BIN = new URL('../bin/terrarium.js', import.meta.url).pathname;
const missing = missingFixtures(CPU64_GUEST);

function runGuest(size: number): Promise<{ out: string; err: string; code: number | null }> {
  const args = [BIN, 'run', '--kernel', fixturePath(CPU64_GUEST), '--append', `size=${size}`, '--memory', '64', '--accel', 'interpreter', '--timeout', '600'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ out, err, code })));
}

describe.skipIf(missing.length > 0)('64-bit CPU-bound guest on the software CPU', () => {
  // 1 MiB: many 64 KiB LZ windows and hash collisions; 1020 bytes: SHA-256 padding spills into a second block.
  it.each([1 << 20, 1020])('size=%i: the digest matches Node, the LZ round trip holds, exit 0', async (size) => {
    const { out, err, code } = await runGuest(size);
    const m = CPU64_RESULT.exec(out);
    expect(m, `no result line in the guest output:\n${out.slice(-2000)}\nstderr: ${err}`).not.toBeNull();
    expect(Number(m![1])).toBe(size);
    expect(m![2]).toBe(cpu64Digest(size));
    expect(m![4]).toBe('ok');
    expect(Number(m![3])).toBeLessThan(size);
    expect(code, err).toBe(0);
  }, 700_000);
});
