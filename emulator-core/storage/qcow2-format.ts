/**
 * qcow2 on-disk format: constants, header parsing with full validation, the layout of a
 * new empty image, and refcount entry accessors. No I/O here, so it is unit-testable and
 * shared by the backend (qcow2.ts) and by createDisk.
 *
 * Reference: QEMU's docs/interop/qcow2.txt. All numbers are big-endian.
 */
import { DiskFormatError } from './errors.js';

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"

export const HEADER_V2_LENGTH = 72;
export const HEADER_V3_MIN_LENGTH = 104;
/** What we write for v3: the 104 mandatory bytes, compression_type, padding to 8. */
export const HEADER_V3_LENGTH = 112;

export const MIN_CLUSTER_BITS = 9;
/** QEMU's implementation limit; larger clusters exist nowhere in practice. */
export const MAX_CLUSTER_BITS = 21;
export const MAX_REFCOUNT_ORDER = 6;
/** QEMU's limits; they bound the memory we allocate for tables read at open. */
export const MAX_L1_BYTES = 32 * 1024 * 1024;
export const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
export const MAX_SNAPSHOTS = 65536;
export const MAX_BACKING_NAME = 1023;

// Header field offsets we rewrite in place.
export const OFF_REFTABLE_OFFSET = 48;
export const OFF_AUTOCLEAR = 88;

export const INCOMPAT_DIRTY = 1n << 0n;
export const INCOMPAT_CORRUPT = 1n << 1n;
export const INCOMPAT_EXTERNAL_DATA = 1n << 2n;
export const INCOMPAT_COMPRESSION_TYPE = 1n << 3n;
export const INCOMPAT_EXTENDED_L2 = 1n << 4n;
export const COMPAT_LAZY_REFCOUNTS = 1n << 0n;
export const AUTOCLEAR_BITMAPS = 1n << 0n;
export const AUTOCLEAR_RAW_EXTERNAL = 1n << 1n;

export const EXT_END = 0x00000000;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_TABLE = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_FDE = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;

const FEATURE_ENTRY_BYTES = 48;

/** Names we know, used in our own feature table and in messages. */
const KNOWN_FEATURES: readonly FeatureName[] = [
  { type: 0, bit: 0, name: 'dirty bit' },
  { type: 0, bit: 1, name: 'corrupt bit' },
  { type: 0, bit: 2, name: 'external data file' },
  { type: 0, bit: 3, name: 'compression type' },
  { type: 0, bit: 4, name: 'extended L2 entries' },
  { type: 1, bit: 0, name: 'lazy refcounts' },
  { type: 2, bit: 0, name: 'bitmaps' },
  { type: 2, bit: 1, name: 'raw external data' },
];

export interface FeatureName {
  /** 0 incompatible, 1 compatible, 2 autoclear. */
  type: number;
  bit: number;
  name: string;
}

export interface Qcow2Header {
  version: 2 | 3;
  backingFileOffset: number;
  backingFileSize: number;
  clusterBits: number;
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  headerLength: number;
  compressionType: number;
}

