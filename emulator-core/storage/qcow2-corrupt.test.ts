/**
 * Images we must refuse at open: each is a valid image with one thing broken. The refusal
 * is a DiskFormatError whose one-line message names the file and the problem, for both
 * read-only and read-write opens, and the file's bytes are left exactly as they were.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDisk } from './create.js';
import { DiskFormatError } from './errors.js';
import { buildEmptyQcow2, parseQcow2Header } from './qcow2-format.js';
import { Qcow2Backend } from './qcow2.js';
import { makeTempDir } from '../../test/support/storage/qemu-tools.js';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

const CS = 65536;
/** A valid 1 MiB v3 image: header, refcount table, refcount block, L1 (4 clusters). */
function baseImage(): Buffer {
  return Buffer.from(buildEmptyQcow2({ size: 1 << 20 }));
}

function featureTableEntry(buf: Buffer, name: string): number {
  const at = buf.indexOf(Buffer.from(name, 'utf8'));
  if (at < 0) throw new Error(`no feature named ${name}`);
  return at - 2; // type byte, bit byte, then the name
}

interface Case {
  name: string;
  make: () => Buffer;
  message: RegExp;
  /** Refused only when opened for writing. */
  writeOnly?: boolean;
}

const cases: Case[] = [
  { name: 'bad magic', make: () => baseImage().fill(0x41, 0, 4), message: /not a qcow2 image \(bad magic\)/ },
  { name: 'truncated header', make: () => baseImage().subarray(0, 100), message: /truncated qcow2 header/ },
  { name: 'empty file', make: () => Buffer.alloc(0), message: /not a qcow2 image/ },
  {
    name: 'qcow version 1',
    make: () => {
      const b = baseImage();
      b.writeUInt32BE(1, 4);
      return b;
    },
    message: /qcow version 1 images are not supported/,
  },
  {
    name: 'version 4',
    make: () => {
      const b = baseImage();
      b.writeUInt32BE(4, 4);
      return b;
    },
    message: /unsupported qcow2 version 4/,
  },
  {
    name: 'cluster_bits too small',
    make: () => {
      const b = baseImage();
      b.writeUInt32BE(8, 20);
      return b;
    },
    message: /cluster_bits 8 is out of range/,
  },
  {
    name: 'cluster_bits too large',
    make: () => {
      const b = baseImage();
      b.writeUInt32BE(30, 20);
      return b;
    },
    message: /cluster_bits 30 is out of range/,
  },
  {
    name: 'header_length not a multiple of 8',
    make: () => {
      const b = baseImage();
      b.writeUInt32BE(108, 100);
      return b;
    },
    message: /header_length 108 is invalid/,
  },
  {
    name: 'size not a multiple of 512',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(1000n, 24);
      return b;
    },
    message: /virtual size 1000 is not a multiple of 512/,
  },
  {
    name: 'size beyond 2^53',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(1n << 60n, 24);
      return b;
    },
    message: /size is out of range/,
  },
  {
    name: 'L1 table too small for the size',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(1n << 40n, 24);
      return b;
    },
    message: /L1 table too small for the virtual size/,
  },
  {
    name: 'L1 table beyond EOF',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(BigInt(CS * 100), 40);
      return b;
    },
    message: /L1 table \(offset 0x640000, 8 bytes\) extends beyond the end of the file/,
  },
  {
    name: 'file truncated after the first cluster',
    make: () => baseImage().subarray(0, CS),
    message: /extends beyond the end of the file/,
  },
  {
    name: 'L1 table not cluster aligned',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(BigInt(3 * CS + 512), 40);
      return b;
    },
    message: /L1 table offset 0x30200 is not cluster aligned/,
  },
  {
    name: 'L1 entry pointing past EOF',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(0x8000000000a00000n, 3 * CS);
      return b;
    },
    message: /L1 entry 0 points to an L2 table beyond the end of the file/,
  },
  {
    name: 'L1 entry with reserved bits',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(0x8000000000020001n, 3 * CS);
      return b;
    },
    message: /L1 entry 0 has reserved bits set/,
  },
  {
    name: 'refcount table beyond EOF',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(BigInt(CS * 50), 48);
      return b;
    },
    message: /refcount table .* extends beyond the end of the file/,
  },
  {
    name: 'refcount table with zero clusters',
    make: () => {
      const b = baseImage();
      b.writeUInt32BE(0, 56);
      return b;
    },
    message: /refcount table has zero clusters/,
  },
  {
    name: 'refcount block past EOF',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(0x7000000n, CS + 8);
      return b;
    },
    message: /refcount block 1 lies beyond the end of the file/,
  },
  {
    name: 'refcount order 7',
    make: () => {
      const b = baseImage();
      b.writeUInt32BE(7, 96);
      return b;
    },
    message: /refcount_order 7 is unsupported/,
  },
  {
    name: 'AES encryption',
    make: () => {
      const b = baseImage();
      b.writeUInt32BE(1, 32);
      return b;
    },
    message: /encrypted images \(AES\) are not supported/,
  },
  {
    name: 'LUKS encryption',
    make: () => {
      const b = baseImage();
      b.writeUInt32BE(2, 32);
      return b;
    },
    message: /encrypted images \(LUKS\) are not supported/,
  },
  {
    name: 'corrupt bit',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(2n, 72);
      return b;
    },
    message: /marked corrupt .*qemu-img check -r all/,
  },
  {
    name: 'external data file bit',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(4n, 72);
      return b;
    },
    message: /external data file are not supported/,
  },
  {
    name: 'zstd compression',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(8n, 72);
      b[104] = 1;
      return b;
    },
    message: /compression zstd is not supported/,
  },
  {
    name: 'extended L2 entries',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(16n, 72);
      return b;
    },
    message: /unsupported 'extended L2 entries' \(incompatible feature bit 4\)/,
  },
  {
    name: 'unknown incompatible bit named in the feature table',
    make: () => {
      const b = baseImage();
      const at = featureTableEntry(b, 'extended L2 entries');
      b[at + 1] = 37;
      b.fill(0, at + 2, at + 48).write('frobnicated clusters', at + 2, 'utf8');
      b.writeBigUInt64BE(1n << 37n, 72);
      return b;
    },
    message: /unsupported 'frobnicated clusters' \(incompatible feature bit 37\)/,
  },
  {
    name: 'unknown incompatible bit without a name',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(1n << 9n, 72);
      return b;
    },
    message: /unsupported unknown incompatible feature bit 9/,
  },
  {
    name: 'backing file name outside the header cluster',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(BigInt(CS - 4), 8);
      b.writeUInt32BE(10, 16);
      return b;
    },
    message: /backing file name .* lies outside the header cluster/,
  },
  {
    name: 'header extension overrunning the header',
    make: () => {
      const b = baseImage();
      b.writeUInt32BE(0x12345678, 112);
      b.writeUInt32BE(CS, 116);
      return b;
    },
    message: /header extension 0x12345678 at offset 112 overruns the header area/,
  },
  {
    name: 'dirty bit (read-write only)',
    make: () => {
      const b = baseImage();
      b.writeBigUInt64BE(1n, 72);
      return b;
    },
    message: /was not closed cleanly/,
    writeOnly: true,
  },
];

describe('refusing corrupt, truncated or unsupported qcow2 images', () => {
  for (const c of cases) {
    it(`${c.name}`, async () => {
      const path = join(tmp.dir, `${c.name.replace(/[^a-z0-9]+/gi, '-')}.qcow2`);
      writeFileSync(path, c.make());
      const before = readFileSync(path);
      for (const readOnly of c.writeOnly ? [false] : [true, false]) {
        const err = await Qcow2Backend.open(path, { readOnly }).catch((e: unknown) => e);
        expect(err, `readOnly=${readOnly}`).toBeInstanceOf(DiskFormatError);
        const message = (err as Error).message;
        expect(message.startsWith(`${path}: `), message).toBe(true);
        expect(message).not.toContain('\n');
        expect(message).toMatch(c.message);
      }
      if (c.writeOnly) {
        const ro = await Qcow2Backend.open(path, { readOnly: true });
        await ro.close();
      }
      expect(readFileSync(path).equals(before)).toBe(true);
    });
  }

  it('openDisk probes a file with bad magic as raw, but qcow2 forced on it is refused', async () => {
    const path = join(tmp.dir, 'not-qcow2.img');
    writeFileSync(path, Buffer.alloc(4096, 7));
    const raw = await openDisk(path, { readOnly: true });
    expect(raw.format).toBe('raw');
    await raw.close();
    await expect(openDisk(path, { format: 'qcow2' })).rejects.toThrow(/not-qcow2\.img: not a qcow2 image \(bad magic\)/);
  });

  it('metadata corruption found while reading is a typed error naming file and offset', async () => {
    const b = baseImage();
    // L1[0] -> L2 at cluster 4 whose first entry points far past EOF.
    const img = Buffer.concat([b, Buffer.alloc(CS)]);
    img.writeBigUInt64BE(0x8000000000040000n, 3 * CS);
    img.writeBigUInt64BE(0x8000000009990000n, 4 * CS);
    // Count the new L2 cluster so the image is otherwise consistent.
    img.writeUInt16BE(1, 2 * CS + 4 * 2);
    const path = join(tmp.dir, 'bad-l2.qcow2');
    writeFileSync(path, img);
    const before = readFileSync(path);
    const d = await openDisk(path);
    const err = await d.read(0, 512).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskFormatError);
    expect((err as Error).message).toMatch(/bad-l2\.qcow2: corrupt image: data cluster for guest offset 0 lies beyond the end of the file/);
    expect((err as DiskFormatError).context['guest']).toBe(0);
    await d.close();
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('the header parser accepts what buildEmptyQcow2 writes', () => {
    const img = buildEmptyQcow2({ size: 5 * 2 ** 30, backingFile: 'base.raw', backingFormat: 'raw' });
    const info = parseQcow2Header('x', img.subarray(0, CS), img.length);
    expect(info.header.size).toBe(5 * 2 ** 30);
    expect(info.backingFile).toBe('base.raw');
    expect(info.backingFormat).toBe('raw');
    expect(info.featureNames.length).toBeGreaterThan(4);
  });
});