export interface Qcow2Info {
  header: Qcow2Header;
  backingFile: string | null;
  backingFormat: string | null;
  featureNames: FeatureName[];
  hasBitmapsExtension: boolean;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function u64(view: DataView, offset: number, path: string, field: string): number {
  const v = view.getBigUint64(offset);
  if (v > BigInt(MAX_SAFE)) throw new DiskFormatError(path, `qcow2 header field ${field} is out of range (${v})`, { field });
  return Number(v);
}

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

/** True when the first bytes are the qcow2 magic. */
export function hasQcow2Magic(head: Uint8Array): boolean {
  return head.length >= 4 && new DataView(head.buffer, head.byteOffset, 4).getUint32(0) === QCOW2_MAGIC;
}

/** Cluster bits from a buffer holding at least the first 24 bytes (to size the second read). */
export function peekClusterBits(head: Uint8Array): number {
  if (head.length < 24) return MIN_CLUSTER_BITS;
  return new DataView(head.buffer, head.byteOffset, head.length).getUint32(20);
}

function featureLabel(names: readonly FeatureName[], type: number, bit: number): string {
  const own = names.find((f) => f.type === type && f.bit === bit);
  const known = KNOWN_FEATURES.find((f) => f.type === type && f.bit === bit);
  const name = own?.name ?? known?.name;
  return name ? `'${name}' (incompatible feature bit ${bit})` : `unknown incompatible feature bit ${bit}`;
}

/**
 * Parse and validate the header, its extensions and the backing file name.
 * `head` holds the file's first min(cluster size, file size) bytes.
 * Throws DiskFormatError naming the file and the problem; never returns a header we
 * could misread. Feature checks that depend on read-only vs read-write are the caller's.
 */
export function parseQcow2Header(path: string, head: Uint8Array, fileSize: number): Qcow2Info {
  const fail = (problem: string, context: Readonly<Record<string, string | number | boolean>> = {}): never => {
    throw new DiskFormatError(path, problem, context);
  };
  if (!hasQcow2Magic(head)) fail('not a qcow2 image (bad magic)');
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  if (head.length < 8) fail(`truncated qcow2 header: the file is only ${fileSize} bytes`);
  const version = view.getUint32(4);
  if (version === 1) fail('qcow version 1 images are not supported (convert with qemu-img convert -O qcow2)');
  if (version !== 2 && version !== 3) fail(`unsupported qcow2 version ${version}`, { version });
  const minLength = version === 2 ? HEADER_V2_LENGTH : HEADER_V3_MIN_LENGTH;
  if (head.length < minLength) fail(`truncated qcow2 header: the file is only ${fileSize} bytes`, { fileSize });

  const clusterBits = view.getUint32(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    fail(`cluster_bits ${clusterBits} is out of range (${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS})`, { clusterBits });
  }
  const clusterSize = 2 ** clusterBits;

  const header: Qcow2Header = {
    version: version as 2 | 3,
    backingFileOffset: u64(view, 8, path, 'backing_file_offset'),
    backingFileSize: view.getUint32(16),
    clusterBits,
    size: u64(view, 24, path, 'size'),
    cryptMethod: view.getUint32(32),
    l1Size: view.getUint32(36),
    l1TableOffset: u64(view, 40, path, 'l1_table_offset'),
    refcountTableOffset: u64(view, 48, path, 'refcount_table_offset'),
    refcountTableClusters: view.getUint32(56),
    nbSnapshots: view.getUint32(60),
    snapshotsOffset: u64(view, 64, path, 'snapshots_offset'),
    incompatibleFeatures: 0n,
    compatibleFeatures: 0n,
    autoclearFeatures: 0n,
    refcountOrder: 4,
    headerLength: HEADER_V2_LENGTH,
    compressionType: 0,
  };

  if (version === 3) {
    header.incompatibleFeatures = view.getBigUint64(72);
    header.compatibleFeatures = view.getBigUint64(80);
    header.autoclearFeatures = view.getBigUint64(88);
    header.refcountOrder = view.getUint32(96);
    header.headerLength = view.getUint32(100);
    if (header.headerLength < HEADER_V3_MIN_LENGTH || header.headerLength % 8 !== 0 || header.headerLength > clusterSize) {
      fail(`header_length ${header.headerLength} is invalid (must be a multiple of 8, at least 104, at most the cluster size)`);
    }
    if (header.headerLength > head.length) fail(`truncated qcow2 header: the file is only ${fileSize} bytes`, { fileSize });
    if (header.headerLength > 104) header.compressionType = head[104]!;
    if (header.refcountOrder > MAX_REFCOUNT_ORDER) {
      fail(`refcount_order ${header.refcountOrder} is unsupported (at most ${MAX_REFCOUNT_ORDER}, i.e. 64-bit refcounts)`, {
        refcountOrder: header.refcountOrder,
      });
    }
  }

  // Header extensions: after the header, up to the backing file name or the cluster's end.
  let extEnd = Math.min(head.length, clusterSize);
  if (header.backingFileOffset !== 0 && header.backingFileOffset < extEnd) extEnd = header.backingFileOffset;
  let backingFormat: string | null = null;
  const featureNames: FeatureName[] = [];
  let hasBitmapsExtension = false;
  let hasDataFileExtension = false;
  const seen = new Set<number>();
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for (let off = header.headerLength; off + 8 <= extEnd; ) {
    const type = view.getUint32(off);
    const len = view.getUint32(off + 4);
    if (type === EXT_END) break;
    if (off + 8 + len > extEnd) fail(`header extension ${hex(type)} at offset ${off} overruns the header area`, { offset: off });
    if (seen.has(type) && type !== EXT_FEATURE_TABLE) fail(`header extension ${hex(type)} appears twice`, { offset: off });
    seen.add(type);
    const data = head.subarray(off + 8, off + 8 + len);
    switch (type) {
      case EXT_BACKING_FORMAT:
        if (len === 0 || len > 63) fail(`backing format header extension has invalid length ${len}`);
        backingFormat = decoder.decode(data);
        break;
      case EXT_FEATURE_TABLE:
        for (let i = 0; i + FEATURE_ENTRY_BYTES <= len; i += FEATURE_ENTRY_BYTES) {
          const nameBytes = data.subarray(i + 2, i + FEATURE_ENTRY_BYTES);
          const nul = nameBytes.indexOf(0);
          featureNames.push({
            type: data[i]!,
            bit: data[i + 1]!,
            name: decoder.decode(nul >= 0 ? nameBytes.subarray(0, nul) : nameBytes),
          });
        }
        break;
      case EXT_BITMAPS:
        hasBitmapsExtension = true;
        break;
      case EXT_DATA_FILE:
        hasDataFileExtension = true;
        break;
      default:
        // Unknown extensions (and FDE, only meaningful with encryption) are skipped.
        break;
    }
    off += 8 + Math.ceil(len / 8) * 8;
  }

  // Incompatible features: the spec says to refuse any bit we do not implement.
  const incompat = header.incompatibleFeatures;
  if (incompat & INCOMPAT_CORRUPT) {
    fail('image is marked corrupt (qcow2 corrupt bit); repair it with `qemu-img check -r all` first');
  }
  if (header.cryptMethod !== 0) {
    const kind = header.cryptMethod === 1 ? 'AES' : header.cryptMethod === 2 ? 'LUKS' : `method ${header.cryptMethod}`;
    fail(`encrypted images (${kind}) are not supported`, { cryptMethod: header.cryptMethod });
  }
  if (incompat & INCOMPAT_EXTERNAL_DATA || hasDataFileExtension) fail('images with an external data file are not supported');
  if (incompat & INCOMPAT_COMPRESSION_TYPE) {
    if (header.compressionType === 0) fail('compression type bit is set but compression_type is 0 (zlib)');
    const name = header.compressionType === 1 ? 'zstd' : `type ${header.compressionType}`;
    fail(`compression ${name} is not supported (only deflate/zlib)`, { compressionType: header.compressionType });
  } else if (header.compressionType !== 0) {
    fail(`compression_type ${header.compressionType} is set without the compression type feature bit`);
  }
  for (let bit = 0; bit < 64; bit++) {
    const mask = 1n << BigInt(bit);
    if (!(incompat & mask) || mask === INCOMPAT_DIRTY) continue;
    fail(`unsupported ${featureLabel(featureNames, 0, bit)}`, { feature: bit });
  }

  // Geometry and table placement.
  if (header.size % 512 !== 0) fail(`virtual size ${header.size} is not a multiple of 512 bytes`, { size: header.size });
  const l2Span = clusterSize * (clusterSize / 8);
  const l1Needed = Math.ceil(header.size / l2Span);
  if (header.l1Size * 8 > MAX_L1_BYTES) fail(`l1_size ${header.l1Size} is too large`, { l1Size: header.l1Size });
  if (header.l1Size < l1Needed) {
    fail(`L1 table too small for the virtual size (${header.l1Size} entries, need ${l1Needed})`, { l1Size: header.l1Size });
  }
  const checkTable = (name: string, offset: number, bytes: number): void => {
    if (offset % clusterSize !== 0) fail(`${name} offset ${hex(offset)} is not cluster aligned`, { offset });
    if (bytes === 0) return;
    if (offset === 0) fail(`${name} overlaps the header (offset 0)`, { offset });
    if (offset + bytes > fileSize) {
      fail(`${name} (offset ${hex(offset)}, ${bytes} bytes) extends beyond the end of the file (${fileSize} bytes)`, {
        offset,
        fileSize,
      });
    }
  };
  checkTable('L1 table', header.l1TableOffset, header.l1Size * 8);
  if (header.refcountTableClusters === 0) fail('refcount table has zero clusters');
  if (header.refcountTableClusters * clusterSize > MAX_REFTABLE_BYTES) {
    fail(`refcount table is too large (${header.refcountTableClusters} clusters)`);
  }
  checkTable('refcount table', header.refcountTableOffset, header.refcountTableClusters * clusterSize);
  const l1Bytes = header.l1Size * 8;
  const rtBytes = header.refcountTableClusters * clusterSize;
  if (
    l1Bytes > 0 &&
    header.l1TableOffset < header.refcountTableOffset + rtBytes &&
    header.refcountTableOffset < header.l1TableOffset + l1Bytes
  ) {
    fail('L1 table and refcount table overlap');
  }
  if (header.nbSnapshots > MAX_SNAPSHOTS) fail(`too many snapshots (${header.nbSnapshots})`);
  if (header.nbSnapshots > 0) checkTable('snapshot table', header.snapshotsOffset, 1);

  let backingFile: string | null = null;
  if (header.backingFileOffset !== 0) {
    const { backingFileOffset: bo, backingFileSize: bs } = header;
    if (bs === 0 || bs > MAX_BACKING_NAME) fail(`backing file name length ${bs} is invalid (1..${MAX_BACKING_NAME})`);
    if (bo < header.headerLength || bo + bs > Math.min(clusterSize, head.length)) {
      fail(`backing file name (offset ${bo}, ${bs} bytes) lies outside the header cluster`);
    }
    backingFile = decoder.decode(head.subarray(bo, bo + bs));
    if (backingFile.includes('\0')) fail('backing file name contains a NUL byte');
  } else if (backingFormat !== null) {
    fail('backing format extension present without a backing file');
  }
  return { header, backingFile, backingFormat, featureNames, hasBitmapsExtension };
}

// ---------------------------------------------------------------------------------------
// Refcount entries: 1 << order bits each, big-endian; sub-byte widths count from the LSB.

export function getRefcount(block: Uint8Array, view: DataView, index: number, order: number): number {
  switch (order) {
    case 0:
    case 1:
    case 2: {
      const bits = 1 << order;
      const perByte = 8 / bits;
      const byte = block[Math.floor(index / perByte)]!;
      return (byte >> ((index % perByte) * bits)) & ((1 << bits) - 1);
    }
    case 3:
      return block[index]!;
    case 4:
      return view.getUint16(index * 2);
    case 5:
      return view.getUint32(index * 4);
    default: {
      const v = view.getBigUint64(index * 8);
      return v > BigInt(MAX_SAFE) ? MAX_SAFE : Number(v);
    }
  }
}

export function setRefcount(block: Uint8Array, view: DataView, index: number, order: number, value: number): void {
  switch (order) {
    case 0:
    case 1:
    case 2: {
      const bits = 1 << order;
      const perByte = 8 / bits;
      const at = Math.floor(index / perByte);
      const shift = (index % perByte) * bits;
      const mask = ((1 << bits) - 1) << shift;
      block[at] = (block[at]! & ~mask) | ((value << shift) & mask);
      return;
    }
    case 3:
      block[index] = value;
      return;
    case 4:
      view.setUint16(index * 2, value);
      return;
    case 5:
      view.setUint32(index * 4, value);
      return;
    default:
      view.setBigUint64(index * 8, BigInt(value));
  }
}

export function maxRefcount(order: number): number {
  return order >= 6 ? MAX_SAFE : 2 ** (1 << order) - 1;
}

// ---------------------------------------------------------------------------------------
// A new, empty image.

export interface NewImageOptions {
  size: number;
  clusterBits?: number;
  refcountOrder?: number;
  /** Stored verbatim; resolved relative to the image's directory when opened. */
  backingFile?: string;
  backingFormat?: 'raw' | 'qcow2';
}

/**
 * Bytes of a new v3 image: header cluster, refcount table, refcount blocks, L1 table.
 * Everything is referenced and refcounted exactly once, so `qemu-img check` is clean.
 */
export function buildEmptyQcow2(opts: NewImageOptions): Uint8Array {
  const clusterBits = opts.clusterBits ?? 16;
  const order = opts.refcountOrder ?? 4;
  const cs = 2 ** clusterBits;
  const l2Span = cs * (cs / 8);
  const l1Size = Math.max(1, Math.ceil(opts.size / l2Span));
  const l1Clusters = Math.ceil((l1Size * 8) / cs);
  const refblockEntries = (cs * 8) / (1 << order);
  let rtClusters = 1;
  let rbClusters = 1;
  for (;;) {
    const total = 1 + rtClusters + rbClusters + l1Clusters;
    const rb = Math.ceil(total / refblockEntries);
    const rt = Math.max(1, Math.ceil((rb * 8) / cs));
    if (rb === rbClusters && rt === rtClusters) break;
    rbClusters = rb;
    rtClusters = rt;
  }
  const totalClusters = 1 + rtClusters + rbClusters + l1Clusters;
  const image = new Uint8Array(totalClusters * cs);
  const view = new DataView(image.buffer);
  const rtOffset = cs;
  const rbOffset = rtOffset + rtClusters * cs;
  const l1Offset = rbOffset + rbClusters * cs;

  view.setUint32(0, QCOW2_MAGIC);
  view.setUint32(4, 3);
  view.setUint32(20, clusterBits);
  view.setBigUint64(24, BigInt(opts.size));
  view.setUint32(36, l1Size);
  view.setBigUint64(40, BigInt(l1Offset));
  view.setBigUint64(48, BigInt(rtOffset));
  view.setUint32(56, rtClusters);
  view.setUint32(96, order);
  view.setUint32(100, HEADER_V3_LENGTH);

  const encoder = new TextEncoder();
  let off = HEADER_V3_LENGTH;
  const addExtension = (type: number, data: Uint8Array): void => {
    view.setUint32(off, type);
    view.setUint32(off + 4, data.length);
    image.set(data, off + 8);
    off += 8 + Math.ceil(data.length / 8) * 8;
  };
  if (opts.backingFile !== undefined && opts.backingFormat !== undefined) {
    addExtension(EXT_BACKING_FORMAT, encoder.encode(opts.backingFormat));
  }
  const backingName = opts.backingFile !== undefined ? encoder.encode(opts.backingFile) : null;
  const tableBytes = KNOWN_FEATURES.length * FEATURE_ENTRY_BYTES;
  // The feature table is a courtesy for other readers; skip it when clusters are tiny.
  if (off + 8 + tableBytes + 8 + (backingName?.length ?? 0) <= cs) {
    const table = new Uint8Array(tableBytes);
    KNOWN_FEATURES.forEach((f, i) => {
      table[i * FEATURE_ENTRY_BYTES] = f.type;
      table[i * FEATURE_ENTRY_BYTES + 1] = f.bit;
      table.set(encoder.encode(f.name), i * FEATURE_ENTRY_BYTES + 2);
    });
    addExtension(EXT_FEATURE_TABLE, table);
  }
  off += 8; // end-of-extensions marker (already zero)
  if (backingName) {
    if (backingName.length === 0 || backingName.length > MAX_BACKING_NAME || off + backingName.length > cs) {
      throw new RangeError(`backing file name is too long (${backingName.length} bytes)`);
    }
    view.setBigUint64(8, BigInt(off));
    view.setUint32(16, backingName.length);
    image.set(backingName, off);
  }

  for (let b = 0; b < rbClusters; b++) view.setBigUint64(rtOffset + b * 8, BigInt(rbOffset + b * cs));
  for (let c = 0; c < totalClusters; c++) {
    const blockStart = rbOffset + Math.floor(c / refblockEntries) * cs;
    const block = image.subarray(blockStart, blockStart + cs);
    setRefcount(block, new DataView(image.buffer, blockStart, cs), c % refblockEntries, order, 1);
  }
  return image;
}
